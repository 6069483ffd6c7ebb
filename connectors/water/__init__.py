"""水利局 water-resources bureau: the SL 323-2011 real-time rain and water database.

``datasets`` declares the tables read and their columns; ``source`` reads them
(MySQL/MariaDB or PostgreSQL) by observation-time windows and snapshots.
"""

from connectors.water.source import DATASETS, WaterSource, create

__all__ = ["DATASETS", "WaterSource", "create"]
