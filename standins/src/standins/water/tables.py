"""The SL 323-2011 tables the water bureau's database holds (water.md), as SQLAlchemy Core.

Upper-case names (SQLAlchemy quotes them, so PostgreSQL keeps them upper case
as Oracle/达梦 would), ``CHAR(8)`` STCD, ``NUMERIC(p,s)`` measures and
``DATETIME`` / ``TIMESTAMP WITHOUT TIME ZONE`` times: SQLAlchemy renders each
type as the DBMS at hand needs. Only the columns the contract names exist, so
a connector reading ``*`` sees exactly the contract.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


def _n(precision: int, scale: int) -> sa.Numeric:
    # asdecimal: the driver hands back Decimal, as a real SL 323 database does.
    return sa.Numeric(precision, scale, asdecimal=True)


STBPRP = sa.Table(
    "ST_STBPRP_B",
    metadata,
    sa.Column("STCD", sa.CHAR(8), primary_key=True),
    sa.Column("STNM", sa.CHAR(30)),
    sa.Column("RVNM", sa.CHAR(30)),
    sa.Column("HNNM", sa.CHAR(30)),
    sa.Column("BSNM", sa.CHAR(30)),
    sa.Column("LGTD", _n(10, 6)),
    sa.Column("LTTD", _n(10, 6)),
    sa.Column("STLC", sa.String(50)),
    sa.Column("ADDVCD", sa.CHAR(6)),
    sa.Column("STTP", sa.CHAR(2)),
    sa.Column("FRGRD", sa.CHAR(1)),
    sa.Column("USFL", sa.CHAR(1)),
    sa.Column("COMMENTS", sa.String(200)),
    sa.Column("MODITIME", sa.DateTime(timezone=False)),
)

PPTN = sa.Table(
    "ST_PPTN_R",
    metadata,
    sa.Column("STCD", sa.CHAR(8), primary_key=True),
    sa.Column("TM", sa.DateTime(timezone=False), primary_key=True),
    sa.Column("DRP", _n(5, 1)),
    sa.Column("INTV", _n(5, 2)),
    sa.Column("PDR", _n(5, 2)),
    sa.Column("DYP", _n(5, 1)),
    sa.Column("WTH", sa.CHAR(1)),
)

RIVER = sa.Table(
    "ST_RIVER_R",
    metadata,
    sa.Column("STCD", sa.CHAR(8), primary_key=True),
    sa.Column("TM", sa.DateTime(timezone=False), primary_key=True),
    sa.Column("Z", _n(7, 3)),
    sa.Column("Q", _n(9, 3)),
    sa.Column("XSA", _n(9, 3)),
    sa.Column("XSAVV", _n(5, 3)),
    sa.Column("XSMXV", _n(5, 3)),
    sa.Column("FLWCHRCD", sa.CHAR(1)),
    sa.Column("WPTN", sa.CHAR(1)),
    sa.Column("MSQMT", sa.CHAR(1)),
    sa.Column("MSAMT", sa.CHAR(1)),
    sa.Column("MSVMT", sa.CHAR(1)),
)

RSVR = sa.Table(
    "ST_RSVR_R",
    metadata,
    sa.Column("STCD", sa.CHAR(8), primary_key=True),
    sa.Column("TM", sa.DateTime(timezone=False), primary_key=True),
    sa.Column("RZ", _n(7, 3)),
    sa.Column("INQ", _n(9, 3)),
    sa.Column("W", _n(9, 3)),
    sa.Column("BLRZ", _n(7, 3)),
    sa.Column("OTQ", _n(9, 3)),
    sa.Column("RWCHRCD", sa.CHAR(1)),
    sa.Column("RWPTN", sa.CHAR(1)),
    sa.Column("INQDR", _n(5, 2)),
    sa.Column("MSQMT", sa.CHAR(1)),
)

RVFCCH = sa.Table(
    "ST_RVFCCH_B",
    metadata,
    sa.Column("STCD", sa.CHAR(8), primary_key=True),
    sa.Column("WRZ", _n(7, 3)),
    sa.Column("WRQ", _n(9, 3)),
    sa.Column("GRZ", _n(7, 3)),
    sa.Column("GRQ", _n(9, 3)),
    sa.Column("LDKEL", _n(7, 3)),
    sa.Column("RDKEL", _n(7, 3)),
    sa.Column("MODITIME", sa.DateTime(timezone=False)),
)

# SL 323 keys the flood-season table by station and season begin.
RSVRFSR = sa.Table(
    "ST_RSVRFSR_B",
    metadata,
    sa.Column("STCD", sa.CHAR(8), primary_key=True),
    sa.Column("BGMD", sa.CHAR(4), primary_key=True),
    sa.Column("EDMD", sa.CHAR(4)),
    sa.Column("FSLTDZ", _n(7, 3)),
    sa.Column("FSLTDW", _n(9, 3)),
    sa.Column("FSTP", sa.CHAR(1)),
    sa.Column("MODITIME", sa.DateTime(timezone=False)),
)

# SL 323 keys observations by (STCD, TM); deployments add an index on TM for reads by time,
# which is how every client (and the platform) reads them.
for _table in (PPTN, RIVER, RSVR):
    sa.Index(f"IX_{_table.name}_TM", _table.c.TM)

ALL_TABLES = (STBPRP, PPTN, RIVER, RSVR, RVFCCH, RSVRFSR)
