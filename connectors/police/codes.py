"""The police bureau's code lists as the connector needs them (police.md).

Division codes are copied from ``/work/shared/reference/haicheng_divisions_2022.csv``
(NBS 2022, the same list as the dbt seed ``ref_divisions``) so the connector can
refuse a row whose place resolves nowhere; a test checks the copies agree.
"""

from __future__ import annotations

import re

# The county row and its 26 sub-districts and towns.
HAICHENG_DIVISIONS: frozenset[str] = frozenset(
    {
        "210381000000",
        "210381001000",
        "210381002000",
        "210381003000",
        "210381004000",
        "210381006000",
        "210381101000",
        "210381102000",
        "210381103000",
        "210381104000",
        "210381105000",
        "210381107000",
        "210381108000",
        "210381109000",
        "210381110000",
        "210381111000",
        "210381112000",
        "210381113000",
        "210381114000",
        "210381115000",
        "210381118000",
        "210381121000",
        "210381123000",
        "210381124000",
        "210381125000",
        "210381126000",
        "210381127000",
    }
)

# The county's extent with a margin (CGCS2000): lon 122.3–123.2, lat 40.5–41.1.
LON_RANGE = (122.3, 123.2)
LAT_RANGE = (40.5, 41.1)

# 警情类别代码 whose alarms the platform keeps as rows: 03xx traffic accidents,
# 04xx fires, 07xx disasters, and of 05xx requests for help only 0503 drowning
# and 0505 trapped. Everything else is reduced to daily counts.
_EMERGENCY_PREFIXES = ("03", "04", "07")
_EMERGENCY_CODES = frozenset({"0503", "0505"})
_CODE = re.compile(r"^\d{4}$")


def is_emergency(category_code: str | None) -> bool:
    code = (category_code or "").strip()
    if not _CODE.match(code):
        return False
    return code.startswith(_EMERGENCY_PREFIXES) or code in _EMERGENCY_CODES


def in_range(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]
