"""A roll-up of the membership cards: every card's holder, tier and expiry at the cursor.

``card_state(token, owner, tier, valid_until)``: one row per card id any card event named, folded from
the card's ``Transfer`` (the holder; a burn leaves none), ``MemberEnrolled`` (tier, expiry),
``TierChanged`` and ``ValidUntilChanged`` events in log order. New events are folded onto the stored
rows of the cards they name (:func:`settle`); a reorg's rollback folds the table again from the events
that remain (:func:`rebuild`: a reorg that touches cards is rare, and a fold of every card is the
simplest way to get back what the removed events had replaced).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

ZERO = "0x" + "0" * 40

CARD_TRANSFER = "MembershipCard_Transfer"
ENROLLED = "MembershipCard_MemberEnrolled"
TIER_CHANGED = "MembershipCard_TierChanged"
VALIDITY = "MembershipCard_ValidUntilChanged"
SOURCES = (CARD_TRANSFER, ENROLLED, TIER_CHANGED, VALIDITY)
"""The event tables folded into ``card_state``."""

_IN_CHUNK = 500

TABLES = (
    "CREATE TABLE IF NOT EXISTS card_state(token TEXT PRIMARY KEY, owner TEXT, tier INTEGER,"
    " valid_until INTEGER) WITHOUT ROWID",
)

Card = tuple[str | None, int | None, int | str | None]
"""(holder or None, tier or None when never set, expiry or None when never set)."""


def create(conn: sqlite3.Connection) -> None:
    for sql in TABLES:
        conn.execute(sql)


_FOLDED = {
    CARD_TRANSFER: '"to", NULL, NULL',
    ENROLLED: "NULL, tier, validUntil",
    TIER_CHANGED: "NULL, newTier, NULL",
    VALIDITY: "NULL, NULL, newValidUntil",
}
"""What each source table gives: (holder, tier, expiry), NULL for what it leaves as it was."""


def _changes(tables: Collection[str]) -> str:
    """SQL: every card event of blocks ``:lo`` on, as (token, holder, tier, expiry), in log order."""
    parts = [
        f'SELECT tokenId, {columns}, block, log_index FROM "{table}" WHERE block >= :lo'
        for table, columns in _FOLDED.items()
        if table in tables
    ]
    return " UNION ALL ".join(parts) + " ORDER BY 5, 6"


def settle(conn: sqlite3.Connection, start: int, tables: Collection[str]) -> None:
    """Fold the card events of blocks ``start`` on onto ``card_state`` (inside the caller's transaction).
    ``tables``: the event tables the cache has."""
    if not any(t in tables for t in SOURCES):
        return
    touched: list[tuple[str, str | None, int | None, int | str | None]] = []
    for token, to, tier, until, _, _ in conn.execute(_changes(tables), {"lo": start}):
        touched.append((str(token), to, tier, until))
    if not touched:
        return
    cards = _stored(conn, sorted({t[0] for t in touched}))
    for token, to, tier, until in touched:
        owner, old_tier, old_until = cards.get(token, (None, None, None))
        if to is not None:
            owner = None if to == ZERO else str(to)
        cards[token] = (
            owner,
            int(tier) if tier is not None else old_tier,
            until if until is not None else old_until,  # beyond 63 bits: decimal text, as stored
        )
    conn.executemany(
        "INSERT OR REPLACE INTO card_state VALUES (?, ?, ?, ?)", [(k, *v) for k, v in sorted(cards.items())]
    )


def rebuild(conn: sqlite3.Connection, tables: Collection[str]) -> None:
    """``card_state`` folded again from every card event the cache holds."""
    conn.execute("DELETE FROM card_state")
    settle(conn, -1, tables)


def _stored(conn: sqlite3.Connection, tokens: list[str]) -> dict[str, Card]:
    out: dict[str, Card] = {}
    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM card_state)").fetchone()[0]:
        return out  # a first index: nothing to look up
    for i in range(0, len(tokens), _IN_CHUNK):
        chunk = tokens[i : i + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        for token, owner, tier, until in conn.execute(
            f"SELECT token, owner, tier, valid_until FROM card_state WHERE token IN ({marks})", chunk
        ):
            out[str(token)] = (owner, tier, until)
    return out
