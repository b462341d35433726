"""Final is a number of blocks on top, or the node's own ``finalized`` block where it has one."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from loyalty_chain.chain import Chain
from loyalty_chain.cli import main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.delivery import DeliveryOptions
from loyalty_chain.delivery.finality import checked_confirmations, finalize, finalized_block
from loyalty_chain.delivery.flights import Flight
from loyalty_chain.delivery.pace import Head
from loyalty_chain.errors import InputError
from loyalty_chain.program import ProgramOptions, deploy_program

ALICE = "0x00000000000000000000000000000000000a11ce"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path / "deployments"))
    monkeypatch.setenv("LOYALTY_CHAIN_HOME", str(tmp_path / "home"))
    return tmp_path


def mine_after_next_transaction(chain: Chain, mined_at: list[float]) -> threading.Thread:
    """A thread that waits (30 s at most) for the brand's next transaction to mine, then mines 80
    blocks: only then can the node's finalized block (64 under the head) cover it."""
    brand = chain.dev_account(0).address
    before = chain.w3.eth.get_transaction_count(brand)

    def run() -> None:
        deadline = time.monotonic() + 30
        while chain.w3.eth.get_transaction_count(brand) == before and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # the sender has seen it mined and waits for finality now
        mined_at.append(time.monotonic())
        chain.w3.provider.make_request("anvil_mine", ["0x50"])  # type: ignore[arg-type]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_finalized_waits_for_the_nodes_finalized_block(fresh_anvil: Chain, home: Path) -> None:
    program = deploy_program(fresh_anvil, ProgramOptions("final"), fresh_anvil.dev_account(0))
    client = LoyaltyClient(
        fresh_anvil,
        program,
        fresh_anvil.dev_account(0),
        DeliveryOptions(confirmations="finalized", stall_timeout_s=60),
    )
    # anvil automines one block per transaction and calls "finalized" the block 64 under its head:
    # nothing is final until 64 more blocks are mined, which this thread does once ours has mined
    mined_at: list[float] = []
    miner = mine_after_next_transaction(fresh_anvil, mined_at)
    result = client.issue(ALICE, 5, "welcome")
    returned_at = time.monotonic()
    miner.join(timeout=30)
    assert mined_at and returned_at >= mined_at[0], "issue() returned before anything was finalized"
    last = finalized_block(fresh_anvil)
    assert last is not None and last >= result.block
    assert client.balance(ALICE) == 5


def test_a_number_of_blocks_does_not_wait_for_finality(fresh_anvil: Chain, home: Path) -> None:
    program = deploy_program(fresh_anvil, ProgramOptions("quick"), fresh_anvil.dev_account(0))
    client = LoyaltyClient(fresh_anvil, program, fresh_anvil.dev_account(0), DeliveryOptions(confirmations=1))
    result = client.issue(ALICE, 5, "welcome")
    last = finalized_block(fresh_anvil)
    assert last is not None and last < result.block


def test_a_receipt_above_the_head_read_before_it_counts_as_that_high(chain: Chain) -> None:
    """anvil's automine answers a send before its block lands: the head read just before the
    receipts can be a block or two older than them. The receipt's own block is the chain's height
    at least (no extra wait for one confirmation; two need one block on top of the lower one)."""
    for _ in range(3):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    top = chain.w3.eth.get_block("latest")
    below = chain.w3.eth.get_block(top["number"] - 1)
    stale = Head(top["number"] - 2, "0x", 0, 0)

    def mined_in(block: object) -> Flight:
        flight = Flight(tx=None, signer=None, nonce=0, state="mined")  # type: ignore[arg-type]
        flight.receipt = {"blockNumber": hex(block["number"]), "blockHash": block["hash"].to_0x_hex()}  # type: ignore[index]
        return flight

    one = [mined_in(top)]
    assert finalize(chain, None, one, stale, 1, print)  # type: ignore[arg-type]
    assert one[0].state == "final"
    two = [mined_in(below), mined_in(top)]
    assert finalize(chain, None, two, stale, 2, print)  # type: ignore[arg-type]
    assert [f.state for f in two] == ["final", "mined"]


@pytest.mark.parametrize("bad", [0, -1, "soon", 1.5, True])
def test_confirmations_are_a_whole_number_or_finalized(bad: object) -> None:
    with pytest.raises(InputError, match="confirmations must be"):
        checked_confirmations(bad)
    assert checked_confirmations("finalized") == "finalized"
    assert checked_confirmations(3) == 3


def test_cli_confirmations_finalized(
    fresh_anvil: Chain, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_program(fresh_anvil, ProgramOptions("final-cli"), fresh_anvil.dev_account(0))
    miner = mine_after_next_transaction(fresh_anvil, [])
    args = ["--rpc", fresh_anvil.rpc_url, "points", "issue", "final-cli", ALICE, "5"]
    assert main([*args, "--confirmations", "finalized"]) == 0
    miner.join(timeout=30)
    assert main([*args, "--confirmations", "soon"]) == 2
    err = capsys.readouterr().err
    assert "'soon' is neither a number of blocks (1 or more) nor 'finalized'" in err
    assert "Traceback" not in err
