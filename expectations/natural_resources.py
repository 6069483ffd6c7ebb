"""自然资源局 natural-resources bureau (WFS 2.0): rules for the three ``raw.natural_resources__*`` datasets.

Each dataset is a snapshot of a layer: the suites judge the latest one.
The representative point (``lon``, ``lat``) of every feature lies in 海城市
(the layers are the county's); the geometry type is the layer's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.natural_resources.source import DATASETS
from connectors.schema import Dataset
from expectations.dimensions import Dimension
from expectations.raw import RawSpec, raw_suites
from expectations.rules import (
    BLOCKING,
    WARNING,
    between,
    braces,
    credit_code_valid,
    division_code_known,
    in_set,
    located_in_haicheng,
    not_before,
    not_future,
    row_ref,
    unexpected_rows,
)

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

SOURCE = "natural_resources"

HAZARD_TYPES = ("滑坡", "崩塌", "泥石流", "地面塌陷", "地裂缝", "地面沉降")
GRADES = ("小型", "中型", "大型", "特大型")
MEASURES = ("监测", "搬迁避让", "工程治理", "已销号")
SHELTER_CLASSES = ("Ⅰ类", "Ⅱ类", "Ⅲ类")
# GB 21734-2008: an emergency shelter gives each person at least 1 m² of effective area.
SHELTER_M2_PER_PERSON = 1


def _geometry(ds: Dataset) -> Expectation:
    kinds: tuple[str, ...] = ds.extra["geometry_types"]
    pattern = braces(r'"type"\s*:\s*"(' + "|".join(kinds) + r')"')
    query = f"select {row_ref(ds.primary_key)} from {{batch}} where geometry_geojson !~ '{pattern}'"
    return unexpected_rows(
        "geometry_of_layer_type",
        query,
        BLOCKING,
        Dimension.CONFORMITY,
        f"几何类型为本图层的 {' / '.join(kinds)}",
        f"the geometry is one of the layer's types ({', '.join(kinds)})",
    )


def _common(ds: Dataset) -> list[Expectation]:
    return [division_code_known("xzqh"), located_in_haicheng(ds.primary_key), _geometry(ds)]


def hazard_points(ds: Dataset) -> list[Expectation]:
    return [
        *_common(ds),
        in_set(
            "lx",
            HAZARD_TYPES,
            "隐患点类型为 滑坡 / 崩塌 / 泥石流 / 地面塌陷 / 地裂缝 / 地面沉降",
            "lx is one of the six geological hazard types",
            severity=BLOCKING,
        ),
        in_set("gmdj", GRADES, "规模等级为 小型 / 中型 / 大型 / 特大型", "gmdj is a size grade"),
        in_set("xqdj", GRADES, "险情等级为 小型 / 中型 / 大型 / 特大型", "xqdj is a danger grade"),
        in_set("fzcs", MEASURES, "防治措施为 监测 / 搬迁避让 / 工程治理 / 已销号", "fzcs is a known measure"),
        in_set("zt", ("在册", "核销"), "状态为 在册 / 核销", "zt is registered or written off"),
        between("wxrs", 0, None, "威胁人数不为负", "wxrs is not negative"),
        between("wxhs", 0, None, "威胁户数不为负", "wxhs is not negative"),
        between("wxcc", 0, None, "威胁财产不为负", "wxcc is not negative"),
        not_before(
            "wxrs", "wxhs", "威胁人数不少于威胁户数", "wxrs is not below wxhs", rule_id="people_not_below_households"
        ),
        not_future(ds.primary_key, "gxsj", is_date=True),
    ]


def mining_rights(ds: Dataset) -> list[Expectation]:
    return [
        *_common(ds),
        # The holder's code is an attribute here, not the key: a bad one is reported, not blocking.
        credit_code_valid(ds.primary_key, "tyshxydm", severity=WARNING),
        in_set("zt", ("有效", "过期", "注销"), "状态为 有效 / 过期 / 注销", "zt is valid, expired or cancelled"),
        in_set("kcfs", ("露天", "地下"), "开采方式为 露天 / 地下", "kcfs is open-pit or underground"),
        not_before("yxqz", "yxqq", "有效期止不早于有效期起", "yxqz is not before yxqq"),
    ]


def shelters(ds: Dataset) -> list[Expectation]:
    return [
        *_common(ds),
        in_set("lb", SHELTER_CLASSES, "类别为 Ⅰ类 / Ⅱ类 / Ⅲ类（GB 21734）", "lb is class Ⅰ, Ⅱ or Ⅲ (GB 21734)"),
        between("mj", 0, None, "有效避难面积不为负", "mj is not negative"),
        between("rnrs", 0, None, "容纳人数不为负", "rnrs is not negative"),
        unexpected_rows(
            "capacity_fits_area",
            f"select {row_ref(ds.primary_key, 'mj', 'rnrs')} from {{batch}} where rnrs * {SHELTER_M2_PER_PERSON} > mj",
            WARNING,
            Dimension.CONSISTENCY,
            f"容纳人数与面积相符：人均有效避难面积不少于 {SHELTER_M2_PER_PERSON} m²（GB 21734）",
            f"capacity fits the area: at least {SHELTER_M2_PER_PERSON} m² per person (GB 21734)",
        ),
    ]


SUITES = raw_suites(
    SOURCE,
    DATASETS,
    {
        "hazard_points": RawSpec(hazard_points),
        "mining_rights": RawSpec(mining_rights, credit_code_columns=("tyshxydm",)),
        "shelters": RawSpec(shelters),
    },
)
