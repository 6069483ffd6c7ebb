"""Cells as staff type them → plain values (connectors.bureau.values)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from connectors.bureau.values import code, person, phone_digits, split_number, text, to_date, to_datetime, unit
from connectors.pii import Pseudonymizer


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (120, (120, None)),
        (12.5, (12.5, None)),
        ("120", (120, None)),
        ("１２０", (120, None)),
        (" 1,200 ", (1200, None)),
        ("35人", (35, None)),
        ("120t", (120, "t")),
        ("120 吨", (120, "吨")),
        ("1.2万吨", (12000.0, "吨")),
        ("２００箱", (200, "箱")),
        ("若干", ("若干", None)),
        ("约200", ("约200", None)),
        ("--", ("--", None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_numbers_stored_as_text_with_units_and_full_width_digits(written, expected) -> None:
    assert split_number(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (datetime(2026, 3, 5), "2026-03-05"),
        (date(2026, 3, 5), "2026-03-05"),
        (46086, "2026-03-05"),  # an Excel serial in a General cell
        (46086.0, "2026-03-05"),
        ("46086", "2026-03-05"),
        (20260305, "2026-03-05"),
        ("2026/3/5", "2026-03-05"),
        ("2026年3月5日", "2026-03-05"),
        ("2026.03.05", "2026-03-05"),
        ("２０２６－０３－０５ ", "2026-03-05"),
        ("2026-03-05T00:00:00", "2026-03-05"),
        ("20260305", "2026-03-05"),
        ("2026-02-30", "2026-02-30"),  # left as written: typing refuses it with the reason
        ("待定", "待定"),
        (None, None),
    ],
)
def test_dates_as_cells_serials_and_text(written, expected) -> None:
    assert to_date(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (datetime(2026, 7, 15, 8, 30), "2026-07-15T08:30:00"),
        (46218.354166666664, "2026-07-15T08:30:00"),  # an Excel serial with the time as its fraction
        ("2026/7/15 8:30", "2026-07-15T08:30:00"),
        ("2026年7月15日8时30分", "2026-07-15T08:30:00"),
        ("２０２６-07-15 08:30", "2026-07-15T08:30:00"),
        ("2026-02-30 08:00", "2026-02-30 08:00"),  # left as written: typing refuses it with the reason
        ("上午", "上午"),
        (None, None),
    ],
)
def test_report_times_as_cells_serials_and_text(written, expected) -> None:
    assert to_datetime(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("t", "吨"),
        ("T", "吨"),
        ("吨 ", "吨"),
        ("頂", "顶"),
        ("顶", "顶"),
        (" 箱", "箱"),
        ("件", "件"),
        ("㎡", "平方米"),
        ("平方米", "平方米"),
        ("袋", "袋"),
        ("捆", "捆"),
        (None, None),
    ],
)
def test_units_are_normalised(written, expected) -> None:
    assert unit(written) == expected


def test_codes_text_and_phones() -> None:
    assert code(210381104000) == "210381104000"
    assert code(210381104000.0) == "210381104000"
    assert code("２１０３８１１０４０００ ") == "210381104000"
    assert code("91210381ma0qd4pk57") == "91210381MA0QD4PK57"
    assert text("帐篷　 ") == "帐篷" and text("  ") is None and text(35.0) == "35"
    assert phone_digits(13812345678) == phone_digits("138-1234-5678") == phone_digits("１３８ １２３４ ５６７８")


def test_people_become_a_pseudonym_and_a_masked_form() -> None:
    p = Pseudonymizer(b"unit-test-pii-key-0123456789abcdef")
    a = person("phone", 13812345678, p)
    assert a == person("phone", "138 1234 5678", p)
    assert a[1] == "138****5678" and a[0].startswith("phone_") and "13812345678" not in a[0]
    name = person("name", "王志强 ", p)
    assert name == person("name", "王 志强", p)
    assert name[1] == "王**" and name[0].startswith("name_")
    assert person("name", None, p) == (None, None)
