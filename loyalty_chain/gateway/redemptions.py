"""Gasless redemptions for wallets: the typed data to sign, then the signed request relayed within the
relay policy (rate limits, gas ceiling, daily gas budget, contract members only if allowed)."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..chain import TX_GAS_CAP
from ..errors import ContractRevertError, InputError, RelayRefusedError
from ..gasless import parse_request
from ..relay_policy import RelayPolicy as CheckPolicy
from ..relay_policy import RpcCalls, prepare_relay
from .http import ARRIVED, ApiError, gateway
from .members import reasons
from .models import RedemptionIn, RedemptionRequestIn
from .relay_admission import Refusal, admit, refusal
from .service import Gateway
from .store import Store

router = APIRouter(tags=["members"])

REDEMPTION_ID = Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")
ADMITTING = 16
"""Most relays being admitted at once in one process: the threads of the admission pool; the
other requests wait for one, not runnable. An admission is ~2.5 ms of CPU and 60-140 ms of
waiting, mostly for the node (on anvil reads wait while it builds each block's state root: a
third of every second on an aged chain) and for the store's group commit, so the admissions in
flight set the rate: 8 at once admitted ~100 relays/s on the aged chain of bench/gateway.py,
waiting ~530 ms for a thread. Not the HTTP thread pool's forty: with that many runnable threads
the relayer's thread got the GIL so seldom that starting a relay group (sign, write down,
broadcast) took 0.4-1.3 s instead of 0.05-0.2 s, and relays waited for it (16: ~4 ms)."""
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _admission_pool() -> ThreadPoolExecutor:
    """The process's admission threads (started on the first relay, not at import)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(ADMITTING, "gateway-admit")
        return _pool


@router.post("/v1/redemptions/requests")
def request_redemption(body: RedemptionRequestIn, gw: Gateway = Depends(gateway)) -> dict[str, Any]:  # noqa: B008
    """Check the member may redeem now, then the EIP-712 typed data as ``eth_signTypedData_v4`` takes it."""
    perk_count = int(gw.client.catalog.functions.perkCount().call())
    if body.perk_id > perk_count:
        raise ApiError(404, "perk_id", f"there is no perk {body.perk_id} (the catalog has {perk_count})")
    perk = gw.client.perk(body.perk_id)
    card = gw.client.card_of(body.member)
    why = reasons(
        gw, perk, body.member, card, gw.client.balance(body.member), gw.client._chain_time(), body.quantity
    )
    if why:
        raise ApiError(409, "member", "the member cannot redeem this perk now", why_not=why)
    typed = gw.client.redemption_request(body.member, body.perk_id, body.quantity)
    return {"typed_data": typed}


PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "description": "`respond-async`: answer 202 once stored",
    "schema": {"type": "string"},
}
"""The ``Prefer`` header, documented here and read from the request in the route: as a ``Header``
parameter (and the gateway as a dependency) FastAPI's dependency solving cost this route ~0.2 ms
of CPU a request."""


@router.post(
    "/v1/redemptions",
    status_code=201,
    responses={
        202: {"description": "stored and being relayed, not mined yet: GET /v1/redemptions/{id} tells"},
        502: {"description": "the relay failed on chain (error says why)"},
    },
    openapi_extra={"parameters": [PREFER]},
)
async def post_redemption(body: RedemptionIn, request: Request) -> JSONResponse:
    """Simulate, then relay the member's signed request (the brand pays the gas): 201 once mined,
    202 if it is stored but not mined within the wait (it will be, exactly once, even across a
    restart of the gateway). With ``Prefer: respond-async`` (RFC 7240) the answer is 202 as soon as
    the relay is stored; ``GET /v1/redemptions/{id}`` tells when it is relayed."""
    # A coroutine handing the admission to the pool's threads itself: as a plain function the
    # route ran in the HTTP thread pool (anyio), whose hand-off cost ~0.7 ms of CPU a request,
    # twice the executor's, and then waited there for an admission slot.
    gw = await gateway(request)
    prefer = request.headers.get("prefer")
    if ARRIVED in request.scope:  # read and validated
        gw.spans.add("admit.before", time.perf_counter() - request.scope[ARRIVED])
    respond_async = prefer is not None and "respond-async" in prefer.lower()
    loop = asyncio.get_running_loop()
    queued = time.perf_counter()
    rid, stored = await loop.run_in_executor(_admission_pool(), _admission, gw, body, queued, respond_async)
    if respond_async:
        headers = {"Preference-Applied": "respond-async", "Location": f"/v1/redemptions/{rid}"}
        return JSONResponse(stored, status_code=202, headers=headers)
    status, found = await run_in_threadpool(_relayed, gw, rid)  # waits for the chain: not in a slot
    return JSONResponse(found, status_code=ANSWERS[status])


