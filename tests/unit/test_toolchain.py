"""The solc shim outlives the checkout that installed it; anvil is found outside this repository."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from loyalty_chain import toolchain
from loyalty_chain.errors import SetupError
from loyalty_chain.toolchain import REPO_ROOT, SOLC_VERSION, install_solc_shim, node_modules

SOURCE = "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract Tiny { uint256 public x = 7; }\n"


def fake_checkout(root: Path) -> Path:
    """A copy of what a checkout holds for the shim: toolchain/solc-cli.js and node_modules."""
    modules = node_modules()
    (root / "toolchain").mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "toolchain" / "solc-cli.js", root / "toolchain" / "solc-cli.js")
    for package in toolchain._runtime_packages(modules):
        shutil.copytree(package, root / "node_modules" / package.name, symlinks=True)
    return root


def test_the_shim_keeps_working_after_its_checkout_is_deleted(tmp_path: Path) -> None:
    checkout = fake_checkout(tmp_path / "checkout")
    solcx_folder = tmp_path / "solcx"
    shim = install_solc_shim(
        solcx_folder, modules=checkout / "node_modules", script=checkout / "toolchain" / "solc-cli.js"
    )
    shutil.rmtree(checkout)  # the checkout that ran set-up is gone

    assert shim == solcx_folder / f"solc-v{SOLC_VERSION}"
    assert str(checkout) not in shim.read_text() and str(REPO_ROOT) not in shim.read_text()
    assert shim.stat().st_mode & stat.S_IXUSR
    version = subprocess.run(
        [str(shim), "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert f"Version: {SOLC_VERSION}+commit." in version.stdout, version.stderr
    request = {
        "language": "Solidity",
        "sources": {"Tiny.sol": {"content": SOURCE}},
        "settings": {"outputSelection": {"*": {"*": ["evm.bytecode.object"]}}},
    }
    compiled = subprocess.run(
        [str(shim), "--standard-json"], input=json.dumps(request), capture_output=True, text=True, timeout=300
    )
    assert json.loads(compiled.stdout)["contracts"]["Tiny.sol"]["Tiny"]["evm"]["bytecode"]["object"]

    # --version is asked at every start of py-solc-x and ape: after the first, it is answered without
    # loading solcjs (~0.7 s of CPU each), the same answer even with the compiler itself gone
    (soljson,) = shim.parent.glob("loyalty-chain-solcjs-*/node_modules/solc/soljson.js")
    soljson.rename(soljson.with_suffix(".gone"))
    again = subprocess.run([str(shim), "--version"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stdout == version.stdout, again.stderr


def test_a_second_install_reuses_the_bundle(tmp_path: Path) -> None:
    first = install_solc_shim(tmp_path)
    bundles = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(toolchain.BUNDLE_PREFIX))
    second = install_solc_shim(tmp_path)
    assert first == second and len(bundles) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        bundles[0],
        f"solc-v{SOLC_VERSION}",
    ]


def test_a_shim_pointing_into_a_checkout_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchain, "solcx_install_folder", lambda: tmp_path)
    old = tmp_path / f"solc-v{SOLC_VERSION}"
    old.write_text('#!/bin/sh\nexec "/usr/bin/node" "/gone/checkout/toolchain/solc-cli.js" "$@"\n')
    assert toolchain.solc_binary() == old
    assert toolchain.BUNDLE_PREFIX in old.read_text()


def test_anvil_on_path_is_used_outside_a_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    anvil = bin_dir / "anvil"
    anvil.write_text("#!/bin/sh\n")
    anvil.chmod(0o755)
    monkeypatch.delenv("LOYALTY_CHAIN_ANVIL", raising=False)
    monkeypatch.setattr(toolchain, "REPO_ROOT", tmp_path / "site-packages")  # an installed package
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    assert toolchain.anvil_binary() == str(anvil)


def test_no_anvil_anywhere_says_where_it_looked_and_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOYALTY_CHAIN_ANVIL", raising=False)
    monkeypatch.setattr(toolchain, "REPO_ROOT", tmp_path / "site-packages")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SetupError) as caught:
        toolchain.anvil_binary()
    message = str(caught.value)
    assert "PATH" in message and "npm install @foundry-rs/anvil" in message
    assert "LOYALTY_CHAIN_ANVIL" in message and "foundryup" in message


def test_a_configured_anvil_that_is_not_there_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOYALTY_CHAIN_ANVIL", "/nowhere/anvil")
    with pytest.raises(SetupError, match="LOYALTY_CHAIN_ANVIL=/nowhere/anvil"):
        toolchain.anvil_binary()
