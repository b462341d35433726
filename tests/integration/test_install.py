"""It installs into someone else's project: a built wheel, a fresh venv outside the repo, a program.

Slow (a venv and a pip install of web3 and friends): marked ``slow``, so it starts first and runs
beside the rest of the suite under xdist. pip resolves the dependency *ranges* of pyproject.toml
here, not requirements.lock: what a user's project would get.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loyalty_chain.toolchain import REPO_ROOT, anvil_binary

TIMEOUT_S = 900

SCRIPT = """
import importlib.metadata as metadata
import sys

import loyalty_chain
from loyalty_chain import LoyaltyClient, ProgramOptions, deploy_program, load_program, start_devnet

assert "site-packages" in loyalty_chain.__file__ and {checkout!r} not in loyalty_chain.__file__
runtime = [r for r in metadata.requires("loyalty-chain") if "extra ==" not in r]
assert runtime and not [r for r in runtime if "==" in r], runtime  # ranges, not pins

with start_devnet() as chain:  # anvil from PATH: no checkout, no Makefile here
    options = ProgramOptions("bean-there", display_name="Bean There")
    record = deploy_program(chain, options, chain.dev_account(0))
    brand = LoyaltyClient(chain, load_program(chain, "bean-there"), chain.dev_account(0))
    brand.enroll(chain.dev_account(1).address)
    brand.issue(chain.dev_account(1).address, 42, "welcome")
    print("balance", brand.balance(chain.dev_account(1).address), "record", record.path)
"""


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S, **kwargs)  # type: ignore[call-overload]
    assert out.returncode == 0, f"{args}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out  # type: ignore[no-any-return]


@pytest.mark.slow
def test_a_built_wheel_runs_a_program_in_a_fresh_venv_outside_the_repo(tmp_path: Path) -> None:
    source = tmp_path / "source"  # only what the wheel is built from: nothing written in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(
        REPO_ROOT / "loyalty_chain", source / "loyalty_chain", ignore=shutil.ignore_patterns("__pycache__")
    )
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(source)])
    (wheel,) = dist.glob("loyalty_chain-*.whl")

    venv = tmp_path / "venv"
    # the venv without a pip of its own (ensurepip alone costs ~7 s of CPU); this venv's pip installs
    # into it (pip --python). --no-compile: byte-compiling every dependency costs CPU the suite
    # shares; imports compile what they use.
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    target = ["--python", str(venv / "bin" / "python")]
    run([sys.executable, "-m", "pip", *target, "install", "--quiet", "--no-compile", str(wheel)])

    project = tmp_path / "their-project"
    project.mkdir()
    (project / "main.py").write_text(SCRIPT.format(checkout=str(REPO_ROOT)))
    anvil_dir = str(Path(anvil_binary()).parent)
    env = {
        "PATH": os.pathsep.join([str(venv / "bin"), anvil_dir, "/usr/bin", "/bin"]),
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
    }
    out = run([str(venv / "bin" / "python"), "main.py"], cwd=project, env=env)
    assert "balance 42" in out.stdout
    assert (project / "deployments" / "31337" / "bean-there.json").is_file()
    help_text = run([str(venv / "bin" / "loyalty-chain"), "--help"], cwd=project, env=env).stdout
    assert "deploy" in help_text and "member" in help_text
