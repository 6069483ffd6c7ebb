from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edp.settings import Settings
from edp.storage.lake import Lake, LocalLake, open_lake
from tests.support.s3server import s3_server


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.integration)])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lake]:
    if request.param == "file":
        yield open_lake(Settings(home=tmp_path))
        return
    with s3_server() as endpoint:
        yield open_lake(
            Settings(
                home=tmp_path,
                lake_url="s3://edp-lake/test-prefix",
                s3_endpoint=endpoint,
                s3_access_key="testing",
                s3_secret_key="testing",
            )
        )


def test_put_get_list_delete(lake: Lake) -> None:
    lake.put_bytes("landing/weather/a/page-1.json.gz", b"one")
    lake.put_bytes("landing/weather/b/page-1.json.gz", "二".encode())
    lake.put_bytes("manifests/weather/x.json", b"{}")
    assert lake.get_bytes("landing/weather/b/page-1.json.gz").decode() == "二"
    assert sorted(lake.list("landing/weather/")) == [
        "landing/weather/a/page-1.json.gz",
        "landing/weather/b/page-1.json.gz",
    ]
    assert lake.exists("manifests/weather/x.json")
    lake.delete("manifests/weather/x.json")
    assert not lake.exists("manifests/weather/x.json")


def test_local_lake_refuses_keys_outside_root(tmp_path: Path) -> None:
    lake = LocalLake(tmp_path / "lake")
    with pytest.raises(ValueError, match="escapes"):
        lake.put_bytes("../outside", b"x")


def test_s3_needs_endpoint(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="EDP_S3_ENDPOINT"):
        open_lake(Settings(home=tmp_path, lake_url="s3://b/p"))
