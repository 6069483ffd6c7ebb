"""水利局 water bureau: the real-time rain/water database, SL 323-2011 (water.md).

A read-only SQL account; the DBMS differs between deployments, so the only
way in is a SQLAlchemy URL and portable SQL built with SQLAlchemy Core
(``table()``/``column()`` with upper-case names, which SQLAlchemy quotes as each
DBMS needs; bound parameters; ``LIMIT`` rendered by the dialect).

Observation tables have no change timestamp: rows arrive late and are
corrected in place. So they are read by ``TM`` from the cursor minus a lookback
(option ``lookback_hours``, 24) - or ``initial_days`` (3) before ``until`` on
the first run - up to ``until``, in keyset pages ordered by (TM, STCD). The
cursor is the largest TM read, as local time with ``+08:00``. A page is at
most ``page_size`` rows (option, 5000; at most ``MAX_PAGE_SIZE``, 50 000), fetched
and released before the next page is asked for, so reading a year (about 12
million rainfall rows) is a sequence of bounded pages and never one result
held whole; each page's query also bounds TM from below by the last row read,
so the database seeks to it (on its TM index) instead of skipping every row
of the earlier pages again. The loader keeps
a re-read row that did not change once and a corrected one as a new version.
A backlog older than the cursor minus the lookback is not seen: widen the
lookback for a gauge known to have been offline longer.

The original of a database source: a database answers rows, not bytes, so a
Page's ``body`` is the page's rows exactly as the driver returned them,
serialised as JSON: ``{"table", "query", "columns", "rows": [{COLUMN: value}]}``
with the database's own (upper-case) column names, CHAR padding kept, times as
stored (naive local ISO 8601), NUMERIC values as exact decimal strings. The
records are the same values under lower-case names; ``normalise`` strips the
CHAR padding (blank becomes null, so a blank FLWCHRCD "normal" is null), puts
``+08:00`` on the naive times and refuses values SL 323 does not allow.

URL and password: the URL comes from ``sources.yml`` (or ``EDP_SOURCE_WATER_URL``);
if the ``password`` credential is set and the URL has no password, it is
inserted. A URL with an explicitly empty password (``user:@host``) means
"no password" and is left alone. The URL is only ever shown with the password
hidden. Errors: ``SourceUnavailable`` once connection trouble outlasts the
retries (options ``max_attempts`` 4, ``max_seconds`` 60); ``SourceRejected``
(``status`` 0: not HTTP) for a refused account or a statement the database
refuses (a missing table, say). Connect timeouts go in the URL's query
string as the driver names them (``?connect_timeout=10`` for PyMySQL and psycopg).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_exponential_jitter

from connectors.base import CheckResult, Page, Source
from connectors.context import SourceContext
from connectors.http import CredentialsRefused, SourceRejected, SourceUnavailable
from connectors.limits import Limits, PageTooLarge
from connectors.schema import LOCAL_TZ, Dataset, FieldError, parse_time
from connectors.water.datasets import (
    DATASETS,
    MONTH_DAYS,
    NON_NEGATIVE,
    POSITIVE,
    RAINFALL,
    RESERVOIR,
    RESERVOIR_FLOOD_LIMITS,
    RIVER,
    RIVER_THRESHOLDS,
    SOURCE,
    STATIONS,
    TABLES,
    TIME_FIELDS,
    TableSpec,
)

log = logging.getLogger(__name__)

# The largest page: what one page costs in memory (its rows, their JSON original, the typed records).
MAX_PAGE_SIZE = 50_000

# Connection errors that mean "wrong account", not "try again".
_REFUSALS = ("access denied", "authentication failed", "login failed", "invalid username/password")


def database_url(url: str, password: str | None) -> sa.URL:
    """The SQLAlchemy URL with the credential inserted when the URL has no password of its own."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError(f"water: {url!r} is not a SQLAlchemy database URL") from None
    if password and parsed.password is None:
        parsed = parsed.set(password=password)
    return parsed


def timeout_arguments(url: sa.URL, seconds: float | None) -> dict[str, Any]:
    """The driver's own arguments bounding a connection attempt (and PyMySQL's reads) to ``seconds``.

    None: the driver's defaults, or what the URL's query string says (``?connect_timeout=10``).
    libpq counts whole seconds and at least 2; PyMySQL and sqlite3 take fractions.
    """
    if seconds is None:
        return {}
    driver = url.get_driver_name()
    if driver in ("psycopg", "psycopg2"):
        return {"connect_timeout": max(2, math.ceil(seconds))}
    if driver == "pymysql":
        return {"connect_timeout": seconds, "read_timeout": seconds, "write_timeout": seconds}
    if driver == "pysqlite":
        return {"timeout": seconds}
    return {}


