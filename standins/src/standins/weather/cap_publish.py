"""Publish CAP warnings now: ``POST /__admin/cap/publish`` (sandbox only, no auth, like every ``/__admin`` route).

Request body (JSON object; unknown keys are refused)::

    {"signal": "暴雨",              # one of the 14 signals, by name or event-type code (11B03)
     "colour": "红色",              # 蓝色|黄色|橙色|红色 or Blue|Yellow|Orange|Red; one the signal may take
     "msg_type": "Alert",          # Alert (default) | Update | Cancel
     "references": "<identifier>", # Update/Cancel only, required there: a string (several
                                   # space-separated) or a list; each a message the feed lists now
     "towns": ["孤山镇", "210381102000"],  # town names (孤山镇 or 孤山) or 12-digit codes;
                                   # default, or ["海城市"]: all of 海城市
     "headline": "...", "description": "...",  # optional; default: the bureau's wording
     "expires_minutes": 720}       # optional, 1..10080; default 720 (Cancel: 60)

The message is a national-profile (GB/T 35965.1) message of 海城市气象台 with the
signal's event-type code, sent, effective and onset at the sandbox clock's "now"
to the second. Its identifier is ``21038141600000_<YYYYmmddHHMMSS>_<序号>``: the
序号 is 0, or the next free number when a message of the same second exists (two
publishes in one second, or one of the scenario's). It is added to the feed at
once (``<updated>`` = sent) and served by ``/cap/messages/{identifier}.xml``.

Answers ``201 {"identifier", "sent", "updated"}`` (times ISO 8601 with ``+08:00``);
``400 {"error"}`` for a bad body, an unknown signal, colour or town, or an
Update/Cancel without a known reference. ``GET /__admin/cap/published`` lists
what was published this way, oldest first. A publish fixes the scenario's anchor
hour if no CAP request has done so yet (see :mod:`standins.weather.cap_feed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from standins.common.http import ADMIN_PREFIX, json_error, read_json_object
from standins.common.timefmt import iso_cst
from standins.weather.cap_catalogue import COLOUR_CN, COLOURS, HAICHENG, SIGNALS
from standins.weather.cap_scenario import COUNTY, CapWarning, issue
from standins.weather.geography import TOWNS

if TYPE_CHECKING:
    from standins.weather.app import WeatherService

PUBLISH_PATH = f"{ADMIN_PREFIX}/cap/publish"
PUBLISHED_PATH = f"{ADMIN_PREFIX}/cap/published"
COUNTY_NAME = "海城市"
MSG_TYPES = ("Alert", "Update", "Cancel")
DEFAULT_EXPIRES_MINUTES = {"Alert": 720, "Update": 720, "Cancel": 60}
MAX_EXPIRES_MINUTES = 7 * 24 * 60
FIELDS = ("signal", "colour", "msg_type", "references", "towns", "headline", "description", "expires_minutes")

_SIGNAL_BY_KEY = {s.name: s.name for s in SIGNALS.values()} | {s.code: s.name for s in SIGNALS.values()}
_COLOUR_BY_KEY = {c.lower(): c for c in COLOURS} | {cn: c for c, cn in COLOUR_CN.items()}
_TOWN_BY_KEY = {key: t.name for t in TOWNS for key in (t.name, t.short_name, t.code12)}


@dataclass(frozen=True)
class PublishRequest:
    """A checked request body; references are identifiers, still to be looked up in the feed."""

    signal: str
    colour: str  # Blue | Yellow | Orange | Red
    msg_type: str
    references: tuple[str, ...]
    towns: tuple[str, ...] | None  # town names; None: all of 海城市
    headline: str | None
    description: str | None
    expires_minutes: int


def parse_request(body: Mapping[str, Any]) -> PublishRequest:
    """Check a request body; ``ValueError`` with a message for the HTTP client."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}; expected some of {', '.join(FIELDS)}")
    signal = _signal(body.get("signal"))
    colour = _colour(body.get("colour"), signal)
    msg_type = body.get("msg_type", "Alert")
    if msg_type not in MSG_TYPES:
        raise ValueError(f"msg_type {msg_type!r} is not one of {', '.join(MSG_TYPES)}")
    references = _references(body.get("references"))
    if msg_type == "Alert" and references:
        raise ValueError("an Alert references no earlier message; use msg_type Update or Cancel")
    if msg_type != "Alert" and not references:
        raise ValueError(
            f"references is required for an {msg_type}: the identifier of the message it {msg_type.lower()}s"
        )
    return PublishRequest(
        signal=signal,
        colour=colour,
        msg_type=msg_type,
        references=references,
        towns=_towns(body.get("towns")),
        headline=_optional_text(body, "headline"),
        description=_optional_text(body, "description"),
        expires_minutes=_expires(body.get("expires_minutes"), msg_type),
    )


