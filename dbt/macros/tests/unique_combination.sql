{# Generic test: the combination of `columns` is unique (a compound key); dbt_utils is not reachable here. #}
{% test unique_combination(model, columns) %}

with

grouped as (

    select
        {{ columns | join(', ') }},
        count(*) as n_rows

    from {{ model }}
    group by {{ columns | join(', ') }}

),

final as (

    select * from grouped
    where n_rows > 1

)

select * from final

{% endtest %}
