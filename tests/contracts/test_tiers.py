"""Tiers that follow activity (LoyaltyPoints.configureTiers + MembershipCard.syncTiers): upgrades in the
crossing transaction, downgrades at period boundaries by a permissionless review, every revert and the edges
(a batch crossing twice, calendar and rolling boundaries, a review run twice, thresholds changed mid-period,
a tier set by hand, transfers and other reasons not counting)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers import (
    DEFAULT_ADMIN_ROLE,
    Harness,
    events,
    now,
    pack_card,
    pack_issue,
    send,
    set_next_timestamp,
)
from web3.contract import Contract

from loyalty_chain.chain import Chain

TIER_SYNC_ROLE = keccak(text="TIER_SYNC_ROLE")
PURCHASE = b"purchase".ljust(32, b"\0")
REFERRAL = b"referral".ljust(32, b"\0")
STAY = b"stay".ljust(32, b"\0")
ZERO_REASON = b"\0" * 32
CALENDAR, ROLLING = 1, 2
BRONZE, SILVER, GOLD = 0, 1, 2
THRESHOLDS = [1_000, 5_000]  # Silver, Gold
YEAR = 365 * 86_400


def ts(year: int, month: int = 1, day: int = 1, second: int = 0) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp()) + second


def sync_word(member: str, from_tier: int, to_tier: int) -> int:
    return int(member, 16) | (from_tier << 160) | (to_tier << 168)


@dataclass(frozen=True)
class Tiered(Harness):
    chain: Chain
    points: Contract
    card: Contract
    admin: LocalAccount

    @property
    def abis(self) -> list[dict[str, Any]]:
        return [*self.points.abi, *self.card.abi]

    def issue(self, member: str, amount: int, reason: bytes = PURCHASE) -> Any:
        return send(self.points.functions.issue(member, amount, reason), self.admin)

    def card_tier(self, member: str) -> int:
        return int(self.card.functions.memberCard(member).call()[1])

    def progress(self, member: str) -> tuple[int, int, int, int, int]:
        return tuple(self.points.functions.tierProgress(member).call())  # type: ignore[return-value]

    def status(self, member: str) -> int:
        return self.progress(member)[1]

    def at(self, timestamp: int) -> None:
        """The next transaction is mined at ``timestamp``; calls made before it see it too."""
        set_next_timestamp(self.chain.w3, timestamp)
        self.chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def _tiered(
    chain: Chain,
    deploy_points: Any,
    deploy_card: Any,
    admin: LocalAccount,
    members: list[str],
    *,
    mode: int = CALENDAR,
    length: int = 12,
    decimals: int = 0,
    thresholds: list[int] | None = None,
    reasons: list[bytes] | None = None,
) -> Tiered:
    points = deploy_points(decimals=decimals)
    card = deploy_card()
    send(card.functions.grantRole(TIER_SYNC_ROLE, points.address), admin)
    send(card.functions.enrollBatch([pack_card(m) for m in members]), admin)
    config = (card.address, mode, length, thresholds or THRESHOLDS, reasons or [PURCHASE])
    send(points.functions.configureTiers(*config), admin)
    return Tiered(chain, points, card, admin)


@pytest.fixture
def members(alice: LocalAccount, bob: LocalAccount, carol: LocalAccount) -> list[str]:
    return [alice.address, bob.address, carol.address]


@pytest.fixture
def calendar(
    chain: Chain, deploy_points: Any, deploy_card: Any, admin: LocalAccount, members: list[str]
) -> Tiered:
    """Calendar years, Silver at 1,000 and Gold at 5,000 purchase points; alice, bob, carol hold Bronze cards.
    The clock starts on 1 March of next year, so a whole year lies ahead of every test."""
    year = datetime.fromtimestamp(now(chain.w3), UTC).year + 1
    set_next_timestamp(chain.w3, ts(year, 3, 1))
    return _tiered(chain, deploy_points, deploy_card, admin, members)


@pytest.fixture
def rolling(
    chain: Chain, deploy_points: Any, deploy_card: Any, admin: LocalAccount, members: list[str]
) -> Tiered:
    """Rolling periods of 365 days from each member's first purchase points."""
    return _tiered(chain, deploy_points, deploy_card, admin, members, mode=ROLLING, length=YEAR)


