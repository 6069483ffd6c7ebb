"""Warnings as XML: the national profile (GB/T 35965.1) and OASIS CAP 1.2, plus the faulty ones.

National messages have no namespace, ``<senderCode>``, ``<sendTime>`` as
``YYYY-MM-DD hh:mm:ss+08:00``, ``<eventType>``, the colour as ``<severity>``, a
comma-separated ``<geocode>`` and ``<code><method>`` channel blocks. OASIS messages
follow the XSD's element order, carry the national event code as an
``<eventCode>`` and the colour by rank as ``<severity>``, and name earlier
messages as ``sender,identifier,sent`` triples. Damaged variants (fault switches):
``malformed`` is cut off mid-element, ``xsd_invalid`` has a non-CAP severity and no
``<certainty>``, ``xxe`` declares external entities (a local file and the
stand-in's canary URL), ``oversize`` embeds a ~1.6 MB chart in ``<derefUri>``.
"""

from __future__ import annotations

import base64
from datetime import datetime
from functools import lru_cache
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from standins.common.determinism import rng
from standins.common.timefmt import CST, iso_cst
from standins.weather.cap_catalogue import CHANNELS, OASIS_SEVERITY
from standins.weather.cap_scenario import CapWarning

CAP12_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CANARY_PATH = "/__admin/cap/canary"
OVERSIZE_IMAGE_BYTES = 1_200_000
_XXE_MARK = "XXE-ENTITIES"


def national_time(moment: datetime) -> str:
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S+08:00")


def render(warning: CapWarning, base_url: str = "http://localhost/") -> bytes:
    """The message's bytes; ``base_url`` is only used by the XXE variant's canary entity."""
    if warning.fault == "xxe":
        return _xxe(warning, base_url)
    if warning.fault == "oversize":
        return _oversize(warning.identifier, warning)
    body = _oasis(warning) if warning.profile == "oasis" else _national(warning)
    if warning.fault == "malformed":
        # A transfer cut off part-way: the document ends inside <info>.
        return body[: int(len(body) * 0.6)]
    return body


def _sub(parent: Element, tag: str, text: str | None = None) -> Element:
    child = SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _serialise(root: Element, default_namespace: str | None = None) -> bytes:
    indent(root, space="  ")
    return tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=default_namespace) + b"\n"


def _national(w: CapWarning, description: str | None = None) -> bytes:
    root = Element("alert")
    for tag, text in (
        ("identifier", w.identifier),
        ("sender", w.sender.name),
        ("senderCode", w.sender.code),
        ("sendTime", national_time(w.sent)),
        ("status", "Actual"),
        ("msgType", w.msg_type),
        ("scope", "Public"),
    ):
        _sub(root, tag, text)
    code = _sub(root, "code")
    for name, receiver, template in CHANNELS:
        method = _sub(code, "method")
        _sub(method, "methodName", name)
        _sub(method, "receiver", receiver)
        _sub(method, "message", template.format(sender=w.sender.name, headline=w.headline))
    if w.references:
        _sub(root, "references", " ".join(r.identifier for r in w.references))
    info = _sub(root, "info")
    _sub(info, "language", "zh-CN")
    _sub(info, "eventType", w.signal_code)
    _sub(info, "urgency", _urgency(w))
    _sub(info, "severity", w.colour)
    _sub(info, "certainty", "Observed" if w.msg_type == "Cancel" else "Likely")
    _sub(info, "effective", national_time(w.effective))
    if w.onset is not None:
        _sub(info, "onset", national_time(w.onset))
    _sub(info, "expires", national_time(w.expires))
    _sub(info, "senderName", w.sender.name)
    _sub(info, "headline", w.headline)
    _sub(info, "description", description if description is not None else w.description)
    _sub(info, "instruction", w.instruction)
    area = _sub(info, "area")
    _sub(area, "areaDesc", w.area_desc)
    if w.polygon:
        _sub(area, "polygon", w.polygon)
    _sub(area, "geocode", ",".join(w.codes))
    return _serialise(root)


