"""What one accepted shop event earns under the rules, decided against what the store already holds
(signup once, birthday once a year, referral after the referee's first purchase, caps per period)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .rules import Rules
from .store import Conn


@dataclass(frozen=True)
class ShopEvent:
    """A validated event as the shop posted it."""

    id: str
    type: str
    member: str
    occurred: float
    value: Decimal | None = None
    currency: str | None = None
    referee: str | None = None
    points: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Grant:
    member: str
    points: int
    reason: str
    kind: str


@dataclass
class Decision:
    status: str
    """accepted (points to issue, or waiting for something) or rejected."""
    why: str | None = None
    grants: list[Grant] = field(default_factory=list)
    referral: tuple[str, str] | None = None
    """(referee, referrer) to remember."""
    rewarded_referee: str | None = None


def period_start(occurred: float, period: str) -> float:
    t = datetime.fromtimestamp(occurred, UTC)
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        start = day
    elif period == "week":
        start = day - timedelta(days=day.weekday())
    elif period == "month":
        start = day.replace(day=1)
    else:
        start = day.replace(month=1, day=1)
    return start.timestamp()


def decide(rules: Rules, event: ShopEvent, tier: str | None, conn: Conn) -> Decision:
    """The grants ``event`` earns, capped; or why it earns nothing."""
    kind = event.type
    if kind == "purchase":
        assert event.value is not None and event.currency is not None
        if event.currency not in rules.per_unit:
            return Decision("rejected", f"no earn rule for currency {event.currency}")
        points = rules.purchase_points(event.value, event.currency, tier)
        grants = [Grant(event.member, points, rules.purchase_reason, "purchase")] if points else []
        decision = Decision("accepted", None if points else "the purchase earns 0 points", grants)
        referral = conn.execute(
            "SELECT referrer FROM referrals WHERE referee = ? AND rewarded = 0", (event.member,)
        ).fetchone()
        bonus = rules.bonuses.get("referral")
        if referral is not None and bonus is not None:
            first = conn.execute(
                "SELECT 1 FROM events WHERE member = ? AND type = 'purchase' AND status != 'rejected'",
                (event.member,),
            ).fetchone()
            if first is None:
                decision.grants.append(Grant(str(referral[0]), bonus.points, bonus.reason, "referral"))
                decision.grants.append(Grant(event.member, bonus.points, bonus.reason, "referral"))
                decision.rewarded_referee = event.member
        if not decision.grants:
            return Decision("rejected", "the purchase earns 0 points under the rules")
        return _capped(rules, event, decision, conn)
    if kind == "referral":
        bonus = rules.bonuses.get("referral")
        if bonus is None:
            return Decision("rejected", "the rules give no referral bonus")
        assert event.referee is not None
        if event.referee == event.member:
            return Decision("rejected", "a member cannot refer themselves")
        if conn.execute("SELECT 1 FROM referrals WHERE referee = ?", (event.referee,)).fetchone():
            return Decision("rejected", f"{event.referee} was already referred")
        bought = conn.execute(
            "SELECT 1 FROM events WHERE member = ? AND type = 'purchase' AND status != 'rejected'",
            (event.referee,),
        ).fetchone()
        if bought is not None:
            return Decision("rejected", f"{event.referee} had purchased before being referred")
        return Decision(
            "accepted", "waiting for the referee's first purchase", referral=(event.referee, event.member)
        )
    if kind == "custom":
        if event.points is None or event.points > rules.custom_max:
            return Decision("rejected", f"custom points must be 1..{rules.custom_max} under the rules")
        grants = [Grant(event.member, event.points, event.reason or rules.custom_reason, "custom")]
        return _capped(rules, event, Decision("accepted", None, grants), conn)
    bonus = rules.bonuses.get(kind)
    if bonus is None:
        return Decision("rejected", f"the rules give no {kind} bonus")
    if kind == "signup" and _granted_since(conn, event.member, "signup", 0):
        return Decision("rejected", "the signup bonus was already given to this member")
    if kind == "birthday":
        year = period_start(event.occurred, "year")
        if _granted_since(conn, event.member, "birthday", year):
            when = datetime.fromtimestamp(event.occurred, UTC).year
            return Decision("rejected", f"the birthday bonus was already given in {when}")
    grants = [Grant(event.member, bonus.points, bonus.reason, kind)]
    return _capped(rules, event, Decision("accepted", None, grants), conn)


def _granted_since(conn: Conn, member: str, kind: str, since: float) -> bool:
    row = conn.execute(
        "SELECT 1 FROM grants WHERE member = ? AND kind = ? AND occurred >= ? AND status != 'failed'",
        (member, kind, since),
    ).fetchone()
    return row is not None


def _capped(rules: Rules, event: ShopEvent, decision: Decision, conn: Conn) -> Decision:
    """Cut each member's grants down to what the per-period cap leaves them."""
    if rules.cap_points is None or not decision.grants:
        return decision
    since = period_start(event.occurred, rules.cap_period)
    left: dict[str, int] = {}
    capped: list[Grant] = []
    for grant in decision.grants:
        if grant.member not in left:
            (earned,) = conn.execute(
                "SELECT COALESCE(SUM(points), 0) FROM grants WHERE member = ? AND occurred >= ?"
                " AND status != 'failed'",
                (grant.member, since),
            ).fetchone()
            left[grant.member] = max(0, rules.cap_points - int(earned))
        points = min(grant.points, left[grant.member])
        left[grant.member] -= points
        if points:
            capped.append(Grant(grant.member, points, grant.reason, grant.kind))
    if not capped:
        cap = f"{rules.cap_points} points per {rules.cap_period}"
        return Decision("rejected", f"the member reached the cap of {cap}")
    if sum(g.points for g in capped) < sum(g.points for g in decision.grants):
        decision.why = f"capped at {rules.cap_points} points per {rules.cap_period}"
    decision.grants = capped
    return decision
