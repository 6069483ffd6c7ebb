"""Roles, row-level security and users, without a Superset: the plan and the argument checks."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from edp.cli import app
from edp.serve.superset import access
from edp.serve.superset.errors import SupersetError
from edp.settings import Settings


def _seed_rows() -> list[dict[str, str]]:
    with access.DIVISIONS_SEED.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_one_role_per_town_of_the_reference() -> None:
    seed_towns = {r["code12"]: r["name"] for r in _seed_rows() if r["level"] == "town"}
    towns = access.towns()
    assert {t.code: t.name for t in towns} == seed_towns
    roles = [t.role for t in towns]
    assert len(set(roles)) == len(roles) == len(seed_towns)
    xi_mu = access.town_by_code("210381104000")
    assert (xi_mu.role, xi_mu.clause) == ("town_210381104000", "division_code = '210381104000'")


def test_rls_goes_on_every_dataset_with_a_division_code_and_no_other() -> None:
    datasets = [
        {"id": 7, "columns": [{"column_name": "obs_hour"}, {"column_name": "division_code"}]},
        {"id": 3, "columns": [{"column_name": "division_code"}]},
        # origin_division_code is not the town the row belongs to.
        {"id": 5, "columns": [{"column_name": "origin_division_code"}, {"column_name": "division_name"}]},
        {"id": 9, "columns": []},
    ]
    assert access.rls_dataset_ids(datasets) == [3, 7]


def test_read_permissions_drop_gammas_writes_and_add_the_database() -> None:
    gamma = [
        {"id": 1, "permission_name": "can_read", "view_menu_name": "Dashboard"},
        {"id": 2, "permission_name": "can_write", "view_menu_name": "Dashboard"},
        {"id": 4, "permission_name": "can_write", "view_menu_name": "Chart"},
        {"id": 6, "permission_name": "can_read", "view_menu_name": "Chart"},
    ]
    assert access.read_permission_ids(gamma, [40]) == [1, 6, 40]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--town", "210381999000"], "210381999000"),  # no such town
        (["--town", "210381000000"], "210381000000"),  # the county
        (["--town", "210381104201"], "210381104201"),  # a village (村) under a town
        (["--town", "210381104"], "210381104"),  # 9 digits
        (["--town", "210381104000", "--analyst"], "--town"),
        ([], "--analyst"),
    ],
)
def test_users_add_refuses_in_one_line_and_creates_nothing(
    home_settings: Settings, args: list[str], named: str
) -> None:
    result = CliRunner().invoke(app, ["superset", "users", "add", "officer1", *args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.output
    assert not (home_settings.home_dir / "secrets" / access.user_secret("officer1")).exists()


def test_users_add_refuses_an_unsafe_username(home_settings: Settings) -> None:
    with pytest.raises(SupersetError, match="username"):
        access.add_superset_user(home_settings, "../x", analyst=True)
