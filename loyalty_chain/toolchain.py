"""Where the outside tools live: node, the solc shim, anvil, OpenZeppelin's sources.

This machine has no native solc. The npm ``solc`` package (solcjs) sits behind a small Node CLI
of ours (``toolchain/solc-cli.js``) that answers ``--version`` and ``--standard-json`` like native
solc. ``install_solc_shim`` registers it in py-solc-x's install folder as ``solc-v<version>`` so
that py-solc-x and ape-solidity both find it. Nothing here runs at import time.

Run ``python -m loyalty_chain.toolchain`` to (re)register the shim and link anvil into the venv.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

from .errors import SetupError

SOLC_VERSION = "0.8.28"
"""The one compiler version the project uses (pinned in package.json too)."""

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout this package was installed from (editable install)."""


def node_modules() -> Path:
    """The npm install folder holding solc, OpenZeppelin and anvil."""
    path = Path(os.environ.get("LOYALTY_CHAIN_NODE_MODULES", REPO_ROOT / "node_modules"))
    if not path.is_dir():
        raise SetupError(f"npm packages are not installed at {path}; run `make setup` (it runs npm ci)")
    return path


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise SetupError("node is not on PATH; install Node.js 20 (the solc shim runs on it)")
    return node


def solc_cli_script() -> Path:
    return REPO_ROOT / "toolchain" / "solc-cli.js"


def solcx_install_folder() -> Path:
    import solcx

    return Path(solcx.get_solcx_install_folder())


def solc_binary() -> Path:
    """Path of the registered shim, registering it first if needed."""
    target = solcx_install_folder() / f"solc-v{SOLC_VERSION}"
    if not target.exists() or _shim_text() not in target.read_text(errors="replace"):
        install_solc_shim()
    return target


def _shim_text() -> str:
    return f'exec "{node_binary()}" "{solc_cli_script()}" "$@"\n'


def install_solc_shim() -> Path:
    """Write ``solc-v<SOLC_VERSION>`` into py-solc-x's install folder, pointing at our Node CLI."""
    node_modules()  # fail early with the set-up hint when npm packages are missing
    folder = solcx_install_folder()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"solc-v{SOLC_VERSION}"
    header = "#!/bin/sh\n# solcjs behind a native-solc CLI; written by loyalty_chain.toolchain\n"
    target.write_text(header + _shim_text())
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def anvil_binary() -> str:
    """The anvil executable: $LOYALTY_CHAIN_ANVIL, the npm package's native binary, or PATH."""
    explicit = os.environ.get("LOYALTY_CHAIN_ANVIL")
    if explicit:
        return explicit
    for candidate in sorted((REPO_ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("anvil")
    if found:
        return found
    raise SetupError("anvil is not installed; run `make setup` (npm installs @foundry-rs/anvil)")


def link_anvil_into_venv() -> Path | None:
    """Put ``anvil`` on the venv's PATH so that ape-foundry finds it too."""
    source = anvil_binary()
    target = Path(sys.prefix) / "bin" / "anvil"
    if sys.prefix == sys.base_prefix:
        return None  # not in a venv: leave the system alone
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(source)
    return target


def main() -> int:
    shim = install_solc_shim()
    print(f"solc shim: {shim}")
    linked = link_anvil_into_venv()
    if linked:
        print(f"anvil: {linked}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
