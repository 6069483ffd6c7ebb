"""Fill, extend and damage an SL 323 database: what the water tests and the demo drive.

``populate`` writes the last ``days`` days (3 by default, so the demo stays
quick: about 69 000 rainfall rows at scale 1) ending at ``now``; the last three
(the demo window, with its storm) row by row from :mod:`standins.water.series`,
anything older set-based inside PostgreSQL (:mod:`standins.water.history`: a
year is about 8.3 million rainfall rows at scale 1); one rain
gauge has been offline for the last 6 hours and uploads that backlog on the
next ``append``, which also continues every series up to ``until`` and
corrects two existing rows in place (a re-checked DRP, a re-read Z), as the
bureau's operators do. ``malformed`` writes rows the connector must quarantine.
Everything for one call happens in one transaction (where the DBMS has
transactional DDL, the table creation too).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from standins.common.determinism import unit
from standins.common.timefmt import CST
from standins.water import series
from standins.water.history import Progress, indexes_deferred, mend_seam, write_history
from standins.water.network import (
    Network,
    Station,
    build_network,
    counts_for_scale,
    flood_limit,
    flood_limit_rows,
    threshold_rows,
)
from standins.water.tables import ALL_TABLES, PPTN, RIVER, RSVR, RSVRFSR, RVFCCH, STBPRP, metadata

OFFLINE_FOR = timedelta(hours=6)
CHUNK = 2000
DEMO_DAYS = 3  # written from Python; days before these come from standins.water.history


def local_naive(moment: datetime | None) -> datetime:
    """The bureau's clock: local time (UTC+08:00) without a zone."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(CST).replace(tzinfo=None)


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.NullPool)


