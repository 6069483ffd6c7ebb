"""应急管理局 the bureau's own registers: Excel workbooks in an inbox (bureau_ledgers.md).

Staff upload a new version of a register whenever it changes; each upload is a
full replacement. The connector never edits the inbox. Per dataset (one
register, ``<title>*.xlsx``) it loads every workbook version it has not loaded
yet, one Page per version, and keeps them all (mode ``snapshot``; the version
is part of the key, so two versions in one pull never merge).

Cursor: ``{"at": "<UTC time>", "files": {"<file name>": "<sha256>"}}`` — the
version of each file already handled (loaded, or rejected and quarantined). A
file whose bytes hash the same as in the cursor is skipped; no new version
means no page and no rows. ``at`` comes first so that cursors grow as strings
(``ops.advance_cursor`` never moves a cursor back).

Personal information: 负责人, 安全负责人 and 联系电话 (and any ``填报人：…`` note)
must never be stored in clear, and a workbook could carry them anywhere. So
the landed body of a Page is **not** the workbook: it is a JSON rendering of
the parsed rows, with each personal value replaced by a keyed pseudonym and a
masked form, and without the note rows. The workbook itself stays in the
inbox, identified by its sha256 (``workbook_version``).

A workbook whose header does not match its register, or that cannot be read
(a corrupt or cut-off sheet, a zip bomb, a sheet over ``limits``), is rejected
whole with a message naming the file (and the sheet, the missing and unknown
columns): its Page carries a single content-free record
(``connectors.files.refused_record``) that is quarantined with that message,
the other registers still load, and the cursor records the version so it is
not rejected again every hour; an upload of a new version is read.

The inbox is read without trusting it (``connectors.files``): an entry named
like a workbook that is a symlink, a pipe, a device or a directory is refused
with the reason and never followed or opened; a file is read only up to
``limits.max_file_bytes``. A cell that no value stands for faithfully (a
formula saved without its cached value, an Excel error, a logical value)
quarantines its row naming file, row, column
and reason: never NULL, never a guess. A code typed as a number that Excel has
rounded (more than 15 digits) is loaded as Excel kept it with a warning naming
file, row and column; its check character fails and the quality report shows it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from connectors.base import CheckResult, Page, Source
from connectors.bureau import values
from connectors.bureau.registers import BY_DATASET, DATASETS, REGISTERS, Register
from connectors.bureau.workbook import WorkbookRejected, read_table
from connectors.context import SourceContext
from connectors.files import Entry, FileRefused, check_entry, file_meta, list_entries, read_file, refused_record
from connectors.http import SourceUnavailable
from connectors.limits import Limits
from connectors.pii import Pseudonymizer
from connectors.schema import Dataset, FieldError

log = logging.getLogger(__name__)

SOURCE = "bureau"
_NUMBER_KINDS = ("int", "float")


def inbox_path(url: str) -> Path:
    """A directory path or a ``file://`` URL."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme and len(parts.scheme) > 1:  # (a one-letter scheme is a Windows drive)
        raise ValueError(f"bureau: inbox {url!r} is not a directory or file:// URL (other stores are not supported)")
    return Path(url)


