"""The production kit (infra/deploy/, docs/deploy.md): complete, and consistent with the platform.

Fast unit tests, no docker. Every list is derived at test time: the settings from
``Settings.model_fields``, the credentials and sources from ``sources.yml``, the queues and pools
from the connector registry, Airflow's settings from ``airflow_config``. A new setting, source or
Airflow setting of the platform fails here until the compose env file and the Helm config carry it.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import SecretStr

from connectors.registry import SOURCES
from edp.orchestration.airflow_run import airflow_config
from edp.orchestration.pools import EXCHANGE_POOL
from edp.serve.superset import ADMIN_SECRET, ASSETS_DIR, READER_SECRET
from edp.settings import REPO_ROOT, Settings
from edp.transform.dbt_runner import DBT_PROJECT_DIR

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "infra" / "deploy"
ENV_EXAMPLE = DEPLOY / "edp.env.example"
COMPOSE = DEPLOY / "compose.yaml"
HELM = DEPLOY / "helm"
PLATFORM_CONFIG = HELM / "platform-config.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
APP = "/app"  # the repository's root inside the image (REPO_ROOT there)
DEFAULT_QUEUE = "default"
SANDBOX = "sandbox"
# Settings the platform reads whose unset value means "this channel is not used" (settings.py).
OPTIONAL_PREFIX = "EDP_ALERT_"
ENTRY = re.compile(r"^\s*(#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")
COMMENTED_KEY = re.compile(r"^\s*#\s*(?P<name>[A-Z][A-Z0-9_]*):", re.MULTILINE)
INTERPOLATED = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>[^}]*)\}")


# ── what the platform reads ─────────────────────────────────────────────────


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_is_secret(arg) for arg in get_args(annotation))


@cache
def _sources() -> dict[str, dict[str, Any]]:
    return dict(yaml.safe_load((REPO / "sources.yml").read_text(encoding="utf-8"))["sources"])


@cache
def platform_settings() -> dict[str, bool]:
    """Every variable the platform reads, with whether it is a secret."""
    names = {f"EDP_{field.upper()}": _is_secret(info.annotation) for field, info in Settings.model_fields.items()}
    for name, source in _sources().items():
        names[f"EDP_SOURCE_{name.upper()}_URL"] = False
        for variable in (source.get("credentials") or {}).values():
            names[variable] = True
    return names


@cache
def required_settings() -> set[str]:
    """What production must set: no default, a secret, or the sandbox's stand-in as the default."""
    required = {
        f"EDP_{field.upper()}"
        for field, info in Settings.model_fields.items()
        if info.default is None or info.default == SANDBOX or _is_secret(info.annotation)
    }
    for name, source in _sources().items():
        if source.get("url") == SANDBOX:
            required.add(f"EDP_SOURCE_{name.upper()}_URL")
        required.update((source.get("credentials") or {}).values())
    return {name for name in required if not name.startswith(OPTIONAL_PREFIX)}


def test_the_derived_lists_hold_what_the_brief_names() -> None:
    # A guard on the derivation itself, not a copy of it: a few names that must come out of it.
    names = platform_settings()
    assert names["EDP_WAREHOUSE_URL"] and names["EDP_PII_KEY"] and names["EDP_WATER_DB_PASSWORD"]
    assert not names["EDP_SOURCE_WEATHER_URL"] and not names["EDP_ALERT_REPEAT_HOURS"]
    assert {"EDP_AIRFLOW_METADATA_URL", "EDP_CELERY_BROKER_URL", "EDP_ANSHAN_URL"} <= required_settings()
    assert "EDP_ALERT_SMTP_PASSWORD" not in required_settings()


# ── the files ───────────────────────────────────────────────────────────────


