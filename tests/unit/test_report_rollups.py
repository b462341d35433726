"""The whole report read from the indexer's roll-ups (cards, cohorts, earned, totals) against the same
report computed from the events alone (every KPI on its scan path): equal, field by field, for open
and closed date ranges, after reorg rollbacks, with amounts beyond 64 bits, for a cache built range
by range, deferred, or upgraded from the previous schema."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support.rollups import table_rows
from test_indexer_rollups import DAY, START, windows

from loyalty_chain.indexer import EventStore, program_specs
from loyalty_chain.indexer.store import SCHEMA_VERSION
from loyalty_chain.reports import compute
from loyalty_chain.reports.build import ProgramInfo
from loyalty_chain.reports.model import ProgramReport
from loyalty_chain.reports.query import ZERO, Reader, Window

INFO = ProgramInfo("cafe", 31337, "0x" + "ab" * 20, ("Bronze", "Silver", "Gold"), 0, "LP")
TOKEN_BASE = 2**70  # card ids beyond 64 bits, as the card's are (stored as decimal text)

Rows = dict[str, list[tuple[Any, ...]]]
Block = tuple[int, str, int, Rows]


class Program:
    """A random program's events, block by block: enrolments, card moves, tier and expiry changes,
    cancellations and revocations, mints, P2P transfers, burns and redemptions."""

    def __init__(self, seed: int, big: bool) -> None:
        self.rng = random.Random(seed)
        self.big = big
        self.wallets = ["0x" + f"{i:040x}" for i in range(1, 30)]
        self.balance: dict[str, int] = dict.fromkeys(self.wallets, 0)
        self.card_of: dict[str, int] = {}
        self.tier: dict[int, int] = {}
        self.until: dict[int, int] = {}
        self.log_index = 0

    def blocks(self, count: int, first: int, ts: int) -> list[Block]:
        salt = self.rng.randint(0, 2**32)
        out = []
        for number in range(first, first + count):
            ts += self.rng.choice([60, 3_600, DAY, 9 * DAY, 25 * DAY]) if self.rng.random() < 0.6 else 12
            rows: Rows = {}
            self.log_index = 0
            for _ in range(self.rng.randint(0, 5)):
                self.event(rows, (number, f"0x{number:064x}", ts))
            out.append((number, f"0x{salt:032x}{number:032x}", ts, rows))
        return out

    def event(self, rows: Rows, at: tuple[Any, ...]) -> None:
        rng, who = self.rng, self.rng.choice(self.wallets)
        kind = rng.random()
        token = self.card_of.get(who)
        number, tx, ts = at

        def add(table: str, *values: Any) -> None:  # logs in the order a contract emits them
            rows.setdefault(table, []).append((number, self.log_index, tx, ts, *values))
            self.log_index += 1

        if token is None and kind < 0.3:
            token = TOKEN_BASE + len(self.tier) + 1
            self.card_of[who], self.tier[token] = token, rng.randint(0, 2)
            self.until[token] = rng.choice([0, ts + rng.randint(-DAY, 90 * DAY)])
            add("MembershipCard_Transfer", ZERO, who, str(token))
            add("MembershipCard_MemberEnrolled", str(token), who, self.tier[token], self.until[token])
        elif token is not None and kind < 0.36:
            new = rng.randint(0, 3)
            add("MembershipCard_TierChanged", str(token), who, self.tier[token], new)
            self.tier[token] = new
        elif token is not None and kind < 0.4:
            new = ts + rng.randint(-30 * DAY, 30 * DAY)
            add("MembershipCard_ValidUntilChanged", str(token), who, self.until[token], new)
            self.until[token] = new
        elif token is not None and kind < 0.44:
            del self.card_of[who]
            table = rng.choice(["MembershipCard_CardCancelled", "MembershipCard_CardRevoked"])
            add(table, str(token), who, *([ZERO] if table.endswith("Revoked") else []))
            add("MembershipCard_Transfer", who, ZERO, str(token))
        elif token is not None and kind < 0.47:
            other = rng.choice([w for w in self.wallets if w not in self.card_of] or [who])
            if other != who:
                del self.card_of[who]
                self.card_of[other] = token
                add("MembershipCard_Transfer", who, other, str(token))
        elif kind < 0.75 or self.balance[who] == 0:
            amount = rng.randint(1, 10**21 if self.big else 1_000)
            self.balance[who] += amount
            add("LoyaltyPoints_Transfer", ZERO, who, amount if amount < 2**63 else str(amount))
        else:
            amount = rng.randint(1, self.balance[who])
            self.balance[who] -= amount
            receiver = ZERO if kind < 0.88 else rng.choice(self.wallets)
            self.balance[receiver] = self.balance.get(receiver, 0) + amount
            stored = amount if amount < 2**63 else str(amount)
            add("LoyaltyPoints_Transfer", who, receiver, stored)
            if receiver == ZERO and kind < 0.82:
                add("PerkCatalog_PerkRedeemed", len(rows), 1, who, 1, stored)


def fill(store: EventStore, chain: list[Block], step: int, rollups: bool = True) -> None:
    for i in range(0, len(chain), step):
        part = chain[i : i + step]
        rows: Rows = {}
        for *_, block_rows in part:
            for table, values in block_rows.items():
                rows.setdefault(table, []).extend(values)
        big = ["LoyaltyPoints_Transfer.value", "PerkCatalog_PerkRedeemed.pointsBurned"]
        store.append(
            rows, [(n, h, ts) for n, h, ts, _ in part], part[-1][0], big_columns=big, rollups=rollups
        )


def scanned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every KPI on its path from the events: no range is taken for the whole cache."""
    window = Reader.window

    def no_rollups(self: Reader, since: int | None, until: int | None) -> Window:
        return dataclasses.replace(window(self, since, until), from_start=False, to_end=False)

    monkeypatch.setattr(Reader, "window", no_rollups)


