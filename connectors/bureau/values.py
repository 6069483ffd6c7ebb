"""Cells as staff type them, made plain: full-width digits, trailing spaces, numbers as text, units, dates.

Cleaning is lenient and typing strict: a value that cannot be understood is
left as written, so that typing refuses it with the field's name and the
record is quarantined with the reason (never guessed, never dropped).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Any

from connectors.pii import Pseudonymizer, mask_name, mask_phone

# Excel's day 0 (the 1900 leap-year bug makes it 1899-12-30 for every date after February 1900).
EXCEL_EPOCH = date(1899, 12, 30)
UNITS = {
    "顶": "顶",
    "頂": "顶",
    "件": "件",
    "箱": "箱",
    "吨": "吨",
    "噸": "吨",
    "t": "吨",
    "ton": "吨",
    "tons": "吨",
    "个": "个",
    "個": "个",
    "台": "台",
    "套": "套",
    "条": "条",
    "袋": "袋",
    "张": "张",
    "床": "床",
    "艘": "艘",
    "具": "具",
    "桶": "桶",
    "瓶": "瓶",
    "卷": "卷",
    "支": "支",
    "把": "把",
    "双": "双",
    "块": "块",
    "辆": "辆",
    "米": "米",
    "m": "米",
    "平方米": "平方米",
    "m2": "平方米",
    "立方米": "立方米",
    "m3": "立方米",
    "方": "立方米",
    "千克": "千克",
    "kg": "千克",
    "公斤": "千克",
}
# Words that may follow a count and mean nothing more than "this many".
COUNT_WORDS = {"人", "名", "万元", "元"}
_NUMBER = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(万)?\s*([^\d\s]*)$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


# The key of the marker standing for a cell no value can represent faithfully.
UNREPRESENTABLE = "_unrepresentable"
# Integers beyond 2**53 are not held exactly by a float; Excel itself keeps 15 significant digits.
EXACT_FLOAT_DIGITS = 15


def unrepresentable(cell: str, reason: str) -> dict[str, str]:
    """A JSON-safe marker for a cell that cannot be read faithfully (quarantined, replayed as such)."""
    return {UNREPRESENTABLE: reason, "cell": cell}


def problem(value: Any) -> str | None:
    """Why ``value`` cannot be loaded as it is (a marker from the workbook), else None."""
    if isinstance(value, dict) and UNREPRESENTABLE in value:
        return f"cell {value.get('cell')}: {value[UNREPRESENTABLE]}"
    return None


def code_problem(value: Any) -> str | None:
    """A code typed as a number with more digits than Excel keeps has been rounded: refuse it, never guess."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 10**EXACT_FLOAT_DIGITS:
        return (
            f"a number cell with more than {EXACT_FLOAT_DIGITS} digits: Excel has rounded the code "
            "(enter it as text, e.g. with a leading ')"
        )
    return None


def nfkc(value: str) -> str:
    """Full-width digits and letters to ASCII, runs of white space (incl. U+3000) to one space, stripped."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    return str(value).strip()


def code(value: Any) -> str | None:
    """Identifiers: a number cell (210381104000.0) or full-width text become the same plain code."""
    cleaned = text(value)
    return None if cleaned is None else nfkc(cleaned).replace(" ", "").upper()


def unit(value: Any) -> str | None:
    cleaned = text(value)
    if cleaned is None:
        return None
    plain = nfkc(cleaned).replace(" ", "")
    return UNITS.get(plain, UNITS.get(plain.lower(), plain))


def split_number(value: Any) -> tuple[Any, str | None]:
    """(number, the unit written after it) of a numeric cell; the value as written when not a number."""
    if isinstance(value, bool) or is_blank(value):
        return (None if is_blank(value) else value), None
    if isinstance(value, int | float):
        return value, None
    plain = nfkc(str(value)).replace(",", "").replace("，", "")
    match = _NUMBER.match(plain)
    if not match:
        return str(value).strip(), None
    number_text, wan, suffix = match.groups()
    if suffix and suffix not in UNITS and suffix.lower() not in UNITS and suffix not in COUNT_WORDS:
        return str(value).strip(), None
    number = float(number_text) * (10_000 if wan else 1)
    if number.is_integer() and "." not in number_text:
        number = int(number)
    return number, (suffix if suffix and suffix not in COUNT_WORDS else None)


def to_date(value: Any) -> Any:
    """A ``date`` (as ISO text) from a date cell, an Excel serial, ``2026/3/5``, ``2026年3月5日``, ``20260305``."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _date_from_number(value)
    plain = nfkc(str(value))
    if plain.isdigit():
        return _date_from_number(int(plain)) if len(plain) in (5, 8) else str(value).strip()
    match = _DATE.match(plain) or _COMPACT_DATE.match(plain)
    if not match:
        return str(value).strip()
    try:
        return date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return str(value).strip()  # 2026-02-30: left for typing to refuse


_DATETIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*[T ]?\s*(\d{1,2})\s*[:时時]\s*(\d{1,2})\s*分?"
    r"(?:\s*:\s*(\d{1,2})\s*秒?)?$"
)


def to_datetime(value: Any) -> Any:
    """A local time (naive ISO text, Beijing time) from a date-time cell, an Excel serial with a fraction,
    ``2026/7/15 8:30``, ``2026年7月15日 8时30分``; anything else as written, for typing to refuse."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool) and 20_000 <= value <= 80_000:
        moment = datetime.combine(EXCEL_EPOCH, time()) + timedelta(days=float(value))
        return (moment + timedelta(seconds=30)).replace(second=0, microsecond=0).isoformat()
    match = _DATETIME.match(nfkc(str(value)))
    if not match:
        return str(value).strip()
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second).isoformat()
    except ValueError:
        return str(value).strip()  # 2026-02-30 08:00: left for typing to refuse


def _date_from_number(number: float) -> Any:
    if 20_000 <= number <= 80_000:  # an Excel serial (1954–2119)
        return (EXCEL_EPOCH + timedelta(days=int(number))).isoformat()
    if float(number).is_integer() and 19_000_101 <= number <= 21_001_231:
        digits = str(int(number))
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat()
        except ValueError:
            return str(number)
    return str(number)


def phone_digits(value: Any) -> str | None:
    cleaned = text(value)
    if cleaned is None:
        return None
    digits = re.sub(r"\D", "", nfkc(cleaned))
    return digits or nfkc(cleaned)


def person(kind: str, value: Any, pseudonyms: Pseudonymizer) -> tuple[str | None, str | None]:
    """(pseudonym, masked) of a name or a phone; the clear value goes no further."""
    if kind == "phone":
        digits = phone_digits(value)
        return pseudonyms.pseudonym("phone", digits), mask_phone(digits)
    name = text(value)
    name = None if name is None else nfkc(name).replace(" ", "")
    return pseudonyms.pseudonym("name", name), mask_name(name)
