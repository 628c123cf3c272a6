with

latest_snapshot as (

    {{ latest_snapshot(source('lake', 'artwork_variants')) }}

),

final as (

    select
        title_id,
        variant_id,
        theme,
        day as snapshot_date

    from latest_snapshot

)

select * from final
