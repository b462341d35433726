"""What every route shares: the gateway from the request, JSON errors naming the field, API-key scopes,
and the request-body size limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import scopes_of
from .service import Gateway


class ApiError(Exception):
    """An HTTP error answered as ``{"error": {"status", "field", "message"}}``."""

    def __init__(self, status: int, field: str | None, message: str, **extra: Any) -> None:
        self.status = status
        self.field = field
        self.message = message
        self.extra = extra
        super().__init__(message)

    def response(self) -> JSONResponse:
        return error_response(self.status, self.field, self.message, **self.extra)


def error_response(status: int, field: str | None, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "field": field, "message": message, **extra}}, status)


async def gateway(request: Request) -> Gateway:
    """The app's gateway. A coroutine, though it awaits nothing: FastAPI runs a plain function
    dependency in its thread pool, a thread hand-off on every request for a lookup."""
    gw = request.app.state.gateway
    assert isinstance(gw, Gateway)
    return gw


_bearer = HTTPBearer(auto_error=False, description="An API key: Authorization: Bearer lcg_…")


def require(scope: str) -> Callable[..., None]:
    """A dependency refusing requests without a valid API key holding ``scope``."""

    def check(
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
        gw: Gateway = Depends(gateway),  # noqa: B008
    ) -> None:
        if credentials is None:
            raise ApiError(
                401, "authorization", "missing API key: send the header Authorization: Bearer <key>"
            )
        scopes = scopes_of(gw.store, credentials.credentials)
        if scopes is None:
            raise ApiError(
                401,
                "authorization",
                "unknown or revoked API key; create one with `loyalty-chain gateway-key`",
            )
        if scope not in scopes:
            raise ApiError(403, "authorization", f"this API key lacks the scope {scope!r}")

    return check


ARRIVED = "loyalty_chain.arrived"
"""The ASGI scope key :class:`Arrival` stamps: when the request reached the app (``perf_counter``)."""


class Arrival:
    """Stamps each request with when it arrived, so a route can tell how long it waited before it
    ran (the body read and validated, a worker thread free: ``/metrics``' spans)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[ARRIVED] = time.perf_counter()
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int, per_path: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.per_path = per_path or {}
        """Paths with a limit of their own (a batch of events)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.limit)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_big = error_response(413, "body", f"the request body is over {limit} bytes")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_big(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooBig
            return message

        try:
            await self.app(scope, limited, send)
        except _TooBig:
            await too_big(scope, receive, send)


class _TooBig(Exception):
    pass
