"""Admissions' node reads sent together: each gets its own answers, in order; a failure is every
carried admission's; nobody is left waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from loyalty_chain.errors import RpcUnavailableError
from loyalty_chain.gateway.shared_reads import MAX_CALLS, SharedReads

THREADS = 24
WAIT_S = 30.0


class Node:
    """Answers each call with its own parameters; remembers each batch's size; slow enough that
    admissions arriving meanwhile queue up; fails the batches ``fail`` says."""

    def __init__(self, fail: bool = False) -> None:
        self.sizes: list[int] = []
        self.fail = fail
        self.lock = threading.Lock()

    def send(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[dict[str, Any]]:
        with self.lock:
            self.sizes.append(len(calls))
        time.sleep(0.02)
        if self.fail:
            raise RpcUnavailableError("http://node", "gone")
        return [{"result": [method, *params]} for method, params in calls]


def admit_all(reads: SharedReads, count: int) -> dict[int, Any]:
    """``count`` admissions reading four things each at the same moment; each one's outcome."""
    start = threading.Barrier(count, timeout=WAIT_S)
    out: dict[int, Any] = {}

    def admit(n: int) -> None:
        start.wait()
        calls = [("eth_call", [n, k]) for k in range(4)]
        try:
            out[n] = reads.read(calls)
        except RpcUnavailableError as exc:
            out[n] = exc

    threads = [threading.Thread(target=admit, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    assert not any(t.is_alive() for t in threads), "an admission was left waiting"
    return out


def test_reads_arriving_together_share_batches_and_each_gets_its_own_answers() -> None:
    node = Node()
    reads = SharedReads(node.send, "http://node")
    out = admit_all(reads, THREADS)
    for n in range(THREADS):
        assert out[n] == [{"result": ["eth_call", n, k]} for k in range(4)]
    assert sum(node.sizes) == 4 * THREADS
    assert len(node.sizes) < THREADS  # shared: fewer requests than admissions
    assert max(node.sizes) <= MAX_CALLS
    assert (reads.batches, reads.reads) == (len(node.sizes), THREADS)


def test_one_admission_alone_is_sent_at_once() -> None:
    node = Node()
    reads = SharedReads(node.send, "http://node")
    assert reads.read([("eth_chainId", [])]) == [{"result": ["eth_chainId"]}]
    assert node.sizes == [1]


def test_a_failed_batch_fails_every_admission_it_carried_and_the_next_ones_still_go() -> None:
    node = Node(fail=True)
    reads = SharedReads(node.send, "http://node")
    out = admit_all(reads, 8)
    assert all(isinstance(v, RpcUnavailableError) for v in out.values())
    node.fail = False
    assert reads.read([("eth_chainId", [])]) == [{"result": ["eth_chainId"]}]


def test_a_batch_answered_in_part_is_an_error_not_a_wrong_answer() -> None:
    reads = SharedReads(lambda calls: [{"result": 1}], "http://node")
    with pytest.raises(RpcUnavailableError, match="in part"):
        reads.read([("eth_chainId", []), ("eth_blockNumber", [])])
