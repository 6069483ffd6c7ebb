"""公安局 public-security bureau: daily file drops (alarms, accidents, key units).

``drop`` lists and reads a drop folder or ``s3://`` prefix, ``parse`` turns a
file into records and pseudonymises personal data, ``codes`` holds the code
tables and ranges, ``source`` ties them into the connector contract.
"""

from connectors.police.source import DATASETS, PoliceSource, create

__all__ = ["DATASETS", "PoliceSource", "create"]
