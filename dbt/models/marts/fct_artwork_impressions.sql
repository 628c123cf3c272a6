with

impressions as (

    select * from {{ ref('int_artwork_impressions_enriched') }}

),

final as (

    select
        impression_id,
        member_key,
        title_id,
        variant_id,
        theme,
        ts,
        event_date,
        row_index,
        position,  -- noqa: RF04
        propensity,
        n_variants,
        played,
        completion,
        view_event_id,
        seconds_watched,
        is_completed,
        is_good_play

    from impressions

)

select * from final
