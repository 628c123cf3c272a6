with

source as (

    select * from {{ source('lake', 'members') }}

),

snapshot_days as (

    select max(day) as latest_day from source

),

latest_snapshot as (

    select * from source
    where day = (select snapshot_days.latest_day from snapshot_days)

),

final as (

    select
        member_key,
        signup_date,
        country,
        age_band,
        gender,
        plan,
        devices,
        connection_type,
        day as snapshot_date

    from latest_snapshot

)

select * from final
