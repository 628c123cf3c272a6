with

viewing_events as (

    select * from {{ ref('stg_lake__viewing_events') }}

),

titles as (

    select * from {{ ref('int_titles_enriched') }}

),

final as (

    select
        viewing_events.event_id,
        viewing_events.member_key,
        viewing_events.title_id,
        viewing_events.ts,
        viewing_events.event_date,
        viewing_events.device,
        viewing_events.seconds_watched,
        viewing_events.completion,
        viewing_events.rating,
        coalesce(viewing_events.completion >= {{ var('completed_threshold') }}, false)
            as is_completed,
        -- a title with n genres gives 1/n of the watched seconds to each
        {%- for genre in var('genres') %}
            {%- set slug = genre_slug(genre) %}
            case
                when titles.n_genres > 0
                    then
                        cast(viewing_events.seconds_watched as double precision)
                        * titles.genre_{{ slug }} / titles.n_genres
                else 0.0
            end as watch_s_{{ slug }},
        {%- endfor %}
        coalesce(titles.n_genres, 0) as n_genres

    from viewing_events
    left join titles
        on viewing_events.title_id = titles.title_id

)

select * from final
