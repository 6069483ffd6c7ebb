"""Personal information: keyed pseudonyms and masked display forms (police.md).

Clear values never leave a connector: a record is pseudonymised inside
``Source.normalise`` before anything is landed, typed, quarantined or logged.
The pseudonym is an HMAC-SHA256 keyed with a secret of the platform, so the
same person or unit links across records while the value cannot be reversed
or recomputed without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date


class Pseudonymizer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonymisation key must have at least 16 bytes")
        self._key = key

    def pseudonym(self, kind: str, value: object) -> str | None:
        """``kind`` separates namespaces (a phone and an ID never share a pseudonym)."""
        text = normalise_value(value)
        if not text:
            return None
        digest = hmac.new(self._key, f"{kind}\x1f{text}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}_{digest[:32]}"


def normalise_value(value: object) -> str:
    if value is None:
        return ""
    return re.sub(r"\s+", "", str(value)).upper()


def mask_name(value: object) -> str | None:
    """张三 → 张*, 欧阳娜娜 → 欧***: the family name only."""
    text = normalise_value(value)
    if not text:
        return None
    return text[0] + "*" * max(1, len(text) - 1)


def mask_phone(value: object) -> str | None:
    """13812345678 → 138****5678; short numbers keep only the last two digits."""
    digits = re.sub(r"\D", "", normalise_value(value))
    if not digits:
        return None
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    return "*" * (len(digits) - 2) + digits[-2:] if len(digits) > 2 else "**"


def mask_id_number(value: object) -> str | None:
    """18-digit citizen ID → 2103**********123X (region prefix and last four kept)."""
    text = normalise_value(value)
    if not text:
        return None
    if len(text) < 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_plate(value: object) -> str | None:
    """辽C12345 → 辽C***45."""
    text = normalise_value(value)
    if not text:
        return None
    if len(text) <= 4:
        return text[:1] + "*" * (len(text) - 1)
    return text[:2] + "*" * (len(text) - 4) + text[-2:]


# Why a 居民身份证号码 is not valid (GB 11643-1999), in the order they are checked.
CITIZEN_ID_PROBLEMS = ("wrong_length", "bad_format", "bad_check_digit", "bad_birth_date", "unknown_region")
CITIZEN_ID_VALID = "valid"


def citizen_id_problem(value: object, *, issued_by: date | None = None) -> str | None:
    """None for a valid GB 11643-1999 citizen ID, else the reason (one of CITIZEN_ID_PROBLEMS).

    GB 11643-1999 §4: six-digit address code (a county code of GB/T 2260),
    eight-digit birth date (YYYYMMDD), three-digit sequence and a check
    character (ISO 7064 MOD 11-2, 0-9 or X). ``stdnum.cn.ric`` computes the
    check character and holds the county codes (GB/T 2260) ever in use.
    A birth date after ``issued_by`` (the day the record was made) is no birth
    date either. The reason never quotes the value.
    """
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError

    text = normalise_value(value)
    if len(text) != 18:
        return "wrong_length"
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X") or not text.isascii():
        return "bad_format"
    if text[17] != ric.calc_check_digit(text):
        return "bad_check_digit"
    try:
        birth = ric.get_birth_date(text)
    except ValidationError:
        return "bad_birth_date"
    if issued_by is not None and birth > issued_by:
        return "bad_birth_date"
    if not _known_county(text[:6]):
        return "unknown_region"
    return None


def _known_county(code: str) -> bool:
    """A county code of GB/T 2260 in any year (python-stdnum's ``cn/loc`` table, with the years in use).

    GB 11643-1999 §5.1: the address code is the county of the holder's
    registered residence when the number is issued, not of birth: a 海城市
    resident born in 1960 holds 210381… although 海城市 has that code since 1989.
    So ``ric.get_birth_place``'s test against the birth year is not used.
    """
    from stdnum import numdb

    return any(props.get("county") for _part, props in numdb.get("cn/loc").info(code))
