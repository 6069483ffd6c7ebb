-- 交通事故 (police JTSG) as hazard events, category 12B01 道路交通事故, graded
-- by 《生产安全事故报告和调查处理条例》(国务院令第493号) 第三条 (ref_accident_grades):
-- deaths, 重伤 or direct loss, "以上" inclusive and "以下" exclusive. JTSG
-- carries deaths and all injuries (not 重伤) and no loss, so accident_grade
-- is the grade by deaths alone, a lower bound; grade_upper_bound is the grade
-- the injured would give were they all 重伤, only where that is higher (the
-- loss, unknown, could lift either). Severity: the grade's event_severity
-- (较大 severe, 重大/特别重大 extreme); 一般 moderate with a death, an
-- injury or a dangerous-goods vehicle, otherwise minor. Injuries alone never
-- raise the severity. The JTSG export carries no report time: reported_at is
-- NULL (fct_report_timeliness shows the source as unmeasured, not late).
with

accidents as (
    select
        *,
        coalesce(death_count, 0) as deaths,
        coalesce(injury_count, 0) as injured
    from {{ ref('stg_police__accidents') }}
),

grades as (
    select * from {{ ref('ref_accident_grades') }}
),

banded as (
    select
        accidents.*,
        by_deaths.grade_rank as death_grade_rank,
        by_injured.grade_rank as injured_grade_rank
    from accidents
    left join grades as by_deaths
        on
            accidents.deaths >= by_deaths.min_deaths
            and (by_deaths.max_deaths is null or accidents.deaths < by_deaths.max_deaths)
    left join grades as by_injured
        on
            accidents.injured >= by_injured.min_serious_injuries
            and (by_injured.max_serious_injuries is null or accidents.injured < by_injured.max_serious_injuries)
),

graded as (
    select
        banded.*,
        lower_grade.accident_grade,
        lower_grade.english_name as accident_grade_english,
        lower_grade.event_severity as grade_severity,
        case when banded.injured_grade_rank > banded.death_grade_rank then upper_grade.accident_grade end
            as grade_upper_bound
    from banded
    left join grades as lower_grade on banded.death_grade_rank = lower_grade.grade_rank
    left join grades as upper_grade on banded.injured_grade_rank = upper_grade.grade_rank
)

select
    'police-accident-' || accident_id as event_id,
    'police' as source,
    'accidents' as source_dataset,
    accident_id as source_record_id,
    '12B01' as category_code,
    occurred_at,
    cast(null as timestamptz) as reported_at,
    division_code,
    lon,
    lat,
    case
        when grade_severity in ('severe', 'extreme') then grade_severity
        when deaths > 0 or injured > 0 or is_hazmat then 'moderate'
        else 'minor'
    end as severity,
    'reported' as status,
    concat_ws(
        ' ',
        location,
        accident_type,
        case when deaths > 0 then '死亡' || deaths || '人' end,
        case when injured > 0 then '受伤' || injured || '人' end,
        case when is_hazmat then '涉及危险货物车辆' end,
        case when road_surface is not null then '路面' || road_surface end,
        accident_grade || '事故（按死亡人数）'
        || case when grade_upper_bound is not null then '，受伤者若均为重伤可至' || grade_upper_bound else '' end
    ) as description,
    true as is_hazard_event,
    accident_id,
    report_date,
    death_count,
    injury_count,
    is_hazmat,
    accident_grade,
    accident_grade_english,
    '仅按死亡人数（下限）：JTSG 只报受伤人数（未分重伤），无直接经济损失 '
    || 'deaths only (a lower bound); 重伤 and direct loss not in the JTSG contract' as grade_basis,
    grade_upper_bound
from graded
