with

delivery_chunks as (

    select * from {{ ref('int_delivery_chunks_enriched') }}

),

final as (

    select
        session_id,
        chunk_index,
        ts,
        member_key,
        title_id,
        device,
        country,
        connection_type,
        network_key,
        trace_id,
        level,
        bitrate_kbps,
        chunk_bytes,
        download_s,
        throughput_mbps,
        buffer_s,
        rebuffer_s,
        seconds_since_start,
        -- what the player knew when it requested this chunk: its own earlier chunks
        {%- for k in range(1, 6) %}
            lag(throughput_mbps, {{ k }}) over session_chunks as prev_throughput_{{ k }},
        {%- endfor %}
        {%- for k in range(1, 6) %}
            lag(download_s, {{ k }}) over session_chunks as prev_download_s_{{ k }},
        {%- endfor %}
        lead(throughput_mbps, 1) over session_chunks as next_throughput_mbps

    from delivery_chunks
    window session_chunks as (partition by session_id order by chunk_index)

)

select * from final
