-- 安全生产隐患 with their closed-loop status (发现 → 整改 → 销号) on the as-of
-- day (macro as_of_date, var enterprise_as_of_date): overdue = 整改期限 before that day and
-- not 已整改/已销号. A major hazard (重大事故隐患) with a 督办级别 is under
-- supervision until it is signed off (已销号). The enterprise is found by its
-- credit code, or by its name when the code is invalid.
with

hazards as (
    select
        *,
        {{ enterprise_normalize_credit_code('credit_code') }} as code,
        {{ enterprise_name_key('enterprise_name') }} as name_key,
        {{ as_of_date('enterprise_as_of_date') }} as as_of_date,
        coalesce(rectification_status in ('已整改', '已销号'), false) as is_rectified
    from {{ ref('stg_bureau__safety_hazards') }}
),

enterprises as (
    select * from {{ ref('dim_enterprise') }}
),

resolved as (
    select
        h.*,
        coalesce(by_code.enterprise_id, by_name.enterprise_id) as enterprise_id,
        case
            when by_code.enterprise_id is not null then 'credit_code'
            when by_name.enterprise_id is not null then 'name'
            else 'unmatched'
        end as enterprise_match,
        h.deadline_date < h.as_of_date and not h.is_rectified as is_overdue
    from hazards as h
    left join enterprises as by_code on h.code = by_code.enterprise_id
    left join {{ ref('int_enterprise_names_indexed') }} as by_name
        on by_code.enterprise_id is null and h.name_key = by_name.name_key
)

select
    r.hazard_id, r.enterprise_id, r.enterprise_match, r.credit_code, r.enterprise_name, e.division_code,
    r.hazard_level, levels.is_major as is_major_hazard, r.description,
    r.found_date, r.deadline_date, r.rectified_date, r.rectification_status,
    case
        when r.rectification_status = '已销号' then 'closed'
        when r.rectification_status = '已整改' then 'rectified'
        when r.is_overdue then 'overdue'
        when r.rectification_status = '整改中' then 'in_progress'
        when r.rectification_status = '未整改' then 'open'
        else 'unknown'
    end as closed_loop_status,
    r.rectification_status = '已销号' as is_closed,
    coalesce(r.is_overdue, false) as is_overdue,
    case when r.is_overdue then r.as_of_date - r.deadline_date end as days_overdue,
    r.rectified_date > r.deadline_date as is_rectified_late,
    r.rectified_date - r.found_date as days_to_rectify,
    r.supervision_level,
    coalesce(r.supervision_level in ('市级', '镇级'), false) as is_supervised,
    coalesce(
        levels.is_major and r.supervision_level in ('市级', '镇级')
        and r.rectification_status is distinct from '已销号', false
    ) as is_major_under_supervision,
    r.as_of_date
from resolved as r
left join enterprises as e on r.enterprise_id = e.enterprise_id
left join {{ ref('ref_hazard_levels') }} as levels on r.hazard_level = levels.level_code