def to_local(moment: datetime) -> datetime:
    """A moment as the bureau's clock shows it: local time, no zone (how TM is stored and compared)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None)


def local_iso(value: datetime) -> str:
    """A naive local TM as ISO 8601 with the +08:00 offset."""
    return value.replace(tzinfo=LOCAL_TZ).isoformat()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact, as stored
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # not a number at all: typing reports it


def _month_day(value: str) -> bool:
    if len(value) != 4 or not value.isdigit():
        return False
    try:
        date(2000, int(value[:2]), int(value[2:]))  # a leap year: 0229 is a valid season bound
    except ValueError:
        return False
    return True


class WaterSource(Source):
    name = SOURCE
    title = "水利局 water bureau (SL 323-2011)"

    def __init__(
        self,
        url: str | sa.URL,
        *,
        lookback_hours: float = 24,
        initial_days: float = 3,
        page_size: int = 5000,
        schema: str | None = None,
        max_attempts: int = 4,
        max_seconds: float = 60.0,
        connect_timeout: float | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.url = sa.make_url(url) if isinstance(url, str) else url
        self.safe_url = self.url.render_as_string(hide_password=True)
        # No echo: statements and the URL are never logged; only safe_url appears in messages.
        self.engine = sa.create_engine(
            self.url, pool_pre_ping=True, connect_args=timeout_arguments(self.url, connect_timeout)
        )
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"water: page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        self.lookback = timedelta(hours=lookback_hours)
        self.initial = timedelta(days=initial_days)
        self.page_size = page_size
        self.schema = schema
        self.max_attempts = max_attempts
        self.max_seconds = max_seconds

    def datasets(self) -> dict[str, Dataset]:
        return dict(DATASETS)

    # -- database access ---------------------------------------------------------------------------------------

    def _table(self, spec_table: str, columns: Sequence[str]) -> sa.TableClause:
        return sa.table(spec_table, *(sa.column(c) for c in columns), schema=self.schema)

    def _run(self, stmt: sa.Executable, what: str, most: int | None = None) -> tuple[list[str], list[Sequence[Any]]]:
        """Execute with retries while the database cannot be reached; column names and rows.

        At most ``most`` rows are fetched (the page's LIMIT, else ``max_page_records``), streamed with a
        server-side cursor where the driver has one: a database answering more than the LIMIT asked
        for (a view or driver that ignores it) is refused with :class:`PageTooLarge`, never held whole.

        Only failing to connect, or losing the connection (as the dialect
        recognises it), is retried: an error the database answers (a missing
        table, a refused account) would answer the same again.
        """

        def once() -> tuple[list[str], list[Sequence[Any]]]:
            try:
                conn = self.engine.connect()
            except sa.exc.DBAPIError as exc:
                if _refused(exc):
                    raise
                raise _Unreachable(exc) from exc
            with conn:
                try:
                    result = conn.execution_options(stream_results=True).execute(stmt)
                    bound = self.limits.max_page_records if most is None else most
                    columns: list[str] = list(result.keys())
                    rows: list[Sequence[Any]] = [tuple(r) for r in result.fetchmany(bound + 1)]
                    result.close()
                    if len(rows) > bound:
                        raise PageTooLarge(
                            f"water: {what} at {self.safe_url} answered more than the {bound} rows asked for "
                            "(LIMIT ignored?); the page was refused, not loaded"
                        )
                    return columns, rows
                except sa.exc.DBAPIError as exc:
                    if exc.connection_invalidated:
                        raise _Unreachable(exc) from exc
                    raise

        retrying = Retrying(
            retry=retry_if_exception_type(_Unreachable),
            stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_seconds),
            wait=wait_exponential_jitter(initial=0.5, max=8),
            before_sleep=lambda s: log.warning(
                "water: retry %d of %s at %s after %s",
                s.attempt_number,
                what,
                self.safe_url,
                s.outcome.exception() if s.outcome else None,
            ),
            reraise=True,
        )
        try:
            return retrying(once)
        except _Unreachable as exc:
            if self.max_attempts == 1:  # a check's single try (edp sources check): nothing was retried
                raise SourceUnavailable(f"water: {what} at {self.safe_url}: {exc} (one attempt)") from None
            raise SourceUnavailable(
                f"water: {what} at {self.safe_url} still failing after retries "
                f"(limit {self.max_attempts} attempts / {self.max_seconds:.0f} s): {exc}"
            ) from None
        except sa.exc.DBAPIError as exc:
            if _refused(exc):
                raise CredentialsRefused(f"water: {self.safe_url} refused the account: {_reason(exc)}", 0) from None
            raise SourceRejected(f"water: {what} at {self.safe_url} was refused: {_reason(exc)}", 0) from None

    def check(self) -> CheckResult:
        stmt = sa.select(sa.func.count()).select_from(self._table("ST_STBPRP_B", ()))
        try:
            _, rows = self._run(stmt, "counting ST_STBPRP_B")
        except (SourceUnavailable, SourceRejected) as exc:
            return CheckResult.failed(SOURCE, exc)
        count = int(rows[0][0])
        return CheckResult(SOURCE, True, f"reachable, {count} stations in ST_STBPRP_B", {"stations": count})

    # -- reading -----------------------------------------------------------------------------------------------

    def read(self, dataset: str, cursor: str | None, until: datetime) -> Iterator[Page]:
        if dataset not in TABLES:
            raise KeyError(f"water has no dataset {dataset!r} (known: {', '.join(TABLES)})")
        spec = TABLES[dataset]
        if not spec.incremental:
            yield from self._pages(spec, None, None, None)
            return
        start, end = self.window(cursor, until)
        yield from self._pages(spec, start, end, cursor)
        yield from self._null_times(spec)

    def _null_times(self, spec: TableSpec) -> Iterator[Page]:
        """Rows with no TM: no window selects them, so they are read on their own, to be quarantined.

        SL 323 makes TM part of the key, but a deployment's copy may not enforce it; such a row cannot be
        placed in time, and skipping it silently would lose it. Typing refuses it (``tm`` is required)
        with this page as its locator; the loader keeps one open quarantine entry per distinct row.
        """
        tbl = self._table(spec.table, spec.order)
        keys = [tbl.c[name] for name in spec.order]
        stmt: sa.Select[Any] = sa.select(sa.literal_column("*")).select_from(tbl).where(tbl.c.TM.is_(None))
        stmt = stmt.order_by(*keys[1:]).limit(self.page_size)
        what = f"reading {spec.table} rows without TM"
        columns, rows = self._run(stmt, what, self.page_size)
        if not rows:
            return
        log.warning("water: %s has %d row(s) without TM; they are quarantined", spec.table, len(rows))
        query = {"from": None, "to": None, "after": None, "order": list(spec.order), "limit": self.page_size}
        page = _page(spec.table, {**query, "page": "TM is null"}, columns, rows, None)
        page.locator = f"{spec.table} rows with TM null (first {self.page_size})"
        yield page

    def window(self, cursor: str | None, until: datetime) -> tuple[datetime, datetime]:
        """The TM window (naive local, inclusive) a read of an observation table covers."""
        end = to_local(until)
        return (to_local(parse_time(cursor)) - self.lookback if cursor else end - self.initial), end

    def _statement(
        self, spec: TableSpec, start: datetime | None, end: datetime | None, after: Sequence[Any] | None
    ) -> sa.Select:
        tbl = self._table(spec.table, spec.order)
        keys = [tbl.c[name] for name in spec.order]
        # SELECT *: a column the bureau adds reaches the platform (kept in _extra and reported).
        stmt: sa.Select[Any] = sa.select(sa.literal_column("*")).select_from(tbl)
        if start is not None and end is not None:
            stmt = stmt.where(tbl.c.TM >= start, tbl.c.TM <= end)
        if after is not None:
            # Lexicographic "after the last row": (k1 > v1) or (k1 = v1 and k2 > v2) ...
            # The values are bound exactly as the driver returned them (CHAR padding and all),
            # so the comparison matches the DBMS's own CHAR semantics.
            terms = []
            for i, key in enumerate(keys):
                equal = [keys[j] == sa.bindparam(f"k{j}", after[j]) for j in range(i)]
                terms.append(sa.and_(*equal, key > sa.bindparam(f"k{i}", after[i])))
            # The first key's lower bound, implied by the disjunction but stated so that the
            # database starts its index range there (no DBMS derives it from the OR).
            stmt = stmt.where(keys[0] >= sa.bindparam("k0", after[0]), sa.or_(*terms))
        return stmt.order_by(*keys).limit(self.page_size)

    def _pages(
        self, spec: TableSpec, start: datetime | None, end: datetime | None, cursor: str | None
    ) -> Iterator[Page]:
        after: Sequence[Any] | None = None
        best = to_local(parse_time(cursor)) if cursor else None
        number = 0
        while True:
            number += 1
            stmt = self._statement(spec, start, end, after)
            columns, rows = self._run(stmt, f"reading {spec.table} page {number}", self.page_size)
            positions = [_position(columns, name, spec.table) for name in spec.order] if rows else []
            query = {
                "from": start.isoformat() if start else None,
                "to": end.isoformat() if end else None,
                "after": [_jsonable(v) for v in after] if after else None,
                "order": list(spec.order),
                "limit": self.page_size,
                "page": number,
            }
            page_cursor = None
            if rows and spec.incremental:
                last_tm = rows[-1][positions[0]]
                if isinstance(last_tm, str):  # drivers without a datetime type (e.g. SQLite)
                    last_tm = datetime.fromisoformat(last_tm)
                if isinstance(last_tm, datetime):
                    last_tm = to_local(last_tm)  # a driver may hand back an aware time
                    best = max(best, last_tm) if best else last_tm
                    page_cursor = local_iso(best)
            yield _page(spec.table, query, columns, rows, page_cursor)
            if len(rows) < self.page_size:
                return
            after = [rows[-1][p] for p in positions]

    # -- normalising -------------------------------------------------------------------------------------------

    def normalise(self, dataset: str, record: dict[str, Any]) -> dict[str, Any]:
        cleaned: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(value, str):
                # CHAR columns come back space-padded on some DBMS; blank means "no value".
                value = value.strip() or None
            if key in TIME_FIELDS and isinstance(value, str):
                value = _with_offset(value)
            cleaned[key] = value
        for name in NON_NEGATIVE.get(dataset, ()):
            number = _number(cleaned.get(name))
            if number is not None and number < 0:
                raise FieldError(name, f"negative value {cleaned[name]} is impossible")
        for name in POSITIVE.get(dataset, ()):
            number = _number(cleaned.get(name))
            if number is not None and number <= 0:
                raise FieldError(name, f"period length {cleaned[name]} must be positive")
        for name in MONTH_DAYS.get(dataset, ()):
            value = cleaned.get(name)
            if value is not None and not _month_day(str(value)):
                raise FieldError(name, f"{value!r} is not a month and day MMDD")
        return cleaned

    def close(self) -> None:
        self.engine.dispose()


def _with_offset(text: str) -> str:
    """Naive local ISO time -> the same time with +08:00; anything else is left to typing."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    return local_iso(parsed) if parsed.tzinfo is None else text


def _position(columns: list[str], name: str, table: str) -> int:
    for i, column in enumerate(columns):
        if column.upper() == name:
            return i
    raise SourceRejected(f"water: {table} answered without column {name} (got {', '.join(columns)})", 0)


def _page(table: str, query: dict[str, Any], columns: list[str], rows: list[Sequence[Any]], cursor: str | None) -> Page:
    original = [{c: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows]
    # backslashreplace: a lone surrogate stays as its JSON escape (the row is refused by typing, not the page).
    body = json.dumps(
        {"table": table, "query": query, "columns": columns, "rows": original},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8", "backslashreplace")
    records = [{c.lower(): v for c, v in row.items()} for row in original]
    locator = (
        f"{table} TM {query['from']}..{query['to']} page {query['page']}"
        if query["from"]
        else (f"{table} page {query['page']}")
    )
    return Page(body, "application/json", records, locator, cursor)


def _refused(exc: BaseException) -> bool:
    """A wrong account or password: trying again will not help (the words every DBMS uses)."""
    return any(word in _reason(exc).lower() for word in _REFUSALS)


class _Unreachable(Exception):
    """The database could not be reached, or the connection was lost: worth another try."""

    def __init__(self, exc: sa.exc.DBAPIError) -> None:
        super().__init__(_reason(exc))


def _reason(exc: BaseException | None) -> str:
    """The driver's message, without SQLAlchemy's statement and parameter echo."""
    if exc is None:
        return "unknown error"
    orig = getattr(exc, "orig", None)
    return f"{type(orig).__name__}: {orig}" if orig is not None else f"{type(exc).__name__}: {exc}"


def create(ctx: SourceContext) -> WaterSource:
    url = database_url(ctx.url, ctx.credential("password"))
    options = ctx.options
    # A check (ctx.check_timeout) tries once, briefly; an ingest keeps the retries.
    quick = ctx.check_timeout
    return WaterSource(
        url,
        lookback_hours=float(options.get("lookback_hours", 24)),
        initial_days=float(options.get("initial_days", 3)),
        page_size=int(options.get("page_size", 5000)),
        schema=options.get("schema"),
        max_attempts=1 if quick else int(options.get("max_attempts", 4)),
        max_seconds=quick or float(options.get("max_seconds", 60)),
        connect_timeout=quick,
        limits=ctx.limits,
    )


__all__ = [
    "RAINFALL",
    "RESERVOIR",
    "RESERVOIR_FLOOD_LIMITS",
    "RIVER",
    "RIVER_THRESHOLDS",
    "STATIONS",
    "TABLES",
    "WaterSource",
    "create",
    "database_url",
    "local_iso",
    "to_local",
]
