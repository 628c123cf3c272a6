{%- set slugs = [] -%}
{%- for genre in var('genres') -%}
    {%- do slugs.append(genre_slug(genre)) -%}
{%- endfor -%}

with

member_days as (

    select * from {{ ref('int_member_days_spined') }}

),

viewing_events as (

    select * from {{ ref('int_viewing_events_enriched') }}

),

daily_views as (

    select
        member_key,
        event_date,
        {%- for slug in slugs %}
            sum(watch_s_{{ slug }}) as watch_s_{{ slug }},
        {%- endfor %}
        count(*) as n_views,
        sum(seconds_watched) as watch_s,
        sum(case when is_completed then 1 else 0 end) as n_completed

    from viewing_events
    group by member_key, event_date

),

member_day_views as (

    select
        member_days.member_key,
        member_days.feature_date,
        daily_views.event_date as view_date,
        {%- for slug in slugs %}
            coalesce(daily_views.watch_s_{{ slug }}, 0) as watch_s_{{ slug }},
        {%- endfor %}
        coalesce(daily_views.n_views, 0) as n_views,
        coalesce(daily_views.watch_s, 0) as watch_s,
        coalesce(daily_views.n_completed, 0) as n_completed

    from member_days
    left join daily_views
        on member_days.member_key = daily_views.member_key
        and member_days.feature_date = daily_views.event_date

),

-- the spine has one row per member and day, so N rows back is N days back
rolling as (

    select
        member_key,
        feature_date,
        {%- for slug in slugs %}
            sum(watch_s_{{ slug }}) over last_28_days as watch_s_{{ slug }}_28d,
        {%- endfor %}
        sum(n_views) over last_7_days as views_7d,
        sum(n_views) over last_28_days as views_28d,
        sum(watch_s) over last_28_days as watch_s_28d,
        sum(n_completed) over last_28_days as completed_28d,
        max(view_date) over to_date as last_view_date

    from member_day_views
    window
        last_7_days as (
            partition by member_key order by feature_date
            rows between 6 preceding and current row
        ),
        last_28_days as (
            partition by member_key order by feature_date
            rows between 27 preceding and current row
        ),
        to_date as (
            partition by member_key order by feature_date
            rows between unbounded preceding and current row
        )

),

member_title_days as (

    select distinct
        member_key,
        title_id,
        event_date

    from viewing_events

),

distinct_titles as (

    select
        member_days.member_key,
        member_days.feature_date,
        count(distinct member_title_days.title_id) as distinct_titles_28d

    from member_days
    inner join member_title_days
        on member_days.member_key = member_title_days.member_key
        and member_title_days.event_date between member_days.feature_date - 27
        and member_days.feature_date
    group by member_days.member_key, member_days.feature_date

),

final as (

    select
        rolling.member_key,
        rolling.feature_date,
        -- values are known at the end of the day
        cast(rolling.feature_date + 1 as timestamp) as event_timestamp,
        cast(rolling.views_7d as integer) as views_7d,
        cast(rolling.views_28d as integer) as views_28d,
        cast(rolling.watch_s_28d as double precision) / 3600 as watch_hours_28d,
        cast(rolling.completed_28d as double precision)
        / nullif(rolling.views_28d, 0) as completion_rate_28d,
        cast(coalesce(distinct_titles.distinct_titles_28d, 0) as integer) as distinct_titles_28d,
        {%- for slug in slugs %}
            coalesce(
                cast(rolling.watch_s_{{ slug }}_28d as double precision)
                / nullif(rolling.watch_s_28d, 0),
                0.0
            ) as aff_{{ slug }},
        {%- endfor %}
        cast(rolling.feature_date - rolling.last_view_date as integer) as days_since_last_view

    from rolling
    left join distinct_titles
        on rolling.member_key = distinct_titles.member_key
        and rolling.feature_date = distinct_titles.feature_date

)

select * from final