def _insert(conn: Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    batch: list[dict[str, Any]] = []
    total = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            conn.execute(table.insert(), batch)
            total += len(batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)
        total += len(batch)
    return total


def offline_gauge(seed: int, net: Network) -> Station:
    """The gauge that is offline when the database is populated (never the storm's wettest)."""
    candidates = [g for g in net.active_gauges if g.stcd != series.heavy_gauge(net).stcd]
    return candidates[int(unit(seed, "offline") * len(candidates))]


def populate(
    url: str,
    *,
    seed: int = 42,
    scale: float = 1.0,
    now: datetime | None = None,
    days: int = DEMO_DAYS,
    malformed: bool = False,
    progress: Progress | None = None,
    storm_start: datetime | None = None,
    storm: str = "season",
) -> dict[str, Any]:
    """(Re)create the SL 323 tables in the database at ``url`` and fill them.

    ``now`` (aware, or naive local time) is the moment the data ends at;
    ``days`` beyond the demo window's three need PostgreSQL and are reported
    to ``progress`` (one line for every 15 days) as they are written.
    ``storm_start`` (aware) places the storm the weather stand-in also sees
    (default: :func:`standins.common.storm.default_storm_start` of ``now``);
    ``storm`` "season" gives it the month's character (snow in winter: no rise),
    "summer" forces the rainstorm.
    Returns what was written and where the notable events are.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    now_local = local_naive(now)
    net = build_network(seed, counts_for_scale(scale))
    storm = series.make_storm(net, now_local, storm_start, storm)
    recent = min(days, DEMO_DAYS)
    last_slot = series.floor_slot(now_local)
    first_slot = last_slot - timedelta(days=recent) + series.SLOT
    last_hour = series.floor_hour(now_local)
    first_hour = last_hour - timedelta(days=recent) + series.HOUR
    offline = offline_gauge(seed, net)
    counts: dict[str, int] = {}
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            metadata.drop_all(conn, checkfirst=True)
            metadata.create_all(conn)
            counts["stations"] = _insert(conn, STBPRP, (s.row() for s in net.all))
            counts["river_thresholds"] = _insert(conn, RVFCCH, threshold_rows(net))
            counts["reservoir_flood_limits"] = _insert(conn, RSVRFSR, flood_limit_rows(net))
            with indexes_deferred(conn, PPTN.name, progress) if days > recent else nullcontext():
                older = write_history(
                    conn,
                    net,
                    seed=seed,
                    first_slot=last_slot - timedelta(days=days) + series.SLOT,
                    stop_slot=first_slot,
                    first_hour=last_hour - timedelta(days=days) + series.HOUR,
                    stop_hour=first_hour,
                    limit_day=storm.mmdd,
                    progress=progress,
                )
                counts["rainfall"] = _insert(
                    conn,
                    PPTN,
                    (
                        row
                        for g in net.active_gauges
                        for row in series.rainfall_rows(
                            seed, g, first_slot, last_slot - OFFLINE_FOR if g is offline else last_slot, storm
                        )
                    ),
                )
            counts["river"] = _insert(
                conn,
                RIVER,
                (
                    row
                    for i, s in enumerate(net.rivers)
                    for row in series.river_rows(seed, s, first_hour, last_hour, storm, flagship=i == 0)
                ),
            )
            counts["reservoir"] = _insert(
                conn,
                RSVR,
                (
                    row
                    for i, s in enumerate(net.reservoirs)
                    for row in series.reservoir_rows(seed, s, first_hour, last_hour, storm, flagship=i == 0)
                ),
            )
            if older["rainfall"]:
                mend_seam(conn, first_slot)
            for name, n in older.items():
                counts[name] += n
    finally:
        engine.dispose()
    heavy = series.heavy_gauge(net)
    peak_mm = sum(series.hour_slots(seed, heavy, storm.peak, storm))
    river, reservoir = net.rivers[0], net.reservoirs[0]
    limit, fstp = flood_limit(reservoir, storm.mmdd)
    info: dict[str, Any] = {
        "rows": counts,
        "days": days,
        "first_tm": (last_slot - timedelta(days=days) + series.SLOT).isoformat(),
        "last_tm": last_slot.isoformat(),
        "storm_start": storm.start.isoformat(),
        "storm_kind": storm.episode.kind,
        "offline_gauge": offline.stcd,
        "offline_since": (last_slot - OFFLINE_FOR).isoformat(),
        "heavy_rain": {"stcd": heavy.stcd, "hour": storm.peak.isoformat(), "mm": round(peak_mm, 1)},
        "river_above_warning": {
            "stcd": river.stcd,
            "stnm": river.stnm,
            "wrz": round(river.params["wrz"], 3),
            "peak_tm": (storm.start + series.HOUR * series.river_peak_after(river)).isoformat(),
        },
        "reservoir_above_limit": {
            "stcd": reservoir.stcd,
            "stnm": reservoir.stnm,
            "fsltdz": round(limit, 3),
            "fstp": fstp,
            # Only FSTP 1-3 (SL 323 flood seasons) make FSLTDZ a flood limit; in an FSTP 4 period the
            # reservoir is above its normal-pool level, which is no 超汛限.
            "is_flood_season": fstp in ("1", "2", "3"),
        },
    }
    if malformed:
        info["malformed"] = damage(url, seed=seed)
    return info


def _counts_in(conn: Connection) -> dict[str, int]:
    sttp = STBPRP.c.STTP
    counts: dict[str, int] = {}
    for code, n in conn.execute(sa.select(sttp, sa.func.count()).group_by(sttp)):
        kind = "RIVER" if code.strip() in ("ZZ", "ZQ") else code.strip()
        counts[kind] = counts.get(kind, 0) + int(n)
    return counts


def _last_by_station(conn: Connection, table: sa.Table) -> dict[str, datetime]:
    rows = conn.execute(sa.select(table.c.STCD, sa.func.max(table.c.TM)).group_by(table.c.STCD))
    return {stcd.strip(): tm for stcd, tm in rows}


def _correct(
    conn: Connection, table: sa.Table, column: str, stcd: str, tm: datetime, delta: Decimal
) -> dict[str, Any] | None:
    col = table.c[column]
    key = sa.and_(table.c.STCD == stcd, table.c.TM == tm)
    old = conn.execute(sa.select(col).where(key)).scalar_one_or_none()
    if old is None:
        return None
    conn.execute(table.update().where(key).values({column: old + delta}))
    return {
        "table": table.name,
        "stcd": stcd,
        "tm": tm.isoformat(),
        "column": column,
        "old": str(old),
        "new": str(old + delta),
    }


def _corrections(conn: Connection, seed: int, net: Network) -> list[dict[str, Any]]:
    """Re-checked values written in place, 2-3 hours before the newest rows (inside any 24 h lookback)."""
    done = []
    newest = conn.execute(sa.select(sa.func.max(PPTN.c.TM))).scalar_one()
    gauges = net.active_gauges
    start = int(unit(seed, "fix-gauge", newest.isoformat()) * len(gauges))
    for k in range(len(gauges)):  # the first gauge, from a seeded start, that has the row
        g = gauges[(start + k) % len(gauges)]
        fixed = _correct(conn, PPTN, "DRP", g.stcd, newest - timedelta(hours=2), Decimal("0.5"))
        if fixed:
            done.append(fixed)
            break
    newest_river = conn.execute(sa.select(sa.func.max(RIVER.c.TM))).scalar_one()
    if net.rivers and newest_river is not None:
        fixed = _correct(conn, RIVER, "Z", net.rivers[0].stcd, newest_river - timedelta(hours=3), Decimal("0.050"))
        if fixed:
            done.append(fixed)
    return done


def _dyp(conn: Connection, stcd: str, tm: datetime, pending: dict[datetime, float]) -> float:
    since = tm - timedelta(hours=24)
    stored = conn.execute(
        sa.select(sa.func.sum(PPTN.c.DRP)).where(PPTN.c.STCD == stcd, PPTN.c.TM > since, PPTN.c.TM <= tm)
    ).scalar_one()
    return round(float(stored or 0) + sum(v for t, v in pending.items() if since < t <= tm), 1)


def _rain_after(conn: Connection, seed: int, net: Network, until: datetime, backlog: bool) -> tuple[list, int]:
    last = _last_by_station(conn, PPTN)
    newest = max(last.values())
    rows: list[dict[str, Any]] = []
    late = 0
    for g in net.active_gauges:
        if g.stcd not in last:
            continue
        if not backlog and last[g.stcd] < newest - series.HOUR:
            continue  # still offline
        pending: dict[datetime, float] = {}
        for tm, drp in series.rain_slots(seed, g, last[g.stcd] + series.SLOT, until, None):
            pending[tm] = drp
            late += tm <= newest
        for tm, drp in pending.items():
            dyp = _dyp(conn, g.stcd, tm, pending) if tm.hour == 8 and tm.minute == 0 else None
            rows.append(series.rain_row(g, tm, drp, dyp))
    return rows, late


def _river_after(conn: Connection, seed: int, net: Network, until: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    last = _last_by_station(conn, RIVER)
    for s in net.rivers:
        if s.stcd not in last:
            continue
        z_last = conn.execute(sa.select(RIVER.c.Z).where(RIVER.c.STCD == s.stcd, RIVER.c.TM == last[s.stcd]))
        z_min = conn.execute(sa.select(sa.func.min(RIVER.c.Z)).where(RIVER.c.STCD == s.stcd))
        rows += series.river_recession(
            seed, s, last[s.stcd], float(z_last.scalar_one()), float(z_min.scalar_one()), until
        )
    return rows


def _reservoir_after(conn: Connection, seed: int, net: Network, until: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    last = _last_by_station(conn, RSVR)
    for s in net.reservoirs:
        if s.stcd not in last:
            continue
        row = (
            conn.execute(
                sa.select(RSVR.c.RZ, RSVR.c.INQ, RSVR.c.OTQ, RSVR.c.BLRZ).where(
                    RSVR.c.STCD == s.stcd, RSVR.c.TM == last[s.stcd]
                )
            )
            .mappings()
            .one()
        )
        state = {k: float(v) for k, v in row.items()}
        rows += series.reservoir_recession(seed, s, last[s.stcd], state, until)
    return rows


def append(
    url: str, *, seed: int = 42, until: datetime, backlog: bool = True, corrections: bool = True
) -> dict[str, Any]:
    """Continue every series up to ``until``; upload the offline gauge's backlog; correct rows in place.

    New rows after the storm carry only the background weather. With
    ``backlog=False`` a gauge that is behind stays behind.
    """
    until_local = local_naive(until)
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            net = build_network(seed, _counts_in(conn))
            fixed = _corrections(conn, seed, net) if corrections else []
            rain, late = _rain_after(conn, seed, net, series.floor_slot(until_local), backlog)
            counts = {
                "rainfall": _insert(conn, PPTN, rain),
                "river": _insert(conn, RIVER, _river_after(conn, seed, net, series.floor_hour(until_local))),
                "reservoir": _insert(conn, RSVR, _reservoir_after(conn, seed, net, series.floor_hour(until_local))),
            }
    finally:
        engine.dispose()
    return {"rows": counts, "backlog_rows": late, "corrections": fixed}


def damage(url: str, *, seed: int = 42) -> dict[str, list[dict[str, Any]]]:
    """Write rows the connector must quarantine (fault switch ``malformed``).

    Two rainfall rows get a negative DRP, one rainfall row has a blank STCD, and
    one flood-season row has BGMD ``0631`` (no such day). A NULL TM cannot be
    written: TM is part of the primary key, as SL 323 defines it.
    """
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            newest = conn.execute(sa.select(sa.func.max(PPTN.c.TM))).scalar_one()
            tm = newest - timedelta(hours=1)
            stcds = sorted(s.strip() for s in conn.execute(sa.select(PPTN.c.STCD).where(PPTN.c.TM == tm)).scalars())
            start = int(unit(seed, "damage") * len(stcds))
            rain = []
            for stcd in (stcds[start % len(stcds)], stcds[(start + 1) % len(stcds)]):
                conn.execute(PPTN.update().where(PPTN.c.STCD == stcd, PPTN.c.TM == tm).values(DRP=Decimal("-3.2")))
                rain.append({"stcd": stcd, "tm": tm.isoformat(), "column": "DRP", "value": "-3.2"})
            conn.execute(
                PPTN.insert(),
                [
                    {
                        "STCD": "",
                        "TM": newest,
                        "DRP": Decimal("0.1"),
                        "INTV": Decimal("0.05"),
                        "PDR": Decimal("0.05"),
                        "DYP": None,
                        "WTH": "7",
                    }
                ],
            )
            rain.append({"stcd": "", "tm": newest.isoformat(), "column": "STCD", "value": ""})
            reservoir = conn.execute(sa.select(sa.func.min(RSVRFSR.c.STCD))).scalar_one().strip()
            conn.execute(
                RSVRFSR.insert(),
                [
                    {
                        "STCD": reservoir,
                        "BGMD": "0631",
                        "EDMD": "0915",
                        "FSLTDZ": None,
                        "FSLTDW": None,
                        "FSTP": "1",
                        "MODITIME": newest,
                    }
                ],
            )
    finally:
        engine.dispose()
    limits = [{"stcd": reservoir, "bgmd": "0631", "column": "BGMD", "value": "0631"}]
    return {"rainfall": rain, "reservoir_flood_limits": limits}


def add_column(url: str, table: str = "ST_PPTN_R", column: str = "QCFLAG") -> None:
    """Schema drift: the bureau adds a column (CHAR(1)) to a table."""
    engine = _engine(url)
    try:
        quote = engine.dialect.identifier_preparer.quote
        with engine.begin() as conn:
            conn.execute(sa.text(f"ALTER TABLE {quote(table)} ADD {quote(column)} CHAR(1)"))
            # A value in the new column, on the newest rows, so the connector meets it.
            target = sa.table(table, sa.column("TM"), sa.column(column))
            newest = conn.execute(sa.select(sa.func.max(target.c.TM))).scalar_one()
            conn.execute(target.update().where(target.c.TM == newest).values({column: "1"}))
    finally:
        engine.dispose()


__all__ = ["ALL_TABLES", "add_column", "append", "damage", "offline_gauge", "populate"]
