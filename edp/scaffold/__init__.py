"""``edp sources new <name>``: a new source in the house layout, the way ``dlt init`` and ``meltano add`` do.

From the templates in ``edp/scaffold/templates/`` (Jinja, with ``<{ }>`` and
``<% %>`` as delimiters so dbt's own ``{{ }}`` passes through) it writes the
connector package with its dataset declarations, a DAG, a raw-suite module,
a dbt staging folder (sources YAML, models YAML, one staging model per
dataset) and the tests of all of them, then registers the name in
``connectors/registry.py`` and appends a *commented* entry to ``sources.yml``.

The entry is commented on purpose: a source whose connector still speaks the
template's example contract has no URL to read, and a registered source that
``sources.yml`` does not configure is left alone by everything that reads
sources (``edp ingest --all``, ``edp sources check``, ``edp check``, the demo;
its DAG is not scheduled), while its raw tables are made empty so dbt builds.
Uncommenting the entry is the switch that turns it on.

Nothing is overwritten: every target is checked before the first file is written.
"""

from __future__ import annotations

import ast
import keyword
import re
import sys
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from connectors.schema import DIVISION_CODE_DESCRIPTION
from edp.errors import ConfigError

TEMPLATES = Path(__file__).resolve().parent / "templates"
# A source or dataset name: snake_case, no double underscore (``raw.<source>__<dataset>`` splits on it).
NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# PostgreSQL truncates identifiers longer than this: ``stg_<source>__<dataset>`` must fit.
MAX_IDENTIFIER = 63
MAX_NAME = 30
MAX_TITLE = 60
REGISTRY = Path("connectors/registry.py")
SOURCES_FILE = Path("sources.yml")
# The example fields every scaffolded dataset declares (datasets.py.j2 spells the same, the dbt YAML lists them).
EXAMPLE_FIELDS: tuple[dict[str, str], ...] = (
    {"name": "record_id", "description": "编号 record id (the source's key)"},
    {"name": "name", "description": "名称 name"},
    {"name": "value", "description": "数值 value"},
    {"name": "division_code", "description": DIVISION_CODE_DESCRIPTION},
    {"name": "updated_at", "description": "更新时间 last change at the source"},
)
# Upper-cased, a dataset's name is a constant of datasets.py beside these.
_RESERVED_DATASETS = frozenset({"source", "endpoints", "datasets"})
_TITLE_FORBIDDEN = re.compile(r"[\"'\\`\x00-\x1f\x7f]")


class ScaffoldRefused(ConfigError):
    """A name, title or target the scaffold will not use (nothing was written)."""


