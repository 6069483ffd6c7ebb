"""The weather and water stand-ins see one storm: the same hours over the same place (standins.common.storm)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from standins.common.storm import STORM_CENTRE, STORM_HOURS, STORM_PEAK_HOUR, default_storm_start, storm_share
from standins.common.timefmt import CST
from standins.water.network import build_network, counts_for_scale, distance_km
from standins.water.series import hour_total, rainfall_rows, river_peak_after, river_rise, river_z
from standins.water.series import make_storm as water_storm
from standins.weather.cap_scenario import episode
from standins.weather.climate import hourly_values
from standins.weather.stations import generate_stations
from standins.weather.storm import make_storm as weather_storm

SEED = 42
# A July afternoon: the storm of the day before, in the flood season.
NOW = datetime(2026, 7, 29, 10, 30, tzinfo=CST)


@pytest.fixture(scope="module")
def storms():
    stations = generate_stations(SEED, 1.0)
    net = build_network(SEED, counts_for_scale(1.0))
    start = default_storm_start(NOW)
    return stations, net, weather_storm(SEED, stations, start), water_storm(net, NOW.replace(tzinfo=None))


def test_both_stand_ins_place_the_storm_at_the_same_hours(storms) -> None:
    _, _, weather, water = storms
    assert weather.start == datetime(2026, 7, 28, 14, tzinfo=CST)
    assert water.start == weather.start.replace(tzinfo=None)  # the bureau's naive local clock
    assert water.peak == weather.start.replace(tzinfo=None) + timedelta(hours=STORM_PEAK_HOUR)
    shares = [storm_share(weather.start, weather.start + timedelta(hours=k)) for k in range(-2, STORM_HOURS + 2)]
    assert shares[:2] == [0.0, 0.0] and shares[-2:] == [0.0, 0.0] and max(shares) == shares[2 + STORM_PEAK_HOUR]


def test_both_stand_ins_rain_hardest_in_the_same_hour_near_the_same_place(storms) -> None:
    _, net, weather, water = storms
    assert distance_km(weather.center_lon, weather.center_lat, *STORM_CENTRE) < 15
    gauge = min(net.active_gauges, key=lambda g: distance_km(g.lgtd, g.lttd, *STORM_CENTRE))
    hours = [water.start + timedelta(hours=k) for k in range(-3, STORM_HOURS + 3)]
    gauge_rain = [hour_total(SEED, gauge, h, water) for h in hours]
    assert hours[gauge_rain.index(max(gauge_rain))] == water.peak
    centre = next(s for s in generate_stations(SEED, 1.0) if (s.lon, s.lat) == (weather.center_lon, weather.center_lat))
    station_rain = [hourly_values(SEED, centre, h.replace(tzinfo=CST), weather)["precip_1h_mm"] for h in hours]
    assert hours[station_rain.index(max(station_rain))] == water.peak
    # Before and after the storm both see only background rain.
    assert max(gauge_rain[:3] + gauge_rain[-3:]) < 5 and max(station_rain[:3] + station_rain[-3:]) < 10


# -- the season: a December sandbox snows a little; the summer storm only when forced ---------------------------

DECEMBER = datetime(2026, 12, 6, 21, 30, tzinfo=CST)


def _rolling(values: list[float], width: int) -> float:
    return max(sum(values[i : i + width]) for i in range(len(values) - width + 1))


@pytest.fixture(scope="module")
def december():
    stations = [s for s in generate_stations(SEED, 1.0) if s.active]
    net = build_network(SEED, counts_for_scale(1.0))
    start = default_storm_start(DECEMBER)
    hours = [start + timedelta(hours=k) for k in range(-12, STORM_HOURS + 12)]
    return stations, net, start, hours


def test_a_december_storm_is_light_snow_in_both_stand_ins_at_the_same_hours(december) -> None:
    stations, net, start, hours = december
    weather = weather_storm(SEED, stations, start)
    water = water_storm(net, DECEMBER.replace(tzinfo=None), start)
    assert weather.episode.snow and water.episode.snow
    assert water.start == start.replace(tzinfo=None)
    station_rain = {s.station_id: [hourly_values(SEED, s, h, weather)["precip_1h_mm"] for h in hours] for s in stations}
    gauge_rain = {
        g.stcd: [hour_total(SEED, g, h.replace(tzinfo=None), water) for h in hours] for g in net.active_gauges
    }
    for series in (*station_rain.values(), *gauge_rain.values()):
        assert max(series) < 20  # no 短时强降水 hour
        assert _rolling(series, 12) < 30  # no 12-hour 暴雨 (GB/T 28592-2012: 30 mm in 12 h)
    # ...yet the episode is there, a snowfall of some millimetres at the centre, in the storm's hours.
    centre = next(s for s in stations if (s.lon, s.lat) == (weather.center_lon, weather.center_lat))
    gauge = max(net.active_gauges, key=lambda g: sum(gauge_rain[g.stcd][12 : 12 + STORM_HOURS]))
    in_storm = slice(12, 12 + STORM_HOURS)
    assert 4 <= sum(station_rain[centre.station_id][in_storm]) <= 12
    assert 4 <= sum(gauge_rain[gauge.stcd][in_storm]) <= 12
    # Both see it in the same 12 hours: more than in the 12 hours before or after.
    for series in (station_rain[centre.station_id], gauge_rain[gauge.stcd]):
        assert sum(series[in_storm]) > max(sum(series[:12]), sum(series[12 + STORM_HOURS :]))
    # Snow, and cold enough for it at the centre during the storm.
    assert max(hourly_values(SEED, centre, h, weather)["temp_c"] for h in hours[in_storm]) < 2
    wet = [r for r in rainfall_rows(SEED, gauge, water.start, water.start + timedelta(hours=STORM_HOURS), water)]
    assert {r["WTH"] for r in wet if r["DRP"] > 0} == {"5"}


def test_a_december_storm_does_not_raise_rivers_or_reservoirs(december) -> None:
    _, net, start, _ = december
    water = water_storm(net, DECEMBER.replace(tzinfo=None), start)
    summer = water_storm(net, DECEMBER.replace(tzinfo=None), start, "summer")
    for s in net.rivers:
        peak = water.start + timedelta(hours=river_peak_after(s))
        base = river_z(SEED, s, water.start - timedelta(hours=1), water, river_rise(s, True) * water.rise)
        assert abs(river_z(SEED, s, peak, water, river_rise(s, True) * water.rise) - base) < 0.05
        assert river_z(SEED, s, peak, summer, river_rise(s, True) * summer.rise) - base > 0.1


def test_the_summer_storm_can_be_forced_in_december(december) -> None:
    stations, net, start, hours = december
    weather = weather_storm(SEED, stations, start, "summer")
    water = water_storm(net, DECEMBER.replace(tzinfo=None), start, "summer")
    assert weather.episode.rainstorm and water.episode.rainstorm
    gauge = max(net.active_gauges, key=lambda g: hour_total(SEED, g, water.peak, water))
    rain = [hour_total(SEED, gauge, h.replace(tzinfo=None), water) for h in hours]
    assert _rolling(rain, 3) >= 50  # the orange rainstorm signal's criterion, as in July
    assert {w.signal for w in episode(start - timedelta(hours=1), "summer")} >= {"暴雨"}
    assert "暴雨" not in {w.signal for w in episode(start - timedelta(hours=1))}
    assert {w.signal for w in episode(start - timedelta(hours=1))} >= {"暴雪", "大风", "寒潮", "道路结冰"}
