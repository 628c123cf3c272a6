with

viewing_events as (

    select * from {{ ref('stg_lake__viewing_events') }}

),

impressions as (

    select * from {{ ref('stg_lake__impressions') }}

),

playback_sessions as (

    select * from {{ ref('stg_lake__playback_sessions') }}

),

delivery_chunks as (

    select * from {{ ref('stg_lake__delivery_chunks') }}

),

table_bounds as (

    select
        min(event_date) as first_day,
        max(event_date) as last_day
    from viewing_events

    union all

    select
        min(event_date) as first_day,
        max(event_date) as last_day
    from impressions

    union all

    select
        min(event_date) as first_day,
        max(event_date) as last_day
    from playback_sessions

    union all

    select
        min(event_date) as first_day,
        max(event_date) as last_day
    from delivery_chunks

),

bounds as (

    select
        min(first_day) as first_day,
        max(last_day) as last_day

    from table_bounds

),

final as (

    select cast({{ day_series('first_day', 'last_day') }} as date) as date_day
    from bounds

)

select * from final