@dataclass
class Scaffolded:
    """What ``new_source`` wrote: files created, files changed, and what to do next."""

    name: str
    root: Path
    created: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per file, then the next steps (``next: ...``)."""
        out = [f"created {p.relative_to(self.root)}" for p in self.created]
        out += [f"changed {p.relative_to(self.root)}" for p in self.changed]
        return out + [f"next: {step}" for step in self.next_steps]


def check_name(name: str, what: str = "source") -> None:
    if not NAME.fullmatch(name):
        raise ScaffoldRefused(
            f"{what} name {name!r} is not snake_case (a-z, 0-9, single underscores, starting with a letter), "
            "e.g. forestry or fire_points"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ScaffoldRefused(f"{what} name {name!r} is a Python keyword")


def registered_sources(root: Path) -> tuple[str, ...]:
    """The names in ``<root>/connectors/registry.py`` (read, not imported: ``root`` may be another checkout)."""
    node = _sources_node(root)
    value = ast.literal_eval(node.value) if node.value is not None else ()
    return tuple(value)


def _sources_node(root: Path) -> ast.AnnAssign | ast.Assign:
    path = root / REGISTRY
    if not path.is_file():
        raise ScaffoldRefused(f"{path} not found: --root must be the platform's repository")
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign):
            targets: list[ast.expr] = [node.target]
        elif isinstance(node, ast.Assign):
            targets = node.targets
        else:
            continue
        if len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == "SOURCES":
            return node
    raise ScaffoldRefused(f"{path} has no SOURCES tuple")


def _refuse_bad(name: str, datasets: tuple[str, ...], title: str, root: Path) -> None:
    check_name(name)
    if len(name) > MAX_NAME:
        raise ScaffoldRefused(f"source name {name!r} is longer than {MAX_NAME} characters")
    if name in registered_sources(root):
        raise ScaffoldRefused(f"source {name!r} already exists in {REGISTRY}")
    # A DAG file is a top-level module named after its source: it must not shadow a module Airflow imports.
    if name in sys.stdlib_module_names or find_spec(name) is not None:
        raise ScaffoldRefused(f"source name {name!r} is the name of an importable module; choose another")
    if not datasets:
        raise ScaffoldRefused("a source needs at least one dataset")
    for dataset in datasets:
        check_name(dataset, "dataset")
        if dataset in _RESERVED_DATASETS:
            raise ScaffoldRefused(f"dataset name {dataset!r} is taken by the connector's module ({dataset.upper()})")
        model = f"stg_{name}__{dataset}"
        if len(model) > MAX_IDENTIFIER:
            raise ScaffoldRefused(f"{model} is longer than PostgreSQL's {MAX_IDENTIFIER} characters; use shorter names")
    if len(set(datasets)) != len(datasets):
        raise ScaffoldRefused(f"dataset names repeat: {', '.join(datasets)}")
    if not title.strip() or len(title) > MAX_TITLE or _TITLE_FORBIDDEN.search(title):
        raise ScaffoldRefused(
            f"the title must be 1-{MAX_TITLE} characters without quotes, backslashes or control characters"
        )


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        block_start_string="<%",
        block_end_string="%>",
        variable_start_string="<{",
        variable_end_string="}>",
        comment_start_string="<#",
        comment_end_string="#>",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    # Import lines in ruff's (isort's) order, whatever the source's name sorts as.
    env.globals["imports"] = lambda *lines: "\n".join(sorted(lines, key=lambda ln: ln.split(" import ")[0]))
    return env


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Source"


def render(name: str, datasets: tuple[str, ...], title: str) -> dict[Path, str]:
    """Every file of the new source, by its path under the repository root."""
    env = _environment()
    context: dict[str, Any] = {
        "name": name,
        "title": title,
        "cls": _class_name(name),
        "datasets": [{"name": d, "const": d.upper(), "path": d.replace("_", "-")} for d in datasets],
        "fields": EXAMPLE_FIELDS,
    }
    files: dict[Path, str] = {}
    for template in sorted(TEMPLATES.rglob("*.j2")):
        relative = template.relative_to(TEMPLATES).as_posix()
        source = env.get_template(relative)
        for dataset in datasets if "{dataset}" in relative else (None,):
            target = relative.removesuffix(".j2").replace("{name}", name).replace("{dataset}", dataset or "")
            files[Path(target)] = source.render(**context, dataset={"name": dataset})
    return files


def _registry_text(root: Path, name: str) -> str:
    """``connectors/registry.py`` with ``name`` appended to ``SOURCES``, formatted as ``ruff format`` would."""
    path = root / REGISTRY
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    node = _sources_node(root)
    names = (*registered_sources(root), name)
    head = "SOURCES: tuple[str, ...] = " if isinstance(node, ast.AnnAssign) else "SOURCES = "
    one_line = head + "(" + ", ".join(f'"{n}"' for n in names) + ")\n"
    statement = (
        one_line
        if len(one_line) <= 121
        else head + "(\n" + "".join(f'    "{n}",\n' for n in names) + ")\n"  # one a line, as ruff explodes it
    )
    end = node.end_lineno or node.lineno
    return "".join([*lines[: node.lineno - 1], statement, *lines[end:]])


def _sources_yml_text(root: Path, name: str, title: str) -> str:
    """``sources.yml`` with the source's entry appended, commented out (see the module's docstring)."""
    text = (root / SOURCES_FILE).read_text(encoding="utf-8")
    host = name.replace("_", "-")
    block = f"""\
  # >>> {name}: written by `edp sources new`. Uncomment the entry below once connectors/{name}/
  # >>> reads the real source; until then nothing reads it, its DAG is not scheduled (docs/adding-a-source.md).
  # {name}:
  #   title: {title}
  #   url: https://{host}.example.invalid/api     # EDP_SOURCE_{name.upper()}_URL overrides it
  #   schedule: "@hourly"
  #   credentials:
  #     api_key: EDP_{name.upper()}_API_KEY
  #   options:
  #     page_size: 500
  # <<< {name}
"""
    return text + ("" if text.endswith("\n") else "\n") + block


def new_source(
    name: str, root: Path, *, datasets: tuple[str, ...] = ("records",), title: str | None = None
) -> Scaffolded:
    """Write the new source's files under ``root`` and register it; refuse before writing anything."""
    root = root.resolve()
    title = title if title is not None else f"{name} 数据源 source"
    _refuse_bad(name, datasets, title, root)
    files = render(name, datasets, title)
    existing = sorted(str(p) for p in files if (root / p).exists())
    if existing:
        raise ScaffoldRefused(f"refusing to overwrite {', '.join(existing)}; nothing was written")
    if not (root / SOURCES_FILE).is_file():
        raise ScaffoldRefused(f"{root / SOURCES_FILE} not found: --root must be the platform's repository")
    registry = _registry_text(root, name)
    sources_yml = _sources_yml_text(root, name, title)
    result = Scaffolded(name, root)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # "x": never over a file that appeared meanwhile
            out.write(text)
        result.created.append(path)
    (root / REGISTRY).write_text(registry, encoding="utf-8")
    (root / SOURCES_FILE).write_text(sources_yml, encoding="utf-8")
    result.changed += [root / REGISTRY, root / SOURCES_FILE]
    result.next_steps = [
        f"replace the example fields in connectors/{name}/datasets.py with the department's contract, "
        f"and the same columns in dbt/models/staging/{name}/ (its tests check they agree)",
        f"adapt connectors/{name}/source.py (paging, authentication, normalise) and the sample records "
        f"in tests/connectors/{name}/",
        f"add the source's own rules to expectations/{name}.py",
        f"run: uv run pytest tests/connectors/{name} tests/dags/test_{name}_dag.py && make lint",
        f"uncomment the {name} entry at the end of sources.yml (url, credentials, schedule) to turn it on",
        "add its stand-in for the sandbox: docs/adding-a-source.md, step 6",
    ]
    return result