def _relayed(gw: Gateway, rid: str) -> tuple[str, dict[str, Any] | None]:
    """The admitted relay ``rid`` sent and waited for (see :meth:`.Relayer.relay`): its status, its JSON."""
    status = gw.relayer.relay(rid)
    return status, redemption_json(gw.store, rid)


def _admission(
    gw: Gateway, body: RedemptionIn, queued: float, respond_async: bool
) -> tuple[str, dict[str, Any] | None]:
    """In an admission thread: the relay admitted (its id), and with ``respond_async`` the
    relayer woken and the stored redemption's JSON."""
    spans = gw.spans
    spans.add("admit.slot", time.perf_counter() - queued)
    rid = _admit(gw, body)
    if not respond_async:
        return rid, None
    with spans.stage("admit.answer"):
        gw.relayer.wake()
        return rid, redemption_json(gw.store, rid)


def _admit(gw: Gateway, body: RedemptionIn) -> str:
    """Every check, then the relay stored: its redemption id, or the refusal raised."""
    policy, spans = gw.options.policy, gw.spans
    with spans.stage("admit.check"):
        try:
            request = parse_request(body.typed_data)
        except InputError as exc:
            raise ApiError(422, "typed_data", str(exc)) from None
        signature = body.signature if body.signature.startswith("0x") else "0x" + body.signature
        sig_hash = hashlib.sha256(signature.lower().encode()).hexdigest()
        # the limits first, read without the lock (cheap), so a refused request costs no RPC call
        _refuse(gw, refusal(gw.store.query_one, policy, request.member, sig_hash, 0, time.time()))
    # the library's relay checks (catalog, chain, relayer, nonce, deadline, signer), then its policy:
    # contract members only if allowed, simulated, the gas ceiling (gas: the limit to send with);
    # what they read from the node is read in one JSON-RPC batch
    checks = CheckPolicy(max_gas=policy.gas_ceiling, allow_contract_members=policy.allow_contract_members)

    def read(calls: RpcCalls) -> list[dict[str, Any]]:
        with spans.stage("admit.node"):  # with other admissions' reads when they arrive together
            return gw.relay_reads.read(calls)

    try:
        with spans.stage("admit.prepare"):  # the node's reads (admit.node) and the checks on them
            hint_key = (request.perk_id, request.quantity)
            prepared = prepare_relay(
                gw.client.sender,
                gw.client.catalog,
                request,
                signature,
                checks,
                read=read,
                gas_hint=gw.relay_gas_hints.get(hint_key),
            )
            gw.relay_gas_hints[hint_key] = prepared.gas
    except RelayRefusedError as exc:
        gw.count("relays_refused")
        raise ApiError(403, "typed_data" if "gas" in exc.reason else "member", str(exc)) from None
    except InputError as exc:
        field = "signature" if "signature" in str(exc) else "typed_data"
        raise ApiError(422, field, str(exc)) from None
    except ContractRevertError as exc:
        raise ApiError(409, "typed_data", str(exc)) from None
    rid = uuid.uuid4().hex
    # the limits again, under the writer lock every process takes; admissions posted at the same
    # time share one commit (one fsync)
    with spans.stage("admit.store"):
        refused = gw.store.group_write(
            lambda conn: admit(
                conn,
                policy,
                rid=rid,
                member=request.member,
                perk_id=request.perk_id,
                quantity=request.quantity,
                sig_hash=sig_hash,
                target=prepared.target,
                calldata="0x" + prepared.data.hex(),
                gas=min(prepared.gas, TX_GAS_CAP),
                now=time.time(),
            )
        )
    _refuse(gw, refused)
    return rid


ANSWERS = {"relayed": 201, "relaying": 202, "failed": 502}
"""The HTTP status of ``POST /v1/redemptions`` for the redemption's status when it answers."""


def _refuse(gw: Gateway, refused: Refusal | None) -> None:
    if refused is not None:
        if refused.status == 429:
            gw.count("relays_refused")
        raise ApiError(refused.status, refused.field, refused.message, **refused.extra)


@router.get("/v1/redemptions/{redemption_id}")
def get_redemption(redemption_id: str = REDEMPTION_ID, gw: Gateway = Depends(gateway)) -> dict[str, Any]:  # noqa: B008
    """A relayed redemption's status and transaction."""
    found = redemption_json(gw.store, redemption_id)
    if found is None:
        raise ApiError(404, "redemption_id", f"no redemption {redemption_id!r}")
    return found


def redemption_json(store: Store, rid: str) -> dict[str, Any] | None:
    rows = store.query(
        "SELECT id, member, perk_id, quantity, status, tx_hash, redemption_id, points_burned, error"
        " FROM redemptions WHERE id = ?",
        (rid,),
    )
    if not rows:
        return None
    keys = (
        "id",
        "member",
        "perk_id",
        "quantity",
        "status",
        "tx_hash",
        "redemption_id",
        "points_burned",
        "error",
    )
    return dict(zip(keys, rows[0], strict=True))
