with

days as (

    select * from {{ ref('int_days_spined') }}

),

theme_days as (

    select * from {{ ref('int_artwork_theme_days') }}

),

impressions as (

    select * from {{ ref('int_artwork_impressions_enriched') }}

),

daily_member_themes as (

    select
        member_key,
        theme,
        event_date,
        {{ artwork_outcome_counts() }}

    from impressions
    group by member_key, theme, event_date

),

first_seen as (

    select
        member_key,
        theme,
        min(event_date) as first_date

    from daily_member_themes
    group by member_key, theme

),

member_theme_days as (

    select
        first_seen.member_key,
        first_seen.theme,
        days.date_day as feature_date,
        coalesce(daily_member_themes.n_impressions, 0) as n_impressions,
        coalesce(daily_member_themes.n_plays, 0) as n_plays,
        coalesce(daily_member_themes.n_good_plays, 0) as n_good_plays

    from first_seen
    inner join days
        on first_seen.first_date <= days.date_day
    left join daily_member_themes
        on first_seen.member_key = daily_member_themes.member_key
        and first_seen.theme = daily_member_themes.theme
        and days.date_day = daily_member_themes.event_date

),

-- the spine has one row per member, theme and day, so N rows back is N days back
rolling as (

    select
        member_key,
        theme,
        feature_date,
        {{ artwork_outcome_sums('last_28_days') }}

    from member_theme_days
    window last_28_days as (
        partition by member_key, theme order by feature_date
        rows between 27 preceding and current row
    )

),

with_population as (

    select
        rolling.*,
        cast(theme_days.theme_good_plays_28d as double precision)
        / nullif(theme_days.theme_impressions_28d, 0) as theme_rate

    from rolling
    left join theme_days
        on rolling.theme = theme_days.theme
        and rolling.feature_date = theme_days.feature_date

),

final as (

    select
        member_key,
        theme,
        feature_date,
        -- values are known at the end of the day
        cast(feature_date + 1 as timestamp) as event_timestamp,
        cast(impressions_28d as integer) as impressions_28d,
        cast(plays_28d as integer) as plays_28d,
        cast(good_plays_28d as integer) as good_plays_28d,
        cast(good_plays_28d as double precision)
        / nullif(impressions_28d, 0) as good_play_rate_28d,
        -- shrunk towards the population: (good + k * rate) / (impressions + k), over rate
        (
            (good_plays_28d + {{ var('theme_prior_impressions') }} * theme_rate)
            / (impressions_28d + {{ var('theme_prior_impressions') }})
        )
        / nullif(theme_rate, 0) as theme_affinity_28d

    from with_population

)

select * from final
