"""Unified social credit codes (GB 32100-2015), validated in Python before each check run.

The 18th character is a check character (weighted sum modulo 31 over an
alphabet without I, O, S, V, Z); python-stdnum's ``stdnum.cn.uscc`` is a kept
implementation of it, so the rule is not re-implemented in SQL. Before GX
runs, every code in a checked credit-code column that has no verdict yet is
validated and its verdict inserted into ``audit.credit_codes`` (a verdict
never changes, so rows are only added); the suites' ``*_valid_credit_code``
rules then read the verdicts (see ``expectations.rules.credit_code_valid``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import sqlalchemy as sa

from edp.settings import Settings
from edp.storage.warehouse import engine
from expectations.spec import Suite

log = logging.getLogger(__name__)


def verdict(code: str) -> tuple[bool, str | None]:
    """(valid, reason); a code must already be in its compact form (no spaces, upper case)."""
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError

    try:
        compact = uscc.validate(code)
    except ValidationError as exc:
        return False, str(exc)  # the subclass's message: stdnum raises them without arguments
    if compact != code:
        return False, f"not in compact form (would be {compact})"
    return True, None


def refresh(settings: Settings, suites: Iterable[Suite]) -> int:
    """Validate every new code of the suites' credit-code columns; the number of verdicts added."""
    added = 0
    with engine(settings).begin() as c:
        for suite in suites:
            schema, table = suite.schema_table
            if (
                not suite.credit_code_columns
                or c.execute(sa.text("select to_regclass(:t)"), {"t": f'"{schema}"."{table}"'}).scalar() is None
            ):
                continue  # an unreadable table is the run's finding, not this step's
            for column in suite.credit_code_columns:
                codes: sa.ScalarResult[str] = c.execute(
                    sa.text(
                        f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null '
                        f'and "{column}" not in (select code from audit.credit_codes)'
                    )
                ).scalars()
                rows = [{"code": code, "valid": v, "reason": why} for code in codes for v, why in [verdict(code)]]
                if rows:
                    c.execute(
                        sa.text(
                            "insert into audit.credit_codes (code, is_valid, reason) values (:code, :valid, :reason) "
                            "on conflict (code) do nothing"
                        ),
                        rows,
                    )
                added += len(rows)
    log.info("credit codes: %d new verdict(s)", added)
    return added
