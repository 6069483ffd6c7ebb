"""What the bureau's warnings are made of: the 14 signals, their colours, senders, wording.

The signals and colours are those of 中国气象局令第16号《气象灾害预警信号发布与传播办法》
(as listed in weather.md); event-type codes follow GB/T 35965.1 (11B03 暴雨, 11B21
道路结冰, ...). Criteria and defence guidance are short paraphrases of the order's
annex, enough to read like the real thing. Kept here, not imported from the
connector, so the stand-in stays independent of the code it tests.
"""

from __future__ import annotations

from dataclasses import dataclass

COLOURS = ("Blue", "Yellow", "Orange", "Red")
COLOUR_CN = {"Blue": "蓝色", "Yellow": "黄色", "Orange": "橙色", "Red": "红色"}
# OASIS has severities, not colours; the national grades IV..I map by rank.
OASIS_SEVERITY = {"Blue": "Minor", "Yellow": "Moderate", "Orange": "Severe", "Red": "Extreme"}


@dataclass(frozen=True)
class Signal:
    name: str
    code: str
    colours: tuple[str, ...]
    criterion: str  # what the lowest level means, paraphrased from the order's annex (see criterion())
    guidance: str


_BYOR = COLOURS
_YOR = ("Yellow", "Orange", "Red")

SIGNALS: dict[str, Signal] = {
    s.name: s
    for s in (
        Signal(
            "台风",
            "11B01",
            _BYOR,
            "24小时内可能受热带气旋影响，平均风力可达6级以上，或者阵风8级以上",
            "加固门窗、围板、棚架等易被风吹动的搭建物，切断危险的室外电源，停止露天集体活动。",
        ),
        Signal(
            "暴雨",
            "11B03",
            _BYOR,
            "12小时内降雨量将达50毫米以上，或者已达50毫米以上且降雨可能持续",
            "做好防暴雨准备；检查城市、农田排水系统，做好排涝准备；菱镁矿区尾矿库、排土场及山洪沟道注意巡查，"
            "危险地带人员及时转移。",
        ),
        Signal(
            "暴雪",
            "11B04",
            _BYOR,
            "12小时内降雪量将达4毫米以上，或者已达4毫米以上且降雪持续，可能对交通或者农牧业有影响",
            "做好道路清扫和积雪融化工作；加固棚架等易被雪压的临时搭建物；驾驶人员小心驾驶。",
        ),
        Signal(
            "寒潮",
            "11B05",
            _BYOR,
            "48小时内最低气温将要下降8℃以上，最低气温小于等于4℃，陆地平均风力可达5级以上",
            "做好防寒准备，注意添衣保暖；对热带作物、水产品采取一定的防护措施；做好防风准备。",
        ),
        Signal(
            "大风",
            "11B06",
            _BYOR,
            "24小时内可能受大风影响，平均风力可达6级以上，或者阵风7级以上",
            "关好门窗，加固围板、棚架、广告牌等易被风吹动的搭建物；停止高空、水上等户外作业；行人注意尽量少骑自行车。",
        ),
        Signal(
            "沙尘暴",
            "11B07",
            _YOR,
            "12小时内可能出现沙尘暴天气（能见度小于1000米）",
            "关好门窗，外出时戴好口罩；做好精密仪器的密封工作；驾驶人员注意沙尘天气变化，小心驾驶。",
        ),
        Signal(
            "高温",
            "11B09",
            _YOR,
            "连续三天日最高气温将在35℃以上",
            "做好防暑降温准备；午后尽量减少户外活动；对老弱病幼人群提供防暑降温指导。",
        ),
        Signal(
            "雷电",
            "11B14",
            _YOR,
            "6小时内可能发生雷电活动，可能会造成雷电灾害事故",
            "密切关注天气，尽量避免户外活动；户外人员应当躲入有防雷设施的建筑物或者汽车内。",
        ),
        Signal(
            "冰雹",
            "11B15",
            ("Orange", "Red"),
            "6小时内可能出现冰雹天气，并可能造成雹灾",
            "户外行人立即到安全的地方暂避；驱赶家禽、牲畜进入有顶篷的场所，妥善保护易受冰雹袭击的汽车等室外物品。",
        ),
        Signal(
            "霜冻",
            "11B16",
            ("Blue", "Yellow", "Orange"),
            "48小时内地面最低温度将要下降到0℃以下，对农业将产生影响",
            "对农作物、蔬菜、花卉、瓜果、林业育种要采取一定的防护措施；农村基层组织要广泛发动群众，防灾抗灾。",
        ),
        Signal(
            "大雾",
            "11B17",
            _YOR,
            "12小时内可能出现能见度小于500米的雾，或者已经出现能见度小于500米、大于等于200米的雾并将持续",
            "驾驶人员注意雾的变化，小心驾驶；G15沈海高速海城段等路段可能临时交通管制；户外活动注意安全。",
        ),
        Signal(
            "霾",
            "11B19",
            ("Yellow", "Orange"),
            "12小时内可能出现能见度小于3000米的霾，或者已经出现并可能持续",
            "空气质量明显降低，人员需适当防护；呼吸道疾病患者尽量减少外出，外出时可戴上口罩。",
        ),
        Signal(
            "道路结冰",
            "11B21",
            _YOR,
            "当路表温度低于0℃，出现降水，12小时内可能出现对交通有影响的道路结冰",
            "交通、公安等部门要按照职责做好道路结冰应对准备工作；驾驶人员应当注意路况，安全行驶；行人外出尽量少骑自行车，注意防滑。",
        ),
        Signal(
            "干旱",
            "11B22",
            ("Orange", "Red"),
            "预计未来一周综合气象干旱指数达到重旱",
            "有关部门和单位按照职责做好防御干旱的应急工作；启用应急备用水源，调度辖区内一切可用水源，优先保障城乡居民生活用水和牲畜饮水。",
        ),
    )
}


