"""Hostile transport pages (hypothesis): wrong types, nested objects, more records than asked, no cursor.

Given a generated page body, when it is parsed (``parse_page``, after the capped read) and its records
typed as an ingest types them, then only the documented errors escape (``SourceRejected`` for a body of
another shape, ``PageTooLarge`` for more records than asked for), every bad record is quarantined with
page, index, field and reason, and the good records of the same page load.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.http import SourceRejected
from connectors.limits import Limits, PageTooLarge
from connectors.transport.datasets import HAZMAT_WAYBILLS
from connectors.transport.source import TransportSource, parse_page
from edp.ingest.extract import SchemaDriftError
from tests.support.fuzz import FUZZ, assert_accounted, json_value, quarantined_indexes, type_records

GOOD = {
    "waybill_no": "YD0",
    "carrier_credit_code": "91210381MA0QDRRX1L",
    "consignor_credit_code": "91210211616186480K",
    "plate_no": "辽C58430",
    "goods_name": "汽油",
    "un_no": "1203",
    "hazard_class": "3",
    "weight_t": 28.5,
    "depart_time": "2026-11-28T15:07:57+08:00",
    "arrive_time": None,
    "status": "运输中",
    "updated_at": "2026-11-28T18:30:00+08:00",
    "deleted": False,
}
FIELDS = [f.name for f in HAZMAT_WAYBILLS.fields]
TEXT_FIELDS = {f.name for f in HAZMAT_WAYBILLS.fields if f.type == "text"}
ASKED = 20


@pytest.fixture(scope="module")
def source() -> TransportSource:
    src = TransportSource("http://127.0.0.1:9", "client", "secret")  # never contacted: parsing only
    yield src
    src.close()


def _good(i: int) -> dict[str, Any]:
    return {**GOOD, "waybill_no": f"YD{i:05d}"}


mutation = st.dictionaries(st.sampled_from([*FIELDS, "extra_field"]), json_value, min_size=1, max_size=4)
record = st.one_of(
    st.tuples(st.just("good"), st.just({})),
    st.tuples(st.just("bad"), mutation),
    st.tuples(st.just("alien"), json_value),  # not an object at all
)


@FUZZ
@given(st.lists(record, max_size=ASKED))
def test_hostile_records_are_quarantined_and_good_ones_load(source: TransportSource, entries: list) -> None:
    # given a page mixing good waybills, mutated ones and non-objects
    data: list[Any] = []
    good: set[int] = set()
    nested: set[int] = set()
    for i, (kind, change) in enumerate(entries):
        if kind == "good":
            data.append(_good(i))
            good.add(i)
        elif kind == "bad":
            data.append({**_good(i), **change})
            if any(k in TEXT_FIELDS and isinstance(v, dict | list) for k, v in change.items()):
                nested.add(i)
        else:
            data.append(change)
    body = json.dumps({"data": data, "next_cursor": None}).encode()
    # when the page is parsed and typed
    answer = parse_page(body, "GET /v2/hazmat/waybills?limit=20", ASKED, Limits())
    try:
        typed = type_records(source, HAZMAT_WAYBILLS, answer.data)
    except SchemaDriftError:
        # documented: objects lacking every required column (drift) stop the dataset; never with a good record
        assert not good
        return
    # then every record is accounted for, the good ones loaded, nested objects in text refused
    assert_accounted(typed, len(data))
    loaded = {row["waybill_no"] for row in typed.rows.values()}
    assert {f"YD{i:05d}" for i in good} <= loaded
    assert nested <= quarantined_indexes(typed)
    assert not any(str(row[name]).startswith(("{'", "['")) for row in typed.rows.values() for name in TEXT_FIELDS)


@FUZZ
@given(
    st.one_of(
        json_value,
        st.fixed_dictionaries({"data": json_value, "next_cursor": json_value}),
        st.fixed_dictionaries({"data": st.lists(st.just({}), min_size=ASKED + 1, max_size=ASKED + 40)}),
        st.binary(max_size=200).map(lambda b: b"\xff" + b),
    )
)
def test_a_page_of_another_shape_or_size_is_refused_with_its_url(body: Any) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    locator = "GET /v2/hazmat/waybills?limit=20&cursor=c1"
    try:
        answer = parse_page(raw, locator, ASKED, Limits())
    except (SourceRejected, PageTooLarge) as exc:
        assert locator in str(exc)
        return
    # then a page that was accepted has the contract's shape and at most the records asked for
    assert isinstance(answer.data, list) and len(answer.data) <= ASKED
    assert answer.next_cursor is None or isinstance(answer.next_cursor, str)


def test_more_records_than_asked_is_refused_naming_the_page() -> None:
    body = json.dumps({"data": [_good(i) for i in range(501)], "next_cursor": "c2"}).encode()
    with pytest.raises(PageTooLarge, match=r"GET /v2/road-events\?limit=500.*501 records where 500 were asked for"):
        parse_page(body, "GET /v2/road-events?limit=500", 500, Limits())
    with pytest.raises(PageTooLarge, match="max_page_records=100"):
        parse_page(body, "GET /v2/road-events?limit=500", 500, Limits(max_page_records=100))
