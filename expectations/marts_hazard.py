"""Rules for the hazard marts: events, warnings, hazard sites, daily risk, report timeliness.

dbt already tests each key, the category/division/seed relationships and the
accepted values (``marts/hazard/_hazard__models.yml``). GX adds: times that
have happened, coordinates in 海城市, counts that add up, and traces:
every event carrying its source's record key exists in raw, every weather
breach event has its hour in ``fct_weather_hourly_extremes``, every warning
exists in raw, and report timeliness counts every event of ``fct_hazard_event``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.dimensions import Dimension
from expectations.marts import Contract, mart_suites
from expectations.reference import division_codes_array
from expectations.rules import (
    BLOCKING,
    WARNING,
    between,
    located_in_haicheng,
    not_before,
    not_future,
    not_negative,
    traced,
    unexpected_rows,
)

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

# Events whose source_record_id is the key of a raw record: (source, dataset) -> (raw table, key column).
RECORD_KEYS = {
    ("police", "alarms"): ("police__alarms", "alarm_id"),
    ("police", "accidents"): ("police__accidents", "accident_id"),
    ("transport", "road_events"): ("transport__road_events", "event_id"),
    ("weather", "warnings"): ("weather__warnings", "identifier"),
}


def _events_traced(contract: Contract) -> Expectation:
    # No JOIN: GX aliases {batch} itself, so columns are unqualified (the raw tables have no source_record_id).
    branches = " or ".join(
        f"(source = '{source}' and source_dataset = '{dataset}' and source_record_id not in "
        f'(select r."{key}" from raw."{table}" r where r."{key}" is not null))'
        for (source, dataset), (table, key) in RECORD_KEYS.items()
    )
    named = ", ".join(f"{s}.{d}" for s, d in RECORD_KEYS)
    return traced(
        "events_traced_to_raw",
        f"select event_id, source, source_dataset, source_record_id from {{batch}} where {branches}",
        f"可追溯到原始层：带来源记录编号的事件（{named}）在原始层中有该记录",
        f"traced to raw: every event that carries its source record's key ({named}) has that record in raw",
    )


def _weather_events_in_extremes(contract: Contract) -> Expectation:
    return traced(
        "weather_events_in_hourly_extremes",
        "select e.event_id, e.division_code, e.occurred_at from {batch} e "
        "left join marts.fct_weather_hourly_extremes x on x.division_code = e.division_code "
        "and x.obs_hour = e.occurred_at "
        "where e.source = 'weather' and e.source_dataset = 'observations' and x.hourly_extreme_id is null",
        "集市间一致：气象观测突破事件所在镇街小时在逐时极值表中存在",
        "between marts: each weather breach event's division and hour exist in fct_weather_hourly_extremes",
    )


def hazard_event(contract: Contract) -> list[Expectation]:
    keys = contract.primary_key
    return [
        not_future(keys, "occurred_at", lineage=False),
        not_future(keys, "reported_at", lineage=False),
        located_in_haicheng(keys, lineage=False),
        between(
            "report_lag_minutes",
            0,
            None,
            "上报时延不为负（上报不早于发生）",
            "report_lag_minutes is not negative (reported no earlier than it occurred)",
            severity=WARNING,
            dimension=Dimension.CONSISTENCY,
        ),
        _events_traced(contract),
        _weather_events_in_extremes(contract),
    ]


def warning(contract: Contract) -> list[Expectation]:
    keys = contract.primary_key
    return [
        not_future(keys, "issued_at", lineage=False),
        not_before("expires_at", "effective_at", "失效时间不早于生效时间", "expires_at is not before effective_at"),
        unexpected_rows(
            "haicheng_division_codes_known",
            f"select identifier, haicheng_division_codes from {{batch}} "
            f"where not (haicheng_division_codes <@ {division_codes_array()})",
            BLOCKING,
            Dimension.CONFORMITY,
            "海城市范围的区划代码均在区划代码表中",
            "every code of haicheng_division_codes is in ref_divisions",
        ),
        traced(
            "warnings_traced_to_raw",
            "select identifier from {batch} where identifier not in "
            "(select r.identifier from raw.weather__warnings r where r.identifier is not null)",
            "可追溯到原始层：每条预警在原始层中存在",
            "traced to raw: every warning exists in raw.weather__warnings",
        ),
    ]


def hazard_site(contract: Contract) -> list[Expectation]:
    keys = contract.primary_key
    return [
        located_in_haicheng(
            keys, where="is_current", where_zh="（现行版本）", where_en=" (current versions)", lineage=False
        ),
        not_before("valid_to", "valid_from", "版本止不早于版本起", "valid_to is not before valid_from"),
        unexpected_rows(
            "one_current_version_per_site",
            "select site_id, count(*) as current_versions from {batch} where is_current group by site_id "
            "having count(*) > 1",
            BLOCKING,
            Dimension.ACCURACY,
            "每个隐患点位只有一个现行版本",
            "each site has one current version",
        ),
    ]


DAILY_COUNTS = (
    "natural_disaster_count",
    "accident_count",
    "public_health_count",
    "social_safety_count",
    "hazard_event_count",
    "severe_event_count",
    "non_emergency_alarm_count",
    "warning_count",
    "sites_threatened_count",
    "high_risk_sites_threatened_count",
)


def division_daily_risk(contract: Contract) -> list[Expectation]:
    return [
        not_future(contract.primary_key, "risk_date", is_date=True, lineage=False),
        *not_negative(*DAILY_COUNTS),
        between("risk_score", 0, None, "风险分不为负", "risk_score is not negative"),
        not_before(
            "hazard_event_count",
            "severe_event_count",
            "严重事件数不超过事件数",
            "severe_event_count does not exceed hazard_event_count",
        ),
        not_before(
            "sites_threatened_count",
            "high_risk_sites_threatened_count",
            "高风险点位数不超过受威胁点位数",
            "high_risk_sites_threatened_count does not exceed sites_threatened_count",
        ),
    ]


def report_timeliness(contract: Contract) -> list[Expectation]:
    keys = contract.primary_key
    return [
        not_future(keys, "event_date", is_date=True, lineage=False),
        *not_negative("event_count", "reported_count", "timely_count", "late_count", "unreported_count"),
        between("timely_share", 0, 1, "及时率在 0～1 内", "timely_share within 0..1"),
        between("target_minutes", 1, None, "及时上报目标为正", "target_minutes is positive"),
        unexpected_rows(
            "counts_add_up",
            "select report_timeliness_id, event_count, reported_count, timely_count, late_count, unreported_count "
            "from {batch} where timely_count + late_count <> reported_count "
            "or reported_count + unreported_count <> event_count",
            BLOCKING,
            Dimension.CONSISTENCY,
            "及时数 + 迟报数 = 已上报数；已上报数 + 未上报数 = 事件数",
            "timely + late = reported; reported + unreported = events",
        ),
        traced(
            "events_counted",
            "with counted as (select source, source_dataset, sum(event_count) as counted "
            "from {batch} t group by 1, 2), "
            "events as (select source, source_dataset, count(*) as events from marts.fct_hazard_event group by 1, 2) "
            "select coalesce(c.source, e.source) as source, coalesce(c.source_dataset, e.source_dataset) "
            "as source_dataset, c.counted, e.events from counted c full join events e "
            "on e.source = c.source and e.source_dataset = c.source_dataset where c.counted is distinct from e.events",
            "集市间一致：及时率统计的事件数等于灾害事件表中各来源数据集的事件数",
            "between marts: the events counted per source dataset equal those of fct_hazard_event",
        ),
    ]


def event_report_timeliness(contract: Contract) -> list[Expectation]:
    keys = contract.primary_key
    return [
        unexpected_rows(
            "on_time_or_late_when_due",
            "select event_report_id, is_due, is_on_time, is_late, delay_minutes from {batch} "
            "where (is_due and is_on_time = is_late) or (not is_due and (is_on_time or is_late)) "
            "or (is_on_time and delay_minutes > 0) or (is_late and delay_minutes <= 0)",
            BLOCKING,
            Dimension.CONSISTENCY,
            "应报的报告恰为及时或迟报之一，与时延一致；未到应报时间的不计",
            "a due report is either on time or late, as its delay says; one not due is neither",
        ),
        not_future(keys, "reported_at", lineage=False),
        traced(
            "reports_traced",
            "select r.report_id from staging.stg_bureau__event_reports r "
            "left join {batch} t on t.report_id = r.report_id where t.report_id is null",
            "每份台账报告都在及时性集市中",
            "every report of the register is in the timeliness mart",
        ),
    ]


def town_report_timeliness(contract: Contract) -> list[Expectation]:
    return [
        *not_negative("due_count", "on_time_count", "late_count", "missing_count"),
        between("timely_share", 0, 1, "上报及时率在 0～1 内", "timely_share within 0..1"),
        unexpected_rows(
            "counts_add_up",
            "select town_report_timeliness_id, due_count, on_time_count, late_count, missing_count from {batch} "
            "where on_time_count + late_count + missing_count <> due_count",
            BLOCKING,
            Dimension.CONSISTENCY,
            "及时数 + 迟报数 + 逾期未报数 = 应报数",
            "on time + late + missing = due",
        ),
        traced(
            "due_reports_counted",
            "with counted as (select sum(due_count) as n from {batch}), "
            "due as (select count(*) as n from marts.fct_event_report_timeliness where is_due) "
            "select counted.n as counted, due.n as due from counted, due where counted.n is distinct from due.n "
            "and due.n > 0",
            "集市间一致：各镇应报数之和等于报告及时性集市中的应报报告数",
            "between marts: the towns' due reports add up to the due reports of fct_event_report_timeliness",
        ),
    ]


SUITES = mart_suites(
    {
        "fct_hazard_event": ("灾害事件 hazard events", hazard_event),
        "fct_warning": ("预警信息 warnings", warning),
        "dim_hazard_site": ("风险隐患点位 hazard sites", hazard_site),
        "fct_division_daily_risk": ("镇街每日风险 daily risk per division", division_daily_risk),
        "fct_report_timeliness": ("数据时效 data timeliness", report_timeliness),
        "fct_event_report_timeliness": ("突发事件信息报告及时性 event report timeliness", event_report_timeliness),
        "fct_town_report_timeliness": ("乡镇灾害事故信息上报及时率 town report timeliness", town_report_timeliness),
    }
)
