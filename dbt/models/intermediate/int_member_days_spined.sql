with

days as (

    select * from {{ ref('int_days_spined') }}

),

viewing_events as (

    select * from {{ ref('stg_lake__viewing_events') }}

),

first_views as (

    select
        member_key,
        min(event_date) as first_view_date

    from viewing_events
    group by member_key

),

final as (

    select
        first_views.member_key,
        days.date_day as feature_date

    from first_views
    inner join days
        on first_views.first_view_date <= days.date_day

)

select * from final
