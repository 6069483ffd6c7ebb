"""Stand-in for the 水利局 water bureau's real-time rain/water database (SL 323-2011).

Contract: ``/work/shared/interfaces/water.md``. Unlike the HTTP stand-ins this
one is not a server of its own: it is a real database (MariaDB/MySQL or
PostgreSQL, anything SQLAlchemy reaches) that these functions create and fill
with the six SL 323 tables the platform reads, so the connector meets CHAR
padding, naive local times and each DBMS's quirks for real.

Entry points (for tests and the sandbox launcher):

- ``provision(server_url, *, database="sl323", seed, scale, reader=None, now=None)``
  creates the database, fills it and returns ``{"url": ..., ...}``; ``url`` is
  what ``sandbox.json`` records as ``water_url``. ``reader=(user, password)``
  also creates a read-only account and ``url`` then names it without the
  password (the platform inserts the ``password`` credential of ``water``).
- ``populate(url, *, seed, scale, now=None, days=3, malformed=False) -> dict``
  (re)creates and fills the tables of the database at ``url``: about 120
  stations at scale 1 (80 rain gauges at 5-minute periods, 22 river, 10
  reservoir, 8 other stations), ``days`` days of data ending at ``now``, one
  storm 40 h before ``now`` with a ≥ 50 mm hour, 海城河 at 海城 above its
  warning stage and 岔沟水库 above its flood limit; one gauge offline for
  the last 6 hours. Returns row counts and where those events are.
- ``append(url, *, seed, until, backlog=True, corrections=True) -> dict``
  continues every series up to ``until``, uploads the offline gauge's backlog
  (rows older than what a reader has already seen) and corrects two rows in
  place (a rainfall DRP, a river Z): an ``UPDATE``, as the bureau does.

Fault switches (functions, as a database has no admin route):

- ``damage(url, seed=...)`` (also ``populate(..., malformed=True)``): negative
  DRP, blank STCD, an impossible BGMD (``0631``). A NULL TM is not possible,
  TM being part of the primary key; duplicates are not either (primary keys),
  the late backlog of ``append`` is this source's "duplicates" case.
- ``add_column(url, table, column)``: schema drift, a new column.
- outage: point the platform at a closed port; nothing to switch here.
- ``create_database`` / ``drop_database`` / ``create_reader`` / ``drop_reader``:
  per-test databases and accounts (:mod:`standins.water.databases`).
"""

from __future__ import annotations

from standins.water.databases import (
    create_database,
    create_reader,
    database_url,
    drop_database,
    drop_reader,
    provision,
)
from standins.water.populate import add_column, append, damage, local_naive, offline_gauge, populate

__all__ = [
    "add_column",
    "append",
    "create_database",
    "create_reader",
    "damage",
    "database_url",
    "drop_database",
    "drop_reader",
    "local_naive",
    "offline_gauge",
    "populate",
    "provision",
]
