"""Contracts the tests compile, compiled once per run however many workers ask.

solcjs takes ~3 s of CPU for the smallest contract with an OpenZeppelin import, and a module-scoped
fixture compiles again in every xdist worker that runs one of the module's tests (up to four times).
:func:`compile_shared` builds into one folder per run, under a lock: the first worker compiles,
the others find the build in ``compile_project``'s cache (keyed by the sources' hash).
"""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from loyalty_chain.compile import CompileResult, compile_project
from loyalty_chain.toolchain import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "contracts"
"""Counter.sol, which imports OpenZeppelin's AccessControl."""


def run_folder(factory: pytest.TempPathFactory) -> Path:
    """A folder every worker of this run shares (xdist gives each worker its own base temp dir,
    inside the run's); without xdist, the run's own base temp dir."""
    base = factory.getbasetemp()
    return base.parent if base.name.startswith("popen-gw") else base


def compile_shared(
    factory: pytest.TempPathFactory, name: str, *, sources: dict[str, str] | None = None, force: bool = False
) -> CompileResult:
    """The fixture contracts (or ``sources``, file name to text) compiled once per run into the
    run's ``name`` build folder.

    ``sources`` are written under the git-ignored ``.build/test-sources/<name>``, where their imports
    resolve against the repo root, at the same paths for every worker and run (a build's cache key
    includes them). ``force``: compile even if the build is there (it replaces it).
    """
    out = run_folder(factory) / f"compiled-{name}"
    out.mkdir(exist_ok=True)
    with (out / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        source_dir = FIXTURES
        if sources is not None:
            source_dir = REPO_ROOT / ".build" / "test-sources" / name
            source_dir.mkdir(parents=True, exist_ok=True)
            for file_name, text in sources.items():
                path = source_dir / file_name
                if not path.is_file() or path.read_text() != text:
                    path.write_text(text)  # under the lock: no worker reads it half written
        return compile_project(source_dir, build_dir=out / "build", build_info_dir=out / "bi", force=force)
