-- 路况事件 classified by ref_road_event_types: 事故, 封闭, 地质灾害阻断 and
-- 恶劣天气管制 are hazard events, 施工 and 拥堵 are not; an unknown type is
-- not an event but is counted in int_hazard__unmapped_codes. Occurred at the
-- start time, reported when the bureau first recorded it (earliest
-- updated_at of any version); 进行中 → ongoing, 已解除 → resolved.
with

road_events as (
    select * from {{ ref('stg_transport__road_events') }}
),

types as (
    select * from {{ ref('ref_road_event_types') }}
)

select
    'transport-road_event-' || road_events.road_event_id as event_id,
    'transport' as source,
    'road_events' as source_dataset,
    road_events.road_event_id as source_record_id,
    types.event_category_code as category_code,
    road_events.started_at as occurred_at,
    road_events.first_reported_at as reported_at,
    road_events.division_code,
    road_events.lon,
    road_events.lat,
    coalesce(types.default_severity, 'moderate') as severity,
    case road_events.road_event_status when '已解除' then 'resolved' else 'ongoing' end as status,
    concat_ws(
        ' ',
        road_events.road_event_type,
        road_events.road_code,
        nullif(concat_ws('—', road_events.stake_from, road_events.stake_to), ''),
        road_events.direction,
        case when road_events.detour is not null then '绕行：' || road_events.detour end
    ) as description,
    coalesce(types.is_hazard_event, false) as is_hazard_event,
    road_events.road_event_id,
    road_events.road_event_type,
    types.road_event_type is not null as is_type_mapped,
    road_events.road_event_status
from road_events
left join types on road_events.road_event_type = types.road_event_type
