"""OGC documents of the 自然资源局 WFS: ExceptionReport and GetCapabilities (parsed with defusedxml).

An ExceptionReport can come with HTTP 400, 500 or even 200 (natural_resources.md),
so a body is recognised by its root element, not by the status code.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from connectors.http import SourceRejected


class WfsExceptionReport(SourceRejected):
    """The WFS answered an OGC ExceptionReport: names its exceptionCode, locator and text."""

    def __init__(self, message: str, status: int, exceptions: list[dict[str, str | None]]) -> None:
        super().__init__(message, status)
        self.exceptions = exceptions

    @property
    def code(self) -> str | None:
        return self.exceptions[0]["code"] if self.exceptions else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def looks_like_xml(body: bytes, content_type: str) -> bool:
    return "xml" in content_type.lower() or body.lstrip()[:1] == b"<"


def parse_xml(body: bytes) -> Element | None:
    try:
        return SafeET.fromstring(body)
    except (ParseError, DefusedXmlException):
        return None


def exception_report(body: bytes, status: int, where: str) -> WfsExceptionReport | None:
    """The error an ExceptionReport body stands for, or None if the body is not one."""
    root = parse_xml(body)
    if root is None or _local(root.tag) != "ExceptionReport":
        return None
    found: list[dict[str, str | None]] = []
    for exc in root:
        if _local(exc.tag) != "Exception":
            continue
        texts = [" ".join((t.text or "").split()) for t in exc if _local(t.tag) == "ExceptionText"]
        found.append({"code": exc.get("exceptionCode"), "locator": exc.get("locator"), "text": "; ".join(texts)})
    detail = (
        "; ".join(f"exceptionCode={e['code']} locator={e['locator'] or '-'}: {e['text'] or '(no text)'}" for e in found)
        or "(empty ExceptionReport)"
    )
    return WfsExceptionReport(
        f"natural_resources: {where} answered an OGC ExceptionReport (HTTP {status}): {detail}", status, found
    )


def feature_type_names(body: bytes) -> list[str]:
    """``FeatureTypeList/FeatureType/Name`` of a WFS 2.0 (or 1.1) capabilities document."""
    root = parse_xml(body)
    if root is None:
        raise ValueError("GetCapabilities did not answer XML")
    if _local(root.tag) != "WFS_Capabilities":
        raise ValueError(f"GetCapabilities answered <{_local(root.tag)}>, not WFS_Capabilities")
    names = []
    for element in root.iter():
        if _local(element.tag) == "FeatureType":
            for child in element:
                if _local(child.tag) == "Name" and child.text:
                    names.append(child.text.strip())
    return names
