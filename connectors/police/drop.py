"""Where the police bureau's export job drops its files: a directory or an S3 prefix.

The connector only lists and reads: it never deletes, renames or edits what the
bureau dropped (police.md). A directory may be given as a plain path or as a
``file://`` URL (an SFTP mount is a directory); ``s3://bucket/prefix`` is read
through the ``minio`` client like the lake (both are ``edp.storage.s3`` locations).

Nothing in the folder is trusted (``connectors.files``): entries are listed as
``lstat`` sees them, a symlink, FIFO, socket, device or directory is reported as
such and never opened or followed, and a file is read only if it is no larger
than the caller's bound (checked before opening, and again while reading). An
``s3://`` prefix has no links; its objects' sizes are checked the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from connectors.files import Entry, FileRefused, list_entries, read_file, too_large
from connectors.http import SourceUnavailable
from edp.storage.s3 import S3Location, split_endpoint


class Drop(Protocol):
    uri: str

    def entries(self) -> list[Entry]:
        """Everything directly in the drop location, sorted by name, as it is (links not followed)."""
        ...

    def read(self, name: str, max_bytes: int) -> bytes:
        """The bytes of a regular file of at most ``max_bytes``; FileRefused otherwise."""
        ...


def file_names(drop: Drop) -> list[str]:
    """The names of the regular files in the drop, sorted."""
    return [e.name for e in drop.entries() if e.kind == "file"]


class DirectoryDrop:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = str(root)

    def _folder(self) -> Path:
        if not self.root.is_dir():
            raise SourceUnavailable(f"police: drop directory {self.root} does not exist or is not a directory")
        return self.root

    def entries(self) -> list[Entry]:
        try:
            return list_entries(self._folder())
        except OSError as exc:
            raise SourceUnavailable(f"police: cannot list drop directory {self.root}: {exc}") from None

    def read(self, name: str, max_bytes: int) -> bytes:
        try:
            return read_file(self._folder(), name, max_bytes)
        except (FileNotFoundError, FileRefused):
            raise
        except OSError as exc:
            raise SourceUnavailable(f"police: cannot read {self.root / name}: {exc}") from None


class S3Drop(S3Location):
    """Objects directly under ``s3://bucket/prefix/`` (not in sub-prefixes)."""

    def entries(self) -> list[Entry]:
        from minio.error import MinioException
        from urllib3.exceptions import HTTPError

        start = f"{self.prefix}/" if self.prefix else ""
        try:
            objects = list(self.client.list_objects(self.bucket, prefix=start, recursive=False))
        except (MinioException, OSError, HTTPError) as exc:
            raise SourceUnavailable(f"police: cannot list {self.uri}: {exc}") from None
        found = [
            Entry(o.object_name[len(start) :], "file", int(o.size or 0), 0)
            for o in objects
            if not o.is_dir and o.object_name
        ]
        return sorted(found, key=lambda e: e.name)

    def read(self, name: str, max_bytes: int) -> bytes:
        from minio.error import MinioException, S3Error

        try:
            size = self.client.stat_object(self.bucket, self._name(name)).size or 0
            if size > max_bytes:
                raise FileRefused(name, too_large(size, max_bytes))
            # A range: an object replaced by a larger one after the stat still yields at most max_bytes + 1.
            resp = self.client.get_object(self.bucket, self._name(name), offset=0, length=max_bytes + 1)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise FileNotFoundError(f"{self.uri}/{name}") from None
            raise SourceUnavailable(f"police: cannot read {self.uri}/{name}: {exc.code}") from None
        except (MinioException, OSError) as exc:
            raise SourceUnavailable(f"police: cannot read {self.uri}/{name}: {exc}") from None
        data = self._body(resp)
        if len(data) > max_bytes:
            raise FileRefused(name, too_large(len(data), max_bytes))
        return data


def open_drop(
    url: str,
    *,
    endpoint: str = "",
    access_key: str = "",
    secret_key: str = "",
    secure: bool = False,
    timeout: float | None = None,
) -> Drop:
    """The drop at ``url``; ``timeout`` bounds each S3 request to one short attempt (a check)."""
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not endpoint:
            raise ValueError("police: an s3:// drop needs the option 'endpoint' (host:port or http(s)://host:port)")
        endpoint, secure = split_endpoint(endpoint, secure)
        return S3Drop(parts.netloc, parts.path, endpoint, access_key, secret_key, secure, timeout=timeout)
    if parts.scheme == "file":
        return DirectoryDrop(Path(unquote(parts.path)))
    if not parts.scheme:
        return DirectoryDrop(Path(url))
    raise ValueError(f"police: the drop location must be a directory, file:// or s3:// URL, got {url!r}")
