with

latest_snapshot as (

    {{ latest_snapshot(source('lake', 'titles')) }}

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
