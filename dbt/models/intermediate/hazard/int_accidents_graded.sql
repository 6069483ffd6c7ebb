-- 交通事故 (police JTSG) as hazard events, category 12B01 道路交通事故, graded
-- after the casualty bands of 《生产安全事故报告和调查处理条例》: ≥ 10 deaths
-- extreme (重大及以上); ≥ 3 deaths or ≥ 10 injured severe (较大); any death or
-- injury, or a dangerous-goods vehicle, moderate; otherwise minor. The JTSG
-- export carries no report time: reported_at is NULL (fct_report_timeliness
-- shows the source as unmeasured rather than late).
with

accidents as (
    select * from {{ ref('stg_police__accidents') }}
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
        when death_count >= 10 then 'extreme'
        when death_count >= 3 or injury_count >= 10 then 'severe'
        when death_count > 0 or injury_count > 0 or is_hazmat then 'moderate'
        else 'minor'
    end as severity,
    'reported' as status,
    concat_ws(
        ' ',
        location,
        accident_type,
        case when death_count > 0 then '死亡' || death_count || '人' end,
        case when injury_count > 0 then '受伤' || injury_count || '人' end,
        case when is_hazmat then '涉及危险货物车辆' end,
        case when road_surface is not null then '路面' || road_surface end
    ) as description,
    true as is_hazard_event,
    accident_id,
    report_date,
    death_count,
    injury_count,
    is_hazmat
from accidents
