{# Genre helpers shared by dim_titles and the genre-affinity features. #}

{# Column-name slug: lower-case, every non-alphanumeric becomes `_` ("Children's" -> children_s). #}
{% macro genre_slug(genre) -%}
    {%- set slug = namespace(text='') -%}
    {%- for char in genre | lower -%}
        {%- set slug.text = slug.text ~ (char if char in 'abcdefghijklmnopqrstuvwxyz0123456789' else '_') -%}
    {%- endfor -%}
    {{- slug.text -}}
{%- endmacro %}


{# 1 when the "|"-separated genres string holds this genre, else 0 (portable: no split or regex). #}
{% macro genre_flag(genres_column, genre) -%}
    case
        when '|' || coalesce({{ genres_column }}, '') || '|'
            like '%|{{ genre | replace("'", "''") }}|%'
            then 1
        else 0
    end
{%- endmacro %}
