"""Rainfall, river stage and reservoir series: pure functions of seed, station and time.

One storm episode crosses the county, the one the weather stand-in sees
(:mod:`standins.common.storm`: 12 hours from 14:00 of the day before "now", or
of two days before before 07:00): it centres over the 千山 foothills between
孤山 and 析木 (海城河's upper course), peaks five hours after it starts, and
its wettest gauge gets 26 mm in its peak hour, about 68 mm in 3 hours (the
orange rainstorm signal's criterion) and 137 mm in 12 (大暴雨, GB/T 28592-2012);
海城河 at 海城 rises above its warning stage (WRZ) and 岔沟水库 above the flood
limit that applies on that day (FSLTDZ). Outside the storm, an hour is wet with a small probability (0.2-3 mm).

Rain gauges report every 5-minute period (INTV 0.05), zeros included, with
the period's end as TM; the 08:00 row carries DYP, the rain of the 24 hours
ending then. River and reservoir stations report hourly. All times are naive
local time, as in the bureau's database.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from standins.common.determinism import gauss, unit
from standins.common.storm import (
    MONTHLY_PRECIP_MM,
    SNOW_MONTHS,
    STORM_CENTRE,
    STORM_HOURS,
    STORM_SHAPE,
    SUMMER,
    Episode,
    default_storm_start,
    storm_episode,
)
from standins.common.timefmt import CST, as_aware
from standins.water.network import Network, Station, discharge, distance_km, flood_limit, storage

SLOT = timedelta(minutes=5)
HOUR = timedelta(hours=1)
STORM_SIGMA_KM = 18.0
# The wettest gauge's peak hour (mm): 短时强降水 (≥ 20 mm), 3 hours ≥ 50 mm (the orange signal's
# criterion) and a 12-hour total of about 137 mm (大暴雨, GB/T 28592-2012) at the storm's centre.
HEAVY_HOUR_MM = 26.0
# Over the flagship stations' thresholds at the storm's peak (m).
RIVER_EXCESS = 0.42
RESERVOIR_EXCESS = 0.38


def floor_slot(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def d(value: float | None, places: int) -> Decimal | None:
    """Exact decimal as NUMERIC(p, places) stores it."""
    return None if value is None else Decimal(f"{value:.{places}f}")


@dataclass(frozen=True)
class Storm:
    start: datetime  # naive local, on the hour
    mm_at_centre: float
    mmdd: str  # the day whose flood limits the reservoirs are compared with
    episode: Episode = SUMMER  # what falls (standins.common.storm.storm_episode); mm_at_centre is scaled by it

    @property
    def rise(self) -> float:
        """How much of the summer storm's rise the rivers and reservoirs see: none from snow."""
        return self.episode.scale if self.episode.rises else 0.0

    @property
    def peak(self) -> datetime:
        return self.start + HOUR * STORM_SHAPE.index(1.0)


def storm_factor(g: Station) -> float:
    dist = distance_km(g.lgtd, g.lttd, *STORM_CENTRE)
    return math.exp(-0.5 * (dist / STORM_SIGMA_KM) ** 2)


def make_storm(net: Network, now: datetime, start: datetime | None = None, storm: str = "season") -> Storm:
    """The shared storm (``start``, aware, or :func:`standins.common.storm.default_storm_start` of ``now``).

    ``now`` is naive local time; the storm's start is stored the same way. ``storm`` "season" gives it
    the month's character (:func:`standins.common.storm.storm_episode`), "summer" forces the rainstorm.
    """
    strongest = max(storm_factor(g) for g in net.active_gauges)
    begins = as_aware(start) if start is not None else default_storm_start(as_aware(now))
    local_start = begins.astimezone(CST).replace(tzinfo=None)
    episode = storm_episode(begins, storm)
    return Storm(local_start, HEAVY_HOUR_MM / strongest * episode.scale, now.strftime("%m%d"), episode)


def heavy_gauge(net: Network) -> Station:
    return max(net.active_gauges, key=storm_factor)


# -- rainfall -----------------------------------------------------------------------------------------------------


def hour_total(seed: int, g: Station, hour: datetime, storm: Storm | None) -> float:
    total = 0.0
    if unit(seed, "wet-hour", g.stcd, hour.isoformat()) < 0.05:
        # Showers as wet as the month's climate allows (a few tenths of a millimetre in winter).
        wetness = min(1.0, MONTHLY_PRECIP_MM[hour.month] / 60)
        total += (0.2 + 2.8 * unit(seed, "wet-mm", g.stcd, hour.isoformat())) * wetness
    if storm is not None:
        k = int((hour - storm.start) / HOUR)
        if 0 <= k < len(STORM_SHAPE) and hour >= storm.start:
            total += storm.mm_at_centre * storm_factor(g) * STORM_SHAPE[k]
    return total


