"""Where the police bureau's export job drops its files: a directory or an S3 prefix.

The connector only lists and reads: it never deletes, renames or edits what the
bureau dropped (police.md). A directory may be given as a plain path or as a
``file://`` URL (an SFTP mount is a directory); ``s3://bucket/prefix`` is read
through the ``minio`` client like the lake (both are ``edp.storage.s3`` locations).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from connectors.http import SourceUnavailable
from edp.storage.s3 import S3Location, split_endpoint


class Drop(Protocol):
    uri: str

    def names(self) -> list[str]:
        """File names directly in the drop location, sorted."""
        ...

    def read(self, name: str) -> bytes: ...


class DirectoryDrop:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = str(root)

    def _folder(self) -> Path:
        if not self.root.is_dir():
            raise SourceUnavailable(f"police: drop directory {self.root} does not exist or is not a directory")
        return self.root

    def names(self) -> list[str]:
        try:
            return sorted(p.name for p in self._folder().iterdir() if p.is_file())
        except OSError as exc:
            raise SourceUnavailable(f"police: cannot list drop directory {self.root}: {exc}") from None

    def read(self, name: str) -> bytes:
        try:
            return (self._folder() / name).read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise SourceUnavailable(f"police: cannot read {self.root / name}: {exc}") from None


class S3Drop(S3Location):
    """Objects directly under ``s3://bucket/prefix/`` (not in sub-prefixes)."""

    def names(self) -> list[str]:
        from minio.error import MinioException

        start = f"{self.prefix}/" if self.prefix else ""
        try:
            objects = list(self.client.list_objects(self.bucket, prefix=start, recursive=False))
        except (MinioException, OSError) as exc:
            raise SourceUnavailable(f"police: cannot list {self.uri}: {exc}") from None
        return sorted(o.object_name[len(start) :] for o in objects if not o.is_dir)

    def read(self, name: str) -> bytes:
        from minio.error import MinioException, S3Error

        try:
            resp = self.client.get_object(self.bucket, self._name(name))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise FileNotFoundError(f"{self.uri}/{name}") from None
            raise SourceUnavailable(f"police: cannot read {self.uri}/{name}: {exc.code}") from None
        except (MinioException, OSError) as exc:
            raise SourceUnavailable(f"police: cannot read {self.uri}/{name}: {exc}") from None
        return self._body(resp)


def open_drop(
    url: str, *, endpoint: str = "", access_key: str = "", secret_key: str = "", secure: bool = False
) -> Drop:
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not endpoint:
            raise ValueError("police: an s3:// drop needs the option 'endpoint' (host:port or http(s)://host:port)")
        endpoint, secure = split_endpoint(endpoint, secure)
        return S3Drop(parts.netloc, parts.path, endpoint, access_key, secret_key, secure)
    if parts.scheme == "file":
        return DirectoryDrop(Path(unquote(parts.path)))
    if not parts.scheme:
        return DirectoryDrop(Path(url))
    raise ValueError(f"police: the drop location must be a directory, file:// or s3:// URL, got {url!r}")
