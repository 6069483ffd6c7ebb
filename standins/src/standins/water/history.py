"""A long history (weeks to a year) before the demo window, generated inside PostgreSQL.

``populate(days=N)`` writes the last three days (the demo window with its
storm, :mod:`standins.water.series`) row by row from Python; everything older
is written here, set-based: ``generate_series`` over stations and hours, one
``INSERT … SELECT`` per half month, so a year (about 8.3 million ST_PPTN_R rows at
scale 1, 12.6 million at scale 1.5) never passes through Python and the
stand-in's memory stays flat. Values are pure functions of (seed, station,
time) through ``hashtextextended``, which PostgreSQL keeps stable across
versions (hash partitioning depends on it), so a history is the same on every
run; it is not the same numbers the Python model would give (that model is a
Python hash), only the same climate.

The climate is 海城's: about 700 mm a year, most of it in July and August,
little in winter (and then as snow, WTH 5); it rains on the county's wet days
(shared by every gauge), in some hours of them, each shower a run of
5-minute periods inside its hour. Rivers and reservoirs swell in the flood
season and after wet days, and always stay below their warning stage (WRZ)
and the flood limit of the day (ST_RSVRFSR_B), so the demo's storm remains
the one event above them. Over the last two days before the demo window
every level recedes to where the demo window starts, so there is no step.

PostgreSQL only: MariaDB/MySQL have no ``generate_series`` (and the sandbox
runs on the warehouse's PostgreSQL server); a history there raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from standins.water.network import Network, flood_limit

# 海城 (鞍山) climate normals: precipitation (mm) and days with precipitation per month.
MONTHLY_MM = (5, 8, 15, 35, 60, 90, 190, 170, 65, 40, 20, 7)
WET_DAYS = (3, 3, 4, 6, 8, 11, 14, 12, 7, 6, 5, 3)
WET_HOUR_SHARE = 0.3  # of the hours of a wet day, at one gauge
MAX_HOUR_TIPS = 200  # 20 mm: the demo's storm (26 mm in its peak hour) stays the county's heaviest hour
CHUNK = timedelta(days=15)  # one INSERT … SELECT (and one progress line) per half a month
RECEDE = timedelta(hours=48)  # levels fall back to the demo window's start over this long

Progress = Callable[[str], None]


def _u(tag: str, *parts: str) -> str:
    """SQL for a uniform number in [0, 1) fixed by the seed (``:seed``), ``tag`` and ``parts``."""
    text = " || '|' || ".join((f"'{tag}'", *parts))
    return f"((hashtextextended({text}, :seed) & 9007199254740991)::float8 / 9007199254740992.0)"


def _gauss(tag: str, *parts: str) -> str:
    """SQL for a standard-normal number (Box-Muller on two fixed uniforms)."""
    return f"(sqrt(-2 * ln(1 - {_u(tag + '1', *parts)})) * cos(2 * pi() * {_u(tag + '2', *parts)}))"


_EPOCH = "extract(epoch from {0})::bigint::text"
_GAUGE = 'rtrim(g."STCD")'

_DAYS = f"""
create temp table hist_days on commit drop as
select d::date as day,
       {_u("wet-day", _EPOCH.format("d"))} < m.wet_days / m.month_days as is_wet,
       m.mm / m.wet_days / (24 * :wet_hour_share) as mean_mm,
       least(3.0, greatest(0.2, -ln(1 - {_u("intensity", _EPOCH.format("d"))}))) as intensity,
       extract(month from d) in (12, 1, 2) as is_winter
from generate_series(cast(:first_day as timestamp), cast(:last_day as timestamp), interval '1 day') as d
join (
    select month, mm::float8 as mm, wet_days::float8 as wet_days,
           extract(day from make_date(2001, month, 1) + interval '1 month' - interval '1 day')::float8 as month_days
    from unnest(cast(:months as int[]), cast(:mms as int[]), cast(:wets as int[])) as c (month, mm, wet_days)
) as m on m.month = extract(month from d)
"""

_RAIN = f"""
create temp table hist_rain on commit drop as
select stcd, hour, tips, s0, 1 + floor(u_len * (12 - s0))::int as len, is_winter,
       sum(tips) over (partition by stcd order by hour rows between 23 preceding and current row) as tips_24h
