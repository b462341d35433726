"""A fault-injecting JSON-RPC proxy on loopback, in front of a local node (stdlib only).

It forwards single and batch JSON-RPC over HTTP to ``upstream`` and breaks what :class:`Faults`
says, the way hosted providers and busy nodes do (lost answers, 502s, resets, 429s, refused
batches, -32005 elements, "already known", "txpool is full", evicted transactions, lagging
receipts, slow answers). Faults and the upstream URL can change while it runs; random draws come
from one seeded ``random.Random`` (reproducible for a given sequence of requests)::

    with FaultProxy(anvil_url, profile("hostile"), seed=1) as proxy:
        chain = connect(proxy.url)
        proxy.faults.update(lose_send_answers=0.3)
        ...
        assert proxy.counters.faults["lose_send_answers"] > 0

Bounded: it binds 127.0.0.1 only, forwards only to loopback URLs, its threads are daemons,
every wait ends when the proxy closes, and :meth:`FaultProxy.close` (or leaving the ``with``)
stops it. ``bench/`` can use it too: put ``tests/`` on ``sys.path`` and import
``support.faultproxy``.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .faults import Counters, Faults, TokenBucket, profile, retry_after_header
from .upstream import Upstream, UpstreamError, checked_upstream, match_answers, methods_of, rpc_error, to_json

__all__ = ["Counters", "FaultProxy", "Faults", "UpstreamError", "profile"]

SEND = "eth_sendRawTransaction"
RECEIPT = "eth_getTransactionReceipt"
TX_BY_HASH = "eth_getTransactionByHash"
MAX_BODY_BYTES = 64 * 1024 * 1024
SEND_FAULTS_AFTER_FORWARD = (
    "lose_send_answers",
    "already_known",
    "batch_send_errors_forwarded",
    "drop_after_send",
)
"""Faults that may hit a forwarded send, drawn in this order (at most one per call)."""


@dataclass
class _Reply:
    """What the handler does with one HTTP request: answer, reset, or hang then close."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    hold_s: float = 0.0


@dataclass
class _Call:
    """One JSON-RPC call of a request and what happens to it."""

    request: Any
    method: str
    answer: dict[str, Any] | None = None
    """Set when the proxy answers in the node's place (the call is not forwarded)."""
    after: str | None = None
    """A fault applied after forwarding: one of the send faults' field names."""


