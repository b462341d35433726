"""The fault proxy's side towards the node: kept-alive HTTP connections, answers matched to calls."""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class UpstreamError(Exception):
    """The upstream node did not answer (the proxy then answers 502, counted as ``upstream``)."""


def rpc_error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def to_json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def checked_upstream(url: str) -> str:
    """``url`` if it is an http:// loopback URL; the proxy never forwards off this machine."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(
            f"upstream {url!r} is not an http:// loopback URL; the proxy fronts local nodes only"
        )
    return url


class Upstream:
    """One kept-alive connection per proxy thread (= per client connection) and upstream URL."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._local = threading.local()

    def post(self, url: str, payload: Any) -> Any:
        """One JSON-RPC HTTP POST; the decoded answer, or :class:`UpstreamError`."""
        body = to_json(payload)
        for attempt in (1, 2):
            conn = self._connection(url)
            try:
                conn.request("POST", urlsplit(url).path or "/", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self._conns().pop(url, None)
                # a kept-alive connection the node closed while idle: one retry on a fresh one
                # (a duplicate raw transaction could at worst be refused as known: never paid twice)
                if attempt == 2 or not isinstance(exc, ConnectionError):
                    raise UpstreamError(f"{url}: {type(exc).__name__}: {exc}") from exc
                continue
            try:
                return json.loads(data)
            except ValueError as exc:
                raise UpstreamError(f"{url}: HTTP {response.status}, not JSON: {data[:200]!r}") from exc
        raise AssertionError("unreachable")

    def release_thread(self) -> None:
        """Close this thread's connections (its client connection ended)."""
        for conn in self._conns().values():
            conn.close()
        self._local.conns = {}

    def _conns(self) -> dict[str, http.client.HTTPConnection]:
        conns: dict[str, http.client.HTTPConnection] | None = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        return conns

    def _connection(self, url: str) -> http.client.HTTPConnection:
        conns = self._conns()
        if url not in conns:
            parts = urlsplit(url)
            conns[url] = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port or 80, timeout=self.timeout_s
            )
        return conns[url]


def methods_of(payload: Any) -> list[str]:
    """The method of each call in a single or batch payload ("" where there is none)."""
    return [
        str(request.get("method", "")) if isinstance(request, dict) else ""
        for request in (payload if isinstance(payload, list) else [payload])
    ]


def match_answers(requests: list[Any], answer: Any) -> list[dict[str, Any]]:
    """The node's answers in request order (by id; a whole-request error answers every call)."""
    if isinstance(answer, dict):
        return [answer for _ in requests]
    if not isinstance(answer, list):
        raise UpstreamError(f"unexpected answer {answer!r:.200}")
    by_id = {json.dumps(a.get("id")): a for a in answer if isinstance(a, dict)}
    matched = []
    for position, request in enumerate(requests):
        key = json.dumps(request.get("id")) if isinstance(request, dict) else None
        if key in by_id:
            matched.append(by_id[key])
        elif position < len(answer):
            matched.append(answer[position])
        else:
            matched.append(rpc_error(None, -32603, "the node gave no answer for this call"))
    return matched
