"""CSV/formula injection (公式注入): text a spreadsheet would run, neutralised in every export we write.

OWASP's CSV-injection guidance: a cell whose text starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return may be taken as a formula by Excel,
LibreOffice or Sheets (``=cmd|' /C calc'!A0``, ``@SUM(1+1)``,
``+HYPERLINK(...)``). Such a value is exported with a single quote in front
(the spreadsheet then shows it as text, without the quote); a plain negative
number (``-12.5``) is left alone, as Superset does. The data itself is not
changed: the warehouse, the marts and the exchange with the city keep the
value as it arrived; the quality rule ``text_not_formula_like``
(``expectations.marts``) flags it, and exports neutralise it here.

Standard library only: Superset's configuration imports this module too
(``edp.serve.superset.config``), so that the dashboards' CSV and Excel
downloads follow the same rule.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# OWASP: the characters that make a cell a formula when they lead it.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The same as a PostgreSQL regular expression (ARE), for the quality rule.
FORMULA_SQL_REGEX = r"^[=+@\t\r-]"
_NEGATIVE_NUMBER = re.compile(r"^-[0-9]+(\.[0-9]+)?$")


def is_formula_like(value: object) -> bool:
    """Text a spreadsheet could evaluate (a negative number is not)."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and _NEGATIVE_NUMBER.match(value) is None


def neutralise(value: Any) -> Any:
    """The value as a spreadsheet must receive it: formula-like text gets a leading single quote."""
    return "'" + value if is_formula_like(value) else value


def neutralise_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {neutralise(k): neutralise(v) for k, v in row.items()}


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str]) -> int:
    """Write ``rows`` as UTF-8 CSV (with BOM, as Excel expects) with every cell neutralised; the row count."""
    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[neutralise(f) for f in fieldnames], extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(neutralise_row({k: _cell(v) for k, v in row.items()}))
            written += 1
    return written


def _cell(value: Any) -> Any:
    if isinstance(value, Mapping | list):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    return value
