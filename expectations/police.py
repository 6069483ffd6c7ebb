"""公安局 public-security bureau (daily file drops): rules for the four ``raw.police__*`` datasets.

Personal information arrives pseudonymised and masked (``*_pseudonym``,
``*_masked``, declared ``pii``): no rule reads those columns, and failing
samples never carry them in clear (``edp.quality.runner`` masks them).

The connector already marks coordinates it could not place in 海城市
(``coord_status`` out_of_area or missing); the location rule judges the
points it kept (``ok``, ``swapped`` after its fix).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.pii import CITIZEN_ID_PROBLEMS, CITIZEN_ID_VALID
from connectors.police.source import DATASETS
from connectors.schema import Dataset
from expectations.dimensions import Dimension
from expectations.raw import RawSpec, raw_suites
from expectations.rules import (
    BLOCKING,
    WARNING,
    between,
    credit_code_valid,
    division_code_known,
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

SOURCE = "police"

COORD_STATUS = ("ok", "swapped", "missing", "out_of_area")
PLACED = "coord_status in ('ok', 'swapped')"
CHANNELS = ("电话", "短信", "网络", "现场")
# The connector keeps as rows only emergencies: 03xx traffic, 04xx fire, 07xx disasters, 0503, 0505.
EMERGENCY_CATEGORY_REGEX = r"^(0[347][0-9]{2}|0503|0505)$"
CATEGORY_REGEX = r"^[0-9]{4}$"
ROAD_CODE_REGEX = r"^[GSXYZC][0-9]{1,4}$"


def _placed(ds: Dataset) -> Expectation:
    return located_in_haicheng(
        ds.primary_key,
        where=PLACED,
        where_zh="（坐标状态为 ok 或 swapped 的记录）",
        where_en=" (records with coord_status ok or swapped)",
    )


def citizen_id_valid(keys: tuple[str, ...]) -> Expectation:
    """报警人证件号码 passes GB 11643-1999; a failing row is named by file and row, never by its value.

    The connector validated the number before pseudonymising it and wrote the
    verdict to ``caller_id_status``; an invalid number has no pseudonym, so the
    row loads but cannot be linked to a caller. A warning: the bureau corrects
    the number at the source.
    """
    query = (
        f"select {row_ref(keys, 'source_file', 'source_row', 'caller_id_status')} from {{batch}} "
        f"where caller_id_status is not null and caller_id_status <> '{CITIZEN_ID_VALID}'"
    )
    return unexpected_rows(
        "caller_id_valid",
        query,
        WARNING,
        Dimension.ACCURACY,
        "报警人证件号码符合 GB 11643-1999（长度、校验码、出生日期、地址码）；不符的记录按文件与行号列出，号码不显示",
        "the caller's citizen ID passes GB 11643-1999 (length, check character, birth date, address code); "
        "failing rows are listed by file and row, never by the number",
    )


def alarms(ds: Dataset) -> list[Expectation]:
    keys = ds.primary_key
    return [
        citizen_id_valid(keys),
        in_set(
            "caller_id_status",
            (CITIZEN_ID_VALID, *CITIZEN_ID_PROBLEMS),
            "证件号码校验结果为 valid / wrong_length / bad_format / bad_check_digit / bad_birth_date / unknown_region",
            "caller_id_status is valid or one of the GB 11643 reasons",
            severity=BLOCKING,
        ),
        not_future(keys, "received_at"),
        not_future(keys, "report_date", is_date=True),
        division_code_known("division_code"),
        _placed(ds),
        in_set(
            "coord_status",
            COORD_STATUS,
            "坐标状态为 ok / swapped / missing / out_of_area",
            "coord_status is ok, swapped, missing or out_of_area",
            severity=BLOCKING,
        ),
        matches(
            "category_code",
            EMERGENCY_CATEGORY_REGEX,
            "警情类别为保留明细的紧急类别（03/04/07 类、0503、0505）",
            "category_code is an emergency category kept as rows (03xx, 04xx, 07xx, 0503, 0505)",
            severity=BLOCKING,
        ),
        in_set(
            "report_channel",
            CHANNELS,
            "报警方式为 电话 / 短信 / 网络 / 现场",
            "report_channel is phone, SMS, internet or on site",
        ),
        matches("alarm_id", r"^[0-9A-Z]{20}$", "接警编号为 20 位", "alarm_id has 20 characters"),
        not_before("dispatched_at", "received_at", "派警时间不早于接警时间", "dispatched_at is not before received_at"),
        not_before("arrived_at", "dispatched_at", "到场时间不早于派警时间", "arrived_at is not before dispatched_at"),
        not_before("feedback_at", "arrived_at", "反馈时间不早于到场时间", "feedback_at is not before arrived_at"),
    ]


def alarm_daily_counts(ds: Dataset) -> list[Expectation]:
    return [
        not_future(ds.primary_key, "report_date", is_date=True),
        division_code_known("division_code"),
        matches(
            "category_code", CATEGORY_REGEX, "警情类别代码为 4 位数字", "category_code is 4 digits", severity=BLOCKING
        ),
        between("alarm_count", 0, None, "接警数不为负", "alarm_count is not negative"),
    ]


def accidents(ds: Dataset) -> list[Expectation]:
    keys = ds.primary_key
    return [
        not_future(keys, "occurred_at"),
        not_future(keys, "report_date", is_date=True),
        division_code_known("division_code"),
        _placed(ds),
        in_set(
            "coord_status",
            COORD_STATUS,
            "坐标状态为 ok / swapped / missing / out_of_area",
            "coord_status is ok, swapped, missing or out_of_area",
            severity=BLOCKING,
        ),
        between("deaths", 0, None, "死亡人数不为负", "deaths is not negative"),
        between("injuries", 0, None, "受伤人数不为负", "injuries is not negative"),
        matches("road_code", ROAD_CODE_REGEX, "道路编号形如 G1、S321、X052", "road_code looks like G1, S321, X052"),
    ]


def key_units(ds: Dataset) -> list[Expectation]:
    keys = ds.primary_key
    return [
        credit_code_valid(keys, "credit_code"),
        not_future(keys, "report_date", is_date=True),
        division_code_known("division_code"),
    ]


SUITES = raw_suites(
    SOURCE,
    DATASETS,
    {
        "alarms": RawSpec(alarms),
        "alarm_daily_counts": RawSpec(alarm_daily_counts),
        "accidents": RawSpec(accidents),
        "key_units": RawSpec(key_units, credit_code_columns=("credit_code",)),
    },
)
