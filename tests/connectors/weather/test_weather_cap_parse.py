"""CAP parsing on recorded messages, both profiles (given / when / then)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.schema import FieldError, type_record
from connectors.weather import cap as weather_cap
from connectors.weather.cap import (
    WARNINGS,
    CapRefused,
    message_record,
    normalise_warning,
    parse_feed,
    reference_ids,
    severity_colour,
)

RECORDED = Path(__file__).parent / "recorded"


def _recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def _typed(name: str, feed_identifier: str | None = None) -> dict:
    return type_record(WARNINGS, normalise_warning(message_record(feed_identifier, _recorded(name))))


def test_national_alert_is_read_with_its_conventions() -> None:
    # given a national-profile rainstorm alert; when it is parsed and typed
    row = _typed("national_rainstorm_blue_alert.xml", "21038141600000_20260716051000_0")
    # then the national conventions are undone
    assert row["profile"] == "national"
    assert row["identifier"] == "21038141600000_20260716051000_0"
    assert (row["sender"], row["sender_name"]) == ("21038141600000", "海城市气象台")
    assert row["sent_at"] == datetime(2026, 7, 15, 21, 10, tzinfo=UTC)  # "2026-07-16 05:10:00+08:00"
    assert row["expires_at"] == datetime(2026, 7, 16, 9, 10, tzinfo=UTC)
    assert (row["msg_type"], row["status"], row["scope"]) == ("Alert", "Actual", "Public")
    assert (row["event_type_code"], row["event_name"], row["signal"]) == ("11B03", "暴雨", "暴雨")
    assert (row["severity_colour"], row["severity_raw"]) == ("Blue", "Blue")
    assert json.loads(row["division_codes"]) == ["210381101000", "210381102000", "210381103000"]
    assert json.loads(row["references"]) == []
    channels = json.loads(row["channels"])
    assert [c["methodName"] for c in channels] == ["短信", "农村大喇叭"]
    assert channels[0]["receiver"] == "全网短信及应急责任人短信"
    assert row["polygon"] is None
    assert row["raw_xml_sha256"] == hashlib.sha256(_recorded("national_rainstorm_blue_alert.xml")).hexdigest()
    assert row["rejection"] is None and row["_extra"] is None


def test_national_update_and_cancel_name_earlier_messages() -> None:
    update = _typed("national_rainstorm_yellow_update.xml")
    cancel = _typed("national_rainstorm_cancel.xml")
    assert update["msg_type"] == "Update" and update["severity_colour"] == "Yellow"
    assert json.loads(update["references"]) == ["21038141600000_20260716051000_0"]
    # spaces after the commas of <geocode> are tolerated
    assert json.loads(update["division_codes"])[1] == "210381102000"
    assert cancel["msg_type"] == "Cancel"
    assert json.loads(cancel["references"]) == ["21038141600000_20260716080500_0", "21038141600000_20260716051000_0"]
    # "Unknown" has no colour; a 6-digit county code becomes its 12-digit form
    assert cancel["severity_colour"] is None and cancel["severity_raw"] == "Unknown"
    assert json.loads(cancel["division_codes"]) == ["210381000000"]
    # a cancel without <senderName> still names its sender from <sender>
    assert cancel["sender_name"] == "海城市气象台"


def test_oasis_alert_is_validated_and_mapped() -> None:
    # given an OASIS CAP 1.2 gale alert with an English and a Chinese <info>
    row = _typed("oasis_gale_alert.xml")
    # then the Chinese info is read, the severity mapped by rank and the event named by its signal
    assert row["profile"] == "oasis"
    assert row["sender"] == "21080041600000" and row["sender_name"] == "营口市气象台"
    assert row["sent_at"] == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    assert (row["event_name"], row["signal"], row["event_type_code"]) == ("大风", "大风", "11B06")
    assert (row["severity_raw"], row["severity_colour"]) == ("Minor", "Blue")
    assert row["headline"] == "营口市气象台发布大风蓝色预警信号"
    assert row["area_desc"] == "大石桥市; 海城市西部"
    assert row["polygon"].count(";") == 1 and row["polygon"].startswith("40.780,122.300 ")
    # only division codes are kept from the geocodes (not "CN-LN")
    assert json.loads(row["division_codes"]) == ["210882000000", "210381124000", "210381127000"]
    assert row["channels"] is None


def test_oasis_references_are_triples() -> None:
    row = _typed("oasis_gale_cancel.xml")
    assert row["msg_type"] == "Cancel"
    assert json.loads(row["references"]) == ["21080041600000_20261128160000_0", "21080041600000_20261128200000_0"]
    # "大风蓝色预警" names the 大风 signal; the code comes from the signal
    assert (row["signal"], row["event_type_code"]) == ("大风", "11B06")
    assert row["division_codes"] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A_1", ["A_1"]),
        ("A_1 B_2", ["A_1", "B_2"]),
        ("A_1,B_2", ["A_1", "B_2"]),
        ("s,A_1,2026-11-28T16:00:00+08:00", ["A_1"]),
        ("s,A_1,2026-11-28T16:00:00+08:00 s,B_2,2026-11-28T20:00:00-00:00", ["A_1", "B_2"]),
        ("s,A_1,2026-11-28 16:00:00+08:00", ["A_1"]),  # a triple with a national-format time
        ("X_0 s,A_1,2026-11-28T16:00:00Z A_1", ["X_0", "A_1"]),  # mixed; each identifier once
        ("", []),
        (None, []),
    ],
)
def test_references_in_both_forms(text: str | None, expected: list[str]) -> None:
    assert reference_ids(text) == expected


@pytest.mark.parametrize(
    ("profile", "raw", "colour"),
    [
        ("oasis", "Extreme", "Red"),
        ("oasis", "Severe", "Orange"),
        ("oasis", "Moderate", "Yellow"),
        ("oasis", "Minor", "Blue"),
        ("oasis", "Unknown", None),
        ("national", "Blue", "Blue"),
        ("national", "red", "Red"),
        ("national", "橙色", "Orange"),
        ("national", "III", "Yellow"),
        ("national", "Ⅰ", "Red"),
        ("national", "Unknown", None),
        ("national", None, None),
    ],
)
def test_severity_mapping(profile: str, raw: str | None, colour: str | None) -> None:
    assert severity_colour(profile, raw) == colour


@pytest.mark.parametrize(("profile", "raw"), [("national", "Purple"), ("oasis", "Red")])
def test_unknown_severity_is_a_field_error(profile: str, raw: str) -> None:
    with pytest.raises(FieldError) as caught:
        severity_colour(profile, raw)
    assert caught.value.field_name == "severity_raw"


def _refusal(record: dict) -> tuple[str, str]:
    with pytest.raises(FieldError) as caught:
        normalise_warning(record)
    return caught.value.field_name, caught.value.reason


def test_xxe_message_is_refused_and_never_resolved() -> None:
    # given a message declaring external entities (a local file, an http canary)
    record = message_record("21038141600000_20261128190000_0", _recorded("national_xxe.xml"))
    # then it is refused as a whole, keeps its identifier, and nothing was expanded
    field, reason = _refusal(record)
    assert field == "xml" and "DTD" in reason and "XXE" in reason
    assert record["identifier"] == "21038141600000_20261128190000_0"
    assert record["description"] is None
    assert "root:" not in json.dumps(record)


def test_entity_expansion_bomb_is_refused() -> None:
    field, reason = _refusal(message_record(None, _recorded("billion_laughs.xml")))
    assert field == "xml" and "DTD" in reason


def test_oversize_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an oversize body reached the parser")

    monkeypatch.setattr(weather_cap.SafeET, "fromstring", must_not_parse)
    body = _recorded("national_rainstorm_blue_alert.xml")
    record = message_record("x", body + b" " * 2048, max_bytes=len(body) + 1024)
    field, reason = _refusal(record)
    assert field == "xml" and "over the" in reason and "not parsed" in reason
    assert record["raw_xml_sha256"]  # what was received is still identified


def test_oasis_message_invalid_against_the_xsd_is_refused_with_the_reason() -> None:
    field, reason = _refusal(message_record(None, _recorded("oasis_invalid_severity.xml")))
    assert field == "/alert/info/severity"
    assert "CAP-v1.2.xsd" in reason and "'Extreme'" in reason
    assert "(and 1 more)" in reason  # the missing <certainty>


def test_not_well_formed_message_is_refused() -> None:
    body = _recorded("national_rainstorm_blue_alert.xml")
    field, reason = _refusal(message_record("x", body[: len(body) // 2]))
    assert field == "xml" and "not well-formed" in reason


def test_message_must_be_the_one_the_feed_named() -> None:
    record = message_record("21038141600000_20260716051000_9", _recorded("national_rainstorm_blue_alert.xml"))
    field, reason = _refusal(record)
    assert field == "identifier" and "differs from the feed entry" in reason


def test_other_namespaces_are_refused() -> None:
    body = _recorded("oasis_gale_cancel.xml").replace(b"cap:1.2", b"cap:1.1")
    field, reason = _refusal(message_record(None, body))
    assert field == "xml" and "cap:1.1" in reason


def test_non_warning_message_type_is_quarantined() -> None:
    record = message_record(None, _recorded("oasis_gale_cancel.xml").replace(b">Cancel<", b">Ack<"))
    assert record["rejection"] is None  # valid CAP 1.2...
    field, reason = _refusal(record)  # ...but not a warning
    assert field == "msg_type" and "'Ack'" in reason


def test_bad_division_code_is_quarantined() -> None:
    body = _recorded("national_rainstorm_blue_alert.xml").replace(b"210381103000</geocode>", b"21038110300</geocode>")
    field, reason = _refusal(message_record(None, body))
    assert field == "division_codes" and "'21038110300'" in reason


def test_bad_time_is_a_typing_error_on_its_field() -> None:
    body = _recorded("national_rainstorm_blue_alert.xml").replace(b"2026-07-16 17:10:00+08:00", b"16/07 17:10")
    with pytest.raises(FieldError) as caught:
        type_record(WARNINGS, normalise_warning(message_record(None, body)))
    assert caught.value.field_name == "expires_at"


def test_feed_entries_and_links() -> None:
    entries = parse_feed(_recorded("feed.xml"), "GET /cap/feed")
    assert [e.identifier for e in entries] == [
        "21038141600000_20260716080500_0",
        "21038141600000_20260716080500_0",
        "21038141600000_20260716051000_0",
    ]
    assert entries[0].updated == datetime(2026, 7, 16, 0, 25, tzinfo=UTC)
    assert entries[2].href == "/cap/messages/21038141600000_20260716051000_0.xml"
    assert all(e.problem is None for e in entries)


def test_feed_entry_without_id_or_time_is_a_problem_not_a_crash() -> None:
    body = _recorded("feed.xml").replace(b"<id>21038141600000_20260716051000_0</id>", b"")
    body = body.replace(b"<updated>2026-07-16T08:05:00+08:00</updated>", b"<updated>yesterday</updated>")
    problems = [e.problem for e in parse_feed(body, "feed")]
    assert problems[0] is None
    assert problems[1] == "feed entry 2 has <updated> 'yesterday', not a time"
    assert problems[2] == "feed entry 3 has no <id>"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<rss><channel/></rss>", "not an Atom 1.0 <feed>"),
        (b'<!DOCTYPE feed [<!ENTITY x "y">]><feed xmlns="http://www.w3.org/2005/Atom"/>', "XXE"),
        (b"<feed", "not well-formed"),
    ],
)
def test_bad_feed_is_refused(body: bytes, fragment: str) -> None:
    with pytest.raises(CapRefused, match=fragment):
        parse_feed(body, "GET /cap/feed")


def test_the_fourteen_signals_of_order_16_and_their_colours() -> None:
    expected = {
        "台风": "BYOR",
        "暴雨": "BYOR",
        "暴雪": "BYOR",
        "寒潮": "BYOR",
        "大风": "BYOR",
        "高温": "YOR",
        "沙尘暴": "YOR",
        "雷电": "YOR",
        "大雾": "YOR",
        "道路结冰": "YOR",
        "干旱": "OR",
        "冰雹": "OR",
        "霜冻": "BYO",
        "霾": "YO",
    }
    got = {name: "".join(c[0] for c in s.colours) for name, s in weather_cap.SIGNALS.items()}
    assert got == expected
    assert weather_cap.SIGNALS["暴雨"].code == "11B03" and weather_cap.SIGNALS["道路结冰"].code == "11B21"
    assert len({s.code for s in weather_cap.SIGNALS.values()}) == 14
