with

artwork_variants as (

    select * from {{ ref('stg_lake__artwork_variants') }}

),

title_days as (

    select * from {{ ref('int_title_days_spined') }}

),

theme_days as (

    select * from {{ ref('int_artwork_theme_days') }}

),

impressions as (

    select * from {{ ref('int_artwork_impressions_enriched') }}

),

daily_variants as (

    select
        title_id,
        variant_id,
        event_date,
        {{ artwork_outcome_counts() }}

    from impressions
    group by title_id, variant_id, event_date

),

variant_days as (

    select
        artwork_variants.title_id,
        artwork_variants.variant_id,
        artwork_variants.theme,
        title_days.feature_date,
        coalesce(daily_variants.n_impressions, 0) as n_impressions,
        coalesce(daily_variants.n_plays, 0) as n_plays,
        coalesce(daily_variants.n_good_plays, 0) as n_good_plays

    from artwork_variants
    inner join title_days
        on artwork_variants.title_id = title_days.title_id
    left join daily_variants
        on artwork_variants.title_id = daily_variants.title_id
        and artwork_variants.variant_id = daily_variants.variant_id
        and title_days.feature_date = daily_variants.event_date

),

-- the spine has one row per variant and day, so N rows back is N days back
rolling as (

    select
        title_id,
        variant_id,
        theme,
        feature_date,
        {{ artwork_outcome_sums('last_28_days') }}

    from variant_days
    window last_28_days as (
        partition by title_id, variant_id order by feature_date
        rows between 27 preceding and current row
    )

),

titles_rolling as (

    select
        title_id,
        feature_date,
        sum(impressions_28d) as title_impressions_28d,
        sum(good_plays_28d) as title_good_plays_28d

    from rolling
    group by title_id, feature_date

),

final as (

    select
        rolling.title_id,
        rolling.variant_id,
        rolling.theme,
        rolling.feature_date,
        -- values are known at the end of the day
        cast(rolling.feature_date + 1 as timestamp) as event_timestamp,
        cast(rolling.impressions_28d as integer) as impressions_28d,
        cast(rolling.plays_28d as integer) as plays_28d,
        cast(rolling.good_plays_28d as integer) as good_plays_28d,
        cast(rolling.plays_28d as double precision)
        / nullif(rolling.impressions_28d, 0) as play_rate_28d,
        cast(rolling.good_plays_28d as double precision)
        / nullif(rolling.impressions_28d, 0) as good_play_rate_28d,
        -- the variant's good-play rate over its title's (all variants): 1 = as good as the title
        (cast(rolling.good_plays_28d as double precision) / nullif(rolling.impressions_28d, 0))
        / nullif(
            cast(titles_rolling.title_good_plays_28d as double precision)
            / nullif(titles_rolling.title_impressions_28d, 0),
            0
        ) as good_play_lift_28d,
        cast(theme_days.theme_impressions_28d as integer) as theme_impressions_28d,
        cast(theme_days.theme_good_plays_28d as integer) as theme_good_plays_28d,
        cast(theme_days.theme_good_plays_28d as double precision)
        / nullif(theme_days.theme_impressions_28d, 0) as theme_good_play_rate_28d

    from rolling
    inner join titles_rolling
        on rolling.title_id = titles_rolling.title_id
        and rolling.feature_date = titles_rolling.feature_date
    left join theme_days
        on rolling.theme = theme_days.theme
        and rolling.feature_date = theme_days.feature_date

)

select * from final
