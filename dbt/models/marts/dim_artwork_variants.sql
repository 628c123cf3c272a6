with

artwork_variants as (

    select * from {{ ref('stg_lake__artwork_variants') }}

),

titles as (

    select * from {{ ref('int_titles_enriched') }}

),

final as (

    select
        artwork_variants.title_id,
        artwork_variants.variant_id,
        artwork_variants.theme,
        titles.name as title_name,
        titles.genres,
        titles.n_variants

    from artwork_variants
    inner join titles
        on artwork_variants.title_id = titles.title_id

)

select * from final
