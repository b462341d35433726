"""The public surface changes only on purpose, and importing it costs nothing."""

from __future__ import annotations

import subprocess
import sys

import loyalty_chain

EXPECTED = {
    "AccountError", "Artifact", "Card", "Chain", "ChainError", "CompileError", "ContractRevertError",
    "CsvValidationError", "DeploymentError", "DevKeyRefusedError", "Enrolment", "Event", "InputError",
    "JournalMismatchError", "LoyaltyChainError", "LoyaltyClient", "MerkleError", "PartialBatchError", "Perk",
    "PerkSpec", "ProgramOptions", "ProgramRecord", "ProgramSummary", "Redemption", "RpcUnavailableError",
    "RelayPolicy", "RelayRefusedError",
    "SetupError", "StaleProgramError", "StandardMerkleTree", "TransactionError", "TransferPolicy", "TxResult",
    "UnknownProgramError",
    "WrongChainError", "as_signer", "connect", "deploy_contract", "deploy_program", "embedded_chain",
    "launch_devnet",
    "load_artifact", "load_program", "parse_request", "read_cards_csv", "read_points_csv",
    "redemption_typed_data", "resolve_account", "sign_typed_data", "start_devnet", "summarize", "unlock",
}  # fmt: skip


def test_all_is_pinned() -> None:
    assert set(loyalty_chain.__all__) >= EXPECTED
    assert set(loyalty_chain.__all__) - EXPECTED == {
        "AirdropOptions",
        "AirdropReport",
        "airdrop_cards",
        "airdrop_points",
    }


def test_every_exported_name_resolves() -> None:
    for name in loyalty_chain.__all__:
        assert getattr(loyalty_chain, name) is not None, name


def test_errors_share_one_root() -> None:
    for name in loyalty_chain.__all__:
        value = getattr(loyalty_chain, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, loyalty_chain.LoyaltyChainError), name
    assert issubclass(loyalty_chain.InputError, ValueError)


def test_import_has_no_side_effects_and_pulls_in_nothing_heavy() -> None:
    code = (
        "import sys, loyalty_chain, loyalty_chain.cli\n"
        "heavy = [m for m in ('web3', 'ape', 'solcx', 'eth_tester', 'eth_account') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