def this_year(t: Tiered) -> int:
    return datetime.fromtimestamp(now(t.chain.w3), UTC).year


# ------------------------------------------------------------------ configuration


def test_configure_records_the_schedule_and_emits(
    deploy_points: Any, deploy_card: Any, admin: LocalAccount, members: list[str]
) -> None:
    points, card = deploy_points(), deploy_card()
    send(card.functions.grantRole(TIER_SYNC_ROLE, points.address), admin)
    assert points.functions.tierSettings().call() == ["0x" + "00" * 20, 0, 0, [], []]
    receipt = send(
        points.functions.configureTiers(card.address, CALENDAR, 3, THRESHOLDS, [PURCHASE, STAY]), admin
    )
    assert events(points, receipt, "TiersConfigured") == [
        {"card": card.address, "mode": CALENDAR, "length": 3}
    ]
    assert events(points, receipt, "TierThresholdsUpdated") == [{"thresholds": THRESHOLDS}]
    assert events(points, receipt, "QualifyingReasonUpdated") == [
        {"reason": PURCHASE, "qualifies": True},
        {"reason": STAY, "qualifies": True},
    ]
    assert points.functions.tierSettings().call() == [card.address, CALENDAR, 3, THRESHOLDS, [PURCHASE, STAY]]


def test_configure_reverts(
    deploy_points: Any, deploy_card: Any, admin: LocalAccount, alice: LocalAccount, calendar: Tiered
) -> None:
    points, card = deploy_points(), deploy_card()
    t = Tiered(calendar.chain, points, card, admin)
    f = points.functions

    def configure(
        *, c: Any = card.address, mode: int = CALENDAR, length: int = 12, th: Any = None, r: Any = None
    ) -> Any:
        return f.configureTiers(
            c, mode, length, THRESHOLDS if th is None else th, [PURCHASE] if r is None else r
        )

    t.reverts(configure(), alice, "AccessControlUnauthorizedAccount", alice.address, DEFAULT_ADMIN_ROLE)
    t.reverts(
        configure(), admin, "PointsTierCardInvalid", card.address, 2
    )  # the card has not granted the role
    send(card.functions.grantRole(TIER_SYNC_ROLE, points.address), admin)
    for mode, length in ((0, 12), (3, 12), (CALENDAR, 0), (CALENDAR, 5), (CALENDAR, 24), (ROLLING, 0)):
        t.reverts(configure(mode=mode, length=length), admin, "PointsTierPeriodInvalid", mode, length)
    t.reverts(configure(th=[]), admin, "PointsTierThresholdInvalid", 0, 0)
    t.reverts(configure(th=list(range(1, 10))), admin, "PointsTierThresholdInvalid", 9, 0)
    t.reverts(configure(th=[0, 5]), admin, "PointsTierThresholdInvalid", 0, 0)
    t.reverts(configure(th=[5, 5]), admin, "PointsTierThresholdInvalid", 1, 5)
    t.reverts(configure(th=[5, 4]), admin, "PointsTierThresholdInvalid", 1, 4)
    t.reverts(
        configure(th=[1, 2, 3]), admin, "PointsTierCardInvalid", card.address, 3
    )  # 3 tiers: 2 thresholds
    t.reverts(configure(c=alice.address), admin, "PointsTierCardInvalid", alice.address, 2)  # not a contract
    t.reverts(configure(r=[]), admin, "PointsTierReasonInvalid", ZERO_REASON)
    t.reverts(configure(r=[ZERO_REASON]), admin, "PointsTierReasonInvalid", ZERO_REASON)
    t.reverts(configure(r=[PURCHASE, PURCHASE]), admin, "PointsTierReasonInvalid", PURCHASE)
    many = [bytes([i + 1]) * 32 for i in range(9)]
    t.reverts(configure(r=many), admin, "PointsTierReasonInvalid", many[8])
    send(configure(r=many[:8]), admin)  # eight is the most
    t.reverts(configure(), admin, "PointsTiersAlreadyOn")


