with

impressions as (

    select * from {{ ref('stg_lake__impressions') }}

),

artwork_variants as (

    select * from {{ ref('stg_lake__artwork_variants') }}

),

titles as (

    select * from {{ ref('int_titles_enriched') }}

),

viewing_events as (

    select * from {{ ref('stg_lake__viewing_events') }}

),

-- a played impression's view: the member's first view of the title on that day at or
-- after the impression (a member plays a title at most once a day)
candidate_views as (

    select
        impressions.impression_id,
        viewing_events.event_id,
        viewing_events.seconds_watched,
        row_number() over (
            partition by impressions.impression_id
            order by viewing_events.ts, viewing_events.event_id
        ) as view_rank

    from impressions
    inner join viewing_events
        on impressions.member_key = viewing_events.member_key
        and impressions.title_id = viewing_events.title_id
        and impressions.event_date = viewing_events.event_date
        and impressions.ts <= viewing_events.ts
    where impressions.played

),

linked_views as (

    select
        impression_id,
        event_id,
        seconds_watched

    from candidate_views
    where view_rank = 1

),

final as (

    select
        impressions.impression_id,
        impressions.member_key,
        impressions.title_id,
        impressions.variant_id,
        artwork_variants.theme,
        impressions.ts,
        impressions.event_date,
        impressions.row_index,
        impressions.position,  -- noqa: RF04
        impressions.propensity,
        titles.n_variants,
        impressions.played,
        impressions.completion,
        linked_views.event_id as view_event_id,
        linked_views.seconds_watched,
        coalesce(
            impressions.played and impressions.completion >= {{ var('completed_threshold') }},
            false
        ) as is_completed,
        coalesce(
            impressions.played
            and (
                impressions.completion >= {{ var('completed_threshold') }}
                or coalesce(linked_views.seconds_watched, 0) >= {{ var('good_play_min_seconds') }}
            ),
            false
        ) as is_good_play

    from impressions
    left join artwork_variants
        on impressions.title_id = artwork_variants.title_id
        and impressions.variant_id = artwork_variants.variant_id
    left join titles
        on impressions.title_id = titles.title_id
    left join linked_views
        on impressions.impression_id = linked_views.impression_id

)

select * from final
