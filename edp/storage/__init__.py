"""Where the platform keeps things: the warehouse (PostgreSQL, embedded or configured),
the lake (local folder or S3 protocol) and the ops state (batches, cursors, failures).
"""

from edp.storage.lake import Lake, open_lake
from edp.storage.warehouse import Conn, connection_info, engine, is_embedded, stop_embedded

__all__ = ["Conn", "Lake", "connection_info", "engine", "is_embedded", "open_lake", "stop_embedded"]
