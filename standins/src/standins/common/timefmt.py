"""Time parsing and formatting in the departments' conventions."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# China has kept UTC+08:00 without DST since 1991, so a fixed offset is exact
# and formats as "+08:00" (zoneinfo would too, but needs tzdata on Windows).
CST = timezone(timedelta(hours=8))


def iso_cst(moment: datetime) -> str:
    """``2026-11-28T10:00:00+08:00``: seconds precision, Asia/Shanghai offset."""
    return as_aware(moment).astimezone(CST).isoformat(timespec="seconds")


def as_aware(moment: datetime) -> datetime:
    """Naive times are local time (Asia/Shanghai), as the interface README says."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CST)


def parse_iso_with_offset(value: str, name: str) -> datetime:
    """Parse an ISO 8601 timestamp that must carry an offset.

    Raises ``ValueError`` with a message meant for the HTTP client.
    """
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        hint = ""
        if " " in value:
            # The classic client bug: an unencoded "+" in a query string arrives as a space.
            hint = " (a '+' in a query string must be sent as %2B)"
        raise ValueError(f"{name} {value!r} is not an ISO 8601 timestamp{hint}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} {value!r} has no UTC offset; send e.g. 2026-11-28T00:00:00+08:00")
    return parsed


def parse_iso_local_default(value: str, name: str) -> datetime:
    """Parse ISO 8601; without an offset the time is Asia/Shanghai local time."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 timestamp") from None
    return as_aware(parsed)


def local_date(moment: datetime) -> date:
    return as_aware(moment).astimezone(CST).date()


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + timedelta(hours=1)
