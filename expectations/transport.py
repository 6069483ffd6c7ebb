"""交通运输局 transport bureau (REST, OAuth2): rules for the four ``raw.transport__*`` datasets.

Planned times may lie ahead (roadworks start next week, a dispatched
waybill departs tonight): only ``updated_at`` and inspection dates are
held to "not in the future". A withdrawn record arrives as a tombstone
(``deleted`` true) and is judged like any other version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.schema import Dataset
from connectors.transport.datasets import ENDPOINTS
from expectations.dimensions import Dimension
from expectations.raw import RawSpec, raw_suites
from expectations.rules import (
    BLOCKING,
    WARNING,
    between,
    credit_code_valid,
    division_code_known,
    division_code_known_if_local,
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

SOURCE = "transport"

EVENT_TYPES = ("施工", "封闭", "事故", "拥堵", "恶劣天气管制", "地质灾害阻断")
ROAD_CODE_REGEX = r"^[GSXYZC][0-9]{1,4}$"
STAKE_REGEX = r"^K[0-9]{1,4}\+[0-9]{3}$"
# GB 6944-2012 classes and divisions.
HAZARD_CLASSES = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3", "3", "4.1", "4.2", "4.3",
                  "5.1", "5.2", "6.1", "6.2", "7", "8", "9")  # fmt: skip
WAYBILL_STATUS = ("已派车", "运输中", "已送达", "已取消")
# The heaviest load a road tanker may carry in China (GB 1589: 49 t gross) leaves well under 40 t of goods.
MAX_LOAD_T = 40
BRIDGE_YEARS = (1900, 2100)


def _updated(ds: Dataset) -> Expectation:
    return not_future(ds.primary_key, "updated_at")


def _located(ds: Dataset) -> Expectation:
    return located_in_haicheng(ds.primary_key)


def road_events(ds: Dataset) -> list[Expectation]:
    return [
        _updated(ds),
        in_set(
            "type",
            EVENT_TYPES,
            "事件类型为 施工 / 封闭 / 事故 / 拥堵 / 恶劣天气管制 / 地质灾害阻断",
            "type is one of the six event types",
            severity=BLOCKING,
        ),
        in_set(
            "status", ("进行中", "已解除"), "状态为 进行中 / 已解除", "status is ongoing or cleared", severity=BLOCKING
        ),
        matches("road_code", ROAD_CODE_REGEX, "路线编号形如 G1、S321、X052", "road_code looks like G1, S321, X052"),
        matches("stake_from", STAKE_REGEX, "起点桩号形如 K123+450", "stake_from looks like K123+450"),
        matches("stake_to", STAKE_REGEX, "止点桩号形如 K123+450", "stake_to looks like K123+450"),
        division_code_known("division_code"),
        _located(ds),
        not_before("actual_end", "start_time", "实际结束不早于开始", "actual_end is not before start_time"),
        not_before("expected_end", "start_time", "预计结束不早于开始", "expected_end is not before start_time"),
    ]


def bridges(ds: Dataset) -> list[Expectation]:
    low, high = BRIDGE_YEARS
    return [
        _updated(ds),
        between(
            "tech_grade",
            1,
            5,
            "技术状况等级为 1～5 类（JTG/T H21）",
            "tech_grade is 1..5 (JTG/T H21)",
            dimension=Dimension.CONFORMITY,
        ),
        between("built_year", low, high, f"建成年份在 {low}～{high} 之间", f"built_year within {low}..{high}"),
        unexpected_rows(
            "built_year_not_future",
            f"select {row_ref(ds.primary_key, 'built_year')} from {{batch}} "
            "where built_year > extract(year from now() at time zone 'Asia/Shanghai')",
            BLOCKING,
            Dimension.ACCURACY,
            "建成年份不晚于今年",
            "built_year is not after this year",
        ),
        between("length_m", 0, 20_000, "桥长在 0～20000 m 内", "length_m within 0..20000 m"),
        between("spans", 1, None, "跨数至少为 1", "spans is at least 1"),
        not_future(ds.primary_key, "last_inspection", is_date=True),
        matches("road_code", ROAD_CODE_REGEX, "路线编号形如 G1、S321、X052", "road_code looks like G1, S321, X052"),
        division_code_known("division_code"),
        _located(ds),
    ]


def hazmat_carriers(ds: Dataset) -> list[Expectation]:
    return [
        _updated(ds),
        credit_code_valid(ds.primary_key, "credit_code"),
        between("vehicle_count", 0, None, "车辆数不为负", "vehicle_count is not negative"),
        division_code_known("division_code"),
    ]


def hazmat_waybills(ds: Dataset) -> list[Expectation]:
    keys = ds.primary_key
    return [
        _updated(ds),
        credit_code_valid(keys, "carrier_credit_code"),
        credit_code_valid(keys, "consignor_credit_code", severity=WARNING),
        matches("un_no", r"^[0-9]{4}$", "联合国编号为 4 位数字", "un_no is four digits", severity=BLOCKING),
        in_set("hazard_class", HAZARD_CLASSES, "危险货物类别为 GB 6944 的类或项", "hazard_class is a GB 6944 class"),
        in_set(
            "status",
            WAYBILL_STATUS,
            "状态为 已派车 / 运输中 / 已送达 / 已取消",
            "status is a waybill status",
            severity=BLOCKING,
        ),
        between("weight_t", 0, MAX_LOAD_T, f"重量在 0～{MAX_LOAD_T} t 内", f"weight_t within 0..{MAX_LOAD_T} t"),
        division_code_known_if_local(keys, "origin_division_code"),
        division_code_known_if_local(keys, "destination_division_code"),
        not_before("arrive_time", "depart_time", "到达不早于起运", "arrive_time is not before depart_time"),
    ]


SUITES = raw_suites(
    SOURCE,
    {name: endpoint.dataset for name, endpoint in ENDPOINTS.items()},
    {
        "road_events": RawSpec(road_events),
        "bridges": RawSpec(bridges),
        "hazmat_carriers": RawSpec(hazmat_carriers, credit_code_columns=("credit_code",)),
        "hazmat_waybills": RawSpec(
            hazmat_waybills, credit_code_columns=("carrier_credit_code", "consignor_credit_code")
        ),
    },
)
