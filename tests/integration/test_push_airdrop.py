"""Push airdrops on the enforced devnet: scale, every resume path, refusals, the CLI.

Interruptions are injected by replacing one step of the pipeline (``broadcast``,
``collect_receipts``, ``record_outcomes`` in loyalty_chain.airdrop) with one that raises once, or
that kills the whole process with SIGKILL (a real ``kill -9`` of a CLI subprocess). After each, the
same call is made again and must pay every recipient exactly once: balances equal the CSV, the
total supply equals its sum and the signer's nonce moved by exactly the transactions needed.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3.contract import Contract

from loyalty_chain.airdrop import (
    STATUS_ALREADY_PAID,
    STATUS_FAILED,
    STATUS_IN_FLIGHT,
    STATUS_NOT_SENT,
    STATUS_SENT,
    STATUS_SKIPPED,
    AirdropOptions,
    airdrop_cards,
    airdrop_points,
    plan_airdrop,
    resume,
)
from loyalty_chain.airdrop import send as airdrop  # the steps a run can be interrupted between
from loyalty_chain.airdrop.journal import Journal, JournalBatch
from loyalty_chain.artifacts import load_artifact
from loyalty_chain.chain import TX_GAS_CAP, Chain, launch_devnet
from loyalty_chain.cli import main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import JournalMismatchError, TransactionError
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program, role
from loyalty_chain.rpc import RpcSettings

REPO = Path(__file__).resolve().parents[2]


class Interrupted(Exception):
    """Stands for Ctrl-C / a crash at an injected point (not a LoyaltyChainError, so it propagates)."""


@functools.cache  # the same few thousand are made again in every test (eth_utils' checksum: ~60 us)
def address(i: int, salt: bytes = b"drop") -> str:
    return to_checksum_address(keccak(salt + b"-%d" % i)[-20:])


def write_points(path: Path, n: int, *, reason: Callable[[int], str] | None = None) -> dict[str, int]:
    """``n`` fresh recipients, amount i+1 each; returns address → amount."""
    rows = {address(i): i + 1 for i in range(n)}
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["address", "amount", "reason"] if reason else ["address", "amount"])
        for i, (who, amount) in enumerate(rows.items()):
            writer.writerow([who, amount, reason(i)] if reason else [who, amount])
    return rows


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "deployments"
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(root))
    return root


@pytest.fixture
def admin(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[0]


@pytest.fixture
def program(chain: Chain, registry: Path, admin: LocalAccount) -> ProgramRecord:
    return deploy_program(chain, ProgramOptions("drop"), admin)


def contract(chain: Chain, program: ProgramRecord, name: str) -> Contract:
    c = chain.w3.eth.contract(address=program.addresses[name], abi=load_artifact(name).abi)  # type: ignore[call-overload]
    assert isinstance(c, Contract)
    return c


def balances(chain: Chain, program: ProgramRecord, who: list[str]) -> dict[str, int]:
    """Keyed as given. web3's batch_requests of contract functions took 163 s of a 197-s test."""
    found = LoyaltyClient(chain, program, chain.dev_account(0)).balances(who)
    return {a: found[to_checksum_address(a)] for a in who}


def assert_paid_exactly_once(chain: Chain, program: ProgramRecord, rows: dict[str, int]) -> None:
    assert balances(chain, program, list(rows)) == rows
    points = contract(chain, program, "LoyaltyPoints")
    assert points.functions.totalSupply().call() == sum(rows.values())


def journal_batches(path: Path) -> list[JournalBatch]:
    with Journal(path, sqlite3.connect(path), None) as journal:
        return journal.batches()


def nonce(chain: Chain, who: LocalAccount) -> int:
    return int(chain.w3.eth.get_transaction_count(who.address))


def fail_once(monkeypatch: pytest.MonkeyPatch, name: str, *, on_call: int = 1) -> None:
    """Make loyalty_chain.airdrop.<name> raise Interrupted on its ``on_call``-th call (then behave)."""
    real = getattr(airdrop, name)
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == on_call:
            raise Interrupted(f"injected failure in {name}")
        return real(*args, **kwargs)

    monkeypatch.setattr(airdrop, name, wrapper)


