"""The weather and water stand-ins see one storm: the same hours over the same place (standins.common.storm)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from standins.common.storm import STORM_CENTRE, STORM_HOURS, STORM_PEAK_HOUR, default_storm_start, storm_share
from standins.common.timefmt import CST
from standins.water.network import build_network, counts_for_scale, distance_km
from standins.water.series import hour_total
from standins.water.series import make_storm as water_storm
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
