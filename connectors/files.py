"""Reading files from a drop folder without trusting the folder: no links, no special files, bounded.

A department's drop folder (the police exchange directory, the bureau's inbox)
is written by someone else. A symlink there could point at ``/etc/shadow`` or
at our own secrets; a FIFO would block the reader forever; a device or a
directory is not a file; a file may be any size. So every entry is looked at
with ``lstat`` (the entry itself, never what it points to), opened relative to
the folder's own descriptor with ``O_NOFOLLOW`` (a link swapped in between the
listing and the open is refused by the kernel, not followed), checked again
with ``fstat`` on the open descriptor, and read at most ``max_bytes + 1``
bytes. A refusal is a :class:`FileRefused` naming the file and the reason; the
connector quarantines that file whole and reads the others.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edp.errors import DataRejected

# The key of a content-free record standing for a refused file (see ``refused_record``).
REFUSED = "_refused"


class FileRefused(DataRejected, ValueError):
    """A drop-folder entry that is not read: ``reason`` says why, never quoting the content."""

    def __init__(self, name: str, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason
        self.field = field


@dataclass(frozen=True)
class Entry:
    """One directory entry as ``lstat`` sees it."""

    name: str
    kind: str  # file | symlink | directory | fifo | socket | device | other
    size: int
    mtime_ns: int

    @property
    def fingerprint(self) -> str:
        """What identifies an entry that is refused before its bytes are read: a change makes it looked at again."""
        return f"{self.kind}:{self.size}:{self.mtime_ns}"


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "other"


REFUSED_KINDS = {
    "symlink": "a symbolic link (never followed: it could point anywhere on this machine)",
    "directory": "a directory where a file is expected",
    "fifo": "a named pipe (FIFO), not a file",
    "socket": "a socket, not a file",
    "device": "a device node, not a file",
    "other": "not a regular file",
}


def list_entries(folder: Path) -> list[Entry]:
    """The folder's entries, sorted by name, each as ``lstat`` sees it (links are not followed)."""
    out = []
    with os.scandir(folder) as it:
        for item in it:
            try:
                st = item.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed between listing and looking
            out.append(Entry(item.name, _kind(st.st_mode), st.st_size, st.st_mtime_ns))
    return sorted(out, key=lambda e: e.name)


def check_entry(entry: Entry, max_bytes: int) -> None:
    """Refuse what is not a regular file, or is larger than ``max_bytes``, before it is opened."""
    if entry.kind != "file":
        raise FileRefused(entry.name, f"refused: {REFUSED_KINDS[entry.kind]}")
    if entry.size > max_bytes:
        raise FileRefused(entry.name, too_large(entry.size, max_bytes))


def too_large(size: int, max_bytes: int) -> str:
    return f"refused: {size} bytes, larger than the limit max_file_bytes={max_bytes} (sources.yml limits:)"


def read_file(folder: Path, name: str, max_bytes: int) -> bytes:
    """The bytes of ``folder/name`` if it is a regular file of at most ``max_bytes`` in the folder itself.

    Raises FileNotFoundError when it is gone, FileRefused when it is not a file
    we read, OSError for other failures.
    """
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise FileRefused(name, "refused: not a plain file name inside the drop folder")
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused by fstat below.
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise FileRefused(name, f"refused: {REFUSED_KINDS['symlink']}") from None
            raise
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        kind = _kind(st.st_mode)
        if kind != "file":
            raise FileRefused(name, f"refused: {REFUSED_KINDS[kind]}")
        if st.st_size > max_bytes:
            raise FileRefused(name, too_large(st.st_size, max_bytes))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:  # grew after fstat
            raise FileRefused(name, too_large(len(data), max_bytes))
        return data
    finally:
        os.close(fd)


def file_meta(name: str, data: bytes | None = None, entry: Entry | None = None) -> dict[str, Any]:
    """What an operator needs to find a refused file again: name, size, sha256 (never its content)."""
    meta: dict[str, Any] = {"file": name}
    if data is not None:
        meta.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    elif entry is not None:
        meta.update(size=entry.size, kind=entry.kind)
    return meta


def refused_record(
    base: dict[str, Any], meta: dict[str, Any], reason: str, *, field: str | None, locator: str
) -> dict[str, Any]:
    """A content-free record standing for a refused file: one quarantine entry for the whole file.

    ``edp.ingest.extract`` quarantines it as it is (``locator``, ``field``,
    ``reason``) without typing it; replaying it cannot load anything: only a
    replaced file can (``edp.ingest.quarantine``).
    """
    return {**base, REFUSED: {**meta, "reason": reason, "field": field, "locator": locator}}
