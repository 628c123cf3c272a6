with

title_days as (

    select * from {{ ref('int_title_days_spined') }}

),

titles as (

    select * from {{ ref('int_titles_enriched') }}

),

viewing_events as (

    select * from {{ ref('int_viewing_events_enriched') }}

),

impressions as (

    select * from {{ ref('stg_lake__impressions') }}

),

daily_plays as (

    select
        title_id,
        event_date,
        count(*) as n_plays,
        sum(case when is_completed then 1 else 0 end) as n_completed

    from viewing_events
    group by title_id, event_date

),

daily_impressions as (

    select
        title_id,
        event_date,
        count(*) as n_impressions,
        sum(case when played then 1 else 0 end) as n_played

    from impressions
    group by title_id, event_date

),

title_day_activity as (

    select
        title_days.title_id,
        title_days.feature_date,
        coalesce(daily_plays.n_plays, 0) as n_plays,
        coalesce(daily_plays.n_completed, 0) as n_completed,
        coalesce(daily_impressions.n_impressions, 0) as n_impressions,
        coalesce(daily_impressions.n_played, 0) as n_played

    from title_days
    left join daily_plays
        on title_days.title_id = daily_plays.title_id
        and title_days.feature_date = daily_plays.event_date
    left join daily_impressions
        on title_days.title_id = daily_impressions.title_id
        and title_days.feature_date = daily_impressions.event_date

),

-- the spine has one row per title and day, so N rows back is N days back
rolling as (

    select
        title_id,
        feature_date,
        n_plays as plays_1d,
        sum(n_plays) over last_7_days as plays_7d,
        sum(n_plays) over last_28_days as plays_28d,
        sum(n_completed) over last_28_days as completed_28d,
        sum(n_impressions) over last_7_days as impressions_7d,
        sum(n_played) over last_7_days as played_impressions_7d

    from title_day_activity
    window
        last_7_days as (
            partition by title_id order by feature_date
            rows between 6 preceding and current row
        ),
        last_28_days as (
            partition by title_id order by feature_date
            rows between 27 preceding and current row
        )

),

title_viewer_days as (

    select distinct
        title_id,
        member_key,
        event_date

    from viewing_events

),

viewers as (

    select
        title_days.title_id,
        title_days.feature_date,
        count(distinct title_viewer_days.member_key) as viewers_28d

    from title_days
    inner join title_viewer_days
        on title_days.title_id = title_viewer_days.title_id
        and title_viewer_days.event_date between title_days.feature_date - 27
        and title_days.feature_date
    group by title_days.title_id, title_days.feature_date

),

final as (

    select
        rolling.title_id,
        rolling.feature_date,
        -- values are known at the end of the day
        cast(rolling.feature_date + 1 as timestamp) as event_timestamp,
        cast(rolling.plays_1d as integer) as plays_1d,
        cast(rolling.plays_7d as integer) as plays_7d,
        cast(rolling.plays_28d as integer) as plays_28d,
        cast(coalesce(viewers.viewers_28d, 0) as integer) as viewers_28d,
        cast(rolling.completed_28d as double precision)
        / nullif(rolling.plays_28d, 0) as completion_rate_28d,
        cast(rolling.impressions_7d as integer) as impressions_7d,
        cast(rolling.played_impressions_7d as double precision)
        / nullif(rolling.impressions_7d, 0) as play_rate_7d,
        cast(rolling.feature_date - titles.release_date as integer) as days_since_release,
        cast(
            rank() over (partition by rolling.feature_date order by rolling.plays_7d desc)
            as integer
        ) as popularity_rank_7d

    from rolling
    inner join titles
        on rolling.title_id = titles.title_id
    left join viewers
        on rolling.title_id = viewers.title_id
        and rolling.feature_date = viewers.feature_date

)

select * from final
