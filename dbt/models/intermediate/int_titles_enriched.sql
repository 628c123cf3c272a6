with

titles as (

    select * from {{ ref('stg_lake__titles') }}

),

artwork_variants as (

    select * from {{ ref('stg_lake__artwork_variants') }}

),

variant_counts as (

    select
        title_id,
        count(*) as n_variants

    from artwork_variants
    group by title_id

),

genre_flags as (

    select
        {%- for genre in var('genres') %}
            {{ genre_flag('genres', genre) }} as genre_{{ genre_slug(genre) }},
        {%- endfor %}
        title_id

    from titles

),

final as (

    select
        titles.title_id,
        titles.name,
        titles.genres,
        titles.release_year,
        titles.release_date,
        titles.maturity,
        titles.runtime_min,
        {%- for genre in var('genres') %}
            {%- set column = 'genre_' ~ genre_slug(genre) %}
            cast(genre_flags.{{ column }} as integer) as {{ column }},
        {%- endfor %}
        cast(coalesce(variant_counts.n_variants, 0) as integer) as n_variants,
        cast(
            {%- for genre in var('genres') %}
                genre_flags.genre_{{ genre_slug(genre) }}{{ " +" if not loop.last }}
            {%- endfor %}
            as integer
        ) as n_genres

    from titles
    inner join genre_flags
        on titles.title_id = genre_flags.title_id
    left join variant_counts
        on titles.title_id = variant_counts.title_id

)

select * from final
