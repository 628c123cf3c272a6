with

viewing_events as (

    select * from {{ ref('int_viewing_events_enriched') }}

),

final as (

    select
        event_id,
        member_key,
        title_id,
        ts,
        event_date,
        device,
        seconds_watched,
        completion,
        is_completed,
        rating

    from viewing_events

)

select * from final
