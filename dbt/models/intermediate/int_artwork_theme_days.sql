with

days as (

    select * from {{ ref('int_days_spined') }}

),

artwork_variants as (

    select * from {{ ref('stg_lake__artwork_variants') }}

),

impressions as (

    select * from {{ ref('int_artwork_impressions_enriched') }}

),

themes as (

    select distinct theme
    from artwork_variants
    where theme is not null

),

daily_themes as (

    select
        theme,
        event_date,
        count(*) as n_impressions,
        sum(case when is_good_play then 1 else 0 end) as n_good_plays

    from impressions
    group by theme, event_date

),

theme_days as (

    select
        themes.theme,
        days.date_day as feature_date,
        coalesce(daily_themes.n_impressions, 0) as n_impressions,
        coalesce(daily_themes.n_good_plays, 0) as n_good_plays

    from themes
    cross join days
    left join daily_themes
        on themes.theme = daily_themes.theme
        and days.date_day = daily_themes.event_date

),

-- the spine has one row per theme and day, so N rows back is N days back
final as (

    select
        theme,
        feature_date,
        sum(n_impressions) over last_28_days as theme_impressions_28d,
        sum(n_good_plays) over last_28_days as theme_good_plays_28d

    from theme_days
    window last_28_days as (
        partition by theme order by feature_date
        rows between 27 preceding and current row
    )

)

select * from final
