"""Admitting a relay: the relay policy's counted limits, shared by every gateway process on one store.

The per-member hourly limit, the global per-second limit and the daily gas budget are counted in
the store, not in a process's memory, and checked in the write transaction that stores the relay
(:func:`admit`). Write transactions hold the store's writer lock (SQLite's one writer; a
PostgreSQL advisory lock taken by every process), so two processes admitting at the same moment
see each other's relays: the limits hold for the whole gateway, however many processes serve it.

:func:`refusal` is the same check read without the lock, done first so a request over a limit is
refused before its signature is recovered and its gas estimated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .policy import RelayPolicy
from .store import Conn

Reader = Callable[[str, tuple[Any, ...]], tuple[Any, ...]]
"""Runs a one-row query: ``store.query_one``, or a transaction's connection."""


@dataclass(frozen=True)
class Refusal:
    """Why a relay is not admitted (answered 429 or 409, naming the field)."""

    status: int
    field: str | None
    message: str
    extra: dict[str, Any]


def day_start(now: float) -> float:
    """The start of ``now``'s UTC day (the daily gas budget's period)."""
    return datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


COUNTS = (
    "SELECT (SELECT MIN(id) FROM redemptions WHERE signature = ?),"
    " (SELECT COUNT(*) FROM redemptions WHERE member = ? AND created >= ?),"
    " (SELECT COUNT(*) FROM redemptions WHERE created > ?),"
    " (SELECT COALESCE(MAX(gas), 0) FROM relay_gas WHERE day = ?)"
)
"""What :func:`refusal` looks at, in one statement (one step of the database, where four cost the
group commit that admits relays four times the statements): an earlier redemption with the same
signature, the member's relays in the last hour, everyone's in the last second, today's gas."""


def refusal(
    read: Reader, policy: RelayPolicy, member: str, sig_hash: str, gas: int, now: float
) -> Refusal | None:
    """The first limit a relay of ``gas`` for ``member`` would break now, or None."""
    earlier, recent, last_second, spent = read(
        COUNTS, (sig_hash, member, now - 3600, now - 1.0, day_start(now))
    )
    if earlier is not None:
        return Refusal(409, "signature", "this signature was already submitted", {"redemption": earlier})
    if int(recent) >= policy.per_member_per_hour:
        return Refusal(429, "member", f"at most {policy.per_member_per_hour} relays per member per hour", {})
    if int(last_second) >= policy.global_per_second:
        return Refusal(429, None, f"at most {policy.global_per_second} relays per second; retry shortly", {})
    if int(spent) + gas > policy.daily_gas_budget:
        return Refusal(
            429, None, f"today's relay gas budget ({policy.daily_gas_budget}) is spent; retry tomorrow", {}
        )
    return None


def admit(
    conn: Conn,
    policy: RelayPolicy,
    *,
    rid: str,
    member: str,
    perk_id: int,
    quantity: int,
    sig_hash: str,
    target: str,
    calldata: str,
    gas: int,
    now: float,
) -> Refusal | None:
    """In the caller's write transaction: check every limit again, then store the redemption, its
    relay (sent by the :class:`~.relayer.Relayer`) and its gas against today's budget."""

    def read(sql: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(conn.execute(sql, args).fetchone())

    refused = refusal(read, policy, member, sig_hash, gas, now)
    if refused is not None:
        return refused
    conn.execute(
        "INSERT INTO redemptions (id, member, perk_id, quantity, signature, status, created, gas)"
        " VALUES (?, ?, ?, ?, ?, 'relaying', ?, ?)",
        (rid, member, perk_id, quantity, sig_hash, now, gas),
    )
    conn.execute(
        "INSERT INTO relays (redemption_id, target, calldata, gas) VALUES (?, ?, ?, ?)",
        (rid, target, calldata, gas),
    )
    conn.execute(
        "INSERT INTO relay_gas (day, gas) VALUES (?, ?)"
        " ON CONFLICT (day) DO UPDATE SET gas = relay_gas.gas + ?",
        (day_start(now), gas, gas),
    )
    return None
