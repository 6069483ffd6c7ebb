"""What the fault switches do to records: malformed values and schema drift.

A malformed record stays malformed when read again (decided per record
version, not per request), as in real feeds. Drift renames one required
field of one resource (the field disappears, a new one appears) or adds a
new field to every resource.
"""

from __future__ import annotations

from typing import Any

from standins.common.determinism import rng, unit

# resource -> ways a record arrives broken: (field, bad value)
_MALFORMED: dict[str, tuple[tuple[str, Any], ...]] = {
    "road-events": (("lon", "122,7531"), ("event_id", None), ("lat", 4085.6), ("start_time", "2026-13-01 25:00")),
    "bridges": (("lon", "东经122.75°"), ("bridge_code", None), ("tech_grade", "三类"), ("built_year", "199O")),
    "hazmat/carriers": (("credit_code", None), ("vehicle_count", "十二"), ("licence_valid_to", "2027-02-30")),
    "hazmat/waybills": (("waybill_no", None), ("weight_t", "32吨"), ("depart_time", "昨天下午"), ("un_no", "12O3")),
}
# resource -> (required field that disappears, the name it reappears under)
DRIFT_RENAMES: dict[str, tuple[str, str]] = {
    "road-events": ("road_code", "route_code"),
    "bridges": ("name", "bridge_name"),
    "hazmat/carriers": ("name", "enterprise_name"),
    "hazmat/waybills": ("un_no", "un_number"),
}
# resource -> a field the bureau starts sending one day
NEW_FIELDS: dict[str, tuple[str, Any]] = {
    "road-events": ("lane", "第二车道"),
    "bridges": ("load_limit_t", 55),
    "hazmat/carriers": ("credit_rating", "AA"),
    "hazmat/waybills": ("tank_volume_m3", 30.5),
}


def is_malformed(seed: int, resource: str, key: str, stamp: str, rate: float) -> bool:
    return rate > 0 and unit(seed, "malformed", resource, key, stamp) < rate


def malform(seed: int, resource: str, key: str, stamp: str, record: dict[str, Any]) -> dict[str, Any]:
    field, value = rng(seed, "malform-how", resource, key, stamp).choice(_MALFORMED[resource])
    return {**record, field: value}


def drift(resource: str, record: dict[str, Any], *, rename: bool, add: bool) -> dict[str, Any]:
    out = dict(record)
    if rename:
        old, new = DRIFT_RENAMES[resource]
        out[new] = out.pop(old, None)
    if add:
        name, value = NEW_FIELDS[resource]
        out[name] = value
    return out