# -- scale and the happy path -------------------------------------------------------------------


def test_2000_recipients_under_the_enforced_tx_gas_cap(
    chain: Chain, program: ProgramRecord, admin: LocalAccount, tmp_path: Path
) -> None:
    rows = write_points(tmp_path / "drop.csv", 2000)
    progress: list[tuple[int, int]] = []
    start_nonce = nonce(chain, admin)

    report = airdrop_points(
        chain, "drop", tmp_path / "drop.csv", admin, on_progress=lambda d, t: progress.append((d, t))
    )

    assert report.complete and report.count(STATUS_SENT) == 2000
    assert_paid_exactly_once(chain, program, rows)
    batches = journal_batches(report.journal)
    assert len(batches) == report.transactions == nonce(chain, admin) - start_nonce >= 4
    assert all(b.state == "confirmed" for b in batches)
    assert max(b.gas_limit for b in batches) <= TX_GAS_CAP
    assert max(b.gas_used or 0 for b in batches) < TX_GAS_CAP * 0.95
    assert sum(len(b.recipients) for b in batches) == 2000
    assert progress[0] == (0, 2000) and progress[-1] == (2000, 2000)
    per_recipient = report.gas_used / 2000
    assert 23_856 < per_recipient < 25_000, per_recipient

    with (tmp_path / "drop.results.csv").open() as results:
        out = list(csv.DictReader(results))
    assert [r["address"] for r in out] == list(rows)
    hashes = {b.tx_hash for b in batches}
    assert all(r["status"] == STATUS_SENT and r["tx_hash"] in hashes for r in out)
    assert out[0]["line"] == "2" and out[0]["amount"] == "1"

    again = airdrop_points(chain, "drop", tmp_path / "drop.csv", admin)
    assert again.complete and again.count(STATUS_ALREADY_PAID) == 2000 and again.transactions == 0
    assert nonce(chain, admin) - start_nonce == len(batches)


def test_rows_are_batched_by_reason_and_batch_size(
    chain: Chain, program: ProgramRecord, admin: LocalAccount, tmp_path: Path
) -> None:
    rows = write_points(tmp_path / "drop.csv", 25, reason=lambda i: "birthday" if i % 5 == 0 else "signup")
    report = airdrop_points(chain, "drop", tmp_path / "drop.csv", admin, AirdropOptions(batch_size=8))
    assert report.complete
    assert_paid_exactly_once(chain, program, rows)
    points = contract(chain, program, "LoyaltyPoints")
    issued = points.events.PointsIssued().get_logs(from_block=program.block)  # type: ignore[attr-defined]
    summary = [(bytes(e["args"]["reason"]).rstrip(b"\0").decode(), e["args"]["recipients"]) for e in issued]
    # 5 birthday rows then 20 signup rows in batches of at most 8, in order of first appearance.
    assert summary == [("birthday", 5), ("signup", 8), ("signup", 8), ("signup", 4)]


def test_cards_skip_existing_members_and_carry_the_expiry(
    chain: Chain, program: ProgramRecord, admin: LocalAccount, tmp_path: Path
) -> None:
    card = contract(chain, program, "MembershipCard")
    members = [address(i, b"card") for i in range(700)]
    card.functions.enroll(members[3], 0, 0).transact({"from": admin.address})
    with (tmp_path / "cards.csv").open("w") as out:
        out.write(
            "address,tier\n"
            + "".join(f"{m},{['Bronze', 'silver', '2'][i % 3]}\n" for i, m in enumerate(members))
        )
    until = int(chain.w3.eth.get_block("latest")["timestamp"]) + 86_400

    report = airdrop_cards(chain, "drop", tmp_path / "cards.csv", admin, AirdropOptions(valid_until=until))

    assert report.complete and report.transactions == 2
    assert report.count(STATUS_SENT) == 699
    (skipped,) = [r for r in report.recipients if r.status == STATUS_SKIPPED]
    assert (skipped.line, skipped.address, skipped.detail) == (5, members[3], "already a member")
    assert card.functions.cardInfo(int(members[10], 16)).call() == [members[10], 1, until]
    assert card.functions.activeTierOf(members[699]).call() == [True, 0]