def report(store: EventStore, since: int | None = None, until: int | None = None) -> ProgramReport:
    return dataclasses.replace(compute(store, INFO, since=since, until=until), seconds=0)


def old_avg_days(store: EventStore, w: Window) -> float | None:
    """The time from earn to redeem as the report computed it before ``earned.first_ts``."""
    row = store.conn.execute(
        """SELECT AVG(x.ts - f.first) FROM "PerkCatalog_PerkRedeemed" x
           JOIN (SELECT "to" AS who, MIN(ts) AS first FROM "LoyaltyPoints_Transfer" WHERE "from" = ?
                 GROUP BY "to") f ON f.who = x.member
           WHERE x.block BETWEEN ? AND ?""",
        (ZERO, w.first_block, w.last_block),
    ).fetchone()
    return None if row[0] is None else round(float(row[0]) / DAY, 2)


def check_reports(store: EventStore, monkeypatch: pytest.MonkeyPatch, rng: random.Random) -> None:
    stamps = [int(ts) for (ts,) in store.conn.execute("SELECT ts FROM blocks ORDER BY number")]
    ranges = windows(rng, stamps)[:13]
    with monkeypatch.context() as patched:
        scanned(patched)
        expected = [report(store, since, until) for since, until in ranges]
    for (since, until), want in zip(ranges, expected, strict=True):
        got = report(store, since, until)
        for field in dataclasses.fields(ProgramReport):
            assert getattr(got, field.name) == getattr(want, field.name), (since, until, field.name)
        w = Reader(store).window(since, until)
        assert got.avg_days_earn_to_redeem == old_avg_days(store, w)
    whole = expected[0]
    assert whole.members and whole.cohorts and whole.top_earners and whole.p2p_transfers


@pytest.mark.parametrize("seed", [1, 2])
def test_reports_from_the_rollups_equal_reports_from_the_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    program = Program(seed, big=seed == 2)
    chain = program.blocks(150, 1, START)
    with EventStore.open(tmp_path / "c.sqlite", program_specs()) as store:
        fill(store, chain[:100], step=100, rollups=False)  # a first index: settled once
        store.settle_rollups()
        fill(store, chain[100:], step=3)  # then syncs of a few blocks
        check_reports(store, monkeypatch, random.Random(seed))


@pytest.mark.parametrize("seed", [3, 4])
def test_a_rollback_leaves_the_rollups_of_a_cache_that_never_saw_the_orphans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    program = Program(seed, big=seed == 4)
    kept = program.blocks(90, 1, START)
    state = (dict(program.balance), dict(program.card_of), dict(program.tier), dict(program.until))
    orphaned = program.blocks(30, 91, kept[-1][2])
    program.balance, program.card_of, program.tier, program.until = state
    replacement = program.blocks(25, 91, kept[-1][2] + 5)
    with EventStore.open(tmp_path / "reorged.sqlite", program_specs()) as store:
        fill(store, kept + orphaned, step=7)
        assert any("MembershipCard_Transfer" in rows for *_, rows in orphaned)
        assert store.rollback_to(90) > 0
        fill(store, replacement, step=4)
        check_reports(store, monkeypatch, random.Random(seed))
        reorged = table_rows(store)
    with EventStore.open(tmp_path / "fresh.sqlite", program_specs()) as fresh:
        fill(fresh, kept + replacement, step=11)
        assert reorged == table_rows(fresh)


def test_a_cache_of_the_previous_schema_gets_its_rollups_from_its_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version-3 cache (events and the two roll-ups of then) is upgraded in place: its events kept,
    every roll-up built from them, nothing asked of a node; an upgrade stopped halfway is done again."""
    chain = Program(5, big=False).blocks(80, 1, START)
    with EventStore.open(tmp_path / "fresh.sqlite", program_specs()) as fresh:
        fill(fresh, chain, step=9)
        expected = table_rows(fresh)
        want = report(fresh)
    with EventStore.open(tmp_path / "old.sqlite", program_specs()) as old:
        fill(old, chain, step=9)
        cursor = old.cursor
    conn = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    for table in ("earned", "point_totals", "wallet_months", "cohort_sizes", "card_state"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")
    conn.close()

    def stopped(*_: object) -> None:
        raise KeyboardInterrupt  # the upgrade is stopped before it built the roll-ups

    with monkeypatch.context() as patched:
        patched.setattr(EventStore, "_settle", stopped)
        with pytest.raises(KeyboardInterrupt):
            EventStore.open(tmp_path / "old.sqlite", program_specs())
    with EventStore.open(tmp_path / "old.sqlite", program_specs()) as upgraded:  # upgraded the next time
        assert upgraded.get("schema") == SCHEMA_VERSION and upgraded.cursor == cursor
        assert table_rows(upgraded) == expected
        assert report(upgraded) == want


def test_a_cache_of_an_older_schema_is_emptied_for_a_rebuild(tmp_path: Path) -> None:
    chain = Program(6, big=False).blocks(20, 1, START)
    with EventStore.open(tmp_path / "c.sqlite", program_specs()) as store:
        fill(store, chain, step=5)
        store.put("schema", "2")
    with EventStore.open(tmp_path / "c.sqlite", program_specs()) as reopened:
        assert reopened.cursor is None and reopened.count() == 0
        assert all(rows == [] for rows in table_rows(reopened).values())
