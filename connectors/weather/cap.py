"""气象局 CAP warning feed: the Atom feed and the warning messages (weather.md, "Warnings: CAP feed").

Parsing only; fetching lives in ``connectors.weather.source``. Two profiles are read:

- national (GB/T 35965.1-2018): no namespace, ``<senderCode>``, ``<sendTime>`` as
  ``YYYY-MM-DD hh:mm:ss+08:00``, ``<eventType>`` codes (11B03 暴雨), ``<severity>``
  as a colour, ``<geocode>`` a comma-separated list of division codes, ``<code><method>``
  blocks for the release channels. There is no published XSD for it, so it is
  checked field by field in :func:`normalise_warning`.
- OASIS CAP 1.2: validated against ``schemas/CAP-v1.2.xsd`` (a byte-for-byte copy
  of the OASIS schema, loaded from disk; see ``schemas/CAP-v1.2.README.md``).

XML is untrusted input: a body over the size limit is refused before parsing;
parsing goes through ``defusedxml`` with DTDs forbidden outright, so no entity is
ever expanded and nothing is fetched (XXE); the schema validator may not open
anything either. A refused message becomes a record that carries only its
identifier and a ``rejection`` ({field, reason}); ``normalise_warning`` turns that
into a ``FieldError``, so the shared ingest quarantines it with the reason while
the good messages of the batch load.

Parsing keeps the source's values (severity as sent, division codes as listed);
``normalise_warning`` applies the conventions (colours, signals, 12-digit codes),
so a quarantined record can be replayed after a fix to those conventions.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import xmlschema
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from connectors.schema import Dataset, Field, FieldError, parse_time
from edp.errors import DataRejected

SOURCE = "weather"
CAP12_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "CAP-v1.2.xsd"
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_FEED_BYTES = 8 * 1024 * 1024
MSG_TYPES = ("Alert", "Update", "Cancel")
COLOURS = ("Blue", "Yellow", "Orange", "Red")


@dataclass(frozen=True)
class Signal:
    name: str
    code: str  # GB/T 35965.1 event type
    colours: tuple[str, ...]
    english: tuple[str, ...] = ()


_BYOR = COLOURS
_YOR = ("Yellow", "Orange", "Red")
# The 14 warning signals of 中国气象局令第16号《气象灾害预警信号发布与传播办法》 with the
# colours each may take, and their GB/T 35965.1 event-type codes (11B03 and 11B21 are
# named by weather.md; the others follow the same table of the standard).
SIGNALS: dict[str, Signal] = {
    s.name: s
    for s in (
        Signal("台风", "11B01", _BYOR, ("typhoon",)),
        Signal("暴雨", "11B03", _BYOR, ("rainstorm", "heavy rain")),
        Signal("暴雪", "11B04", _BYOR, ("blizzard", "snowstorm", "heavy snow")),
        Signal("寒潮", "11B05", _BYOR, ("cold wave",)),
        Signal("大风", "11B06", _BYOR, ("gale", "strong wind")),
        Signal("沙尘暴", "11B07", _YOR, ("sandstorm", "dust storm")),
        Signal("高温", "11B09", _YOR, ("heat wave", "high temperature")),
        Signal("雷电", "11B14", _YOR, ("lightning", "thunder")),
        Signal("冰雹", "11B15", ("Orange", "Red"), ("hail",)),
        Signal("霜冻", "11B16", ("Blue", "Yellow", "Orange"), ("frost",)),
        Signal("大雾", "11B17", _YOR, ("fog", "heavy fog", "dense fog")),
        Signal("霾", "11B19", ("Yellow", "Orange"), ("haze",)),
        Signal("道路结冰", "11B21", _YOR, ("road icing", "icy roads")),
        Signal("干旱", "11B22", ("Orange", "Red"), ("drought",)),
    )
}
SIGNAL_BY_CODE = {s.code: s for s in SIGNALS.values()}
_SIGNAL_TEXT = re.compile(
    r"^(?P<name>" + "|".join(sorted(SIGNALS, key=len, reverse=True)) + r")(蓝色|黄色|橙色|红色)?(预警)?(信号)?$"
)
_SIGNAL_ENGLISH = {alias: s.name for s in SIGNALS.values() for alias in s.english}

# OASIS severities carry no colour; the national scale (IV..I = Blue..Red) is matched
# by rank, so a neighbour's "Minor" gale is our 大风蓝色. Unknown stays unknown.
OASIS_SEVERITY_COLOUR: dict[str, str | None] = {
    "Extreme": "Red",
    "Severe": "Orange",
    "Moderate": "Yellow",
    "Minor": "Blue",
    "Unknown": None,
}
# The national profile sends the colour; Chinese names and grades IV..I are accepted too.
_NATIONAL_SEVERITY: dict[str, str | None] = {
    key.lower(): colour
    for names in (COLOURS, ("蓝色", "黄色", "橙色", "红色"), ("IV", "III", "II", "I"), ("Ⅳ", "Ⅲ", "Ⅱ", "Ⅰ"))
    for key, colour in zip(names, COLOURS, strict=True)
} | {"unknown": None}
_EVENT_CODE = re.compile(r"^1[1-4][A-Z]\d{2}$")
_DIVISION_CODE = re.compile(r"^(?:[0-9]{6}|[0-9]{9}|[0-9]{12})$")
# An OASIS reference "sender,identifier,sent"; the time may also be in the national form.
_TRIPLE = re.compile(r"([^\s,]+),([^\s,]+),(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)")

WARNINGS = Dataset(
    source=SOURCE,
    name="warnings",
    title="预警信息 CAP warnings",
    mode="incremental",
    primary_key=("identifier",),
    fields=(
        Field("identifier", "text", required=True, description="预警信息唯一标识 CAP identifier"),
        Field("profile", "text", required=True, description="national (GB/T 35965.1) | oasis (CAP 1.2)"),
        Field("sender", "text", description="发布单位代码 senderCode (national) / <sender> (OASIS)"),
        Field("sender_name", "text", description="发布单位 sender name"),
        Field("sent_at", "timestamptz", required=True, description="发布时间 sendTime / sent"),
        Field("status", "text", description="状态 Actual | Exercise | System | Test | Draft"),
        Field("msg_type", "text", required=True, description="类型 Alert | Update | Cancel"),
        Field("scope", "text", description="范围 Public | Restricted | Private"),
        Field("references", "json", description="被更新/解除的预警标识 identifiers this message updates or cancels"),
        Field("event_type_code", "text", description="事件类型代码 GB/T 35965.1 event type, e.g. 11B03"),
        Field("event_name", "text", description="事件名称 event as named by the sender"),
        Field("signal", "text", description="预警信号 one of the 14 signals of 中国气象局令第16号, e.g. 暴雨"),
        Field("severity_colour", "text", description="预警级别 Blue | Yellow | Orange | Red (OASIS mapped by rank)"),
        Field("severity_raw", "text", description="原始级别 severity as sent"),
        Field("urgency", "text", description="紧急程度 urgency"),
        Field("certainty", "text", description="确定程度 certainty"),
        Field("effective_at", "timestamptz", description="生效时间 effective"),
        Field("onset_at", "timestamptz", description="开始时间 onset"),
        Field("expires_at", "timestamptz", description="失效时间 expires"),
        Field("headline", "text", description="标题 headline"),
        Field("description", "text", description="内容 description"),
        Field("instruction", "text", description="防御指南 instruction"),
        Field("area_desc", "text", description="影响区域 area description ('; ' between areas)"),
        Field("division_codes", "json", description="行政区划代码 12-digit division codes of the areas"),
        Field("polygon", "text", description="多边形 CAP polygons, 'lat,lon lat,lon ...', ';' between polygons"),
        Field("channels", "json", description="发布手段 national <code><method> blocks (null for OASIS)"),
        Field("raw_xml_sha256", "text", description="原文摘要 sha256 of the message bytes as received"),
        Field("rejection", "json", description="拒收原因 why the connector refused the message (quarantined only)"),
    ),
)


class CapRefused(DataRejected, ValueError):
    """XML the connector will not read, with the field (or XSD path) at fault."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field_name = field_name
        self.reason = reason


