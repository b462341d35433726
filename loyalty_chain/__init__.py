"""loyalty_chain: tokenized loyalty programs on Ethereum-compatible chains.

The names in ``__all__`` are the public API; every other module may move. Importing the package
does no work and imports nothing heavy: each name is loaded from its module on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .accounts import resolve_account, unlock
    from .airdrop import AirdropOptions, AirdropReport, airdrop_cards, airdrop_points
    from .analytics import ProgramSummary, summarize
    from .artifacts import Artifact, load_artifact
    from .campaigns.merkle import StandardMerkleTree
    from .chain import Chain, connect, embedded_chain, launch_devnet, start_devnet
    from .client import LoyaltyClient
    from .decoding import Event
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
        PartialBatchError,
        RelayRefusedError,
        RpcUnavailableError,
        SetupError,
        StaleProgramError,
        TransactionError,
        UnknownProgramError,
        WrongChainError,
    )
    from .gasless import parse_request, redemption_typed_data, sign_typed_data
    from .program import ProgramOptions, ProgramRecord, TransferPolicy, deploy_program, load_program
    from .recipients import read_cards_csv, read_points_csv
    from .records import Card, Enrolment, Perk, PerkSpec, Redemption
    from .relay_policy import RelayPolicy
    from .sender import TxResult
    from .signers import as_signer

_EXPORTS = {
    "AirdropOptions": "airdrop",
    "AirdropReport": "airdrop",
    "airdrop_cards": "airdrop",
    "airdrop_points": "airdrop",
    "resolve_account": "accounts",
    "unlock": "accounts",
    "ProgramSummary": "analytics",
    "summarize": "analytics",
    "Artifact": "artifacts",
    "load_artifact": "artifacts",
    "Chain": "chain",
    "connect": "chain",
    "embedded_chain": "chain",
    "launch_devnet": "chain",
    "start_devnet": "chain",
    "Card": "records",
    "Enrolment": "records",
    "LoyaltyClient": "client",
    "Perk": "records",
    "PerkSpec": "records",
    "Redemption": "records",
    "deploy_contract": "deploy",
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
    "PartialBatchError": "errors",
    "RelayRefusedError": "errors",
    "RelayPolicy": "relay_policy",
    "RpcUnavailableError": "errors",
    "SetupError": "errors",
    "TransactionError": "errors",
    "UnknownProgramError": "errors",
    "WrongChainError": "errors",
    "parse_request": "gasless",
    "redemption_typed_data": "gasless",
    "sign_typed_data": "gasless",
    "StandardMerkleTree": "campaigns.merkle",
    "ProgramOptions": "program",
    "ProgramRecord": "program",
    "TransferPolicy": "program",
    "deploy_program": "program",
    "load_program": "program",
    "read_cards_csv": "recipients",
    "read_points_csv": "recipients",
    "Event": "decoding",
    "TxResult": "sender",
    "as_signer": "signers",
    "StaleProgramError": "errors",
}

__all__ = [
    "AccountError",
    "AirdropOptions",
    "AirdropReport",
    "Artifact",
    "Card",
    "Chain",
    "ChainError",
    "CompileError",
    "ContractRevertError",
    "CsvValidationError",
    "DeploymentError",
    "DevKeyRefusedError",
    "Enrolment",
    "Event",
    "InputError",
    "JournalMismatchError",
    "LoyaltyChainError",
    "LoyaltyClient",
    "MerkleError",
    "PartialBatchError",
    "Perk",
    "PerkSpec",
    "ProgramOptions",
    "ProgramRecord",
    "ProgramSummary",
    "Redemption",
    "RelayPolicy",
    "RelayRefusedError",
    "RpcUnavailableError",
    "SetupError",
    "StaleProgramError",
    "StandardMerkleTree",
    "TransactionError",
    "TransferPolicy",
    "TxResult",
    "UnknownProgramError",
    "WrongChainError",
    "airdrop_cards",
    "airdrop_points",
    "as_signer",
    "connect",
    "deploy_contract",
    "deploy_program",
    "embedded_chain",
    "launch_devnet",
    "load_artifact",
    "load_program",
    "parse_request",
    "read_cards_csv",
    "read_points_csv",
    "redemption_typed_data",
    "resolve_account",
    "sign_typed_data",
    "start_devnet",
    "summarize",
    "unlock",
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
