-- One row per current observation and breached threshold (vars in
-- dbt_project.yml). first_breached_at: the earliest version of the
-- observation that reached the threshold, so a later correction (or QC
-- re-issue) does not move the time the breach was first reported.
-- threshold_ratio: value / threshold, or threshold / visibility for fog.
-- Rain is not judged per observation: 暴雨 needs rolling totals
-- (int_weather_rain_windows_totalled).
with

thresholds as (
    select *
    from (
        values
        (
            'gale', '11B06', '大风', '极大风速', 'm/s', 'FM999990.0', true,
            cast({{ var('hazard_gale_gust_ms') }} as double precision)
        ),
        (
            'fog', '11B17', '大雾', '能见度', 'm', 'FM999999990', false,
            cast({{ var('hazard_fog_visibility_m') }} as double precision)
        )
    ) as t (
        breach_kind, category_code, category_name, measure_label, measure_unit, value_format,
        is_upper_bound, threshold
    )
),

current_values as (
    select located.*, measure.breach_kind, measure.measure_value
    from {{ ref('int_observations_located') }} as located
    cross join {{ weather_breach_measures('located') }}
),

version_values as (
    select versions.observation_id, versions.updated_at, measure.breach_kind, measure.measure_value
    from {{ ref('base_weather__observation_versions') }} as versions
    cross join {{ weather_breach_measures('versions') }}
    where versions.qc is distinct from 2
),

first_breaches as (
    select
        version_values.observation_id, version_values.breach_kind, min(version_values.updated_at) as first_breached_at
    from version_values
    inner join thresholds on version_values.breach_kind = thresholds.breach_kind
    where
        case
            when thresholds.is_upper_bound then version_values.measure_value >= thresholds.threshold
            else version_values.measure_value < thresholds.threshold
        end
    group by version_values.observation_id, version_values.breach_kind
),

breaches as (
    select
        current_values.breach_kind || ':' || current_values.observation_id as breach_id,
        current_values.observation_id,
        current_values.station_id,
        current_values.obs_hour,
        current_values.division_code,
        current_values.division_name,
        current_values.lon,
        current_values.lat,
        current_values.updated_at,
        coalesce(first_breaches.first_breached_at, current_values.updated_at) as first_breached_at,
        current_values.breach_kind,
        thresholds.category_code,
        thresholds.category_name,
        current_values.measure_value,
        thresholds.threshold,
        case
            when thresholds.is_upper_bound then current_values.measure_value / thresholds.threshold
            else thresholds.threshold / greatest(current_values.measure_value, 1)
        end as threshold_ratio,
        thresholds.measure_label || ' ' || to_char(current_values.measure_value, thresholds.value_format)
        || ' ' || thresholds.measure_unit as measure_text
    from current_values
    inner join thresholds on current_values.breach_kind = thresholds.breach_kind
    left join first_breaches
        on
            current_values.observation_id = first_breaches.observation_id
            and current_values.breach_kind = first_breaches.breach_kind
    where
        case
            when thresholds.is_upper_bound then current_values.measure_value >= thresholds.threshold
            else current_values.measure_value < thresholds.threshold
        end
)

select * from breaches
