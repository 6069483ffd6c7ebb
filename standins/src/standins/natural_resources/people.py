"""People and enterprises shared by the natural-resources and bureau stand-ins.

Personal names and mobile numbers are made up, deterministic for their parts.
Enterprises carry unified social credit codes (GB 32100-2015) whose check
characters are computed, so a connector or quality rule that verifies them
sees valid codes unless a fault switch breaks one on purpose. The mining
holders are generated here (not per stand-in) so that a company holding a
licence in the WFS layer is the same company in the bureau's inspection
register.
"""

from __future__ import annotations

from standins.common.determinism import rng

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许沈曾彭吕苏卢蒋蔡贾丁魏薛"
    "叶阎潘杜戴夏钟汪田任姜范方石姚谭廖邹金陆郝孔白崔康毛邱秦史顾侯邵孟龙段雷汤尹常武乔贺龚关佟"
)
GIVEN_NAMES = (
    "志强",
    "秀英",
    "建国",
    "桂兰",
    "玉梅",
    "海涛",
    "立新",
    "凤芝",
    "振华",
    "淑珍",
    "国庆",
    "丽娟",
    "德胜",
    "春梅",
    "宝山",
    "红霞",
    "永利",
    "晓东",
    "雪梅",
    "长青",
    "殿臣",
    "素芬",
    "福林",
    "翠萍",
    "兴旺",
    "铁军",
    "玉华",
    "继红",
    "广福",
    "庆丰",
    "洪亮",
    "春生",
    "秀云",
    "文斌",
    "淑华",
    "连生",
    "桂芝",
    "忠诚",
    "凤琴",
)
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "182",
    "186",
    "187",
    "188",
    "189",
    "199",
)

# GB 32100-2015: 31 characters (no I, O, S, V, Z), weights 3^i mod 31.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# GB 11714-1997 organisation code (positions 9-17 of the credit code).
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
HAICHENG = "210381"

_FIRM_WORDS = (
    "鑫源",
    "华宇",
    "金鼎",
    "宏达",
    "恒泰",
    "鑫海",
    "瑞丰",
    "万隆",
    "昊天",
    "兴盛",
    "永和",
    "富强",
    "辽南",
    "东升",
    "广源",
    "盛达",
    "国泰",
    "天成",
    "金石",
    "聚鑫",
    "隆昌",
    "宝丰",
    "德盛",
    "嘉禾",
    "鼎盛",
    "华盛",
    "鑫隆",
    "亿丰",
    "正大",
    "圣达",
    "明珠",
    "富源",
    "丰华",
    "新兴",
    "中盛",
    "胜利",
    "泰和",
    "通达",
)
_MINING_SUFFIXES = ("矿业有限公司", "镁业有限公司", "耐火材料有限公司", "滑石粉有限公司", "石材有限公司")


def person_name(*parts: object) -> str:
    """A three-character name (family name + two), so it never hides inside other text by chance."""
    r = rng("person", *parts)
    return r.choice(SURNAMES) + r.choice(GIVEN_NAMES)


def mobile(*parts: object) -> str:
    r = rng("mobile", *parts)
    return r.choice(MOBILE_PREFIXES) + "".join(str(r.randrange(10)) for _ in range(8))


def credit_check_char(body17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def org_check_char(body8: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def is_valid_credit_code(code: str) -> bool:
    if len(code) != 18 or any(c not in CREDIT_CHARS for c in code):
        return False
    return credit_check_char(code[:17]) == code[17] and org_check_char(code[8:16]) == code[16]


def credit_code(*parts: object, category: str = "91", region: str = HAICHENG) -> str:
    """A valid 18-character code; newer registrations (since 2015) start their organisation part with MA."""
    r = rng("credit", *parts)
    letters = [c for c in CREDIT_CHARS if c.isalpha() and c != "X"]
    while True:
        if r.random() < 0.5:
            body8 = "MA" + "".join(r.choice(CREDIT_CHARS[:10] + "".join(letters)) for _ in range(6))
        else:
            body8 = "".join(r.choice("0123456789") for _ in range(8))
        org = body8 + org_check_char(body8)
        if all(c in CREDIT_CHARS for c in org):
            break
    body17 = category + region + org
    return body17 + credit_check_char(body17)


def firm_word(index: int, seed: int) -> str:
    """A distinct trade name for enterprise ``index`` (two words once the list is used up)."""
    words = list(_FIRM_WORDS)
    rng(seed, "firm-order").shuffle(words)
    if index < len(words):
        return words[index]
    return words[index % len(words)] + words[(index // len(words) + index) % len(words)]


def mining_company(seed: int, index: int) -> tuple[str, str]:
    """(name, credit code) of the ``index``-th mining enterprise of the county."""
    suffix = rng(seed, "mining-suffix", index).choice(_MINING_SUFFIXES)
    return f"海城市{firm_word(index, seed)}{suffix}", credit_code(seed, "mining", index)
