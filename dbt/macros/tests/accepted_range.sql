{#
    Generic test: every non-null value of the column lies in [min_value, max_value]
    (either bound may be omitted). Bounds are SQL literals or expressions.
#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}

with

model_rows as (

    select * from {{ model }}

),

final as (

    select * from model_rows
    where
        {{ column_name }} is not null
        and (
            false
            {%- if min_value is not none %}
            or {{ column_name }} < {{ min_value }}
            {%- endif %}
            {%- if max_value is not none %}
            or {{ column_name }} > {{ max_value }}
            {%- endif %}
        )

)

select * from final

{% endtest %}


{#
    Generic test: every non-null timestamp or date lies in the plausible window
    [var('plausible_from'), var('plausible_until')); a flipped bit in a parquet file
    or an importer's bad unit gives values centuries away.
#}
{% test plausible_timestamp(model, column_name) %}

with

model_rows as (

    select * from {{ model }}

),

final as (

    select * from model_rows
    where
        {{ column_name }} < cast('{{ var("plausible_from") }}' as timestamp)
        or {{ column_name }} >= cast('{{ var("plausible_until") }}' as timestamp)

)

select * from final

{% endtest %}
