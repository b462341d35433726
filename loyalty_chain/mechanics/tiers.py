"""Tiers that follow activity (``LoyaltyPoints.configureTiers``): points issued for chosen reasons count
towards thresholds over a calendar or rolling period; crossing one upgrades the member's card in the same
transaction; a period boundary lowers it, applied by a permissionless review anyone may run.

    tiers = Tiers(brand)
    tiers.enable({"Silver": 1_000, "Gold": 5_000}, TierPeriod.parse("year"), ["purchase"])  # admin, once
    brand.issue(member, 1_200, "purchase")             # the card becomes Silver in this transaction
    tiers.progress(member)                             # TierProgress(qualifying=1200, tier_name="Silver", …)
    tiers.review()                                     # after the year: lowers whoever earned less

Thresholds are whole points (the token multiplies by 10**decimals); a tier set by hand on the card stays
unless activity rises above it. Transfers, burns and other reasons never count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from eth_utils import keccak, to_checksum_address

from ..delivery import TxResult
from ..errors import InputError
from ..values import checked_address, reason_code, reason_text
from .exchange_record import parse_duration

if TYPE_CHECKING:
    from ..client import LoyaltyClient

TIER_SYNC_ROLE = keccak(text="TIER_SYNC_ROLE")
MAX_THRESHOLDS = 8
"""Tiers 1-8 above tier 0 (``LoyaltyPoints`` packs the thresholds in one slot)."""

REVIEW_BATCH = 500
"""Members per ``reviewTiers`` transaction: ~5,000 gas per member whose period rolled, ~16,000 for one
whose card moves; 500 stay well under the EIP-7825 cap of 16,777,216 gas even if every card moves."""

REVIEW_GAS_PER_MEMBER = 25_000
REVIEW_GAS_OVERHEAD = 80_000
DUE_QUERY_CHUNK = 2_000
"""Members asked per ``tierReviewDue`` call."""

LOG_PAGE = 5_000
"""Blocks per ``eth_getLogs`` page when listing who was ever issued points."""

Thresholds = Mapping[str, int] | Mapping[int, int] | Sequence[int]
"""Whole points per tier above the base: a list (tier 1 first) or a mapping by tier name or index."""

_TRANSFER = keccak(text="Transfer(address,address,uint256)")
_ZERO_TOPIC = b"\0" * 32

_NAMED_PERIODS = {
    "month": 1,
    "monthly": 1,
    "quarter": 3,
    "quarterly": 3,
    "half-year": 6,
    "year": 12,
    "yearly": 12,
}


class PeriodKind(IntEnum):
    """``mode`` of ``configureTiers``."""

    OFF = 0
    CALENDAR = 1
    """Calendar months aligned to January (1, 2, 3, 4, 6 or 12 per period), the same for everyone."""
    ROLLING = 2
    """A number of seconds, each member's own, from its first qualifying points."""


@dataclass(frozen=True)
class TierPeriod:
    """A qualification period: ``length`` months (calendar) or seconds (rolling)."""

    kind: PeriodKind
    length: int

    @classmethod
    def parse(cls, text: str) -> TierPeriod:
        """``year``, ``half-year``, ``quarter``, ``month``, ``calendar:N`` (N months), or ``rolling:365d``
        (s, m, h, d or w)."""
        raw = text.strip().lower()
        if raw in _NAMED_PERIODS:
            return cls(PeriodKind.CALENDAR, _NAMED_PERIODS[raw])
        kind, _, value = raw.partition(":")
        if kind == "calendar" and value.isdigit() and int(value) in (1, 2, 3, 4, 6, 12):
            return cls(PeriodKind.CALENDAR, int(value))
        if kind == "rolling" and value:
            seconds = parse_duration(value)
            if 0 < seconds < 2**32:
                return cls(PeriodKind.ROLLING, seconds)
        raise InputError(
            f"period {text!r} is not one: give year, half-year, quarter, month, calendar:N (N months: 1, 2, "
            "3, 4, 6 or 12) or rolling:DURATION (e.g. rolling:365d)"
        )

    def describe(self) -> str:
        if self.kind == PeriodKind.CALENDAR:
            names = {1: "calendar month", 3: "calendar quarter", 6: "calendar half-year", 12: "calendar year"}
            return names.get(self.length, f"{self.length} calendar months")
        if self.kind == PeriodKind.ROLLING:
            days, rest = divmod(self.length, 86_400)
            return f"rolling {days} days" if rest == 0 else f"rolling {self.length} seconds"
        return "none"


