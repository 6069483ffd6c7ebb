"""Who moves dangerous goods where: sites, goods, carriers and consignors.

Carriers served by ``/v2/hazmat/carriers`` are the ones the Haicheng bureau
licenses (道路运输经营许可证 issued in 海城市); waybills also name carriers
registered elsewhere (a Dalian tanker bringing petrol), which are not in that
register, as in real life. Credit codes carry correct GB 32100 check characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from standins.common.determinism import rng
from standins.transport.credit_code import CHARSET, make_credit_code
from standins.transport.geography import OUTSIDE, TOWN_BY_NAME


@dataclass(frozen=True)
class Site:
    name: str
    address: str
    division_code: str
    roles: frozenset[str]

    @property
    def inside(self) -> bool:
        return self.division_code.startswith("210381")


def _inside(name: str, town_name: str, street: str, roles: str) -> Site:
    return Site(name, f"海城市{town_name}{street}", TOWN_BY_NAME[town_name].code12, frozenset(roles.split()))


def _outside(name: str, code: str, street: str, roles: str) -> Site:
    return Site(name, f"辽宁省{OUTSIDE[code]}{street}", code, frozenset(roles.split()))


SITES: tuple[Site, ...] = (
    _inside("海城市油库", "兴海街道", "海油路18号", "fuel_depot"),
    _inside("海州加油站", "海州街道", "海州路96号", "fuel"),
    _inside("腾鳌加油站", "腾鳌镇", "鞍海路1201号", "fuel"),
    _inside("西柳加油站", "西柳镇", "西柳大街88号", "fuel"),
    _inside("感王加油站", "感王镇", "感王街32号", "fuel"),
    _inside("析木加油站", "析木镇", "析木街7号", "fuel"),
    _inside("牛庄加油站", "牛庄镇", "牛庄西街51号", "fuel"),
    _inside("东四液化气站", "东四街道", "东四路210号", "lpg"),
    _inside("南台液化气站", "南台镇", "南台工业街9号", "lpg"),
    _inside("海城市自来水公司净水厂", "响堂街道", "河北路2号", "water"),
    _inside("海城市中心医院", "海州街道", "站前街3号", "hospital"),
    _inside("牌楼镇菱镁矿区", "牌楼镇", "镁矿路1号", "mine magnesite"),
    _inside("八里镇镁制品工业园", "八里镇", "工业园区镁都路16号", "magnesite"),
    _inside("析木镇菱镁矿", "析木镇", "矿山路5号", "mine magnesite"),
    _inside("马风镇耐火材料厂", "马风镇", "耐火路22号", "magnesite"),
    _inside("孤山镇菱镁矿", "孤山镇", "孤山矿区3号", "mine"),
    _inside("腾鳌经济开发区化工园", "腾鳌镇", "开发区化工路6号", "chem"),
    _inside("西柳镇冷链物流园", "西柳镇", "物流大道12号", "ammonia"),
    _inside("感王镇食品冷库", "感王镇", "食品工业园2号", "ammonia"),
    _outside("甘井子石化油品库", "210211000000", "石化路1号", "fuel_src chem_src"),
    _outside("鲅鱼圈港液化烃码头", "210804000000", "港区临港路8号", "lpg_src lng_src fuel_src"),
    _outside("铁西焦化厂", "210303000000", "焦化路15号", "acid_src ammonia_src"),
    _outside("立山化工园", "210304000000", "化工园区创业路4号", "chem_src"),
    _outside("白塔化工物流园", "211002000000", "物流园区南路2号", "chem_src lpg_src"),
    _outside("大石桥民爆器材库", "210882000000", "虎庄镇库区1号", "explosive_src magnesite"),
    _outside("盖州工业气体厂", "210881000000", "工业路30号", "gas_src"),
    _outside("沈阳铁西工业气体厂", "210106000000", "北四西路12号", "gas_src"),
    _outside("台安加油站", "210321000000", "台安镇中心街40号", "fuel"),
    _outside("岫岩液化气站", "210323000000", "岫岩镇北环路6号", "lpg"),
    _outside("铁东区加油站", "210302000000", "胜利南路77号", "fuel"),
)


@dataclass(frozen=True)
class Goods:
    un_no: str
    name: str
    hazard_class: str
    weight_t: tuple[float, float]
    sources: frozenset[str]
    destinations: frozenset[str]
    share: float


def _goods(un: str, name: str, cls: str, weight: tuple[float, float], src: str, dst: str, share: float) -> Goods:
    return Goods(un, name, cls, weight, frozenset(src.split()), frozenset(dst.split()), share)


GOODS: tuple[Goods, ...] = (
    _goods("1203", "汽油", "3", (18, 32), "fuel_src fuel_depot", "fuel", 20),
    _goods("1202", "柴油", "3", (18, 32), "fuel_src fuel_depot", "fuel magnesite mine", 18),
    _goods("1075", "液化石油气", "2.1", (10, 25), "lpg_src", "lpg", 10),
    _goods("1972", "液化天然气", "2.1", (15, 22), "lng_src", "magnesite lpg", 6),
    _goods("1005", "液氨", "2.3", (8, 20), "ammonia_src", "ammonia", 4),
    _goods("1830", "硫酸", "8", (20, 32), "acid_src", "magnesite", 8),
    _goods("1789", "盐酸", "8", (15, 28), "chem_src", "chem water", 4),
    _goods("1824", "氢氧化钠溶液", "8", (15, 30), "chem_src", "chem water", 3),
    _goods("1791", "次氯酸钠溶液", "8", (5, 15), "chem_src", "water", 3),
    _goods("1230", "甲醇", "3", (15, 30), "chem_src", "chem", 3),
    _goods("1593", "二氯甲烷", "6.1", (10, 25), "chem_src", "chem", 1),
    _goods("0081", "A型爆破用炸药", "1.1", (2, 8), "explosive_src", "mine", 3),
    _goods("1942", "硝酸铵", "5.1", (10, 30), "chem_src", "mine", 2),
    _goods("1073", "液氧", "2.2", (8, 20), "gas_src", "hospital magnesite", 3),
    _goods("1977", "液氮", "2.2", (8, 20), "gas_src", "chem ammonia", 2),
    _goods("1402", "电石", "4.3", (20, 30), "chem_src", "chem", 1),
    _goods("1350", "硫磺", "4.1", (20, 32), "chem_src", "chem", 1),
    _goods("3077", "对环境有害的固态物质，未另作规定的", "9", (10, 30), "chem_src", "chem", 1),
)

# (name part, scope): every class above is covered by some scope.
_SCOPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("石油运输", ("2.1", "3")),
    ("油品运输", ("3",)),
    ("液化气运输", ("2.1",)),
    ("气体运输", ("2.1", "2.2", "2.3")),
    ("化工物流", ("8",)),
    ("危险货物运输", ("3", "6.1", "8", "9")),
    ("民爆物品运输", ("1.1", "1.5", "5.1")),
    ("工业气体运输", ("2.2",)),
    ("化工运输", ("4.1", "4.3", "5.1", "9")),
    ("危险品物流", ("2.1", "2.2", "3", "8")),
)
_WORDS = (
    "鑫达",
    "顺通",
    "安泰",
    "恒运",
    "宏远",
    "金港",
    "通达",
    "瑞丰",
    "佳运",
    "华盛",
    "凯达",
    "广源",
    "鼎盛",
    "聚源",
    "昌盛",
    "永安",
    "利民",
    "泰和",
    "汇通",
    "腾达",
    "镁都",
    "辽南",
    "海运",
    "东盛",
)
_STREETS = ("工业路", "建设路", "站前路", "开发区大道", "鞍海路", "环城路", "物流园路", "振兴路")
# Registered outside Haicheng: (6-digit area, plate prefix, city in the name).
_OUTSIDE_CARRIER_AREAS = (
    ("210211", "辽B", "大连"),
    ("210804", "辽H", "营口"),
    ("210302", "辽C", "鞍山"),
    ("211002", "辽K", "辽阳"),
    ("210106", "辽A", "沈阳"),
)
CARRIERS_AT_SCALE_1 = 36
OUTSIDE_CARRIERS = 15


@dataclass(frozen=True)
class Carrier:
    credit_code: str
    name: str
    licence_no: str
    licence_valid_to: date
    scope: tuple[str, ...]
    vehicle_count: int
    address: str
    division_code: str
    plates: tuple[str, ...]
    registered_here: bool

    def covers(self, hazard_class: str) -> bool:
        return hazard_class in self.scope


def _plates(seed: int, code: str, prefix: str, count: int) -> tuple[str, ...]:
    r = rng(seed, "plates", code)
    letters = [c for c in CHARSET if c.isalpha()]
    plates = []
    for _ in range(count):
        tail = "".join(r.choice("0123456789") for _ in range(5))
        if r.random() < 0.3:
            tail = r.choice(letters) + tail[1:]
        plates.append(prefix + tail)
    return tuple(plates)


def carrier_count(scale: float) -> int:
    return max(3, round(CARRIERS_AT_SCALE_1 * scale))


def local_carriers(seed: int, scale: float, imported_at: datetime) -> list[Carrier]:
    """The carriers licensed in Haicheng (the ``/v2/hazmat/carriers`` register)."""
    towns = sorted(TOWN_BY_NAME)
    carriers = []
    for i in range(carrier_count(scale)):
        r = rng(seed, "carrier", i)
        kind, scope = _SCOPES[i % len(_SCOPES)]
        code = make_credit_code(r, "210381")
        town_name = r.choice(towns)
        expired = r.random() < 0.08
        valid_to = imported_at.date() + timedelta(days=r.randint(-200, -10) if expired else r.randint(30, 1500))
        vehicles = r.randint(3, 60)
        carriers.append(
            Carrier(
                credit_code=code,
                name=f"海城市{_WORDS[(i * 7) % len(_WORDS)]}{kind}有限公司",
                licence_no=f"辽交运管许可鞍字210381{r.randint(0, 999999):06d}号",
                licence_valid_to=valid_to,
                scope=scope,
                vehicle_count=vehicles,
                address=f"海城市{town_name}{r.choice(_STREETS)}{r.randint(1, 300)}号",
                division_code=TOWN_BY_NAME[town_name].code12,
                plates=_plates(seed, code, "辽C", vehicles),
                registered_here=True,
            )
        )
    return carriers


def outside_carriers(seed: int) -> list[Carrier]:
    carriers = []
    for i in range(OUTSIDE_CARRIERS):
        r = rng(seed, "outside-carrier", i)
        area, prefix, city = _OUTSIDE_CARRIER_AREAS[i % len(_OUTSIDE_CARRIER_AREAS)]
        kind, scope = _SCOPES[(i * 3) % len(_SCOPES)]
        code = make_credit_code(r, area)
        vehicles = r.randint(10, 80)
        carriers.append(
            Carrier(
                code,
                f"{city}{_WORDS[(i * 5 + 3) % len(_WORDS)]}{kind}有限公司",
                "",
                date(2028, 12, 31),
                scope,
                vehicles,
                "",
                area + "000000",
                _plates(seed, code, prefix, vehicles),
                registered_here=False,
            )
        )
    return carriers


def consignor_code(seed: int, site: Site) -> str:
    """The company shipping from ``site`` (registered where the site is)."""
    return make_credit_code(rng(seed, "consignor", site.name), site.division_code[:6])
