with

genome as (

    select * from {{ ref('stg_lake__title_genome') }}

),

titles as (

    select * from {{ ref('dim_titles') }}

),

pivoted as (

    select
        title_id,
        max(arc_shape) as arc_shape,
        {%- for tag in var('genome_tags') %}
            coalesce(max(case when tag = '{{ tag }}' then tag_value end), 0) as {{ tag }},
        {%- endfor %}
        {%- for genre in var('genres') if genre != 'unknown' %}
            coalesce(
                max(case when tag = 'blend_{{ genre_slug(genre) }}' then tag_value end), 0
            ) as blend_{{ genre_slug(genre) }},
        {%- endfor %}
        max(built_at) as built_at

    from genome
    group by title_id

),

final as (

    select
        pivoted.*,
        titles.title_id is not null as in_catalogue,
        -- The genome describes the title, not a moment: Feast serves it from a constant
        -- valid_from so every label joins it (as title_catalogue does).
        cast('1970-01-01 00:00:00' as timestamp) as valid_from

    from pivoted
    left join titles on pivoted.title_id = titles.title_id

)

select * from final
