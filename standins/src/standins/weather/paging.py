"""The ``page_token``: an opaque keyset cursor.

It is the URL-safe base64 (unpadded) of ``{"v":1,"h":<obs_time epoch s>,"s":<station_id>}``,
the key of the last row of the previous page. A keyset (not an offset) keeps
paging exact while rows are re-issued or new hours appear between pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from standins.weather.observations import RowKey


def encode_token(key: RowKey) -> str:
    payload = json.dumps({"v": 1, "h": int(key[0].timestamp()), "s": key[1]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode_token(token: str) -> RowKey:
    """Raise ``ValueError`` for anything this server did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if payload.get("v") != 1 or not isinstance(payload.get("s"), str):
            raise ValueError
        hour = datetime.fromtimestamp(int(payload["h"]), tz=UTC)
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error, OverflowError):
        raise ValueError("page_token is not a token this server issued") from None
    return hour, payload["s"]
