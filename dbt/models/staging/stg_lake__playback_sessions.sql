with

source as (

    select * from {{ source('lake', 'playback_sessions') }}

),

final as (

    select
        session_id,
        member_key,
        title_id,
        ts as started_at,
        day as event_date,
        device,
        country,
        connection_type,
        trace_id

    from source

)

select * from final