@cache
def env_entries(path: Path = ENV_EXAMPLE) -> dict[str, tuple[str, bool]]:
    """``NAME -> (value, commented)`` of an env file; a commented ``# NAME=value`` counts as mentioned."""
    entries: dict[str, tuple[str, bool]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ENTRY.match(line)
        if match:
            entries[match["name"]] = (match["value"], bool(match.group(1)))
    return entries


def _set_in_env() -> dict[str, str]:
    return {name: value for name, (value, commented) in env_entries().items() if not commented}


@cache
def manifests(path: Path = PLATFORM_CONFIG) -> list[tuple[dict[str, Any], str]]:
    """Each document of a multi-document YAML file with its own text (for its commented keys)."""
    chunks = re.split(r"^---\s*$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return [(doc, chunk) for chunk in chunks if (doc := yaml.safe_load(chunk))]


def _manifest(kind: str, name: str) -> tuple[dict[str, Any], str]:
    for doc, text in manifests():
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc, text
    raise AssertionError(f"no {kind} {name} in {PLATFORM_CONFIG.relative_to(REPO)}")


def _data(doc: dict[str, Any]) -> dict[str, str]:
    return {**(doc.get("data") or {}), **(doc.get("stringData") or {})}


def _keys(kind: str, name: str) -> tuple[set[str], set[str]]:
    """(keys set, keys only mentioned in a comment) of one ConfigMap or Secret."""
    doc, text = _manifest(kind, name)
    keys = set(_data(doc))
    return keys, {m["name"] for m in COMMENTED_KEY.finditer(text)} - keys


@cache
def _pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


@cache
def helm_values(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((HELM / name).read_text(encoding="utf-8")))


def _platform_refs() -> tuple[str, str]:
    """The ConfigMap and Secret every Airflow container gets (airflow-values.yaml: extraEnvFrom)."""
    refs = yaml.safe_load(helm_values("airflow-values.yaml")["extraEnvFrom"])
    (configmap,) = [r["configMapRef"]["name"] for r in refs if "configMapRef" in r]
    (secret,) = [r["secretRef"]["name"] for r in refs if "secretRef" in r]
    return configmap, secret


@cache
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


def _platform_services() -> dict[str, dict[str, Any]]:
    image = compose()["x-edp"]["image"]
    return {name: svc for name, svc in compose()["services"].items() if svc.get("image") == image}


def _command_text(service: dict[str, Any]) -> str:
    command = service.get("command") or []
    return " ".join(command) if isinstance(command, list) else str(command)


def _airflow_services() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in _platform_services().items() if "airflow" in _command_text(svc).split()}


def test_every_yaml_and_json_file_of_the_kit_parses() -> None:
    files = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
    assert {COMPOSE, PLATFORM_CONFIG, HELM / "airflow-values.yaml", HELM / "superset-values.yaml"} <= set(files)
    for path in files:
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        assert any(documents), f"{path.relative_to(REPO)} is empty"
    for path in DEPLOY.rglob("*.json"):
        assert json.loads(path.read_text(encoding="utf-8")), path


# ── every setting, in both kits; secrets in the Secret ─────────────────────


def test_the_compose_env_file_mentions_every_setting() -> None:
    missing = sorted(set(platform_settings()) - set(env_entries()))
    assert missing == [], f"not in {ENV_EXAMPLE.relative_to(REPO)}: {missing}"


def test_the_helm_config_mentions_every_setting() -> None:
    configmap, secret = _platform_refs()
    mentioned = set().union(*_keys("ConfigMap", configmap), *_keys("Secret", secret))
    missing = sorted(set(platform_settings()) - mentioned)
    assert missing == [], f"not in {PLATFORM_CONFIG.relative_to(REPO)}: {missing}"


def test_secrets_are_in_the_secret_and_never_in_the_configmap() -> None:
    configmap, secret = _platform_refs()
    in_configmap = set().union(*_keys("ConfigMap", configmap))
    in_secret = set().union(*_keys("Secret", secret))
    secrets = {name for name, is_secret in platform_settings().items() if is_secret}
    assert sorted(secrets - in_secret) == []
    assert sorted(secrets & in_configmap) == []


def test_production_settings_are_set_not_left_to_their_defaults() -> None:
    configmap, secret = _platform_refs()
    set_in_helm = _keys("ConfigMap", configmap)[0] | _keys("Secret", secret)[0]
    assert sorted(required_settings() - set(_set_in_env())) == []
    assert sorted(required_settings() - set_in_helm) == []
    # the production kits run the CeleryExecutor and a Superset of its own image
    assert _set_in_env()["EDP_AIRFLOW_EXECUTOR"] == "celery"
    assert _data(_manifest("ConfigMap", configmap)[0])["EDP_AIRFLOW_EXECUTOR"] == "celery"


def test_compose_and_helm_set_the_same_settings_and_no_unknown_one() -> None:
    configmap, secret = _platform_refs()
    set_in_helm = _keys("ConfigMap", configmap)[0] | _keys("Secret", secret)[0]
    set_in_env = {name for name in _set_in_env() if name.startswith("EDP_")}
    assert set_in_env == set_in_helm
    # a misspelt name would be silently ignored by the platform
    known = set(platform_settings())
    mentioned = {n for n in env_entries() if n.startswith("EDP_")} | set_in_helm
    assert sorted(mentioned - known) == []


def test_the_duplicated_values_of_the_helm_secrets_agree() -> None:
    _, secret = _platform_refs()
    platform = _data(_manifest("Secret", secret)[0])
    airflow = helm_values("airflow-values.yaml")
    metadata = _data(_manifest("Secret", airflow["data"]["metadataSecretName"])[0])
    broker = _data(_manifest("Secret", airflow["data"]["brokerUrlSecretName"])[0])
    assert metadata["connection"] == platform["EDP_AIRFLOW_METADATA_URL"]
    assert broker["connection"] == platform["EDP_CELERY_BROKER_URL"]
    minio = helm_values("minio-values.yaml")
    (user,) = minio["users"]
    assert user["accessKey"] == platform["EDP_S3_ACCESS_KEY"]
    user_secret = _data(_manifest("Secret", user["existingSecret"])[0])
    assert user_secret[user["existingSecretKey"]] == platform["EDP_S3_SECRET_KEY"]


def test_each_password_has_one_value_across_the_files() -> None:
    env = _set_in_env()
    assert urlsplit(env["EDP_CELERY_BROKER_URL"]).password == env["REDIS_PASSWORD"]
    _, secret = _platform_refs()
    platform = _data(_manifest("Secret", secret)[0])
    redis = _data(_manifest("Secret", helm_values("airflow-values.yaml")["redis"]["passwordSecretName"])[0])
    assert urlsplit(platform["EDP_CELERY_BROKER_URL"]).password == redis["password"]
    # the CloudNativePG roles have the passwords of the URLs, and the URLs name its read-write service
    cnpg = manifests(HELM / "postgres-cnpg.yaml")
    (cluster,) = [doc for doc, _ in cnpg if doc["kind"] == "Cluster"]
    passwords = {doc["metadata"]["name"]: _data(doc).get("password") for doc, _ in cnpg if doc["kind"] == "Secret"}
    role_secret = {role["name"]: role["passwordSecret"]["name"] for role in cluster["spec"]["managed"]["roles"]}
    superset = _data(_manifest("Secret", helm_values("superset-values.yaml")["envFromSecret"])[0])
    logins = [urlsplit(platform["EDP_WAREHOUSE_URL"]), urlsplit(platform["EDP_AIRFLOW_METADATA_URL"])]
    pairs = [(u.username, u.password, u.hostname) for u in logins]
    pairs.append((superset["DB_USER"], superset["DB_PASS"], superset["DB_HOST"]))
    for user, password, host in pairs:
        assert passwords[role_secret[user]] == password, user
        assert str(host).startswith(f"{cluster['metadata']['name']}-rw."), host


def test_every_secret_the_charts_name_is_in_the_platform_config() -> None:
    airflow = helm_values("airflow-values.yaml")
    named = [
        airflow["data"]["metadataSecretName"],
        airflow["data"]["brokerUrlSecretName"],
        airflow["redis"]["passwordSecretName"],
        airflow["fernetKeySecretName"],
        airflow["apiSecretKeySecretName"],
        airflow["jwtSecretName"],
        helm_values("superset-values.yaml")["envFromSecret"],
        helm_values("minio-values.yaml")["existingSecret"],
        *[v["secret"]["secretName"] for v in airflow["volumes"] if "secret" in v],
    ]
    for name in named:
        secret, _text = _manifest("Secret", name)  # raises, naming the file, when the Secret is missing
        assert _data(secret), f"Secret {name} holds nothing"


def test_the_given_files_of_edp_home_secrets_are_the_ones_production_reads() -> None:
    # $EDP_HOME/secrets is mounted read-only: the generated secrets production still reads must be given.
    airflow = helm_values("airflow-values.yaml")
    (volume,) = [v for v in airflow["volumes"] if "secret" in v]
    (mount,) = [m for m in airflow["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["mountPath"] == f"{_set_in_env()['EDP_HOME']}/secrets" and mount["readOnly"]
    files = _data(_manifest("Secret", volume["secret"]["secretName"])[0])
    assert set(files) == {ADMIN_SECRET, READER_SECRET}
    superset_env = helm_values("superset-values.yaml")["extraEnvRaw"]
    assert any(e["valueFrom"]["secretKeyRef"]["key"] == ADMIN_SECRET for e in superset_env)
    compose_mounts = compose()["x-edp"]["volumes"]
    assert f"./secrets:{mount['mountPath']}:ro" in compose_mounts


# ── the image ───────────────────────────────────────────────────────────────


def _copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY from the build context."""
    copies = []
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("COPY "):
            continue
        tokens = shlex.split(line)[1:]
        if any(t.startswith("--from") for t in tokens):
            continue
        paths = [t for t in tokens if not t.startswith("--")]
        copies.append((paths[:-1], paths[-1]))
    return copies


def _dockerignored(path: str) -> bool:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if any(
            fnmatch.fnmatchcase(c, pattern) or (pattern.startswith("**/") and fnmatch.fnmatchcase(c, pattern[3:]))
            for c in candidates
        ):
            ignored = not negated
    return ignored


def test_the_build_context_holds_every_copy_source() -> None:
    sources = [src for srcs, _ in _copies() for src in srcs]
    assert sources
    assert [s for s in sources if not (REPO / s).exists()] == []
    assert [s for s in sources if _dockerignored(s)] == []


def test_the_dockerignore_keeps_environments_and_secrets_out() -> None:
    for path in (".venv", ".edp", ".tools", "infra/superset/.venv", "infra/deploy/edp.env", "infra/deploy/secrets"):
        assert _dockerignored(path), path
    gitignore = (REPO / ".gitignore").read_text(encoding="utf-8")
    assert "infra/deploy/edp.env" in gitignore and "infra/deploy/secrets" in gitignore


def _configured(home: Path) -> Settings:
    """Settings with a warehouse URL: reading Airflow's configuration then starts no embedded PostgreSQL."""
    return Settings(home=home, warehouse_url=SecretStr("postgresql://edp@127.0.0.1:5432/edp"))


def test_the_image_copies_what_the_wheel_packages_and_what_the_platform_finds_by_path(tmp_path: Path) -> None:
    copied = {src.rstrip("/") for srcs, _ in _copies() for src in srcs}
    packages = _pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert sorted(set(packages) - copied) == []
    # Found relative to REPO_ROOT at run time: Airflow's dags_folder, dbt's project, sources.yml, Superset's assets.
    by_path = [
        Path(airflow_config(_configured(tmp_path))["core"]["dags_folder"]),
        DBT_PROJECT_DIR,
        Settings.model_fields["sources_file"].default,
        ASSETS_DIR,
    ]
    needed = {p.relative_to(REPO_ROOT).as_posix() for p in by_path}
    assert sorted(needed - copied) == []


def test_the_image_installs_the_lock_editable_without_development_groups() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    syncs = [line for line in text.splitlines() if "uv sync" in line]
    assert syncs and all("--frozen" in s and "--no-dev" in s for s in syncs)
    groups = _pyproject()["tool"]["uv"]["default-groups"]
    assert all(f"--no-group {g}" in s for s in syncs for g in groups if g != "dev")
    # editable: REPO_ROOT (the folder above edp/) must stay /app, where dags/ and dbt/ are
    assert "--no-editable" not in text
    assert re.search(r"^WORKDIR /app$", text, re.MULTILINE)
    assert re.search(r"^USER 50000$", text, re.MULTILINE)
    assert helm_values("airflow-values.yaml")["uid"] == 50000
    assert 'ENTRYPOINT ["/entrypoint"]' in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "edp --help"),
        (["ingest", "--all"], "edp ingest --all"),
        (["airflow", "scheduler"], "airflow scheduler"),
        (["bash", "-c", "echo from bash"], "from bash"),
        (["edp", "status"], "edp status"),
    ],
)
def test_the_entrypoint_runs_edp_unless_given_a_program(tmp_path: Path, args: list[str], expected: str) -> None:
    for program in ("edp", "airflow"):
        stub = tmp_path / program
        stub.write_text(f'#!/bin/sh\necho {program} "$@"\n', encoding="utf-8")
        stub.chmod(0o755)
    run = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), *args],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert run.stdout.strip() == expected


