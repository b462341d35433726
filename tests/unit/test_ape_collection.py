"""A bare `ape test` runs tests/ape only; plain pytest never collects tests/ape."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent.parent
APE_TESTS = TESTS / "ape"


def _root_conftest() -> Any:
    """tests/conftest.py loaded under its own name (as a plugin it is already pytest's)."""
    spec = importlib.util.spec_from_file_location("root_conftest_under_test", TESTS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeConfig:
    def __init__(self, under_ape: bool, source: pytest.Config.ArgsSource) -> None:
        self.args_source = source
        self.pluginmanager: Any = type("PM", (), {"has_plugin": staticmethod(lambda name: under_ape)})()


@pytest.mark.parametrize(
    ("path", "under_ape", "source", "ignored"),
    [
        (TESTS / "unit", True, pytest.Config.ArgsSource.TESTPATHS, True),  # bare `ape test`
        (TESTS / "integration" / "test_cli.py", True, pytest.Config.ArgsSource.TESTPATHS, True),
        (APE_TESTS, True, pytest.Config.ArgsSource.TESTPATHS, False),
        (APE_TESTS / "test_ape_points.py", True, pytest.Config.ArgsSource.TESTPATHS, False),
        (TESTS, True, pytest.Config.ArgsSource.TESTPATHS, False),  # the way down to tests/ape
        (TESTS / "unit", True, pytest.Config.ArgsSource.ARGS, False),  # `ape test tests/unit` named it
        (APE_TESTS, False, pytest.Config.ArgsSource.TESTPATHS, True),  # plain pytest
        (APE_TESTS, False, pytest.Config.ArgsSource.ARGS, True),
        (TESTS / "unit", False, pytest.Config.ArgsSource.TESTPATHS, False),
    ],
)
def test_what_each_runner_collects(
    path: Path, under_ape: bool, source: pytest.Config.ArgsSource, ignored: bool
) -> None:
    hook = _root_conftest().pytest_ignore_collect
    assert bool(hook(path, FakeConfig(under_ape, source))) is ignored
