{#
    One value per day from first_day to last_day inclusive, used in a select list
    (a set-returning expression); cast it to date.
#}
{% macro day_series(first_day, last_day) -%}
    {{ return(adapter.dispatch('day_series', 'reelops')(first_day, last_day)) }}
{%- endmacro %}

{% macro default__day_series(first_day, last_day) -%}
    generate_series(
        cast({{ first_day }} as timestamp),
        cast({{ last_day }} as timestamp),
        interval '1 day'
    )
{%- endmacro %}

{# DuckDB's scalar generate_series returns a list, so unnest it into rows. #}
{% macro duckdb__day_series(first_day, last_day) -%}
    unnest({{ default__day_series(first_day, last_day) }})
{%- endmacro %}
