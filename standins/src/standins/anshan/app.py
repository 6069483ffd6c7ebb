"""The 鞍山市 exchange stand-in as a Starlette app.

Order of checks on ``/api/exchange/v1/*``: ``slow_seconds``, ``outage`` and
injected 503/429 (a gateway answers those before the application, so no nonce
is consumed), then for POST the body size (413), then authentication (401),
then the request itself.

POST /batches, after authentication: ``Idempotency-Key`` present (400), not in
flight (409), already stored with the same body (the stored 200 receipt) or a
different one (422), then the batch is validated (400/413), stored and committed,
and only then answered -- late if the ``lost_reply_rate`` dice say so. A key
counts as in flight until its reply is sent, including that late-reply wait.
Records named by ``POST /__admin/rejections`` are rejected in the receipt with
the given reason (the city's own validation). The ``lie`` switch makes every
200 receipt a lie (``standins.anshan.lies``).

Reconciliation: over the batches of ``dataset`` received on ``date`` (the
server clock's day in Asia/Shanghai, whatever the batch's ``generated_at``):
``batches`` is their number, ``records`` the sum of their ``record_count``
(records sent, including ones the receipt rejected), and ``records_sha256_xor``
the bitwise XOR of their ``records_sha256`` values as 256-bit numbers, written
as 64 lowercase hex digits (all zeros for no batches). XOR makes it independent
of arrival order, so the county can compute it from its own ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from standins.anshan.auth import Authenticator, AuthError
from standins.anshan.batches import (
    DATASETS,
    MAX_BODY_BYTES,
    BatchError,
    RecordChange,
    check_records,
    parse_batch,
)
from standins.anshan.lies import check_lie, lying_answer
from standins.anshan.store import ExchangeStore
from standins.common.clock import ClockFn, SandboxClock
from standins.common.determinism import unit
from standins.common.faults import FaultDice, FaultSwitches
from standins.common.http import (
    ADMIN_PREFIX,
    JSON_EXCEPTION_HANDLERS,
    BodyTooLarge,
    RequestStats,
    StatsMiddleware,
    admin_routes,
    json_error,
    read_body,
    read_json_object,
    too_many_requests,
)
from standins.common.timefmt import parse_iso_local_default

API = "/api/exchange/v1"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class AnshanFaults(FaultSwitches):
    fail_503_rate: float = 0.0
    fail_429_rate: float = 0.0
    # Stored and committed, then answered only after lost_reply_delay seconds.
    lost_reply_rate: float = 0.0
    lost_reply_delay: float = 5.0
    outage: bool = False
    slow_seconds: float = 0.0
    # Share of newly kept record versions the city raises feedback (疑义) about.
    doubt_rate: float = 0.0
    # Share of stored batches the network delivers a second time (the copy goes
    # through the idempotency check as any repeat does, and must store nothing).
    duplicate_delivery_rate: float = 0.0
    # A lying city (standins.anshan.lies): every 200 receipt is replaced by this lie; "" is honest.
    lie: str = ""
    # With a lie: answer a new batch without storing it, instead of storing it and lying about it.
    lie_without_storing: bool = False

    def update(self, changes: Mapping[str, Any]) -> None:
        check_lie(changes.get("lie"))
        super().update(changes)


class ExchangeService:
    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        state_dir: Path,
        seed: int,
        clock: SandboxClock,
        faults: AnshanFaults,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.faults = faults
        self.store = ExchangeStore(state_dir)
        self.auth = Authenticator(app_key, app_secret, clock, self.store.remember_nonce)
        self.dice = FaultDice(seed)
        self.stats = RequestStats()
        self.in_flight: set[str] = set()
        self.duplicates_absorbed = 0
        # (dataset, record_id, version or None for every version) -> reason: the city's own
        # validation, set by a test through POST /__admin/rejections.
        self.rejections: dict[tuple[str, str, int | None], str] = {}

    def answer(self, receipt: dict[str, Any]) -> Response:
        """A receipt as the city sends it: honestly, or as the ``lie`` switch says."""
        if self.faults.lie:
            return lying_answer(self.faults.lie, receipt)
        return JSONResponse(receipt)

    def _rejection(self, dataset: str, change: RecordChange) -> str | None:
        return self.rejections.get((dataset, change.record_id, change.version)) or self.rejections.get(
            (dataset, change.record_id, None)
        )

    async def gate(self, request: Request) -> Response | None:
        if self.faults.slow_seconds > 0:
            await asyncio.sleep(self.faults.slow_seconds)
        if self.faults.outage:
            return json_error(503, "service unavailable (outage)")
        if self.dice.roll("503", self.faults.fail_503_rate):
            return json_error(503, "service temporarily unavailable")
        if self.dice.roll("429", self.faults.fail_429_rate):
            return too_many_requests(1)
        return None

    def authenticate(self, request: Request, body: bytes) -> Response | None:
        # Accept the path as sent on the request line and its decoded form.
        raw_path = request.scope.get("raw_path")
        paths = [raw_path.decode("latin-1")] if raw_path else []
        paths.append(request.url.path)
        try:
            self.auth.verify(request.method, paths, request.headers, body)
        except AuthError as exc:
            return json_error(401, str(exc))
        return None

    async def guarded_get(self, request: Request) -> Response | None:
        refused = await self.gate(request)
        return refused if refused is not None else self.authenticate(request, b"")

    async def post_batch(self, request: Request) -> Response:
        refused = await self.gate(request)
        if refused is not None:
            return refused
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return json_error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        refused = self.authenticate(request, body)
        if refused is not None:
            return refused
        key = request.headers.get("idempotency-key")
        if not key:
            return json_error(400, "Idempotency-Key header is required (the batch_id)")
        if key in self.in_flight:
            return json_error(409, f"batch {key} is still being processed; ask again later")
        body_sha256 = hashlib.sha256(body).hexdigest()
        stored = self.store.get_batch(key)
        if stored is not None:
            if stored.body_sha256 == body_sha256:
                return self.answer(stored.receipt)
            return json_error(422, f"Idempotency-Key {key} was already used with a different body")
        self.in_flight.add(key)
        try:
            response = await self._store_new_batch(body, body_sha256, key)
        finally:
            self.in_flight.discard(key)
        if response.status_code == 200 and self.dice.roll("duplicate", self.faults.duplicate_delivery_rate):
            self._deliver_again(key, body_sha256)
        return response

    def _deliver_again(self, key: str, body_sha256: str) -> None:
        """The duplicate copy of a delivery: answered from the stored receipt, stores nothing."""
        stored = self.store.get_batch(key)
        if stored is None or stored.body_sha256 != body_sha256:
            raise RuntimeError(f"duplicate delivery of {key} found no identical stored batch")
        self.duplicates_absorbed += 1

    async def _store_new_batch(self, body: bytes, body_sha256: str, key: str) -> Response:
        try:
            batch = parse_batch(body, key)
        except BatchError as exc:
            return json_error(exc.status, exc.reason)
        changes, rejected = check_records(batch.records)
        if self.rejections:
            refused = {c.index: why for c in changes if (why := self._rejection(batch.dataset, c))}
            changes = [c for c in changes if c.index not in refused]
            rejected += [
                {"index": i, "record_id": batch.records[i]["record_id"], "reason": why} for i, why in refused.items()
            ]
            rejected.sort(key=lambda entry: entry["index"])
        receipt = {
            "receipt_id": "RCPT-" + hashlib.sha256(f"{self.seed}|{key}|{body_sha256}".encode()).hexdigest()[:20],
            "batch_id": batch.batch_id,
            "accepted": len(changes),
            "rejected": rejected,
        }
        if self.faults.lie and self.faults.lie_without_storing:
            return self.answer(receipt)
        self.store.store_batch(batch, body_sha256, receipt, changes, self.clock(), self._doubt_for(batch.dataset))
        if self.dice.roll("lost_reply", self.faults.lost_reply_rate):
            await asyncio.sleep(self.faults.lost_reply_delay)
        return self.answer(receipt)

    def _doubt_for(self, dataset: str) -> Callable[[RecordChange], str | None] | None:
        rate = self.faults.doubt_rate
        if rate <= 0:
            return None

        def doubt(change: RecordChange) -> str | None:
            if change.op != "upsert" or unit(self.seed, "doubt", dataset, change.record_id, change.version) >= rate:
                return None
            return "数据存疑：与市级台账不一致，请核实后重报 (sandbox doubt_rate)"

        return doubt

    async def get_batch(self, request: Request) -> Response:
        refused = await self.guarded_get(request)
        if refused is not None:
            return refused
        batch_id = request.path_params["batch_id"]
        stored = self.store.get_batch(batch_id)
        if stored is None:
            return json_error(404, f"batch {batch_id} was never stored")
        return self.answer(stored.receipt)

    async def reconciliation(self, request: Request) -> Response:
        refused = await self.guarded_get(request)
        if refused is not None:
            return refused
        dataset = request.query_params.get("dataset", "")
        raw_date = request.query_params.get("date", "")
        if dataset not in DATASETS:
            return json_error(400, f"dataset must be one of {', '.join(sorted(DATASETS))}")
        if not _DATE.fullmatch(raw_date):
            return json_error(400, "date must be YYYY-MM-DD")
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            return json_error(400, f"date {raw_date!r} is not a calendar date")
        return JSONResponse(self.store.reconciliation(dataset, day))

    async def feedback(self, request: Request) -> Response:
        refused = await self.guarded_get(request)
        if refused is not None:
            return refused
        raw = request.query_params.get("since")
        if not raw:
            return json_error(400, "query parameter since is required (ISO 8601)")
        try:
            since = parse_iso_local_default(raw, "since")
        except ValueError as exc:
            return json_error(400, str(exc))
        return JSONResponse(self.store.feedback_since(since))

    async def admin_raise_feedback(self, request: Request) -> Response:
        try:
            body = await read_json_object(request)
        except ValueError as exc:
            return json_error(400, str(exc))
        dataset, record_id = body.get("dataset"), body.get("record_id")
        reason = body.get("reason") or "数据存疑，请核实"
        if dataset not in DATASETS:
            return json_error(400, f"dataset must be one of {', '.join(sorted(DATASETS))}")
        if not isinstance(record_id, str) or not record_id or not isinstance(reason, str):
            return json_error(400, "record_id and reason must be non-empty strings")
        item = self.store.raise_feedback(dataset, record_id, reason, self.clock())
        return JSONResponse(item, status_code=201)

    async def admin_set_rejection(self, request: Request) -> Response:
        """``{"dataset", "record_id", "version" (optional: every version), "reason"}``: the city rejects
        that record in the batches it receives from now on (kept in memory)."""
        try:
            body = await read_json_object(request)
        except ValueError as exc:
            return json_error(400, str(exc))
        dataset, record_id, version = body.get("dataset"), body.get("record_id"), body.get("version")
        reason = body.get("reason") or "不符合市级数据标准 (sandbox rejection)"
        if dataset not in DATASETS:
            return json_error(400, f"dataset must be one of {', '.join(sorted(DATASETS))}")
        if not isinstance(record_id, str) or not record_id or not isinstance(reason, str):
            return json_error(400, "record_id and reason must be non-empty strings")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
            return json_error(400, "version must be a positive integer or absent (every version)")
        self.rejections[(dataset, record_id, version)] = reason
        return await self.admin_rejections(request)

    async def admin_clear_rejections(self, request: Request) -> Response:
        self.rejections.clear()
        return await self.admin_rejections(request)

    async def admin_rejections(self, request: Request) -> Response:
        return JSONResponse(
            [{"dataset": d, "record_id": r, "version": v, "reason": why} for (d, r, v), why in self.rejections.items()]
        )

    async def admin_records(self, request: Request) -> Response:
        dataset = request.query_params.get("dataset") or None
        return JSONResponse({"dataset": dataset, "records": self.store.records(dataset)})

    async def admin_stats(self, request: Request) -> Response:
        return JSONResponse(
            {"requests": self.stats.as_dict(), **self.store.counts(), "duplicates_absorbed": self.duplicates_absorbed}
        )


def create_app(
    *,
    app_key: str,
    app_secret: str,
    state_dir: Path | str,
    seed: int = 42,
    clock: ClockFn | None = None,
    faults: AnshanFaults | Mapping[str, Any] | None = None,
) -> Starlette:
    """The exchange stand-in. ``app.state.service`` is the :class:`ExchangeService`.

    State lives in ``state_dir/anshan.sqlite3``; a new app on the same directory
    continues where the previous one stopped.
    """
    switches = faults if isinstance(faults, AnshanFaults) else AnshanFaults()
    if isinstance(faults, Mapping):
        switches.update(faults)
    sandbox_clock = clock if isinstance(clock, SandboxClock) else SandboxClock(clock)
    service = ExchangeService(
        app_key=app_key,
        app_secret=app_secret,
        state_dir=Path(state_dir),
        seed=seed,
        clock=sandbox_clock,
        faults=switches,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        service.store.close()

    routes = [
        Route(f"{API}/batches", service.post_batch, methods=["POST"]),
        Route(f"{API}/batches/{{batch_id}}", service.get_batch, methods=["GET"]),
        Route(f"{API}/reconciliation", service.reconciliation, methods=["GET"]),
        Route(f"{API}/feedback", service.feedback, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/feedback", service.admin_raise_feedback, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/records", service.admin_records, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/rejections", service.admin_rejections, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/rejections", service.admin_set_rejection, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/rejections", service.admin_clear_rejections, methods=["DELETE"]),
        Route(f"{ADMIN_PREFIX}/stats", service.admin_stats, methods=["GET"]),
        *admin_routes("anshan", sandbox_clock, switches),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(StatsMiddleware, stats=service.stats)],
        lifespan=lifespan,
        exception_handlers=JSON_EXCEPTION_HANDLERS,
    )
    app.state.service = service
    app.state.clock = sandbox_clock
    return app
