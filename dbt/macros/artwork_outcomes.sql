{# Shared by the artwork marts: what came of impressions, per day and over a window. #}

{# Impressions, plays and good plays of the grouped rows of int_artwork_impressions_enriched. #}
{% macro artwork_outcome_counts() -%}
    count(*) as n_impressions,
    sum(case when played then 1 else 0 end) as n_plays,
    sum(case when is_good_play then 1 else 0 end) as n_good_plays
{%- endmacro %}


{# The same three counts summed over a named window, as <count>_28d. #}
{% macro artwork_outcome_sums(window) -%}
    sum(n_impressions) over {{ window }} as impressions_28d,
    sum(n_plays) over {{ window }} as plays_28d,
    sum(n_good_plays) over {{ window }} as good_plays_28d
{%- endmacro %}
