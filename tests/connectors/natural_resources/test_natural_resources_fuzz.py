"""Hostile WFS GeoJSON features (hypothesis): bad geometry, wrong types, missing properties, out of range.

Given a recorded hazard-point or mining-right page with features mutated by hypothesis, when the page is
taken apart as the connector does (pseudonymised, flattened) and typed as an ingest types it, then no
exception escapes, every bad feature is quarantined with index, field and reason, the person's name
never reaches a row, and the good features of the same page load.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from connectors.natural_resources.source import DATASETS, NaturalResourcesSource
from tests.support.fuzz import FUZZ, assert_accounted, json_value, quarantined_indexes, type_records

RECORDED = Path(__file__).parent / "recorded"
PAGES = {
    "hazard_points": json.loads((RECORDED / "hazard_points_page1.json").read_text("utf-8")),
    "mining_rights": json.loads((RECORDED / "mining_rights.json").read_text("utf-8")),
}
KEYS = {name: DATASETS[name].primary_key[0] for name in PAGES}
SOURCE = NaturalResourcesSource("http://127.0.0.1:9", b"k" * 32)  # never contacted: parsing only

coordinate = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-200, max_value=200),
    st.sampled_from([122.9, 40.7, 4085.6, -1.0, 0.0]),
    json_value,
)
bad_geometry = st.one_of(
    json_value,
    st.fixed_dictionaries({"type": st.just("Point"), "coordinates": st.lists(coordinate, max_size=4)}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Polygon", "MultiPolygon", "LineString", "Point"]), "coordinates": json_value}
    ),
    st.just(
        {
            "type": "Polygon",
            "coordinates": [[[122.7, 40.7], [122.8, 40.8], [122.8, 40.7], [122.7, 40.8], [122.7, 40.7]]],
        }
    ),
    st.just({"type": "Point", "coordinates": [40.771213, 122.95841]}),  # swapped axes
)
mutation = st.one_of(
    st.tuples(st.just("geometry"), bad_geometry),
    st.tuples(st.just("property"), st.text(max_size=6), json_value),
    st.tuples(st.just("drop"), st.text(max_size=6), st.none()),
    st.tuples(st.just("feature"), json_value),
    st.tuples(st.just("properties"), json_value),
)


def _mutate(feature: dict[str, Any], steps: list, fields: list[str], data: st.DataObject) -> Any:
    out = copy.deepcopy(feature)
    for kind, *args in steps:
        if kind == "geometry":
            out["geometry"] = args[0]
        elif kind == "property":
            out["properties"][data.draw(st.sampled_from([*fields, args[0]]))] = args[1]
        elif kind == "drop":
            out["properties"].pop(data.draw(st.sampled_from(fields)), None)
        elif kind == "properties":
            out["properties"] = args[0]
            return out
        else:
            return args[0]
    return out


@FUZZ
@given(st.sampled_from(sorted(PAGES)), st.lists(st.lists(mutation, min_size=1, max_size=3), max_size=4), st.data())
def test_hostile_features_are_quarantined_and_good_ones_load(dataset: str, mutations: list, data) -> None:
    page, key = PAGES[dataset], KEYS[dataset]
    template = page["features"][0]
    fields = sorted(template["properties"])
    # given the page's good features, followed by mutated copies under keys of their own
    features: list[Any] = copy.deepcopy(page["features"])
    alone, _ = SOURCE._page(page, b"", copy.deepcopy(page["features"]), "recorded")
    good = {row[key] for row in type_records(SOURCE, DATASETS[dataset], alone.records).rows.values()}
    assert good
    for i, steps in enumerate(mutations):
        feature = copy.deepcopy(template)
        feature["properties"][key] = f"FUZZ{i:04d}"
        features.append(_mutate(feature, steps, fields, data))
    payload = {**page, "features": features}
    original = json.dumps(payload, ensure_ascii=False).encode("utf-8", "backslashreplace")
    # when the page is taken apart and typed
    built, _ = SOURCE._page(payload, original, features, "GET /geoserver/wfs?startIndex=0 (read 1)")
    typed = type_records(SOURCE, DATASETS[dataset], built.records)
    # then every feature is accounted for and the good ones loaded
    assert_accounted(typed, len(features))
    assert good <= {row[key] for row in typed.rows.values()}
    good_indexes = {i for i, f in enumerate(page["features"]) if f["properties"].get(key) in good}
    assert not quarantined_indexes(typed) & good_indexes
    for row in typed.rows.values():
        assert 73 <= row["lon"] <= 136 and 3 <= row["lat"] <= 54
        assert math.isfinite(row["lon"]) and math.isfinite(row["lat"])
        assert "关振华" not in json.dumps(row, ensure_ascii=False, default=str)
