"""What every mart is checked for, keyed to its dbt contract.

A mart's columns and primary key are read from its ``_<domain>__models.yml``
(the enforced contract), so a suite follows the contract instead of a copy of
it. Where each rule lives: dbt tests each mart's key (unique, not null),
its relationships to ``ref_*`` seeds and to other marts, and accepted values;
GX does not repeat those. GX adds ranges, times, coordinates, consistency
between columns, referential integrity dbt does not declare, and the trace
of rows back to raw (``*_traced_to_raw``: blocking, a difference names the
raw batch where it can).

Every mart suite has: the contract's columns exist, the mart's own rules,
and (unless the mart may rightly be empty) not empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expectations.dimensions import Dimension, rule
from expectations.levels import Level
from expectations.rules import BLOCKING, WARNING, not_empty, q, unexpected_rows
from expectations.spec import Suite

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.expectations import Expectation

MARTS_DIR = Path(__file__).resolve().parent.parent / "dbt" / "models" / "marts"
# Marts with no suite: marts/platform's rpt_ views report on the checks, the quarantine and the
# exchange themselves (computed when read, from the platform's own tables); checking them would
# feed the quality report its own results.
UNCHECKED_DOMAINS = frozenset({"platform"})


@dataclass(frozen=True)
class Contract:
    model: str
    domain: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    pii_columns: frozenset[str]
    # Columns of a text type: what analysts export to spreadsheets (text_not_formula_like).
    text_columns: tuple[str, ...] = ()


@cache
def contracts() -> dict[str, Contract]:
    """Every mart model declared under ``dbt/models/marts/<domain>/_<domain>__models.yml``."""
    import yaml

    found: dict[str, Contract] = {}
    for path in sorted(MARTS_DIR.glob("*/_*__models.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            columns = model.get("columns") or []
            found[model["name"]] = Contract(
                model=model["name"],
                domain=path.parent.name,
                columns=tuple(c["name"] for c in columns),
                primary_key=_primary_key(model),
                pii_columns=frozenset(c["name"] for c in columns if _is_pii(c)),
                text_columns=tuple(c["name"] for c in columns if _is_text(c)),
            )
    return found


def _primary_key(model: dict[str, Any]) -> tuple[str, ...]:
    for constraint in model.get("constraints") or []:
        if constraint.get("type") == "primary_key":
            return tuple(constraint["columns"])
    return ()


def _is_text(column: dict[str, Any]) -> bool:
    kind = str(column.get("data_type") or "").lower()
    return kind == "text" or kind.startswith(("varchar", "character varying", "char"))


def _is_pii(column: dict[str, Any]) -> bool:
    tags = [*(column.get("tags") or []), *((column.get("config") or {}).get("tags") or [])]
    return "pii" in tags or bool((column.get("meta") or {}).get("pii"))


def columns_exist(columns: Sequence[str]) -> Expectation:
    import great_expectations.expectations as gxe

    # dbt enforces the contract when it builds; this checks the table as published, right before the sync.
    return gxe.ExpectTableColumnsToMatchSet(
        column_set=list(columns),
        exact_match=False,
        **rule(
            "columns_exist",
            BLOCKING,
            Dimension.CONFORMITY,
            "集市表契约规定的字段齐全",
            "every column of the mart's contract exists",
        ),
    )


def text_not_formula_like(contract: Contract) -> Expectation | None:
    """No text a spreadsheet would run (OWASP CSV injection: a leading = + - @ tab or CR; not a negative number).

    Row level, warning: the value is kept as it arrived (the exchange sends it intact) and every
    export neutralises it (``edp.formula_guard``); the finding tells the data's owner to fix it.
    """
    from edp.formula_guard import FORMULA_SQL_REGEX

    columns = [c for c in contract.text_columns if c not in contract.primary_key]
    if not columns or not contract.primary_key:
        return None
    formula = " or ".join(f"({q(c)} ~ '{FORMULA_SQL_REGEX}' and {q(c)} !~ '^-[0-9]+(\\.[0-9]+)?$')" for c in columns)
    keys = ", ".join(q(k) for k in contract.primary_key)
    return unexpected_rows(
        "text_not_formula_like",
        f"select {keys}, {', '.join(q(c) for c in columns)} from {{batch}} where {formula}",
        WARNING,
        Dimension.CONFORMITY,
        "文本不以公式字符开头（= + - @ 制表符 回车；防 CSV/Excel 公式注入，导出时加单引号）",
        "no text starts like a spreadsheet formula (= + - @ tab CR; CSV/Excel injection, quoted on export)",
        level=Level.ROW,
    )


MartRules = Callable[[Contract], "list[Expectation]"]


def mart_suites(specs: dict[str, tuple[str, MartRules]], *, may_be_empty: Sequence[str] = ()) -> dict[str, Suite]:
    """Registry entries for marts: model -> (title, rules); a model missing from the contracts is an error."""
    declared = contracts()
    unknown = sorted(set(specs) - set(declared))
    if unknown:
        raise ValueError(f"mart suites for models with no contract: {unknown}")
    return {
        f"marts.{model}": _entry(declared[model], title, rules, model not in may_be_empty)
        for model, (title, rules) in specs.items()
    }


def _entry(contract: Contract, title: str, rules: MartRules, check_not_empty: bool) -> Suite:
    def build(schedule: str | None) -> ExpectationSuite:
        from great_expectations import ExpectationSuite

        tail = [not_empty()] if check_not_empty else []
        formula = text_not_formula_like(contract)
        tail += [formula] if formula is not None else []
        return ExpectationSuite(
            name=contract.model,
            expectations=[columns_exist(contract.columns), *rules(contract), *tail],
            notes=[f"{title}（集市层）", f"{title} (mart, contract in marts/{contract.domain})"],
        )

    return Suite(
        dataset=f"marts.{contract.model}",
        layer="marts",
        group=contract.model,
        title=title,
        builder=build,
        index_columns=contract.primary_key,
        pii_columns=contract.pii_columns,
    )