from (
    select g."STCD" as stcd, h.hour, d.is_winter,
           case when d.is_wet and {_u("wet-hour", _GAUGE, _EPOCH.format("h.hour"))} < :wet_hour_share
                then least(:max_tips, round(
                    10 * d.mean_mm * d.intensity * -ln(1 - {_u("mm", _GAUGE, _EPOCH.format("h.hour"))})
                ))::int
                else 0 end as tips,
           floor(12 * {_u("s0", _GAUGE, _EPOCH.format("h.hour"))})::int as s0,
           {_u("len", _GAUGE, _EPOCH.format("h.hour"))} as u_len
    from "ST_STBPRP_B" as g
    cross join generate_series(
        cast(:first_hour as timestamp), cast(:last_hour as timestamp), interval '1 hour'
    ) as h (hour)
    join hist_days as d on d.day = h.hour::date
    where g."STTP" = 'PP' and g."USFL" = '1'
) as x
"""

# Slot k (0-11) of an hour ends at hour + 5 min * (k + 1); a shower spreads its tips evenly over
# the periods s0 .. s0 + len - 1 (the total is kept exactly); the 07:00 hour's last period is the
# 08:00 row, which carries DYP, the rain of the 24 hours ending then.
_RAIN_ROWS = """
insert into "ST_PPTN_R" ("STCD", "TM", "DRP", "INTV", "PDR", "DYP", "WTH")
select r.stcd, s.tm, s.tips / 10.0, 0.05,
       case when s.tips > 0 then 0.05 else 0 end,
       case when k = 11 and extract(hour from r.hour) = 7 then r.tips_24h / 10.0 end,
       case when s.tips = 0 then '9' when r.is_winter then '5' else '7' end
from hist_rain as r
cross join generate_series(0, 11) as k
cross join lateral (
    select r.hour + (k + 1) * interval '5 minutes' as tm,
           case when k >= r.s0 and k < r.s0 + r.len
                then (r.tips * (k - r.s0 + 1)) / r.len - (r.tips * (k - r.s0)) / r.len
                else 0 end as tips
) as s
where r.hour >= cast(:chunk_from as timestamp) and r.hour < cast(:chunk_to as timestamp)
  and s.tm >= cast(:first_slot as timestamp) and s.tm < cast(:stop_slot as timestamp)
"""

# The county's mean rain of the last 24 hours, what rivers and reservoirs answer to.
_WETNESS = """
create temp table hist_wetness on commit drop as
select hour,
       sum(mm) over (order by hour rows between 23 preceding and current row) as mm_24h,
       extract(doy from hour)::float8 as doy,
       least(1.0, extract(epoch from (cast(:stop_hour as timestamp) - hour)) / :recede_seconds) as taper
from (select hour, avg(tips) / 10.0 as mm from hist_rain group by hour) as x
"""

_RIVER_ROWS = f"""
insert into "ST_RIVER_R" ("STCD", "TM", "Z", "Q", "FLWCHRCD", "WPTN")
select stcd, hour, round(z::numeric, 3),
       case when is_zq then round((a * power(greatest(z - z0, 0), 1.6))::numeric, 3) end,
       ' ',
       case when lag(z) over w is null or abs(z - lag(z) over w) < 0.005 then '6'
            when z > lag(z) over w then '5' else '4' end
from (
    select s.stcd, w.hour, s.is_zq, s.a, s.z0,
           s.base + 0.004 * {_gauss("z", "s.stcd", _EPOCH.format("w.hour"))}
           + w.taper * s.headroom * (
               0.3 * exp(-power((w.doy - 215) / 45, 2)) + 0.35 * least(1.0, w.mm_24h / 40)
           ) as z
    from unnest(
        cast(:stcds as text[]), cast(:bases as float8[]), cast(:headrooms as float8[]),
        cast(:z0s as float8[]), cast(:ratings as float8[]), cast(:zqs as boolean[])
    ) as s (stcd, base, headroom, z0, a, is_zq)
    cross join hist_wetness as w
    where w.hour >= cast(:first_hour as timestamp) and w.hour < cast(:stop_hour as timestamp)
) as x
window w as (partition by stcd order by hour)
"""

_RESERVOIR_ROWS = f"""
insert into "ST_RSVR_R" ("STCD", "TM", "RZ", "INQ", "W", "BLRZ", "OTQ", "RWCHRCD", "RWPTN", "INQDR")
select stcd, hour, round(rz::numeric, 3), round(inq::numeric, 3),
       round((w_dead + k * power(greatest(rz - dead, 0), 1.5))::numeric, 3),
       round((dead - 6)::numeric, 3), round(release::numeric, 3), ' ',
       case when lag(rz) over w is null or abs(rz - lag(rz) over w) < 0.005 then '6'
            when rz > lag(rz) over w then '5' else '4' end,
       1.0