def test_tier_functions_need_tiers_on(
    points: Contract, admin: LocalAccount, alice: LocalAccount, calendar: Tiered
) -> None:
    t = Tiered(calendar.chain, points, calendar.card, admin)
    f = points.functions
    for fn in (
        f.setTierThresholds(THRESHOLDS),
        f.setQualifyingReason(PURCHASE, True),
        f.disableTiers(),
        f.reviewTiers([alice.address]),
        f.tierProgress(alice.address),
        f.tierReviewDue([alice.address]),
    ):
        t.reverts(fn, admin, "PointsTiersOff")


def test_admin_functions_need_the_admin(calendar: Tiered, alice: LocalAccount) -> None:
    f = calendar.points.functions
    for fn in (f.setTierThresholds(THRESHOLDS), f.setQualifyingReason(STAY, True), f.disableTiers()):
        calendar.reverts(fn, alice, "AccessControlUnauthorizedAccount", alice.address, DEFAULT_ADMIN_ROLE)


def test_set_thresholds_checks_and_emits(calendar: Tiered, admin: LocalAccount) -> None:
    f = calendar.points.functions
    calendar.reverts(f.setTierThresholds([]), admin, "PointsTierThresholdInvalid", 0, 0)
    calendar.reverts(f.setTierThresholds([7, 3]), admin, "PointsTierThresholdInvalid", 1, 3)
    calendar.reverts(f.setTierThresholds([1, 2, 3]), admin, "PointsTierCardInvalid", calendar.card.address, 3)
    receipt = send(f.setTierThresholds([500]), admin)
    assert events(calendar.points, receipt, "TierThresholdsUpdated") == [{"thresholds": [500]}]
    assert f.tierSettings().call()[3] == [500]


def test_qualifying_reasons_added_and_removed(
    calendar: Tiered, admin: LocalAccount, alice: LocalAccount
) -> None:
    f = calendar.points.functions
    calendar.reverts(f.setQualifyingReason(ZERO_REASON, True), admin, "PointsTierReasonInvalid", ZERO_REASON)
    calendar.issue(alice.address, 300, REFERRAL)
    assert calendar.progress(alice.address)[0] == 0  # not chosen: does not count
    receipt = send(f.setQualifyingReason(REFERRAL, True), admin)
    assert events(calendar.points, receipt, "QualifyingReasonUpdated") == [
        {"reason": REFERRAL, "qualifies": True}
    ]
    assert (
        events(calendar.points, send(f.setQualifyingReason(REFERRAL, True), admin), "QualifyingReasonUpdated")
        == []
    )
    calendar.issue(alice.address, 300, REFERRAL)
    assert calendar.progress(alice.address)[0] == 300
    send(f.setQualifyingReason(PURCHASE, False), admin)
    calendar.issue(alice.address, 300, PURCHASE)
    assert calendar.progress(alice.address)[0] == 300
    assert f.tierSettings().call()[4] == [REFERRAL]
    assert (
        events(calendar.points, send(f.setQualifyingReason(STAY, False), admin), "QualifyingReasonUpdated")
        == []
    )
    for i in range(7):
        send(f.setQualifyingReason(bytes([i + 1]) * 32, True), admin)
    calendar.reverts(f.setQualifyingReason(STAY, True), admin, "PointsTierReasonInvalid", STAY)


def test_disable_stops_counting_and_can_reconfigure(
    calendar: Tiered, admin: LocalAccount, alice: LocalAccount
) -> None:
    f = calendar.points.functions
    calendar.issue(alice.address, 600)
    receipt = send(f.disableTiers(), admin)
    assert len(events(calendar.points, receipt, "TiersDisabled")) == 1
    assert events(calendar.points, receipt, "QualifyingReasonUpdated") == [
        {"reason": PURCHASE, "qualifies": False}
    ]
    assert f.tierSettings().call() == ["0x" + "00" * 20, 0, 0, [], []]
    receipt = calendar.issue(alice.address, 600)  # would have crossed Silver
    assert events(calendar.card, receipt, "TierChanged") == []
    assert f.balanceOf(alice.address).call() == 1_200
    send(f.configureTiers(calendar.card.address, CALENDAR, 12, THRESHOLDS, [PURCHASE]), admin)
    assert calendar.progress(alice.address)[:2] == (600, BRONZE)  # the same schedule: the count resumes


# ------------------------------------------------------------------ upgrades


