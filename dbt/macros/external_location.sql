{# Every external (DuckDB) mart is written to `<marts_dir>/<model>.parquet`. #}
{% macro external_location(relation, config) -%}
    {{- var('marts_dir') }}/{{ relation.identifier }}.parquet
{%- endmacro %}
