"""The registers as staff keep them: file title, sheet title, headers and how each column is typed in.

Headers are exactly those of bureau_ledgers.md. ``kind`` drives the writer's
imperfections (numbers stored as text, units written many ways, dates as Excel
serials or text, ...). ``WRONG_HEADER`` is what the ``wrong_header`` fault does to
a register: a column dropped (missing) and one renamed (unknown).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Register:
    dataset: str
    title: str
    headers: tuple[tuple[str, str], ...]  # (header, kind)
    key: tuple[str, ...]  # headers identifying a row

    @property
    def file_name(self) -> str:
        return f"{self.title}.xlsx"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(h for h, _ in self.headers)


REGISTERS: dict[str, Register] = {
    r.dataset: r
    for r in (
        Register(
            "material_stock",
            "应急物资储备台账",
            (
                ("储备库编号", "code"),
                ("储备库名称", "text"),
                ("级别", "text"),
                ("所属辖区代码", "code"),
                ("地址", "text"),
                ("经度", "lonlat"),
                ("纬度", "lonlat"),
                ("物资编码", "code"),
                ("物资名称", "text"),
                ("规格型号", "text"),
                ("计量单位", "unit"),
                ("数量", "quantity"),
                ("储备标准数量", "number"),
                ("生产日期", "date"),
                ("有效期至", "date"),
                ("更新日期", "date"),
            ),
            ("储备库编号", "物资编码", "规格型号"),
        ),
        Register(
            "rescue_teams",
            "救援队伍台账",
            (
                ("队伍编号", "code"),
                ("队伍名称", "text"),
                ("队伍类型", "text"),
                ("人数", "count"),
                ("主要装备", "text"),
                ("驻地", "text"),
                ("所属辖区代码", "code"),
                ("经度", "lonlat"),
                ("纬度", "lonlat"),
                ("负责人", "name"),
                ("联系电话", "phone"),
            ),
            ("队伍编号",),
        ),
        Register(
            "chemical_enterprises",
            "危险化学品企业台账",
            (
                ("企业名称", "text"),
                ("统一社会信用代码", "code"),
                ("企业类型", "text"),
                ("重大危险源等级", "text"),
                ("主要危险化学品", "text"),
                ("最大储存量(t)", "tonnes"),
                ("从业人员数", "count"),
                ("地址", "text"),
                ("所属辖区代码", "code"),
                ("经度", "lonlat"),
                ("纬度", "lonlat"),
                ("安全负责人", "name"),
                ("联系电话", "phone"),
                ("最近检查日期", "date"),
            ),
            ("统一社会信用代码",),
        ),
        Register(
            "safety_hazards",
            "安全生产隐患排查台账",
            (
                ("隐患编号", "code"),
                ("企业名称", "text"),
                ("统一社会信用代码", "code"),
                ("隐患等级", "text"),
                ("隐患描述", "text"),
                ("发现日期", "date"),
                ("整改期限", "date"),
                ("整改完成日期", "date"),
                ("整改状态", "text"),
                ("督办级别", "text"),
            ),
            ("隐患编号",),
        ),
        Register(
            "division_facts",
            "辖区基础信息",
            (
                ("所属辖区代码", "code"),
                ("名称", "text"),
                ("常住人口", "count"),
                ("面积(km²)", "number"),
                ("中心经度", "lonlat"),
                ("中心纬度", "lonlat"),
            ),
            ("所属辖区代码",),
        ),
        Register(
            "disaster_informants",
            "灾害信息员台账",
            (
                ("姓名", "name"),
                ("联系电话", "phone"),
                ("所属村居代码", "code"),
                ("村居名称", "text"),
                ("岗位", "text"),
                ("所属镇街代码", "code"),
                ("上岗日期", "date"),
                ("培训日期", "date"),
            ),
            ("所属村居代码", "岗位"),
        ),
        Register(
            "event_reports",
            "突发事件信息报告台账",
            (
                ("报告编号", "code"),
                ("事件编号", "code"),
                ("事件名称", "text"),
                ("事件类别代码", "code"),
                ("事发时间", "datetime"),
                ("所属辖区代码", "code"),
                ("报告类型", "text"),
                ("报告时间", "datetime"),
                ("死亡人数", "count"),
                ("失踪人数", "count"),
                ("受伤人数", "count"),
                ("受灾人口", "count"),
                ("紧急转移安置人数", "count"),
                ("直接经济损失(万元)", "number"),
                ("报告单位", "text"),
                ("填报人", "name"),
                ("联系电话", "phone"),
            ),
            ("报告编号",),
        ),
    )
}
BY_TITLE = {r.title: r for r in REGISTERS.values()}

# (dropped header, renamed header, its new name)
WRONG_HEADER: dict[str, tuple[str, str, str]] = {
    "material_stock": ("储备标准数量", "数量", "库存数量"),
    "rescue_teams": ("主要装备", "联系电话", "手机号码"),
    "chemical_enterprises": ("从业人员数", "最大储存量(t)", "最大储量"),
    "safety_hazards": ("督办级别", "整改期限", "整改时限"),
    "division_facts": ("面积(km²)", "常住人口", "户籍人口"),
    "disaster_informants": ("培训日期", "岗位", "岗位类别"),
    "event_reports": ("紧急转移安置人数", "报告时间", "上报时间"),
}


def register(workbook: str) -> Register:
    """A register by dataset name, title or file name."""
    name = workbook.removesuffix(".xlsx")
    if name in REGISTERS:
        return REGISTERS[name]
    if name in BY_TITLE:
        return BY_TITLE[name]
    known = ", ".join([*REGISTERS, *BY_TITLE])
    raise KeyError(f"unknown register {workbook!r} (known: {known})")
