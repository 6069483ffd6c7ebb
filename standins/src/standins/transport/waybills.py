"""危险货物电子运单: waybills created every hour, each with its whole life.

A waybill is 已派车 when issued, 运输中 once the tanker leaves, 已送达 on
arrival; some are 已取消 before departure, a few are withdrawn (deleted) as
entered by mistake, and a few get a corrected weight after delivery. Every
change reaches the bureau through the provincial platform's 10-minute sync, so
its ``updated_at`` is the sync's second, shared with every other change of
that sync. ``waybill_no`` starts with the issuing (origin) county's code.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from standins.common.determinism import rng
from standins.common.timefmt import CST, iso_cst
from standins.transport.model import Entity, Resource, Version
from standins.transport.parties import GOODS, SITES, Carrier, Goods, Site, consignor_code
from standins.transport.stamps import ceil_to, epoch, poisson

RESOURCE = Resource(
    "hazmat/waybills",
    "waybill_no",
    (
        "waybill_no",
        "carrier_credit_code",
        "consignor_credit_code",
        "plate_no",
        "goods_name",
        "un_no",
        "hazard_class",
        "weight_t",
        "origin_address",
        "origin_division_code",
        "destination_address",
        "destination_division_code",
        "depart_time",
        "arrive_time",
        "status",
    ),
)
SYNC_MINUTES = 10
# Waybills an hour at scale 1: busy in the day, a trickle at night (about 70 a day).
DAY_RATE, NIGHT_RATE = 4.5, 0.9


def _sync(moment: datetime) -> datetime:
    return ceil_to(moment, SYNC_MINUTES)


class WaybillFactory:
    def __init__(self, seed: int, scale: float, local: list[Carrier], outside: list[Carrier]) -> None:
        self.seed = seed
        self.scale = scale
        self.local = local
        self.outside = outside

    def in_hour(self, hour: datetime) -> list[Entity]:
        local_hour = hour.astimezone(CST)
        r = rng(self.seed, "waybills", epoch(hour))
        rate = DAY_RATE if 7 <= local_hour.hour < 19 else NIGHT_RATE
        entities = []
        for i in range(poisson(r, rate * self.scale)):
            created = hour + timedelta(seconds=r.randint(0, 3599))
            entities.append(self._waybill(rng(self.seed, "waybill", epoch(hour), i), local_hour, i, created))
        return entities

    def _route(self, r: Any, goods: Goods) -> tuple[Site, Site]:
        origins = [s for s in SITES if s.roles & goods.sources]
        destinations = [s for s in SITES if s.roles & goods.destinations]
        origin = r.choice(origins)
        choices = [s for s in destinations if s != origin] or destinations
        return origin, r.choice(choices)

    def _carrier(self, r: Any, goods: Goods, origin: Site) -> Carrier:
        pool = self.outside if not origin.inside and r.random() < 0.6 else self.local
        able = [c for c in pool if c.covers(goods.hazard_class)]
        able = able or [c for c in self.local if c.covers(goods.hazard_class)] or self.local
        return r.choice(able)

    def _waybill(self, r: Any, hour: datetime, i: int, created: datetime) -> Entity:
        goods = r.choices(GOODS, weights=[g.share for g in GOODS])[0]
        origin, destination = self._route(r, goods)
        carrier = self._carrier(r, goods, origin)
        number = f"YD{origin.division_code[:6]}{hour:%Y%m%d%H}{i:03d}"
        planned = created + timedelta(minutes=r.randint(20, 180))
        fields: dict[str, Any] = {
            "waybill_no": number,
            "carrier_credit_code": carrier.credit_code,
            "consignor_credit_code": consignor_code(self.seed, origin),
            "plate_no": r.choice(carrier.plates),
            "goods_name": goods.name,
            "un_no": goods.un_no,
            "hazard_class": goods.hazard_class,
            "weight_t": round(r.uniform(*goods.weight_t), 2),
            "origin_address": origin.address,
            "origin_division_code": origin.division_code,
            "destination_address": destination.address,
            "destination_division_code": destination.division_code,
            "depart_time": iso_cst(planned),
            "arrive_time": None,
            "status": "已派车",
        }
        return Entity(number, tuple(self._life(r, fields, created, planned, origin, destination)))

    def _life(
        self, r: Any, fields: dict[str, Any], created: datetime, planned: datetime, origin: Site, destination: Site
    ) -> list[Version]:
        versions = [Version(_sync(created), dict(fields))]
        roll = r.random()
        if roll < 0.01:
            versions.append(Version(_sync(created + timedelta(minutes=r.randint(5, 60))), dict(fields), deleted=True))
            return versions
        if roll < 0.05:
            cancelled = _sync(created + timedelta(minutes=r.randint(10, 90)))
            versions.append(Version(cancelled, {**fields, "status": "已取消"}))
            return versions
        departed = planned + timedelta(minutes=r.randint(-10, 40))
        moving = {**fields, "depart_time": iso_cst(departed), "status": "运输中"}
        versions.append(Version(_sync(departed), moving))
        local_trip = origin.inside and destination.inside
        arrived = departed + timedelta(minutes=r.randint(25, 90) if local_trip else r.randint(90, 300))
        done = {**moving, "arrive_time": iso_cst(arrived), "status": "已送达"}
        versions.append(Version(_sync(arrived), done))
        if r.random() < 0.03:
            corrected = {**done, "weight_t": round(done["weight_t"] * r.uniform(0.9, 1.02), 2)}
            versions.append(Version(_sync(arrived + timedelta(hours=r.randint(1, 12))), corrected))
        return versions
