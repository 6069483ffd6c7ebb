"""The platform's wheel: the platform's code and data, and nothing of the stand-ins.

The stand-ins are a separate workspace member (``standins``, a development
dependency); the platform's own ``edp/sandbox/`` only launches them as a
process (``python -m standins serve``) and must never import them, or the
installed platform would need the development dependencies.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("edp", "connectors", "expectations")
STANDINS = "standins"
builds_the_wheel = pytest.mark.integration  # a real `uv build`


def _uv() -> str | None:
    bundled = REPO / ".tools" / "bin" / "uv"
    return shutil.which("uv") or (str(bundled) if bundled.is_file() else None)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    uv = _uv()
    if uv is None:
        pytest.skip("uv is neither on PATH nor in .tools/bin: cannot build the wheel")
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(REPO)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (path,) = out.glob("haicheng_edp-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def _imported_modules(source: str) -> set[str]:
    """Every module a file imports: import statements and import_module / __import__ of a literal name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


@builds_the_wheel
def test_the_wheel_holds_the_platform_packages_only(wheel: zipfile.ZipFile) -> None:
    names = [PurePosixPath(n) for n in wheel.namelist()]
    top = {n.parts[0] for n in names}
    dist_info = {t for t in top if t.endswith(".dist-info")}
    assert top - dist_info == set(PACKAGES)
    for package in PACKAGES:
        assert PurePosixPath(package, "__init__.py") in names
    # Every platform file under version control is in it (code and package data: the CAP schema, templates).
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--", *PACKAGES], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    missing = sorted(f for f in tracked if f and (REPO / f).is_file() and PurePosixPath(f) not in names)
    assert missing == []


@builds_the_wheel
def test_the_wheel_holds_no_stand_in_code(wheel: zipfile.ZipFile) -> None:
    names = [PurePosixPath(n) for n in wheel.namelist()]
    assert not [n for n in names if STANDINS in n.parts or n.name.startswith(STANDINS)]
    # "sandbox" only as the platform's own launcher, edp/sandbox/.
    sandbox = [n for n in names if any("sandbox" in part for part in n.parts)]
    assert sandbox and all(n.parts[:2] == ("edp", "sandbox") for n in sandbox), sandbox
    # No module of the wheel imports the stand-ins, the launcher included.
    importing = {
        str(n): sorted(m for m in _imported_modules(wheel.read(str(n)).decode("utf-8")) if m.split(".")[0] == STANDINS)
        for n in names
        if n.suffix == ".py"
    }
    assert {path: modules for path, modules in importing.items() if modules} == {}


@builds_the_wheel
def test_the_installed_platform_needs_no_stand_ins(wheel: zipfile.ZipFile) -> None:
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [ln for ln in wheel.read(metadata).decode("utf-8").splitlines() if ln.startswith("Requires-Dist:")]
    assert requires and not [ln for ln in requires if STANDINS in ln.lower()]
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "edp = edp.cli:app" in wheel.read(entry_points).decode("utf-8")


def test_the_import_scan_sees_every_way_of_importing() -> None:
    source = (
        "import standins\nfrom standins.weather import create_app\nimport importlib\n"
        "importlib.import_module('standins.anshan')\n__import__('standins.police')\n"
        "from . import sibling\nimportlib.util.find_spec('standins')\n"
    )
    assert _imported_modules(source) == {
        "standins",
        "standins.weather",
        "importlib",
        "standins.anshan",
        "standins.police",
    }
