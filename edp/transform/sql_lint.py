"""``make lint-sql``: sqlfluff on the dbt project, against the platform's own warehouse.

The dbt templater compiles every model, and dbt compile needs a connection
(``is_incremental()`` asks whether the table exists), so the lint runs with the
same ``EDP_DBT_*`` variables as ``edp transform``: the configured warehouse, or
the embedded pgserver, which is stopped again if the lint started it.
sqlfluff is a development dependency and is imported only here.
"""

from __future__ import annotations

import os
import sys

from edp.settings import get_settings
from edp.storage.warehouse import is_embedded, stop_embedded
from edp.transform.dbt_runner import DBT_PROJECT_DIR, dbt_env


def main(argv: list[str]) -> int:
    from sqlfluff.cli.commands import cli

    settings = get_settings()
    embedded = is_embedded(settings)
    pg_was_running = embedded and (settings.home / "pg" / "postmaster.pid").exists()
    os.environ.update(dbt_env(settings))
    os.chdir(DBT_PROJECT_DIR)  # sqlfluff reads the templater from ./.sqlfluff only
    try:
        cli.main(["lint", *argv], standalone_mode=False)
        return 0
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        if embedded and not pg_was_running:
            stop_embedded(settings)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
