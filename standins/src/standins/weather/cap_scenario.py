"""The warnings the stand-in publishes: a fixed episode, background warnings, fault messages.

Everything is placed relative to an anchor hour ``A`` (see :mod:`standins.weather.cap_feed`
for how it is chosen) and is fixed by the seed:

| at A+ | message | profile |
|---|---|---|
| 0:10 | 海城市气象台 暴雨蓝色 Alert | national |
| 3:05 | 暴雨黄色 Update → the blue one (the feed lists it again at 3:25) | national |
| 5:00 | 营口市气象台 大风蓝色 Alert (western towns + 大石桥市) | OASIS |
| 9:00 | 大风蓝色 Update → the alert, as a sender,identifier,sent triple | OASIS |
| 10:00 | 鞍山市气象台 寒潮蓝色 Alert for the whole county; simply expires | national |
| 13:00 | 大风 Cancel → both gale messages (two triples) | OASIS |
| 14:00 | 暴雨 Cancel → the yellow one | national |
| 16:00 | 道路结冰黄色 Alert along G15 沈海 / S321; simply expires | national |

The 暴雨 chain follows the season of the storm it announces (one hour after A,
:func:`standins.common.storm.storm_episode`): from November to March, unless the
summer storm is forced (``storm="summer"``), the same three messages are 暴雪
(11B04) blue, yellow and cancel, for the snowfall the observations show then.

Then ``round(4 * scale)`` background warnings from A+2 days on, a signal the month
makes plausible, in a colour its signal may take. Fault switches add messages
between 7:00 and 8:30 (``cap_malformed``: one not well-formed, one OASIS message
invalid against the XSD; ``cap_xxe``; ``cap_oversize``), so the good ones stay good.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from standins.common.determinism import rng
from standins.common.storm import storm_episode
from standins.common.timefmt import CST
from standins.weather.cap_catalogue import (
    ANSHAN,
    COLOUR_CN,
    HAICHENG,
    LIAONING,
    SEASONAL_SIGNALS,
    SIGNALS,
    YINGKOU,
    Sender,
    criterion,
)
from standins.weather.geography import REGION_CODE, TOWNS

COUNTY = REGION_CODE + "000000"
DASHIQIAO = "210882000000"  # 大石桥市 (营口), across the south-western boundary
BACKGROUND_PER_SCALE = 4
_EAST = ("孤山镇", "岔沟镇", "接文镇", "析木镇", "马风镇", "牌楼镇", "英落镇")
_CENTRE = ("八里镇", "王石镇", "海州街道", "兴海街道", "响堂街道", "东四街道")
_WEST = ("西四镇", "高坨镇", "感王镇", "牛庄镇", "温香镇")
_ROADS = ("海州街道", "兴海街道", "八里镇", "腾鳌镇", "南台镇", "东四方台街道", "西柳镇")
_WEST_POLYGON = "40.780,122.300 40.780,122.620 41.080,122.620 41.080,122.300 40.780,122.300"
FAULT_KINDS = ("malformed", "xsd_invalid", "xxe", "oversize")


@dataclass(frozen=True)
class CapWarning:
    key: str
    profile: str  # national | oasis
    sender: Sender
    sent: datetime
    msg_type: str
    signal: str
    colour: str
    effective: datetime
    onset: datetime | None
    expires: datetime
    headline: str
    description: str
    instruction: str
    area_desc: str
    codes: tuple[str, ...]
    polygon: str | None = None
    references: tuple[CapWarning, ...] = ()
    fault: str | None = None  # one of FAULT_KINDS: how the message is damaged
    # The feed lists the message at ``sent`` and again at each of these times.
    repeats: tuple[datetime, ...] = field(default=())
    # The identifier's 序号: 0 unless the sender already sent a message in the same second.
    sequence: int = 0

    @property
    def identifier(self) -> str:
        # GB/T 35965.1: 发布单位代码_录入时间_序号.
        return f"{self.sender.code}_{self.sent.astimezone(CST):%Y%m%d%H%M%S}_{self.sequence}"

    @property
    def signal_code(self) -> str:
        return SIGNALS[self.signal].code


def _codes(names: tuple[str, ...]) -> tuple[str, ...]:
    by_name = {t.name: t.code12 for t in TOWNS}
    return tuple(by_name[n] for n in names)


def _hm(hours: float) -> timedelta:
    return timedelta(minutes=round(hours * 60))


def _when(moment: datetime) -> str:
    local = moment.astimezone(CST)
    return f"{local.month}月{local.day}日{local.hour}时"


def issue(
    key: str,
    sender: Sender,
    profile: str,
    sent: datetime,
    signal: str,
    colour: str,
    area: tuple[str, ...] | str,
    *,
    onset: timedelta,
    lasts: timedelta,
    msg_type: str = "Alert",
    references: tuple[CapWarning, ...] = (),
    extra: str = "",
    **kwargs: object,
) -> CapWarning:
    """One message in the bureau's wording; ``area`` is town names, or "海城市" for the whole county.

    Also used by ``POST /__admin/cap/publish`` (:mod:`standins.weather.cap_publish`).
    """
    names = (area,) if isinstance(area, str) else area
    codes = (COUNTY,) if area == "海城市" else _codes(tuple(n for n in names if n != "大石桥市"))
    if "大石桥市" in names:
        codes = (DASHIQIAO, *codes)
    area_desc = "、".join(names)
    verb = {"Alert": "发布", "Update": "更新", "Cancel": "解除"}[msg_type]
    level = f"{signal}{COLOUR_CN[colour]}预警信号"
    headline = f"{sender.name}{verb}{level}"
    start = sent + onset
    if msg_type == "Cancel":
        description = f"{sender.name}{_when(sent)}解除{level}。{extra}".strip()
        instruction = "预警解除，请继续关注后续天气预报。"
    else:
        description = (
            f"{sender.name}{_when(sent)}{verb}{level}：预计{_when(start)}起，{area_desc}"
            f"{criterion(signal, colour)}。{extra}"
        ).strip()
        instruction = SIGNALS[signal].guidance
    return CapWarning(
        key=key,
        profile=profile,
        sender=sender,
        sent=sent,
        msg_type=msg_type,
        signal=signal,
        colour=colour,
        effective=sent,
        onset=start if msg_type != "Cancel" else None,
        expires=sent + lasts,
        headline=headline,
        description=description,
        instruction=instruction,
        area_desc=area_desc,
        codes=codes,
        references=references,
        **kwargs,  # type: ignore[arg-type]
    )


def episode(anchor: datetime, storm: str = "season") -> list[CapWarning]:
    """The fixed episode: rainstorm (in winter snowstorm) chain, gale chain from a neighbour, cold wave, road icing."""
    a = anchor
    snow = storm_episode(a + _hm(1), storm).snow
    rain, key = ("暴雪", "snow") if snow else ("暴雨", "rain")
    rain_blue = issue(
        f"{key}-blue",
        HAICHENG,
        "national",
        a + _hm(1 / 6),
        rain,
        "Blue",
        _EAST,
        onset=_hm(0.8),
        lasts=_hm(12),
        extra="山区道路积雪结冰，注意防范雪压棚架。"
        if snow
        else "海城河及其支流水位将上涨，山区注意防范山洪和地质灾害。",
    )
    rain_yellow = issue(
        f"{key}-yellow",
        HAICHENG,
        "national",
        a + _hm(3 + 1 / 12),
        rain,
        "Yellow",
        _EAST + _CENTRE,
        onset=_hm(0.5),
        lasts=_hm(12),
        msg_type="Update",
        references=(rain_blue,),
        extra="降雪范围扩大至城区，城区道路及桥梁注意积雪结冰。"
        if snow
        else "降雨范围扩大至城区，低洼路段和下穿通道注意积水。",
        repeats=(a + _hm(3 + 25 / 60),),
    )
    gale = issue(
        "gale-alert",
        YINGKOU,
        "oasis",
        a + _hm(5),
        "大风",
        "Blue",
        ("大石桥市", *_WEST),
        onset=_hm(2),
        lasts=_hm(12),
        polygon=_WEST_POLYGON,
        extra="辽河口及沿海地区阵风可达8级。",
    )
    gale_update = issue(
        "gale-update",
        YINGKOU,
        "oasis",
        a + _hm(9),
        "大风",
        "Blue",
        ("大石桥市", *_WEST),
        onset=_hm(0),
        lasts=_hm(12),
        msg_type="Update",
        references=(gale,),
        polygon=_WEST_POLYGON,
        extra="大风持续时间延长。",
    )
    cold = issue(
        "cold-wave",
        ANSHAN,
        "national",
        a + _hm(10),
        "寒潮",
        "Blue",
        "海城市",
        onset=_hm(8),
        lasts=_hm(30),
        extra="降温过程中伴有雨转雪。",
    )
    gale_cancel = issue(
        "gale-cancel",
        YINGKOU,
        "oasis",
        a + _hm(13),
        "大风",
        "Blue",
        ("大石桥市", *_WEST),
        onset=_hm(0),
        lasts=_hm(1),
        msg_type="Cancel",
        references=(gale, gale_update),
        polygon=_WEST_POLYGON,
    )
    rain_cancel = issue(
        f"{key}-cancel",
        HAICHENG,
        "national",
        a + _hm(14),
        rain,
        "Yellow",
        _EAST + _CENTRE,
        onset=_hm(0),
        lasts=_hm(1),
        msg_type="Cancel",
        references=(rain_yellow,),
        extra="降雪已明显减弱。" if snow else "降雨已明显减弱。",
    )
    icing = issue(
        "road-icing",
        HAICHENG,
        "national",
        a + _hm(16),
        "道路结冰",
        "Yellow",
        _ROADS,
        onset=_hm(1),
        lasts=_hm(24),
        extra="G15沈海高速海城段、S321省道及城区主要道路注意防滑。",
    )
    return [rain_blue, rain_yellow, gale, gale_update, cold, gale_cancel, rain_cancel, icing]


def fault_messages(anchor: datetime) -> dict[str, list[CapWarning]]:
    """Messages added by the fault switches, by switch name."""
    a = anchor
    return {
        "cap_malformed": [
            issue(
                "fog-truncated",
                HAICHENG,
                "national",
                a + _hm(7),
                "大雾",
                "Yellow",
                _WEST,
                onset=_hm(1),
                lasts=_hm(10),
                fault="malformed",
            ),
            issue(
                "frost-invalid",
                YINGKOU,
                "oasis",
                a + _hm(7.5),
                "霜冻",
                "Blue",
                ("大石桥市", *_WEST),
                onset=_hm(6),
                lasts=_hm(24),
                polygon=_WEST_POLYGON,
                fault="xsd_invalid",
            ),
        ],
        "cap_xxe": [
            issue(
                "fog-xxe",
                HAICHENG,
                "national",
                a + _hm(8),
                "大雾",
                "Yellow",
                _CENTRE,
                onset=_hm(1),
                lasts=_hm(10),
                fault="xxe",
            ),
        ],
        "cap_oversize": [
            issue(
                "cold-oversize",
                LIAONING,
                "oasis",
                a + _hm(8.5),
                "寒潮",
                "Blue",
                "海城市",
                onset=_hm(12),
                lasts=_hm(36),
                fault="oversize",
                extra="附全省寒潮落区图。",
            ),
        ],
    }


def background(seed: int, scale: float, anchor: datetime) -> list[CapWarning]:
    """``round(4 * scale)`` further warnings over the following week, some cancelled early."""
    count = max(0, round(BACKGROUND_PER_SCALE * scale))
    span = timedelta(days=6)
    out: list[CapWarning] = []
    used: set[str] = set()
    for i in range(count):
        r = rng(seed, "cap-background", i)
        sent = anchor + timedelta(days=2) + span * i / max(count, 1) + _hm(r.uniform(0, 20))
        sent = _free_minute(sent.replace(second=0, microsecond=0), used)
        signal = r.choice(SEASONAL_SIGNALS[sent.astimezone(CST).month])
        palette = SIGNALS[signal].colours
        colour = r.choices(palette, weights=(0.55, 0.3, 0.12, 0.03)[: len(palette)])[0]
        towns = "海城市" if r.random() < 0.3 else tuple(t.name for t in r.sample(TOWNS, r.randint(3, 10)))
        oasis = r.random() < 0.25
        sender, profile = (LIAONING, "oasis") if oasis else (HAICHENG, "national")
        lasts = _hm(r.uniform(12, 36))
        alert = issue(
            f"bg-{i}", sender, profile, sent, signal, colour, towns, onset=_hm(r.uniform(0.5, 6)), lasts=lasts
        )
        out.append(alert)
        if r.random() < 0.5:
            cancel_at = _free_minute(sent + _hm(r.uniform(6, lasts.total_seconds() / 3600 - 1)), used)
            out.append(
                issue(
                    f"bg-{i}-cancel",
                    sender,
                    profile,
                    cancel_at,
                    signal,
                    colour,
                    towns,
                    onset=_hm(0),
                    lasts=_hm(1),
                    msg_type="Cancel",
                    references=(alert,),
                )
            )
    return out


def _free_minute(moment: datetime, used: set[str]) -> datetime:
    """The first whole minute from ``moment`` not yet taken, so identifiers stay unique."""
    moment = moment.replace(second=0, microsecond=0)
    while moment.isoformat() in used:
        moment += timedelta(minutes=1)
    used.add(moment.isoformat())
    return moment
