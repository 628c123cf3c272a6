with

days as (

    select * from {{ ref('int_days_spined') }}

),

playback_sessions as (

    select * from {{ ref('stg_lake__playback_sessions') }}

),

delivery_chunks as (

    select * from {{ ref('int_delivery_chunks_enriched') }}

),

session_windows as (

    select
        days.date_day as feature_date,
        playback_sessions.country,
        playback_sessions.connection_type,
        count(*) as sessions_7d

    from days
    inner join playback_sessions
        on playback_sessions.event_date between days.date_day - 6 and days.date_day
    group by days.date_day, playback_sessions.country, playback_sessions.connection_type

),

chunk_windows as (

    select
        days.date_day as feature_date,
        delivery_chunks.country,
        delivery_chunks.connection_type,
        count(*) as chunks_7d,
        {{ round_float('avg(delivery_chunks.throughput_mbps)') }} as throughput_mean_7d,
        percentile_cont(0.1) within group (order by delivery_chunks.throughput_mbps)
            as throughput_p10_7d,
        percentile_cont(0.5) within group (order by delivery_chunks.throughput_mbps)
            as throughput_p50_7d,
        percentile_cont(0.9) within group (order by delivery_chunks.throughput_mbps)
            as throughput_p90_7d,
        {{ round_float('sum(delivery_chunks.rebuffer_s)') }} as rebuffer_s_7d,
        {{ round_float('sum(delivery_chunks.media_s)') }} as media_s_7d

    from days
    inner join delivery_chunks
        on delivery_chunks.event_date between days.date_day - 6 and days.date_day
    group by days.date_day, delivery_chunks.country, delivery_chunks.connection_type

),

final as (

    select
        session_windows.country || ':' || session_windows.connection_type as network_key,
        session_windows.country,
        session_windows.connection_type,
        session_windows.feature_date,
        -- values are known at the end of the day
        cast(session_windows.feature_date + 1 as timestamp) as event_timestamp,
        cast(session_windows.sessions_7d as integer) as sessions_7d,
        cast(coalesce(chunk_windows.chunks_7d, 0) as integer) as chunks_7d,
        cast(chunk_windows.throughput_mean_7d as double precision) as throughput_mean_7d,
        cast(chunk_windows.throughput_p10_7d as double precision) as throughput_p10_7d,
        cast(chunk_windows.throughput_p50_7d as double precision) as throughput_p50_7d,
        cast(chunk_windows.throughput_p90_7d as double precision) as throughput_p90_7d,
        cast(chunk_windows.rebuffer_s_7d as double precision)
        / nullif(chunk_windows.media_s_7d, 0) as rebuffer_ratio_7d

    from session_windows
    left join chunk_windows
        on session_windows.feature_date = chunk_windows.feature_date
        and session_windows.country = chunk_windows.country
        and session_windows.connection_type = chunk_windows.connection_type

)

select * from final
