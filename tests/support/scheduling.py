"""The longest tests start first.

`make test` runs the suite on two pytest-xdist workers with work stealing: each takes half of the
collected tests in order and an idle one steals from the other's queue. A long end-to-end run (the demo,
the services, kill -9, the lost worker: minutes each) started last would keep one worker busy while the
other has nothing left; started first, the other worker steals the short tests meanwhile. A serial run
is unaffected in what it checks: the tests are independent (own home, database, ports).
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: within each group the collection order stays (deterministic, the same on every worker).
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
