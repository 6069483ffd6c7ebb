"""Source to raw: build a configured connector (``sources``), land its pages in the
lake as Parquet batches with a manifest (``extract``), load batches into raw in one
transaction each (``loader``), keep and replay rejected records (``quarantine``).
"""

from edp.ingest.extract import DatasetErrors, Manifest, SchemaDriftError
from edp.ingest.loader import BatchIntegrityError, load_batch, load_pending
from edp.ingest.sources import build_source, configured_sources, declared_datasets

__all__ = [
    "BatchIntegrityError",
    "DatasetErrors",
    "Manifest",
    "SchemaDriftError",
    "build_source",
    "configured_sources",
    "declared_datasets",
    "load_batch",
    "load_pending",
]
