"""Hostile CAP XML (hypothesis): entities, wrong namespaces, missing fields, hostile and huge text.

Given a recorded national or OASIS message mutated by hypothesis (or bytes that are no XML at all),
when it is read as the connector reads it (``message_record``, then the shared typing), then nothing
escapes but a quarantine entry with a reason (``CapRefused`` and ``FieldError`` become records), and a
good message in the same batch still loads.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from hypothesis import given
from hypothesis import strategies as st

from connectors.weather.cap import MAX_MESSAGE_BYTES, WARNINGS, message_record
from connectors.weather.source import WeatherSource
from tests.support.fuzz import FUZZ, assert_accounted, hostile_text, quarantined_indexes, type_records

RECORDED = Path(__file__).parent / "recorded"
MESSAGES = {
    name: (RECORDED / name).read_text("utf-8")
    for name in ("national_rainstorm_blue_alert.xml", "oasis_gale_alert.xml", "national_rainstorm_cancel.xml")
}
TAGS = sorted({t for text in MESSAGES.values() for t in re.findall(r"<([A-Za-z]+)>", text)})
SOURCE = WeatherSource("http://127.0.0.1:9", "key")  # never contacted: parsing and normalising only


def _replace_text(xml: str, tag: str, text: str, escaped: bool) -> str:
    value = escape(text) if escaped else text
    return re.sub(rf"<{tag}>[^<]*</{tag}>", lambda _: f"<{tag}>{value}</{tag}>", xml, count=1)


def _drop(xml: str, tag: str) -> str:
    return re.sub(rf"\s*<{tag}>[^<]*</{tag}>", "", xml, count=1)


def _namespace(xml: str, ns: str) -> str:
    xml = xml.replace(' xmlns="urn:oasis:names:tc:emergency:cap:1.2"', "")
    return xml.replace("<alert>", f'<alert xmlns="{escape(ns, {chr(34): "&quot;"})}">', 1)


_DOCTYPES = [
    '<!DOCTYPE alert [<!ENTITY x "boom">]>',
    '<!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE alert [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE alert SYSTEM "http://127.0.0.1:9/cap.dtd">',
]


def _doctype(xml: str, decl: str) -> str:
    body = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + decl + body.replace("</identifier>", "&x;</identifier>", 1)


mutation = st.one_of(
    st.just(("text", None)),  # which element and what text: drawn in _mutate
    st.tuples(st.just("drop"), st.sampled_from(TAGS)),
    st.tuples(
        st.just("ns"),
        st.sampled_from(["urn:oasis:names:tc:emergency:cap:1.1", "urn:oasis:names:tc:emergency:cap:1.2", "x", ""]),
    ),
    st.tuples(st.just("doctype"), st.sampled_from(_DOCTYPES)),
    st.tuples(st.just("huge"), st.integers(MAX_MESSAGE_BYTES // 4, MAX_MESSAGE_BYTES * 2)),
)


def _mutate(xml: str, steps: list, data: st.DataObject) -> bytes:
    for kind, arg in steps:
        if kind == "text":
            tag, text, escaped = data.draw(st.tuples(st.sampled_from(TAGS), hostile_text, st.booleans()))
            xml = _replace_text(xml, tag, text, escaped)
        elif kind == "drop":
            xml = _drop(xml, arg)
        elif kind == "ns":
            xml = _namespace(xml, arg)
        elif kind == "doctype":
            xml = _doctype(xml, arg)
        else:
            xml = _replace_text(xml, "description", "暴" * (arg // 3), escaped=True)
    return xml.encode("utf-8")


@FUZZ
@given(
    st.sampled_from(sorted(MESSAGES)),
    st.lists(mutation, min_size=1, max_size=3),
    st.data(),
)
def test_hostile_cap_messages_are_quarantined_and_a_good_one_still_loads(name: str, steps: list, data) -> None:
    # given a good message and a mutated one
    good = message_record(None, MESSAGES["oasis_gale_alert.xml"].encode("utf-8"))
    body = _mutate(MESSAGES[name], steps, data)
    # when the mutated one is read: no exception, a record (the message or its refusal)
    hostile = message_record(None, body)
    assert isinstance(hostile, dict)
    if hostile.get("identifier") == good["identifier"]:
        hostile["identifier"] = "other"  # keep the two apart by key
    # then typing accounts for both, and the good one loads
    typed = type_records(SOURCE, WARNINGS, [good, hostile])
    assert_accounted(typed, 2)
    assert 0 not in quarantined_indexes(typed)
    assert good["identifier"] in {row["identifier"] for row in typed.rows.values()}
    for entry in typed.quarantined:
        assert entry["field"] and entry["reason"]


@FUZZ
@given(st.binary(max_size=400))
def test_bytes_that_are_no_xml_become_a_refusal_record(body: bytes) -> None:
    record = message_record("feed-id", body)
    typed = type_records(SOURCE, WARNINGS, [record])
    assert_accounted(typed, 1)
