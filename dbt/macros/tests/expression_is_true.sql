{# Generic test: every row satisfies the SQL boolean `expression` (rows where it is false fail). #}
{% test expression_is_true(model, expression, column_name=none) %}

with

model_rows as (

    select * from {{ model }}

),

final as (

    select * from model_rows
    where not ({{ expression }})

)

select * from final

{% endtest %}
