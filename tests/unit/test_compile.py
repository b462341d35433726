from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.compiled import FIXTURES, compile_shared, run_folder

from loyalty_chain.compile import CompileResult, collect_sources, compile_project
from loyalty_chain.errors import CompileError


def copy_fixtures(name: str) -> Path:
    """A copy of the fixture contracts inside the repo root (imports resolve against it)."""
    root = Path(__file__).resolve().parents[2]
    scratch = root / ".build" / "test-sources" / name
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(FIXTURES, scratch)
    return scratch


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    scratch = copy_fixtures(tmp_path.name)
    yield scratch
    shutil.rmtree(scratch, ignore_errors=True)


@dataclass(frozen=True)
class Build:
    project: Path
    out: Path
    first: CompileResult


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The fixtures compiled once per run, shared by the tests that do not edit them (solcjs takes
    seconds); ``first`` may come from the cache another worker filled."""
    first = compile_shared(tmp_path_factory, "fixtures")
    return Build(FIXTURES, run_folder(tmp_path_factory) / "compiled-fixtures", first)


def compile_in(project: Path, tmp_path: Path, **kw: object) -> CompileResult:
    return compile_project(project, build_dir=tmp_path / "build", build_info_dir=tmp_path / "bi", **kw)  # type: ignore[arg-type]


def test_imports_are_followed_into_openzeppelin(project: Path) -> None:
    sources = collect_sources(project)
    assert any(unit.endswith("access/AccessControl.sol") for unit in sources)
    assert any(unit.endswith("utils/introspection/ERC165.sol") for unit in sources)  # a relative import


def test_the_cache_hits_until_a_source_changes(project: Path, tmp_path: Path) -> None:
    first = compile_in(project, tmp_path)
    assert not first.cached
    assert "Counter" in first.artifacts
    second = compile_in(project, tmp_path)
    assert second.cached
    assert second.artifacts["Counter"].bytecode == first.artifacts["Counter"].bytecode
    source = project / "Counter.sol"
    source.write_text(source.read_text().replace("_count += 1;", "_count += 2;"))
    edited = compile_in(project, tmp_path)
    assert not edited.cached
    assert edited.artifacts["Counter"].bytecode != first.artifacts["Counter"].bytecode


def test_force_recompiles(build: Build, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert compile_shared(tmp_path_factory, "fixtures").cached
    assert not compile_shared(tmp_path_factory, "fixtures", force=True).cached


def test_build_info_is_hardhat_format(build: Build) -> None:
    import json

    info = json.loads(build.first.build_info.read_text())
    assert info["_format"] == "hh-sol-build-info-1"
    assert info["solcLongVersion"].startswith("0.8.28+commit.")
    assert set(info["input"]["sources"]) == set(info["output"]["sources"])
    assert all("content" in s for s in info["input"]["sources"].values())


def test_compile_error_names_file_line_and_solc_message(project: Path, tmp_path: Path) -> None:
    source = project / "Counter.sol"
    lines = source.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if "_count += 1;" in line)
    lines[target] = lines[target].replace("_count += 1;", "_count += undefinedThing;")
    source.write_text("\n".join(lines) + "\n")
    with pytest.raises(CompileError) as info:
        compile_in(project, tmp_path)
    err = info.value
    assert any(loc.endswith(f"Counter.sol:{target + 1}") for loc in err.locations)
    assert "Undeclared identifier" in str(err)
    assert f"Counter.sol:{target + 1}" in str(err)
