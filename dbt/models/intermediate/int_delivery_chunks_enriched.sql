with

delivery_chunks as (

    select * from {{ ref('stg_lake__delivery_chunks') }}

),

playback_sessions as (

    select * from {{ ref('stg_lake__playback_sessions') }}

),

final as (

    select
        delivery_chunks.session_id,
        delivery_chunks.chunk_index,
        delivery_chunks.ts,
        delivery_chunks.event_date,
        playback_sessions.member_key,
        playback_sessions.title_id,
        playback_sessions.device,
        playback_sessions.country,
        playback_sessions.connection_type,
        playback_sessions.country || ':' || playback_sessions.connection_type as network_key,
        playback_sessions.started_at as session_started_at,
        playback_sessions.trace_id,
        delivery_chunks.level,
        delivery_chunks.bitrate_kbps,
        delivery_chunks.chunk_bytes,
        delivery_chunks.download_s,
        delivery_chunks.throughput_mbps,
        delivery_chunks.buffer_s,
        delivery_chunks.rebuffer_s,
        cast(
            extract(epoch from (delivery_chunks.ts - playback_sessions.started_at))
            as double precision
        ) as seconds_since_start,
        -- the contract has no chunk duration: derive it from size and nominal bitrate
        cast(delivery_chunks.chunk_bytes as double precision) * 8
        / nullif(cast(delivery_chunks.bitrate_kbps as double precision) * 1000, 0) as media_s

    from delivery_chunks
    inner join playback_sessions
        on delivery_chunks.session_id = playback_sessions.session_id

)

select * from final