BAD_GATEWAY = _Reply(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>\n", "text/html")


class FaultProxy:
    """A running proxy; ``url`` is what clients connect to."""

    def __init__(
        self,
        upstream: str,
        faults: Faults | None = None,
        *,
        seed: int = 0,
        upstream_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``clock`` (seconds) drives rate limits and receipt lag; tests may pass a fake one."""
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._upstream = checked_upstream(upstream)
        self._faults = faults if faults is not None else Faults()
        self._rng = random.Random(seed)
        self._clock = clock
        self._counters = Counters()
        self._bucket = TokenBucket()
        self._method_buckets: dict[str, TokenBucket] = {}
        self._first_mined: dict[str, float] = {}
        self._upstream_conns = Upstream(upstream_timeout_s)
        self._sockets: set[socket.socket] = set()
        self.accepted_sends: list[str] = []
        """Hashes the upstream node accepted from ``eth_sendRawTransaction``, in order."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.proxy = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="faultproxy", daemon=True
        )
        self._thread.start()

    # -- configuration ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def upstream(self) -> str:
        return self._upstream

    @upstream.setter
    def upstream(self, url: str) -> None:
        """Point at another node (e.g. another anvil, same chain id) like a load balancer would."""
        self._upstream = checked_upstream(url)

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults

    @property
    def counters(self) -> Counters:
        """A copy of the counters now."""
        with self._lock:
            return self._counters.copy()

    def reset_counters(self) -> None:
        with self._lock:
            self._counters = Counters()

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    # -- life cycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Stop accepting, end every open client connection, wake every waiting handler."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers used by the handler ----------------------------------------------------------
    def _chance(self, probability: float) -> bool:
        if probability <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < probability

    def _count(self, fault: str, n: int = 1) -> None:
        with self._lock:
            self._counters.faults[fault] += n

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)

    def _rate_limited(self, faults: Faults, methods: list[str]) -> float:
        """Seconds to wait if this request is over a rate limit (then nothing is taken), else 0."""
        now = self._clock()
        checks: list[tuple[TokenBucket, int]] = []
        wait = 0.0
        with self._lock:
            for method, rps in faults.method_rate_limits.items():
                cost = methods.count(method)
                if cost:
                    bucket = self._method_buckets.setdefault(method, TokenBucket())
                    wait = max(wait, bucket.wait_s(cost, rps, None, now))
                    checks.append((bucket, cost))
            if faults.rate_limit_rps is not None:
                rps, burst = faults.rate_limit_rps, faults.rate_limit_burst
                wait = max(wait, self._bucket.wait_s(len(methods), rps, burst, now))
                checks.append((self._bucket, len(methods)))
            if wait == 0.0:
                for bucket, cost in checks:
                    bucket.take(cost)
        return wait

    def _post(self, payload: Any) -> Any:
        with self._lock:
            self._counters.forwarded.update(methods_of(payload))
        return self._upstream_conns.post(self._upstream, payload)

    def _opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _closed(self, sock: socket.socket) -> None:
        """A client connection ended: forget it and close this thread's upstream connections."""
        with self._lock:
            self._sockets.discard(sock)
        self._upstream_conns.release_thread()

    # -- one HTTP request ---------------------------------------------------------------------
    def _serve(self, body: bytes) -> _Reply:
        faults = self._faults.snapshot()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        batch = isinstance(payload, list)
        requests = payload if batch else [payload]
        calls = [_Call(r, r.get("method", "") if isinstance(r, dict) else "") for r in requests]
        with self._lock:
            self._counters.http_requests += 1
            self._counters.batches += batch
            self._counters.methods.update(c.method for c in calls)

        low, high = faults.latency
        if high > 0:
            with self._lock:
                delay = self._rng.uniform(low, high)
            self._sleep(delay)
        if payload is None or (batch and not calls):
            return self._forward_verbatim(payload)

        wait = self._rate_limited(faults, [c.method for c in calls])
        if wait > 0:
            self._count("rate_limit_rps")
            body = to_json({"jsonrpc": "2.0", "error": {"code": 429, "message": "Too Many Requests"}})
            return _Reply(429, body, headers={"Retry-After": retry_after_header(wait)})
        if self._chance(faults.http_502):
            self._count("http_502")
            return BAD_GATEWAY
        if self._chance(faults.reset):
            self._count("reset")
            return _Reply(reset=True)
        if batch and faults.max_batch is not None and len(calls) > faults.max_batch:
            self._count("max_batch")
            refusal = to_json(rpc_error(None, -32005, "batch size too large"))
            return _Reply(413 if faults.batch_refusal == "413" else 200, refusal)

        for call in calls:
            self._plan(faults, call, batch)
        try:
            self._forward(faults, calls, batch)
        except UpstreamError:
            self._count("upstream")
            return BAD_GATEWAY

        lost = [c for c in calls if c.after == "lose_send_answers"]
        if lost:
            self._count("lose_send_answers", len(lost))
            return _lost_answer(faults)
        if self._chance(faults.http_502_after_forward):
            self._count("http_502_after_forward")
            return BAD_GATEWAY
        if self._chance(faults.reset_after_forward):
            self._count("reset_after_forward")
            return _Reply(reset=True)
        answers = [c.answer for c in calls]
        return _Reply(200, to_json(answers if batch else answers[0]))

    def _plan(self, faults: Faults, call: _Call, batch: bool) -> None:
        """Decide, before forwarding, what happens to one call."""
        request_id = call.request.get("id") if isinstance(call.request, dict) else None
        if call.method == SEND and self._chance(faults.txpool_full):
            self._count("txpool_full")
            call.answer = rpc_error(request_id, -32000, "txpool is full")
        elif batch and self._chance(faults.batch_element_errors):
            self._count("batch_element_errors")
            call.answer = rpc_error(request_id, -32005, "limit exceeded")
        elif call.method == SEND:
            for name in SEND_FAULTS_AFTER_FORWARD:
                if (batch or name != "batch_send_errors_forwarded") and self._chance(getattr(faults, name)):
                    call.after = name
                    break

    def _forward(self, faults: Faults, calls: list[_Call], batch: bool) -> None:
        """Forward what was not answered in the node's place, then apply the after-forward faults."""
        pending = [c for c in calls if c.answer is None]
        if pending:
            answers = match_answers(
                [c.request for c in pending],
                self._post([c.request for c in pending] if batch else pending[0].request),
            )
            for call, answer in zip(pending, answers, strict=True):
                call.answer = answer
        for call in pending:
            assert call.answer is not None
            accepted = call.method == SEND and "result" in call.answer
            if accepted:
                with self._lock:
                    self.accepted_sends.append(str(call.answer["result"]))
            if call.after == "already_known" and accepted:
                self._count("already_known")
                if faults.already_known_mode == "resend":
                    call.answer = match_answers([call.request], self._post(call.request))[0]
                else:
                    call.answer = rpc_error(call.answer.get("id"), -32000, "already known")
            elif call.after == "batch_send_errors_forwarded" and accepted:
                self._count("batch_send_errors_forwarded")
                call.answer = rpc_error(call.answer.get("id"), -32005, "limit exceeded")
            elif call.after == "drop_after_send" and accepted:
                self._count("drop_after_send")
                drop = {"jsonrpc": "2.0", "id": "faultproxy-drop", "method": faults.drop_method}
                self._post({**drop, "params": [call.answer["result"]]})
            elif call.method in (RECEIPT, TX_BY_HASH) and faults.receipt_lag_s > 0:
                call.answer = self._lagged(faults.receipt_lag_s, call.method, call.answer)

    def _lagged(self, lag_s: float, method: str, answer: dict[str, Any]) -> dict[str, Any]:
        """A mined transaction shown as not mined until ``lag_s`` after the proxy first saw it mined."""
        result = answer.get("result")
        if not isinstance(result, dict) or result.get("blockHash") is None:
            return answer
        tx_hash = str(result.get("transactionHash") or result.get("hash"))
        now = self._clock()
        with self._lock:
            first = self._first_mined.setdefault(tx_hash, now)
        if now - first >= lag_s:
            return answer
        self._count("receipt_lag_s")
        if method == RECEIPT:
            return {**answer, "result": None}
        pending = {"blockHash": None, "blockNumber": None, "transactionIndex": None}
        return {**answer, "result": {**result, **pending}}

    def _forward_verbatim(self, payload: Any) -> _Reply:
        """Not JSON-RPC we understand (bad JSON, empty batch): the node answers it as it likes."""
        if payload is None:
            return _Reply(200, to_json(rpc_error(None, -32700, "Parse error")))
        try:
            return _Reply(200, to_json(self._post(payload)))
        except UpstreamError:
            self._count("upstream")
            return BAD_GATEWAY


