"""Membership from the cache: who holds a card at the end of the range (mints, transfers, revocations
and cancellations all move or end a card), at which tier, expired or not; and tier moves in the range."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .query import ZERO, Reader, Window, t

CARD_TRANSFER = "MembershipCard_Transfer"
ENROLLED = "MembershipCard_MemberEnrolled"
TIER_CHANGED = "MembershipCard_TierChanged"
VALIDITY = "MembershipCard_ValidUntilChanged"
REVOKED = "MembershipCard_CardRevoked"
CANCELLED = "MembershipCard_CardCancelled"


@dataclass(frozen=True)
class Membership:
    members: int
    per_tier: dict[str, int]
    expired: int
    new_members: int
    ended: int
    tier_moves: dict[str, int]


def tier_name(tiers: Sequence[str], index: int) -> str:
    return tiers[index] if 0 <= index < len(tiers) else f"tier {index}"


def membership(r: Reader, w: Window, tiers: Sequence[str]) -> Membership:
    """Who holds a card at the range's end, at which tier, expired or not (from the indexer's
    ``card_state`` when the range ends where the cache does, else folded from the events), and the
    range's enrolments, ended cards and tier moves."""
    if w.to_end:
        counts: Counter[int] = Counter()
        for tier, n in r.conn.execute(
            "SELECT COALESCE(tier, 0), COUNT(*) FROM card_state WHERE owner IS NOT NULL GROUP BY 1"
        ):
            counts[int(tier)] = int(n)
        expired = int(
            r.one(
                """SELECT COUNT(*) FROM card_state
                   WHERE owner IS NOT NULL AND valid_until > 0 AND valid_until < ?""",
                (w.until,),
            )[0]
        )
        return _in_range(r, w, tiers, counts.total(), counts, expired)
    owner, tier, until = _folded(r, w)
    counts = Counter(tier.get(token, 0) for token in owner)
    expired = sum(1 for token in owner if 0 < until.get(token, 0) < w.until)
    return _in_range(r, w, tiers, len(owner), counts, expired)


def _folded(r: Reader, w: Window) -> tuple[dict[str, str], dict[str, int], dict[str, int]]:
    """Card ownership folded from the card's own Transfer events (by token id), tiers and expiries
    from its MemberEnrolled, TierChanged and ValidUntilChanged events, all up to the range's end."""
    owner: dict[str, str] = {}
    for token, to in r.conn.execute(
        f'SELECT tokenId, "to" FROM {t(CARD_TRANSFER)} WHERE block <= ? ORDER BY block, log_index',
        (w.last_block,),
    ):
        if to == ZERO:
            owner.pop(str(token), None)
        else:
            owner[str(token)] = to
    tier: dict[str, int] = {}
    until: dict[str, int] = {}
    changes = f"""SELECT tokenId, tier, validUntil, block, log_index FROM {t(ENROLLED)} WHERE block <= :hi
                  UNION ALL SELECT tokenId, newTier, NULL, block, log_index FROM {t(TIER_CHANGED)}
                    WHERE block <= :hi
                  UNION ALL SELECT tokenId, NULL, newValidUntil, block, log_index FROM {t(VALIDITY)}
                    WHERE block <= :hi
                  ORDER BY block, log_index"""
    for token, new_tier, valid_until, _, _ in r.conn.execute(changes, {"hi": w.last_block}):
        if new_tier is not None:
            tier[str(token)] = int(new_tier)
        if valid_until is not None:
            until[str(token)] = int(valid_until)
    return owner, tier, until


def _in_range(
    r: Reader, w: Window, tiers: Sequence[str], members: int, counts: Counter[int], expired: int
) -> Membership:
    new = r.one(
        f"SELECT COUNT(*) FROM {t(ENROLLED)} WHERE block BETWEEN ? AND ?", (w.first_block, w.last_block)
    )
    ended = 0
    for table in (REVOKED, CANCELLED):
        ended += int(
            r.one(
                f"SELECT COUNT(*) FROM {t(table)} WHERE block BETWEEN ? AND ?", (w.first_block, w.last_block)
            )[0]
        )
    moves: Counter[str] = Counter()
    for old, new_tier, n in r.conn.execute(
        f"""SELECT previousTier, newTier, COUNT(*) FROM {t(TIER_CHANGED)}
            WHERE block BETWEEN ? AND ? GROUP BY 1, 2""",
        (w.first_block, w.last_block),
    ):
        moves[f"{tier_name(tiers, int(old))}→{tier_name(tiers, int(new_tier))}"] += int(n)
    return Membership(
        members=members,
        per_tier={
            tier_name(tiers, i): counts.get(i, 0) for i in range(max([len(tiers), *(k + 1 for k in counts)]))
        },
        expired=expired,
        new_members=int(new[0] or 0),
        ended=ended,
        tier_moves=dict(moves.most_common()),
    )
