-- Major-hazard enterprises (重大危险源 一级–四级, GB 18218; 一级 the most
-- severe) from snap_chemical_enterprises (the enterprise domain's register
-- staging), in the dim_hazard_site shape; risk_rank 一级 4 … 四级 1.
-- Enterprises without a major hazard (无) are not hazard sites. Snapshot
-- times are UTC.
with

versions as (
    select * from {{ ref('snap_chemical_enterprises') }}
    where major_hazard_level in ('一级', '二级', '三级', '四级')
)

select
    'major_hazard_enterprise:' || credit_code as site_id,
    'major_hazard_enterprise' as site_type,
    'bureau' as source,
    credit_code as source_record_id,
    enterprise_name as name,
    major_hazard_level || '重大危险源' as risk_level,
    case major_hazard_level when '一级' then 4 when '二级' then 3 when '三级' then 2 else 1 end as risk_rank,
    division_code,
    lon,
    lat,
    jsonb_build_object('major_hazard_level', major_hazard_level, 'credit_code', credit_code) as attributes,
    dbt_valid_from at time zone 'UTC' as valid_from,
    dbt_valid_to at time zone 'UTC' as valid_to
from versions
