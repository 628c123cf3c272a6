{#- Snapshot tables land one full copy per interval: staging reads only the latest. -#}
{% macro latest_snapshot(relation) -%}
    select * from {{ relation }}
    where day = (select max(day) from {{ relation }})
{%- endmacro %}
