{#
    Overrides dbt-duckdb's write_to_file. For an empty model dbt-duckdb inserts a
    placeholder row of NULLs before writing the file (and hides it in the DuckDB
    view only); Feast and training read the parquet directly, so an empty mart
    must be written as an empty file. Every mart has a non-null key, so an
    all-NULL row can only be that placeholder.
    Rows are written sorted by every column: DuckDB's parallel plan yields them in
    any order, and a rebuild of the same data must give the same bytes.
#}
{% macro write_to_file(relation, location, options) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) -%}
    {% call statement('write_to_file') -%}
        copy (
            select * from {{ relation }}
            where not (
                {%- for column in columns %}
                {{ adapter.quote(column.column) }} is null and
                {%- endfor %}
                true
            )
            order by all
        ) to '{{ location }}' ({{ options }})
    {%- endcall %}
{%- endmacro %}
