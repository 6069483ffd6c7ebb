"""Marker discipline: a test that needs a server is marked ``integration``.

The fixtures below create a database per test on a real PostgreSQL or
MariaDB (or start the embedded PostgreSQL when none answers) or run stand-in
servers on loopback, so ``pytest -m "not integration"`` must never select a
test that uses them, directly or through another fixture. Such a test fails at
setup, naming the fixture, instead of quietly needing a server.
"""

from __future__ import annotations

import pytest

NEEDS_SERVER = {
    "settings": "a warehouse database",
    "warehouse_url": "a warehouse database",
    "warehouse_template": "a migrated template database",
    "pg_admin": "the PostgreSQL server",
    "sl323": "a water stand-in database",
    "dbms": "the MariaDB and PostgreSQL servers",
    "water": "a water stand-in database",
    "standin_servers": "stand-in servers on loopback",
    "anshan_city": "the exchange stand-in on loopback",
    "webhook": "an alert webhook receiver on loopback",
    "mailbox": "an SMTP server on loopback",
}


def unmarked_server_fixtures(item: pytest.Item) -> list[str]:
    """The server fixtures ``item`` uses although it is not marked ``integration`` (empty when fine)."""
    if item.get_closest_marker("integration") is not None:
        return []
    used = set(getattr(item, "fixturenames", ()))
    return [name for name in NEEDS_SERVER if name in used]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    unmarked = unmarked_server_fixtures(item)
    if unmarked:
        needs = "; ".join(f"{name}: {NEEDS_SERVER[name]}" for name in unmarked)
        pytest.fail(
            f"{item.nodeid} is not marked integration but needs a server ({needs}): mark it "
            "`pytest.mark.integration`, or use `home_settings` if it needs only a home of its own",
            pytrace=False,
        )
