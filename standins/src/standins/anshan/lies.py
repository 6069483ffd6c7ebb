"""A city that lies on purpose: ``200`` answers that are not a receipt of the batch.

The county must believe a receipt only when it names its batch, accounts for
every record sent and points each rejection at a record of the batch (see
``edp.exchange.receipts``). The fault switch ``lie`` (``POST /__admin/faults``)
replaces every 200 receipt, to a push or a lookup, by one of these; with
``lie_without_storing`` the push is answered without storing the batch (the
city never got it), otherwise the batch is stored first and only the answer lies.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.responses import JSONResponse, Response

LIES = {
    "": "honest receipts",
    "wrong_batch_id": "the receipt names another batch",
    "short_accepted": "accepted is one short of the records sent (a rejected entry missing)",
    "bad_digest": "the receipt carries a records_sha256 that is not the batch's",
    "foreign_rejected": "a rejected entry names a record that is not at its index in the batch",
    "empty_body": "200 with an empty body",
    "not_json": "200 with an HTML page",
    "oversized": "a receipt padded to 3 MB, more than any receipt can be",
}


def check_lie(value: Any) -> None:
    if isinstance(value, str) and value not in LIES:
        known = ", ".join(repr(k) for k in LIES)
        raise ValueError(f"lie must be one of {known}")


def _other_batch(batch_id: str) -> str:
    head, _, seq = batch_id.rpartition("-")
    return f"{head}-{'000001' if seq == '999999' else '999999'}"


def lying_answer(lie: str, receipt: dict[str, Any]) -> Response:
    """The 200 the lying city sends instead of ``receipt``."""
    if lie == "empty_body":
        return Response(b"", status_code=200, media_type="application/json")
    if lie == "not_json":
        return Response("<html><body>接收成功 OK</body></html>", status_code=200, media_type="text/html")
    forged = {**receipt, "rejected": list(receipt["rejected"])}
    if lie == "wrong_batch_id":
        forged["batch_id"] = _other_batch(receipt["batch_id"])
    elif lie == "short_accepted":
        forged["accepted"] = receipt["accepted"] - 1 if receipt["accepted"] else 1
    elif lie == "bad_digest":
        forged["records_sha256"] = hashlib.sha256(b"not the records of this batch").hexdigest()
    elif lie == "foreign_rejected":
        forged["accepted"] = max(receipt["accepted"] - 1, 0)
        forged["rejected"].append({"index": 0, "record_id": "not-a-record-of-this-batch", "reason": "数据存疑"})
    elif lie == "oversized":
        forged["padding"] = "回执" * 1_500_000
    return JSONResponse(forged)
