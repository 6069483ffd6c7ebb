"""The transport bureau's four resources as datasets (transport.md).

All are incremental on ``updated_at`` with the cursor rule of
:mod:`connectors.transport.cursor`. ``deleted`` is kept as a boolean: a
``true`` row is the bureau's tombstone for that key, which staging treats as
the record's end.

Nothing here is personal information: ``bridges.manager`` is the managing
organisation, carriers and consignors are enterprises (统一社会信用代码), and a
waybill's ``plate_no`` is a registered dangerous-goods vehicle (道路危险货物运输
车辆) of a licensed enterprise. Its plate is kept in clear on purpose: the
vehicle carries a public hazard placard, belongs to the enterprise, and
finding it fast is the point of the data in an emergency. police.md and
bureau_ledgers.md treat only plates of vehicles NOT carrying dangerous goods as
personal information.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.schema import Dataset, Field

SOURCE = "transport"

_UPDATED = Field("updated_at", "timestamptz", required=True, description="更新时间 last change at the bureau")
_DELETED = Field("deleted", "bool", description="已删除 true: the bureau withdrew the record (tombstone)")
_DIVISION = Field("division_code", "text", description="所在区划代码 12-digit division code")
_PLACE = (
    Field("lon", "float", description="经度 longitude"),
    Field("lat", "float", description="纬度 latitude"),
    _DIVISION,
)

ROAD_EVENTS = Dataset(
    source=SOURCE,
    name="road_events",
    title="路况事件 road events",
    primary_key=("event_id",),
    fields=(
        Field("event_id", "text", required=True, description="事件编号 event id"),
        Field(
            "type",
            "text",
            required=True,
            description="事件类型 施工 roadworks / 封闭 closure / 事故 accident / 拥堵 congestion / "
            "恶劣天气管制 weather control / 地质灾害阻断 blocked by geological hazard",
        ),
        Field("road_code", "text", required=True, description="路线编号 road code (G15, S321, X052 …)"),
        Field("stake_from", "text", description="起点桩号 start stake (K123+450)"),
        Field("stake_to", "text", description="止点桩号 end stake (K123+450)"),
        Field("direction", "text", description="方向 direction"),
        *_PLACE,
        Field("start_time", "timestamptz", description="开始时间 start"),
        Field("expected_end", "timestamptz", description="预计结束 expected end"),
        Field("actual_end", "timestamptz", description="实际结束 actual end"),
        Field("status", "text", required=True, description="状态 进行中 ongoing / 已解除 cleared"),
        Field("detour", "text", description="绕行方案 detour"),
        _UPDATED,
        _DELETED,
    ),
)

BRIDGES = Dataset(
    source=SOURCE,
    name="bridges",
    title="桥梁 bridges",
    primary_key=("bridge_code",),
    fields=(
        Field("bridge_code", "text", required=True, description="桥梁编码 bridge code"),
        Field("name", "text", required=True, description="桥梁名称 name"),
        Field("road_code", "text", description="路线编号 road code"),
        Field("stake", "text", description="中心桩号 stake (K123+450)"),
        Field("length_m", "float", description="桥长 length (m)"),
        Field("spans", "int", description="跨数 number of spans"),
        Field("built_year", "int", description="建成年份 year built"),
        Field("tech_grade", "int", description="技术状况等级 condition grade 1–5 (JTG/T H21; 4 poor, 5 dangerous)"),
        Field("last_inspection", "date", description="最近检测日期 last inspection"),
        Field("manager", "text", description="管养单位 managing organisation (not a person)"),
        *_PLACE,
        _UPDATED,
        _DELETED,
    ),
)

HAZMAT_CARRIERS = Dataset(
    source=SOURCE,
    name="hazmat_carriers",
    title="危险货物道路运输企业 hazmat road carriers",
    primary_key=("credit_code",),
    fields=(
        Field("credit_code", "text", required=True, description="统一社会信用代码 unified social credit code"),
        Field("name", "text", required=True, description="企业名称 enterprise name"),
        Field("licence_no", "text", description="道路运输经营许可证号 operating licence number"),
        Field("licence_valid_to", "date", description="许可证有效期至 licence valid until"),
        Field("scope", "json", description="经营范围 GB 6944 classes allowed (list)"),
        Field("vehicle_count", "int", description="车辆数 vehicles"),
        Field("address", "text", description="地址 address"),
        _DIVISION,
        _UPDATED,
        _DELETED,
    ),
)

HAZMAT_WAYBILLS = Dataset(
    source=SOURCE,
    name="hazmat_waybills",
    title="危险货物电子运单 hazmat e-waybills",
    primary_key=("waybill_no",),
    fields=(
        Field("waybill_no", "text", required=True, description="运单编号 waybill number"),
        Field("carrier_credit_code", "text", required=True, description="承运企业信用代码 carrier credit code"),
        Field("consignor_credit_code", "text", description="托运企业信用代码 consignor credit code"),
        Field(
            "plate_no",
            "text",
            description="车牌号 plate of the dangerous-goods vehicle (kept in clear: not personal information)",
        ),
        Field("goods_name", "text", description="货物名称 goods"),
        Field("un_no", "text", required=True, description="联合国编号 UN number (four digits)"),
        Field("hazard_class", "text", description="危险货物类别 GB 6944 class or division (2.1, 3, 6.1, 8 …)"),
        Field("weight_t", "float", description="重量 weight (t)"),
        Field("origin_address", "text", description="起运地址 origin address"),
        Field(
            "origin_division_code", "text", description="起运地区划代码 origin division code (may be outside 海城市)"
        ),
        Field("destination_address", "text", description="目的地址 destination address"),
        Field(
            "destination_division_code",
            "text",
            description="目的地区划代码 destination division code (may be outside 海城市)",
        ),
        Field("depart_time", "timestamptz", description="起运时间 departure"),
        Field("arrive_time", "timestamptz", description="到达时间 arrival"),
        Field("status", "text", required=True, description="状态 已派车 / 运输中 / 已送达 / 已取消"),
        _UPDATED,
        _DELETED,
    ),
)


@dataclass(frozen=True)
class Endpoint:
    dataset: Dataset
    path: str

    @property
    def key(self) -> str:
        return self.dataset.primary_key[0]


ENDPOINTS: dict[str, Endpoint] = {
    e.dataset.name: e
    for e in (
        Endpoint(ROAD_EVENTS, "/v2/road-events"),
        Endpoint(BRIDGES, "/v2/bridges"),
        Endpoint(HAZMAT_CARRIERS, "/v2/hazmat/carriers"),
        Endpoint(HAZMAT_WAYBILLS, "/v2/hazmat/waybills"),
    )
}
