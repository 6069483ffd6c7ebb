"""The marker check itself: an unmarked test on a server fixture fails at setup, a marked one runs."""

from __future__ import annotations

import pytest

from tests.support.markers import NEEDS_SERVER


def test_an_unmarked_test_needing_a_server_fails_and_says_how_to_fix_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        pytest_plugins = ["tests.support.markers"]


        @pytest.fixture
        def settings():
            return "a stand-in for the warehouse fixture"


        @pytest.fixture
        def city(settings):
            return settings
        """
    )
    pytester.makepyfile(
        """
        import pytest


        def test_direct(settings):
            pass


        def test_through_another_fixture(city):
            pass


        @pytest.mark.integration
        def test_marked(city):
            pass


        def test_needs_nothing():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-o", "markers=integration: needs a server")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*test_direct is not marked integration but needs a server (settings: a warehouse database)*",
            "*test_through_another_fixture is not marked integration but needs a server (settings: *",
        ]
    )


def test_the_fixtures_checked_are_the_suites_server_fixtures(request: pytest.FixtureRequest) -> None:
    manager = request.config.pluginmanager
    defined = {name for name in NEEDS_SERVER if request._fixturemanager.getfixturedefs(name, request.node)}
    assert defined == set(NEEDS_SERVER), "a fixture the check names no longer exists"
    assert manager.has_plugin("tests.support.markers")
