"""Reference data the suites compare with: 海城市's division codes and extent.

Division codes are read from the dbt seed file ``dbt/seeds/ref_divisions.csv``
(the one list of the 27 codes: the county and its 26 sub-districts and towns),
as a file, not from the warehouse: a suite is a value that can be built and
tested without a database, and a check must not depend on ``dbt seed`` having
run.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import cache
from pathlib import Path

DIVISIONS_CSV = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "ref_divisions.csv"

# GB/T 2260 code of 海城市: the first six digits of every one of its 12-digit codes.
COUNTY_CODE = "210381"
DIVISION_CODE_REGEX = r"^[0-9]{12}$"

# 海城市's bounding box (CGCS2000 degrees) with a margin: a point outside is not in Haicheng.
LON_RANGE = (122.2, 123.3)
LAT_RANGE = (40.4, 41.2)

# Clock skew allowed between a department and us before a time counts as "in the future".
FUTURE_TOLERANCE = "15 minutes"
# Dates are days in 海城市 (Asia/Shanghai), not in UTC.
LOCAL_TODAY = "(now() at time zone 'Asia/Shanghai')::date"


@cache
def division_codes() -> frozenset[str]:
    """The 12-digit codes of ``ref_divisions.csv`` (27: the county, 5 sub-districts, 21 towns)."""
    with DIVISIONS_CSV.open(encoding="utf-8", newline="") as fh:
        return frozenset(row["code12"].strip() for row in csv.DictReader(fh))


def division_codes_sql() -> str:
    """The codes as an SQL list literal, for queries (codes are digits only: nothing to escape)."""
    return "(" + ", ".join(f"'{code}'" for code in sorted(division_codes())) + ")"


def division_codes_array() -> str:
    """The codes as an SQL text array literal."""
    return "array[" + ", ".join(f"'{code}'" for code in sorted(division_codes())) + "]::text[]"


def sql_text(values: Iterable[object]) -> str:
    """Plain strings as an SQL list literal (our own constants; quotes doubled anyway)."""
    return "(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + ")"
