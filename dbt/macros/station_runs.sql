{#-
    Station runs: incremental models of one row per station and run of
    consecutive readings in the same state (over a threshold or not; calm
    runs are also cut at local midnight, so no run but an episode spans
    more than a day), from which breach episodes are read (the over runs).
    Runs cover every reading of a station, so the newest run of each
    station holds its newest readings and the model's watermark (max
    source_extracted_at) keeps up with the readings even when nothing
    breaches.

    A reading changed or added at t can only change the run that holds t
    and, by splitting or merging, the runs either side of it (a calm run's
    cut at midnight depends on its own readings only). So an
    incremental run, per station with readings extracted after the
    watermark less the lookback (touched, from t_min to t_max):
    1. the pre_hook (delete_touched_station_runs) deletes the stored runs
       from the last one that ends before t_min to the first one that
       starts after t_max (both untouched: their edge readings keep their
       state, so no run outside can merge with what is recomputed);
    2. the model (station_run_gaps) recomputes the readings in the gap
       between the runs left: strictly after the last run that ends before
       t_min and before the first run that starts after t_max - exactly
       what was deleted (or more, when the deletion lowered the watermark:
       then unchanged runs are recomputed to the same rows, and replaced
       by run_id). A station with no runs left is recomputed whole.
-#}

{#-
    The touched span per station: (station_id, touched_from, touched_to),
    the readings of `readings` (a relation with station_id, observed_at,
    last_extracted_at) extracted after this model's watermark less
    `lookback_hours`.
-#}
{% macro station_touched_span(readings, lookback_hours) -%}
select station_id, min(observed_at) as touched_from, max(observed_at) as touched_to
from {{ readings }}
where last_extracted_at > {{ watermark_since('source_extracted_at', lookback_hours) }}
group by station_id
{%- endmacro %}

{#-
    Per station to recompute (touched, or in `stations` - those with a
    threshold - but with no runs stored): the open interval of observed_at
    to recompute, (station_id, gap_after, gap_before); '-infinity' /
    'infinity' where no stored run bounds it.
-#}
{% macro station_run_gaps(readings, stations, lookback_hours) -%}
{#- Set-based (one pass over the stored runs): correlated subqueries here were evaluated once per reading. -#}
select
    touched.station_id,
    coalesce(max(runs.ended_at) filter (where runs.ended_at < touched.touched_from), '-infinity') as gap_after,
    coalesce(min(runs.started_at) filter (where runs.started_at > touched.touched_to), 'infinity') as gap_before
from (
    select station_id, min(touched_from) as touched_from, max(touched_to) as touched_to
    from (
        {{ station_touched_span(readings, lookback_hours) | indent(8) }}
        union all
        select station_id, cast('infinity' as timestamptz), cast('-infinity' as timestamptz)
        from {{ stations }}
        where station_id not in (select stored.station_id from {{ this }} as stored)
    ) as spans
    group by station_id
) as touched
left join {{ this }} as runs on touched.station_id = runs.station_id
group by touched.station_id
{%- endmacro %}

{#-
    pre_hook of a station runs model: in an incremental run, delete every
    run of a station whose thresholds changed (`threshold_changed`: a SQL
    condition on the stored row `runs`; it also covers stations that lost
    their threshold), and, per touched station, the runs from the last one
    that ends before the touched span to the first one that starts after it.
-#}
{% macro delete_touched_station_runs(readings, threshold_changed, lookback_hours) -%}
{#- Two statements: an OR of the two conditions made PostgreSQL run the touched bounds once per stored run. -#}
{%- if is_incremental() -%}
delete from {{ this }} as runs
where {{ threshold_changed }};

delete from {{ this }} as runs
using (
    select
        touched.station_id,
        coalesce(
            max(neighbours.started_at) filter (where neighbours.ended_at < touched.touched_from), '-infinity'
        ) as delete_from,
        coalesce(
            min(neighbours.started_at) filter (where neighbours.started_at > touched.touched_to), 'infinity'
        ) as delete_to
    from ({{ station_touched_span(readings, lookback_hours) | indent(8) }}) as touched
    left join {{ this }} as neighbours on touched.station_id = neighbours.station_id
    group by touched.station_id
) as bounds
where
    bounds.station_id = runs.station_id
    and runs.started_at between bounds.delete_from and bounds.delete_to
{%- endif -%}
{%- endmacro %}

{#- The river stations with a threshold and it: station_id, warning_stage_m, guaranteed_stage_m. -#}
{% macro river_run_thresholds() -%}
(
    select station_id, warning_stage_m, guaranteed_stage_m
    from {{ ref('stg_water__river_thresholds') }}
    where coalesce(warning_stage_m, guaranteed_stage_m) is not null
)
{%- endmacro %}

{#- The reservoirs with a flood limit and a digest of all their seasons' limits: station_id, flood_limits_digest. -#}
{% macro reservoir_run_limits() -%}
(
    select
        station_id,
        md5(string_agg(
            season_begin_mmdd || '-' || season_end_mmdd || '=' || cast(flood_limit_level_m as text), ','
            order by season_begin_mmdd, season_end_mmdd, flood_limit_level_m
        )) as flood_limits_digest
    from {{ ref('stg_water__reservoir_flood_limits') }}
    where is_flood_season and flood_limit_level_m is not null
    group by station_id
)
{%- endmacro %}

{#-
    The condition (on the stored row `runs`) under which a station's runs
    are all deleted: its current thresholds (`current`, a relation of
    station_id and `columns`) no longer equal the ones the run was built
    with, or it has none any more.
-#}
{% macro station_thresholds_changed(current, columns) -%}
not exists (
    select
    from {{ current }} as current_thresholds
    where
        current_thresholds.station_id = runs.station_id
        {%- for column in columns %}
        and current_thresholds.{{ column }} is not distinct from runs.{{ column }}
        {%- endfor %}
)
{%- endmacro %}

{#-
    Number the runs of `relation` (station_id, observed_at, local_day and
    the boolean `over_column`, one row per reading): a run starts where the
    side of the threshold changes, and a calm run also at local midnight,
    so that recomputing the newest readings never means recomputing months
    of calm; episodes (over runs) stay whole however long they last. Adds
    starts_run and run_no (per station, counted from 1 in time order).
-#}
{% macro station_run_numbers(relation, over_column) -%}
select
    *,
    sum(starts_run) over (partition by station_id order by observed_at) as run_no
from (
    select
        *,
        case
            -- (parenthesised: sqlfluff's postgres grammar cannot parse a bare `when … is distinct from`)
            when ({{ over_column }} is distinct from lag({{ over_column }}) over station_readings) then 1
            when (not {{ over_column }} and local_day is distinct from lag(local_day) over station_readings) then 1
            else 0
        end as starts_run
    from {{ relation }}
    window station_readings as (partition by station_id order by observed_at)
) as starts
{%- endmacro %}
