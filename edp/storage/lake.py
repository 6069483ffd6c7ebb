"""The object-store lake: a local folder (``file://``) or S3/MinIO (``s3://``).

Keys are POSIX-style paths relative to the lake root, e.g.
``landing/weather/observations/2026-11-28/<batch>/page-0001.json.gz``.
Writes are atomic: a reader never sees half a file (temp file + rename on disk,
single PUT on S3).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from edp.settings import Settings
from edp.storage.s3 import S3Location, split_endpoint


class Lake(Protocol):
    uri: str

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str: ...
    def get_bytes(self, key: str) -> bytes: ...
    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> str: ...
    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str = "") -> Iterator[str]: ...
    def delete(self, key: str) -> None: ...


class LocalLake:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.uri = root.resolve().as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"lake key escapes the lake root: {key!r}")
        return path

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        return self._write(key, io.BytesIO(data))

    def _write(self, key: str, src: BinaryIO) -> str:
        """Copy ``src`` to ``key`` through a temp file and a rename: a reader never sees half a file."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return f"{self.uri}/{key}"

    def get_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> str:
        """Store a (large) file without reading it into memory; atomic like :meth:`put_bytes`."""
        with open(path, "rb") as src:
            return self._write(key, src)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """The object as a local file, to read in pieces (on disk: the file itself)."""
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"{self.uri}/{key}")
        yield path

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        base = self.root.resolve()
        start = self._path(prefix) if prefix else base
        folder = start if start.is_dir() else start.parent
        if not folder.exists():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix):
                    yield key

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Lake(S3Location):
    """S3 protocol through the ``minio`` client (MinIO in production)."""

    def __init__(self, bucket: str, prefix: str, endpoint: str, access_key: str, secret_key: str, secure: bool) -> None:
        super().__init__(bucket, prefix, endpoint, access_key, secret_key, secure)
        if not self.client.bucket_exists(bucket):
            self.client.make_bucket(bucket)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        self.client.put_object(self.bucket, self._name(key), io.BytesIO(data), len(data), content_type=content_type)
        return f"{self.uri}/{key}"

    def get_bytes(self, key: str) -> bytes:
        return self._body(self.client.get_object(self.bucket, self._name(key)))

    def put_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> str:
        # fput_object streams the file (multipart above its part size): memory stays bounded.
        self.client.fput_object(self.bucket, self._name(key), str(path), content_type=content_type)
        return f"{self.uri}/{key}"

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """The object downloaded to a temporary file, removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="edp-lake-") as folder:
            path = Path(folder) / Path(key).name
            self.client.fget_object(self.bucket, self._name(key), str(path))
            yield path

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        try:
            self.client.stat_object(self.bucket, self._name(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise
        return True

    def list(self, prefix: str = "") -> Iterator[str]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        for obj in self.client.list_objects(self.bucket, prefix=self._name(prefix), recursive=True):
            yield obj.object_name[strip:]

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, self._name(key))


def open_lake(settings: Settings) -> Lake:
    url = settings.lake
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalLake(Path(parts.path))
    if parts.scheme == "s3":
        if not settings.s3_endpoint:
            raise ValueError("EDP_LAKE_URL is s3://… but EDP_S3_ENDPOINT is not set")
        endpoint, secure = split_endpoint(settings.s3_endpoint, settings.s3_secure)
        return S3Lake(
            bucket=parts.netloc,
            prefix=parts.path,
            endpoint=endpoint,
            access_key=settings.s3_access_key.get_secret_value() if settings.s3_access_key else "",
            secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else "",
            secure=secure,
        )
    raise ValueError(f"EDP_LAKE_URL must be file://… or s3://bucket/prefix, got {url!r}")