def parse_cursor(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        files = json.loads(cursor).get("files", {})
    except (ValueError, AttributeError):
        raise ValueError(f"bureau: unreadable cursor {cursor[:80]!r}") from None
    return {str(k): str(v) for k, v in files.items()}


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class BureauSource(Source):
    name = SOURCE
    title = "应急管理局 the bureau's own registers (Excel inbox)"

    def __init__(self, inbox: Path, pii_key: bytes, limits: Limits | None = None) -> None:
        self.inbox = inbox
        self.limits = limits or Limits()
        self.pseudonyms = Pseudonymizer(pii_key)
        # workbook_version -> why it was rejected (the quarantined record's reason).
        self._rejected: dict[str, str] = {}

    def datasets(self) -> dict[str, Dataset]:
        return dict(DATASETS)

    def check(self) -> CheckResult:
        if not self.inbox.is_dir():
            return CheckResult(SOURCE, False, f"bureau: inbox {self.inbox} is not a readable directory")
        try:
            found = {reg.dataset: [e.name for e in self.versions(reg)] for reg in REGISTERS}
            known = {name for names in found.values() for name in names}
            stray = sorted(
                p.name
                for p in self.inbox.iterdir()
                if p.suffix.lower() == ".xlsx" and p.name not in known and not p.name.startswith(("~$", "."))
            )
        except (SourceUnavailable, OSError) as exc:  # a folder we may not list (permissions), or gone meanwhile
            return CheckResult(SOURCE, False, f"bureau: cannot list inbox {self.inbox}: {exc}")
        count = sum(len(v) for v in found.values())
        message = f"inbox readable, {count} register workbook(s)"
        if stray:
            message += f"; not a known register (ignored): {', '.join(stray)}"
        return CheckResult(SOURCE, True, message, {"workbooks": found, "ignored": stray})

    def versions(self, reg: Register, until: datetime | None = None) -> list[Entry]:
        """The register's inbox entries in upload order, as ``lstat`` sees them (a lock file ``~$…`` is not one).

        Links, pipes, devices and directories named like a workbook are listed
        too, so that ``read`` refuses them with a reason instead of ignoring them.
        """
        if not self.inbox.is_dir():
            # Every register would fail the same way: the source as a whole is not there.
            raise SourceUnavailable(f"bureau: inbox {self.inbox} does not exist or is not a directory (not mounted?)")
        found = []
        for entry in list_entries(self.inbox):
            path = Path(entry.name)
            stem = unicodedata.normalize("NFKC", path.stem).strip()
            if path.suffix.lower() == ".xlsx" and not entry.name.startswith(("~$", ".")) and stem.startswith(reg.title):
                mtime = datetime.fromtimestamp(entry.mtime_ns / 1e9, UTC)
                if until is None or mtime <= until:
                    found.append((mtime, entry.name, entry))
        return [e for _, _, e in sorted(found, key=lambda t: (t[0], t[1]))]

    def read(self, dataset: str, cursor: str | None, until: datetime) -> Iterator[Page]:
        if dataset not in BY_DATASET:
            raise KeyError(f"bureau has no dataset {dataset!r}")
        reg = BY_DATASET[dataset]
        handled = parse_cursor(cursor)
        pages = []
        for entry in self.versions(reg, until):
            uploaded = datetime.fromtimestamp(entry.mtime_ns / 1e9, UTC)
            try:
                check_entry(entry, self.limits.max_file_bytes)
                data = read_file(self.inbox, entry.name, self.limits.max_file_bytes)
            except FileNotFoundError:
                log.warning(
                    "%s.%s: %s disappeared while being read; left for the next run", SOURCE, dataset, entry.name
                )
                continue
            except FileRefused as exc:
                # Remembered by what lstat saw: refused once, looked at again when the entry changes.
                version = f"refused:{entry.fingerprint}"
                if handled.get(entry.name) != version:
                    pages.append(self._refused_page(reg, entry, exc.reason, version, uploaded))
                    handled[entry.name] = version
                continue
            sha = hashlib.sha256(data).hexdigest()
            if handled.get(entry.name) == sha:
                continue
            pages.append(self._page(reg, entry.name, data, sha, uploaded))
            handled[entry.name] = sha
        if not pages:
            log.info("%s.%s: no new workbook version", SOURCE, dataset)
            return
        at = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"
        pages[-1].cursor = json.dumps({"at": at, "files": handled}, ensure_ascii=False, sort_keys=True)
        yield from pages

    def _refused_page(self, reg: Register, entry: Entry, reason: str, version: str, uploaded: datetime) -> Page:
        """An inbox entry refused before it was read (a link, a pipe, a directory, too large): one entry."""
        log.warning("%s.%s: %s %s", SOURCE, reg.dataset, entry.name, reason)
        meta = {"source_file": entry.name, "workbook_version": version, "uploaded_at": uploaded.isoformat()}
        locator = f"{self.inbox}/{entry.name}"
        why = f"{entry.name} {reason}; nothing of it is loaded (replace it with the workbook itself)"
        record = refused_record(
            {**{f.name: None for f in DATASETS[reg.dataset].fields if f.required}, **meta},
            file_meta(entry.name, entry=entry),
            why,
            field="source_file",
            locator=locator,
        )
        body = {**meta, "register": reg.title, "rejected": why}
        return Page(_dumps(body), "application/json", [record], locator)

    def _page(self, reg: Register, file_name: str, data: bytes, sha: str, uploaded: datetime) -> Page:
        meta = {"source_file": file_name, "workbook_version": sha, "uploaded_at": uploaded.isoformat()}
        locator = f"{self.inbox.name}/{file_name} (sha256 {sha[:12]})"
        try:
            table = read_table(data, reg, file_name, self.limits)
        except WorkbookRejected as exc:
            log.warning("%s.%s: %s", SOURCE, reg.dataset, exc)
            self._rejected[sha] = str(exc)
            # One content-free entry for the whole workbook, named after it (connectors.files).
            record = refused_record(
                {
                    **{f.name: None for f in DATASETS[reg.dataset].fields if f.required},
                    **meta,
                    "row_number": exc.header_row,
                },
                file_meta(file_name, data),
                f"{exc}; nothing of this version is loaded (upload a corrected version)"
                if "upload a corrected version" not in str(exc)
                else str(exc),
                field="header" if exc.missing or exc.unknown else None,
                locator=f"{self.inbox}/{file_name}",
            )
            body: dict[str, Any] = {
                **meta,
                "register": reg.title,
                "rejected": str(exc),
                "missing": exc.missing,
                "unknown": exc.unknown,
            }
            return Page(_dumps(body), "application/json", [record], locator)
        records = [self._record(reg, number, cells, meta) for number, cells in table.rows]
        body = {
            **meta,
            "register": reg.title,
            "sheet": table.sheet,
            "header_row": table.header_row,
            "dropped": {"empty_rows": table.empty_rows, "note_rows": table.note_rows},
            "rows": records,
        }
        log.info(
            "%s.%s: %s: %d rows (%d empty lines and %d note rows dropped)",
            SOURCE,
            reg.dataset,
            file_name,
            len(records),
            table.empty_rows,
            table.note_rows,
        )
        return Page(_dumps(body), "application/json", records, locator)

    def _record(self, reg: Register, number: int, cells: dict[str, Any], meta: dict[str, str]) -> dict[str, Any]:
        """One row by raw column name, personal values pseudonymised, every other cell as written."""
        record: dict[str, Any] = {}
        for col in reg.columns:
            value = cells.get(col.header)
            if values.problem(value):
                # Kept as the marker (JSON, content-free): normalise quarantines the row naming this column.
                target = {"name": f"{col.name}_pseudonym", "phone": f"{col.name}_pseudonym", "unit": "unit_raw"}
                record[target.get(col.kind, col.name)] = value
                if col.kind in ("name", "phone"):
                    record[f"{col.name}_masked"] = None
                continue
            if col.kind in ("name", "phone"):
                record[f"{col.name}_pseudonym"], record[f"{col.name}_masked"] = values.person(
                    col.kind, value, self.pseudonyms
                )
            elif col.kind == "unit":
                record["unit_raw"] = values.text(value)
            else:
                record[col.name] = _json_safe(value)
        return {**record, **meta, "row_number": number}

    def normalise(self, dataset: str, record: dict[str, Any]) -> dict[str, Any]:
        reg = BY_DATASET[dataset]
        data_fields = [f.name for f in DATASETS[dataset].fields if f.name not in _LINEAGE]
        if all(record.get(name) is None for name in data_fields):
            reason = self._rejected.get(str(record.get("workbook_version")))
            raise FieldError(
                "header",
                reason
                or f"{record.get('source_file')}: a rejected workbook (its header did "
                "not match the register); upload a corrected version",
            )
        self._refuse_unrepresentable(reg, record)
        out = dict(record)
        for col in reg.columns:
            if col.kind in ("name", "phone"):
                continue
            if col.kind == "unit":
                out["unit_raw"] = values.text(out.get("unit_raw"))
                continue
            value = out.get(col.name)
            if col.kind in _NUMBER_KINDS:
                out[col.name], written_unit = values.split_number(value)
                if col.name == "quantity" and written_unit and not out.get("unit_raw"):
                    out["unit_raw"] = written_unit  # "200箱" with the unit column left empty
            elif col.kind == "date":
                out[col.name] = values.to_date(value)
            elif col.kind == "datetime":
                out[col.name] = values.to_datetime(value)
            elif col.kind == "code":
                out[col.name] = values.code(value)
            else:
                out[col.name] = values.text(value)
        if any(c.kind == "unit" for c in reg.columns):
            out["unit"] = values.unit(out.get("unit_raw"))
        return out

    @staticmethod
    def _refuse_unrepresentable(reg: Register, record: dict[str, Any]) -> None:
        """A cell no value stands for faithfully quarantines its row, naming file, row and column."""
        where = f"{record.get('source_file')} row {record.get('row_number')}"
        for col in reg.columns:
            key = {"name": f"{col.name}_pseudonym", "phone": f"{col.name}_pseudonym", "unit": "unit_raw"}.get(
                col.kind, col.name
            )
            why = values.problem(record.get(key))
            if why is not None:
                raise FieldError(col.name, f"{where} column {col.header}: {why}")
            rounded = values.code_problem(record.get(key)) if col.kind == "code" else None
            if rounded is not None:
                # Loaded as Excel kept it, and said aloud: the raw suites' GB 32100 check-character rule
                # (credit_code_valid) reports the row; quarantining it would hide it from that report.
                log.warning("%s.%s: %s column %s: %s", SOURCE, reg.dataset, where, col.header, rounded)


_LINEAGE = frozenset({"source_file", "workbook_version", "uploaded_at", "row_number"})


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, indent=1, default=str).encode("utf-8")


def create(ctx: SourceContext) -> BureauSource:
    return BureauSource(inbox_path(ctx.url), ctx.pii_key(), ctx.limits)
