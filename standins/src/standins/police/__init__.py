"""Stand-in for the 公安局 public-security bureau's daily file drops.

Contract: ``/work/shared/interfaces/police.md``. The bureau's side is a
directory (the exchange directory; in production an SFTP mount or an S3
prefix) that its export job fills once a day; this package is that job.

Entry points (the launcher points ``police_url`` at the directory):

- :func:`populate` ``(drop_dir, *, seed, scale, days=3, end_date=None, faults=None) -> dict``:
  ``days`` days of JJXX_/JTSG_/ZDDW_YYYYMMDD.csv + ``.ok`` ending ``end_date``
  (default yesterday, Asia/Shanghai). Returns ``pii_values`` (every clear
  personal value written, for privacy tests), ``hazmat_plates`` (allowed in
  clear), ``held_back`` files and per-day details.
- :func:`drop_day` ``(drop_dir, day, *, seed, scale, version=0, kinds, faults)``: one day's files.
- :func:`resend_day` ``(…, version=1)``: the day again, corrected (new md5, same names).
- :func:`drop_next_day`: advance the export by a day (demo "time passes").
- :func:`write_marker` ``(drop_dir, name)``: the marker of a file dropped without one.

Fault switches (:class:`PoliceFaults`): ``missing_marker``, ``bad_marker_md5``,
``bad_marker_rows``, ``malformed_rate`` (bad time / division not of 海城市 /
unparsable coordinate), ``duplicate_rate`` (rows exported twice), ``late_rate``
(files held back by ``populate``). Coordinates are empty, ``0`` or swapped in
a few percent of rows, and times mix two formats, in every file: that is the
contract, not a fault.
"""

from __future__ import annotations

from standins.police.drop import (
    KINDS,
    PoliceFaults,
    drop_day,
    drop_next_day,
    file_name,
    populate,
    resend_day,
    write_marker,
)

__all__ = ["KINDS", "PoliceFaults", "drop_day", "drop_next_day", "file_name", "populate", "resend_day", "write_marker"]
