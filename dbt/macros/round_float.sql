{#
    A double rounded to `digits` decimals, as a double. Parallel sums and averages of
    doubles differ in the last bits from run to run (the order of addition changes);
    rounding well above that noise makes a rebuild of the same data byte-identical.
    PostgreSQL rounds only numerics.
#}
{% macro round_float(expression, digits=9) -%}
    {{ return(adapter.dispatch('round_float', 'reelops')(expression, digits)) }}
{%- endmacro %}

{% macro default__round_float(expression, digits) -%}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}

{% macro duckdb__round_float(expression, digits) -%}
    round(cast({{ expression }} as double), {{ digits }})
{%- endmacro %}