def test_crossing_a_threshold_upgrades_in_the_same_transaction(calendar: Tiered, alice: LocalAccount) -> None:
    calendar.issue(alice.address, 999)
    assert calendar.card_tier(alice.address) == BRONZE
    receipt = calendar.issue(alice.address, 1)
    token_id = calendar.card.functions.cardOf(alice.address).call()
    assert events(calendar.points, receipt, "TierStatusChanged") == [
        {"member": alice.address, "previousTier": BRONZE, "newTier": SILVER}
    ]
    assert events(calendar.card, receipt, "TierChanged") == [
        {"tokenId": token_id, "member": alice.address, "previousTier": BRONZE, "newTier": SILVER}
    ]
    assert events(calendar.card, receipt, "MetadataUpdate") == [{"_tokenId": token_id}]
    assert calendar.card_tier(alice.address) == SILVER
    assert calendar.points.functions.balanceOf(alice.address).call() == 1_000
    receipt = calendar.issue(alice.address, 10)  # no crossing: no event
    assert (
        events(calendar.card, receipt, "TierChanged")
        == events(calendar.points, receipt, "TierStatusChanged")
        == []
    )


def test_one_issue_crossing_two_thresholds_moves_once(calendar: Tiered, alice: LocalAccount) -> None:
    receipt = calendar.issue(alice.address, 5_000)
    assert [(e["previousTier"], e["newTier"]) for e in events(calendar.card, receipt, "TierChanged")] == [
        (BRONZE, GOLD)
    ]
    assert calendar.progress(alice.address) == (5_000, GOLD, GOLD, 0, ts(this_year(calendar) + 1))


def test_batch_issue_crossings_including_one_member_twice(
    calendar: Tiered, alice: LocalAccount, bob: LocalAccount, carol: LocalAccount
) -> None:
    words = [
        pack_issue(alice.address, 1_200),  # Bronze -> Silver
        pack_issue(bob.address, 400),  # no crossing
        pack_issue(alice.address, 4_000),  # Silver -> Gold in the same batch
        pack_issue(carol.address, 1_000),  # Bronze -> Silver, exactly at the threshold
    ]
    receipt = send(calendar.points.functions.issueBatch(words, PURCHASE), calendar.admin)
    moves = [
        (e["member"], e["previousTier"], e["newTier"]) for e in events(calendar.card, receipt, "TierChanged")
    ]
    assert moves == [
        (alice.address, BRONZE, SILVER),
        (alice.address, SILVER, GOLD),
        (carol.address, BRONZE, SILVER),
    ]
    assert len(events(calendar.card, receipt, "MetadataUpdate")) == 3
    assert len(events(calendar.points, receipt, "TierStatusChanged")) == 3
    assert [calendar.card_tier(m) for m in (alice.address, bob.address, carol.address)] == [
        GOLD,
        BRONZE,
        SILVER,
    ]
    assert calendar.progress(bob.address)[:4] == (400, BRONZE, SILVER, 600)
    assert calendar.points.functions.totalSupply().call() == 6_600


def test_batch_for_another_reason_does_not_count(calendar: Tiered, alice: LocalAccount) -> None:
    receipt = send(
        calendar.points.functions.issueBatch([pack_issue(alice.address, 9_000)], REFERRAL), calendar.admin
    )
    assert events(calendar.card, receipt, "TierChanged") == []
    assert calendar.progress(alice.address)[:2] == (0, BRONZE)


def test_transfers_burns_and_other_reasons_do_not_count(
    calendar: Tiered, alice: LocalAccount, bob: LocalAccount
) -> None:
    calendar.issue(alice.address, 900)
    calendar.issue(bob.address, 5_000, REFERRAL)  # not a chosen reason
    send(calendar.points.functions.transfer(alice.address, 4_000), bob)  # a transfer never counts
    assert calendar.progress(alice.address)[:2] == (900, BRONZE)
    assert calendar.progress(bob.address)[:2] == (0, BRONZE)
    assert calendar.points.functions.balanceOf(alice.address).call() == 4_900
    send(calendar.points.functions.burn(4_900), alice)  # nor does spending take counted points back
    assert calendar.progress(alice.address)[0] == 900
    calendar.issue(alice.address, 100)
    assert calendar.card_tier(alice.address) == SILVER


