with

source as (

    select * from {{ source('lake', 'impressions') }}

),

final as (

    select
        impression_id,
        member_key,
        title_id,
        variant_id,
        ts,
        day as event_date,
        row_index,
        position,  -- noqa: RF04
        propensity,
        played,
        completion

    from source

)

select * from final