def hour_slots(seed: int, g: Station, hour: datetime, storm: Storm | None) -> list[float]:
    """The hour's rain in 12 five-minute periods, in 0.1 mm tips (the total is kept exactly)."""
    tips = round(hour_total(seed, g, hour, storm) * 10)
    if tips == 0:
        return [0.0] * 12
    weights = [unit(seed, "slot", g.stcd, hour.isoformat(), k) ** 3 + 0.01 for k in range(12)]
    raw = [tips * w / sum(weights) for w in weights]
    counts = [math.floor(x) for x in raw]
    by_remainder = sorted(range(12), key=lambda k: raw[k] - counts[k], reverse=True)
    for k in by_remainder[: tips - sum(counts)]:
        counts[k] += 1
    return [c / 10 for c in counts]


def rain_slots(
    seed: int, g: Station, first: datetime, last: datetime, storm: Storm | None
) -> Iterator[tuple[datetime, float]]:
    """(TM, DRP) for the 5-minute periods ending at ``first`` .. ``last`` inclusive."""
    hour = floor_hour(first - SLOT)
    while hour < last:
        for k, amount in enumerate(hour_slots(seed, g, hour, storm)):
            tm = hour + SLOT * (k + 1)
            if first <= tm <= last:
                yield tm, amount
        hour += HOUR


def weather_code(tm: datetime, storm: Storm | None) -> str:
    """WTH of a wet period ending at ``tm``: 5 snow in the snow months (and in a snow episode), else 7 rain."""
    hour = floor_hour(tm - SLOT)
    if storm is not None and storm.start <= hour < storm.start + HOUR * STORM_HOURS:
        return "5" if storm.episode.snow else "7"
    return "5" if hour.month in SNOW_MONTHS else "7"


def rain_row(g: Station, tm: datetime, drp: float, dyp: float | None, wth: str = "7") -> dict[str, object]:
    return {
        "STCD": g.stcd,
        "TM": tm,
        "DRP": d(drp, 1),
        "INTV": d(0.05, 2),
        "PDR": d(0.05 if drp > 0 else 0.0, 2),
        "DYP": d(dyp, 1),
        "WTH": wth if drp > 0 else "9",
    }


def rainfall_rows(seed: int, g: Station, first: datetime, last: datetime, storm: Storm | None) -> list[dict]:
    """Rows of one gauge; DYP on 08:00 rows from the model's previous 24 hours."""
    rows = []
    for tm, drp in rain_slots(seed, g, first, last, storm):
        dyp = None
        if tm.hour == 8 and tm.minute == 0:
            dyp = round(sum(a for _, a in rain_slots(seed, g, tm - timedelta(hours=24) + SLOT, tm, storm)), 1)
        rows.append(rain_row(g, tm, drp, dyp, weather_code(tm, storm)))
    return rows


# -- rivers -------------------------------------------------------------------------------------------------------


def response(hours: float, peak_after: float) -> float:
    """A unit hydrograph: 0 before the storm, 1 at ``peak_after`` hours, slow recession."""
    if hours <= 0:
        return 0.0
    x = hours / peak_after
    return x * x * math.exp(2 * (1 - x))


def _tendency(now: float, before: float | None) -> str:
    if before is None or abs(now - before) < 0.005:
        return "6"
    return "5" if now > before else "4"


def river_peak_after(s: Station) -> int:
    return 6 + round(10 * s.position)


def river_rise(s: Station, flagship: bool) -> float:
    p = s.params
    headroom = p["wrz"] - p["base"]
    return headroom + RIVER_EXCESS if flagship else headroom * (0.3 + 0.5 * p["share"])


def river_z(seed: int, s: Station, tm: datetime, storm: Storm, rise: float) -> float:
    hours = (tm - storm.start) / HOUR
    noise = 0.004 * gauss(seed, "z", s.stcd, tm.isoformat())
    return s.params["base"] + rise * response(hours, river_peak_after(s)) + noise


