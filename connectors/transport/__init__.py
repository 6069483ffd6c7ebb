"""交通运输局 transport bureau: REST API behind OAuth 2.0 client credentials.

``auth`` holds the token client, ``cursor`` the paging cursor over a shared
``updated_at``, ``datasets`` the endpoints and their columns, ``source`` the reader.
"""

from connectors.transport.source import DATASETS, TransportSource, create

__all__ = ["DATASETS", "TransportSource", "create"]
