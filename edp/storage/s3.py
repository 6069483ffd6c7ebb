"""An ``s3://bucket/prefix`` location read through the ``minio`` client.

Shared by the S3 lake (:mod:`edp.storage.lake`) and the police bureau's S3
drop (:mod:`connectors.police.drop`): keys are relative to the prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from urllib3 import BaseHTTPResponse


def split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """``host:port`` as given, with ``secure`` as configured; a URL gives its host:port, secure when https."""
    if "://" in endpoint:
        ep = urlsplit(endpoint)
        return ep.netloc, ep.scheme == "https"
    return endpoint, secure


class S3Location:
    """The objects under ``s3://bucket/prefix/``, with one ``minio`` client."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        endpoint: str,
        access_key: str,
        secret_key: str,
        secure: bool,
        *,
        timeout: float | None = None,
    ) -> None:
        """``timeout``: seconds to connect and to read, one attempt (a check); None: minio's (5 min, retries)."""
        import urllib3
        from minio import Minio

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.uri = f"s3://{bucket}/{self.prefix}".rstrip("/")
        http = (
            None
            if timeout is None
            else urllib3.PoolManager(timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False)
        )
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, http_client=http)

    def _name(self, key: str) -> str:
        """The object name of ``key``, a path relative to the prefix."""
        return f"{self.prefix}/{key}" if self.prefix else key

    @staticmethod
    def _body(resp: BaseHTTPResponse) -> bytes:
        """The whole body of a ``get_object`` answer; the connection goes back to the pool."""
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()