# Higher levels where the episode or the background use them (the order's annex, paraphrased).
CRITERIA_BY_COLOUR: dict[tuple[str, str], str] = {
    ("暴雨", "Yellow"): "6小时内降雨量将达50毫米以上，或者已达50毫米以上且降雨可能持续",
    ("暴雨", "Orange"): "3小时内降雨量将达50毫米以上，或者已达50毫米以上且降雨可能持续",
    ("暴雨", "Red"): "3小时内降雨量将达100毫米以上，或者已达100毫米以上且降雨可能持续",
    ("暴雪", "Yellow"): "12小时内降雪量将达6毫米以上，或者已达6毫米以上且降雪持续",
    ("暴雪", "Orange"): "6小时内降雪量将达10毫米以上，或者已达10毫米以上且降雪持续",
    ("寒潮", "Yellow"): "24小时内最低气温将要下降10℃以上，最低气温小于等于4℃，陆地平均风力可达6级以上",
    ("寒潮", "Orange"): "24小时内最低气温将要下降12℃以上，最低气温小于等于0℃，陆地平均风力可达6级以上",
    ("大风", "Yellow"): "12小时内可能受大风影响，平均风力可达8级以上，或者阵风9级以上",
    ("大风", "Orange"): "6小时内可能受大风影响，平均风力可达10级以上，或者阵风11级以上",
    ("大雾", "Orange"): "6小时内可能出现能见度小于200米的雾，或者已经出现能见度小于200米、大于等于50米的雾并将持续",
    ("道路结冰", "Orange"): "当路表温度低于0℃，出现降水，6小时内可能出现对交通有较大影响的道路结冰",
}


def criterion(signal: str, colour: str) -> str:
    return CRITERIA_BY_COLOUR.get((signal, colour), SIGNALS[signal].criterion)


@dataclass(frozen=True)
class Sender:
    code: str  # GB/T 35965.1 发布单位代码: 6-digit division + 416 (气象) + 000 + 00
    name: str


HAICHENG = Sender("21038141600000", "海城市气象台")
ANSHAN = Sender("21030041600000", "鞍山市气象台")
YINGKOU = Sender("21080041600000", "营口市气象台")
LIAONING = Sender("21000041600000", "辽宁省气象台")

# Which signals a month plausibly brings to 海城 (a temperate monsoon climate on the Liaohe plain).
SEASONAL_SIGNALS: dict[int, tuple[str, ...]] = {
    **dict.fromkeys((12, 1, 2), ("寒潮", "大风", "暴雪", "道路结冰", "大雾", "霾")),
    **dict.fromkeys((3, 4), ("大风", "沙尘暴", "寒潮", "霜冻", "干旱", "大雾")),
    5: ("大风", "干旱", "雷电", "冰雹", "高温", "沙尘暴"),
    **dict.fromkeys((6, 7, 8), ("暴雨", "高温", "雷电", "冰雹", "台风", "大风")),
    9: ("暴雨", "大风", "大雾", "台风", "霜冻"),
    10: ("大风", "霜冻", "大雾", "霾", "寒潮"),
    11: ("寒潮", "大风", "大雾", "霾", "道路结冰", "暴雪"),
}

# Release channels of the national system (<code><method>): no personal data, only channels and groups.
CHANNELS = (
    ("短信", "全网短信及应急责任人短信", "【{sender}】{headline}。请注意防范。"),
    ("农村大喇叭", "26个乡镇（街道）应急广播", "{headline}，请村民做好防范。"),
    ("电子显示屏", "城区及高速公路情报板", "{headline}"),
    ("网站", "海城市人民政府网站、气象微博", "{headline}"),
)
