-- One row per observation and breached threshold (dbt_project.yml vars).
-- threshold_ratio = how far past the threshold: value / threshold, or for fog
-- (lower is worse) threshold / visibility (floored at 1 m).
{%- set checks = [
    {'kind': 'rainstorm', 'code': '11B03', 'name': '暴雨', 'label': '1小时降水', 'unit': 'mm',
     'column': 'precip_1h_mm', 'format': 'FM999990.0', 'higher_is_worse': true,
     'threshold': var('hazard_rainstorm_precip_1h_mm')},
    {'kind': 'gale', 'code': '11B06', 'name': '大风', 'label': '极大风速', 'unit': 'm/s',
     'column': 'wind_gust_ms', 'format': 'FM999990.0', 'higher_is_worse': true,
     'threshold': var('hazard_gale_gust_ms')},
    {'kind': 'fog', 'code': '11B07', 'name': '大雾', 'label': '能见度', 'unit': 'm',
     'column': 'visibility_m', 'format': 'FM999999990', 'higher_is_worse': false,
     'threshold': var('hazard_fog_visibility_m')},
] %}

with

located as (
    select * from {{ ref('int_observations_located') }}
),

breaches as (
{%- for check in checks %}
    select
        '{{ check.kind }}:' || observation_id as breach_id,
        observation_id,
        station_id,
        obs_hour,
        division_code,
        division_name,
        lon,
        lat,
        updated_at,
        last_extracted_at,
        '{{ check.kind }}' as breach_kind,
        '{{ check.code }}' as category_code,
        '{{ check.name }}' as category_name,
        {{ check.column }} as measure_value,
        cast({{ check.threshold }} as double precision) as threshold,
        {% if check.higher_is_worse -%}
        {{ check.column }} / {{ check.threshold }}
        {%- else -%}
        {{ check.threshold }} / greatest({{ check.column }}, 1)
        {%- endif %} as threshold_ratio,
        '{{ check.label }} ' || to_char({{ check.column }}, '{{ check.format }}') || ' {{ check.unit }}' as measure_text
    from located
    where {{ check.column }} {{ '>=' if check.higher_is_worse else '<' }} {{ check.threshold }}
    {%- if not loop.last %}

    union all
    {% endif %}
{%- endfor %}
)

select * from breaches
