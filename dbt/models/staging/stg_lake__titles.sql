with

source as (

    select * from {{ source('lake', 'titles') }}

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
        title_id,
        name,
        genres,
        release_year,
        release_date,
        maturity,
        runtime_min,
        synopsis,
        day as snapshot_date

    from latest_snapshot

)

select * from final