def _urgency(w: CapWarning) -> str:
    if w.msg_type == "Cancel":
        return "Past"
    return "Immediate" if w.onset is not None and w.onset <= w.sent else "Expected"


def _oasis(w: CapWarning, resource: tuple[str, str, int] | None = None) -> bytes:
    def q(tag: str) -> str:
        return f"{{{CAP12_NS}}}{tag}"

    invalid = w.fault == "xsd_invalid"
    root = Element(q("alert"))
    for tag, text in (
        ("identifier", w.identifier),
        ("sender", w.sender.code),
        ("sent", iso_cst(w.sent)),
        ("status", "Actual"),
        ("msgType", w.msg_type),
        ("scope", "Public"),
    ):
        _sub(root, q(tag), text)
    if w.references:
        _sub(root, q("references"), " ".join(f"{r.sender.code},{r.identifier},{iso_cst(r.sent)}" for r in w.references))
    info = _sub(root, q("info"))
    _sub(info, q("language"), "zh-CN")
    _sub(info, q("category"), "Met")
    _sub(info, q("event"), w.signal)
    _sub(info, q("responseType"), "AllClear" if w.msg_type == "Cancel" else "Prepare")
    _sub(info, q("urgency"), _urgency(w))
    # The damaged variant: a Chinese grade instead of a CAP severity, and no <certainty>.
    _sub(info, q("severity"), "一般" if invalid else OASIS_SEVERITY[w.colour])
    if not invalid:
        _sub(info, q("certainty"), "Observed" if w.msg_type == "Cancel" else "Likely")
    event_code = _sub(info, q("eventCode"))
    _sub(event_code, q("valueName"), "GB/T 35965.1")
    _sub(event_code, q("value"), w.signal_code)
    _sub(info, q("effective"), iso_cst(w.effective))
    if w.onset is not None:
        _sub(info, q("onset"), iso_cst(w.onset))
    _sub(info, q("expires"), iso_cst(w.expires))
    for tag, text in (
        ("senderName", w.sender.name),
        ("headline", w.headline),
        ("description", w.description),
        ("instruction", w.instruction),
    ):
        _sub(info, q(tag), text)
    if resource is not None:
        desc, data, size = resource
        res = _sub(info, q("resource"))
        _sub(res, q("resourceDesc"), desc)
        _sub(res, q("mimeType"), "image/png")
        _sub(res, q("size"), str(size))
        _sub(res, q("derefUri"), data)
    area = _sub(info, q("area"))
    _sub(area, q("areaDesc"), w.area_desc)
    if w.polygon:
        _sub(area, q("polygon"), w.polygon)
    for code in w.codes:
        geocode = _sub(area, q("geocode"))
        _sub(geocode, q("valueName"), "GB/T 2260")
        _sub(geocode, q("value"), code)
    return _serialise(root, default_namespace=CAP12_NS)


@lru_cache(maxsize=4)
def _oversize(identifier: str, w: CapWarning) -> bytes:
    # A province-wide chart embedded as base64: valid CAP, just far too big for a warning.
    image = rng(identifier, "chart").randbytes(OVERSIZE_IMAGE_BYTES)
    data = base64.b64encode(b"\x89PNG\r\n\x1a\n" + image).decode("ascii")
    return _oasis(w, resource=("寒潮落区图", data, len(image) + 8))


def _xxe(w: CapWarning, base_url: str) -> bytes:
    body = _national(w, description=_XXE_MARK).decode("utf-8")
    canary = base_url.rstrip("/") + CANARY_PATH
    doctype = (
        f'<!DOCTYPE alert [\n  <!ENTITY local SYSTEM "file:///etc/passwd">\n  <!ENTITY canary SYSTEM "{canary}">\n]>\n'
    )
    head, _, rest = body.partition("\n")
    rest = rest.replace(_XXE_MARK, "大雾预警（详见附件）&local;&canary;")
    return f"{head}\n{doctype}{rest}".encode()