def test_the_superset_image_pins_what_the_platforms_superset_pins() -> None:
    pins = dict(
        line.split("==", 1)
        for line in (REPO / "infra" / "superset" / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    )
    text = (DEPLOY / "superset" / "Dockerfile").read_text(encoding="utf-8")
    installed = dict(re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', text))
    assert installed and {name: pins.get(name) for name in installed} == installed
    assert re.search(r"FROM \$\{SUPERSET_IMAGE\}", text) and "apache/superset:" + pins["apache-superset"] in text


# ── Airflow: one configuration everywhere ───────────────────────────────────


def _airflow_env() -> dict[str, str]:
    return dict(compose()["x-airflow-env"])


def test_every_airflow_service_has_the_same_settings() -> None:
    services = _airflow_services()
    names = {"airflow-init", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"}
    assert names <= set(services)
    assert sum(1 for svc in services.values() if "celery worker" in _command_text(svc)) >= 1
    for name, svc in _platform_services().items():
        assert svc["env_file"] == ["edp.env"], name
        airflow_vars = {k: v for k, v in svc["environment"].items() if k.startswith("AIRFLOW")}
        assert airflow_vars == _airflow_env(), name


# `edp up`'s settings that production replaces: the FAB auth manager instead of the simple one's users
# and passwords file; the async metadata URL Airflow derives itself (asyncpg) from a TCP URL.
SINGLE_HOST_ONLY = {
    ("core", "simple_auth_manager_users"),
    ("core", "simple_auth_manager_passwords_file"),
    ("database", "sql_alchemy_conn_async"),
}


def test_the_airflow_settings_are_the_platforms(tmp_path: Path) -> None:
    env = _airflow_env()
    platform = airflow_config(_configured(tmp_path))
    for section, values in platform.items():
        for key in values:
            if (section, key) in SINGLE_HOST_ONLY:
                continue
            assert f"AIRFLOW__{section.upper()}__{key.upper()}" in env, f"[{section}] {key} is not set in compose"
    core = platform["core"]
    for key in ("load_examples", "default_timezone", "unit_test_mode"):
        assert env[f"AIRFLOW__CORE__{key.upper()}"] == core[key]
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == f"{APP}/{Path(core['dags_folder']).relative_to(REPO_ROOT).as_posix()}"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    # metadata, broker and result backend from the EDP_* settings, not a second copy of them
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("${EDP_AIRFLOW_METADATA_URL")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+${EDP_AIRFLOW_METADATA_URL")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("${EDP_CELERY_BROKER_URL")
    assert _set_in_env()["EDP_AIRFLOW_METADATA_URL"].startswith("postgresql://")


def test_helm_gives_airflow_the_same_configuration_as_compose() -> None:
    values = helm_values("airflow-values.yaml")
    core = values["config"]["core"]
    env = _airflow_env()
    for key in ("dags_folder", "load_examples", "default_timezone", "unit_test_mode", "auth_manager"):
        assert core[key] == env[f"AIRFLOW__CORE__{key.upper()}"], key
    assert core["executor"] == "{{ .Values.executor }}" and values["executor"] == env["AIRFLOW__CORE__EXECUTOR"]
    assert values["images"]["airflow"]["repository"] == values["defaultAirflowRepository"]
    assert values["postgresql"]["enabled"] is False


def test_every_interpolated_compose_variable_without_a_default_is_in_the_env_file() -> None:
    needed = {
        m["name"] for m in INTERPOLATED.finditer(COMPOSE.read_text(encoding="utf-8")) if not m["rest"].startswith(":-")
    }
    assert sorted(needed - set(_set_in_env())) == []


# ── queues, workers and pools ───────────────────────────────────────────────


def _queues(command: str) -> set[str]:
    match = re.search(r"--queues[ =](\S+)", command)
    return set(match.group(1).split(",")) if match else {DEFAULT_QUEUE}


def test_the_workers_take_the_default_queue_and_one_per_source() -> None:
    expected = {DEFAULT_QUEUE, *SOURCES}
    workers = [_command_text(svc) for svc in _airflow_services().values() if "celery worker" in _command_text(svc)]
    assert set().union(*(_queues(w) for w in workers)) == expected
    helm_workers = " ".join(helm_values("airflow-values.yaml")["workers"]["args"])
    assert _queues(helm_workers) == expected


def test_one_pool_per_source_and_the_exchanges() -> None:
    pools = json.loads((DEPLOY / "airflow-pools.json").read_text(encoding="utf-8"))
    assert set(pools) == {f"source_{name}" for name in SOURCES} | {EXCHANGE_POOL}
    assert all(pool["slots"] >= 1 for pool in pools.values())
    assert pools[EXCHANGE_POOL]["slots"] == 1  # two syncs at once deadlock
    assert "airflow pools import" in _command_text(compose()["services"]["airflow-init"])


def test_the_lake_policy_is_the_same_in_compose_and_helm() -> None:
    policy = json.loads((DEPLOY / "minio" / "edp-lake-policy.json").read_text(encoding="utf-8"))
    compose_statements = [(sorted(s["Resource"]), sorted(s["Action"])) for s in policy["Statement"]]
    (helm_policy,) = helm_values("minio-values.yaml")["policies"]
    helm_statements = [(sorted(s["resources"]), sorted(s["actions"])) for s in helm_policy["statements"]]
    assert compose_statements == helm_statements
    minio = helm_values("minio-values.yaml")
    assert minio["mode"] == "distributed" and minio["replicas"] == 4


# ── the operators' document ─────────────────────────────────────────────────


def test_docs_deploy_names_every_file_of_the_kit_and_is_linked() -> None:
    doc = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    kit = [p for p in DEPLOY.rglob("*") if p.is_file()]
    assert sorted(p.relative_to(REPO).as_posix() for p in kit if p.name not in doc) == []
    assert "docs/deploy.md" in (REPO / "README.md").read_text(encoding="utf-8")
    assert "deploy.md" in (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    for pool in (f"source_{name}" for name in SOURCES):
        assert pool in doc or "source_<name>" in doc
