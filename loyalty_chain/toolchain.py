"""Where the outside tools live: node, the solc shim, anvil, OpenZeppelin's sources.

This machine has no native solc. The npm ``solc`` package (solcjs) sits behind a small Node CLI
of ours (``toolchain/solc-cli.js``) that answers ``--version`` and ``--standard-json`` like native
solc. ``install_solc_shim`` registers it in py-solc-x's install folder as ``solc-v<version>`` so
that py-solc-x and ape-solidity both find it; the shim runs its own copy of the CLI and of solcjs
(a bundle beside it), so it never depends on the checkout that installed it. anvil is found in a
node_modules, on PATH or where ``$LOYALTY_CHAIN_ANVIL`` says. Nothing here runs at import time.

Run ``python -m loyalty_chain.toolchain`` to (re)register the shim and link anvil into the venv.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
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
    """Path of the registered shim, registering it first if it is missing or points at nothing."""
    target = solcx_install_folder() / f"solc-v{SOLC_VERSION}"
    if not target.exists() or not _shim_is_whole(target):
        install_solc_shim()
    return target


SHIM_HEADER = "#!/bin/sh\n# solcjs behind a native-solc CLI; written by loyalty_chain.toolchain\n"


def _shim_is_whole(target: Path) -> bool:
    """The shim runs a script inside its own bundle, and that script is there (no checkout needed)."""
    match = re.search(r'exec "[^"]+" "([^"]+)"', target.read_text(errors="replace"))
    if match is None:
        return False
    script = match.group(1)
    return BUNDLE_PREFIX in script and Path(script).is_file()


BUNDLE_PREFIX = f"loyalty-chain-solcjs-{SOLC_VERSION}-"
"""Bundles live beside the shim in py-solc-x's folder, one per content digest."""


def _package_dir(name: str, importer: Path, modules: Path) -> Path | None:
    """Where Node would find package ``name`` required from ``importer`` (nested first)."""
    for base in (importer / "node_modules", modules):
        candidate = base / name
        if (candidate / "package.json").is_file():
            return candidate
    return None


def _runtime_packages(modules: Path) -> list[Path]:
    """The npm ``solc`` package and every package it needs at run time, from ``modules``.

    Packages nested in another package's own node_modules travel with it; the rest are listed.
    """
    solc = modules / "solc"
    if not (solc / "package.json").is_file():
        raise SetupError(f"the npm package solc is not installed in {modules}; run `make setup` (npm ci)")
    found: dict[str, Path] = {"solc": solc}
    queue = [solc]
    while queue:
        package = queue.pop()
        deps = json.loads((package / "package.json").read_text()).get("dependencies", {})
        for name in deps:
            where = _package_dir(name, package, modules)
            if where is None:
                raise SetupError(
                    f"{name} (needed by {package.name}) is missing from {modules}; run `make setup`"
                )
            if where.parent == modules and name not in found:
                found[name] = where
                queue.append(where)
    return sorted(found.values())


def _bundle_digest(script: Path, packages: list[Path]) -> str:
    digest = hashlib.sha256(script.read_bytes())
    for package in packages:
        digest.update(package.name.encode() + (package / "package.json").read_bytes())
    return digest.hexdigest()[:16]


def _install_bundle(folder: Path, modules: Path, script: Path) -> Path:
    """Copy the Node CLI and solcjs with its dependencies into ``folder`` (once per content).

    The copy is made under a temporary name and renamed into place, so concurrent set-ups
    (several checkouts, parallel tests) never see half a bundle.
    """
    packages = _runtime_packages(modules)
    bundle = folder / f"{BUNDLE_PREFIX}{_bundle_digest(script, packages)}"
    if (bundle / "solc-cli.js").is_file():
        return bundle
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{bundle.name}.", dir=folder))
    try:
        for package in packages:
            shutil.copytree(package, staging / "node_modules" / package.name, symlinks=True)
        shutil.copy2(script, staging / "solc-cli.js")  # last: its presence marks a whole bundle
        try:
            staging.rename(bundle)
        except OSError:
            if not (bundle / "solc-cli.js").is_file():  # not a concurrent set-up that won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return bundle


def install_solc_shim(
    folder: Path | None = None, *, modules: Path | None = None, script: Path | None = None
) -> Path:
    """Write ``solc-v<SOLC_VERSION>`` into py-solc-x's install folder, self-contained.

    The shim runs a copy of our Node CLI and of solcjs kept beside it (a bundle per content
    digest), never a file inside a checkout: deleting or moving the checkout that set it up
    leaves every other project's ``ape compile`` working.
    """
    target_folder = folder or solcx_install_folder()
    bundle = _install_bundle(target_folder, modules or node_modules(), script or solc_cli_script())
    target = target_folder / f"solc-v{SOLC_VERSION}"
    text = SHIM_HEADER + f'exec "{node_binary()}" "{bundle / "solc-cli.js"}" "$@"\n'
    fd, tmp = tempfile.mkstemp(dir=target_folder, prefix=f".{target.name}.")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, target)
    return target


ANVIL_HELP = (
    "install it in your project with `npm install @foundry-rs/anvil`, or Foundry's `foundryup`, and "
    "put it on PATH, or set LOYALTY_CHAIN_ANVIL=/path/to/anvil (in a loyalty_chain checkout, "
    "`make setup` installs it)"
)


def anvil_candidates() -> list[tuple[str, Path | None]]:
    """Where anvil is looked for, in order: (what, path or None when that place has none)."""
    places: list[tuple[str, Path | None]] = []
    for label, root in (("this checkout", REPO_ROOT), ("this project", Path.cwd())):
        found = sorted((root / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil"))
        places.append((f"{label}'s node_modules ({root / 'node_modules'})", found[0] if found else None))
    on_path = shutil.which("anvil")
    places.append(("PATH", Path(on_path) if on_path else None))
    places.append(("Foundry's default folder (~/.foundry/bin)", Path.home() / ".foundry" / "bin" / "anvil"))
    return places


def anvil_binary() -> str:
    """The anvil executable: $LOYALTY_CHAIN_ANVIL, a node_modules (this checkout's, then the
    current project's), PATH, then ~/.foundry/bin. Raises SetupError saying where it looked."""
    explicit = os.environ.get("LOYALTY_CHAIN_ANVIL")
    if explicit:
        if os.access(explicit, os.X_OK) and Path(explicit).is_file():
            return explicit
        raise SetupError(f"LOYALTY_CHAIN_ANVIL={explicit} is not an executable file; point it at anvil")
    looked = []
    for label, candidate in anvil_candidates():
        if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        looked.append(label)
    raise SetupError(f"anvil (Foundry's local node) was not found in {', '.join(looked)}; {ANVIL_HELP}")


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