@dataclass(frozen=True)
class TierRules:
    """How the program's tiers follow activity (``enabled`` False: they do not)."""

    enabled: bool
    card: str | None
    period: TierPeriod
    thresholds: tuple[int, ...]
    """Whole points to reach tier 1, 2 … in one period."""
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class TierProgress:
    """A member's progress as of the latest block (a period that ended shows the next one)."""

    member: str
    qualifying: int
    """Points counted this period, in base units."""
    tier: int
    """The status tier activity earned (the card may differ: a tier set by hand)."""
    tier_name: str
    next_tier: int
    next_tier_name: str
    points_needed: int
    """Base units still needed for ``next_tier`` (0 at the top)."""
    period_end: int
    """Unix seconds; 0 for a rolling period not started yet (it starts with the first qualifying points)."""
    card_tier_name: str | None
    """The tier on the member's card, or None without a card."""

    @property
    def at_top(self) -> bool:
        return self.next_tier == self.tier


@dataclass(frozen=True)
class ReviewResult:
    """What :meth:`Tiers.review` did."""

    checked: int
    """Members looked at."""
    due: int
    """Members whose period had ended with something to decide (the ones sent)."""
    changes: tuple[tuple[str, int, int], ...]
    """(member, previous status tier, new status tier) for each status that changed."""
    transactions: tuple[TxResult, ...] = field(default=())

    @property
    def gas_used(self) -> int:
        return sum(tx.gas_used for tx in self.transactions)