def test_whole_points_at_18_decimals(
    chain: Chain,
    deploy_points: Any,
    deploy_card: Any,
    admin: LocalAccount,
    members: list[str],
    alice: LocalAccount,
) -> None:
    t = _tiered(chain, deploy_points, deploy_card, admin, members, decimals=18)
    t.issue(alice.address, 999 * 10**18)
    assert t.progress(alice.address)[:4] == (999 * 10**18, BRONZE, SILVER, 10**18)
    t.issue(alice.address, 10**18)
    assert t.card_tier(alice.address) == SILVER


def test_a_member_without_a_card_keeps_a_status_only(
    calendar: Tiered, dev_accounts: list[LocalAccount]
) -> None:
    stranger = dev_accounts[6].address
    receipt = calendar.issue(stranger, 1_500)
    assert events(calendar.points, receipt, "TierStatusChanged") == [
        {"member": stranger, "previousTier": BRONZE, "newTier": SILVER}
    ]
    assert events(calendar.card, receipt, "TierChanged") == []
    assert calendar.card.functions.cardOf(stranger).call() == 0


def test_a_card_without_the_role_makes_a_crossing_revert(
    calendar: Tiered, admin: LocalAccount, alice: LocalAccount
) -> None:
    send(calendar.card.functions.revokeRole(TIER_SYNC_ROLE, calendar.points.address), admin)
    calendar.issue(alice.address, 10)  # no crossing: the card is not called
    fn = calendar.points.functions.issue(alice.address, 1_000, PURCHASE)
    calendar.reverts(fn, admin, "AccessControlUnauthorizedAccount", calendar.points.address, TIER_SYNC_ROLE)


# ------------------------------------------------------------------ period boundaries


def test_calendar_boundary_keeps_what_the_year_earned_then_drops(
    calendar: Tiered, alice: LocalAccount, bob: LocalAccount
) -> None:
    year = this_year(calendar)
    calendar.issue(alice.address, 1_500)  # Silver this year
    calendar.issue(bob.address, 300)
    calendar.at(ts(year + 1) - 1)  # the last second of the year
    f = calendar.points.functions
    assert f.tierReviewDue([alice.address, bob.address]).call() == [False, False]
    calendar.at(ts(year + 1))  # the first second of the next: a new period
    assert calendar.progress(alice.address) == (0, SILVER, GOLD, 5_000, ts(year + 2))
    assert f.tierReviewDue([alice.address, bob.address]).call() == [True, True]
    receipt = send(f.reviewTiers([alice.address, bob.address]), bob)  # anyone may review
    assert (
        events(calendar.card, receipt, "TierChanged") == []
    )  # Silver kept for the year, Bronze stays Bronze
    assert calendar.card_tier(alice.address) == SILVER
    calendar.at(ts(year + 2, 1, 2))  # a year with nothing earned
    receipt = send(f.reviewTiers([alice.address]), bob)
    assert events(calendar.points, receipt, "TierStatusChanged") == [
        {"member": alice.address, "previousTier": SILVER, "newTier": BRONZE}
    ]
    assert [(e["previousTier"], e["newTier"]) for e in events(calendar.card, receipt, "TierChanged")] == [
        (SILVER, BRONZE)
    ]
    assert calendar.card_tier(alice.address) == BRONZE


def test_review_twice_in_a_period_changes_nothing_the_second_time(
    calendar: Tiered, alice: LocalAccount, bob: LocalAccount, carol: LocalAccount
) -> None:
    calendar.issue(alice.address, 6_000)
    calendar.at(ts(this_year(calendar) + 2, 2))  # two years on: alice earned nothing last year
    f = calendar.points.functions
    members = [alice.address, bob.address, carol.address]
    assert f.reviewTiers(members).call() == 1
    first = send(f.reviewTiers(members), carol)
    assert len(events(calendar.card, first, "TierChanged")) == 1
    assert f.tierReviewDue(members).call() == [False, False, False]
    assert f.reviewTiers(members).call() == 0
    second = send(f.reviewTiers(members), carol)
    assert (
        events(calendar.card, second, "TierChanged")
        == events(calendar.points, second, "TierStatusChanged")
        == []
    )
    assert calendar.card_tier(alice.address) == BRONZE