# -- refusals: nothing is sent --------------------------------------------------------------------


def test_dry_run_sends_nothing(
    chain: Chain, program: ProgramRecord, admin: LocalAccount, tmp_path: Path
) -> None:
    write_points(tmp_path / "drop.csv", 1300)
    block, start_nonce = chain.w3.eth.block_number, nonce(chain, admin)

    plan = plan_airdrop(chain, "drop", "points", tmp_path / "drop.csv", admin)

    assert chain.w3.eth.block_number == block and nonce(chain, admin) == start_nonce
    assert not (tmp_path / "drop.journal.sqlite").exists()
    assert [b.recipients for b in plan.batches] == [601, 601, 98]
    assert plan.total_gas == sum(b.gas_estimate for b in plan.batches) > 1300 * 23_856
    assert all(b.gas_limit <= TX_GAS_CAP for b in plan.batches)
    assert plan.cost_wei == plan.total_gas * plan.gas_price > 0


def test_cli_bad_file_names_every_line_and_sends_nothing(
    chain: Chain,
    program: ProgramRecord,
    admin: LocalAccount,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "bad.csv"
    good = "\n".join(f"{address(i)},5," for i in range(100))
    bad.write_text(
        f"address,amount,reason\n{good}\n0x0000000000000000000000000000000000000000,5,\n"
        f"{address(1)[:-1]},5,\n\n{address(200)},-1,\n{address(201)},2,{'é' * 17}\n"
    )
    block, start_nonce = chain.w3.eth.block_number, nonce(chain, admin)

    code = main(["--rpc", chain.rpc_url, "airdrop", "points", "drop", str(bad)])

    err = capsys.readouterr().err
    assert code == 1
    assert "line 102: address '0x0000000000000000000000000000000000000000' is the zero address" in err
    assert "line 103: address" in err and "39 hex digits" in err
    assert "line 105: amount '-1' is negative" in err
    assert f"line 106: reason '{'é' * 17}' is 34 bytes of UTF-8" in err
    assert "4 bad row(s), nothing was sent" in err
    assert chain.w3.eth.block_number == block and nonce(chain, admin) == start_nonce
    assert not (tmp_path / "bad.journal.sqlite").exists()


def test_cli_bad_cards_file_names_every_line_and_sends_nothing(
    chain: Chain,
    program: ProgramRecord,
    admin: LocalAccount,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "cards.csv"
    bad.write_text(
        f"address,tier\n{address(1)},gold\n{address(2)},Platinum\n{address(1)},0\n{address(3)},3\n"
    )
    block, start_nonce = chain.w3.eth.block_number, nonce(chain, admin)
    assert main(["--rpc", chain.rpc_url, "--json", "airdrop", "cards", "drop", str(bad)]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [p["line"] for p in problems] == [3, 4, 5]
    assert "tier 'Platinum' is unknown" in problems[0]["reason"]
    assert "already gets a card on line 2" in problems[1]["reason"]
    assert chain.w3.eth.block_number == block and nonce(chain, admin) == start_nonce


def test_cli_dry_run_and_run(
    chain: Chain,
    program: ProgramRecord,
    admin: LocalAccount,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = write_points(tmp_path / "drop.csv", 50)
    block = chain.w3.eth.block_number
    assert (
        main(["--rpc", chain.rpc_url, "airdrop", "points", "drop", str(tmp_path / "drop.csv"), "--dry-run"])
        == 0
    )
    out = capsys.readouterr().out
    assert "50 of 50 recipients to send in 1 transaction(s)" in out and "nothing was sent" in out
    assert chain.w3.eth.block_number == block

    results = tmp_path / "out" / "r.csv"
    results.parent.mkdir()
    args = ["--rpc", chain.rpc_url, "--json", "airdrop", "points", "drop", str(tmp_path / "drop.csv"),
            "--journal", str(tmp_path / "j.sqlite"), "--results", str(results)]  # fmt: skip
    assert main(args) == 0
    assert '"sent": 50' in capsys.readouterr().out
    assert results.is_file() and (tmp_path / "j.sqlite").is_file()
    assert_paid_exactly_once(chain, program, rows)


def test_changed_csv_is_refused(
    chain: Chain, program: ProgramRecord, admin: LocalAccount, tmp_path: Path
) -> None:
    path = tmp_path / "drop.csv"
    write_points(path, 10)
    airdrop_points(chain, "drop", path, admin)
    start_nonce = nonce(chain, admin)
    with path.open("a") as out:
        out.write(f"{address(99)},7\n")
    with pytest.raises(JournalMismatchError, match="different CSV"):
        airdrop_points(chain, "drop", path, admin)
    assert nonce(chain, admin) == start_nonce


def test_a_revert_found_by_the_estimate_sends_nothing(
    chain: Chain, registry: Path, admin: LocalAccount, tmp_path: Path
) -> None:
    program = deploy_program(chain, ProgramOptions("capped", cap=15), admin)
    path = tmp_path / "drop.csv"
    path.write_text("address,amount\n" + "".join(f"{address(i)},1\n" for i in range(20)))

    first = airdrop_points(chain, "capped", path, admin, AirdropOptions(batch_size=10))
    # Both batches were estimated on the same state and sent together; the second hit the cap on chain.
    assert first.count(STATUS_SENT) == 10 and first.count(STATUS_FAILED) == 10
    assert "PointsCapExceeded" in (first.stopped or "")
    start_nonce = nonce(chain, admin)

    second = airdrop_points(chain, "capped", path, admin, AirdropOptions(batch_size=10))
    assert nonce(chain, admin) == start_nonce  # the estimate reverted: nothing was sent
    assert not second.complete and "PointsCapExceeded" in (second.stopped or "")
    assert second.count(STATUS_ALREADY_PAID) == 10 and second.count(STATUS_FAILED) == 10
    assert contract(chain, program, "LoyaltyPoints").functions.totalSupply().call() == 10


# -- resume after an interruption at each stage ----------------------------------------------------

STAGES = {
    "before the broadcast (signed, never sent)": "broadcast",
    "after the broadcast, before the receipt": "collect_receipts",
    "after the receipt, before the journal write": "record_outcomes",
}


@pytest.mark.parametrize("window", [1, 3], ids=["first window", "third window"])
@pytest.mark.parametrize("stage", list(STAGES), ids=list(STAGES.values()))
def test_resume_after_an_interruption(
    chain: Chain,
    program: ProgramRecord,
    admin: LocalAccount,
    tmp_path: Path,
    stage: str,
    window: int,
) -> None:
    path = tmp_path / "drop.csv"
    rows = write_points(path, 1803)  # 3 x 601: one batch per window (two do not fit a 30M-gas block)
    start_nonce = nonce(chain, admin)
    with pytest.MonkeyPatch.context() as patch:
        fail_once(patch, STAGES[stage], on_call=window)
        with pytest.raises(Interrupted):
            airdrop_points(chain, "drop", path, admin)

    sent_before = nonce(chain, admin) - start_nonce
    assert sent_before == (window - 1 if STAGES[stage] == "broadcast" else window)
    (interrupted,) = [b for b in journal_batches(tmp_path / "drop.journal.sqlite") if b.state != "confirmed"]
    assert interrupted.state == ("signed" if STAGES[stage] == "broadcast" else "sent")
    report = airdrop_points(chain, "drop", path, admin)

    # The interrupted batch is the very transaction signed before the interruption, now confirmed.
    settled = {b.id: b for b in journal_batches(report.journal)}[interrupted.id]
    assert (settled.state, settled.tx_hash) == ("confirmed", interrupted.tx_hash)
    assert chain.w3.eth.get_transaction_receipt(interrupted.tx_hash)["status"] == 1  # type: ignore[arg-type]

    assert report.complete
    assert_paid_exactly_once(chain, program, rows)
    assert nonce(chain, admin) - start_nonce == 3  # the interrupted batch was not signed or paid twice
    assert report.count(STATUS_ALREADY_PAID) == 601 * (window - 1)
    assert report.count(STATUS_SENT) == 1803 - 601 * (window - 1)


def test_ctrl_c_in_the_cli_says_how_to_resume(
    chain: Chain,
    program: ProgramRecord,
    admin: LocalAccount,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "drop.csv"
    rows = write_points(path, 1803)
    args = ["--rpc", chain.rpc_url, "airdrop", "points", "drop", str(path)]
    real = airdrop.collect_receipts
    calls = [0]

    def ctrl_c(*a: Any) -> Any:
        calls[0] += 1
        if calls[0] == 2:
            raise KeyboardInterrupt
        return real(*a)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(airdrop, "collect_receipts", ctrl_c)
        assert main(args) == 130
    assert "run the same command again to resume" in capsys.readouterr().err
    assert main(args) == 0
    assert "sent 1,202 · already paid 601" in capsys.readouterr().out
    assert_paid_exactly_once(chain, program, rows)


def test_signed_batch_whose_nonce_was_taken_is_dropped_and_replanned(
    chain: Chain, program: ProgramRecord, admin: LocalAccount, tmp_path: Path
) -> None:
    path = tmp_path / "drop.csv"
    rows = write_points(path, 700)
    with pytest.MonkeyPatch.context() as patch:
        fail_once(patch, "broadcast")
        with pytest.raises(Interrupted):
            airdrop_points(chain, "drop", path, admin)
    # Meanwhile the same account sends something else with the nonce the signed batch holds.
    chain.w3.eth.wait_for_transaction_receipt(
        chain.w3.eth.send_transaction({"from": admin.address, "to": admin.address, "value": 0})
    )

    report = airdrop_points(chain, "drop", path, admin)

    assert report.complete and report.count(STATUS_SENT) == 700
    assert_paid_exactly_once(chain, program, rows)
    assert [b.state for b in journal_batches(report.journal)] == ["dropped", "confirmed", "confirmed"]


def test_a_mined_batch_the_node_forgot_is_never_sent_again(
    chain: Chain, program: ProgramRecord, admin: LocalAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown hash + used nonce + no other transaction with that nonce: stop, do not re-plan."""
    path = tmp_path / "drop.csv"
    rows = write_points(path, 700)
    with pytest.MonkeyPatch.context() as patch:
        fail_once(patch, "collect_receipts")  # broadcast and mined, the receipt never recorded
        with pytest.raises(Interrupted):
            airdrop_points(chain, "drop", path, admin)
    # "and mined": anvil answers a send before its block lands, and the interruption can come first
    deadline = time.monotonic() + 30
    while chain.w3.eth.get_transaction_count(admin.address, "pending") != chain.w3.eth.get_transaction_count(
        admin.address, "latest"
    ):
        assert time.monotonic() < deadline, "the broadcast batch was never mined"
        time.sleep(0.05)
    paid_before = balances(chain, program, list(rows))
    block_before = chain.w3.eth.block_number
    # The node "lost its history": it no longer knows the mined batch's hash.
    monkeypatch.setattr(resume, "_on_chain", lambda _chain, hashes: [False] * len(hashes))

    with pytest.raises(TransactionError, match="may have been mined on a node that lost its history"):
        airdrop_points(chain, "drop", path, admin)

    assert chain.w3.eth.block_number == block_before  # nothing was sent
    assert balances(chain, program, list(rows)) == paid_before
    assert paid_before == rows  # both batches went out in one window, each paid exactly once


def test_a_batch_reverted_on_chain_is_recorded_and_sent_again(
    chain: Chain,
    program: ProgramRecord,
    admin: LocalAccount,
    dev_accounts: list[LocalAccount],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "drop.csv"
    rows = write_points(path, 700)
    points = contract(chain, program, "LoyaltyPoints")
    pauser = dev_accounts[1].address
    points.functions.grantRole(role("PAUSER_ROLE"), pauser).transact({"from": admin.address})
    real = airdrop.broadcast

    def pause_first(outbox: Any, flights: Any) -> Any:  # paused between estimate and inclusion
        monkeypatch.setattr(airdrop, "broadcast", real)
        points.functions.pause().transact({"from": pauser})
        return real(outbox, flights)

    monkeypatch.setattr(airdrop, "broadcast", pause_first)
    first = airdrop_points(chain, "drop", path, admin)
    assert not first.complete and "EnforcedPause" in (first.stopped or "")
    # 601 + 99 recipients: both batches fit one block, so both were in flight and both reverted.
    assert first.count(STATUS_FAILED) == 700
    failed = next(r for r in first.recipients if r.status == STATUS_FAILED)
    assert "EnforcedPause" in failed.detail and failed.tx_hash

    points.functions.unpause().transact({"from": pauser})
    second = airdrop_points(chain, "drop", path, admin)
    assert second.complete and second.count(STATUS_SENT) == 700
    assert_paid_exactly_once(chain, program, rows)


def test_resume_after_the_node_went_down(
    registry: Path, admin: LocalAccount, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "anvil-state.json"
    node = launch_devnet(state=state)
    port = int(node.rpc_url.rsplit(":", 1)[1])
    # a node that stopped answering is given up on after 3 s here, not the default 90 s of retries
    # (the outcome this test checks is the same; the wait held a test worker for a minute and a half)
    node.w3.provider.settings = RpcSettings(retry_for_s=3.0, timeout_s=5.0)  # type: ignore[attr-defined]
    try:
        program = deploy_program(node, ProgramOptions("drop"), admin)
        path = tmp_path / "drop.csv"
        rows = write_points(path, 1803)
        real = airdrop.collect_receipts

        def stop_node(outbox: Any, flights: Any) -> Any:  # the node stops right after the broadcast
            monkeypatch.setattr(airdrop, "collect_receipts", real)
            # Let anvil finish mining what it was sent: SIGINT in the middle of a block can dump a
            # state whose nonce includes the batch but whose history does not (anvil, not us).
            for flight in flights:
                node.w3.eth.wait_for_transaction_receipt(flight.hashes[-1])
            node.close()  # anvil saves its state on the way out
            return real(outbox, flights)

        monkeypatch.setattr(airdrop, "collect_receipts", stop_node)
        start_nonce = nonce(node, admin)
        first = airdrop_points(node, "drop", path, admin)
        assert not first.complete and "no JSON-RPC node answers" in (first.stopped or "")
        assert first.count(STATUS_IN_FLIGHT) == 601 and first.count(STATUS_NOT_SENT) == 1202

        node = launch_devnet(port, state=state)
        second = airdrop_points(node, "drop", path, admin)
        assert second.complete and second.transactions == 3
        assert_paid_exactly_once(node, program, rows)
        assert nonce(node, admin) - start_nonce == 3  # the batch in flight was found, not sent twice
    finally:
        node.close()


# -- a real kill -9 --------------------------------------------------------------------------------

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from loyalty_chain.airdrop import send as airdrop
    from loyalty_chain.cli import main

    real = getattr(airdrop, sys.argv[1])
    calls = [0]

    def killer(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 2:  # the second window: the first is confirmed and journaled
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(airdrop, sys.argv[1], killer)
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.parametrize("step", ["broadcast", "collect_receipts"])
def test_kill_9_of_the_cli_then_rerun(
    chain: Chain, program: ProgramRecord, admin: LocalAccount, tmp_path: Path, registry: Path, step: str
) -> None:
    path = tmp_path / "drop.csv"
    rows = write_points(path, 1803)
    start_nonce = nonce(chain, admin)
    args = ["--rpc", chain.rpc_url, "airdrop", "points", "drop", str(path)]
    env = {**os.environ, "LOYALTY_CHAIN_DEPLOYMENTS": str(registry)}
    done = subprocess.run([sys.executable, "-c", KILLER, step, *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert nonce(chain, admin) - start_nonce == (1 if step == "broadcast" else 2)

    assert main(args) == 0
    assert_paid_exactly_once(chain, program, rows)
    assert nonce(chain, admin) - start_nonce == 3
