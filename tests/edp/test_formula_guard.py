"""Formula-like text is neutralised in every export: our CSV writer and Superset's CSV and Excel downloads."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edp.formula_guard import FORMULA_PREFIXES, is_formula_like, neutralise, write_csv
from edp.serve.superset.config import write_config
from edp.serve.superset.paths import VENV_DIR, superset_paths
from edp.settings import Settings

PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)",
    '+HYPERLINK("http://127.0.0.1/x","点击")',
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\tplain after a tab",
]
HARMLESS = ["海州街道", "-12.5", "a=b", "", "'=already quoted"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_payload_gets_a_leading_quote(payload: str) -> None:
    assert is_formula_like(payload)
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("value", [*HARMLESS, 3, None, -7])
def test_text_and_numbers_that_are_no_formula_are_left_alone(value: object) -> None:
    assert not is_formula_like(value)
    assert neutralise(value) == value


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FORMULA_PREFIXES), st.text(max_size=20))
def test_no_neutralised_value_starts_like_a_formula(prefix: str, rest: str) -> None:
    value = prefix + rest
    out = neutralise(value)
    assert not is_formula_like(out)
    assert out in (value, "'" + value)  # nothing lost: the original follows the quote


def test_the_csv_writer_neutralises_every_cell_and_header(tmp_path: Path) -> None:
    path = tmp_path / "held.csv"
    rows = [{"key": p, "observed": {"credit_code": p}, "n": 1} for p in PAYLOADS]
    assert write_csv(path, rows, ["key", "observed", "n"]) == len(PAYLOADS)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        read = list(csv.DictReader(fh))
    assert [r["key"] for r in read] == ["'" + p for p in PAYLOADS]
    assert [json.loads(r["observed"])["credit_code"] for r in read] == PAYLOADS  # a JSON cell starts with {
    assert not any(is_formula_like(cell) for r in read for cell in r.values())


SUPERSET_PROBE = """
import io, json, sys
import pandas as pd
import openpyxl
sys.path.insert(0, sys.argv[1])
import superset_config
superset_config._harden_exports(None)
from superset.utils import csv, excel
payloads = json.loads(sys.argv[2])
df = pd.DataFrame({"name": payloads, "n": list(range(len(payloads)))})
text = csv.df_to_escaped_csv(df.copy(), index=False)
sheet = openpyxl.load_workbook(io.BytesIO(excel.df_to_excel(df.copy(), index=False))).active
cells = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
print(json.dumps({"csv": [line.split(",")[0] for line in text.splitlines()[1:]], "xlsx": cells}))
"""


@pytest.mark.skipif(not (VENV_DIR / "bin" / "python").exists(), reason="Superset's venv is not installed")
def test_superset_csv_and_excel_downloads_neutralise_formula_payloads(home_settings: Settings) -> None:
    config = write_config(home_settings)
    assert config == superset_paths(home_settings).config
    simple = [p for p in PAYLOADS if "," not in p and '"' not in p and "\r" not in p]  # one CSV field each
    out = subprocess.run(
        [str(VENV_DIR / "bin" / "python"), "-c", SUPERSET_PROBE, str(config.parent), json.dumps(simple)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        env={"PATH": "/usr/bin:/bin", "SUPERSET_CONFIG_PATH": str(config)},
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(cell.startswith("'") for cell in found["csv"]), found["csv"]
    assert found["xlsx"] == ["'" + p for p in simple]
