-- 灾害信息员 AB岗 per village: every village of 辖区基础信息 (division_level
-- 'village', under a town of ref_divisions; stand-in data, not official) with
-- its A岗 and B岗 posts from the informant register (post_code A / B). A
-- village is covered when both posts are filled; missing_posts names what is
-- missing ('A', 'B' or 'A,B').
with

towns as (
    select code12 as division_code, name as division_name
    from {{ ref('ref_divisions') }}
    where level = 'town'
),

villages as (
    select * from {{ ref('stg_bureau__division_facts') }}
    where division_level = 'village'
),

informants as (
    select * from {{ ref('stg_bureau__disaster_informants') }}
),

posts as (
    select
        village_code,
        bool_or(post_code = 'A') as has_a_post,
        bool_or(post_code = 'B') as has_b_post,
        count(*) filter (where post_code = 'A' and trained_date is null) as untrained_a,
        count(*) filter (where post_code = 'B' and trained_date is null) as untrained_b
    from informants
    group by village_code
),

covered as (
    select
        villages.division_code as village_code,
        villages.division_name as village_name,
        case when right(villages.division_code, 3) < '200' then '居委会' else '村委会' end as village_kind,
        towns.division_code as town_code,
        towns.division_name as town_name,
        cast(villages.population as integer) as population,
        coalesce(posts.has_a_post, false) as has_a_post,
        coalesce(posts.has_b_post, false) as has_b_post,
        coalesce(posts.untrained_a + posts.untrained_b, 0) as untrained_post_count
    from villages
    inner join towns on villages.town_code = towns.division_code
    left join posts on villages.division_code = posts.village_code
),

final as (
    select
        *,
        has_a_post and has_b_post as is_ab_covered,
        nullif(
            concat_ws(
                ',',
                case when not has_a_post then 'A' end,
                case when not has_b_post then 'B' end
            ),
            ''
        ) as missing_posts
    from covered
)

select * from final
