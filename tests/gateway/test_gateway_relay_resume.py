"""Accepted relays resumed after the gateway stops dead: each redemption on chain exactly once.

In-process, the stop is an exception no handler catches, raised at each moment that matters (the
group formed but not sent; signed and written down but not broadcast; broadcast but not mined;
mined but not recorded), then a new gateway (new chain connection, same database and journal)
runs. For real, ``test_kill_9_while_relaying_…`` kills ``loyalty-chain serve`` with SIGKILL when
the database and journal show each of these moments.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from support.gateway_process import automine, http, one_second_blocks, start, wait_up
from support.gateway_relays import store_relay

from loyalty_chain.chain import Chain, connect, free_port
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.delivery.outbox import Outbox
from loyalty_chain.gasless import sign_typed_data
from loyalty_chain.gateway import Gateway, SqliteStore, load_rules
from loyalty_chain.gateway.relayer import Relayer
from loyalty_chain.program import ProgramOptions, deploy_program
from loyalty_chain.records import PerkSpec

PER_POINT = 3
SETTLE_S = 60.0
PRICE = 10


class Stopped(BaseException):
    """The process "dies" here: nothing catches it, no transaction in progress commits."""


def stop(*_args: Any, **_kwargs: Any) -> None:
    raise Stopped


def members_with_points(brand: LoyaltyClient, count: int, seed: int) -> list[LocalAccount]:
    members = [Account.from_key((seed * 1000 + i + 1).to_bytes(32, "big")) for i in range(count)]
    brand.enroll_many([(m.address, 0) for m in members])
    brand.issue_many([(m.address, 100) for m in members], "welcome")
    return members


@contextmanager
def patched(target: Any, name: str) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, stop)
    try:
        yield
    finally:
        setattr(target, name, original)


POINTS: dict[str, Callable[[Gateway], Any]] = {
    "grouped, not sent": lambda gw: patched(gw.client.sender, "start_txs"),
    "signed and journaled, not broadcast": lambda gw: patched(Outbox, "_broadcast"),
    "broadcast, not mined": lambda gw: patched(Outbox, "_poll"),
    "mined, not recorded": lambda gw: patched(Relayer, "_settle"),
}


def relayed_count(brand: LoyaltyClient) -> int:
    return int(brand.catalog.functions.redemptionCount().call())


@pytest.mark.slow
def test_a_stop_at_every_point_then_a_restart_relays_each_once(
    anvil_factory: Callable[..., Chain], rules_file: Path, tmp_path: Path
) -> None:
    chain = anvil_factory()
    program = deploy_program(
        chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path / "deployments"
    )
    brand = LoyaltyClient(chain, program, chain.dev_account(0))
    brand.add_perk(PerkSpec("Free latte", price=PRICE))
    for n, (point, stop_at) in enumerate(POINTS.items()):
        db = tmp_path / f"gw-{n}.sqlite"
        automine(chain)  # members set up at once, then blocks a second apart: "broadcast, not mined" is real
        members = members_with_points(brand, PER_POINT, n + 1)
        one_second_blocks(chain)
        before = relayed_count(brand)
        gw = Gateway(chain, program, chain.dev_account(0), SqliteStore(db), load_rules(rules_file))
        ids = [store_relay(gw, m, 1) for m in members]
        with stop_at(gw), pytest.raises(Stopped):
            gw.relayer.run_once()
        gw.store.close()

        # the restart: a new process would have a new connection, nonce count and journal handle
        again = Gateway(
            connect(chain.rpc_url), program, chain.dev_account(0), SqliteStore(db), load_rules(rules_file)
        )
        try:
            states = again.store.query("SELECT state FROM relay_groups")
            assert states == [("pending",)], (point, states)
            deadline = time.monotonic() + SETTLE_S
            while again.relayer.run_once() == 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            rows = again.store.query("SELECT id, status, tx_hash, error FROM redemptions")
            assert {r[1] for r in rows} == {"relayed"}, (point, rows)
            assert sorted(r[0] for r in rows) == sorted(ids)
            assert again.relayer.run_once() == 0  # nothing is sent twice
        finally:
            again.store.close()
        assert relayed_count(brand) - before == PER_POINT, point
        assert [brand.balance(m.address) for m in members] == [100 - PRICE] * PER_POINT, point
        assert [int(brand.catalog.functions.nonces(m.address).call()) for m in members] == [1] * PER_POINT


PER_ROUND = 4
MOMENT_S = 30.0


_readers: dict[Path, sqlite3.Connection] = {}


def count(path: Path, sql: str) -> int:
    """One number from a database the gateway writes (WAL: readers do not block it). The test polls
    every few milliseconds: one read-only connection per file, kept (each query sees the last commit)."""
    if path not in _readers:
        if not path.exists():
            return 0
        _readers[path] = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5, check_same_thread=False)
    try:
        return int(_readers[path].execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


@pytest.mark.slow
def test_kill_9_while_relaying_then_a_restart_relays_each_stored_one_once(
    anvil_factory: Callable[..., Chain], rules_file: Path, tmp_path: Path
) -> None:
    chain = anvil_factory()  # set up on automine; 1-second blocks from the first gateway on
    program = deploy_program(
        chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path / "deployments"
    )
    brand = LoyaltyClient(chain, program, chain.dev_account(0))
    brand.add_perk(PerkSpec("Free latte", price=PRICE))
    db, log = tmp_path / "gw.sqlite", tmp_path / "gateway.log"
    journal = db.with_name(db.name + ".operations.sqlite")
    signed = "SELECT COUNT(*) FROM versions WHERE key LIKE '%:relay-batches:%'"
    # kill when the database, journal or chain show each moment (or after MOMENT_S regardless)
    moments: list[tuple[str, Callable[[int, int], bool]]] = [
        ("stored", lambda _j, _c: count(db, "SELECT COUNT(*) FROM relays WHERE group_id IS NULL") > 0),
        ("grouped", lambda j, _c: count(db, "SELECT COUNT(*) FROM relay_groups WHERE state = 'pending'") > 0
            and count(journal, signed) == j),
        ("signed", lambda j, _c: count(journal, signed) > j),
        ("mined", lambda _j, c: relayed_count(brand) > c),
    ]  # fmt: skip
    # every member set up before any gateway runs: nothing else sends from the relayer's account
    rounds = [members_with_points(brand, PER_ROUND, 10 + n) for n in range(len(moments))]
    start_count = relayed_count(brand)
    one_second_blocks(chain)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    hit: list[str] = []
    process = start(program, chain, f"sqlite:///{db}", rules_file, port, log)
    try:
        for (moment, seen), members in zip(moments, rounds, strict=True):
            wait_up(url, process, log)
            journaled, mined = count(journal, signed), relayed_count(brand)
            bodies = []
            for member in members:
                typed = brand.redemption_request(member.address, 1)
                bodies.append({"typed_data": typed, "signature": sign_typed_data(member, typed)})
            posts = [threading.Thread(target=post_quietly, args=(url, body)) for body in bodies]
            for t in posts:
                t.start()
            deadline = time.monotonic() + MOMENT_S
            while not seen(journaled, mined) and time.monotonic() < deadline:
                time.sleep(0.005)
            hit.append(moment if time.monotonic() < deadline else f"{moment} (not seen)")
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            for t in posts:
                t.join(30)
            process = start(program, chain, f"sqlite:///{db}", rules_file, port, log)
        wait_up(url, process, log)
        deadline = time.monotonic() + SETTLE_S
        while count(db, "SELECT COUNT(*) FROM redemptions WHERE status = 'relaying'") and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
    finally:
        process.kill()
        process.wait(10)
        for reader in _readers.values():
            reader.close()
        _readers.clear()
    print("killed when:", hit)  # shown with -s, and on failure
    # the kills with a block's time to land came at their moment: one never seen (e.g. the journal's
    # key renamed) would quietly make this test kill at MOMENT_S, when everything is long mined.
    # "stored" and "grouped" last milliseconds: on a loaded machine a 5 ms poll can miss them.
    assert "signed" in hit and "mined" in hit, hit
    store = SqliteStore(db)
    try:
        rows = store.query("SELECT member, status, tx_hash FROM redemptions")
    finally:
        store.close()
    assert {status for _, status, _ in rows} <= {"relayed"}, (hit, rows, log.read_text())
    stored = {member for member, _, _ in rows}
    assert len(stored) == len(rows) and stored, hit  # one stored redemption per member at most
    for member in (m for members in rounds for m in members):
        nonce = int(brand.catalog.functions.nonces(member.address).call())
        assert nonce == (1 if member.address in stored else 0), (member.address, hit)
    assert relayed_count(brand) - start_count == len(rows), hit


def post_quietly(url: str, body: dict[str, Any]) -> None:
    """A wallet's POST that the kill may cut off: its answer does not matter here, the store does."""
    with suppress(httpx.TransportError):
        http().post(f"{url}/v1/redemptions", json=body, timeout=60)
