with

latest_snapshot as (

    {{ latest_snapshot(source('lake', 'title_genome')) }}

),

final as (

    select
        title_id,
        arc_shape,
        tag,
        value as tag_value,
        built_at,
        day as snapshot_date

    from latest_snapshot

)

select * from final
