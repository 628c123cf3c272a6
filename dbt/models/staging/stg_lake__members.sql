with

latest_snapshot as (

    {{ latest_snapshot(source('lake', 'members')) }}

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
