"""The FastAPI application over a :class:`~loyalty_chain.gateway.service.Gateway`.

``create_app(gateway)`` adds the routers (back office: events; members: members, perks,
redemptions), CORS, the body-size limit, JSON errors naming the field, ``/healthz`` and ``/metrics``
(Prometheus text). The worker and webhook threads run for the app's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException

from ..errors import InputError, LoyaltyChainError
from . import events, member_page, members, redemptions
from .http import ApiError, Arrival, BodyLimit, error_response
from .service import Gateway


def create_app(gateway: Gateway, *, background: bool = True) -> FastAPI:
    """The HTTP app; with ``background`` the issuing worker and webhooks run while it is up."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if background:
            gateway.start()
        try:
            yield
        finally:
            if background:
                gateway.stop()

    app = FastAPI(
        title="loyalty_chain gateway",
        summary="Shop events in, points on chain out; members' perks and gasless redemptions.",
        version="1",
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    # the relays' routes first: a request is matched against the routes in order, one by one,
    # and a wallet's relay is the most frequent request; no two routers' paths overlap
    for router in (redemptions.router, events.router, members.router, member_page.router):
        app.include_router(router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(gateway.options.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
    )
    app.add_middleware(
        BodyLimit,
        limit=gateway.options.max_body_bytes,
        per_path={"/v1/events/batch": gateway.options.max_batch_body_bytes},
    )
    app.add_middleware(Arrival)  # the outermost: stamps the request as it arrives
    _errors(app)

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, object]:
        """Up, and the chain answers."""
        return {"ok": True, "block": int(gateway.chain.w3.eth.block_number)}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["service"])
    def metrics() -> str:
        """Counters and queue sizes in the Prometheus text format."""
        lines = []
        shared = {"relay_read_batches": gateway.relay_reads.batches, "relay_reads": gateway.relay_reads.reads}
        for name, value in sorted({**gateway.store.counts(), **gateway.metrics, **shared}.items()):
            lines += [f"# TYPE loyalty_gateway_{name} gauge", f"loyalty_gateway_{name} {value}"]
        return "\n".join(lines + gateway.spans.prometheus()) + "\n"

    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), "message": str(e["msg"])}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"field": "body", "message": "invalid request"}
        return error_response(422, first["field"], first["message"], problems=problems)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, None, str(exc.detail))

    @app.exception_handler(InputError)
    async def bad_input(_request: Request, exc: InputError) -> JSONResponse:
        return error_response(422, None, str(exc))

    @app.exception_handler(LoyaltyChainError)
    async def chain_error(_request: Request, exc: LoyaltyChainError) -> JSONResponse:
        return error_response(502, None, str(exc))
