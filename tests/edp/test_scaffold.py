"""`edp sources new`: the real CLI scaffolds a source into a copy of the repository, whose lint and tests pass.

The copy holds the repository's tracked files (``git ls-files``) and runs with
this checkout's environment (``.venv``), the copy first on ``PYTHONPATH`` so its
own ``edp``, ``connectors`` and ``expectations`` are the ones imported. mypy
starts from a copy of this checkout's ``.mypy_cache`` when there is one (``make
lint`` leaves it; ``make test`` runs the lint first): the third-party packages
are then not analysed again, which a cold cache takes minutes for.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edp.scaffold import ScaffoldRefused, new_source

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NAME = "demo_feed"
GENERATED = (
    f"connectors/{NAME}/__init__.py",
    f"connectors/{NAME}/datasets.py",
    f"connectors/{NAME}/source.py",
    f"dags/{NAME}.py",
    f"expectations/{NAME}.py",
    f"dbt/models/staging/{NAME}/_{NAME}__sources.yml",
    f"dbt/models/staging/{NAME}/_{NAME}__models.yml",
    f"dbt/models/staging/{NAME}/stg_{NAME}__records.sql",
    f"tests/connectors/{NAME}/test_{NAME}_connector.py",
    f"tests/connectors/{NAME}/test_{NAME}_declarations.py",
    f"tests/dags/test_{NAME}_dag.py",
)
PYTHON_FILES = [p for p in GENERATED if p.endswith(".py")] + ["connectors/registry.py"]


def _copy_repo(target: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in listed.decode("utf-8").split("\0"):
        if name and (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    if (REPO / ".mypy_cache").is_dir():
        shutil.copytree(REPO / ".mypy_cache", target / ".mypy_cache", symlinks=True)
    return target


def _env(root: Path, home: Path) -> dict[str, str]:
    run = home / "run"
    run.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDP_")}
    env |= {"EDP_HOME": str(home), "XDG_RUNTIME_DIR": str(run), "PYTHONPATH": str(root), "MYPYPATH": str(root)}
    return env


def _run(args: list[str], root: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _edp_new(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return _run([str(BIN / "edp"), "sources", "new", *args, "--root", str(root)], root, env)


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    root = _copy_repo(tmp_path_factory.mktemp("repo"))
    env = _env(root, tmp_path_factory.mktemp("home"))
    done = _edp_new(root, env, NAME)
    assert done.returncode == 0, done.stdout + done.stderr
    return root, env, done.stdout


def test_prints_one_line_per_file_then_the_next_steps(scaffolded: tuple[Path, dict[str, str], str]) -> None:
    root, _, stdout = scaffolded
    lines = stdout.splitlines()
    created = [ln.removeprefix("created ") for ln in lines if ln.startswith("created ")]
    assert sorted(created) == sorted(GENERATED)
    assert all((root / p).is_file() for p in GENERATED)
    changed = [ln.removeprefix("changed ") for ln in lines if ln.startswith("changed ")]
    assert changed == ["connectors/registry.py", "sources.yml"]
    assert lines[-1].startswith("next: ") and any("uncomment" in ln for ln in lines if ln.startswith("next: "))
    # Registered; in sources.yml only as a commented entry (nothing reads it before it is configured).
    assert f'"{NAME}")' in (root / "connectors/registry.py").read_text(encoding="utf-8")
    entries = (root / "sources.yml").read_text(encoding="utf-8").split(f"  # >>> {NAME}:")
    assert len(entries) == 2 and f"  # {NAME}:\n" in entries[1] and f"\n  {NAME}:" not in entries[1]


def test_the_generated_source_passes_the_lint_and_its_own_tests(scaffolded: tuple[Path, dict[str, str], str]) -> None:
    root, env, _ = scaffolded
    for args in (["ruff", "check", *PYTHON_FILES], ["ruff", "format", "--check", *PYTHON_FILES]):
        lint = _run([str(BIN / args[0]), *args[1:]], root, env)
        assert lint.returncode == 0, f"{' '.join(args[:2])}:\n{lint.stdout}{lint.stderr}"
    # The project's mypy settings, on the new modules (mypy follows what they import).
    typed = [p for p in PYTHON_FILES if not p.startswith("tests/")]
    mypy = _run([str(BIN / "mypy"), *typed], root, env)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    tests = [p for p in GENERATED if p.startswith("tests/")]
    ran = _run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", *tests], root, env)
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    # Every generated test ran and passed: none was skipped or deselected.
    assert re.search(r"^10 passed in ", ran.stdout, re.MULTILINE), ran.stdout[-1000:]


@pytest.mark.integration  # sqlfluff's dbt templater compiles the project against a warehouse
def test_the_new_staging_model_passes_sqlfluff(
    scaffolded: tuple[Path, dict[str, str], str], warehouse_url: str | None
) -> None:
    root, env, _ = scaffolded
    env = env | ({"EDP_WAREHOUSE_URL": warehouse_url} if warehouse_url else {})
    staging = f"models/staging/{NAME}"
    lint = _run([str(BIN / "python"), "-m", "edp.transform.sql_lint", "--format", "json", staging], root, env)
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]
    (report,) = [json.loads(ln) for ln in lint.stdout.splitlines() if ln.startswith("[")]
    linted = {Path(f["filepath"]).name: f["violations"] for f in report}
    assert linted == {f"stg_{NAME}__records.sql": []}


def test_refuses_an_existing_source_and_writes_nothing(scaffolded: tuple[Path, dict[str, str], str]) -> None:
    root, env, _ = scaffolded
    registry = (root / "connectors/registry.py").read_text(encoding="utf-8")
    for name in ("weather", NAME):
        refused = _edp_new(root, env, name)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"source {name!r} already exists" in refused.stderr and "Traceback" not in refused.stderr
        assert refused.stdout == ""
    assert (root / "connectors/registry.py").read_text(encoding="utf-8") == registry


def test_refuses_to_overwrite_a_file_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path
    (root / "connectors").mkdir()
    registry = 'SOURCES: tuple[str, ...] = ("weather",)\n'
    (root / "connectors/registry.py").write_text(registry, encoding="utf-8")
    (root / "sources.yml").write_text("sources:\n", encoding="utf-8")
    (root / "expectations").mkdir()
    (root / "expectations/forestry.py").write_text("# someone's work\n", encoding="utf-8")
    with pytest.raises(ScaffoldRefused, match=r"refusing to overwrite expectations/forestry\.py"):
        new_source("forestry", root)
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == [
        "connectors",
        "connectors/registry.py",
        "expectations",
        "expectations/forestry.py",
        "sources.yml",
    ]
    assert (root / "connectors/registry.py").read_text(encoding="utf-8") == registry
    assert (root / "expectations/forestry.py").read_text(encoding="utf-8") == "# someone's work\n"
    # Without the stray file it goes through, and the registry stays one line.
    (root / "expectations/forestry.py").unlink()
    done = new_source("forestry", root, datasets=("fire_points", "patrols"), title="林业局 forestry bureau")
    assert (root / "connectors/registry.py").read_text(encoding="utf-8") == (
        'SOURCES: tuple[str, ...] = ("weather", "forestry")\n'
    )
    assert {p.name for p in done.created} >= {"stg_forestry__fire_points.sql", "stg_forestry__patrols.sql"}


@pytest.mark.parametrize(
    ("name", "datasets", "reason"),
    [
        ("Forestry", ("records",), "not snake_case"),
        ("fire-watch", ("records",), "not snake_case"),
        ("fire__watch", ("records",), "not snake_case"),
        ("forestry_", ("records",), "not snake_case"),
        ("9forestry", ("records",), "not snake_case"),
        ("class", ("records",), "Python keyword"),
        ("json", ("records",), "importable module"),
        ("airflow", ("records",), "importable module"),
        ("forestry", ("Fire Points",), "dataset name 'Fire Points' is not snake_case"),
        ("forestry", ("source",), "taken by the connector's module"),
        ("forestry", ("a", "a"), "repeat"),
        ("forestry", ("x" * 60,), "longer than PostgreSQL's 63"),
    ],
)
def test_refuses_a_bad_name(tmp_path: Path, name: str, datasets: tuple[str, ...], reason: str) -> None:
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors/registry.py").write_text('SOURCES: tuple[str, ...] = ("weather",)\n', encoding="utf-8")
    (tmp_path / "sources.yml").write_text("sources:\n", encoding="utf-8")
    with pytest.raises(ScaffoldRefused, match=reason):
        new_source(name, tmp_path, datasets=datasets)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["connectors", "registry.py", "sources.yml"]


def test_a_long_registry_is_written_one_name_a_line(tmp_path: Path) -> None:
    names = ", ".join(f'"source_number_{i}"' for i in range(6))
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors/registry.py").write_text(
        f'"""doc"""\n\nSOURCES: tuple[str, ...] = ({names})\n\nX = 1\n', encoding="utf-8"
    )
    (tmp_path / "sources.yml").write_text("sources:\n  a:\n    url: x", encoding="utf-8")
    new_source("forestry", tmp_path)
    text = (tmp_path / "connectors/registry.py").read_text(encoding="utf-8")
    assert text.startswith('"""doc"""\n\nSOURCES: tuple[str, ...] = (\n    "source_number_0",\n')
    assert text.endswith('    "source_number_5",\n    "forestry",\n)\n\nX = 1\n')
    assert (tmp_path / "sources.yml").read_text(encoding="utf-8").startswith("sources:\n  a:\n    url: x\n  # >>> ")


def test_a_registered_source_sources_yml_does_not_configure_is_left_alone(
    home_settings: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the commented entry relies on: no schedule, no default check, no demo run for such a source."""
    from edp.orchestration.airflow_run import pipeline_dags
    from edp.orchestration.dag_factory import source_schedule
    from edp.quality.runner import _selected
    from edp.settings import get_settings, reset_settings
    from expectations import SUITES

    only_weather = tmp_path / "sources.yml"
    only_weather.write_text('sources:\n  weather:\n    url: sandbox\n    schedule: "@hourly"\n', encoding="utf-8")
    monkeypatch.setenv("EDP_SOURCES_FILE", str(only_weather))
    reset_settings()
    settings = get_settings()
    assert source_schedule("weather") == "@hourly" and source_schedule("water") is None
    assert pipeline_dags(settings) == ("weather", "transform", "quality", "sync_anshan")
    selected = _selected(None, set(settings.sources()))
    assert {SUITES[d].source for d in selected} == {"weather", None}
    assert set(selected) >= {d for d, s in SUITES.items() if s.layer == "marts"}
    # Named explicitly, a suite is still run.
    assert _selected(["raw.water__rainfall"], {"weather"}) == ["raw.water__rainfall"]
    reset_settings()
