{#
    On DuckDB, expose each raw lake table as a view in `<schema>_raw` so that
    staging reads it through source(). A table whose folder is missing or empty
    (a MovieLens import has no impressions, sessions or chunks) becomes an empty
    view with the contract's columns, taken from the source YAML's data types.
    On PostgreSQL the runner (reelops/warehouse.py) loads the same schema instead.
    A lake with no partitions at all is an error, not a warehouse of empty views: it
    means lake_dir names no landed source (a wrong path, or nothing landed yet).
#}
{% macro create_lake_views() %}
    {% if execute and target.type == 'duckdb' %}
        {% set raw_schema = target.schema ~ '_raw' %}
        {% do require_landed_lake(var('lake_dir')) %}
        {% do run_query('create schema if not exists ' ~ adapter.quote(raw_schema)) %}
        {% for node in graph.sources.values() if node.source_name == 'lake' %}
            {% do run_query(lake_view_sql(raw_schema, node)) %}
        {% endfor %}
    {% endif %}
    select 1
{% endmacro %}


{% macro lake_view_sql(raw_schema, node) %}
    {% set files = var('lake_dir') ~ '/raw/' ~ node.identifier ~ '/day=????-??-??/*.parquet' %}
    {% set n_files = run_query("select count(*) from glob('" ~ files ~ "')").columns[0].values()[0] %}
    {% set columns = node.columns.values() | list %}
    {% if columns | length == 0 %}
        {% do exceptions.raise_compiler_error(
            "source lake." ~ node.name ~ " lists no columns; add them with data_type to _lake__sources.yml"
        ) %}
    {% endif %}
    create or replace view {{ adapter.quote(raw_schema) }}.{{ adapter.quote(node.identifier) }} as
    select
        {%- for column in columns %}
        cast({{ 'null' if n_files == 0 else adapter.quote(column.name) }} as {{ column.data_type }})
            as {{ adapter.quote(column.name) }},
        {%- endfor %}
        cast({{ 'null' if n_files == 0 else 'day' }} as date) as day
    {%- if n_files == 0 %}
    where false
    {%- else %}
    from read_parquet('{{ files }}', hive_partitioning = true, union_by_name = true)
    {%- endif %}
{% endmacro %}


{% macro require_landed_lake(lake_dir) %}
    {% set files = lake_dir ~ '/raw/*/day=????-??-??/*.parquet' %}
    {% set n_files = run_query("select count(*) from glob('" ~ files ~ "')").columns[0].values()[0] %}
    {% if n_files == 0 %}
        {% do exceptions.raise_compiler_error(
            "the lake " ~ lake_dir ~ " has no partitions (raw/<table>/day=YYYY-MM-DD/), so "
            ~ "every raw view would be empty. Point dbt at the active source with "
            ~ "`eval \"$(reelops env)\"`, or land it first with `reelops pipeline run`."
        ) %}
    {% endif %}
{% endmacro %}