from (
    select s.stcd, w.hour, s.dead, s.k, s.w_dead, s.release,
           s.release * (0.9 + 3 * w.taper * least(1.0, w.mm_24h / 30)) as inq,
           least(
               f.limit_z - 0.02,
               w.taper * (f.limit_z - s.gap * (1.2 - 0.4 * least(1.0, w.mm_24h / 30)))
               + (1 - w.taper) * (s.limit_now - s.gap)
               + 0.002 * {_gauss("rz", "s.stcd", _EPOCH.format("w.hour"))}
           ) as rz
    from unnest(
        cast(:stcds as text[]), cast(:deads as float8[]), cast(:ks as float8[]), cast(:w_deads as float8[]),
        cast(:releases as float8[]), cast(:gaps as float8[]), cast(:limits_now as float8[])
    ) as s (stcd, dead, k, w_dead, release, gap, limit_now)
    cross join hist_wetness as w
    cross join lateral (
        select min(b."FSLTDZ")::float8 as limit_z
        from "ST_RSVRFSR_B" as b
        where rtrim(b."STCD") = s.stcd and to_char(w.hour, 'MMDD') between b."BGMD" and b."EDMD"
    ) as f
    where w.hour >= cast(:first_hour as timestamp) and w.hour < cast(:stop_hour as timestamp)
) as x
window w as (partition by stcd order by hour)
"""


def write_history(
    conn: Connection,
    net: Network,
    *,
    seed: int,
    first_slot: datetime,
    stop_slot: datetime,
    first_hour: datetime,
    stop_hour: datetime,
    limit_day: str,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Rain rows for TM in [first_slot, stop_slot), river and reservoir rows for [first_hour, stop_hour).

    ``limit_day`` (MMDD) is the day whose flood limit the demo window compares
    reservoirs with; levels recede to it before ``stop_hour``. Returns the rows written.
    """
    counts = {"rainfall": 0, "river": 0, "reservoir": 0}
    if stop_slot <= first_slot:
        return counts
    if conn.dialect.name != "postgresql":
        raise ValueError(f"a history longer than the demo window needs PostgreSQL, not {conn.dialect.name}")
    say = progress or (lambda _: None)
    rain_from = first_slot - timedelta(minutes=5) - timedelta(hours=23)  # 23 h more for the first DYP
    rain_from = rain_from.replace(minute=0)
    conn.execute(
        sa.text(_DAYS),
        {
            "seed": seed,
            "first_day": rain_from.replace(hour=0),
            "last_day": stop_slot,
            "months": list(range(1, 13)),
            "mms": list(MONTHLY_MM),
            "wets": list(WET_DAYS),
            "wet_hour_share": WET_HOUR_SHARE,
        },
    )
    say(f"water: {first_slot:%Y-%m-%d} to {stop_slot:%Y-%m-%d}: drawing the rain of each gauge and hour")
    conn.execute(
        sa.text(_RAIN),
        {
            "seed": seed,
            "first_hour": rain_from,
            "last_hour": stop_slot,
            "wet_hour_share": WET_HOUR_SHARE,
            "max_tips": MAX_HOUR_TIPS,
        },
    )
    chunk_from = rain_from
    while chunk_from < stop_slot:
        chunk_to = min(chunk_from + CHUNK, stop_slot)
        result = conn.execute(
            sa.text(_RAIN_ROWS),
            {"chunk_from": chunk_from, "chunk_to": chunk_to, "first_slot": first_slot, "stop_slot": stop_slot},
        )
        counts["rainfall"] += result.rowcount
        say(f"water: rainfall up to {chunk_to:%Y-%m-%d %H:%M}, {counts['rainfall']:,} rows")
        chunk_from = chunk_to
    conn.execute(sa.text(_WETNESS), {"stop_hour": stop_hour, "recede_seconds": RECEDE.total_seconds()})
    if net.rivers:
        rivers = net.rivers
        result = conn.execute(
            sa.text(_RIVER_ROWS),
            {
                "seed": seed,
                "first_hour": first_hour,
                "stop_hour": stop_hour,
                "stcds": [s.stcd for s in rivers],
                "bases": [s.params["base"] for s in rivers],
                "headrooms": [s.params["wrz"] - s.params["base"] for s in rivers],
                "z0s": [s.params["z0"] for s in rivers],
                "ratings": [s.params["a"] for s in rivers],
                "zqs": [s.sttp == "ZQ" for s in rivers],
            },
        )
        counts["river"] = result.rowcount
        say(f"water: river stages, {counts['river']:,} rows")
    if net.reservoirs:
        reservoirs = net.reservoirs
        result = conn.execute(
            sa.text(_RESERVOIR_ROWS),
            {
                "seed": seed,
                "first_hour": first_hour,
                "stop_hour": stop_hour,
                "stcds": [s.stcd for s in reservoirs],
                "deads": [s.params["dead"] for s in reservoirs],
                "ks": [s.params["k"] for s in reservoirs],
                "w_deads": [s.params["w_dead"] for s in reservoirs],
                "releases": [s.params["release"] for s in reservoirs],
                # As series.reservoir_state: the flagship waits 0.45 m below its limit.
                "gaps": [0.45 if i == 0 else s.params["gap"] for i, s in enumerate(reservoirs)],
                "limits_now": [flood_limit(s, limit_day)[0] for s in reservoirs],
            },
        )
        counts["reservoir"] = result.rowcount
        say(f"water: reservoir levels, {counts['reservoir']:,} rows")
    return counts


