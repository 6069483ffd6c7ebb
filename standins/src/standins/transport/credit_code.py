"""统一社会信用代码 (GB 32100-2015) with correct check characters.

Layout: registration authority (``9`` industry and commerce), kind (``1``
enterprise), the 6-digit division code of the registering authority, the
9-character organisation code (GB 11714, its own check character last) and
the GB 32100 check character. Letters I, O, S, V and Z never occur.
"""

from __future__ import annotations

import random

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS_32100 = tuple(pow(3, i, 31) for i in range(17))
_WEIGHTS_11714 = (3, 7, 9, 10, 5, 8, 4, 2)


def gb32100_check(first17: str) -> str:
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, _WEIGHTS_32100, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def gb11714_check(first8: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(first8, _WEIGHTS_11714, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def is_valid(code: str) -> bool:
    if len(code) != 18 or any(c not in CHARSET for c in code):
        return False
    return gb11714_check(code[8:16]) == code[16] and gb32100_check(code[:17]) == code[17]


def make_credit_code(r: random.Random, area6: str) -> str:
    """A valid code registered in ``area6``; post-2015 registrations start their organisation code with ``MA``."""
    if r.random() < 0.5:
        body = "MA" + "".join(r.choice(CHARSET) for _ in range(6))
    else:
        body = "".join(r.choice("0123456789") for _ in range(8))
    first17 = "91" + area6 + body + gb11714_check(body)
    return first17 + gb32100_check(first17)
