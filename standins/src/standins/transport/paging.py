"""The list cursor: opaque to clients, a keyset position to the server.

It is the URL-safe base64 (unpadded) of ``{"v":1,"t":<updated_at ISO>,"k":<id>}``,
the (updated_at, id) of the last record of the page. A keyset (not an offset)
keeps paging exact while records change between pages: a record updated in
between moves to the end of the order and is met again there, never twice
in the old place.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

Position = tuple[datetime, str]


def encode_cursor(position: Position) -> str:
    payload = json.dumps({"v": 1, "t": position[0].isoformat(), "k": position[1]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """Raise ``ValueError`` for anything this server did not hand out."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if payload.get("v") != 1 or not isinstance(payload.get("k"), str):
            raise ValueError
        moment = datetime.fromisoformat(payload["t"])
        if moment.tzinfo is None:
            raise ValueError
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error, UnicodeDecodeError):
        raise ValueError("cursor is not a cursor this server issued") from None
    return moment, payload["k"]
