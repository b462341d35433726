"""Gas of tiers that follow activity (issue 12 item 1), each beside today's operation in the same run.

Called by ``bench/gas.py`` (its ``send``, ``Row`` and contracts); not run on its own.

"Today's issue" is the same LoyaltyPoints without tiers (the path every program without thresholds
takes), deployed fresh here and measured in the same state: an existing holder, a non-zero supply.
Targets (issue 12): a qualifying issue that crosses no threshold costs at most today's issue + 3,000;
one that crosses a threshold at most today's issue + today's ``setTier``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

PURCHASE = b"purchase".ljust(32, b"\0")
REFERRAL = b"referral".ljust(32, b"\0")
TIER_SYNC_ROLE = keccak(text="TIER_SYNC_ROLE")
CALENDAR, ROLLING = 1, 2
THRESHOLDS = [1_000, 5_000]  # Silver, Gold (whole points; decimals 0)
NO_CROSSING_MARGIN = 3_000
"""Issue 12: an issue that crosses no threshold costs at most today's issue + this."""

Send = Callable[[Any, LocalAccount], int]
RowFactory = Callable[..., Any]


def _addresses(count: int, tag: str) -> list[str]:
    return [Web3.to_checksum_address(keccak(text=f"{tag}-{i}")[12:]) for i in range(count)]


