"""Deployment records are tied to the chain instance they were made on, and never lie about it.

Every fresh anvil is chain id 31337 and gives the same addresses, so a record left by a devnet
that is gone must not describe a new, unrelated program at those addresses.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from loyalty_chain.airdrop import airdrop_points, plan_airdrop
from loyalty_chain.chain import Chain, launch_devnet
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import DeploymentError, StaleProgramError, UnknownProgramError
from loyalty_chain.program import ProgramOptions, deploy_program, live_programs, load_program


def test_a_record_from_a_devnet_that_is_gone_is_stale_not_another_programs(tmp_path: Path) -> None:
    with launch_devnet() as gone:
        old = deploy_program(gone, ProgramOptions("bean-there"), gone.dev_account(0), root=tmp_path)
    # A fresh devnet (not this worker's session one, whose dev accounts other tests have used):
    # same deployer, same nonces, so its program sits at the very same addresses.
    with launch_devnet() as chain:
        new = deploy_program(chain, ProgramOptions("other"), chain.dev_account(0), root=tmp_path)
        assert new.addresses == old.addresses

        with pytest.raises(StaleProgramError, match=r"bean-there.*is stale: .*deploy it again"):
            load_program(chain, "bean-there", tmp_path)
        with pytest.raises(StaleProgramError):
            LoyaltyClient.load(chain, "bean-there", chain.dev_account(0), root=tmp_path)
        assert live_programs(chain, tmp_path) == (["other"], ["bean-there"])


def test_a_stale_name_can_be_deployed_again_and_the_old_record_is_kept_aside(
    chain: Chain, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with launch_devnet() as gone:
        deploy_program(gone, ProgramOptions("bean-there"), gone.dev_account(0), root=tmp_path)
    with caplog.at_level(logging.WARNING, logger="loyalty_chain"):
        again = deploy_program(chain, ProgramOptions("bean-there"), chain.dev_account(0), root=tmp_path)
    assert "was stale" in caplog.text and "moved it to" in caplog.text  # never replaced silently
    aside = [p.name for p in (tmp_path / "31337").glob("bean-there.stale-*.json")]
    assert len(aside) == 1
    assert load_program(chain, "bean-there", tmp_path) == again
    assert again.path == tmp_path / "31337" / "bean-there.json"


def test_a_live_program_keeps_its_name(chain: Chain, tmp_path: Path) -> None:
    deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path)
    with pytest.raises(DeploymentError, match=r"already exists .*cafe\.json"):
        deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path)


def test_a_reset_chain_makes_the_record_stale(chain: Chain, tmp_path: Path) -> None:
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path)
    chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    with pytest.raises(StaleProgramError, match="not on this chain"):
        load_program(chain, "cafe", tmp_path)


def test_an_old_record_without_a_fingerprint_is_checked_by_its_deployment(
    chain: Chain, tmp_path: Path
) -> None:
    record = deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path)
    data = json.loads(record.path.read_text())
    del data["genesis_hash"], data["block_hash"]
    record.path.write_text(json.dumps(data))
    assert load_program(chain, "cafe", tmp_path).addresses == record.addresses
    data["tx_hashes"]["LoyaltyPoints"] = "0x" + "ab" * 32
    record.path.write_text(json.dumps(data))
    with pytest.raises(StaleProgramError, match="deployment transaction 0xabababab"):
        load_program(chain, "cafe", tmp_path)


def test_loading_a_record_checks_it_in_two_round_trips(chain: Chain, tmp_path: Path) -> None:
    """Every command that names a program loads its record: 16 calls one after another (~1.6 s at
    100 ms a round trip on a real network), now two JSON-RPC batches."""
    deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path)
    before = chain.rpc_stats
    load_program(chain, "cafe", tmp_path)
    after = chain.rpc_stats
    assert after["http"] - before["http"] == 2
    assert (
        after["eth_getTransactionReceipt"] - before.get("eth_getTransactionReceipt", 0) == 5
    )  # 4 + the points'


def test_not_found_names_the_folder_and_what_is_there(chain: Chain, tmp_path: Path) -> None:
    deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path)
    with pytest.raises(UnknownProgramError) as caught:
        load_program(chain, "bean-there", tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "31337") in message
    assert "programs on this chain: cafe" in message
    assert "LOYALTY_CHAIN_DEPLOYMENTS" in message


def _drop(folder: Path, numbers: range) -> tuple[list[str], Path]:
    """Recipients 0x…<n> for ``numbers``, 7 points each, in ``folder/drop.csv``."""
    people = [f"0x{i:040x}" for i in numbers]
    csv = folder / "drop.csv"
    csv.write_text("address,amount\n" + "".join(f"{a},7\n" for a in people))
    return people, csv


def test_an_airdrop_journal_from_a_devnet_that_is_gone_is_set_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A journal records who was paid on one deployment; the same CSV rerun after the program was
    deployed again on a new devnet (same addresses, same chain id) pays everyone there."""
    people, csv = _drop(tmp_path, range(1, 6))
    with launch_devnet() as gone:
        old = deploy_program(gone, ProgramOptions("bean-there"), gone.dev_account(0), root=tmp_path)
        assert airdrop_points(gone, old, csv, gone.dev_account(0)).complete
    with launch_devnet() as chain:
        # two devnets started in the same second are the same chain block for block until they
        # differ: one more block first, as any use of the devnet in between would make
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        new = deploy_program(chain, ProgramOptions("bean-there"), chain.dev_account(0), root=tmp_path)
        assert new.addresses == old.addresses
        plan = plan_airdrop(chain, new, "points", csv, chain.dev_account(0))
        assert (plan.already_paid, plan.recipients) == (0, 5)  # the dry run reads no stale journal
        with caplog.at_level(logging.WARNING, logger="loyalty_chain"):
            report = airdrop_points(chain, new, csv, chain.dev_account(0))
        assert report.complete and report.count("sent") == 5
        client = LoyaltyClient(chain, new, chain.dev_account(0))
        assert [client.balance(a) for a in people] == [7] * 5
        assert "earlier deployment" in caplog.text
        assert len(list(tmp_path.glob("drop.journal.stale-*.sqlite"))) == 1  # kept, not deleted
        # the journal of this deployment is kept: a rerun pays nobody twice
        assert airdrop_points(chain, new, csv, chain.dev_account(0)).count("already paid") == 5


def test_a_journal_whose_deployment_is_on_this_chain_is_never_set_aside(chain: Chain, tmp_path: Path) -> None:
    """Set aside only when this node lacks the journal's deployment block: a record that merely
    differs from the journal's pin (here: doctored) must not get anybody paid twice."""
    people, csv = _drop(tmp_path, range(11, 16))
    record = deploy_program(chain, ProgramOptions("bean-there"), chain.dev_account(0), root=tmp_path)
    assert airdrop_points(chain, record, csv, chain.dev_account(0)).complete
    doctored = replace(record, block_hash="0x" + "ab" * 32)
    assert plan_airdrop(chain, doctored, "points", csv, chain.dev_account(0)).already_paid == 5
    assert airdrop_points(chain, doctored, csv, chain.dev_account(0)).count("already paid") == 5
    assert list(tmp_path.glob("drop.journal.stale-*")) == []
    client = LoyaltyClient(chain, record, chain.dev_account(0))
    assert [client.balance(a) for a in people] == [7] * 5
