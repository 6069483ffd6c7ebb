"""The transport cursor rule: shared updated_at across page boundaries and across runs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from connectors.transport.cursor import Cursor, CursorRule, group_digest
from edp.storage.ops import _later_or_equal

CST = timezone(timedelta(hours=8))
T1 = datetime(2026, 11, 28, 18, 0, tzinfo=CST)
T2 = T1 + timedelta(minutes=10)
T3 = T2 + timedelta(minutes=10)
UNTIL = T3 + timedelta(hours=1)


def rec(ident: str | None, at: datetime | str) -> dict:
    stamp = at.isoformat() if isinstance(at, datetime) else at
    return {"waybill_no": ident, "updated_at": stamp, "status": "运输中"}


def run(stored: Cursor | None, pages: list[list[dict]], until: datetime = UNTIL) -> tuple[list[list[dict]], CursorRule]:
    """What the connector does with the pages of one run: hold the stored group, then select."""
    rule = CursorRule("waybill_no", stored, until)
    if not rule.decided:
        held = []
        for page in pages:
            held.append(page)
            if rule.reached_past_group(page):
                break
        rule.decide(r for page in held for r in page)
    out = []
    for page in pages:
        passed, stop = rule.select(page)
        out.append(passed)
        if stop:
            break
    return out, rule


def ids(pages: list[list[dict]]) -> list[str | None]:
    return [r["waybill_no"] for page in pages for r in page]


def test_cursor_text_round_trips_and_rejects_garbage() -> None:
    cursor = Cursor.of_group(T2, ["YD2", "YD1", "YD3", "YD1"])
    text = cursor.encode()
    assert text == f"2026-11-28T18:10:00.000000+08:00|000000003|{group_digest(['YD1', 'YD2', 'YD3'])}|YD3"
    assert Cursor.decode(text) == cursor
    for garbage in ("2026-11-28T18:10:00+08:00", "x|1|abc|y", f"{T2.isoformat()}|3|{'0' * 16}|"):
        with pytest.raises(ValueError, match=re.escape("is not '<updated_at>|<count>|<digest>|<last id>'")):
            Cursor.decode(garbage)


def test_cursor_texts_order_like_time_then_group_size_for_the_platforms_guard() -> None:
    old = Cursor.of_group(T2, ["YD5", "YD7"]).encode()
    grown_below = Cursor.of_group(T2, ["YD1", "YD5", "YD7"]).encode()
    later = Cursor.of_group(T3, ["YD0"]).encode()
    # ops.advance_cursor skips a cursor that is not newer: these must all count as newer.
    assert not _later_or_equal(old, grown_below)
    assert not _later_or_equal(old, later)
    assert not _later_or_equal(grown_below, later)
    assert _later_or_equal(old, old)


def test_group_sharing_updated_at_across_a_page_boundary_is_one_cursor_group() -> None:
    pages = [[rec("YD1", T1), rec("YD2", T2), rec("YD3", T2)], [rec("YD4", T2)]]
    out, rule = run(None, pages)
    assert ids(out) == ["YD1", "YD2", "YD3", "YD4"]
    assert rule.cursor() == Cursor.of_group(T2, ["YD2", "YD3", "YD4"])


def test_next_run_drops_the_loaded_group_and_passes_what_follows() -> None:
    stored = Cursor.of_group(T2, ["YD2", "YD3", "YD4"])
    out, rule = run(stored, [[rec("YD2", T2), rec("YD3", T2), rec("YD4", T2), rec("YD0", T3)]])
    assert ids(out) == ["YD0"]
    assert rule.dropped == 3
    assert rule.cursor() == Cursor.of_group(T3, ["YD0"])


def test_stored_group_spanning_pages_on_the_next_run_is_held_then_dropped() -> None:
    stored = Cursor.of_group(T2, ["YD2", "YD3", "YD4"])
    pages = [[rec("YD2", T2), rec("YD3", T2)], [rec("YD4", T2), rec("YD9", T3)]]
    rule = CursorRule("waybill_no", stored, UNTIL)
    assert not rule.reached_past_group(pages[0])  # the group may go on: hold this page
    assert rule.reached_past_group(pages[1])
    out, rule = run(stored, pages)
    assert out == [[], [rec("YD9", T3)]]


def test_nothing_new_keeps_the_same_cursor() -> None:
    stored = Cursor.of_group(T2, ["YD2", "YD3"])
    out, rule = run(stored, [[rec("YD2", T2), rec("YD3", T2)]])
    assert ids(out) == []
    assert rule.cursor() == stored


@pytest.mark.parametrize("newcomer", ["YD1", "YD9"], ids=["id-below-last", "id-above-last"])
def test_record_added_to_the_stored_updated_at_after_the_run_is_picked_up(newcomer: str) -> None:
    stored = Cursor.of_group(T2, ["YD2", "YD3"])
    group = sorted([rec("YD2", T2), rec("YD3", T2), rec(newcomer, T2)], key=lambda r: r["waybill_no"])
    out, rule = run(stored, [group])
    # The group changed, so it is passed on whole; the loader keeps only content not yet in raw.
    assert newcomer in ids(out)
    assert sorted(ids(out)) == sorted(["YD2", "YD3", newcomer])
    assert rule.cursor() == Cursor.of_group(T2, ["YD2", "YD3", newcomer])
    # ... and the run after that drops the (now known) group again.
    again, _ = run(rule.cursor(), [group])
    assert ids(again) == []


def test_duplicate_of_a_dropped_record_on_the_next_page_is_dropped_too() -> None:
    stored = Cursor.of_group(T2, ["YD2", "YD3"])
    out, rule = run(stored, [[rec("YD2", T2), rec("YD3", T2)], [rec("YD3", T2), rec("YD5", T3)]])
    assert ids(out) == ["YD5"]
    assert rule.cursor() == Cursor.of_group(T3, ["YD5"])


def test_reading_stops_after_until_and_the_cursor_stays_before_it() -> None:
    out, rule = run(None, [[rec("YD1", T1), rec("YD2", T2)], [rec("YD3", T3)]], until=T1 + timedelta(minutes=5))
    assert out == [[rec("YD1", T1)]]
    assert rule.cursor() == Cursor.of_group(T1, ["YD1"])


def test_records_that_cannot_be_placed_are_passed_on_and_never_move_the_cursor() -> None:
    no_id = rec(None, T3)
    bad_time = rec("YD7", "昨天下午")
    out, rule = run(None, [[rec("YD1", T1), no_id, bad_time, "not an object"]])
    assert out == [[rec("YD1", T1), no_id, bad_time, "not an object"]]
    assert rule.cursor() == Cursor.of_group(T1, ["YD1"])


def test_a_record_older_than_the_stored_time_is_passed_on_not_dropped() -> None:
    stored = Cursor.of_group(T2, ["YD2"])
    out, _ = run(stored, [[rec("YD0", T1), rec("YD2", T2)]])
    assert ids(out) == ["YD0"]