def test_an_issue_after_an_unreviewed_boundary_applies_it(calendar: Tiered, alice: LocalAccount) -> None:
    calendar.issue(alice.address, 5_000)  # Gold
    calendar.at(ts(this_year(calendar) + 2, 6))  # nobody reviewed; last year earned nothing
    receipt = calendar.issue(alice.address, 1_200)  # the boundary first (Gold -> Bronze), then Silver
    assert [
        (e["previousTier"], e["newTier"]) for e in events(calendar.points, receipt, "TierStatusChanged")
    ] == [(GOLD, SILVER)]
    assert calendar.card_tier(alice.address) == SILVER
    assert calendar.progress(alice.address)[:2] == (1_200, SILVER)


def test_quarters_follow_the_calendar(
    chain: Chain,
    deploy_points: Any,
    deploy_card: Any,
    admin: LocalAccount,
    members: list[str],
    alice: LocalAccount,
) -> None:
    year = datetime.fromtimestamp(now(chain.w3), UTC).year + 1
    set_next_timestamp(chain.w3, ts(year, 2, 10))
    t = _tiered(chain, deploy_points, deploy_card, admin, members, length=3)
    t.issue(alice.address, 1_000)
    assert t.progress(alice.address)[4] == ts(year, 4, 1)
    t.at(ts(year, 3, 31) + 86_399)
    assert t.progress(alice.address)[:2] == (1_000, SILVER)
    t.at(ts(year, 4, 1))
    assert t.progress(alice.address) == (0, SILVER, GOLD, 5_000, ts(year, 7, 1))


def test_rolling_periods_start_with_the_first_points(
    rolling: Tiered, alice: LocalAccount, bob: LocalAccount
) -> None:
    assert rolling.progress(alice.address) == (0, BRONZE, SILVER, 1_000, 0)  # no period before any points
    rolling.issue(bob.address, 10, REFERRAL)
    assert rolling.progress(bob.address)[4] == 0  # another reason starts nothing
    receipt = rolling.issue(alice.address, 1_000)
    start = rolling.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert rolling.progress(alice.address) == (1_000, SILVER, GOLD, 4_000, start + YEAR)
    rolling.at(start + YEAR - 1)
    assert rolling.points.functions.tierReviewDue([alice.address]).call() == [False]
    rolling.at(start + YEAR)  # exactly at the end: the next period
    assert rolling.progress(alice.address) == (0, SILVER, GOLD, 5_000, start + 2 * YEAR)
    rolling.issue(alice.address, 100)
    rolling.at(start + 3 * YEAR + 5)  # the period [start + YEAR, start + 2 YEAR) earned 100: Bronze after it
    assert rolling.progress(alice.address)[1:] == (
        BRONZE,
        SILVER,
        1_000,
        start + 4 * YEAR,
    )  # aligned to its start
    receipt = send(rolling.points.functions.reviewTiers([alice.address]), bob)
    assert [(e["previousTier"], e["newTier"]) for e in events(rolling.card, receipt, "TierChanged")] == [
        (SILVER, BRONZE)
    ]


def test_review_skips_members_with_nothing_to_decide(
    calendar: Tiered, alice: LocalAccount, dev_accounts: list[LocalAccount]
) -> None:
    never = dev_accounts[7].address
    calendar.issue(alice.address, 50, REFERRAL)  # a balance, nothing counted
    calendar.at(ts(this_year(calendar) + 3))
    f = calendar.points.functions
    assert f.tierReviewDue([alice.address, never]).call() == [False, False]
    receipt = send(f.reviewTiers([alice.address, never]), alice)
    assert events(calendar.points, receipt, "TierStatusChanged") == []
    assert f.balanceOf(alice.address).call() == 50


# ------------------------------------------------------------------ thresholds changed, tiers set by hand


def test_thresholds_lowered_mid_period_upgrade_at_the_next_qualifying_issue(
    calendar: Tiered, admin: LocalAccount, alice: LocalAccount
) -> None:
    calendar.issue(alice.address, 800)
    send(calendar.points.functions.setTierThresholds([500, 5_000]), admin)
    assert calendar.progress(alice.address)[:4] == (
        800,
        BRONZE,
        SILVER,
        0,
    )  # past it: the next issue upgrades
    receipt = calendar.issue(alice.address, 1)
    assert [(e["previousTier"], e["newTier"]) for e in events(calendar.card, receipt, "TierChanged")] == [
        (BRONZE, SILVER)
    ]


