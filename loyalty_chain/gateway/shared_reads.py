"""Node reads of relays admitted at the same time, sent to the node as one JSON-RPC batch.

Each admission reads four things before its checks (the member's catalog nonce, the chain time,
the member's code, the simulation: ``relay_policy.prepare_relay``). Sent on their own that is one
HTTP request per relay, which costs the gateway (building it, parsing the answer) and the node
about as much as the reads themselves. :class:`SharedReads` lets admissions that arrive while a
batch is on its way wait for it to come back, then sends all their reads together: one HTTP
request for as many relays as are waiting (at most :data:`MAX_CALLS` calls), each admission given
its own answers, in order, exactly as a batch of its own would have answered them.

The same pattern as the store's group commit: whoever finds no batch on its way sends what is
queued; the others wait for it and, once it is back, one of them sends what was queued meanwhile.
A failed request (the node down, a transport error) is raised in every admission it carried;
an admission is never left waiting for a batch that is not on its way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import RpcUnavailableError

Calls = Sequence[tuple[str, Sequence[Any]]]
Answers = list[dict[str, Any]]
Send = Callable[[Calls], Answers]

MAX_CALLS = 64
"""Most calls in one shared batch (16 relays' reads); more wait for the next one."""
WAIT_S = 120.0
"""Most seconds an admission waits for a batch carrying its reads (the transport's own retries
end well before: this only bounds the wait if something else went wrong)."""


@dataclass
class _Reads:
    calls: Calls
    answers: Answers | None = None
    error: BaseException | None = None
    finished: bool = False
    wake: threading.Event = field(default_factory=threading.Event)
    """Set when its batch is back, or when it is the first waiting and nobody sends."""


class SharedReads:
    """Admissions' node reads, sent together when they arrive together (thread-safe)."""

    def __init__(self, send: Send, url: str) -> None:
        self._send = send
        self._url = url
        """The node's, named in errors."""
        self._lock = threading.Lock()
        self._queue: list[_Reads] = []
        self._sending = False
        self.batches = 0
        """HTTP requests sent so far (``reads`` / ``batches``: how many admissions shared one)."""
        self.reads = 0

    def read(self, calls: Calls) -> Answers:
        """``calls``' answers, in order, sent in the next batch (with whatever else is waiting)."""
        mine = _Reads(calls)
        with self._lock:
            self._queue.append(mine)
        while True:
            with self._lock:  # finished, or the one to send, or waiting for the batch on its way
                if mine.finished:
                    break
                mine.wake.clear()
                lead = not self._sending
                self._sending = True
            if lead:
                self._round()
            elif not mine.wake.wait(WAIT_S):
                raise RpcUnavailableError(self._url, f"no answer to a shared batch in {WAIT_S:.0f} s")
        if mine.error is not None:
            raise mine.error
        assert mine.answers is not None
        return mine.answers

    def _round(self) -> None:
        """Send what is queued (up to :data:`MAX_CALLS` calls), hand each its answers, and wake
        the first admission still waiting: it sends the next batch."""
        with self._lock:
            taken: list[_Reads] = []
            count = 0
            while self._queue and (not taken or count + len(self._queue[0].calls) <= MAX_CALLS):
                taken.append(self._queue.pop(0))
                count += len(taken[-1].calls)
        answers: Answers = []
        error: Exception | None = None
        try:
            answers = self._send([c for item in taken for c in item.calls]) if taken else []
        except Exception as exc:  # the transport's failure is every carried admission's
            error = exc
        finally:
            with self._lock:
                at = 0
                for item in taken:
                    item.answers = answers[at : at + len(item.calls)]
                    at += len(item.calls)
                    if error is not None or len(item.answers) < len(item.calls):
                        item.error = error or RpcUnavailableError(self._url, "a batch answered in part")
                    item.finished = True
                    item.wake.set()
                self.batches += 1 if taken else 0
                self.reads += len(taken)
                self._sending = False
                if self._queue:  # the first still waiting sends the next batch
                    self._queue[0].wake.set()