@contextmanager
def indexes_deferred(conn: Connection, table: str, progress: Progress | None = None) -> Iterator[None]:
    """Drop ``table``'s primary key and indexes for a bulk load and build them again after it.

    Building an index once over millions of sorted rows is several times faster
    than maintaining it row by row. PostgreSQL only (a no-op elsewhere).
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    quoted = conn.dialect.identifier_preparer.quote(table)
    constraints = conn.execute(
        sa.text(
            "select conname, pg_get_constraintdef(oid) from pg_constraint "
            "where conrelid = cast(:t as regclass) and contype = 'p'"
        ),
        {"t": quoted},
    ).all()
    indexes = conn.execute(
        sa.text(
            "select indexname, indexdef from pg_indexes where schemaname = current_schema() and tablename = :t "
            "and indexname not in (select conname from pg_constraint where conrelid = cast(:q as regclass))"
        ),
        {"t": table, "q": quoted},
    ).all()
    for name, _ in constraints:
        conn.execute(sa.text(f'alter table {quoted} drop constraint "{name}"'))
    for name, _ in indexes:
        conn.execute(sa.text(f'drop index "{name}"'))
    yield
    say = progress or (lambda _: None)
    conn.execute(sa.text("set local maintenance_work_mem = '256MB'"))
    for name, definition in constraints:
        say(f"water: building {table}'s {definition}")
        conn.execute(sa.text(f'alter table {quoted} add constraint "{name}" {definition}'))
    for name, definition in indexes:
        say(f"water: building index {name}")
        conn.execute(sa.text(definition))
    say(f"water: analysing {table}")
    conn.execute(sa.text(f"analyze {quoted}"))  # fresh statistics for the readers' plans
    say(f"water: {table} indexed")


# The first day of the demo window: its 08:00 rows' DYP from the rows now stored before them.
_SEAM_DYP = """
update "ST_PPTN_R" as p
set "DYP" = (
    select coalesce(sum(q."DRP"), 0)
    from "ST_PPTN_R" as q
    where q."STCD" = p."STCD" and q."TM" > p."TM" - interval '24 hours' and q."TM" <= p."TM"
)
where p."TM" >= cast(:seam as timestamp) and p."TM" < cast(:seam as timestamp) + interval '24 hours'
  and extract(hour from p."TM") = 8 and extract(minute from p."TM") = 0
"""


def mend_seam(conn: Connection, seam: datetime) -> None:
    """DYP of the demo window's first 08:00 rows, now that the history before them is stored."""
    conn.execute(sa.text(_SEAM_DYP), {"seam": seam})
