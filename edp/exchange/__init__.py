"""The exchange with the 鞍山市 city platform: the outbox and batches (``sync``), the
signed HTTP client (``city_client``) and reconciliation and feedback (``ledger``).
"""

from edp.exchange.city_client import ExchangeClient, ExchangeConfig, exchange_config
from edp.exchange.ledger import pull_feedback, reconcile
from edp.exchange.sync import SyncBlocked, SyncResult

__all__ = [
    "ExchangeClient",
    "ExchangeConfig",
    "SyncBlocked",
    "SyncResult",
    "exchange_config",
    "pull_feedback",
    "reconcile",
]
