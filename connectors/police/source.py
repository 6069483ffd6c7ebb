"""公安局 public-security bureau: daily file drops (police.md).

The bureau's export job drops ``JJXX_/JTSG_/ZDDW_YYYYMMDD.csv`` (GB18030) with
a ``<file>.ok`` marker into an exchange location (``ctx.url``: a directory,
``file://`` URL or ``s3://bucket/prefix``). This connector only lists and reads it.

Per file, in day order, one Page:
- no marker yet → not read (kept in ``pending``; read on a later run once it appears);
- the entry is not a regular file (a symlink, FIFO, device, directory: never
  followed or opened, ``connectors.files``), it or its marker is over its size
  limit, the marker's rows/md5 disagree, the bytes are not GB18030 CSV, a
  required column is missing or one is repeated, or it holds more than
  ``limits.max_file_records`` rows → the file is rejected whole: nothing of it
  is landed or typed; it is logged, kept in ``rejections`` and reported as ONE
  quarantine entry per dataset (locator: the file's path; field: the missing
  column, else ``source_file``; reason ``file rejected whole: …``; record:
  name, size and sha256 only, ``connectors.files.refused_record``). The other
  files of the dataset load; the file is read again once it (or its marker) changes;
- otherwise every row becomes a record, personal values pseudonymised while
  parsing (``connectors.police.parse``).

What is landed: the Page body is NOT the bureau's file. The clear CSV holds
names, phones and ID numbers, and non-emergency alarms that must never be kept
as rows, so the landed body is the JSON of the page's pseudonymised (or, for
``alarm_daily_counts``, aggregated) records plus the file's name and md5.

Datasets (raw ``police__<name>``), all incremental with
``replace_by=report_date`` (the file's day): a re-sent file replaces its day.
- ``alarms``: JJXX rows of emergency-relevant categories only (03xx, 04xx,
  0503, 0505, 07xx); key ``alarm_id``.
- ``alarm_daily_counts``: every other JJXX alarm only as a count per
  (report_date, category_code, division_code), distinct 接警编号.
- ``accidents``: JTSG rows; key ``accident_id``.
- ``key_units``: the full ZDDW list of each day; key (report_date, credit_code, license_no).

Cursor (one per dataset): a JSON string
``{"seq": "0000000007", "files": {name: md5}, "rejected": {name: "md5:marker-md5"}}``:
the files loaded and the files rejected, for files of the last ``window_days``
days. A file is read when its name is not there or its md5 changed (a re-sent
file, a late file); a rejected file is looked at again once the file or its
marker changes. ``seq`` grows by one per page because ``edp.storage.ops`` only moves a
cursor to a string that sorts later. Files older than ``window_days`` before
``until`` are ignored; a file for day D is read once ``until`` has reached the
end of D (the partition of the data interval, never "now").

Rows that cannot be used are quarantined, never dropped: bad times, numbers or
coordinates (by typing), a division code that is not one of 海城市's 27
(``normalise``), a row whose field count differs from the header (a
content-free entry naming file and row: shifted cells could put a phone in any
column). A row whose citizen ID fails GB 11643-1999 is loaded, not
quarantined: ``caller_id_status`` names the reason, pseudonym and mask stay
NULL, the connector logs a warning naming file, row and field (kept in
``flagged``), and the raw suite's ``caller_id_valid`` rule reports it in the
quality report. Personal data: see ``connectors.police.parse``; the plate of a single
vehicle carrying dangerous goods stays in clear (``hazmat_plate``) for tracing.
Columns nobody declared arrive pseudonymised (reported as schema drift).

Options (``sources.yml``): ``window_days`` (31); for ``s3://``: ``endpoint``
(host:port or URL), ``secure`` (false) and credentials ``access_key`` /
``secret_key`` (name their variables under ``credentials:``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from connectors.base import CheckResult, Page, Source
from connectors.context import SourceContext
from connectors.files import Entry, FileRefused, check_entry, file_meta
from connectors.http import SourceUnavailable
from connectors.limits import Limits
from connectors.pii import Pseudonymizer
from connectors.police.codes import HAICHENG_DIVISIONS, is_emergency
from connectors.police.drop import Drop, file_names, open_drop
from connectors.police.parse import (
    MARKER_SUFFIX,
    CsvFile,
    FileRejected,
    Problem,
    file_day,
    id_flags,
    missing_columns,
    parse_marker,
    read_file,
    rejection_record,
    row_record,
)
from connectors.schema import DIVISION_CODE, LOCAL_TZ, Dataset, Field, FieldError

log = logging.getLogger(__name__)

SOURCE = "police"
REPLACE_DAY = {"replace_by": "report_date"}

_FILE_FIELDS = (
    Field("report_date", "date", required=True, description="报送日期 the day of the file (its YYYYMMDD)"),
    Field("source_file", "text", required=True, description="来源文件 the bureau's file name"),
)
_CATEGORY = (
    Field("category_code", "text", required=True, description="警情类别代码 the bureau's alarm category"),
    Field("category_name", "text", description="警情类别名称 category name"),
)
_ROW = Field("source_row", "int", description="文件行号 data row number in the file (header excluded)")
_PLACE = (
    DIVISION_CODE,
    Field("lon", "float", description="经度 longitude, CGCS2000 (NULL when missing)"),
    Field("lat", "float", description="纬度 latitude, CGCS2000 (NULL when missing)"),
    Field("coord_status", "text", description="坐标状态 ok | swapped (fixed) | missing | out_of_area"),
)


def _personal(prefix: str, zh: str) -> tuple[Field, Field]:
    return (
        Field(f"{prefix}_pseudonym", "text", pii=True, description=f"{zh}的关键字假名 keyed HMAC pseudonym"),
        Field(f"{prefix}_masked", "text", pii=True, description=f"{zh}的脱敏显示 masked display form"),
    )


ALARMS = Dataset(
    source=SOURCE,
    name="alarms",
    title="110接警信息（应急相关） emergency-relevant 110 alarms",
    primary_key=("alarm_id",),
    fields=(
        Field("alarm_id", "text", required=True, description="接警编号 alarm number (20 chars)"),
        Field("received_at", "timestamptz", required=True, description="接警时间 received at"),
        Field("report_channel", "text", description="报警方式 电话/短信/网络/现场"),
        *_personal("caller_name", "报警人姓名"),
        *_personal("caller_phone", "报警人联系电话"),
        *_personal("caller_id", "报警人证件号码"),
        Field(
            "caller_id_status",
            "text",
            description=(
                "报警人证件号码校验 GB 11643-1999: valid | wrong_length | bad_format | bad_check_digit | "
                "bad_birth_date | unknown_region (NULL: no number); not valid → pseudonym and mask NULL"
            ),
        ),
        Field("address", "text", description="事发地址 address of the incident"),
        *_PLACE,
        *_CATEGORY,
        Field("summary", "text", description="简要警情 short description"),
        Field("dispatch_unit", "text", description="处警单位 responding unit"),
        Field("dispatched_at", "timestamptz", description="派警时间 dispatched at"),
        Field("arrived_at", "timestamptz", description="到场时间 arrived at"),
        Field("outcome", "text", description="处置结果 outcome"),
        Field("feedback_at", "timestamptz", description="反馈时间 feedback at"),
        *_FILE_FIELDS,
        _ROW,
    ),
    extra=REPLACE_DAY,
)

ALARM_DAILY_COUNTS = Dataset(
    source=SOURCE,
    name="alarm_daily_counts",
    title="非应急警情日统计 daily counts of the other 110 alarms",
    primary_key=("report_date", "category_code", "division_code"),
    fields=(
        *_CATEGORY,
        DIVISION_CODE,
        Field("alarm_count", "int", required=True, description="接警数 distinct alarms that day"),
        *_FILE_FIELDS,
    ),
    extra=REPLACE_DAY,
)

ACCIDENTS = Dataset(
    source=SOURCE,
    name="accidents",
    title="交通事故 road accidents",
    primary_key=("accident_id",),
    fields=(
        Field("accident_id", "text", required=True, description="事故编号 accident number"),
        Field("occurred_at", "timestamptz", required=True, description="事故时间 occurred at"),
        Field("location", "text", description="事故地点 place"),
        *_PLACE,
        Field("road_code", "text", description="道路编号 road number (G15, S321, X052)"),
        Field("accident_type", "text", description="事故形态 kind of collision"),
        Field("deaths", "int", description="死亡人数 deaths"),
        Field("injuries", "int", description="受伤人数 injured"),
        Field("hazmat", "bool", description="涉及危险货物车辆 a vehicle carried dangerous goods"),
        Field(
            "hazmat_plate",
            "text",
            description="危险货物车辆车牌号 plate in clear, only for a single hazmat vehicle (traceability)",
        ),
        *_personal("plate", "车牌号"),
        Field("weather", "text", description="天气 weather"),
        Field("road_surface", "text", description="路面状况 road surface"),
        *_FILE_FIELDS,
        _ROW,
    ),
    extra=REPLACE_DAY,
)

KEY_UNITS = Dataset(
    source=SOURCE,
    name="key_units",
    title="重点管控单位 units licensed for explosives or toxic chemicals (daily full list)",
    primary_key=("report_date", "credit_code", "license_no"),
    fields=(
        Field("unit_name", "text", required=True, description="单位名称 unit name"),
        Field("credit_code", "text", required=True, description="统一社会信用代码 GB 32100 credit code"),
        Field("license_type", "text", description="许可类型 licence kind"),
        Field("license_no", "text", required=True, description="许可证号 licence number"),
        Field("valid_until", "date", description="有效期至 licence valid until"),
        Field("address", "text", description="地址 address"),
        Field("division_code", "text", required=True, description="所属辖区代码 12-digit division code"),
        *_personal("principal", "负责人"),
        *_personal("principal_phone", "负责人联系电话"),
        *_FILE_FIELDS,
        _ROW,
    ),
    extra=REPLACE_DAY,
)

# A marker is two short lines: anything bigger is not a marker.
MAX_MARKER_BYTES = 4096
# The only keys with a value in a rejected file's or broken row's record.
_PROBLEM_KEYS = frozenset({"report_date", "source_file", "source_row"})
DATASETS = {ds.name: ds for ds in (ALARMS, ALARM_DAILY_COUNTS, ACCIDENTS, KEY_UNITS)}
KIND = {"alarms": "JJXX", "alarm_daily_counts": "JJXX", "accidents": "JTSG", "key_units": "ZDDW"}


def _required(ds: Dataset) -> tuple[str, ...]:
    return tuple(f.name for f in ds.fields if f.required)


@dataclass
class DropState:
    """The cursor: which files (by md5) were loaded or rejected."""

    seq: int = 0
    files: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, cursor: str | None) -> DropState:
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
            return cls(int(data["seq"]), dict(data.get("files", {})), dict(data.get("rejected", {})))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"police: stored cursor is not the drop state JSON ({exc}); reset the cursor to re-read the drop"
            ) from None

    def dump(self, oldest: date) -> str:
        def recent(entries: dict[str, str]) -> dict[str, str]:
            return {n: v for n, v in sorted(entries.items()) if (fd := file_day(n)) and fd[1] >= oldest}

        # seq first and zero-padded: later states sort later as strings.
        state = {"seq": f"{self.seq:010d}", "files": recent(self.files), "rejected": recent(self.rejected)}
        return json.dumps(state, ensure_ascii=False)


class PoliceSource(Source):
    name = SOURCE
    title = "公安局 public-security bureau"

    def __init__(
        self, drop: Drop, pseudonymizer: Pseudonymizer, *, window_days: int = 31, limits: Limits | None = None
    ) -> None:
        self.drop = drop
        self.limits = limits or Limits()
        self.pseudo = pseudonymizer
        self.window = timedelta(days=window_days)
        # What the last read found: files refused whole, and files still waiting for their marker.
        self.rejections: list[dict[str, str]] = []
        # Rows loaded with a personal value that failed its check (an invalid citizen ID): locator and reason only.
        self.flagged: list[dict[str, Any]] = []
        self.pending: list[str] = []

    def datasets(self) -> dict[str, Dataset]:
        return dict(DATASETS)

    def check(self) -> CheckResult:
        try:
            names = file_names(self.drop)
        except (SourceUnavailable, ValueError) as exc:
            return CheckResult.failed(SOURCE, exc)
        data = [n for n in names if file_day(n)]
        waiting = [n for n in data if n + MARKER_SUFFIX not in set(names)]
        message = f"{self.drop.uri}: {len(data)} data file(s), {len(waiting)} without marker"
        return CheckResult(SOURCE, True, message, {"files": len(data), "without_marker": len(waiting)})

    def read(self, dataset: str, cursor: str | None, until: datetime) -> Iterator[Page]:
        if dataset not in DATASETS:
            raise KeyError(f"police has no dataset {dataset!r}")
        ds, kind = DATASETS[dataset], KIND[dataset]
        state = DropState.load(cursor)
        # Day D is complete once ``until`` has reached D+1 00:00 local time.
        last_day = until.astimezone(LOCAL_TZ).date() - timedelta(days=1)
        oldest = last_day - self.window
        entries = {e.name: e for e in self.drop.entries()}
        files = sorted((fd[1], n) for n in entries if (fd := file_day(n)) and fd[0] == kind)
        for day, name in files:
            if day > last_day or day < oldest:
                continue
            marker = entries.get(name + MARKER_SUFFIX)
            if marker is None:
                log.info("police: %s has no marker yet; not read", name)
                self.pending.append(name)
                continue
            page = self._file_page(ds, entries[name], marker, day, state, oldest)
            if page is not None:
                yield page

    def _file_page(
        self, ds: Dataset, entry: Entry, marker: Entry, day: date, state: DropState, oldest: date
    ) -> Page | None:
        try:
            # What lstat shows is refused before anything is opened: links, pipes, devices, oversize.
            check_entry(entry, self.limits.max_file_bytes)
            check_entry(marker, MAX_MARKER_BYTES)
            return self._read_file_page(ds, entry.name, day, state, oldest)
        except FileNotFoundError:
            # Moved or replaced by the bureau between listing and reading: next run sees it as it is then.
            log.warning("police: %s disappeared while being read; left for the next run", entry.name)
            return None
        except FileRefused as exc:
            fingerprint = f"entry:{entry.fingerprint}:{marker.fingerprint}"
            if state.rejected.get(entry.name) == fingerprint:
                return None  # refused already, unchanged since
            state.seq += 1
            state.rejected[entry.name] = fingerprint
            state.files.pop(entry.name, None)
            reason = exc.reason if exc.name == entry.name else f"its marker {exc.name} is {exc.reason}"
            meta = file_meta(entry.name, entry=entry)
            return self._rejected_page(ds, entry.name, day, meta, reason, None, state.dump(oldest))

    def _read_file_page(self, ds: Dataset, name: str, day: date, state: DropState, oldest: date) -> Page | None:
        marker_bytes = self.drop.read(name + MARKER_SUFFIX, MAX_MARKER_BYTES)
        try:
            claimed = parse_marker(name, marker_bytes).md5
        except FileRejected:
            claimed = None
        if claimed is not None and state.files.get(name) == claimed:
            return None  # loaded already and not re-sent: the file itself need not be read again
        data = self.drop.read(name, self.limits.max_file_bytes)
        md5 = hashlib.md5(data).hexdigest()
        fingerprint = f"{md5}:{hashlib.md5(marker_bytes).hexdigest()}"
        if state.files.get(name) == md5 or state.rejected.get(name) == fingerprint:
            return None
        state.seq += 1
        try:
            parsed = read_file(name, data, marker_bytes, max_records=self.limits.max_file_records)
            missing = missing_columns(parsed.kind, parsed.header, _required(ds))
            if missing:
                raise FileRejected(name, f"missing required column(s) {', '.join(missing)}", missing[0])
        except FileRejected as exc:
            state.rejected[name] = fingerprint
            state.files.pop(name, None)
            meta = {**file_meta(name, data), "md5": md5}
            return self._rejected_page(ds, name, day, meta, exc.reason, exc.field, state.dump(oldest))
        state.files[name] = md5
        state.rejected.pop(name, None)
        records = self._records(ds, parsed)
        body = {"file": name, "md5": md5, "source_rows": len(parsed.rows), "dataset": ds.name, "records": records}
        return Page(_json(body), "application/json", records, f"{self.drop.uri}/{name} md5 {md5}", state.dump(oldest))

    def _rejected_page(
        self, ds: Dataset, name: str, day: date, meta: dict[str, Any], reason: str, column: str | None, cursor: str
    ) -> Page:
        log.error("police: %s rejected whole (nothing of it loaded into %s): %s", name, ds.name, reason)
        self.rejections.append({"dataset": ds.name, "file": name, "reason": reason})
        locator = f"{self.drop.uri}/{name}"
        record = rejection_record(name, day, reason, _required(ds), meta, locator, column)
        body = {**meta, "dataset": ds.name, "rejected": reason, "records": [record]}
        return Page(_json(body), "application/json", [record], locator, cursor)

    def _records(self, ds: Dataset, f: CsvFile) -> list[dict[str, Any]]:
        required = _required(ds)
        records = [row_record(f, number, fields, self.pseudo, required) for number, fields in f.rows]
        if ds.name == "alarms":
            # A broken row may be an emergency alarm: it is quarantined here, content-free.
            kept = [r for r in records if isinstance(r, Problem) or is_emergency(r.get("category_code"))]
            self._flag(ds, f, kept)
            return kept
        if ds.name == "alarm_daily_counts":
            return daily_counts([r for r in records if not isinstance(r, Problem)], f)
        return records

    def _flag(self, ds: Dataset, f: CsvFile, records: list[dict[str, Any]]) -> None:
        """Report the rows kept with an invalid citizen ID: file, row, field and reason, never the value."""
        for r in records:
            if isinstance(r, Problem):
                continue
            for header, column, reason in id_flags(f.kind, r):
                log.warning(
                    "police: %s data row %s field %s: not a valid citizen ID (GB 11643-1999: %s); "
                    "row loaded into %s with %s=%s and no pseudonym",
                    f.name,
                    r.get("source_row"),
                    header,
                    reason,
                    ds.name,
                    column,
                    reason,
                )
                self.flagged.append(
                    {"dataset": ds.name, "file": f.name, "row": r.get("source_row"), "field": header, "reason": reason}
                )

    def normalise(self, dataset: str, record: dict[str, Any]) -> dict[str, Any]:
        if isinstance(record, Problem):
            raise FieldError(record.field, record.reason)
        if record.get("source_file") and {k for k, v in record.items() if v is not None} <= _PROBLEM_KEYS:
            # A rejected file's or broken row's entry, replayed: only a re-sent file can fix it.
            raise FieldError(
                "source_file", f"{record['source_file']} was refused at read time; it loads when the bureau re-sends it"
            )
        code = record.get("division_code")
        if code is not None and str(code).strip() not in HAICHENG_DIVISIONS:
            raise FieldError("division_code", f"{str(code)[:20]!r} is not a 12-digit division code of 海城市")
        return record


def daily_counts(records: list[dict[str, Any]], f: CsvFile) -> list[dict[str, Any]]:
    """Non-emergency alarms reduced to distinct alarms per (category, division); no row survives."""
    seen: dict[tuple[Any, Any], set[Any]] = {}
    names: dict[Any, Any] = {}
    for r in records:
        if is_emergency(r.get("category_code")):
            continue
        key = (r.get("category_code"), r.get("division_code"))
        # A row sent twice counts once; a row without number counts by its place in the file.
        seen.setdefault(key, set()).add(r.get("alarm_id") or f"row {r['source_row']}")
        names.setdefault(key[0], r.get("category_name"))
    return [
        {
            "report_date": f.day.isoformat(),
            "source_file": f.name,
            "category_code": code,
            "category_name": names[code],
            "division_code": division,
            "alarm_count": len(ids),
        }
        for (code, division), ids in sorted(seen.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))
    ]


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")


def create(ctx: SourceContext) -> PoliceSource:
    opts = ctx.options
    s3 = ctx.url.startswith("s3://")
    drop = open_drop(
        ctx.url,
        endpoint=str(opts.get("endpoint", "")),
        access_key=ctx.credential("access_key") if s3 else "",
        secret_key=ctx.credential("secret_key") if s3 else "",
        secure=bool(opts.get("secure", False)),
        timeout=ctx.check_timeout,  # a check tries once, briefly
    )
    return PoliceSource(
        drop, Pseudonymizer(ctx.pii_key()), window_days=int(opts.get("window_days", 31)), limits=ctx.limits
    )