def river_row(s: Station, tm: datetime, z: float, before: float | None, peak: bool) -> dict[str, object]:
    return {
        "STCD": s.stcd,
        "TM": tm,
        "Z": d(z, 3),
        "Q": d(discharge(s, z), 3) if s.sttp == "ZQ" else None,
        "XSA": None,
        "XSAVV": None,
        "XSMXV": None,
        # Blank is "normal" in SL 323; a CHAR(1) blank comes back as " " or "" depending on the DBMS.
        "FLWCHRCD": "6" if peak else " ",
        "WPTN": _tendency(z, before),
        "MSQMT": None,
        "MSAMT": None,
        "MSVMT": None,
    }


def river_rows(seed: int, s: Station, first: datetime, last: datetime, storm: Storm, flagship: bool) -> list[dict]:
    rise = river_rise(s, flagship) * storm.rise
    peak = storm.start + HOUR * river_peak_after(s)
    rows, tm = [], first
    before = river_z(seed, s, tm - HOUR, storm, rise)
    while tm <= last:
        z = river_z(seed, s, tm, storm, rise)
        rows.append(river_row(s, tm, z, before, tm == peak))
        before, tm = z, tm + HOUR
    return rows


def river_recession(
    seed: int, s: Station, last_tm: datetime, last_z: float, base_z: float, until: datetime
) -> list[dict]:
    """Hours after ``last_tm`` up to ``until``: the stage falls back towards ``base_z``."""
    rows, tm, before, k = [], last_tm + HOUR, last_z, 1
    while tm <= until:
        z = base_z + (last_z - base_z) * 0.94**k + 0.004 * gauss(seed, "z", s.stcd, tm.isoformat())
        rows.append(river_row(s, tm, z, before, False))
        before, tm, k = z, tm + HOUR, k + 1
    return rows


# -- reservoirs ---------------------------------------------------------------------------------------------------


def reservoir_state(seed: int, s: Station, tm: datetime, storm: Storm, flagship: bool) -> dict[str, float]:
    p = s.params
    limit, _ = flood_limit(s, storm.mmdd)
    gap = 0.45 if flagship else p["gap"]
    rise = gap + RESERVOIR_EXCESS if flagship else gap * (0.3 + 0.4 * unit(seed, "rr-rise", s.stcd))
    rise *= storm.rise
    hours = (tm - storm.start) / HOUR
    filled = 1 - math.exp(-((max(hours, 0.0) / 10) ** 2))
    rz = limit - gap + rise * filled - 0.006 * max(0.0, hours - 20) + 0.002 * gauss(seed, "rz", s.stcd, tm.isoformat())
    inq = p["release"] * 0.9 + 40 * rise * response(hours, 5)
    otq = p["release"] * (4 if rz > limit else 1)
    return {"RZ": rz, "INQ": inq, "OTQ": otq, "BLRZ": p["dead"] - 6 + 0.3 * response(hours, 6)}


def reservoir_row(s: Station, tm: datetime, state: dict[str, float], before: float | None) -> dict[str, object]:
    return {
        "STCD": s.stcd,
        "TM": tm,
        "RZ": d(state["RZ"], 3),
        "INQ": d(state["INQ"], 3),
        "W": d(storage(s, state["RZ"]), 3),
        "BLRZ": d(state["BLRZ"], 3),
        "OTQ": d(state["OTQ"], 3),
        "RWCHRCD": " ",
        "RWPTN": _tendency(state["RZ"], before),
        "INQDR": d(1.0, 2),
        "MSQMT": None,
    }


def reservoir_rows(seed: int, s: Station, first: datetime, last: datetime, storm: Storm, flagship: bool) -> list[dict]:
    rows, tm = [], first
    before = reservoir_state(seed, s, tm - HOUR, storm, flagship)["RZ"]
    while tm <= last:
        state = reservoir_state(seed, s, tm, storm, flagship)
        rows.append(reservoir_row(s, tm, state, before))
        before, tm = state["RZ"], tm + HOUR
    return rows


def reservoir_recession(
    seed: int, s: Station, last_tm: datetime, last: dict[str, float], until: datetime
) -> list[dict]:
    """Hours after ``last_tm``: the bureau keeps releasing, the level falls slowly."""
    rows, tm, before, k = [], last_tm + HOUR, last["RZ"], 1
    while tm <= until:
        rz = last["RZ"] - 0.004 * k + 0.002 * gauss(seed, "rz", s.stcd, tm.isoformat())
        inq = max(s.params["release"] * 0.9, last["INQ"] * 0.9**k)
        state = {"RZ": rz, "INQ": inq, "OTQ": last["OTQ"], "BLRZ": last["BLRZ"]}
        rows.append(reservoir_row(s, tm, state, before))
        before, tm, k = rz, tm + HOUR, k + 1
    return rows
