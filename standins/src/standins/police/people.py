"""Made-up people, phones, citizen IDs, plates and credit codes that look like 海城市.

Every value is checksum-valid where the real one is (GB 11643 citizen IDs,
GB 32100 unified social credit codes with their GB 11714 organisation code),
so a connector cannot tell them from the bureau's. All of them are fake.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

REGION = "210381"

# Common in 辽宁 (于, 鞠, 姜, 关 more than nationally).
SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "赵",
    "孙",
    "杨",
    "于",
    "高",
    "陈",
    "马",
    "徐",
    "吴",
    "周",
    "郭",
    "朱",
    "胡",
    "姜",
    "韩",
    "宋",
    "曹",
    "田",
    "董",
    "鞠",
    "关",
    "邓",
    "崔",
    "许",
    "冯",
    "付",
    "郑",
    "孟",
    "吕",
    "范",
    "白",
    "谭",
)
# Given names; 䶮 is outside GBK (GB18030 four-byte), so a GBK decoder fails on it.
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "超",
    "霞",
    "刚",
    "鹏",
    "爽",
    "丹",
    "琳",
    "雪",
    "秀英",
    "桂兰",
    "玉珍",
    "淑华",
    "凤芝",
    "春梅",
    "海燕",
    "建军",
    "志刚",
    "志勇",
    "立新",
    "宝林",
    "德财",
    "福全",
    "永庆",
    "晓东",
    "晓丽",
    "婷婷",
    "欣怡",
    "子涵",
    "浩然",
    "宇航",
    "佳琪",
    "思远",
    "俊杰",
    "明轩",
    "淑芬",
    "桂芝",
    "振宇",
    "䶮",
)
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "158",
    "159",
    "177",
    "180",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"  # no I or O on Chinese plates
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def person_name(r: random.Random) -> str:
    return r.choice(SURNAMES) + r.choice(GIVEN)


def mobile(r: random.Random) -> str:
    return r.choice(MOBILE_PREFIXES) + f"{r.randrange(10**8):08d}"


def phone(r: random.Random) -> str:
    """Mostly mobiles; some 鞍山 (0412) landlines as the bureau writes them."""
    if r.random() < 0.06:
        return f"0412-{r.choice('3456')}{r.randrange(10**6):06d}"
    return mobile(r)


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def citizen_id(r: random.Random, today: date) -> str:
    """An 18-digit GB 11643 ID of a 海城市 resident aged 18–80."""
    birth = today - timedelta(days=r.randrange(18 * 365, 80 * 365))
    first17 = f"{REGION}{birth:%Y%m%d}{r.randrange(1, 1000):03d}"
    return first17 + id_check_char(first17)


def plate(r: random.Random, *, truck: bool = False) -> str:
    """辽C (鞍山) mostly; 辽A 沈阳, 辽B 大连, 辽H 营口 pass through on G15."""
    prefix = r.choices(("辽C", "辽A", "辽B", "辽H", "吉A"), weights=(70, 10, 8, 9, 3))[0]
    if truck:
        return prefix + r.choice("DFGHJK") + "".join(r.choice("0123456789") for _ in range(4))
    return prefix + "".join(r.choice(_PLATE_CHARS) for _ in range(5))


def _org_code(r: random.Random) -> str:
    body = "".join(r.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))  # GB 11714: A=10 … Z=35
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(r: random.Random) -> str:
    """GB 32100: 9 (工商) 1 (企业) + region + organisation code + check character."""
    first17 = "91" + REGION + _org_code(r)
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return first17 + _CREDIT_CHARS[(31 - total % 31) % 31]
