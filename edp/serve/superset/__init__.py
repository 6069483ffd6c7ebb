"""Apache Superset in its own environment, provisioned from the assets in ``infra/superset/assets``."""
