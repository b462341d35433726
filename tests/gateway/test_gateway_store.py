"""The store: its group commit (events posted at once share a transaction, each in its own
savepoint), and the one deployment of one program whose events it holds."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from loyalty_chain.chain import Chain
from loyalty_chain.errors import InputError
from loyalty_chain.gateway import Gateway, SqliteStore, load_rules
from loyalty_chain.gateway.store import Conn
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program

THREADS = 16


def insert(conn: Conn, event_id: str) -> None:
    if event_id == "bad":
        conn.execute("INSERT INTO grants (event_id, member, points, reason, kind, occurred)"
                     " VALUES ('bad', 'm', 1, 'r', 'k', 0)")  # fmt: skip
        raise ValueError("the rules refused it")
    conn.execute(
        "INSERT INTO events (id, type, member, occurred, body, status, points, received, answer)"
        " VALUES (?, 'custom', 'm', 0, '{}', 'accepted', 1, 0, ?)",
        (event_id, json.dumps({"status": "accepted"})),
    )


def accept(store: SqliteStore, event_id: str) -> bool:
    return store.accept_event(event_id, lambda conn: None, lambda conn, _: insert(conn, event_id))[0]


def test_events_posted_at_once_are_stored_once_and_a_failure_stays_its_own(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.sqlite")
    ids = [f"e-{i % (THREADS // 2)}" for i in range(THREADS)] + ["bad"]  # every id twice, one failing
    start = threading.Barrier(len(ids), timeout=30)
    outcomes: dict[int, object] = {}

    def post(n: int, event_id: str) -> None:
        start.wait()
        try:
            outcomes[n] = accept(store, event_id)
        except ValueError as exc:
            outcomes[n] = exc

    threads = [threading.Thread(target=post, args=(n, e)) for n, e in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert len(outcomes) == len(ids)
        new = [outcomes[n] for n, e in enumerate(ids) if e != "bad"]
        assert new.count(True) == THREADS // 2 and new.count(False) == THREADS // 2
        assert isinstance(outcomes[len(ids) - 1], ValueError)
        assert store.query("SELECT COUNT(*) FROM events") == [(THREADS // 2,)]
        assert store.query("SELECT COUNT(*) FROM grants") == [(0,)]  # the failed one's write rolled back
    finally:
        store.close()


def test_one_at_a_time_too(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.sqlite")
    try:
        assert accept(store, "x") is True
        assert accept(store, "x") is False
        with pytest.raises(ValueError, match="refused"):
            accept(store, "bad")
    finally:
        store.close()


def test_reads_do_not_wait_for_a_write_transaction_and_see_what_it_committed(tmp_path: Path) -> None:
    """A read outside a transaction goes to a reader connection: it answers while another thread's
    write transaction is open (the last commit, not the open transaction's writes) and sees those
    writes once committed; a read inside a transaction sees its own writes."""
    store = SqliteStore(tmp_path / "gateway.sqlite")
    key = "SELECT value FROM meta WHERE key = 'probe'"
    inside, release = threading.Event(), threading.Event()
    seen_inside: list[object] = []

    def writer() -> None:
        with store.transaction() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES ('probe', 'written')")
            seen_inside.append(store.query(key))  # its own uncommitted write
            inside.set()
            assert release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(10)
        answered = threading.Event()
        reads: list[object] = []

        def reader() -> None:
            reads.append(store.query(key))
            answered.set()

        threading.Thread(target=reader).start()
        assert answered.wait(5), "a read waited for the open write transaction"
        assert reads == [[]]  # the open transaction's write is not seen yet
    finally:
        release.set()
        thread.join(10)
    assert seen_inside == [[("written",)]]
    assert store.query(key) == [("written",)]
    store.close()


def test_a_store_holds_one_deployment_of_one_program(
    chain: Chain, program: ProgramRecord, tmp_path: Path, rules_file: Path
) -> None:
    """Its events and grants were made on one deployment: a repeated event id must never answer
    "issued" for another program, nor for the same one deployed again on a new devnet (the same
    name, addresses and chain id; only the deployment block's hash differs)."""
    store = SqliteStore(tmp_path / "gateway.sqlite")
    rules = load_rules(rules_file)
    try:
        Gateway(chain, program, chain.dev_account(0), store, rules)
        Gateway(chain, program, chain.dev_account(0), store, rules)  # the same deployment: served again
        bakery = deploy_program(chain, ProgramOptions("bakery"), chain.dev_account(0), root=tmp_path / "d")
        with pytest.raises(InputError, match=r"holds program 'cafe' .* not this deployment of 'bakery'"):
            Gateway(chain, bakery, chain.dev_account(0), store, rules)
        redeployed = replace(program, block_hash="0x" + "ab" * 32)
        with pytest.raises(InputError, match="Give this program a --db of its own"):
            Gateway(chain, redeployed, chain.dev_account(0), store, rules)
    finally:
        store.close()
