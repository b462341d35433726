"""POSTs to one JSON-RPC URL over kept-alive connections: the HTTP under the transport (rpc.py).

``requests`` cost about 1.5 ms of CPU per request here (its adapter, hooks, cookie jar and header
merging); the standard library's ``http.client`` on a kept-alive connection about 0.25 ms, for
the same bytes on the wire. Every JSON-RPC call the library, its CLI and the gateway make pays
this, so :func:`poster_for` gives a direct connection (one per thread) wherever nothing in the
environment asks for more, and a ``requests`` session, which handles the rest, where it does: a
proxy named for the URL (``HTTPS_PROXY`` … minus ``NO_PROXY``), ``.netrc`` credentials for its
host, or ``user:password@`` in the URL.

Both answer :class:`Reply` or raise :class:`PostFailed`, which says whether the request may have
been read by the server (the transport decides from that whether to send it again).
"""

from __future__ import annotations

import http.client
import os
import select
import ssl
import threading
import weakref
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

if TYPE_CHECKING:  # requests is imported only where a proxy or credentials need it
    import requests

USER_AGENT = "loyalty-chain"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: its status, body (decompressed) and ``Retry-After`` header, if any."""

    status: int
    body: bytes
    retry_after: str | None


class PostFailed(Exception):
    """No HTTP answer: ``unreachable`` when the connection failed or broke (requests called this a
    ConnectionError), otherwise a timeout or a malformed answer; ``reason`` names which."""

    def __init__(self, reason: str, *, unreachable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unreachable = unreachable


class Poster(Protocol):
    def post(self, body: bytes, timeout: float) -> Reply: ...


def poster_for(url: str) -> Poster:
    """The cheapest client that honours what the environment says about ``url``."""
    parts = urlsplit(url)
    if parts.username or parts.password or parts.scheme not in ("http", "https"):
        return _ViaRequests(url)
    import requests.utils  # the proxy and .netrc rules are requests' (NO_PROXY with CIDRs, …)

    if requests.utils.get_environ_proxies(url) or requests.utils.get_netrc_auth(url):
        return _ViaRequests(url)
    return _Direct(url)


class _Direct:
    """``http.client`` connections to one URL, kept alive, one per thread (the indexer's prefetch
    thread and the gateway's workers share one provider)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._https else 80)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if self._host not in _LOOPBACK:  # large eth_getLogs answers from a provider: compressed
            self._headers["Accept-Encoding"] = "gzip"
        self._tls = _tls_context() if self._https else None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[tuple[threading.Thread, http.client.HTTPConnection]] = []
        weakref.finalize(self, _close_all, self._open)

    def post(self, body: bytes, timeout: float) -> Reply:
        conn = self._kept(timeout) or self._connect(timeout)
        try:
            conn.request("POST", self._path, body, self._headers)
            response = conn.getresponse()
            data = response.read()
        except TimeoutError:
            self._drop()
            raise PostFailed("ReadTimeout", unreachable=False) from None
        except OSError as exc:  # refused, reset, closed (RemoteDisconnected is a reset too)
            self._drop()
            raise PostFailed(f"connection failed: {type(exc).__name__}", unreachable=True) from None
        except http.client.HTTPException as exc:  # a status line or body that broke off
            self._drop()
            raise PostFailed(type(exc).__name__, unreachable=False) from None
        if response.will_close:
            self._drop()
        if response.getheader("Content-Encoding", "").lower() == "gzip":
            data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
        return Reply(response.status, data, response.getheader("Retry-After"))

    def _kept(self, timeout: float) -> http.client.HTTPConnection | None:
        """This thread's connection if the server has not closed it while it sat idle (a closed
        one reads as readable: reusing it would lose the next request's answer for nothing)."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None or conn.sock is None:
            return None
        if select.select([conn.sock], [], [], 0)[0]:
            self._drop()
            return None
        conn.timeout = timeout
        conn.sock.settimeout(timeout)
        return conn

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self._tls is not None:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._tls)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        try:
            conn.connect()
        except OSError as exc:  # refused, unreachable, or no answer within the timeout
            conn.close()
            name = "ConnectTimeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            raise PostFailed(f"connection failed: {name}", unreachable=True) from None
        with self._lock:
            for entry in [e for e in self._open if not e[0].is_alive()]:  # threads that are gone
                entry[1].close()
                self._open.remove(entry)
            self._open.append((threading.current_thread(), conn))
        self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is None:
            return
        conn.close()
        with self._lock:
            self._open[:] = [e for e in self._open if e[1] is not conn]


def _close_all(opened: list[tuple[threading.Thread, http.client.HTTPConnection]]) -> None:
    """Run when a poster is collected: its connections are closed here, before the garbage
    collector would finalize their sockets (with a ResourceWarning) in some arbitrary order."""
    for _, conn in opened:
        conn.close()
    opened.clear()


def _tls_context() -> ssl.SSLContext:
    """Verified TLS with the CA bundle requests would use (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE,
    else certifi's)."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if not bundle:
        import certifi

        bundle = certifi.where()
    return ssl.create_default_context(cafile=bundle)


class _ViaRequests:
    """A ``requests`` session that read the environment's proxy, CA bundle and .netrc settings for
    the URL once (requests otherwise reads them again for every request)."""

    def __init__(self, url: str) -> None:
        import requests

        self.url = url
        session = requests.Session()
        settings = session.merge_environment_settings(url, {}, None, None, None)
        session.proxies.update(settings["proxies"])
        session.verify = settings["verify"]
        session.auth = requests.utils.get_netrc_auth(url)
        session.trust_env = False
        self.session: requests.Session = session

    def post(self, body: bytes, timeout: float) -> Reply:
        import requests

        try:
            response = self.session.post(
                self.url, data=body, headers={"Content-Type": "application/json"}, timeout=timeout
            )
        except requests.exceptions.ConnectionError as exc:
            raise PostFailed(f"connection failed: {type(exc).__name__}", unreachable=True) from None
        except requests.exceptions.RequestException as exc:  # timeouts, broken chunked answers
            raise PostFailed(type(exc).__name__, unreachable=False) from None
        return Reply(response.status_code, response.content, response.headers.get("Retry-After"))
