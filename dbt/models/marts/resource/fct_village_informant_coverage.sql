-- One row per village (stand-in villages of 辖区基础信息 under the towns): are
-- its 灾害信息员 A岗 and B岗 filled (int_village_informants_covered)? The
-- villages with is_ab_covered false are the list the plan's AB岗 KPI asks for.
with

covered as (
    select * from {{ ref('int_village_informants_covered') }}
),

final as (
    select
        village_code,
        village_name,
        village_kind,
        town_code,
        town_name,
        population,
        has_a_post,
        has_b_post,
        is_ab_covered,
        missing_posts,
        cast(untrained_post_count as integer) as untrained_post_count
    from covered
)

select * from final
