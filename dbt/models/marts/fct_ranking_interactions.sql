with

impressions as (

    select * from {{ ref('stg_lake__impressions') }}

),

final as (

    select
        impression_id,
        member_key,
        title_id,
        variant_id,
        ts,
        row_index,
        position,  -- noqa: RF04
        propensity,
        played,
        completion,
        cast(
            case
                when played and completion >= {{ var('completed_threshold') }} then 2
                when played then 1
                else 0
            end
            as integer
        ) as label  -- noqa: RF04

    from impressions

)

select * from final
