"""应急管理局 the bureau's own registers (Excel inbox): rules for the ``raw.bureau__*`` datasets.

Each workbook version is a snapshot: the suites judge the latest version.
Registers are typed by hand, so beyond codes and ranges the suites check
that dates follow each other as the work does (found → deadline →
rectified; produced → expires).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from connectors.bureau.registers import DATASETS
from connectors.schema import Dataset
from expectations.dimensions import Dimension
from expectations.raw import RawSpec, raw_suites
from expectations.reference import COUNTY_CODE, division_codes, division_codes_sql, sql_text
from expectations.rules import (
    BLOCKING,
    WARNING,
    between,
    braces,
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

SOURCE = "bureau"

DEPOT_LEVELS = ("市级", "镇级", "社区", "协议代储")
TEAM_TYPE_REGEX = r"^(综合性消防救援|专业救援-.+|社会应急力量)$"
ENTERPRISE_TYPES = ("生产", "储存", "使用", "经营")
MAJOR_HAZARD_LEVELS = ("一级", "二级", "三级", "四级", "无")
HAZARD_LEVELS = ("一般事故隐患", "重大事故隐患")
RECTIFICATION = ("未整改", "整改中", "已整改", "已销号")
SUPERVISION = ("市级", "镇级", "无")
MATERIAL_CODE_REGEX = r"^[0-9]{7}$"  # GB/T 38565-2020
REPORT_TYPES = ("初报", "续报", "核报")
EVENT_CATEGORY_REGEX = r"^1[1-4][0-9A-Z]{3}$"  # GB/T 35561-2017: 11… 自然灾害 … 14… 社会安全事件


def _uploaded(ds: Dataset) -> Expectation:
    return not_future(ds.primary_key, "uploaded_at")


def material_stock(ds: Dataset) -> list[Expectation]:
    return [
        _uploaded(ds),
        matches(
            "material_code",
            MATERIAL_CODE_REGEX,
            "物资编码为 7 位数字（GB/T 38565-2020）",
            "material_code is 7 digits (GB/T 38565-2020)",
            severity=BLOCKING,
        ),
        in_set(
            "depot_level", DEPOT_LEVELS, "储备库级别为 市级 / 镇级 / 社区 / 协议代储", "depot_level is a known level"
        ),
        division_code_known("division_code"),
        located_in_haicheng(ds.primary_key),
        between("quantity", 0, None, "数量不为负", "quantity is not negative"),
        between("standard_quantity", 0, None, "储备标准数量不为负", "standard_quantity is not negative"),
        not_before(
            "expiry_date", "production_date", "有效期至不早于生产日期", "expiry_date is not before production_date"
        ),
        not_future(ds.primary_key, "updated_date", is_date=True),
        not_future(ds.primary_key, "production_date", is_date=True),
    ]


def rescue_teams(ds: Dataset) -> list[Expectation]:
    return [
        _uploaded(ds),
        matches(
            "team_type",
            TEAM_TYPE_REGEX,
            "队伍类型为 综合性消防救援 / 专业救援-* / 社会应急力量",
            "team_type is fire and rescue, a professional team or a social force",
        ),
        between("member_count", 0, 5000, "人数在 0～5000 内", "member_count within 0..5000"),
        division_code_known("division_code"),
        located_in_haicheng(ds.primary_key),
    ]


def chemical_enterprises(ds: Dataset) -> list[Expectation]:
    keys = ds.primary_key
    return [
        _uploaded(ds),
        credit_code_valid(keys, "credit_code"),
        in_set("enterprise_type", ENTERPRISE_TYPES, "企业类型为 生产 / 储存 / 使用 / 经营", "enterprise_type is known"),
        in_set(
            "major_hazard_level",
            MAJOR_HAZARD_LEVELS,
            "重大危险源等级为 一级～四级 或 无（GB 18218）",
            "major_hazard_level is level 1..4 or none (GB 18218)",
            severity=BLOCKING,
        ),
        between("max_storage_t", 0, None, "最大储存量不为负", "max_storage_t is not negative"),
        between("employee_count", 0, None, "从业人员数不为负", "employee_count is not negative"),
        division_code_known("division_code"),
        located_in_haicheng(keys),
        not_future(keys, "last_inspection_date", is_date=True),
    ]


def safety_hazards(ds: Dataset) -> list[Expectation]:
    keys = ds.primary_key
    return [
        _uploaded(ds),
        # The enterprise's code is a reference here, not the key: a bad one is reported, not blocking.
        credit_code_valid(keys, "credit_code", severity=WARNING),
        in_set(
            "hazard_level",
            HAZARD_LEVELS,
            "隐患等级为 一般事故隐患 / 重大事故隐患",
            "hazard_level is known",
            severity=BLOCKING,
        ),
        in_set(
            "rectification_status",
            RECTIFICATION,
            "整改状态为 未整改 / 整改中 / 已整改 / 已销号",
            "rectification_status is known",
            severity=BLOCKING,
        ),
        in_set("supervision_level", SUPERVISION, "督办级别为 市级 / 镇级 / 无", "supervision_level is known"),
        not_future(keys, "found_date", is_date=True),
        not_before("deadline_date", "found_date", "整改期限不早于发现日期", "deadline_date is not before found_date"),
        not_before(
            "rectified_date", "found_date", "整改完成日期不早于发现日期", "rectified_date is not before found_date"
        ),
        unexpected_rows(
            "rectified_has_date",
            f"select {row_ref(keys, 'rectification_status', 'rectified_date')} from {{batch}} "
            "where rectification_status in ('已整改', '已销号') and rectified_date is null",
            WARNING,
            Dimension.CONSISTENCY,
            "已整改或已销号的隐患有整改完成日期",
            "a hazard rectified or closed has its rectified_date",
        ),
    ]


def _town_or_village_known(keys: Sequence[str], column: str) -> Expectation:
    """A code of ref_divisions, or a village under one of its towns (fourth level: last three digits 001–399)."""
    query = (
        f"select {row_ref(keys, column)} from {{batch}} where {column} is not null "
        f"and {column} not in {division_codes_sql()} "
        f"and not ({column} ~ '{braces('^[0-9]{9}[0-3][0-9]{2}$')}' "
        f"and left({column}, 9) || '000' in {division_codes_sql()})"
    )
    return unexpected_rows(
        f"{column}_known_division",
        query,
        BLOCKING,
        Dimension.CONFORMITY,
        f"{column} 为区划代码表中的镇街，或其下的村/居（后三位 001–399）",
        f"{column} is a division of ref_divisions or a village under one of its towns (last three digits 001-399)",
    )


def division_facts(ds: Dataset) -> list[Expectation]:
    # Every sub-district and town; the county's own row is optional. Villages under the towns are allowed
    # (the stand-in lists them: the denominator of the 灾害信息员 AB-post coverage).
    towns = sorted(c for c in division_codes() if c != COUNTY_CODE + "000000")
    return [
        _uploaded(ds),
        _town_or_village_known(ds.primary_key, "division_code"),
        located_in_haicheng(ds.primary_key, "center_lon", "center_lat"),
        between("population", 0, 2_000_000, "常住人口在 0～200 万内", "population within 0..2,000,000"),
        between("area_km2", 0, 2_800, "面积在 0～2800 km² 内（全市约 2,732 km²）", "area_km2 within 0..2800 km²"),
        unexpected_rows(
            "every_town_listed",
            f"select count(distinct division_code) as towns_listed from {{batch}} "
            f"having count(distinct division_code) filter (where division_code in {sql_text(towns)}) < {len(towns)}",
            WARNING,
            Dimension.COMPLETENESS,
            f"全部 {len(towns)} 个街道和镇均有基础信息",
            f"all {len(towns)} sub-districts and towns are listed",
        ),
    ]


INFORMANT_POSTS = ("A岗", "B岗")


def disaster_informants(ds: Dataset) -> list[Expectation]:
    keys = ds.primary_key
    return [
        _uploaded(ds),
        in_set("post", INFORMANT_POSTS, "岗位为 A岗 / B岗", "post is A (main) or B (deputy)"),
        _town_or_village_known(keys, "village_code"),
        division_code_known("town_code"),
        unexpected_rows(
            "village_in_town",
            f"select {row_ref(keys, 'village_code', 'town_code')} from {{batch}} "
            "where left(village_code, 9) <> left(town_code, 9)",
            WARNING,
            Dimension.CONSISTENCY,
            "村居代码前 9 位与所属镇街代码一致",
            "village_code lies under town_code (same first nine digits)",
        ),
        not_future(keys, "started_date", is_date=True),
        not_future(keys, "trained_date", is_date=True),
    ]


def event_reports(ds: Dataset) -> list[Expectation]:
    keys = ds.primary_key
    return [
        _uploaded(ds),
        in_set("report_type", REPORT_TYPES, "报告类型为 初报 / 续报 / 核报", "report_type is known", severity=BLOCKING),
        matches(
            "event_category_code",
            EVENT_CATEGORY_REGEX,
            "事件类别代码为 GB/T 35561-2017 四门类代码",
            "event_category_code is a GB/T 35561-2017 code of the four categories",
        ),
        division_code_known("division_code"),
        not_future(keys, "reported_time"),
        not_before(
            "reported_time", "occurred_time", "报告时间不早于事发时间", "reported_time is not before occurred_time"
        ),
        *(
            between(column, 0, None, f"{zh}不为负", f"{column} is not negative")
            for column, zh in (
                ("death_count", "死亡人数"),
                ("missing_count", "失踪人数"),
                ("injury_count", "受伤人数"),
                ("affected_population", "受灾人口"),
                ("relocated_count", "紧急转移安置人数"),
                ("direct_loss_10k_yuan", "直接经济损失"),
            )
        ),
        unexpected_rows(
            "one_initial_report_per_event",
            f"select {row_ref(keys, 'event_code')} from {{batch}} where report_type = '初报' and event_code in "
            "(select event_code from {batch} where report_type = '初报' group by event_code having count(*) > 1)",
            WARNING,
            Dimension.CONSISTENCY,
            "每个事件只有一份初报",
            "an event has one initial report",
        ),
    ]


SUITES = raw_suites(
    SOURCE,
    DATASETS,
    {
        "material_stock": RawSpec(material_stock),
        "rescue_teams": RawSpec(rescue_teams),
        "chemical_enterprises": RawSpec(chemical_enterprises, credit_code_columns=("credit_code",)),
        "safety_hazards": RawSpec(safety_hazards, credit_code_columns=("credit_code",)),
        "division_facts": RawSpec(division_facts),
        "disaster_informants": RawSpec(disaster_informants),
        "event_reports": RawSpec(event_reports),
    },
)