@dataclass(frozen=True)
class FeedEntry:
    identifier: str | None
    updated: datetime | None  # aware (UTC)
    href: str | None
    problem: str | None = None


def parse_xml(body: bytes, what: str, max_bytes: int) -> Element:
    """Parse untrusted XML: bounded size, no DTD, no entities, no network."""
    if len(body) > max_bytes:
        raise CapRefused("xml", f"{what} is {len(body)} bytes, over the {max_bytes}-byte limit; not parsed")
    try:
        return SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CapRefused(
            "xml",
            f"refused: {what} carries a DTD or entity declarations ({type(exc).__name__}); "
            "they are never resolved (XXE)",
        ) from None
    except (ParseError, ValueError, LookupError) as exc:
        raise CapRefused("xml", f"{what} is not well-formed XML: {exc}") from None


def _text(el: Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    text = el.text.strip()
    return text or None


def _split_tag(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


# ---------------------------------------------------------------- the Atom feed


def parse_feed(body: bytes, what: str, max_bytes: int = MAX_FEED_BYTES) -> list[FeedEntry]:
    """The feed's entries in document order; raises :class:`CapRefused` for a bad feed."""
    root = parse_xml(body, what, max_bytes)
    if root.tag != f"{{{ATOM_NS}}}feed":
        raise CapRefused("feed", f"{what}: root element is {root.tag!r}, not an Atom 1.0 <feed>")
    entries = []
    for number, entry in enumerate(root.findall(f"{{{ATOM_NS}}}entry"), start=1):
        identifier = _text(entry.find(f"{{{ATOM_NS}}}id"))
        updated_text = _text(entry.find(f"{{{ATOM_NS}}}updated"))
        problem = None
        updated = None
        try:
            updated = parse_time(updated_text) if updated_text else None
        except ValueError:
            problem = f"feed entry {number} has <updated> {updated_text!r}, not a time"
        if updated is None and problem is None:
            problem = f"feed entry {number} has no <updated>"
        if identifier is None:
            problem = f"feed entry {number} has no <id>"
        entries.append(FeedEntry(identifier, updated, _entry_link(entry), problem))
    return entries


def _entry_link(entry: Element) -> str | None:
    """The entry's rel="alternate" link (Atom: a link without rel is one); None if it has none."""
    for link in entry.findall(f"{{{ATOM_NS}}}link"):
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return link.get("href")
    return None


# ---------------------------------------------------------------- messages


@lru_cache(maxsize=1)
def cap12_schema() -> xmlschema.XMLSchema:
    # "sandbox": the schema may only read files beside it (it imports none), never the network.
    return xmlschema.XMLSchema(str(SCHEMA_PATH), allow="sandbox", defuse="always")


def validate_oasis(root: Element) -> None:
    """Raise :class:`CapRefused` naming the first XSD violation (path and reason)."""
    resource = xmlschema.XMLResource(root, allow="none", defuse="always")
    errors = list(itertools.islice(cap12_schema().iter_errors(resource), 20))
    if not errors:
        return
    first = errors[0]
    path = re.sub(r"\{[^}]*\}", "", first.path or "") or "/alert"
    more = f" (and {len(errors) - 1}{'+' if len(errors) == 20 else ''} more)" if len(errors) > 1 else ""
    raise CapRefused(path, f"not valid against CAP-v1.2.xsd at {path}: {first.reason}{more}")


def reference_ids(text: str | None) -> list[str]:
    """Identifiers named by ``<references>``: bare identifiers or OASIS triples, in order, once each."""
    if not text:
        return []
    ids: list[str] = []

    def bare(chunk: str) -> None:
        ids.extend(part for part in re.split(r"[\s,]+", chunk) if part)

    position = 0
    for match in _TRIPLE.finditer(text):
        bare(text[position : match.start()])
        ids.append(match.group(2))
        position = match.end()
    bare(text[position:])
    return list(dict.fromkeys(ids))


def refused_record(
    identifier: str | None, field_name: str, reason: str, *, url: str = "", sha256: str | None = None
) -> dict[str, Any]:
    """The record of a message that was not read: every declared key, mostly empty."""
    record: dict[str, Any] = dict.fromkeys(WARNINGS.field_names)
    record.update(
        identifier=identifier,
        raw_xml_sha256=sha256,
        rejection={"field": field_name, "reason": reason, "url": url},
    )
    return record


def message_record(
    feed_identifier: str | None, body: bytes, *, url: str = "", max_bytes: int = MAX_MESSAGE_BYTES
) -> dict[str, Any]:
    """One warning record from one message's bytes; a refused message yields a rejection record."""
    sha = hashlib.sha256(body).hexdigest()
    try:
        record = parse_message(body, max_bytes=max_bytes)
    except CapRefused as exc:
        return refused_record(feed_identifier, exc.field_name, exc.reason, url=url, sha256=sha)
    if feed_identifier is not None and record["identifier"] != feed_identifier:
        reason = f"message identifier {record['identifier']!r} differs from the feed entry {feed_identifier!r}"
        return refused_record(feed_identifier, "identifier", reason, url=url, sha256=sha)
    record["raw_xml_sha256"] = sha
    return record


def parse_message(body: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> dict[str, Any]:
    root = parse_xml(body, "message", max_bytes)
    ns, local = _split_tag(root.tag)
    if local != "alert":
        raise CapRefused("xml", f"root element is <{local}>, not a CAP <alert>")
    if ns == CAP12_NS:
        validate_oasis(root)
        return _Reader(root, ns).record("oasis")
    if ns == "":
        return _Reader(root, ns).record("national")
    raise CapRefused("xml", f"namespace {ns!r} is neither CAP 1.2 nor the national profile (no namespace)")


class _Reader:
    """Element lookups in one namespace (empty for the national profile)."""

    def __init__(self, root: Element, ns: str) -> None:
        self.root = root
        self.ns = ns

    def q(self, tag: str) -> str:
        return f"{{{self.ns}}}{tag}" if self.ns else tag

    def get(self, el: Element | None, tag: str) -> str | None:
        return None if el is None else _text(el.find(self.q(tag)))

    def record(self, profile: str) -> dict[str, Any]:
        root = self.root
        info = self._info()
        areas = info.findall(self.q("area")) if info is not None else []
        national = profile == "national"
        sender = (self.get(root, "senderCode") or self.get(root, "sender")) if national else self.get(root, "sender")
        return {
            "identifier": self.get(root, "identifier"),
            "profile": profile,
            "sender": sender,
            "sender_name": self.get(info, "senderName") or (self.get(root, "sender") if national else None),
            "sent_at": self.get(root, "sendTime") or self.get(root, "sent"),
            "status": self.get(root, "status"),
            "msg_type": self.get(root, "msgType"),
            "scope": self.get(root, "scope"),
            "references": reference_ids(self.get(root, "references")),
            "event_type_code": self.get(info, "eventType") if national else self._oasis_event_code(info),
            "event_name": self.get(info, "event"),
            "severity_raw": self.get(info, "severity"),
            "urgency": self.get(info, "urgency"),
            "certainty": self.get(info, "certainty"),
            "effective_at": self.get(info, "effective"),
            "onset_at": self.get(info, "onset"),
            "expires_at": self.get(info, "expires"),
            "headline": self.get(info, "headline"),
            "description": self.get(info, "description"),
            "instruction": self.get(info, "instruction"),
            "area_desc": "; ".join(d for a in areas if (d := self.get(a, "areaDesc"))) or None,
            "division_codes": self._geocodes(areas, keep_all=national) if areas else None,
            "polygon": ";".join(p for a in areas for p in self._all(a, "polygon")) or None,
            "channels": self._channels() if national else None,
            "raw_xml_sha256": None,
            "rejection": None,
        }

    def _all(self, el: Element, tag: str) -> list[str]:
        return [t for child in el.findall(self.q(tag)) if (t := _text(child))]

    def _info(self) -> Element | None:
        # One <info> per language; the Chinese one when there are several.
        infos = self.root.findall(self.q("info"))
        for info in infos:
            if (self.get(info, "language") or "").lower().startswith("zh"):
                return info
        return infos[0] if infos else None

    def _oasis_event_code(self, info: Element | None) -> str | None:
        if info is None:
            return None
        for code in info.findall(self.q("eventCode")):
            value = self.get(code, "value")
            if value and _EVENT_CODE.match(value):
                return value
        return None

    def _geocodes(self, areas: list[Element], *, keep_all: bool) -> list[str]:
        codes: list[str] = []
        for area in areas:
            for geocode in area.findall(self.q("geocode")):
                value = geocode.find(self.q("value"))
                raw = _text(value) if value is not None else _text(geocode)
                for part in re.split(r"[,，;\s]+", raw or ""):
                    # OASIS geocodes may be other schemes; only division codes are ours to keep.
                    if part and (keep_all or _DIVISION_CODE.match(part)):
                        codes.append(part)
        return codes

    def _channels(self) -> list[dict[str, Any]]:
        channels: list[dict[str, Any]] = []
        for code in self.root.iter(self.q("code")):
            methods = code.findall(self.q("method"))
            if not methods and _text(code):
                channels.append({"code": _text(code)})
            for method in methods:
                channels.append({_split_tag(child.tag)[1]: _text(child) for child in method})
        return channels


# ---------------------------------------------------------------- conventions


def severity_colour(profile: str | None, raw: str | None) -> str | None:
    if raw is None or not str(raw).strip():
        return None
    key = str(raw).strip()
    if profile == "oasis":
        if key not in OASIS_SEVERITY_COLOUR:
            raise FieldError("severity_raw", f"{raw!r} is not a CAP 1.2 severity")
        return OASIS_SEVERITY_COLOUR[key]
    if key.lower() not in _NATIONAL_SEVERITY:
        raise FieldError("severity_raw", f"{raw!r} is not a national severity (Blue, Yellow, Orange, Red, Unknown)")
    return _NATIONAL_SEVERITY[key.lower()]


def signal_of(event_type_code: str | None, event_name: str | None) -> str | None:
    """The 16号令 signal of a message: by event-type code, else by the event's name."""
    if event_type_code in SIGNAL_BY_CODE:
        return SIGNAL_BY_CODE[event_type_code].name
    text = (event_name or "").strip()
    match = _SIGNAL_TEXT.match(text)
    if match:
        return match.group("name")
    return _SIGNAL_ENGLISH.get(text.lower())


def division_codes(values: Any) -> list[str] | None:
    """12-digit codes; a 6- or 9-digit code (county, town) is padded with zeros as GB/T 2260 does."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [v for v in re.split(r"[,，\s]+", values) if v]
    codes: list[str] = []
    for value in values:
        code = str(value).strip()
        if not _DIVISION_CODE.match(code):
            raise FieldError("division_codes", f"{code!r} is not a 6-, 9- or 12-digit division code")
        codes.append(code.ljust(12, "0"))
    return list(dict.fromkeys(codes))


def normalise_warning(record: dict[str, Any]) -> dict[str, Any]:
    """Refusals become FieldErrors (quarantine); colours, signals and codes get the platform's form."""
    rejection = record.get("rejection")
    if rejection:
        field_name = str(rejection.get("field") or "xml") if isinstance(rejection, dict) else "xml"
        reason = str(rejection.get("reason")) if isinstance(rejection, dict) else str(rejection)
        raise FieldError(field_name, reason)
    out = dict(record)
    msg_type = out.get("msg_type")
    if msg_type is not None and msg_type not in MSG_TYPES:
        raise FieldError("msg_type", f"{msg_type!r} is not a warning message type ({', '.join(MSG_TYPES)})")
    out["severity_colour"] = severity_colour(out.get("profile"), out.get("severity_raw"))
    code = out.get("event_type_code")
    signal = signal_of(code, out.get("event_name"))
    out["signal"] = signal
    if not code and signal:
        out["event_type_code"] = SIGNALS[signal].code
    if not out.get("event_name") and code in SIGNAL_BY_CODE:
        out["event_name"] = SIGNAL_BY_CODE[code].name
    out["division_codes"] = division_codes(out.get("division_codes"))
    return out
