"""Observation rows as the bureau publishes them, computed on demand.

A row for (station, hour) is fixed by the seed except for what depends on the
clock: it exists once it is published (a few minutes after its hour), and a
late correction replaces it once the correction time has passed. So the same
query asked later can return a newer version of a row, as the contract says.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from standins.common.determinism import rng, unit
from standins.common.timefmt import ceil_hour, floor_hour, iso_cst
from standins.weather.climate import hourly_values
from standins.weather.stations import Station
from standins.weather.storm import Storm

MISSING = 999999

NUMERIC_FIELDS = (
    "temp_c",
    "precip_1h_mm",
    "wind_speed_ms",
    "wind_gust_ms",
    "wind_dir_deg",
    "rh_pct",
    "visibility_m",
    "pressure_hpa",
)
_DECIMALS = {
    "temp_c": 1,
    "precip_1h_mm": 1,
    "wind_speed_ms": 1,
    "wind_gust_ms": 1,
    "wind_dir_deg": None,
    "rh_pct": None,
    "visibility_m": -1,
    "pressure_hpa": 1,
}

# Shares, tuned so that about 1% of individual values are missing.
ABSENT_ROW_SHARE = 0.004
ALL_MISSING_SHARE = 0.003
SOME_MISSING_SHARE = 0.03
SUSPECT_SHARE = 0.015
WRONG_SHARE = 0.003
CORRECTION_SHARE = 0.03

# Key of a row in the published order: (obs_time in UTC, station_id).
RowKey = tuple[datetime, str]


@dataclass(frozen=True)
class Observation:
    key: RowKey
    row: dict[str, object]


class ObservationSource:
    def __init__(self, seed: int, stations: list[Station], storm: Storm) -> None:
        self.seed = seed
        self.storm = storm
        self.active = sorted((s for s in stations if s.active), key=lambda s: s.station_id)

    def published_at(self, station: Station, hour: datetime) -> datetime:
        lag = 120 + int(unit(self.seed, "publish-lag", station.station_id, _epoch(hour)) * 420)
        return hour + timedelta(seconds=lag)

    def correction_at(self, station: Station, hour: datetime) -> datetime | None:
        """When this row is re-issued (1 to 6 hours after its hour), if ever."""
        ident = (self.seed, station.station_id, _epoch(hour))
        if unit(*ident, "correction") >= CORRECTION_SHARE:
            return None
        minutes = 60 + int(unit(*ident, "correction-delay") * 300)
        return hour + timedelta(minutes=minutes)

    def row(self, station: Station, hour: datetime, now: datetime) -> dict[str, object] | None:
        """The row as visible at ``now``, or ``None`` if not (yet) published."""
        ident = (self.seed, station.station_id, _epoch(hour))
        if unit(*ident, "absent") < ABSENT_ROW_SHARE:
            return None
        published = self.published_at(station, hour)
        if now < published:
            return None
        true_values = {
            name: _round(name, value) for name, value in hourly_values(self.seed, station, hour, self.storm).items()
        }
        values = dict(true_values)
        qc = _qc(ident)
        missing = _missing_fields(ident)
        for name in missing:
            values[name] = MISSING
        if missing:
            qc = 9
        updated = published
        corrected = self.correction_at(station, hour)
        if corrected is not None and now >= corrected:
            values, qc = _corrected(ident, true_values, qc)
            updated = corrected
        return {
            "station_id": station.station_id,
            "obs_time": iso_cst(hour),
            **values,
            "qc": qc,
            "updated_at": iso_cst(updated),
        }

    def scan(self, start: datetime, end: datetime, now: datetime, after: RowKey | None) -> Iterator[Observation]:
        """Rows with ``start <= obs_time < end`` visible at ``now``, in published order."""
        hour = ceil_hour(start.astimezone(UTC))
        if after is not None and after[0] > hour:
            hour = after[0]
        last = floor_hour(now.astimezone(UTC))
        while hour < end and hour <= last:
            for station in self.active:
                key = (hour, station.station_id)
                if after is not None and key <= after:
                    continue
                row = self.row(station, hour, now)
                if row is not None:
                    yield Observation(key, row)
            hour += timedelta(hours=1)


def _epoch(hour: datetime) -> int:
    return int(hour.timestamp())


def _round(name: str, value: float) -> float | int:
    decimals = _DECIMALS[name]
    if decimals is None:
        whole = round(value)
        return whole % 360 if name == "wind_dir_deg" else whole
    if decimals < 0:
        return round(round(value, decimals))
    return round(value, decimals)


def _qc(ident: tuple[object, ...]) -> int:
    u = unit(*ident, "qc")
    if u < WRONG_SHARE:
        return 2
    if u < WRONG_SHARE + SUSPECT_SHARE:
        return 1
    return 0


def _missing_fields(ident: tuple[object, ...]) -> list[str]:
    u = unit(*ident, "missing")
    if u < ALL_MISSING_SHARE:
        return list(NUMERIC_FIELDS)
    if u < ALL_MISSING_SHARE + SOME_MISSING_SHARE:
        r = rng(*ident, "missing-fields")
        return sorted(r.sample(NUMERIC_FIELDS, r.randint(1, 4)), key=NUMERIC_FIELDS.index)
    return []


def _corrected(
    ident: tuple[object, ...], true_values: dict[str, float | int], qc: int
) -> tuple[dict[str, float | int], int]:
    """A re-issue: missing values filled in, others nudged, suspect flags resolved."""
    r = rng(*ident, "correction-values")
    fixed = dict(true_values)
    fixed["temp_c"] = round(float(fixed["temp_c"]) + r.choice((-1, 1)) * r.randint(1, 6) / 10, 1)
    fixed["pressure_hpa"] = round(float(fixed["pressure_hpa"]) + r.choice((-1, 1)) * r.randint(1, 4) / 10, 1)
    if float(fixed["precip_1h_mm"]) > 0:
        fixed["precip_1h_mm"] = round(float(fixed["precip_1h_mm"]) * r.uniform(0.9, 1.1), 1)
    rh = int(fixed["rh_pct"]) + r.choice((-2, -1, 1, 2))
    fixed["rh_pct"] = min(100, max(1, rh))
    return fixed, 0 if qc in (1, 9) else qc
