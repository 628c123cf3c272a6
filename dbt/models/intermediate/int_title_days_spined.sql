with

days as (

    select * from {{ ref('int_days_spined') }}

),

titles as (

    select * from {{ ref('stg_lake__titles') }}

),

final as (

    select
        titles.title_id,
        days.date_day as feature_date

    from titles
    inner join days
        -- from the first day in the data, or the release date if later
        on coalesce(titles.release_date <= days.date_day, true)

)

select * from final
