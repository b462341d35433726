"""KPI inputs read from the indexer's roll-ups (:mod:`loyalty_chain.indexer.rollup`) instead of
scanning every point transfer: which wallets acted on which day in a block range, and point holders at
a block. Exact for any range: a day the range only partly covers is read from the transfers of the
covered blocks (at most a day of them at each end); whole days come from ``wallet_days``."""

from __future__ import annotations

from typing import Any

from ..indexer.rollup import ACTOR, DAY, POSITIVE, ZERO, actor, balances_of
from .query import Reader, t

TRANSFER = "LoyaltyPoints_Transfer"

_EMPTY: tuple[str, list[Any]] = ("SELECT NULL AS wallet, NULL AS day WHERE 0", [])


def wallet_days(r: Reader, lo: int, hi: int) -> tuple[str, list[Any]]:
    """SQL (and its parameters) yielding ``(wallet, day)`` for every UTC day a wallet acted in a
    point transfer of blocks ``lo..hi`` (a pair may repeat: use DISTINCT or GROUP BY over it)."""
    c = r.conn
    lo_ts = c.execute("SELECT MIN(ts) FROM blocks WHERE number >= ? AND number <= ?", (lo, hi)).fetchone()[0]
    hi_ts = c.execute("SELECT MAX(ts) FROM blocks WHERE number >= ? AND number <= ?", (lo, hi)).fetchone()[0]
    if lo_ts is None or hi_ts is None:
        return _EMPTY
    d_lo, d_hi = int(lo_ts) // DAY, int(hi_ts) // DAY
    # A day is whole when every stored block of it lies in lo..hi (block times never go back).
    day_first = c.execute("SELECT MIN(number) FROM blocks WHERE ts >= ?", (d_lo * DAY,)).fetchone()[0]
    day_last = c.execute("SELECT MAX(number) FROM blocks WHERE ts < ?", ((d_hi + 1) * DAY,)).fetchone()[0]
    lo_whole, hi_whole = int(day_first) >= lo, int(day_last) <= hi
    parts: list[str] = []
    params: list[Any] = []
    full_lo, full_hi = d_lo + (0 if lo_whole else 1), d_hi - (0 if hi_whole else 1)
    if full_lo <= full_hi:
        parts.append("SELECT wallet, day FROM wallet_days WHERE day BETWEEN ? AND ?")
        params += [full_lo, full_hi]
    edges: list[tuple[int, int]] = []
    if not lo_whole:
        end = c.execute("SELECT MAX(number) FROM blocks WHERE ts < ?", ((d_lo + 1) * DAY,)).fetchone()[0]
        edges.append((lo, min(hi, int(end))))
    if not hi_whole and (lo_whole or d_hi != d_lo):
        start = c.execute("SELECT MIN(number) FROM blocks WHERE ts >= ?", (d_hi * DAY,)).fetchone()[0]
        edges.append((max(lo, int(start)), hi))
    for a, b in edges:
        parts.append(
            f"SELECT {ACTOR} AS wallet, ts / {DAY} AS day FROM {t(TRANSFER)} WHERE block BETWEEN ? AND ?"
        )
        params += [a, b]
    return (" UNION ALL ".join(parts), params) if parts else _EMPTY


def point_holders(r: Reader, block: int) -> int:
    """Wallets with a positive balance after ``block``: the balances at the cursor, with the point
    transfers after ``block`` taken back out."""
    now = int(r.conn.execute(f"SELECT COUNT(*) FROM balances WHERE {POSITIVE}").fetchone()[0])
    deltas: dict[str, int] = {}
    for sender, receiver, value in r.conn.execute(
        f'SELECT "from", "to", value FROM {t(TRANSFER)} WHERE block > ?', (block,)
    ):
        if sender != ZERO:
            deltas[sender] = deltas.get(sender, 0) + int(value)
        if receiver != ZERO:
            deltas[receiver] = deltas.get(receiver, 0) - int(value)
    if not deltas:
        return now
    current = balances_of(r.conn, list(deltas))
    for wallet, delta in deltas.items():
        before = current.get(wallet, 0)
        now += (before + delta > 0) - (before > 0)
    return now


__all__ = ("ACTOR", "actor", "point_holders", "wallet_days")
