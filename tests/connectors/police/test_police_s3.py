"""The drop as an object-store prefix (s3://bucket/prefix) on a real S3-protocol server."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from standins.police import PoliceFaults, populate

from connectors.context import SourceContext
from connectors.police.source import create
from tests.support.s3server import s3_server

pytestmark = pytest.mark.integration
UNTIL = datetime(2026, 11, 29, 2, 0, tzinfo=timezone(timedelta(hours=8)))


def test_reads_an_s3_prefix_like_a_directory(tmp_path: Path) -> None:
    from minio import Minio

    populate(tmp_path, seed=2, scale=0.2, days=2, end_date=date(2026, 11, 28), faults=PoliceFaults(bad_marker_md5=True))
    with s3_server() as endpoint:
        client = Minio(urlsplit(endpoint).netloc, access_key="k", secret_key="s", secure=False)
        client.make_bucket("exchange")
        for path in tmp_path.iterdir():
            data = path.read_bytes()
            client.put_object("exchange", f"police/out/{path.name}", io.BytesIO(data), len(data))
        # something in a sub-prefix is not part of the drop
        client.put_object("exchange", "police/out/archive/JTSG_20261101.csv", io.BytesIO(b"x"), 1)
        src = create(
            SourceContext(
                name="police",
                url="s3://exchange/police/out",
                options={"endpoint": endpoint},
                credential=lambda key: {"access_key": "k", "secret_key": "s"}[key],
                pii_key=lambda: b"s3-test-key-0123456789abcdef",
            )
        )
        assert src.check().details == {"files": 6, "without_marker": 0}
        pages = list(src.read("accidents", None, UNTIL))
        assert [json.loads(p.body)["file"] for p in pages] == ["JTSG_20261127.csv", "JTSG_20261128.csv"]
        assert all("md5 mismatch" in r["reason"] for r in src.rejections) and len(src.rejections) == 2
        # nothing was removed or added: 12 dropped objects and the archived one
        assert len(list(client.list_objects("exchange", "police/out/", recursive=True))) == 13
