"""交通运输局 transport bureau: road events, bridges, hazmat carriers and waybills (transport.md).

A REST API behind OAuth 2.0 client credentials (:mod:`connectors.transport.auth`),
listing each resource by (``updated_at``, id) in cursor pages. Every dataset is
incremental; the cursor rule that reads shared ``updated_at`` stamps neither
twice nor never is :mod:`connectors.transport.cursor`. The datasets and why
nothing in them is personal information (so the landed page bodies are the
bureau's original bytes): :mod:`connectors.transport.datasets`.

Options (``sources.yml``): ``page_size`` (≤ 500, default 500), ``max_seconds``
(retry budget per call, 120), ``timeout_seconds`` (per request, 30; a slower
answer is retried like a 503), ``rate_per_second`` (10), ``token_margin_seconds``
(renew a token this long before it expires, 30; at most a tenth of its
lifetime), ``since_exclusive`` (false; see the cursor module) and
``initial_updated_since`` (ISO 8601; the first run starts there instead of
reading everything the bureau has).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

from connectors.base import CheckResult, Page, Source
from connectors.context import SourceContext
from connectors.http import HttpClient, SourceRejected, SourceUnavailable
from connectors.limits import Limits, check_page
from connectors.schema import LOCAL_TZ, Dataset, FieldError, parse_time
from connectors.transport.auth import ClientCredentials
from connectors.transport.cursor import Cursor, CursorRule
from connectors.transport.datasets import ENDPOINTS, SOURCE, Endpoint
from edp.errors import DataRejected

DATASETS: dict[str, Dataset] = {name: e.dataset for name, e in ENDPOINTS.items()}

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500
_UN_NO = re.compile(r"\d{4}")
_COORD_LIMITS = {"lon": 180.0, "lat": 90.0}


@dataclass
class _Answer:
    body: bytes
    data: list[Any]
    next_cursor: str | None
    locator: str


class TransportSource(Source):
    name = SOURCE
    title = "交通运输局 transport bureau"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        page_size: int = MAX_PAGE_SIZE,
        max_seconds: float = 120.0,
        timeout_seconds: float = 30.0,
        max_attempts: int = 8,
        rate_per_second: float = 10.0,
        token_margin_seconds: float = 30.0,
        since_exclusive: bool = False,
        initial_updated_since: datetime | None = None,
        limits: Limits | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"transport: page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        self.limits = limits or Limits()
        self.http = HttpClient(
            base_url,
            source=SOURCE,
            timeout=timeout_seconds,
            max_seconds=max_seconds,
            max_attempts=max_attempts,
            rate_per_second=rate_per_second,
            max_body_bytes=self.limits.max_body_bytes,
        )
        self.auth = ClientCredentials(self.http, client_id, client_secret, margin_seconds=token_margin_seconds)
        # Never ask for more than a page may hold (limits.max_page_records).
        self.page_size = min(page_size, self.limits.max_page_records)
        self.since_exclusive = since_exclusive
        self.initial_since = initial_updated_since

    def datasets(self) -> dict[str, Dataset]:
        return {name: e.dataset for name, e in ENDPOINTS.items()}

    def check(self) -> CheckResult:
        try:
            answer = self._get(ENDPOINTS["road_events"].path, {"limit": 1})
        except (SourceRejected, SourceUnavailable, DataRejected) as exc:
            return CheckResult.failed(SOURCE, exc)
        return CheckResult(
            SOURCE, True, "token issued; /v2/road-events answers", {"records_on_first_page": len(answer.data)}
        )

    def read(self, dataset: str, cursor: str | None, until: datetime) -> Iterator[Page]:
        if dataset not in ENDPOINTS:
            raise KeyError(f"transport has no dataset {dataset!r} (known: {', '.join(ENDPOINTS)})")
        endpoint = ENDPOINTS[dataset]
        stored = Cursor.decode(cursor) if cursor else None
        rule = CursorRule(endpoint.key, stored, parse_time(until))
        answers = self._answers(endpoint, self._since(stored))
        try:
            yield from self._pages(rule, answers)
        finally:
            answers.close()
        if rule.dropped:
            log.info("transport.%s: %d record(s) at the stored cursor were already loaded", dataset, rule.dropped)

    def _since(self, stored: Cursor | None) -> datetime | None:
        if stored is None:
            return self.initial_since
        return stored.updated_at - timedelta(seconds=1) if self.since_exclusive else stored.updated_at

    def _pages(self, rule: CursorRule, answers: Iterator[_Answer]) -> Iterator[Page]:
        held: list[_Answer] = []
        if not rule.decided:
            # The stored group may run over several pages: hold them until it has been seen whole.
            for answer in answers:
                held.append(answer)
                if rule.reached_past_group(answer.data) or answer.next_cursor is None:
                    break
            rule.decide(record for answer in held for record in answer.data)
        for answer in chain(held, answers):
            records, reached_until = rule.select(answer.data)
            last = reached_until or answer.next_cursor is None
            cursor = rule.cursor() if last else None
            yield Page(answer.body, "application/json", records, answer.locator, cursor.encode() if cursor else None)
            if last:
                return

    def _answers(self, endpoint: Endpoint, since: datetime | None) -> Generator[_Answer, None, None]:
        params: dict[str, Any] = {"limit": self.page_size}
        if since is not None:
            params["updated_since"] = since.astimezone(LOCAL_TZ).isoformat()
        while True:
            answer = self._get(endpoint.path, params)
            yield answer
            if answer.next_cursor is None:
                return
            if answer.next_cursor == params.get("cursor"):
                raise SourceRejected(f"transport: {answer.locator} answered its own cursor; paging would loop", 200)
            params = {**params, "cursor": answer.next_cursor}

    def _get(self, path: str, params: dict[str, Any]) -> _Answer:
        response = self.auth.get(path, params)
        locator = f"GET {path}?" + "&".join(f"{k}={v}" for k, v in params.items())
        return parse_page(response.content, locator, params.get("limit"), self.limits)

    def normalise(self, dataset: str, record: dict[str, Any]) -> dict[str, Any]:
        cleaned = dict(record)
        # Live records may omit the flag; only a tombstone must say deleted: true.
        if cleaned.get("deleted") is None:
            cleaned["deleted"] = False
        for name, limit in _COORD_LIMITS.items():
            _check_coordinate(cleaned, name, limit)
        if dataset == "hazmat_waybills":
            cleaned["un_no"] = _un_number(cleaned.get("un_no"))
        return cleaned

    def close(self) -> None:
        self.http.close()


def parse_page(body: bytes, locator: str, asked: int | None, limits: Limits) -> _Answer:
    """A page's ``{"data": [...], "next_cursor": ...}``, parsed only after its capped read.

    Raises ``SourceRejected`` for a body of another shape and ``PageTooLarge`` for more records than
    asked for: either stops the dataset's run (the cursor stays where it was), since skipping a page
    would move the cursor past records that were never loaded.
    """
    try:
        payload = json.loads(body)
        data, next_cursor = payload["data"], payload.get("next_cursor")
        if not isinstance(data, list) or not (next_cursor is None or isinstance(next_cursor, str)):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise SourceRejected(
            f'transport: {locator} answered a body that is not {{"data": [...], "next_cursor": ...}}', 200
        ) from None
    check_page(len(data), asked, limits, f"transport: {locator}")
    return _Answer(body, data, next_cursor or None, locator)


def _check_coordinate(record: dict[str, Any], name: str, limit: float) -> None:
    """A coordinate out of range (a lost decimal point: 4085.6) is malformed, not merely far away."""
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return  # missing or of another type: the typing decides
    try:
        number = float(value)
    except ValueError:
        return
    if not -limit <= number <= limit:
        raise FieldError(name, f"{value!r} is outside -{limit:g}..{limit:g}")


def _un_number(value: Any) -> Any:
    """Four digits; a JSON number loses the leading zero of 0081, so it is put back."""
    if value is None or value == "":
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9999:
        return f"{value:04d}"
    text = str(value).strip()
    if not _UN_NO.fullmatch(text):
        raise FieldError("un_no", f"expected four digits, got {value!r}")
    return text


def create(ctx: SourceContext) -> TransportSource:
    since = ctx.options.get("initial_updated_since")
    # A check (ctx.check_timeout) tries once, briefly; an ingest keeps the retries.
    quick = ctx.check_timeout
    return TransportSource(
        ctx.url,
        ctx.credential("client_id"),
        ctx.credential("client_secret"),
        page_size=int(ctx.options.get("page_size", MAX_PAGE_SIZE)),
        max_seconds=quick or float(ctx.options.get("max_seconds", 120)),
        timeout_seconds=quick or float(ctx.options.get("timeout_seconds", 30)),
        max_attempts=1 if quick else 8,
        rate_per_second=float(ctx.options.get("rate_per_second", 10)),
        token_margin_seconds=float(ctx.options.get("token_margin_seconds", 30)),
        since_exclusive=bool(ctx.options.get("since_exclusive", False)),
        initial_updated_since=parse_time(since) if since else None,
        limits=ctx.limits,
    )