def test_thresholds_raised_mid_period_lower_nobody_before_the_boundary(
    calendar: Tiered, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    calendar.issue(alice.address, 1_500)  # Silver
    send(calendar.points.functions.setTierThresholds([2_000, 5_000]), admin)
    calendar.issue(alice.address, 100)
    assert (calendar.status(alice.address), calendar.card_tier(alice.address)) == (SILVER, SILVER)
    calendar.at(ts(this_year(calendar) + 1, 1, 3))
    send(calendar.points.functions.reviewTiers([alice.address]), bob)  # the review uses today's thresholds
    assert (calendar.status(alice.address), calendar.card_tier(alice.address)) == (BRONZE, BRONZE)


def test_a_higher_tier_set_by_hand_stays_until_activity_passes_it(
    calendar: Tiered, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    send(calendar.card.functions.setTier(alice.address, GOLD), admin)  # an exception: a status match
    receipt = calendar.issue(alice.address, 1_000)  # activity reaches Silver only
    assert events(calendar.points, receipt, "TierStatusChanged") == [
        {"member": alice.address, "previousTier": BRONZE, "newTier": SILVER}
    ]
    assert events(calendar.card, receipt, "TierChanged") == []
    assert calendar.card_tier(alice.address) == GOLD
    calendar.at(ts(this_year(calendar) + 2, 1, 2))
    send(calendar.points.functions.reviewTiers([alice.address]), bob)  # status Silver -> Bronze
    assert (calendar.status(alice.address), calendar.card_tier(alice.address)) == (BRONZE, GOLD)


def test_a_lower_tier_set_by_hand_rises_at_the_next_crossing(
    calendar: Tiered, admin: LocalAccount, alice: LocalAccount
) -> None:
    calendar.issue(alice.address, 1_000)  # Silver
    send(calendar.card.functions.setTier(alice.address, BRONZE), admin)  # a penalty
    calendar.issue(alice.address, 100)  # no crossing: stays Bronze
    assert calendar.card_tier(alice.address) == BRONZE
    receipt = calendar.issue(alice.address, 4_000)  # crosses Gold
    assert [(e["previousTier"], e["newTier"]) for e in events(calendar.card, receipt, "TierChanged")] == [
        (BRONZE, GOLD)
    ]


# ------------------------------------------------------------------ the card's side


def test_sync_tiers_rules_and_reverts(
    card: Contract,
    points: Contract,
    admin: LocalAccount,
    alice: LocalAccount,
    bob: LocalAccount,
    calendar: Tiered,
) -> None:
    t = Tiered(calendar.chain, points, card, admin)
    f = card.functions
    t.reverts(
        f.syncTiers([sync_word(alice.address, 0, 1)]),
        alice,
        "AccessControlUnauthorizedAccount",
        alice.address,
        TIER_SYNC_ROLE,
    )
    send(f.grantRole(TIER_SYNC_ROLE, admin.address), admin)
    t.reverts(f.syncTiers([]), admin, "MembershipEmptyBatch")
    stray = sync_word(alice.address, 0, 1) | (1 << 176)
    t.reverts(f.syncTiers([stray]), admin, "MembershipInvalidBatchEntry", 0, stray)
    t.reverts(f.syncTiers([sync_word(alice.address, 0, 3)]), admin, "MembershipInvalidTier", 3, 3)
    send(f.enroll(alice.address, SILVER, 0), admin)
    receipt = send(f.syncTiers([sync_word(bob.address, 0, 2)]), admin)  # no card: skipped
    assert events(card, receipt, "TierChanged") == []
    receipt = send(f.syncTiers([sync_word(alice.address, 0, 1)]), admin)  # already at Silver: nothing
    assert events(card, receipt, "TierChanged") == []
    send(f.syncTiers([sync_word(alice.address, 1, 2)]), admin)
    assert f.memberCard(alice.address).call()[1] == GOLD
    receipt = send(f.syncTiers([sync_word(alice.address, 1, 0)]), admin)  # not at `from` any more: left alone
    assert events(card, receipt, "TierChanged") == [] and f.memberCard(alice.address).call()[1] == GOLD
    send(f.syncTiers([sync_word(alice.address, 2, 0)]), admin)
    assert f.memberCard(alice.address).call()[1] == BRONZE
