"""What a brand manager wants to know, computed from the program's events alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .decoding import Event

ZERO = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class ProgramSummary:
    members_per_tier: dict[str, int]
    points_issued: int
    points_redeemed: int
    points_burned_other: int
    redemptions_per_perk: dict[int, int] = field(default_factory=dict)
    units_per_perk: dict[int, int] = field(default_factory=dict)
    issued_per_reason: dict[str, int] = field(default_factory=dict)

    @property
    def points_outstanding(self) -> int:
        return self.points_issued - self.points_redeemed - self.points_burned_other


def summarize(
    events: Iterable[Event], tiers: Sequence[str], points_address: str, card_address: str | None = None
) -> ProgramSummary:
    """Fold the program's events (oldest first) into a summary.

    Points issued are Transfers from the zero address of the points token; redeemed are the
    ``pointsBurned`` of PerkRedeemed; other burns are the remaining Transfers to zero. The reason
    of a batch is on its PointsIssued event, emitted after the batch's Transfers in the same tx.
    Members are card holders: the card's own Transfers (by token id; given ``card_address``, else
    any ERC-721 Transfer, which carries a ``tokenId``) move a card or end it (revoke, cancel), and
    its tier follows MemberEnrolled and TierChanged by token id.

    This folds events already fetched; for a date range, more KPIs and an incremental cache, see
    :func:`loyalty_chain.reports.program_report` (``loyalty-chain report``, ``client.summary()``).
    """
    owner: dict[int, str] = {}
    tier_of: dict[int, int] = {}
    issued = redeemed = burned = 0
    per_perk: Counter[int] = Counter()
    units: Counter[int] = Counter()
    per_reason: Counter[str] = Counter()
    points = points_address.lower()
    card = card_address.lower() if card_address else None
    for ev in events:
        args = ev.args
        if ev.name == "Transfer" and ev.address.lower() == points:
            if str(args["from"]).lower() == ZERO:
                issued += int(args["value"])
            elif str(args["to"]).lower() == ZERO:
                burned += int(args["value"])
        elif ev.name == "Transfer" and "tokenId" in args and (card is None or ev.address.lower() == card):
            token = int(args["tokenId"])
            if str(args["to"]).lower() == ZERO:
                owner.pop(token, None)
            else:
                owner[token] = str(args["to"])
        elif ev.name == "PointsIssued":
            raw = bytes.fromhex(str(args["reason"])[2:]).rstrip(b"\0").decode(errors="replace")
            per_reason[raw or "(none)"] += int(args["total"])
        elif ev.name == "MemberEnrolled":
            tier_of[int(args["tokenId"])] = int(args["tier"])
        elif ev.name == "TierChanged":
            tier_of[int(args["tokenId"])] = int(args["newTier"])
        elif ev.name == "PerkRedeemed":
            redeemed += int(args["pointsBurned"])
            per_perk[int(args["perkId"])] += 1
            units[int(args["perkId"])] += int(args["quantity"])
    counts = Counter(tier_of.get(token, 0) for token in owner)
    return ProgramSummary(
        members_per_tier={name: counts.get(i, 0) for i, name in enumerate(tiers)},
        points_issued=issued,
        points_redeemed=redeemed,
        points_burned_other=burned - redeemed,
        redemptions_per_perk=dict(sorted(per_perk.items())),
        units_per_perk=dict(sorted(units.items())),
        issued_per_reason=dict(per_reason),
    )
