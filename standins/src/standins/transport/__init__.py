"""Stand-in for the 交通运输局 transport bureau API (contract: transport.md).

Entry point for the sandbox launcher and tests::

    from standins.transport import create_app
    app = create_app(client_id=..., client_secret=..., seed=42, scale=1.0, clock=None, faults=None)

``app.state.service`` (:class:`~sandbox.transport.app.TransportService`) has
``upsert(resource, records, at=None)``, ``delete(resource, ids, at=None)`` and
``record(resource, id)``; ``app.state.clock`` moves time (new waybills and
road events appear as it advances). Over HTTP the same is under ``/__admin``:
``records/<resource>``, ``clock``, ``faults``, ``tokens/revoke``, ``stats``,
``info``, ``health``.

Fault switches (:class:`~sandbox.transport.app.TransportFaults`): ``outage``,
``slow_seconds``, ``fail_429_rate``, ``fail_503_rate``, ``malformed_rate``,
``duplicate_rate``, ``new_field``, ``drift_road_events``, ``drift_bridges``,
``drift_hazmat_carriers``, ``drift_hazmat_waybills``, ``token_ttl_seconds``,
``token_max_uses``, ``reject_tokens``.

Interpretations of the contract, documented where implemented: ``updated_since``
is inclusive (``app.py``); cursors are keyset positions (``paging.py``); shared
``updated_at`` stamps come from syncs and batch imports (``stamps.py``);
deletions and versions (``model.py``); tokens (``auth.py``).
"""

from __future__ import annotations

from standins.transport.app import RESOURCES, TransportFaults, TransportService, create_app

__all__ = ["RESOURCES", "TransportFaults", "TransportService", "create_app"]
