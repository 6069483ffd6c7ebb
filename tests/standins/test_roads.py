"""One road table for every stand-in (standins.common.roads): the same road
runs through the same towns at the same kilometre posts in the police
accident places, the transport bureau's roads and the weather advice."""

from __future__ import annotations

import random
import re

from standins.common.roads import ROAD_BY_CODE, ROADS
from standins.police import places
from standins.transport import geography
from standins.weather.geography import TOWNS

TOWN_NAMES = {t.name for t in TOWNS}


def test_the_road_table_names_real_roads_right() -> None:
    assert "G1" not in ROAD_BY_CODE  # G1 京哈高速 does not pass 海城
    assert (ROAD_BY_CODE["G15"].name, ROAD_BY_CODE["G16"].name) == ("沈海高速", "丹锡高速")
    assert ROAD_BY_CODE["G202"].name == "黑大线"
    for road in ROADS:
        assert set(road.towns) <= TOWN_NAMES and len(road.towns) >= 2, road.code
        assert road.km_from < road.km_to
        assert road.address_name.startswith(road.code)
    # G15 and G16 meet at 海城: they share a town.
    assert set(ROAD_BY_CODE["G15"].towns) & set(ROAD_BY_CODE["G16"].towns)


def test_town_at_follows_the_towns_in_order() -> None:
    g15 = ROAD_BY_CODE["G15"]
    assert g15.town_at(g15.km_from) == g15.towns[0]
    assert g15.town_at(g15.km_to) == g15.towns[-1]
    seen = [g15.town_at(km) for km in range(int(g15.km_from), int(g15.km_to) + 1)]
    assert [t for i, t in enumerate(seen) if i == 0 or seen[i - 1] != t] == list(g15.towns)


def test_police_and_transport_use_the_same_roads() -> None:
    short = {t.name: t.short_name for t in TOWNS}
    for road in places.ROADS:
        line = ROAD_BY_CODE[road.code]
        assert road.name == line.address_name and road.km == line.km
        assert road.towns == tuple(short[t] for t in line.towns)
    for road in geography.ROADS:
        line = ROAD_BY_CODE[road.code]
        assert (road.name, road.km_from, road.km_to, road.towns) == (line.name, line.km_from, line.km_to, line.towns)
    assert {r.code for r in places.ROADS} & {r.code for r in geography.ROADS} >= {"G15", "S321", "X052"}


def test_a_place_on_a_road_lies_in_the_town_at_its_kilometre_post() -> None:
    by_code = {t.code12: t.name for t in TOWNS}
    r = random.Random(7)
    for _ in range(300):
        road, town, place = places.road_place(r)
        km = int(re.search(r"K(\d+)\+", place).group(1))  # type: ignore[union-attr]
        assert place.startswith(road.name) and town.name == ROAD_BY_CODE[road.code].town_at(km)
    for road in geography.ROADS:
        for km in (road.km_from, (road.km_from + road.km_to) / 2, road.km_to - 0.1):
            *_, division = road.locate(km)
            assert by_code[division] == ROAD_BY_CODE[road.code].town_at(km)
