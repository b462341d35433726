"""The fast path stays correct when the node refuses or the chain reverts part of a batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyalty_chain.chain import TX_GAS_CAP, Chain
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import ContractRevertError, TransactionError
from loyalty_chain.program import ProgramOptions, deploy_program
from loyalty_chain.sender import TxResult

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def brand(chain: Chain, tmp_path: Path) -> LoyaltyClient:
    record = deploy_program(chain, ProgramOptions("sender"), chain.dev_account(0), root=tmp_path)
    return LoyaltyClient(chain, record, chain.dev_account(0))


def nonce(chain: Chain, address: str) -> int:
    return int(chain.w3.eth.get_transaction_count(address))


def test_a_refused_transaction_does_not_strand_the_rest(chain: Chain, brand: LoyaltyClient) -> None:
    calls = [brand.points.functions.issue(ALICE, n, b"\0" * 32) for n in (1, 2, 4)]
    before = nonce(chain, brand.address)
    # the middle one offers less gas than any transaction needs: the node refuses it at send time
    results = brand.sender.send_many(calls, gas=[100_000, 20_000, 100_000])
    assert isinstance(results[0], TxResult) and isinstance(results[2], TxResult)
    assert isinstance(results[1], TransactionError) and "refused" in str(results[1])
    assert brand.balance(ALICE) == 5  # 1 + 4: the refused 2 was never paid, nothing paid twice
    assert nonce(chain, brand.address) == before + 3  # the gap was filled, the sequence goes on
    assert brand.issue(ALICE, 10).block > 0  # and the next send just works
    assert brand.balance(ALICE) == 15


def test_a_gas_limit_over_the_eip7825_cap_is_capped(chain: Chain, brand: LoyaltyClient) -> None:
    call = brand.points.functions.issue(ALICE, 3, b"\0" * 32)
    (result,) = brand.sender.send_many([call], gas=TX_GAS_CAP + 1)
    assert isinstance(result, TxResult)  # signed at the cap, not refused by the node
    tx = chain.w3.eth.get_transaction(result.tx_hash)  # type: ignore[arg-type]
    assert tx["gas"] == TX_GAS_CAP


def test_a_reverted_transaction_is_decoded_in_its_place(chain: Chain, brand: LoyaltyClient) -> None:
    stranger = LoyaltyClient(chain, brand.record, chain.dev_account(4))
    chain.w3.provider.make_request("anvil_setBalance", [stranger.address, hex(10**20)])  # type: ignore[arg-type]
    brand.issue(stranger.address, 5)
    calls = [stranger.points.functions.transfer(ALICE, amount) for amount in (2, 50, 3)]
    results = stranger.sender.send_many(calls, gas=80_000)
    assert [type(r).__name__ for r in results] == ["TxResult", "ContractRevertError", "TxResult"]
    error = results[1]
    assert isinstance(error, ContractRevertError)
    assert error.error_name == "ERC20InsufficientBalance" and error.error_args["needed"] == 50
    assert error.tx_hash is not None
    assert brand.balance(ALICE) == 5


def test_the_chain_is_looked_at_right_after_a_send_before_any_poll_interval(
    brand: LoyaltyClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A devnet that mines on receipt has the receipt at once: each send's first look waits
    nothing, then a few ms (QUICK_LOOKS_S), never first a quarter of a block (it was most of the
    test suite's time)."""
    from loyalty_chain.delivery import outbox
    from loyalty_chain.delivery.pace import QUICK_LOOKS_S

    slept: list[float] = []
    real_sleep = outbox.time.sleep
    # the waits are noted and still taken: with none, the three quick looks could all come before
    # anvil's block lands (it answers a send first), and three such rounds rightly end the quick looks
    monkeypatch.setattr(outbox.time, "sleep", lambda s: (slept.append(s), real_sleep(s)))
    for n in range(1, 6):
        slept.clear()
        assert brand.issue(ALICE, n).block > 0
        assert slept[: len(QUICK_LOOKS_S)] == list(QUICK_LOOKS_S)[: len(slept)], slept


def test_quick_looks_stop_on_a_chain_that_does_not_mine_on_arrival() -> None:
    """A real network: three rounds of quick looks that found nothing, and sends go back to the
    poll interval alone (a few extra small polls once, not three per send); a find starts over."""
    from loyalty_chain.delivery.pace import QUICK_LOOKS_GIVEN_UP_AFTER, QUICK_LOOKS_S, Pace

    pace = Pace(None)  # type: ignore[arg-type]  # the chain is not asked for anything here
    for _ in range(QUICK_LOOKS_GIVEN_UP_AFTER):
        assert pace.quick_looks() == list(QUICK_LOOKS_S)
        pace.quick_looks_found(False)
    assert pace.quick_looks() == []
    fresh = Pace(None)  # type: ignore[arg-type]
    for found in (False, False, True, False, False):
        fresh.quick_looks_found(found)
    assert fresh.quick_looks() == list(QUICK_LOOKS_S)
