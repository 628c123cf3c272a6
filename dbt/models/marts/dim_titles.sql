with

titles as (

    select * from {{ ref('int_titles_enriched') }}

),

final as (

    select
        title_id,
        name,
        genres,
        release_year,
        release_date,
        maturity,
        runtime_min,
        n_variants,
        {%- for genre in var('genres') %}
            genre_{{ genre_slug(genre) }},
        {%- endfor %}
        n_genres

    from titles

)

select * from final
