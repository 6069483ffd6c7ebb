"""水利局 water bureau: what the SL 323-2011 tables offer, as the platform's datasets (water.md).

Raw column names are the SL 323 identifiers in lower case. Kept apart from
the reading code in :mod:`connectors.water.source`, which re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.schema import Dataset, Field, FieldType

SOURCE = "water"
TIME_FIELDS = ("tm", "moditime")


def _f(name: str, desc: str, type_: FieldType = "float", required: bool = False) -> Field:
    return Field(name, type_, required=required, description=desc)


STCD = _f("stcd", "测站编码 STCD station code (CHAR(8), padding stripped)", "text", True)
TM = _f("tm", "时间 TM observation time (end of the period), local time", "timestamptz", True)
MODITIME = _f("moditime", "修改时间 MODITIME last change of the row", "timestamptz")

STATIONS = Dataset(
    source=SOURCE,
    name="stations",
    title="测站基本属性表 ST_STBPRP_B station master",
    mode="snapshot",
    primary_key=("stcd",),
    fields=(
        STCD,
        _f("stnm", "测站名称 STNM station name", "text"),
        _f("rvnm", "河流名称 RVNM river", "text"),
        _f("hnnm", "水系名称 HNNM river system", "text"),
        _f("bsnm", "流域名称 BSNM basin", "text"),
        _f("lgtd", "经度 LGTD longitude (°)"),
        _f("lttd", "纬度 LTTD latitude (°)"),
        _f("stlc", "站址 STLC location", "text"),
        _f("addvcd", "行政区划码 ADDVCD 6-digit county code", "text"),
        _f("sttp", "站类 STTP PP rain, ZZ stage, ZQ hydrological, RR reservoir, DD sluice, MM met, ZG ground", "text"),
        _f("frgrd", "报汛等级 FRGRD 1 central, 2 provincial key, 3 provincial, 4 other", "text"),
        _f("usfl", "启用标志 USFL 1 in use, 0 not", "text"),
        _f("comments", "备注 COMMENTS remarks", "text"),
        MODITIME,
    ),
)

RAINFALL = Dataset(
    source=SOURCE,
    name="rainfall",
    title="降水量表 ST_PPTN_R rainfall",
    mode="incremental",
    primary_key=("stcd", "tm"),
    fields=(
        STCD,
        TM,
        _f("drp", "时段降水量 DRP rain in the period (mm)"),
        _f("intv", "时段长 INTV period length (h; 0.05 = 5 min)"),
        _f("pdr", "降水历时 PDR rain duration (h)"),
        _f("dyp", "日降水量 DYP rain of the day, on the 08:00 row (mm)"),
        _f("wth", "天气状况 WTH 5 snow, 6 sleet, 7 rain, 8 overcast, 9 fine", "text"),
    ),
)

RIVER = Dataset(
    source=SOURCE,
    name="river",
    title="河道水情表 ST_RIVER_R river stage",
    mode="incremental",
    primary_key=("stcd", "tm"),
    fields=(
        STCD,
        TM,
        _f("z", "水位 Z stage (m)"),
        _f("q", "流量 Q discharge (m³/s)"),
        _f("xsa", "断面过水面积 XSA cross-section area (m²)"),
        _f("xsavv", "断面平均流速 XSAVV mean velocity (m/s)"),
        _f("xsmxv", "断面最大流速 XSMXV max velocity (m/s)"),
        _f("flwchrcd", "河水特征码 FLWCHRCD 1 dry … 6 flood peak, P release; null normal", "text"),
        _f("wptn", "水势 WPTN 4 falling, 5 rising, 6 steady", "text"),
        _f("msqmt", "测流方法 MSQMT discharge measurement method", "text"),
        _f("msamt", "测积方法 MSAMT area measurement method", "text"),
        _f("msvmt", "测速方法 MSVMT velocity measurement method", "text"),
    ),
)

RESERVOIR = Dataset(
    source=SOURCE,
    name="reservoir",
    title="水库水情表 ST_RSVR_R reservoir",
    mode="incremental",
    primary_key=("stcd", "tm"),
    fields=(
        STCD,
        TM,
        _f("rz", "库上水位 RZ upstream level (m)"),
        _f("inq", "入库流量 INQ inflow (m³/s)"),
        _f("w", "蓄水量 W storage (10⁶ m³)"),
        _f("blrz", "库下水位 BLRZ downstream level (m)"),
        _f("otq", "出库流量 OTQ outflow (m³/s)"),
        _f("rwchrcd", "库水特征码 RWCHRCD (codes as FLWCHRCD)", "text"),
        _f("rwptn", "库水水势 RWPTN 4 falling, 5 rising, 6 steady", "text"),
        _f("inqdr", "入流时段长 INQDR inflow period (h)"),
        _f("msqmt", "测流方法 MSQMT measurement method", "text"),
    ),
)

RIVER_THRESHOLDS = Dataset(
    source=SOURCE,
    name="river_thresholds",
    title="河道站防洪指标表 ST_RVFCCH_B river flood-control thresholds",
    mode="snapshot",
    primary_key=("stcd",),
    fields=(
        STCD,
        _f("wrz", "警戒水位 WRZ warning stage (m)"),
        _f("wrq", "警戒流量 WRQ warning discharge (m³/s)"),
        _f("grz", "保证水位 GRZ guaranteed stage (m)"),
        _f("grq", "保证流量 GRQ guaranteed discharge (m³/s)"),
        _f("ldkel", "左堤高程 LDKEL left bank crest (m)"),
        _f("rdkel", "右堤高程 RDKEL right bank crest (m)"),
        MODITIME,
    ),
)

RESERVOIR_FLOOD_LIMITS = Dataset(
    source=SOURCE,
    name="reservoir_flood_limits",
    title="水库汛限水位表 ST_RSVRFSR_B reservoir flood-season limits",
    mode="snapshot",
    primary_key=("stcd", "bgmd"),
    fields=(
        STCD,
        _f("bgmd", "开始月日 BGMD season begin (MMDD)", "text", True),
        _f("edmd", "结束月日 EDMD season end (MMDD)", "text"),
        _f("fsltdz", "汛限水位 FSLTDZ flood-limit level (m)"),
        _f("fsltdw", "汛限库容 FSLTDW storage at the limit (10⁶ m³)"),
        _f("fstp", "汛期类别 FSTP 1 main, 2 late, 3 transition, 4 other", "text"),
        MODITIME,
    ),
)


@dataclass(frozen=True)
class TableSpec:
    table: str
    # Keyset order: (TM, STCD) for observations, the primary key for snapshots.
    order: tuple[str, ...]
    incremental: bool


TABLES: dict[str, TableSpec] = {
    "stations": TableSpec("ST_STBPRP_B", ("STCD",), False),
    "rainfall": TableSpec("ST_PPTN_R", ("TM", "STCD"), True),
    "river": TableSpec("ST_RIVER_R", ("TM", "STCD"), True),
    "reservoir": TableSpec("ST_RSVR_R", ("TM", "STCD"), True),
    "river_thresholds": TableSpec("ST_RVFCCH_B", ("STCD",), False),
    "reservoir_flood_limits": TableSpec("ST_RSVRFSR_B", ("STCD", "BGMD"), False),
}
DATASETS = {d.name: d for d in (STATIONS, RAINFALL, RIVER, RESERVOIR, RIVER_THRESHOLDS, RESERVOIR_FLOOD_LIMITS)}
# Values SL 323 cannot hold: rain amounts and durations below zero, an empty period.
NON_NEGATIVE = {"rainfall": ("drp", "pdr", "dyp"), "reservoir": ("w",)}
POSITIVE = {"rainfall": ("intv",)}
MONTH_DAYS = {"reservoir_flood_limits": ("bgmd", "edmd")}
