"""The suite's shared fixtures, all in tests/support (plain helpers there are imported, not registered).

- platform: ``edp_home``, ``pg_admin``, ``warehouse_url``, ``settings`` (own home and database per test),
  ``home_settings`` (own home, no database);
- standin_servers: ``standin_servers`` (stand-ins on loopback), ``anshan_city`` (the exchange the sync sends to);
- sl323: the water bureau's SL 323 database per test, on MariaDB and PostgreSQL (``dbms``, ``sl323``, ``water``);
- alert_channels: ``webhook`` and ``mailbox``, the alert channels' receivers on loopback;
- markers: a test using a server fixture (database, stand-in) must be marked ``integration``;
- scheduling: tests marked ``slow`` run first (two xdist workers: no long test left for the end);
- pytester: for the tests of that check (tests/test_markers.py).

Per-folder conftest.py files hold only fixtures used in their folder.
"""

pytest_plugins = [
    "tests.support.platform",
    "tests.support.standin_servers",
    "tests.support.sl323",
    "tests.support.alert_channels",
    "tests.support.markers",
    "tests.support.scheduling",
    "pytester",
]
