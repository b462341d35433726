"""The indexer's roll-ups (wallet_days, balances) against the full scans of the point transfers that the
reports used before them: same answers, exactly, for any date range (whole days and days cut in the
middle), after rollbacks, with balances beyond 64 bits."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from loyalty_chain.indexer import EventStore, program_specs, quote
from loyalty_chain.reports import activity, points, rollups
from loyalty_chain.reports.query import ZERO, Reader, Window

T = quote("LoyaltyPoints_Transfer")
DAY = 86_400
START = 1_767_225_600  # 2026-01-01 00:00 UTC
OLD_ACTOR = f"""CASE WHEN "from" = '{ZERO}' THEN "to" ELSE "from" END"""


Block = tuple[int, str, int, list[tuple[Any, ...]]]


def chain_rows(rng: random.Random, blocks: int, big: bool, first: int = 1, ts: int = START) -> list[Block]:
    """(block, hash, ts, transfer rows) for ``blocks`` blocks from ``first`` over months: mints, P2P
    moves, burns; the hash depends on the seed, as a reorg's replacement blocks' do."""
    salt = rng.randint(0, 2**32)
    wallets = ["0x" + f"{i:040x}" for i in range(1, 40)]
    balance: defaultdict[str, int] = defaultdict(int)
    out = []
    for number in range(first, first + blocks):
        ts += rng.choice([60, 3_600, 20_000, DAY, 3 * DAY, 20 * DAY]) if rng.random() < 0.6 else 12
        rows = []
        for index in range(rng.randint(0, 4)):
            who = rng.choice(wallets)
            kind = rng.random()
            if kind < 0.5 or balance[who] == 0:
                amount = rng.randint(1, 10**21 if big else 1_000)
                sender, receiver = ZERO, who
            else:
                amount = rng.randint(1, balance[who])
                sender, receiver = who, (ZERO if kind < 0.7 else rng.choice(wallets))
            balance[sender] -= amount
            balance[receiver] += amount
            stored = amount if amount < 2**63 else str(amount)
            rows.append((number, index, f"0x{number:064x}", ts, sender, receiver, stored))
        out.append((number, f"0x{salt:032x}{number:032x}", ts, rows))
    return out


def fill(store: EventStore, chain: list[Block], step: int, rollups: bool = True) -> None:
    for i in range(0, len(chain), step):
        part = chain[i : i + step]
        rows = [row for *_, block_rows in part for row in block_rows]
        big = ["LoyaltyPoints_Transfer.value"] if any(isinstance(r[6], str) for r in rows) else []
        store.append({"LoyaltyPoints_Transfer": rows}, [(n, h, ts) for n, h, ts, _ in part], part[-1][0],
                     big_columns=big, rollups=rollups)  # fmt: skip


# -- the full scans the reports ran before the roll-ups (copied from them) ------------------------


def old_holders(r: Reader, w: Window) -> int:
    # One fix to the old query: on the exact path (amounts beyond 64 bits) its sums are text, and
    # text > 0 always holds in SQLite, so it counted every wallet that ever held points; the CAST
    # keeps the sign (it saturates at 64 bits).
    sql = f"""SELECT COUNT(*) FROM (
              SELECT who, SUM(delta) AS balance FROM (
                SELECT "to" AS who, value AS delta FROM {T} WHERE block <= :hi
                UNION ALL
                SELECT "from", -value FROM {T} WHERE block <= :hi
              ) WHERE who != :z GROUP BY who HAVING CAST(balance AS INTEGER) > 0)"""
    return int(r.one(sql, {"hi": w.last_block, "z": ZERO}, sums=["LoyaltyPoints_Transfer.value"])[0] or 0)


def old_active(r: Reader, w: Window, days: int) -> int:
    lo = r.conn.execute("SELECT MIN(number) FROM blocks WHERE ts > ?", (w.until - days * DAY,)).fetchone()[0]
    if lo is None:
        return 0
    sql = f"SELECT COUNT(DISTINCT {OLD_ACTOR}) FROM {T} WHERE block BETWEEN ? AND ?"
    return int(r.one(sql, (lo, w.last_block))[0] or 0)


def old_months(r: Reader, w: Window) -> dict[str, set[str]]:
    months: dict[str, set[str]] = defaultdict(set)
    for who, month in r.conn.execute(
        f"""SELECT {OLD_ACTOR} AS who, strftime('%Y-%m', ts, 'unixepoch') AS m FROM {T}
            WHERE block <= ? GROUP BY who, m""",
        (w.last_block,),
    ):
        months[who].add(month)
    return months


def old_active_series(r: Reader, w: Window, fmt: str) -> dict[str, int]:
    rows = r.conn.execute(
        f"""SELECT strftime('{fmt}', ts, 'unixepoch') AS p, COUNT(DISTINCT {OLD_ACTOR}) FROM {T}
            WHERE block BETWEEN ? AND ? GROUP BY p""",
        (w.first_block, w.last_block),
    )
    return {str(p): int(n) for p, n in rows}


def windows(rng: random.Random, stamps: list[int]) -> list[tuple[int | None, int | None]]:
    """Open ends, random ranges, and ranges that end or start a second beside a block (cutting its
    day in two when another block shares that day)."""
    out: list[tuple[int | None, int | None]] = [(None, None)]
    for _ in range(25):
        a, b = sorted(rng.randint(stamps[0] - DAY, stamps[-1] + DAY) for _ in range(2))
        out += [(a, b), (None, b), (a, None)]
        c, d = sorted(rng.choice(stamps) + rng.choice([-1, 0, 1]) for _ in range(2))
        out += [(c, d), (None, d), (c, None)]
    return out


def check_all(r: Reader, rng: random.Random) -> None:
    stamps = [int(ts) for (ts,) in r.conn.execute("SELECT ts FROM blocks ORDER BY number")]
    for since, until in windows(rng, stamps):
        w = r.window(since, until)
        where = f"window {since}..{until}"
        assert points.point_holders(r, w) == old_holders(r, w), where
        for days in (1, 30, 90):
            assert points.active_wallets(r, w, days) == old_active(r, w, days), (where, days)
        new_months: dict[str, set[str]] = defaultdict(set)
        sql, params = rollups.wallet_days(r, 0, w.last_block)
        for who, day in r.conn.execute(sql, params):
            new_months[who].add(activity._label(int(day) * DAY, "month"))
        assert new_months == old_months(r, w), where
        s = activity.series(r, w, ZERO)
        expected = old_active_series(r, w, activity._FORMATS[s.period])
        assert s.active == tuple(expected.get(label, 0) for label in s.labels), where


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_kpis_agree_with_the_full_scans(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    chain = chain_rows(rng, 120, big=seed == 3)
    with EventStore.open(tmp_path / "c.sqlite", program_specs()) as store:
        fill(store, chain, step=rng.randint(1, 17))
        assert store.count("LoyaltyPoints_Transfer") > 100
        check_all(Reader(store), rng)


def rollup_tables(store: EventStore) -> tuple[list[Any], list[Any]]:
    days = store.conn.execute("SELECT wallet, day, n FROM wallet_days ORDER BY 1, 2").fetchall()
    balances = store.conn.execute("SELECT wallet, balance FROM balances ORDER BY 1").fetchall()
    return days, balances


@pytest.mark.parametrize("seed", [4, 5])
def test_a_rollback_takes_its_transfers_out_of_the_rollups(tmp_path: Path, seed: int) -> None:
    """A reorg replaces the last blocks: the roll-ups equal those of a cache that never saw the old ones."""
    rng = random.Random(seed)
    kept = chain_rows(rng, 80, big=seed == 5)
    orphaned = chain_rows(random.Random(seed + 100), 30, big=True, first=81, ts=kept[-1][2])
    replacement = chain_rows(random.Random(seed + 200), 20, big=False, first=81, ts=kept[-1][2])
    with EventStore.open(tmp_path / "reorged.sqlite", program_specs()) as store:
        fill(store, kept + orphaned, step=7)
        before = store.count("LoyaltyPoints_Transfer")
        deleted = store.rollback_to(80)
        assert deleted == before - sum(len(rows) for *_, rows in kept) and deleted > 0
        fill(store, replacement, step=5)
        reorged = rollup_tables(store)
        r = Reader(store)
        check_all(r, rng)
    with EventStore.open(tmp_path / "fresh.sqlite", program_specs()) as fresh:
        fill(fresh, kept + replacement, step=9)
        assert reorged == rollup_tables(fresh)


def test_a_rollback_to_before_everything_empties_the_rollups(tmp_path: Path) -> None:
    with EventStore.open(tmp_path / "c.sqlite", program_specs()) as store:
        fill(store, chain_rows(random.Random(6), 30, big=True), step=4)
        store.rollback_to(0)
        assert rollup_tables(store) == ([], [])


def expected_tables(chain: list[Block]) -> tuple[list[Any], list[Any]]:
    """The roll-ups computed here from the rows, in Python (exact integers)."""
    days: defaultdict[tuple[str, int], int] = defaultdict(int)
    balance: defaultdict[str, int] = defaultdict(int)
    for *_, rows in chain:
        for _, _, _, ts, sender, receiver, value in rows:
            days[(receiver if sender == ZERO else sender, ts // DAY)] += 1
            balance[sender] -= int(value)
            balance[receiver] += int(value)
    balance.pop(ZERO, None)
    stored = [(w, b if -(2**63) <= b < 2**63 else str(b)) for w, b in sorted(balance.items()) if b]
    return [(w, d, n) for (w, d), n in sorted(days.items())], stored


@pytest.mark.parametrize("big", [False, True])
def test_deferred_rollups_settle_to_the_same_tables(tmp_path: Path, big: bool) -> None:
    """A sync appends its ranges without the roll-ups and settles them in one pass at the end; a sync
    stopped before that leaves them to the next open. Either way: the tables of range-by-range."""
    chain = chain_rows(random.Random(7), 90, big=big)
    expected = expected_tables(chain)
    with EventStore.open(tmp_path / "each.sqlite", program_specs()) as each:
        fill(each, chain, step=6)
        assert rollup_tables(each) == expected
    with EventStore.open(tmp_path / "deferred.sqlite", program_specs()) as deferred:
        fill(deferred, chain[:40], step=6)
        fill(deferred, chain[40:], step=11, rollups=False)
        assert rollup_tables(deferred) != expected  # not settled yet
        deferred.settle_rollups()
        assert rollup_tables(deferred) == expected
    with EventStore.open(tmp_path / "stopped.sqlite", program_specs()) as stopped:
        fill(stopped, chain, step=8, rollups=False)
        assert rollup_tables(stopped) == ([], [])
    with EventStore.open(tmp_path / "stopped.sqlite", program_specs()) as reopened:
        assert rollup_tables(reopened) == expected


def test_a_rollback_settles_deferred_rollups_first(tmp_path: Path) -> None:
    kept = chain_rows(random.Random(8), 60, big=False)
    orphaned = chain_rows(random.Random(9), 20, big=False, first=61, ts=kept[-1][2])
    with EventStore.open(tmp_path / "c.sqlite", program_specs()) as store:
        fill(store, kept + orphaned, step=9, rollups=False)
        store.rollback_to(60)
        assert rollup_tables(store) == expected_tables(kept)


def test_sums_beyond_64_bits_of_64_bit_amounts_stay_exact(tmp_path: Path) -> None:
    """Every amount fits SQLite's integers but a wallet's sum does not: SQLite's SUM refuses it (integer
    overflow) and the balances are summed exactly in Python instead."""
    wallet = "0x" + "ab" * 20
    amounts = [2**62 + 5, 2**62 + 7, 2**62 + 11]
    rows = [(1, i, "0x" + "01" * 32, START, ZERO, wallet, a) for i, a in enumerate(amounts)]
    chain: list[Block] = [(1, "0x" + "cd" * 32, START, rows)]
    with EventStore.open(tmp_path / "c.sqlite", program_specs()) as store:
        fill(store, chain, step=1, rollups=False)
        store.settle_rollups()
        assert rollup_tables(store)[1] == [(wallet, str(sum(amounts)))]
        assert rollup_tables(store) == expected_tables(chain)
