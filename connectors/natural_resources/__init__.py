"""自然资源局 natural-resources bureau: WFS 2.0 feature types (geohazard points, mining rights, shelters).

``ows`` reads OGC capabilities and exception reports, ``geo`` checks and
describes geometries, ``source`` pages the features into snapshots.
"""

from connectors.natural_resources.source import DATASETS, NaturalResourcesSource, create

__all__ = ["DATASETS", "NaturalResourcesSource", "create"]
