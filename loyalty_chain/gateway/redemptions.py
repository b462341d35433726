"""Gasless redemptions for wallets: the typed data to sign, then the signed request relayed within the
relay policy (rate limits, gas ceiling, daily gas budget, contract members only if allowed)."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from ..errors import ContractRevertError, InputError, LoyaltyChainError, RelayRefusedError
from ..gasless import parse_request, relay_call
from ..relay_policy import RelayPolicy as CheckPolicy
from ..relay_policy import check_relay
from .http import ApiError, gateway
from .members import reasons
from .models import RedemptionIn, RedemptionRequestIn
from .service import Gateway
from .store import Conn, Store

router = APIRouter(tags=["members"])

REDEMPTION_ID = Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")


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


@router.post("/v1/redemptions", status_code=201)
def post_redemption(body: RedemptionIn, gw: Gateway = Depends(gateway)) -> JSONResponse:  # noqa: B008
    """Simulate, then relay the member's signed request (the brand pays the gas)."""
    policy = gw.options.policy
    try:
        request = parse_request(body.typed_data)
    except InputError as exc:
        raise ApiError(422, "typed_data", str(exc)) from None
    signature = body.signature if body.signature.startswith("0x") else "0x" + body.signature
    sig_hash = hashlib.sha256(signature.lower().encode()).hexdigest()
    earlier = gw.store.query("SELECT id FROM redemptions WHERE signature = ?", (sig_hash,))
    if earlier:
        raise ApiError(409, "signature", "this signature was already submitted", redemption=earlier[0][0])
    hour_ago = time.time() - 3600
    (recent,) = gw.store.query_one(
        "SELECT COUNT(*) FROM redemptions WHERE member = ? AND created >= ?", (request.member, hour_ago)
    )
    if int(recent) >= policy.per_member_per_hour:
        gw.count("relays_refused")
        raise ApiError(429, "member", f"at most {policy.per_member_per_hour} relays per member per hour")
    if not gw.relay_window.take():
        gw.count("relays_refused")
        raise ApiError(429, None, f"at most {policy.global_per_second} relays per second; retry shortly")
    # the library's relay checks (catalog, chain, relayer, nonce, deadline, signer), then its policy:
    # contract members only if allowed, simulated, the gas ceiling (gas: the limit to send with)
    checks = CheckPolicy(max_gas=policy.gas_ceiling, allow_contract_members=policy.allow_contract_members)
    try:
        call = relay_call(gw.client.catalog, body.typed_data, signature, relayer=gw.client.sender.address)
        gas = check_relay(gw.client.sender, call, body.typed_data, signature, checks)
    except RelayRefusedError as exc:
        gw.count("relays_refused")
        raise ApiError(403, "typed_data" if "gas" in exc.reason else "member", str(exc)) from None
    except InputError as exc:
        field = "signature" if "signature" in str(exc) else "typed_data"
        raise ApiError(422, field, str(exc)) from None
    except ContractRevertError as exc:
        raise ApiError(409, "typed_data", str(exc)) from None
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    (spent,) = gw.store.query_one("SELECT COALESCE(SUM(gas), 0) FROM redemptions WHERE created >= ?", (day,))
    if int(spent) + gas > policy.daily_gas_budget:
        gw.count("relays_refused")
        raise ApiError(
            429, None, f"today's relay gas budget ({policy.daily_gas_budget}) is spent; retry tomorrow"
        )
    rid = uuid.uuid4().hex
    with gw.store.transaction() as conn:
        conn.execute(
            "INSERT INTO redemptions (id, member, perk_id, quantity, signature, status, created, gas)"
            " VALUES (?, ?, ?, ?, ?, 'relaying', ?, ?)",
            (rid, request.member, request.perk_id, request.quantity, sig_hash, time.time(), gas),
        )
    try:
        done = gw.client._redemption(gw.relayer.relay(rid, call, gas))
    except LoyaltyChainError as exc:
        _settle(gw.store, rid, "failed", error=str(exc))
        gw.count("relays_failed")
        return JSONResponse(redemption_json(gw.store, rid), status_code=502)
    _settle(
        gw.store, rid, "relayed", done.tx.tx_hash, done.redemption_id, done.points_burned, done.tx.gas_used
    )
    gw.count("relays_done")
    return JSONResponse(redemption_json(gw.store, rid), status_code=201)


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


def _settle(
    store: Store,
    rid: str,
    status: str,
    tx_hash: str | None = None,
    onchain_id: int | None = None,
    burned: int | None = None,
    gas: int | None = None,
    error: str | None = None,
) -> None:
    with store.transaction() as conn:
        conn.execute(
            "UPDATE redemptions SET status = ?, tx_hash = ?, redemption_id = ?, points_burned = ?,"
            " gas = COALESCE(?, gas), error = ? WHERE id = ?",
            (status, tx_hash, onchain_id, burned, gas, error, rid),
        )
        _webhook(conn, rid, status, tx_hash, error)


def _webhook(conn: Conn, rid: str, status: str, tx_hash: str | None, error: str | None) -> None:
    Store.enqueue_webhook(conn, f"redemption.{status}", {"id": rid, "tx_hash": tx_hash, "error": error})