def measure_tiers(
    chain: Chain, ours: dict[str, Artifact], admin: LocalAccount, send: Send, row: RowFactory, batch: int
) -> list[Any]:
    """Rows for a calendar-year program and a rolling one, each member holding a card at tier 0."""

    def token() -> Contract:
        args = ("Tiered", "TP", 0, 0, 0, admin.address)
        return deploy_contract(chain, ours["LoyaltyPoints"], *args, sender=admin)

    def card() -> Contract:
        args = ("Card", "C", ["Bronze", "Silver", "Gold"], False, "", admin.address)
        return deploy_contract(chain, ours["MembershipCard"], *args, sender=admin)

    today, today_card = token(), card()
    calendar, calendar_card = token(), card()
    rolling, rolling_card = token(), card()
    for points, tier_card, mode, length in (
        (calendar, calendar_card, CALENDAR, 12),
        (rolling, rolling_card, ROLLING, 365 * 86_400),
    ):
        send(tier_card.functions.grantRole(TIER_SYNC_ROLE, points.address), admin)
        send(points.functions.configureTiers(tier_card.address, mode, length, THRESHOLDS, [PURCHASE]), admin)
    members = _addresses(6, "tier-member")
    for tier_card in (today_card, calendar_card, rolling_card):
        send(tier_card.functions.enrollBatch([int(m, 16) for m in members]), admin)
    for points in (today, calendar, rolling):  # every member an existing holder in its current period
        send(points.functions.issueBatch([(int(m, 16) << 96) | 10 for m in members], PURCHASE), admin)
    a, b, c, d, _, f = members

    g_today = send(today.functions.issue(a, 100, PURCHASE), admin)
    g_today_fresh = send(today.functions.issue(_addresses(1, "today-fresh")[0], 100, PURCHASE), admin)
    g_set_tier = send(today_card.functions.setTier(a, 1), admin)
    g_calendar = send(calendar.functions.issue(a, 100, PURCHASE), admin)
    g_rolling = send(rolling.functions.issue(a, 100, PURCHASE), admin)
    g_other_reason = send(calendar.functions.issue(b, 100, REFERRAL), admin)
    g_fresh = send(calendar.functions.issue(_addresses(1, "tier-fresh")[0], 100, PURCHASE), admin)
    g_cross = send(calendar.functions.issue(c, 1_000, PURCHASE), admin)  # 10 + 1,000: Bronze -> Silver
    g_cross_rolling = send(rolling.functions.issue(c, 1_000, PURCHASE), admin)
    g_cross_two = send(calendar.functions.issue(d, 5_000, PURCHASE), admin)  # Bronze -> Gold at once

    reviews: dict[str, int] = {}
    fresh = _addresses(batch, "tier-batch")
    words = [(int(m, 16) << 96) | 7 for m in fresh]
    g_batch_today = send(today.functions.issueBatch(words, PURCHASE), admin) / batch
    g_batch = send(calendar.functions.issueBatch(words, PURCHASE), admin) / batch

    # Reviews: in the next calendar year c (Silver, earned in the year just ended) keeps Silver; a year
    # later f (Silver two years before, nothing since) is lowered to Bronze, its card with it.
    send(calendar.functions.issue(f, 1_000, PURCHASE), admin)
    w3 = chain.w3
    year = datetime.fromtimestamp(int(w3.eth.get_block("latest")["timestamp"]), UTC).year
    for offset, member, key in ((1, c, "keep"), (2, f, "lower")):
        moment = int(datetime(year + offset, 1, 15, tzinfo=UTC).timestamp())
        w3.provider.make_request("evm_setNextBlockTimestamp", [moment])  # type: ignore[arg-type]
        reviews[key] = send(calendar.functions.reviewTiers([member]), admin)
    reviews["again"] = send(calendar.functions.reviewTiers([f]), admin)
    # One review transaction for a batch of members, every one lowered from Silver with its card moved
    # (the costliest case): what sizes the CLI's review batches under the EIP-7825 cap.
    crowd = _addresses(batch, "tier-review")
    send(calendar_card.functions.enrollBatch([int(m, 16) for m in crowd]), admin)
    send(calendar.functions.issueBatch([(int(m, 16) << 96) | 1_000 for m in crowd], PURCHASE), admin)
    w3.provider.make_request(
        "evm_setNextBlockTimestamp", [int(datetime(year + 4, 1, 15, tzinfo=UTC).timestamp())]
    )  # type: ignore[arg-type]
    reviews["batch"] = send(calendar.functions.reviewTiers(crowd), admin)
    g_review_keep, g_review_lower, g_review_again = reviews["keep"], reviews["lower"], reviews["again"]
    base_cross = g_today + g_set_tier
    today, today_fresh, today_batch = "today's issue", "today's issue, fresh holder", "today's batch"
    setter = "today's issue + setTier"
    rows = [
        ("qualifying issue, no threshold crossed, calendar", g_calendar, today, g_today),
        ("qualifying issue, no threshold crossed, rolling", g_rolling, today, g_today),
        ("issue for a reason that does not count", g_other_reason, today, g_today),
        ("qualifying issue, fresh holder, no threshold crossed", g_fresh, today_fresh, g_today_fresh),
        ("issue crossing one threshold, calendar", g_cross, setter, base_cross),
        ("issue crossing one threshold, rolling", g_cross_rolling, setter, base_cross),
        ("issue crossing two thresholds at once", g_cross_two, setter, base_cross),
        (
            f"batch issue per fresh recipient, qualifying, no threshold crossed (batch of {batch})",
            g_batch,
            today_batch,
            g_batch_today,
        ),
        ("review of one member, period rolled, status kept", g_review_keep, "today's setTier", g_set_tier),
        ("review of one member, status lowered, card moved", g_review_lower, "today's setTier", g_set_tier),
    ]
    out = [row(f"tiers: {what} (baseline: {label})", ours, base) for what, ours, label, base in rows]
    per_member = reviews["batch"] / batch
    return [
        *out,
        row("tiers: the same review again (nothing due)", g_review_again),
        row(f"tiers: review, per member lowered with its card moved (batch of {batch})", per_member),
    ]


def check_tiers(rows: list[Any]) -> list[str]:
    """Issue 12's tier targets."""
    out = []
    for r in rows:
        if not r.operation.startswith("tiers: ") or r.baseline is None:
            continue
        if "no threshold crossed" in r.operation:
            limit = r.baseline + NO_CROSSING_MARGIN
            verdict = "PASS" if r.ours <= limit else "FAIL"
            out.append(f"{verdict} {r.operation}: ours {r.ours:,.0f} <= {limit:,.0f} (baseline + 3,000)")
        elif "crossing" in r.operation:
            verdict = "PASS" if r.ours <= r.baseline else "FAIL"
            out.append(f"{verdict} {r.operation}: ours {r.ours:,.0f} <= {r.baseline:,.0f}")
    return out
