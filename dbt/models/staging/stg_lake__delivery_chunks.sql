with

source as (

    select * from {{ source('lake', 'delivery_chunks') }}

),

final as (

    select
        session_id,
        chunk_index,
        ts,
        day as event_date,
        level,
        bitrate_kbps,
        chunk_bytes,
        download_s,
        throughput_mbps,
        buffer_s,
        rebuffer_s

    from source

)

select * from final
