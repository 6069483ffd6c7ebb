"""水利局 water bureau (SL 323-2011): rules for the six ``raw.water__*`` datasets.

Rainfall: not negative (the connector already quarantines a negative DRP;
this verifies raw holds none, e.g. after a replay) and plausible for its
period: at most half the world-record depth–duration envelope (Jennings:
422·D^0.475 mm for D hours), i.e. 211 mm in an hour, 65 mm in 5 minutes,
954 mm in a day.

Stage and reservoir level: within the station's plausible range, taken from
the station's own thresholds in the current snapshot (bank crests of
``ST_RVFCCH_B``, flood-season limits of ``ST_RSVRFSR_B``). A station without
thresholds is not judged here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.schema import Dataset
from connectors.water.datasets import DATASETS
from expectations.dimensions import Dimension
from expectations.raw import RawSpec, Volume, raw_suites
from expectations.reference import COUNTY_CODE
from expectations.rules import (
    BLOCKING,
    between,
    in_set,
    located_in_haicheng,
    matches,
    not_before,
    not_future,
    row_ref,
    unexpected_rows,
)

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

SOURCE = "water"

# Half the world-record depth–duration envelope: mm = RAIN_ENVELOPE_MM * hours ** RAIN_ENVELOPE_EXPONENT.
RAIN_ENVELOPE_MM = 211
RAIN_ENVELOPE_EXPONENT = 0.475
DAY_RAIN_MAX_MM = round(RAIN_ENVELOPE_MM * 24**RAIN_ENVELOPE_EXPONENT)
# A stage is plausible from this far below the lower bank crest (the river bed) to this far above the
# higher one: generous on top, so a real flood overtopping the levees is never held back as an error.
STAGE_BELOW_CREST_M = 20
STAGE_ABOVE_CREST_M = 5
# A reservoir level is plausible from this far below its lowest flood-season limit to this far above the highest.
LEVEL_BELOW_LIMIT_M = 30
LEVEL_ABOVE_LIMIT_M = 10

# SL 323-2011 code lists.
STATION_TYPES = ("PP", "ZZ", "ZQ", "RR", "DD", "TT", "ZG", "ZB", "MM", "BB", "SS", "DP")
TRENDS = ("4", "5", "6")  # falling, rising, steady
FLOW_CODES = ("1", "2", "3", "4", "5", "6", "P")
WEATHER_CODES = ("5", "6", "7", "8", "9")
SEASON_TYPES = ("1", "2", "3", "4")
STCD_REGEX = r"^[0-9A-Z]{8}$"
# Every MMDD of a leap year: 0631 or 0230 is not a day.
CALENDAR_DAYS = (
    "(select to_char(d, 'MMDD') from generate_series(date '2000-01-01', date '2000-12-31', interval '1 day') as d)"
)


def _stcd() -> Expectation:
    # The bureau's master data has 6-character codes for some older rain gauges: news, not a reason to block.
    return matches(
        "stcd",
        STCD_REGEX,
        "测站编码为 8 位数字或大写字母（SL 323）",
        "stcd is 8 digits or capital letters (SL 323)",
    )


def _latest_snapshot(table: str) -> str:
    return (
        f'(select * from raw."{table}" where _batch_id = (select _batch_id from raw."{table}" '
        f"order by _extracted_at desc, _batch_id desc limit 1))"
    )


def stations(ds: Dataset) -> list[Expectation]:
    return [
        _stcd(),
        located_in_haicheng(
            ds.primary_key,
            "lgtd",
            "lttd",
            where=f"addvcd like '{COUNTY_CODE}%'",
            where_zh="（行政区划码属海城市的测站）",
            where_en=" (stations whose addvcd is in Haicheng)",
        ),
        in_set("addvcd", (COUNTY_CODE,), f"行政区划码为海城市 {COUNTY_CODE}", f"addvcd is Haicheng's {COUNTY_CODE}"),
        in_set("sttp", STATION_TYPES, "站类为 SL 323 规定的代码", "sttp is an SL 323 station type"),
        in_set("usfl", ("0", "1"), "启用标志为 0 或 1", "usfl is 0 or 1"),
        in_set("frgrd", ("1", "2", "3", "4", "5"), "报汛等级为 1～5", "frgrd is 1..5"),
        not_future(ds.primary_key, "moditime"),
    ]


def _rain_plausible(ds: Dataset) -> Expectation:
    envelope = f"{RAIN_ENVELOPE_MM} * power(intv, {RAIN_ENVELOPE_EXPONENT})"
    query = f"select {row_ref(ds.primary_key, 'drp', 'intv')} from {{batch}} where intv > 0 and drp > {envelope}"
    return unexpected_rows(
        "drp_plausible_for_period",
        query,
        BLOCKING,
        Dimension.ACCURACY,
        f"时段降水量不超过该时段长的可信上限 {RAIN_ENVELOPE_MM}·INTV^{RAIN_ENVELOPE_EXPONENT} mm（世界纪录包络的一半）",
        f"drp is within the plausible maximum for its period, {RAIN_ENVELOPE_MM}·intv^{RAIN_ENVELOPE_EXPONENT} mm "
        "(half the world-record envelope)",
    )


def rainfall(ds: Dataset) -> list[Expectation]:
    return [
        not_future(ds.primary_key, "tm"),
        between("drp", 0, None, "时段降水量不为负", "drp is not negative"),
        _rain_plausible(ds),
        between(
            "dyp", 0, DAY_RAIN_MAX_MM, f"日降水量在 0～{DAY_RAIN_MAX_MM} mm 内", f"dyp within 0..{DAY_RAIN_MAX_MM} mm"
        ),
        between(
            "intv",
            0.01,
            24,
            "时段长在 0.01～24 小时内",
            "intv within 0.01..24 h",
            severity=BLOCKING,
            dimension=Dimension.CONFORMITY,
        ),
        not_before("intv", "pdr", "降水历时不超过时段长", "pdr does not exceed intv", rule_id="pdr_within_intv"),
        in_set("wth", WEATHER_CODES, "天气状况为 5 雪、6 雨夹雪、7 雨、8 阴、9 晴", "wth is 5..9 (SL 323)"),
        _stcd(),
    ]


def _stage_plausible(ds: Dataset) -> Expectation:
    query = (
        f"select {row_ref(ds.primary_key, 'z', alias='r')}, "
        f"least(t.ldkel, t.rdkel) as lower_crest, greatest(t.ldkel, t.rdkel) as upper_crest "
        f"from {{batch}} r join {_latest_snapshot('water__river_thresholds')} t on t.stcd = r.stcd "
        f"where r.z > greatest(t.ldkel, t.rdkel) + {STAGE_ABOVE_CREST_M} "
        f"or r.z < least(t.ldkel, t.rdkel) - {STAGE_BELOW_CREST_M}"
    )
    return unexpected_rows(
        "z_plausible_for_station",
        query,
        BLOCKING,
        Dimension.ACCURACY,
        f"水位在该站可信范围内：低堤顶高程以下 {STAGE_BELOW_CREST_M} m 至高堤顶高程以上 {STAGE_ABOVE_CREST_M} m",
        f"z lies in the station's plausible range: from {STAGE_BELOW_CREST_M} m below its lower bank crest "
        f"to {STAGE_ABOVE_CREST_M} m above its higher one",
    )


def river(ds: Dataset) -> list[Expectation]:
    return [
        not_future(ds.primary_key, "tm"),
        _stage_plausible(ds),
        between("q", 0, None, "流量不为负", "q is not negative"),
        between("xsa", 0, None, "过水面积不为负", "xsa is not negative"),
        between("xsavv", 0, None, "平均流速不为负", "xsavv is not negative"),
        not_before("xsmxv", "xsavv", "最大流速不小于平均流速", "xsmxv is not below xsavv"),
        in_set("wptn", TRENDS, "水势为 4 落、5 涨、6 平", "wptn is 4 falling, 5 rising or 6 steady"),
        in_set("flwchrcd", FLOW_CODES, "河水特征码为 SL 323 规定的代码", "flwchrcd is an SL 323 flow code"),
        _stcd(),
    ]


def _level_plausible(ds: Dataset) -> Expectation:
    limits = (
        f"(select stcd, min(fsltdz) as lowest, max(fsltdz) as highest from "
        f"{_latest_snapshot('water__reservoir_flood_limits')} f group by stcd)"
    )
    query = (
        f"select {row_ref(ds.primary_key, 'rz', alias='r')}, l.lowest, l.highest "
        f"from {{batch}} r join {limits} l on l.stcd = r.stcd "
        f"where r.rz > l.highest + {LEVEL_ABOVE_LIMIT_M} or r.rz < l.lowest - {LEVEL_BELOW_LIMIT_M}"
    )
    return unexpected_rows(
        "rz_plausible_for_reservoir",
        query,
        BLOCKING,
        Dimension.ACCURACY,
        f"库水位在该库可信范围内：最低汛限水位以下 {LEVEL_BELOW_LIMIT_M} m 至最高汛限水位以上 {LEVEL_ABOVE_LIMIT_M} m",
        f"rz lies in the reservoir's plausible range: from {LEVEL_BELOW_LIMIT_M} m below its lowest flood-season "
        f"limit to {LEVEL_ABOVE_LIMIT_M} m above its highest",
    )


def reservoir(ds: Dataset) -> list[Expectation]:
    return [
        not_future(ds.primary_key, "tm"),
        _level_plausible(ds),
        between("w", 0, None, "蓄水量不为负", "w is not negative"),
        between("inq", 0, None, "入库流量不为负", "inq is not negative"),
        between("otq", 0, None, "出库流量不为负", "otq is not negative"),
        in_set("rwptn", TRENDS, "库水水势为 4 落、5 涨、6 平", "rwptn is 4 falling, 5 rising or 6 steady"),
        _stcd(),
    ]


def river_thresholds(ds: Dataset) -> list[Expectation]:
    return [
        _stcd(),
        not_before("grz", "wrz", "保证水位不低于警戒水位", "grz is not below wrz"),
        not_before("grq", "wrq", "保证流量不低于警戒流量", "grq is not below wrq"),
        not_future(ds.primary_key, "moditime"),
    ]


def _month_day(ds: Dataset, column: str, zh: str) -> Expectation:
    query = f"select {row_ref(ds.primary_key, column)} from {{batch}} where {column} not in {CALENDAR_DAYS}"
    return unexpected_rows(
        f"{column}_calendar_day",
        query,
        BLOCKING,
        Dimension.CONFORMITY,
        f"{zh}为日历上存在的月日 MMDD",
        f"{column} is a day of the calendar as MMDD",
    )


def reservoir_flood_limits(ds: Dataset) -> list[Expectation]:
    return [
        _stcd(),
        _month_day(ds, "bgmd", "开始月日"),
        _month_day(ds, "edmd", "结束月日"),
        in_set("fstp", SEASON_TYPES, "汛期类别为 1～4", "fstp is 1..4"),
        not_future(ds.primary_key, "moditime"),
    ]


# Observations arrive every 5 minutes: the number of rows a run lands follows the run's interval.
SERIES_VOLUME = Volume(slack=50)

SUITES = raw_suites(
    SOURCE,
    DATASETS,
    {
        "stations": RawSpec(stations),
        "rainfall": RawSpec(rainfall, SERIES_VOLUME),
        "river": RawSpec(river, SERIES_VOLUME),
        "reservoir": RawSpec(reservoir, SERIES_VOLUME),
        "river_thresholds": RawSpec(river_thresholds),
        "reservoir_flood_limits": RawSpec(reservoir_flood_limits),
    },
)
