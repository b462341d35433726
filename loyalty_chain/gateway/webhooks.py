"""Webhooks: signed like Stripe's, delivered from a durable queue, retried with backoff.

Each delivery is a POST of the JSON payload with the header
``Loyalty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the shared secret>``;
a receiver checks it with :func:`verify_signature` (which also refuses old timestamps, so a captured
delivery cannot be replayed). A delivery that fails is retried after 1, 2, 4 … seconds (at most an
hour apart) until ``max_attempts``; then it is marked dead and kept for inspection.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from .store import Store

log = logging.getLogger("loyalty_chain.gateway")

SIGNATURE_HEADER = "Loyalty-Signature"


@dataclass(frozen=True)
class WebhookOptions:
    url: str
    secret: str
    max_attempts: int = 10
    backoff_s: float = 1.0
    """The first retry's delay; each next one doubles, up to an hour."""
    timeout_s: float = 5.0


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Loyalty-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and is at most ``tolerance_s`` old."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


class WebhookDispatcher:
    """Delivers queued webhooks on its own thread."""

    def __init__(self, store: Store, options: WebhookOptions) -> None:
        self.store = store
        self.options = options
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="gateway-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.run_once()
            except Exception:  # a service loop: log and go on; rows stay queued
                log.exception("webhook delivery round failed")
                sent = 0
            if not sent:
                self._stop.wait(0.2)

    def run_once(self, limit: int = 50) -> int:
        """Try every due delivery once; how many were attempted."""
        due = self.store.query(
            "SELECT id, payload, attempts FROM webhooks WHERE state = 'pending' AND next_at <= ?"
            " ORDER BY id LIMIT ?",
            (time.time(), limit),
        )
        for row_id, payload, attempts in due:
            if not self._claim(int(row_id)):
                continue  # another gateway process on the same database took it
            error = self._deliver(str(payload).encode())
            with self.store.transaction() as conn:
                if error is None:
                    conn.execute(
                        "UPDATE webhooks SET state = 'delivered', attempts = ? WHERE id = ?",
                        (attempts + 1, row_id),
                    )
                    continue
                tries = int(attempts) + 1
                state = "dead" if tries >= self.options.max_attempts else "pending"
                delay = min(self.options.backoff_s * 2 ** (tries - 1), 3600.0)
                conn.execute(
                    "UPDATE webhooks SET attempts = ?, next_at = ?, state = ?, last_error = ? WHERE id = ?",
                    (tries, time.time() + delay, state, error, row_id),
                )
        return len(due)

    def _claim(self, row_id: int) -> bool:
        """Take a due delivery for the time one attempt may last (it is due again after that, should
        this process die meanwhile); False when it is no longer due."""
        now = time.time()
        with self.store.transaction() as conn:
            row = conn.execute(
                "UPDATE webhooks SET next_at = ? WHERE id = ? AND state = 'pending' AND next_at <= ?"
                " RETURNING id",
                (now + self.options.timeout_s + 30.0, row_id, now),
            ).fetchone()
        return row is not None

    def _deliver(self, body: bytes) -> str | None:
        """None when the receiver answered 2xx, else what went wrong."""
        request = urllib.request.Request(
            self.options.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self.options.secret, body, int(time.time())),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.options.timeout_s) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return str(exc)
        return None if 200 <= status < 300 else f"HTTP {status}"
