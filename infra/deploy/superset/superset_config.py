"""Superset configuration of the Haicheng EDP's Superset container (infra/deploy/compose.yaml).

The choices of the platform's own Superset (edp/serve/superset/config.py): Chinese UI, no result
cache, CSRF on. Here the metadata database is PostgreSQL and both secrets come from the
container's environment; this file holds none.
"""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_DATABASE_URI"]

APP_NAME = "海城应急数据中台 Haicheng EDP"
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {
    "zh": {"flag": "cn", "name": "Chinese"},
    "en": {"flag": "us", "name": "English"},
}

# CSRF stays on: the platform's API client asks /api/v1/security/csrf_token/.
WTF_CSRF_ENABLED = True
# Charts read the warehouse live; dashboards are small, so no result cache.
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
FEATURE_FLAGS: dict[str, bool] = {}
# Behind the bureau's reverse proxy (X-Forwarded-* headers).
ENABLE_PROXY_FIX = True
