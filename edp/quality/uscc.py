"""Unified social credit codes (GB 32100-2015), validated in Python before each check run.

GB 32100-2015 clause 4 (代码结构): 18 characters from the 31-character set
0-9 A-H J-N P-R T U W X Y (no I, O, S, V, Z): character 1 the registration
authority code (登记管理部门代码: a digit or a letter, e.g. 9 工商, N 农业,
Y 其他), character 2 the organisation type code (机构类别代码, a digit or a
letter), characters 3-8 the registering authority's division code (GB/T 2260,
six digits), 9-17 the subject identifier (GB 11714 organisation code) and 18
the check character (weighted sum modulo 31, GB/T 17710). python-stdnum's
``stdnum.cn.uscc`` computes the check character; its ``validate`` also
insists on digits in characters 1-2, which the standard does not, so the
structure is checked here (:func:`problem`), with the same reason codes as
the dbt macro ``enterprise_credit_code_invalid_reason``. Before GX runs, every
code in a checked credit-code column that has no verdict yet is validated and
its verdict inserted into ``audit.credit_codes`` (a verdict never changes, so
rows are only added, except that codes with a letter in characters 1-2, refused
before this rule, are judged again); the suites' ``*_valid_credit_code`` rules then read the
verdicts (see ``expectations.rules.credit_code_valid``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import sqlalchemy as sa

from edp.settings import Settings
from edp.storage.warehouse import engine
from expectations.spec import Suite

log = logging.getLogger(__name__)


# GB 32100-2015 clause 4: the code's character set (stdnum's alphabet: the value of a character is its index).
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Why a code is invalid, in the order checked (the dbt macro's codes, without its 'missing').
PROBLEMS = ("wrong_length", "invalid_character", "non_digit_division_code", "check_character_mismatch")


def problem(code: str) -> str | None:
    """None for a valid compact code, else the reason (one of PROBLEMS); never quotes the code."""
    from stdnum.cn import uscc

    if len(code) != 18:
        return "wrong_length"
    if any(c not in CHARSET for c in code):
        return "invalid_character"
    if not all(c in "0123456789" for c in code[2:8]):
        return "non_digit_division_code"
    if code[17] != uscc.calc_check_digit(code):
        return "check_character_mismatch"
    return None


def verdict(code: str) -> tuple[bool, str | None]:
    """(valid, reason); a code must already be in its compact form (no spaces, upper case)."""
    from stdnum.cn import uscc

    compact = uscc.compact(code)
    if compact != code:
        return False, f"not in compact form (would be {compact})"
    why = problem(code)
    return why is None, why


def refresh(settings: Settings, suites: Iterable[Suite]) -> int:
    """Validate every new code of the suites' credit-code columns; the number of verdicts added."""
    added = 0
    with engine(settings).begin() as c:
        _rejudge_letter_prefixed(c)
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


def _rejudge_letter_prefixed(c: sa.Connection) -> None:
    """Codes with a letter in characters 1-2 were refused before GB 32100's letters were accepted: judge again."""
    codes: list[str] = list(
        c.execute(
            sa.text("select code from audit.credit_codes where not is_valid and code ~ '^([^0-9]|.[^0-9])'")
        ).scalars()
    )
    for code in codes:
        valid, why = verdict(code)
        c.execute(
            sa.text("update audit.credit_codes set is_valid = :v, reason = :r where code = :code"),
            {"v": valid, "r": why, "code": code},
        )
