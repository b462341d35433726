"""``POST /v1/events`` and ``GET /v1/events/{id}``: the shop tells what happened; the shop's event id
is the idempotency key (stored before 202 is answered; the same id again replays the first answer)."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from .earn import Decision, ShopEvent, decide
from .http import ApiError, gateway, require
from .models import EventIn
from .service import Gateway
from .store import Conn, Store

router = APIRouter(tags=["back office"])

EVENT_ID = Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")


@router.post(
    "/v1/events",
    status_code=202,
    dependencies=[Depends(require("events:write"))],
    responses={200: {"description": "stored and rejected by the earn rules (why says why)"}},
)
def post_event(body: EventIn, gw: Gateway = Depends(gateway)) -> JSONResponse:  # noqa: B008
    """Store a shop event once: 202 when it will earn points, 200 when the rules reject it."""
    canonical = body.model_dump_json()
    earlier = gw.store.query("SELECT body, answer FROM events WHERE id = ?", (body.id,))
    if earlier:
        return _replay(body.id, canonical, earlier[0])
    event = ShopEvent(
        id=body.id,
        type=body.type,
        member=body.member,
        occurred=body.occurred_at.timestamp() if body.occurred_at else time.time(),
        value=body.value,
        currency=body.currency,
        referee=body.referee,
        points=body.points,
        reason=body.reason,
    )
    tier = gw.tier_of(event.member) if event.type == "purchase" and gw.rules.tier_multipliers else None

    def write(conn: Conn, d: Decision) -> None:
        _write(conn, event, canonical, d)

    new, stored = gw.store.accept_event(event.id, lambda conn: decide(gw.rules, event, tier, conn), write)
    if not new:  # another request stored the same id first
        row = gw.store.query("SELECT body, answer FROM events WHERE id = ?", (body.id,))[0]
        return _replay(body.id, canonical, row)
    gw.count(f"events_{stored.status}")
    return JSONResponse(stored.answer, status_code=_status(stored.answer))


@router.get("/v1/events/{event_id}", dependencies=[Depends(require("events:read"))])
def get_event(event_id: str = EVENT_ID, gw: Gateway = Depends(gateway)) -> dict[str, Any]:  # noqa: B008
    """Where an event is: accepted (points to be issued), issued (tx hashes), rejected or failed (why)."""
    stored = gw.store.event(event_id)
    if stored is None:
        raise ApiError(404, "event_id", f"no event {event_id!r} was posted")
    return {
        "id": stored.id,
        "type": stored.type,
        "member": stored.member,
        "status": stored.status,
        "points": stored.points,
        "why": stored.why,
        "tx_hashes": list(stored.tx_hashes),
    }


def _status(answer: dict[str, Any]) -> int:
    return 200 if answer["status"] == "rejected" else 202


def _replay(event_id: str, canonical: str, row: tuple[Any, ...]) -> JSONResponse:
    if row[0] != canonical:
        raise ApiError(
            409, "id", f"event id {event_id!r} was first posted with a different body; an id names one event"
        )
    answer = json.loads(row[1])
    return JSONResponse(answer, status_code=_status(answer), headers={"Idempotent-Replayed": "true"})


def _write(conn: Conn, event: ShopEvent, canonical: str, d: Decision) -> None:
    points = sum(g.points for g in d.grants)
    answer = {
        "id": event.id,
        "status": d.status,
        "points": points,
        "why": d.why,
        "url": f"/v1/events/{event.id}",
    }
    conn.execute(
        "INSERT INTO events (id, type, member, occurred, body, status, why, points, received, answer)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.id,
            event.type,
            event.member,
            event.occurred,
            canonical,
            d.status,
            d.why,
            points,
            time.time(),
            json.dumps(answer),
        ),
    )
    conn.executemany(
        "INSERT INTO grants (event_id, member, points, reason, kind, occurred) VALUES (?, ?, ?, ?, ?, ?)",
        [(event.id, g.member, g.points, g.reason, g.kind, event.occurred) for g in d.grants],
    )
    if d.referral:
        conn.execute(
            "INSERT INTO referrals (referee, referrer, event_id) VALUES (?, ?, ?)", (*d.referral, event.id)
        )
    if d.rewarded_referee:
        conn.execute("UPDATE referrals SET rewarded = 1 WHERE referee = ?", (d.rewarded_referee,))
    if d.status == "rejected":
        Store.enqueue_webhook(conn, "event.rejected", {"id": event.id, "member": event.member, "why": d.why})
