"""Plausible hourly weather for a station and hour in 海城市.

Climatology: annual mean about 9 °C, January about -8 °C, July about 25 °C, a
daily cycle peaking mid-afternoon, north-westerly winter and southerly summer
winds. Region-wide "synoptic" anomalies are smooth value noise shared by all
stations, so neighbouring stations and hours look alike.
"""

from __future__ import annotations

import math
import random
from datetime import datetime
from functools import lru_cache

from standins.common.determinism import gauss, rng, unit
from standins.common.timefmt import CST
from standins.weather.stations import Station
from standins.weather.storm import Storm


@lru_cache(maxsize=65536)
def _knot(seed: int, name: str, k: int) -> float:
    return gauss(seed, "knot", name, k)


def smooth_noise(seed: int, name: str, t_hours: float, period_hours: float) -> float:
    """Standard-normal-ish value noise, cosine-interpolated between knots."""
    position = t_hours / period_hours
    k = math.floor(position)
    w = (1 - math.cos(math.pi * (position - k))) / 2
    return (1 - w) * _knot(seed, name, k) + w * _knot(seed, name, k + 1)


def hourly_values(seed: int, station: Station, hour: datetime, storm: Storm) -> dict[str, float]:
    """Unrounded values for the eight measured fields of one station-hour."""
    local = hour.astimezone(CST)
    h = local.hour
    # +1 in mid-January, -1 in mid-July.
    season = math.cos(2 * math.pi * (local.timetuple().tm_yday - 15) / 365.25)
    t = hour.timestamp() / 3600
    r = rng(seed, "obs", station.station_id, int(t))
    diurnal = math.cos(2 * math.pi * (h - 15) / 24)
    env = storm.envelope(hour)
    rain_core = storm.rain_core(station)
    wind_core = storm.wind_core(station)
    snow = storm.episode.snow

    temp = (
        9.0
        - 16.5 * season
        # Storm cloud damps the daily cycle; the storm arrives with mild, moist air.
        + 5.0 * diurnal * (1 - 0.7 * env)
        + 3.5 * smooth_noise(seed, "temp", t, 12)
        - 0.0065 * station.altitude_m
        + 0.6 * gauss(seed, "temp-bias", station.station_id)
        + r.gauss(0, 0.3)
        # Rain comes with mild, moist air; snow with the cold air behind it.
        + (-2.0 if snow else 5.0) * env
    )

    precip = _background_precip(seed, t, season, r)
    if env > 0:
        # 20–26 mm in the peak hour at the core: 3 hours ≥ 50 mm (orange signal criterion) and 12 hours
        # of about 106–137 mm (大暴雨, GB/T 28592-2012), the water stand-in's storm.
        # Out of the rainy season the same hours carry the month's episode: the amounts times its scale
        # (a snowfall of 5–10 mm water equivalent in 12 hours in winter), as in the water stand-in.
        peak = 20.0 + 6.0 * unit(seed, "storm-peak", station.station_id)
        precip = max(precip, env * (2.0 + rain_core * peak) * storm.episode.scale * r.uniform(0.93, 1.0))

    wind = (2.3 + 0.9 * diurnal + 1.2 * smooth_noise(seed, "wind", t, 8) + r.gauss(0, 0.5)) * station.exposure
    wind = max(0.3, wind)
    gust = wind * r.uniform(1.4, 2.0) + 0.3
    storm_gust = env * (6.0 + 16.0 * wind_core) * r.uniform(0.95, 1.05)
    if storm_gust > gust:
        gust = storm_gust
        wind = max(wind, storm_gust / r.uniform(1.5, 1.8))

    prevailing = 320.0 if season > 0 else 200.0
    direction = prevailing + 60 * smooth_noise(seed, "dir", t, 10) + r.gauss(0, 20)
    if env > 0.2:
        direction = 110 + r.gauss(0, 25)

    rh = 62 - 14 * diurnal + 8 * smooth_noise(seed, "rh", t, 12) + r.gauss(0, 3)
    if precip > 0:
        rh = max(rh, r.uniform(86, 99))
    rh = min(100.0, max(12.0, rh))

    visibility = _visibility(precip, rh, h, r, snow=snow and env > 0)

    pressure = (
        1013.0
        + 9.0 * season
        + 6.0 * smooth_noise(seed, "pressure", t, 24)
        + 0.8 * math.cos(4 * math.pi * (h - 10) / 24)
        - 9.0 * env * wind_core
        - station.altitude_m / 8.3
        + r.gauss(0, 0.2)
    )

    return {
        "temp_c": temp,
        "precip_1h_mm": precip,
        "wind_speed_ms": wind,
        "wind_gust_ms": gust,
        "wind_dir_deg": direction % 360,
        "rh_pct": rh,
        "visibility_m": visibility,
        "pressure_hpa": pressure,
    }


def _background_precip(seed: int, t: float, season: float, r: random.Random) -> float:
    # Rain comes in region-wide 6-hour spells, more often and heavier in summer.
    block = math.floor(t / 6)
    summer = (1 - season) / 2
    if unit(seed, "wet", block) >= 0.08 + 0.14 * summer:
        return 0.0
    intensity = (0.3 + 2.2 * unit(seed, "wet-intensity", block)) * (0.5 + 1.5 * summer)
    if r.random() > 0.65:
        return 0.0
    amount = r.expovariate(1 / intensity)
    return amount if amount >= 0.05 else 0.0


def _visibility(precip: float, rh: float, hour: int, r: random.Random, *, snow: bool = False) -> float:
    uniform = r.uniform
    if snow and precip >= 0.5:
        return uniform(800, 3000)  # falling snow
    if precip >= 20:
        return uniform(150, 480)
    if precip >= 10:
        return uniform(600, 2000)
    if precip > 0:
        return uniform(2000, 9000)
    if rh >= 93 and 4 <= hour <= 9:
        return uniform(300, 1500)  # radiation fog around dawn
    return min(30000.0, max(3000.0, 26000 - 220 * (rh - 40) + uniform(-2000, 2000)))
