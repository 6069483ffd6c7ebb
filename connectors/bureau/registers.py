"""The bureau's registers: file titles, Chinese headers → raw columns.

Contracts: bureau_ledgers.md (the five registers), and two additions to it:
docs/disaster-informants.md (灾害信息员台账, the villages' A/B posts) and
docs/contracts/bureau_event_reports.md (突发事件信息报告台账, the towns' emergency-event reports).

Raw columns are English snake_case; each Field's description keeps the Chinese
header it comes from. ``kind`` says how the connector reads a cell (see
:mod:`connectors.bureau.values`): ``name`` and ``phone`` are personal
information and become ``<column>_pseudonym`` + ``<column>_masked``; ``unit``
becomes ``unit`` (normalised) + ``unit_raw`` (as written).
Every row also carries its lineage: ``source_file``, ``workbook_version``
(sha256 of the workbook), ``uploaded_at`` and ``row_number`` (the Excel row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from connectors.schema import Dataset, Field, FieldType

SOURCE = "bureau"
Kind = Literal["text", "code", "int", "float", "date", "datetime", "unit", "name", "phone"]
_TYPES: dict[str, FieldType] = {"int": "int", "float": "float", "date": "date", "datetime": "timestamptz"}


@dataclass(frozen=True)
class Column:
    header: str  # as in bureau_ledgers.md
    name: str
    kind: Kind = "text"
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Register:
    dataset: str
    title: str  # the workbook's file name without .xlsx
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.title}.xlsx"


def _fields(col: Column) -> list[Field]:
    head = f"{col.header} {col.description}".strip()
    if col.kind == "name":
        return [
            Field(f"{col.name}_pseudonym", "text", pii=True, description=f"{head}: keyed pseudonym"),
            Field(f"{col.name}_masked", "text", pii=True, description=f"{head}: masked (张*)"),
        ]
    if col.kind == "phone":
        return [
            Field(f"{col.name}_pseudonym", "text", pii=True, description=f"{head}: keyed pseudonym"),
            Field(f"{col.name}_masked", "text", pii=True, description=f"{head}: masked (138****5678)"),
        ]
    if col.kind == "unit":
        return [
            Field("unit", "text", description=f"{head}, normalised (t → 吨, 頂 → 顶)"),
            Field("unit_raw", "text", description=f"{head} as written"),
        ]
    return [Field(col.name, _TYPES.get(col.kind, "text"), required=col.required, description=head)]


LINEAGE = (
    Field("source_file", "text", required=True, description="来源文件 workbook file name in the inbox"),
    Field("workbook_version", "text", required=True, description="版本 sha256 of the workbook's bytes"),
    Field("uploaded_at", "timestamptz", description="上传时间 when the version was placed in the inbox"),
    Field("row_number", "int", description="行号 the row's number in the worksheet (1-based)"),
)


def dataset(reg: Register) -> Dataset:
    fields = [f for col in reg.columns for f in _fields(col)]
    return Dataset(
        source=SOURCE,
        name=reg.dataset,
        title=f"{reg.title} {reg.description}",
        fields=(*fields, *LINEAGE),
        # Every version is kept whole; the version is part of the key so two versions in one pull never merge.
        primary_key=(*reg.key, "workbook_version"),
        mode="snapshot",
        extra={"file_title": reg.title},
    )


C = Column
# Columns several registers share, headed alike in the bureau's templates.
_DIVISION = C("所属辖区代码", "division_code", "code", "12-digit division code")
_LON_LAT = (C("经度", "lon", "float", "longitude, CGCS2000"), C("纬度", "lat", "float", "latitude, CGCS2000"))
_PHONE = C("联系电话", "phone", "phone", "contact phone (personal information)")
REGISTERS: tuple[Register, ...] = (
    Register(
        "material_stock",
        "应急物资储备台账",
        "emergency material stock, one row per site and item",
        (
            C("储备库编号", "depot_code", "code", "depot number", required=True),
            C("储备库名称", "depot_name", description="depot name"),
            C("级别", "depot_level", description="level: 市级 / 镇级 / 社区 / 协议代储"),
            _DIVISION,
            C("地址", "address", description="address"),
            *_LON_LAT,
            C("物资编码", "material_code", "code", "7-digit GB/T 38565-2020 material code", required=True),
            C("物资名称", "material_name", description="material name"),
            C("规格型号", "spec", description="specification / model"),
            C("计量单位", "unit", "unit", "unit of measure"),
            C("数量", "quantity", "float", "quantity in stock"),
            C("储备标准数量", "standard_quantity", "float", "quantity the plan requires"),
            C("生产日期", "production_date", "date", "production date"),
            C("有效期至", "expiry_date", "date", "valid until"),
            C("更新日期", "updated_date", "date", "date the row was last updated"),
        ),
        ("depot_code", "material_code", "spec"),
    ),
    Register(
        "rescue_teams",
        "救援队伍台账",
        "rescue teams",
        (
            C("队伍编号", "team_code", "code", "team number", required=True),
            C("队伍名称", "team_name", description="team name"),
            C("队伍类型", "team_type", description="type: 综合性消防救援, 专业救援-*, 社会应急力量"),
            C("人数", "member_count", "int", "members"),
            C("主要装备", "main_equipment", description="main equipment"),
            C("驻地", "base_address", description="base"),
            _DIVISION,
            *_LON_LAT,
            C("负责人", "leader", "name", "team leader (personal information)"),
            _PHONE,
        ),
        ("team_code",),
    ),
    Register(
        "chemical_enterprises",
        "危险化学品企业台账",
        "dangerous-chemicals enterprises",
        (
            C("企业名称", "enterprise_name", description="enterprise name"),
            C("统一社会信用代码", "credit_code", "code", "unified social credit code (GB 32100)", required=True),
            C("企业类型", "enterprise_type", description="type: 生产 / 储存 / 使用 / 经营"),
            C("重大危险源等级", "major_hazard_level", description="major hazard level (GB 18218-2018): 一级…四级 / 无"),
            C("主要危险化学品", "main_chemicals", description="main dangerous chemicals"),
            C("最大储存量(t)", "max_storage_t", "float", "maximum storage (t)"),
            C("从业人员数", "employee_count", "int", "employees"),
            C("地址", "address", description="address"),
            _DIVISION,
            *_LON_LAT,
            C("安全负责人", "safety_officer", "name", "person responsible for safety (personal information)"),
            _PHONE,
            C("最近检查日期", "last_inspection_date", "date", "last inspection date"),
        ),
        ("credit_code",),
    ),
    Register(
        "safety_hazards",
        "安全生产隐患排查台账",
        "safety-hazard inspections (closed-loop management)",
        (
            C("隐患编号", "hazard_code", "code", "hazard number", required=True),
            C("企业名称", "enterprise_name", description="enterprise name"),
            C("统一社会信用代码", "credit_code", "code", "unified social credit code (GB 32100)"),
            C("隐患等级", "hazard_level", description="一般事故隐患 / 重大事故隐患"),
            C("隐患描述", "description", description="description"),
            C("发现日期", "found_date", "date", "date found"),
            C("整改期限", "deadline_date", "date", "rectification deadline"),
            C("整改完成日期", "rectified_date", "date", "date rectified"),
            C("整改状态", "rectification_status", description="未整改 / 整改中 / 已整改 / 已销号"),
            C("督办级别", "supervision_level", description="supervision level: 市级 / 镇级 / 无"),
        ),
        ("hazard_code",),
    ),
    Register(
        "division_facts",
        "辖区基础信息",
        "division facts",
        (
            C("所属辖区代码", "division_code", "code", "12-digit division code", required=True),
            C("名称", "name", description="name"),
            C("常住人口", "population", "int", "resident population"),
            C("面积(km²)", "area_km2", "float", "area (km²)"),
            C("中心经度", "center_lon", "float", "centre longitude"),
            C("中心纬度", "center_lat", "float", "centre latitude"),
        ),
        ("division_code",),
    ),
    Register(
        "disaster_informants",
        "灾害信息员台账",
        "disaster information officers (灾害信息员), one row per village post A岗 / B岗 (docs/disaster-informants.md)",
        (
            C("姓名", "informant", "name", "informant's name (personal information)"),
            _PHONE,
            C(
                "所属村居代码",
                "village_code",
                "code",
                "12-digit 统计用区划代码 of the village/community",
                required=True,
            ),
            C("村居名称", "village_name", description="village or community name"),
            C("岗位", "post", "code", "post: A岗 (main) / B岗 (deputy)", required=True),
            C("所属镇街代码", "town_code", "code", "12-digit code of the town"),
            C("上岗日期", "started_date", "date", "date the informant took the post"),
            C("培训日期", "trained_date", "date", "date of the latest training"),
        ),
        ("village_code", "post"),
    ),
    Register(
        "event_reports",
        "突发事件信息报告台账",
        "emergency-event reports of the towns (初报 / 续报 / 核报), one row per report",
        (
            C("报告编号", "report_code", "code", "report number", required=True),
            C("事件编号", "event_code", "code", "event number (one event, many reports)", required=True),
            C("事件名称", "event_name", description="event name"),
            C("事件类别代码", "event_category_code", "code", "GB/T 35561-2017 event category code"),
            C("事发时间", "occurred_time", "datetime", "time of occurrence (Beijing time)"),
            _DIVISION,
            C("报告类型", "report_type", description="report type: 初报 / 续报 / 核报"),
            C("报告时间", "reported_time", "datetime", "time of the report (Beijing time)"),
            C("死亡人数", "death_count", "int", "deaths"),
            C("失踪人数", "missing_count", "int", "missing"),
            C("受伤人数", "injury_count", "int", "injured"),
            C("受灾人口", "affected_population", "int", "people affected"),
            C("紧急转移安置人数", "relocated_count", "int", "people evacuated and resettled"),
            C("直接经济损失(万元)", "direct_loss_10k_yuan", "float", "direct economic loss (10,000 yuan)"),
            C("报告单位", "reporting_unit", description="reporting unit (the town government)"),
            C("填报人", "reporter", "name", "person who filled in the report (personal information)"),
            _PHONE,
        ),
        ("report_code",),
    ),
)
BY_DATASET = {reg.dataset: reg for reg in REGISTERS}
DATASETS = {reg.dataset: dataset(reg) for reg in REGISTERS}
