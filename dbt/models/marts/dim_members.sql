with

members as (

    select * from {{ ref('stg_lake__members') }}

),

final as (

    select
        member_key,
        country,
        age_band,
        gender,
        plan,
        devices,
        connection_type,
        signup_date

    from members

)

select * from final
