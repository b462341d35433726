"""Compile ``contracts/`` with solc (py-solc-x over our solcjs shim), cached by source hash.

Flow: collect our sources and, following their imports, every OpenZeppelin file they use →
one self-contained standard-JSON input → its sha256 is the cache key → solc (only on a miss) →
artifacts (ABI + bytecode per contract) and a hardhat-format build-info file that Slither reads.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from .artifacts import Artifact, write_artifacts

__all__ = ["CompileResult", "check_artifacts", "collect_sources", "compile_contracts", "compile_project",
           "write_artifacts"]  # fmt: skip
from .errors import CompileError
from .files import write_text_atomic
from .toolchain import REPO_ROOT, SOLC_VERSION, node_modules, solc_binary

CONTRACTS_DIR = REPO_ROOT / "contracts"
BUILD_DIR = REPO_ROOT / ".build"
BUILD_INFO_DIR = REPO_ROOT / "artifacts" / "build-info"

SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.bytecode.sourceMap",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.sourceMap",
                "evm.methodIdentifiers",
                "userdoc",
                "devdoc",
            ],
            "": ["ast"],
        }
    },
}
"""Compiler settings; part of the cache key. ``cancun`` runs on every current chain and on py-evm."""

_IMPORT = re.compile(r"""^\s*import\s+(?:[^;]*?\bfrom\s+)?["']([^"']+)["']""", re.MULTILINE)


@dataclass(frozen=True)
class CompileResult:
    artifacts: dict[str, Artifact] = field(repr=False)
    cached: bool
    input_hash: str
    build_info: Path


def _unit_name(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def _resolve(import_path: str, importer: str) -> str:
    """The source unit name an import refers to (solc's rules: ./ and ../ are relative)."""
    if import_path.startswith("."):
        joined = PurePosixPath(importer).parent / import_path
        parts: list[str] = []
        for part in joined.parts:
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        return "/".join(parts)
    return import_path


def _read_unit(unit: str, root: Path) -> str:
    for base in (root, node_modules()):
        candidate = base / unit
        if candidate.is_file():
            return candidate.read_text()
    raise CompileError([f"source {unit!r} not found under {root} or node_modules"], [""])


def collect_sources(source_dir: Path, root: Path = REPO_ROOT) -> dict[str, str]:
    """Every source unit the contracts in ``source_dir`` need, by unit name, with its text."""
    pending = [
        _unit_name(p, root)
        for p in sorted(source_dir.rglob("*.sol"))
        if ".cache" not in p.relative_to(source_dir).parts  # ape's copy of dependencies
    ]
    if not pending:
        raise CompileError([f"no .sol files under {source_dir}"], [""])
    sources: dict[str, str] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        text = _read_unit(unit, root)
        sources[unit] = text
        pending.extend(_resolve(imp, unit) for imp in _IMPORT.findall(text))
    return dict(sorted(sources.items()))


def standard_json_input(sources: dict[str, str]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": SETTINGS,
    }


def _input_hash(std_input: dict[str, Any]) -> str:
    blob = json.dumps({"solc": SOLC_VERSION, "input": std_input}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def _run_solc(std_input: dict[str, Any]) -> dict[str, Any]:
    import solcx
    from solcx.exceptions import SolcError

    try:
        output: dict[str, Any] = solcx.compile_standard(
            std_input, solc_binary=solc_binary(), allow_empty=True
        )
    except SolcError as exc:
        # py-solc-x raises on any "error" severity; its message holds solc's output text.
        if exc.stdout_data:
            output = json.loads(exc.stdout_data)
        else:
            output = {"errors": [{"severity": "error", "formattedMessage": str(exc)}]}
    return output


def _raise_on_errors(output: dict[str, Any], sources: dict[str, str]) -> None:
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if not errors:
        return
    messages, locations = [], []
    for err in errors:
        messages.append(err.get("formattedMessage") or err.get("message", "unknown error"))
        loc = err.get("sourceLocation") or {}
        unit = loc.get("file", "")
        if unit and unit in sources and loc.get("start", -1) >= 0:
            line = sources[unit].encode()[: loc["start"]].count(b"\n") + 1
            locations.append(f"{unit}:{line}")
        else:
            locations.append(unit)
    raise CompileError(messages, locations)


def _artifacts_from(
    output: dict[str, Any], source_dir: Path, root: Path, long_version: str
) -> dict[str, Artifact]:
    ours = _unit_name(source_dir, root) + "/"
    artifacts: dict[str, Artifact] = {}
    for unit, contracts in output.get("contracts", {}).items():
        if not unit.startswith(ours):
            continue
        for name, data in contracts.items():
            bytecode = data["evm"]["bytecode"]["object"]
            if not bytecode:
                continue  # interfaces and abstract contracts cannot be deployed
            artifacts[name] = Artifact(
                name=name,
                source=unit,
                abi=data["abi"],
                bytecode="0x" + bytecode,
                deployed_bytecode="0x" + data["evm"]["deployedBytecode"]["object"],
                compiler=long_version,
            )
    return artifacts


def _long_version() -> str:
    return _version_of(str(solc_binary()))


@cache
def _version_of(binary: str) -> str:
    """solc's long version: asked once per binary and process (each ask starts Node, ~1 s)."""
    import solcx

    return str(solcx.wrapper.get_version_str_from_solc_binary(Path(binary)))


def compile_project(
    source_dir: Path = CONTRACTS_DIR,
    *,
    force: bool = False,
    build_dir: Path = BUILD_DIR,
    build_info_dir: Path = BUILD_INFO_DIR,
    root: Path = REPO_ROOT,
) -> CompileResult:
    """Compile every contract under ``source_dir``; solc runs only when a source changed.

    Raises :class:`CompileError` (with solc's message and ``file:line``) when solc rejects a source.
    """
    sources = collect_sources(source_dir, root)
    std_input = standard_json_input(sources)
    key = _input_hash(std_input)
    cache_file = build_dir / "compile-cache" / f"{key}.json"
    cached = cache_file.is_file() and not force
    if cached:
        entry = json.loads(cache_file.read_text())
        output, long_version = entry["output"], entry["solcLongVersion"]
    else:
        long_version = _long_version()
        output = _run_solc(std_input)
        _raise_on_errors(output, sources)
        write_text_atomic(cache_file, json.dumps({"solcLongVersion": long_version, "output": output}))
    build_info = _write_build_info(build_info_dir, key, long_version, std_input, output)
    return CompileResult(
        artifacts=_artifacts_from(output, source_dir, root, long_version),
        cached=cached,
        input_hash=key,
        build_info=build_info,
    )


def _write_build_info(
    directory: Path, key: str, long_version: str, std_input: dict[str, Any], output: dict[str, Any]
) -> Path:
    """Hardhat's build-info layout, which Slither (crytic-compile) reads without compiling."""
    path = directory / f"{key[:32]}.json"
    if path.is_file():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.json"):
        old.unlink(missing_ok=True)  # another process may be replacing it at the same moment
    info = {
        "_format": "hh-sol-build-info-1",
        "id": key[:32],
        "solcVersion": SOLC_VERSION,
        "solcLongVersion": long_version,
        "input": std_input,
        "output": output,
    }
    return write_text_atomic(path, json.dumps(info))


def compile_contracts(source_dir: Path | None = None, *, force: bool = False) -> dict[str, Artifact]:
    """Compile ``contracts/`` (or ``source_dir``) and return its artifacts by contract name.

    For the project's own ``contracts/`` the artifacts are also written into the package
    (``loyalty_chain/artifacts/``), which is what deploys use.
    """
    own = source_dir is None or source_dir.resolve() == CONTRACTS_DIR.resolve()
    if own:
        result = compile_project(CONTRACTS_DIR, force=force)
        write_artifacts(result.artifacts)
    else:
        assert source_dir is not None
        result = compile_project(
            source_dir, force=force, build_info_dir=BUILD_DIR / "build-info" / source_dir.name
        )
    return result.artifacts


def check_artifacts(directory: Path | None = None) -> list[str]:
    """Rebuild ``contracts/`` from scratch (no cache) and list how the shipped artifacts differ.

    The fresh build replaces the cache entry and build-info of these sources, so the next
    ``compile`` (Slither's, the tests') reuses it instead of running solc a second time.
    """
    from .artifacts import ARTIFACTS_DIR, Artifact

    shipped_dir = directory or ARTIFACTS_DIR
    fresh = compile_project(force=True).artifacts
    shipped = {p.stem: Artifact.from_json(json.loads(p.read_text())) for p in shipped_dir.glob("*.json")}
    differences = [f"{name} is not shipped" for name in sorted(set(fresh) - set(shipped))]
    differences += [f"{name} is shipped but no longer built" for name in sorted(set(shipped) - set(fresh))]
    for name in sorted(set(fresh) & set(shipped)):
        if fresh[name].to_json() != shipped[name].to_json():
            differences.append(f"{name} differs")
    return differences
