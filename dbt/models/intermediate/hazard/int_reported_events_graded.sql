-- Events of the towns' 突发事件信息报告台账 as hazard events, one per 事件编号,
-- all four GB/T 35561 categories (category from 事件类别代码). Figures are the
-- 核报's (else the latest report's); reported_at is the first report's time.
-- Severity: 自然灾害 (11000) and 事故灾难 (12000) graded by 国务院令第493号 第三条
-- (ref_accident_grades, the same scale as road accidents in int_accidents_graded:
-- 特别重大 ≥ 30 deaths or ≥ 1亿元 and 重大 ≥ 10 or ≥ 5000万元 → extreme; 较大 ≥ 3 or
-- ≥ 1000万元 → severe; 一般 → moderate with a casualty, otherwise minor; the register
-- has 受伤 not 重伤, so injuries do not grade; for natural disasters deaths include
-- the missing, 死亡失踪, a platform reading). 公共卫生 (13000) and 社会安全
-- (14000): the register lacks what their plans grade by (cases, spread,
-- scale), so any death → moderate, otherwise minor (platform default).
with

reports as (
    select * from {{ ref('stg_bureau__event_reports') }}
    where event_id is not null
),

categories as (
    select * from {{ ref('ref_event_categories') }}
),

grades as (
    select * from {{ ref('ref_accident_grades') }}
),

latest as (
    select distinct on (event_id) *
    from reports
    order by event_id, (report_type = '核报') desc, reported_at desc nulls last, report_id desc
),

firsts as (
    select
        event_id,
        min(occurred_at) as occurred_at,
        min(reported_at) as first_reported_at,
        bool_or(report_type = '核报') as has_final_report
    from reports
    group by event_id
),

figured as (
    select
        latest.*,
        firsts.occurred_at as first_occurred_at,
        firsts.first_reported_at,
        firsts.has_final_report,
        coalesce(categories.top_code, left(latest.category_code, 2) || '000') as top_category_code,
        coalesce(latest.death_count, 0) as deaths,
        coalesce(latest.missing_count, 0) as missing,
        coalesce(latest.direct_loss_10k_yuan, 0) as loss_10k_yuan
    from latest
    inner join firsts on latest.event_id = firsts.event_id
    left join categories on latest.category_code = categories.code
),

counted as (
    select
        *,
        case when top_category_code = '11000' then deaths + missing else deaths end as grading_deaths
    from figured
),

graded as (
    select
        counted.*,
        grade.event_severity as grade_severity
    from counted
    left join lateral (
        select grades.event_severity
        from grades
        where
            counted.grading_deaths >= grades.min_deaths
            or counted.loss_10k_yuan * 10000 >= grades.min_direct_loss_yuan
        order by grades.grade_rank desc
        limit 1
    ) as grade on true
)

select
    'bureau-report-' || event_id as event_id,
    'bureau' as source,
    'event_reports' as source_dataset,
    event_id as source_record_id,
    category_code,
    first_occurred_at as occurred_at,
    first_reported_at as reported_at,
    division_code,
    cast(null as double precision) as lon,
    cast(null as double precision) as lat,
    case
        when top_category_code in ('11000', '12000')
            then
                case
                    when grade_severity in ('severe', 'extreme') then grade_severity
                    when grading_deaths > 0 or coalesce(injury_count, 0) > 0 then 'moderate'
                    else 'minor'
                end
        when deaths > 0 then 'moderate'
        else 'minor'
    end as severity,
    case when has_final_report then 'resolved' else 'reported' end as status,
    concat_ws(
        ' ',
        event_name,
        case when deaths > 0 then '死亡' || deaths || '人' end,
        case when missing > 0 then '失踪' || missing || '人' end,
        case when injury_count > 0 then '受伤' || injury_count || '人' end,
        case when affected_population > 0 then '受灾' || affected_population || '人' end,
        case when loss_10k_yuan > 0 then '直接经济损失' || loss_10k_yuan || '万元' end
    ) as description,
    occurred_at is not null and division_code is not null as is_hazard_event,
    top_category_code,
    grading_deaths,
    loss_10k_yuan
from graded