class Tiers:
    """The program's tiers that follow activity, acting as the client's account."""

    def __init__(self, client: LoyaltyClient) -> None:
        if client.expiry is not None:
            raise InputError(
                f"program {client.record.name!r} has expiring points (ExpiringPoints), whose token does not "
                "count qualifying points: its tiers are set by hand (loyalty-chain member tier)"
            )
        self.client = client
        self.points = client.points

    # -- admin ----------------------------------------------------------------------------------

    def enable(
        self,
        thresholds: Thresholds,
        period: TierPeriod,
        reasons: Sequence[str],
    ) -> TxResult:
        """Make the card's tiers follow activity (the program's admin, who must also administer the card:
        it grants the points token TIER_SYNC_ROLE on the card first if needed)."""
        values = self._thresholds(thresholds)
        codes = self._reasons(reasons)
        card = self.client.card
        if not card.functions.hasRole(TIER_SYNC_ROLE, self.points.address).call():
            self.client.sender.send(card.functions.grantRole(TIER_SYNC_ROLE, self.points.address))
        call = self.points.functions.configureTiers(
            card.address, int(period.kind), period.length, values, codes
        )
        return self.client.sender.send(call)

    def set_thresholds(self, thresholds: Thresholds) -> TxResult:
        """New thresholds (whole points): upgrades use them at once, the next review for downgrades."""
        return self.client.sender.send(self.points.functions.setTierThresholds(self._thresholds(thresholds)))

    def set_reason(self, reason: str, qualifies: bool = True) -> TxResult:
        """Make points issued for ``reason`` count (or stop counting) from now on."""
        return self.client.sender.send(
            self.points.functions.setQualifyingReason(self._reasons([reason])[0], qualifies)
        )

    def disable(self) -> TxResult:
        """Stop tiers following activity (cards keep their tiers)."""
        return self.client.sender.send(self.points.functions.disableTiers())

    # -- views ----------------------------------------------------------------------------------

    def rules(self) -> TierRules:
        card, mode, length, thresholds, reasons = self.points.functions.tierSettings().call()
        enabled = int(mode) != 0
        return TierRules(
            enabled,
            str(card) if enabled else None,
            TierPeriod(PeriodKind(int(mode)), int(length)),
            tuple(int(t) for t in thresholds),
            tuple(reason_text(bytes(r)) for r in reasons),
        )

    def progress(self, member: str) -> TierProgress:
        """``member``'s qualifying points, status tier, next tier, points needed and period end."""
        who = checked_address(member, "member")
        self._require_enabled()
        qualifying, tier, next_tier, needed, end = self.points.functions.tierProgress(who).call()
        names = self.client.tiers()
        card = self.client.card_of(who)
        return TierProgress(
            who,
            int(qualifying),
            int(tier),
            names[int(tier)],
            int(next_tier),
            names[int(next_tier)],
            int(needed),
            int(end),
            card.tier_name if card is not None else None,
        )

    def issued_to(self) -> list[str]:
        """Every address the program ever issued points to (its mints), oldest first: everyone who may
        hold qualifying points."""
        w3 = self.client.chain.w3
        start, end = self.client.record.block, int(w3.eth.block_number)
        seen: dict[str, None] = {}
        for lo in range(start, end + 1, LOG_PAGE):
            query: Any = {
                "address": self.points.address,
                "topics": ["0x" + _TRANSFER.hex(), "0x" + _ZERO_TOPIC.hex()],
                "fromBlock": lo,
                "toBlock": min(end, lo + LOG_PAGE - 1),
            }
            for log in w3.eth.get_logs(query):
                seen.setdefault(to_checksum_address(bytes(log["topics"][2])[12:]), None)
        return list(seen)

    def due(self, members: Sequence[str]) -> list[str]:
        """Which of ``members`` a review would change now."""
        self._require_enabled()
        checked = [checked_address(m, f"member #{i + 1}") for i, m in enumerate(members)]
        out: list[str] = []
        for lo in range(0, len(checked), DUE_QUERY_CHUNK):
            chunk = checked[lo : lo + DUE_QUERY_CHUNK]
            flags = self.points.functions.tierReviewDue(chunk).call()
            out.extend(m for m, flag in zip(chunk, flags, strict=True) if flag)
        return out

    # -- the review (anyone) ----------------------------------------------------------------------

    def review(
        self, members: Sequence[str] | None = None, *, batch_size: int = REVIEW_BATCH, dry_run: bool = False
    ) -> ReviewResult:
        """Apply period boundaries to ``members`` (default: everyone ever issued points): only those due
        are sent, ``batch_size`` per transaction. Running it again in the same period sends nothing."""
        if not 1 <= batch_size <= REVIEW_BATCH:
            raise InputError(f"batch size must be 1..{REVIEW_BATCH}, got {batch_size}")
        everyone = self.issued_to() if members is None else list(members)
        due = self.due(everyone)
        if dry_run or not due:
            return ReviewResult(len(everyone), len(due), ())
        fn = self.points.functions.reviewTiers
        calls = [fn(due[lo : lo + batch_size]) for lo in range(0, len(due), batch_size)]
        gas = [REVIEW_GAS_OVERHEAD + REVIEW_GAS_PER_MEMBER * len(c.args[0]) for c in calls]
        sender = self.client.sender
        sender.simulate(calls[0])
        results = self.client._all_ok(sender.send_many(calls, gas=gas))
        changes = tuple(
            (str(ev.args["member"]), int(ev.args["previousTier"]), int(ev.args["newTier"]))
            for r in results
            for ev in r.events
            if ev.name == "TierStatusChanged"
        )
        return ReviewResult(len(everyone), len(due), changes, tuple(results))

    # -- helpers ----------------------------------------------------------------------------------

    def _require_enabled(self) -> None:
        if int(self.points.functions.tierSettings().call()[1]) == 0:
            raise InputError(
                f"program {self.client.record.name!r} has no tiers that follow activity; enable them first: "
                f"loyalty-chain tiers enable {self.client.record.name} --threshold TIER=POINTS (as its admin)"
            )

    def _thresholds(self, thresholds: Thresholds) -> list[int]:
        """Whole points for tiers 1, 2 … from a list (tier 1 first) or a mapping by tier name or index."""
        names = self.client.tiers()
        if isinstance(thresholds, Mapping):
            by_tier = {self.client.tier_index(k): v for k, v in thresholds.items()}
            if 0 in by_tier:
                raise InputError(f"{names[0]} is the base tier: it has no threshold; give the tiers above it")
            missing = [names[i] for i in range(1, max(by_tier, default=0) + 1) if i not in by_tier]
            if missing:
                raise InputError(
                    f"thresholds must cover every tier up to the highest given; missing {missing}"
                )
            values = [by_tier[i] for i in range(1, len(by_tier) + 1)]
        else:
            values = list(thresholds)
        if not 1 <= len(values) <= min(MAX_THRESHOLDS, len(names) - 1):
            raise InputError(
                f"give 1 to {min(MAX_THRESHOLDS, len(names) - 1)} thresholds (tiers above {names[0]}: "
                f"{', '.join(names[1:]) or 'none'}), got {len(values)}"
            )
        previous = 0
        for tier, value in enumerate(values, start=1):
            if isinstance(value, bool) or not isinstance(value, int) or not previous < value < 2**32:
                raise InputError(
                    f"threshold of {names[tier]} must be a whole number of points above {previous} "
                    f"(the tier below) and below 2**32, got {value!r}"
                )
            previous = value
        return values

    @staticmethod
    def _reasons(reasons: Sequence[str]) -> list[bytes]:
        if isinstance(reasons, str):
            reasons = [reasons]
        codes = [reason_code(r) for r in reasons]
        if not 1 <= len(codes) <= 8 or any(c == b"\0" * 32 for c in codes) or len(set(codes)) != len(codes):
            raise InputError(
                f"give 1 to 8 distinct, non-empty qualifying reasons (e.g. purchase), got {list(reasons)!r}"
            )
        return codes
