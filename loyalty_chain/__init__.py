"""loyalty_chain: tokenized loyalty programs on Ethereum-compatible chains.

The names in ``__all__`` are the public API; every other module may move. Importing the package
does no work and imports nothing heavy: each name is loaded from its module on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .artifacts import Artifact, load_artifact
    from .chain import Chain, connect, embedded_chain, launch_devnet, start_devnet
    from .deploy import deploy_contract
    from .errors import (
        AccountError,
        ChainError,
        CompileError,
        ContractRevertError,
        CsvValidationError,
        DeploymentError,
        DevKeyRefusedError,
        InputError,
        JournalMismatchError,
        LoyaltyChainError,
        MerkleError,
        RpcUnavailableError,
        SetupError,
        TransactionError,
        UnknownProgramError,
        WrongChainError,
    )

_EXPORTS = {
    # chains
    "Chain": "chain",
    "connect": "chain",
    "embedded_chain": "chain",
    "launch_devnet": "chain",
    "start_devnet": "chain",
    # contracts
    "Artifact": "artifacts",
    "load_artifact": "artifacts",
    "deploy_contract": "deploy",
    # errors
    "AccountError": "errors",
    "ChainError": "errors",
    "CompileError": "errors",
    "ContractRevertError": "errors",
    "CsvValidationError": "errors",
    "DeploymentError": "errors",
    "DevKeyRefusedError": "errors",
    "InputError": "errors",
    "JournalMismatchError": "errors",
    "LoyaltyChainError": "errors",
    "MerkleError": "errors",
    "RpcUnavailableError": "errors",
    "SetupError": "errors",
    "TransactionError": "errors",
    "UnknownProgramError": "errors",
    "WrongChainError": "errors",
}

__all__ = [
    "AccountError",
    "Artifact",
    "Chain",
    "ChainError",
    "CompileError",
    "ContractRevertError",
    "CsvValidationError",
    "DeploymentError",
    "DevKeyRefusedError",
    "InputError",
    "JournalMismatchError",
    "LoyaltyChainError",
    "MerkleError",
    "RpcUnavailableError",
    "SetupError",
    "TransactionError",
    "UnknownProgramError",
    "WrongChainError",
    "connect",
    "deploy_contract",
    "embedded_chain",
    "launch_devnet",
    "load_artifact",
    "start_devnet",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'loyalty_chain' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
