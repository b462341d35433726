"""Push-airdrop planning and the journal, without a chain: gas sizing, batching, encoding, resume state."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi import decode
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from loyalty_chain.airdrop import (
    STATUS_ALREADY_PAID,
    STATUS_FAILED,
    STATUS_IN_FLIGHT,
    STATUS_NOT_SENT,
    STATUS_SENT,
    STATUS_SKIPPED,
)
from loyalty_chain.airdrop.journal import (
    Journal,
    JournalEntry,
    JournalHeader,
    NewBatch,
    Outcome,
    default_journal_path,
)
from loyalty_chain.airdrop.plan import (
    BATCH_GAS_SAFETY_MARGIN,
    KINDS,
    MAX_BATCHES_IN_FLIGHT,
    Batch,
    Recipient,
    SizedBatch,
    batch_calldata,
    gas_limit_for,
    gas_plan,
    load_recipients,
    pack_word,
    plan_batches,
    split_batch,
    windows,
)
from loyalty_chain.airdrop.report import build_report, write_results_csv
from loyalty_chain.artifacts import load_artifact
from loyalty_chain.chain import TX_GAS_CAP
from loyalty_chain.errors import ChainError, CsvValidationError, InputError, JournalMismatchError
from loyalty_chain.values import reason_code


def address(i: int) -> str:
    return to_checksum_address(keccak(b"plan-%d" % i)[-20:])


def recipients(n: int, reason: str = "") -> list[Recipient]:
    return [Recipient(i + 2, address(i), i + 1, reason) for i in range(n)]


# -- gas sizing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("block_gas_limit", [30_000_000, 36_000_000, 45_000_000, 60_000_000])
def test_the_eip_7825_cap_bounds_batches_on_big_blocks(block_gas_limit: int) -> None:
    points = gas_plan(KINDS["points"], block_gas_limit)
    cards = gas_plan(KINDS["cards"], block_gas_limit)
    assert points.tx_gas_cap == cards.tx_gas_cap == TX_GAS_CAP
    assert points.budget == int(TX_GAS_CAP * (1 - BATCH_GAS_SAFETY_MARGIN)) == 15_099_494
    assert (points.max_recipients, cards.max_recipients) == (601, 528)


def test_a_small_block_gas_limit_bounds_batches() -> None:
    plan = gas_plan(KINDS["points"], 10_000_000)
    assert plan.tx_gas_cap == 10_000_000 and plan.budget == 9_000_000
    assert plan.max_recipients == (9_000_000 - 60_000) // 25_000 == 357


@pytest.mark.parametrize("kind", ["points", "cards"])
@pytest.mark.parametrize("block_gas_limit", [1_000_000, 8_000_000, 30_000_000, 10**9])
def test_a_full_batch_at_the_bound_stays_under_the_cap(kind: str, block_gas_limit: int) -> None:
    plan = gas_plan(KINDS[kind], block_gas_limit)
    worst = plan.overhead + plan.max_recipients * plan.per_recipient
    assert worst <= plan.budget < plan.tx_gas_cap <= TX_GAS_CAP
    assert plan.overhead + (plan.max_recipients + 1) * plan.per_recipient > plan.budget  # as many as fit


def test_batch_size_caps_the_count() -> None:
    assert gas_plan(KINDS["points"], 30_000_000, 50).max_recipients == 50
    assert gas_plan(KINDS["points"], 30_000_000, 10_000).max_recipients == 601
    with pytest.raises(InputError, match="at least 1"):
        gas_plan(KINDS["points"], 30_000_000, 0)
    with pytest.raises(ChainError, match="no room"):
        gas_plan(KINDS["points"], 80_000)


def test_gas_limit_is_the_estimate_with_headroom_never_above_the_cap() -> None:
    plan = gas_plan(KINDS["points"], 30_000_000)
    assert gas_limit_for(10_000_000, plan) == 10_500_000
    assert gas_limit_for(16_500_000, plan) == TX_GAS_CAP


# -- batching -----------------------------------------------------------------------------------


def test_batches_group_by_reason_in_order_of_first_appearance() -> None:
    rows = [Recipient(i + 2, address(i), 1, ["signup", "birthday", "signup", ""][i % 4]) for i in range(22)]
    batches = plan_batches(rows, 4)
    assert [(b.reason, len(b.recipients)) for b in batches] == [
        ("signup", 4), ("signup", 4), ("signup", 3), ("birthday", 4), ("birthday", 2), ("", 4), ("", 1),
    ]  # fmt: skip
    assert all(r.reason == b.reason for b in batches for r in b.recipients)
    flat = [r for b in batches for r in b.recipients]
    assert sorted(flat, key=lambda r: r.line) == rows  # every recipient exactly once
    with pytest.raises(InputError, match="at least 1"):
        plan_batches(rows, 0)


def test_split_batch_halves() -> None:
    first, second = split_batch(Batch("r", tuple(recipients(5))))
    assert [len(first.recipients), len(second.recipients)] == [3, 2]
    assert first.recipients + second.recipients == tuple(recipients(5)) and second.reason == "r"
    with pytest.raises(ValueError, match="cannot be split"):
        split_batch(Batch("", tuple(recipients(1))))


def sized(gas_limit: int) -> SizedBatch:
    return SizedBatch(Batch("", ()), b"", gas_limit, gas_limit)


def test_windows_hold_one_block_of_gas_and_at_least_one_batch() -> None:
    limits = [15_500_000, 15_500_000, 7_000_000, 40_000_000, 1_000_000]
    grouped = [[w.gas_limit for w in window] for window in windows(iter(map(sized, limits)), 30_000_000)]
    assert grouped == [[15_500_000], [15_500_000, 7_000_000], [40_000_000], [1_000_000]]
    many = list(windows(iter([sized(100_000)] * 40), 30_000_000))
    assert [len(w) for w in many] == [MAX_BATCHES_IN_FLIGHT, MAX_BATCHES_IN_FLIGHT, 8]


# -- encoding -----------------------------------------------------------------------------------


def test_points_word_layout() -> None:
    r = Recipient(2, address(1), 2**96 - 1)
    word = pack_word("points", r)
    assert word >> 96 == int(address(1), 16) and word & (2**96 - 1) == 2**96 - 1
    for bad in (0, 2**96):
        with pytest.raises(InputError, match="line 2"):
            pack_word("points", Recipient(2, address(1), bad))


def test_card_word_layout() -> None:
    word = pack_word("cards", Recipient(3, address(2), 2), valid_until=2**64 - 1)
    assert word & (2**160 - 1) == int(address(2), 16)
    assert (word >> 160) & 0xFF == 2 and word >> 168 == 2**64 - 1 and word < 2**232
    with pytest.raises(InputError, match="line 3"):
        pack_word("cards", Recipient(3, address(2), 256))
    with pytest.raises(InputError):
        pack_word("cards", Recipient(3, address(2), 0), valid_until=2**64)


def test_calldata_is_what_web3_encodes() -> None:
    w3 = Web3()
    batch = Batch("birthday", tuple(recipients(7)))
    points = w3.eth.contract(abi=load_artifact("LoyaltyPoints").abi)  # type: ignore[call-overload]
    words = [pack_word("points", r) for r in batch.recipients]
    expected = points.encode_abi("issueBatch", [words, reason_code("birthday")])
    assert "0x" + batch_calldata("points", batch).hex() == expected
    card = w3.eth.contract(abi=load_artifact("MembershipCard").abi)  # type: ignore[call-overload]
    words = [pack_word("cards", Recipient(r.line, r.address, 1), 1_900_000_000) for r in batch.recipients]
    cards = Batch("", tuple(Recipient(r.line, r.address, 1) for r in batch.recipients))
    assert "0x" + batch_calldata("cards", cards, 1_900_000_000).hex() == card.encode_abi(
        "enrollBatch", [words]
    )
    (decoded, reason) = decode(["uint256[]", "bytes32"], batch_calldata("points", batch)[4:])
    assert list(decoded) == [pack_word("points", r) for r in batch.recipients] and reason.startswith(
        b"birthday\0"
    )


def test_reason_code() -> None:
    assert reason_code("") == b"\0" * 32
    assert reason_code("café") == "café".encode().ljust(32, b"\0")
    assert reason_code("x" * 32) == b"x" * 32
    with pytest.raises(InputError, match="33 bytes"):
        reason_code("é" * 16 + "x")


# -- CSV → recipients ---------------------------------------------------------------------------


def test_points_rows_take_the_default_reason(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"address,amount,reason\n{address(1)},1.5,signup\n{address(2)},2,\n")
    rows = load_recipients("points", path, decimals=2, default_reason="promo")
    assert rows == [Recipient(2, address(1), 150, "signup"), Recipient(3, address(2), 200, "promo")]
    with pytest.raises(InputError, match="at most 32"):
        load_recipients("points", path, default_reason="x" * 33)


def test_long_reasons_are_reported_with_every_other_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    long = "r" * 33
    path.write_text(
        f'address,amount,reason\n{address(1)},1,{long}\n{address(2)},-1,ok\n{address(3)},1,"two\nlines"\n'
        f"{address(4)},1,{long}\n"
    )
    with pytest.raises(CsvValidationError) as info:
        load_recipients("points", path)
    assert [line for line, _ in info.value.problems] == [2, 3, 6]
    assert "33 bytes" in info.value.problems[0][1] and "negative" in info.value.problems[1][1]


def test_merged_reasons_must_still_fit(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(f"address,amount,reason\n{address(1)},1,{'a' * 20}\n{address(1)},1,{'b' * 20}\n")
    with pytest.raises(CsvValidationError) as info:
        load_recipients("points", path)
    assert info.value.problems[0][0] == 2 and "bytes32" in info.value.problems[0][1]


def test_card_rows(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f"address,tier\n{address(1)},gold\n{address(2)},0\n")
    assert load_recipients("cards", path, tiers=("Bronze", "Silver", "Gold")) == [
        Recipient(2, address(1), 2), Recipient(3, address(2), 0),
    ]  # fmt: skip


# -- the journal --------------------------------------------------------------------------------

HEADER = JournalHeader(
    csv_digest="ab" * 32, kind="points", chain_id=31337, contract=address(99), options={"reason": ""}
)


def new_batch(nonce: int, who: list[Recipient]) -> NewBatch:
    raw = os.urandom(40)
    return NewBatch(
        sender=address(98), nonce=nonce, tx_hash="0x" + keccak(raw).hex(), raw_tx=raw, gas_limit=1_000_000,
        reason="", signed_block=1, recipients=tuple(JournalEntry(r.address, r.line, r.value) for r in who),
    )  # fmt: skip


def test_journal_lifecycle(tmp_path: Path) -> None:
    rows = recipients(6)
    path = default_journal_path(tmp_path / "drop.csv")
    assert path == tmp_path / "drop.journal.sqlite"
    with Journal.open(path, HEADER) as journal:
        a, b, c = journal.record_signed(
            [new_batch(0, rows[:2]), new_batch(1, rows[2:4]), new_batch(2, rows[4:])]
        )
        assert [x.state for x in journal.in_flight()] == ["signed"] * 3
        journal.mark_sent([a, b])
        journal.record_outcomes([
            Outcome(a, "confirmed", block=5, gas_used=50_000),
            Outcome(b, "failed", block=5, gas_used=40_000, error="EnforcedPause()"),
        ])  # fmt: skip
        assert [x.id for x in journal.in_flight()] == [c]
        assert set(journal.paid()) == {rows[0].address, rows[1].address}
        assert journal.covered() == {r.address for r in rows[:2] + rows[4:]}
        assert journal.last_failures()[rows[2].address][1] == "EnforcedPause()"
        # recipients of a failed batch may be signed again; those of a live batch may not
        journal.record_signed([new_batch(3, rows[2:4])])
        with pytest.raises(sqlite3.IntegrityError, match="already covered"):
            journal.record_signed([new_batch(4, rows[3:5])])
        with pytest.raises(ValueError, match="confirmed, failed or dropped"):
            journal.record_outcomes([Outcome(c, "sent")])
    with Journal.open(path, HEADER) as again:  # reopened: the same state
        assert [b.state for b in again.batches()] == ["confirmed", "failed", "signed", "signed"]
        assert again.batches()[0].recipients[1] == JournalEntry(rows[1].address, rows[1].line, rows[1].value)


def test_journal_refuses_another_csv_or_settings(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal.open(path, HEADER).close()
    with pytest.raises(JournalMismatchError, match="different CSV"):
        Journal.open(path, JournalHeader(**{**HEADER.__dict__, "csv_digest": "cd" * 32}))
    with pytest.raises(InputError, match="started with options"):
        Journal.open(path, JournalHeader(**{**HEADER.__dict__, "options": {"reason": "promo"}}))
    with pytest.raises(InputError, match="started with contract"):
        Journal.open(path, JournalHeader(**{**HEADER.__dict__, "contract": address(1)}))
    with pytest.raises(JournalMismatchError):
        Journal.read_only(path, JournalHeader(**{**HEADER.__dict__, "csv_digest": "cd" * 32}))
    assert Journal.read_only(tmp_path / "missing.sqlite", HEADER) is None
    not_a_journal = tmp_path / "notes.txt"
    not_a_journal.write_text("hello, this is not SQLite at all " * 10)
    with pytest.raises(InputError, match="not an airdrop journal"):
        Journal.open(not_a_journal, HEADER)


def test_journal_is_held_by_one_process_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal.open(path, HEADER):
        other = subprocess.run(
            [sys.executable, "-c", "import sys, pathlib\n"
             "from loyalty_chain.airdrop.journal import Journal, JournalHeader\n"
             f"from test_airdrop_plan import HEADER\nJournal.open(pathlib.Path({str(path)!r}), HEADER)"],
            capture_output=True, text=True, cwd=Path(__file__).parent, check=False,
        )  # fmt: skip
        assert other.returncode != 0 and "in use by another airdrop run" in other.stderr
    Journal.open(path, HEADER).close()  # released


def test_report_and_results_csv(tmp_path: Path) -> None:
    rows = recipients(6)
    with Journal.open(tmp_path / "j.sqlite", HEADER) as journal:
        a, b, _ = journal.record_signed(
            [new_batch(0, rows[:1]), new_batch(1, rows[1:2]), new_batch(2, rows[2:3])]
        )
        journal.record_outcomes(
            [Outcome(a, "confirmed", 1, 30_000), Outcome(b, "failed", 1, 30_000, "Boom()")]
        )
        paid_before = journal.paid()
        (d,) = journal.record_signed([new_batch(3, rows[3:4])])
        journal.record_outcomes([Outcome(d, "confirmed", 2, 25_000)])
        report = build_report(
            "points", tmp_path / "drop.csv", journal, rows, paid_before,
            {rows[4].address: "already a member"}, [Outcome(d, "confirmed", 2, 25_000)], "stopped here",
            tmp_path / "drop.results.csv",
        )  # fmt: skip
    assert [r.status for r in report.recipients] == [
        STATUS_ALREADY_PAID, STATUS_FAILED, STATUS_IN_FLIGHT, STATUS_SENT, STATUS_SKIPPED, STATUS_NOT_SENT,
    ]  # fmt: skip
    assert report.recipients[1].detail == "Boom()" and report.recipients[5].detail == "stopped here"
    assert (report.transactions, report.gas_used, report.complete) == (1, 25_000, False)
    path = write_results_csv(report)
    assert path == tmp_path / "drop.results.csv"
    with path.open() as f:
        out = list(csv.DictReader(f))
    assert list(out[0]) == ["line", "address", "amount", "reason", "status", "tx_hash", "detail"]
    assert [r["line"] for r in out] == ["2", "3", "4", "5", "6", "7"]
    assert out[0]["tx_hash"] and out[3]["tx_hash"] and not out[5]["tx_hash"]
