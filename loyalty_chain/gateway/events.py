"""``POST /v1/events`` and ``GET /v1/events/{id}``: the shop tells what happened; the shop's event id
is the idempotency key (stored before 202 is answered; the same id again replays the first answer)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ..errors import InputError
from .earn import Decision, ShopEvent, decide
from .http import ApiError, gateway, require
from .models import EventBatchIn, EventIn
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
    event = _shop_event(body)
    decide_it, write = _steps(gw, event, canonical)
    new, stored = gw.store.accept_event(event.id, decide_it, write)
    if not new:  # another request stored the same id first
        row = gw.store.query("SELECT body, answer FROM events WHERE id = ?", (body.id,))[0]
        return _replay(body.id, canonical, row)
    gw.count(f"events_{stored.status}")
    return JSONResponse(stored.answer, status_code=_status(stored.answer))


@router.post("/v1/events/batch", dependencies=[Depends(require("events:write"))])
def post_events(body: EventBatchIn, gw: Gateway = Depends(gateway)) -> dict[str, Any]:  # noqa: B008
    """Several shop events in one request (e.g. a shop's order batch), stored in one transaction.

    Each event is what ``POST /v1/events`` takes, with its own id as idempotency key, and gets its
    own answer, in order: ``{"status": <the HTTP status POST /v1/events would answer>, "body":
    <its body>}`` (202 accepted, 200 rejected by the rules, 409 id reused with another body, 422
    invalid, naming the field). One bad event does not stop the others."""
    results: list[dict[str, Any] | None] = [None] * len(body.events)
    todo: list[tuple[int, EventIn, str]] = []
    for n, raw in enumerate(body.events):
        try:
            event_in = EventIn.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "event"
            results[n] = _error(422, f"events.{n}.{field}", str(first["msg"]))
            continue
        todo.append((n, event_in, event_in.model_dump_json()))
    known = _stored(gw, [e.id for _, e, _ in todo])
    steps = []
    for n, event_in, canonical in todo:
        if event_in.id in known:
            results[n] = _replayed(event_in.id, canonical, known[event_in.id])
            continue
        event = _shop_event(event_in)
        steps.append((n, event_in, canonical, (event.id, *_steps(gw, event, canonical))))
    accepted = gw.store.accept_events([step for *_, step in steps])
    stored = _stored(gw, [event_in.id for _, event_in, _, _ in steps])
    for (n, event_in, canonical, _), item in zip(steps, accepted, strict=True):
        if isinstance(item.error, InputError):
            results[n] = _error(422, f"events.{n}", str(item.error))
        elif item.error is not None:
            results[n] = _error(500, None, f"the event could not be stored ({item.error}); post it again")
        elif not item.new:
            results[n] = _replayed(event_in.id, canonical, stored[event_in.id])
        else:
            answer = json.loads(stored[event_in.id][1])
            gw.count(f"events_{answer['status']}")
            results[n] = {"status": _status(answer), "body": answer}
    return {"results": results}


def _shop_event(body: EventIn) -> ShopEvent:
    return ShopEvent(
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


def _steps(
    gw: Gateway, event: ShopEvent, canonical: str
) -> tuple[Callable[[Conn], Decision], Callable[[Conn, Decision], None]]:
    """What the store runs for the event in its transaction: the rules' decision, then the writes."""
    tier = gw.tier_of(event.member) if event.type == "purchase" and gw.rules.tier_multipliers else None

    def decide_it(conn: Conn) -> Decision:
        return decide(gw.rules, event, tier, conn)

    def write(conn: Conn, d: Decision) -> None:
        _write(conn, event, canonical, d)

    return decide_it, write


def _stored(gw: Gateway, ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """id → (body, answer) of those of ``ids`` already stored."""
    found: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" * len(part))
        for event_id, body, answer in gw.store.query(
            f"SELECT id, body, answer FROM events WHERE id IN ({marks})",  # only placeholders added
            tuple(part),
        ):
            found[str(event_id)] = (body, answer)
    return found


def _replayed(event_id: str, canonical: str, row: tuple[Any, ...]) -> dict[str, Any]:
    """What ``_replay`` answers, as one result of a batch."""
    if row[0] != canonical:
        return _error(409, "id", f"event id {event_id!r} was first posted with a different body")
    answer = json.loads(row[1])
    return {"status": _status(answer), "body": answer, "replayed": True}


def _error(status: int, field: str | None, message: str) -> dict[str, Any]:
    return {"status": status, "body": {"error": {"status": status, "field": field, "message": message}}}


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
