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