def _lost_answer(faults: Faults) -> _Reply:
    if faults.lost_answer_kind == "502":
        return BAD_GATEWAY
    if faults.lost_answer_kind == "timeout":
        return _Reply(reset=True, hold_s=faults.lost_answer_hold_s)
    return _Reply(reset=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as JSON-RPC clients use it
    timeout = 60  # an idle kept-alive client connection ends after this (seconds)
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: ThreadingHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.proxy._opened(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.proxy._closed(self.connection)  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        proxy: FaultProxy = self.server.proxy  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or -1)
        if not 0 <= length <= MAX_BODY_BYTES:
            status = 411 if length < 0 else 413
            self._send(_Reply(status, b"give a Content-Length up to 64 MiB\n", "text/plain"))
            return
        reply = proxy._serve(self.rfile.read(length))
        if reply.reset:
            proxy._sleep(reply.hold_s)
            self._reset()
        else:
            self._send(reply)

    def do_GET(self) -> None:
        self._send(_Reply(405, b"JSON-RPC over POST only\n", "text/plain", {"Allow": "POST"}))

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def _reset(self) -> None:
        """Close with a TCP RST and no answer: linger 0, then close (the real close comes when
        the handler's read buffer is closed, before the server would send a FIN)."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read counters, not logs."""
