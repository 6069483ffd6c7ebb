"""危险货物道路运输企业: the register, imported in one batch, then edited by hand.

Edits (fleet size, licence renewal) are entered one by one during office
hours, so they carry their own seconds; a revoked licence withdraws the record.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from standins.common.determinism import rng
from standins.transport.model import Entity, Resource, Version
from standins.transport.parties import Carrier, local_carriers
from standins.transport.stamps import to_second

RESOURCE = Resource(
    "hazmat/carriers",
    "credit_code",
    (
        "credit_code",
        "name",
        "licence_no",
        "licence_valid_to",
        "scope",
        "vehicle_count",
        "address",
        "division_code",
    ),
)
HORIZON = timedelta(days=400)


def fields_of(c: Carrier) -> dict[str, Any]:
    return {
        "credit_code": c.credit_code,
        "name": c.name,
        "licence_no": c.licence_no,
        "licence_valid_to": c.licence_valid_to.isoformat(),
        "scope": list(c.scope),
        "vehicle_count": c.vehicle_count,
        "address": c.address,
        "division_code": c.division_code,
    }


def office_time(r: Any, after: datetime, days: tuple[int, int]) -> datetime:
    """A moment during office hours (08:30–17:00) some days after ``after``."""
    day = after + timedelta(days=r.randint(*days))
    start = day.replace(hour=8, minute=30, second=0, microsecond=0)
    return to_second(start + timedelta(seconds=r.randint(0, 8 * 3600 + 1800)))


def generate_carriers(seed: int, scale: float, imported_at: datetime) -> list[Entity]:
    entities = []
    for i, carrier in enumerate(local_carriers(seed, scale, imported_at)):
        r = rng(seed, "carrier-life", i)
        current = fields_of(carrier)
        versions = [Version(to_second(imported_at), dict(current))]
        moment = imported_at
        for _ in range(r.randint(0, 3)):
            moment = office_time(r, moment, (5, 120))
            if moment > imported_at + HORIZON:
                break
            if r.random() < 0.6:
                fleet = max(1, current["vehicle_count"] + r.choice((-2, -1, 1, 2, 3, 5)))
                current = {**current, "vehicle_count": fleet}
            else:
                renewed = datetime.fromisoformat(current["licence_valid_to"]) + timedelta(days=4 * 365)
                current = {**current, "licence_valid_to": renewed.date().isoformat()}
            versions.append(Version(moment, dict(current)))
        if r.random() < 0.03:
            revoked = office_time(r, moment, (3, 60))
            versions.append(Version(revoked, dict(current), deleted=True))
        entities.append(Entity(carrier.credit_code, tuple(versions)))
    return entities
