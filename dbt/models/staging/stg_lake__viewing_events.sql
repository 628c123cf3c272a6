with

source as (

    select * from {{ source('lake', 'viewing_events') }}

),

final as (

    select
        event_id,
        member_key,
        title_id,
        ts,
        day as event_date,
        device,
        seconds_watched,
        completion,
        rating

    from source

)

select * from final