def _signal(value: Any) -> str:
    if value is None:
        raise ValueError("signal is required (e.g. 暴雨)")
    name = _SIGNAL_BY_KEY.get(value.strip()) if isinstance(value, str) else None
    if name is None:
        raise ValueError(f"unknown signal {value!r}; one of {', '.join(SIGNALS)} (or its code, e.g. 11B03)")
    return name


def _colour(value: Any, signal: str) -> str:
    allowed = SIGNALS[signal].colours
    if value is None:
        raise ValueError(f"colour is required (for {signal}: {', '.join(COLOUR_CN[c] for c in allowed)})")
    colour = _COLOUR_BY_KEY.get(value.strip().lower()) if isinstance(value, str) else None
    if colour is None:
        raise ValueError(f"unknown colour {value!r}; one of 蓝色, 黄色, 橙色, 红色 (or Blue, Yellow, Orange, Red)")
    if colour not in allowed:
        raise ValueError(
            f"{signal} has no {COLOUR_CN[colour]} ({colour}) level; it takes {', '.join(COLOUR_CN[c] for c in allowed)}"
        )
    return colour


def _references(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        parts = value.split()
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = [p for v in value for p in v.split()]
    else:
        raise ValueError("references must be an identifier (string) or a list of identifiers")
    return tuple(dict.fromkeys(parts))


def _towns(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError("towns must be a non-empty list of town names or 12-digit division codes")
    keys = [v.strip() for v in value]
    if COUNTY_NAME in keys or COUNTY in keys:
        if len(set(keys)) > 1:
            raise ValueError(f"{COUNTY_NAME} ({COUNTY}) covers every town; list it alone or list towns")
        return None
    unknown = [k for k in keys if k not in _TOWN_BY_KEY]
    if unknown:
        raise ValueError(
            f"unknown town(s) {', '.join(repr(k) for k in unknown)}: not a town of {COUNTY_NAME}; "
            f"give a name such as {TOWNS[5].name} or a 12-digit code such as {TOWNS[5].code12}"
        )
    return tuple(dict.fromkeys(_TOWN_BY_KEY[k] for k in keys))


def _optional_text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return value.strip()


def _expires(value: Any, msg_type: str) -> int:
    if value is None:
        return DEFAULT_EXPIRES_MINUTES[msg_type]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expires_minutes must be a whole number of minutes")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("expires_minutes must be a whole number of minutes")
    if not 1 <= value <= MAX_EXPIRES_MINUTES:
        raise ValueError(f"expires_minutes must be between 1 and {MAX_EXPIRES_MINUTES}")
    return int(value)


def build_warning(
    request: PublishRequest, *, key: str, sent: datetime, references: tuple[CapWarning, ...], sequence: int = 0
) -> CapWarning:
    """The message of ``request``: 海城市气象台, national profile, effective and onset at ``sent``."""
    warning = issue(
        key,
        HAICHENG,
        "national",
        sent,
        request.signal,
        request.colour,
        request.towns or COUNTY_NAME,
        onset=timedelta(0),
        lasts=timedelta(minutes=request.expires_minutes),
        msg_type=request.msg_type,
        references=references,
        sequence=sequence,
    )
    return replace(
        warning,
        headline=request.headline or warning.headline,
        description=request.description or warning.description,
    )


def listing(warning: CapWarning) -> dict[str, Any]:
    """One row of ``GET /__admin/cap/published``."""
    return {
        "identifier": warning.identifier,
        "msg_type": warning.msg_type,
        "signal": warning.signal,
        "colour": warning.colour,
        "sent": iso_cst(warning.sent),
        "references": [r.identifier for r in warning.references],
    }


def publish_routes(service: WeatherService) -> list[Route]:
    async def publish_endpoint(request: Request) -> Response:
        try:
            warning = service.cap.publish(parse_request(await read_json_object(request)))
        except ValueError as exc:
            return json_error(400, str(exc))
        sent = iso_cst(warning.sent)
        return JSONResponse({"identifier": warning.identifier, "sent": sent, "updated": sent}, status_code=201)

    async def published_endpoint(request: Request) -> Response:
        return JSONResponse({"published": [listing(w) for w in service.cap.published()]})

    return [
        Route(PUBLISH_PATH, publish_endpoint, methods=["POST"]),
        Route(PUBLISHED_PATH, published_endpoint, methods=["GET"]),
    ]
