"""Airflow's REST API (v2) as the platform's services expose it: a token for ``admin``, runs, triggers.

Used by operators' scripts, the benchmarks and the tests; the UI and ``edp airflow`` are the other doors.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from edp.errors import ToolFailed
from edp.orchestration.airflow_run import admin_password, api_url
from edp.settings import Settings

TIMEOUT = 30.0
DONE = {"success", "failed"}


class AirflowApi:
    def __init__(self, settings: Settings, timeout: float = TIMEOUT) -> None:
        self.client = httpx.Client(base_url=api_url(settings), timeout=timeout, trust_env=False)
        token = self.client.post("/auth/token", json={"username": "admin", "password": admin_password(settings)})
        if token.status_code not in (200, 201):
            raise ToolFailed(f"Airflow API at {api_url(settings)} refused the admin login ({token.status_code})")
        self.client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def __enter__(self) -> AirflowApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def _get(self, path: str, **params: Any) -> Any:
        resp = self.client.get(f"/api/v2{path}", params=params)
        resp.raise_for_status()
        return resp.json()

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = self.client.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        resp.raise_for_status()
        return dict(resp.json())

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": paused}).raise_for_status()

    def dags(self) -> list[dict[str, Any]]:
        return list(self._get("/dags", limit=100)["dags"])

    def runs(self, dag_id: str = "~", limit: int = 100) -> list[dict[str, Any]]:
        return list(self._get(f"/dags/{dag_id}/dagRuns", limit=limit, order_by="-run_after")["dag_runs"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self._get(f"/dags/{dag_id}/dagRuns/{run_id}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self._get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"])

    def wait_run(self, dag_id: str, run_id: str, timeout: float, poll: float = 2.0) -> dict[str, Any]:
        """The run once it has finished; raises if it has not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(dag_id, run_id)
            if run["state"] in DONE:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} run {run_id} still {run['state']} after {timeout:.0f} s")
            time.sleep(poll)
