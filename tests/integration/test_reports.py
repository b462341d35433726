"""The indexer and the KPI report against the managed devnet: what each number counts, incremental
syncs that fetch only what is new, a reorg undone, exact sums of amounts too large for SQLite."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from support.rollups import table_rows

from loyalty_chain.campaigns.campaign import publish_campaign
from loyalty_chain.campaigns.merkle import StandardMerkleTree
from loyalty_chain.chain import Chain
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.indexer import FetchSettings, open_store, sync
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program
from loyalty_chain.records import PerkSpec
from loyalty_chain.reports import program_report
from loyalty_chain.reports.dashboard import render_html
from loyalty_chain.reports.export import write_csv_dir


@pytest.fixture
def program(chain: Chain, tmp_path: Path) -> ProgramRecord:
    return deploy_program(chain, ProgramOptions("kpi"), chain.dev_account(0), root=tmp_path)


@pytest.fixture
def brand(chain: Chain, program: ProgramRecord) -> LoyaltyClient:
    return LoyaltyClient(chain, program, chain.dev_account(0))


def member(chain: Chain, program: ProgramRecord, account: LocalAccount) -> LoyaltyClient:
    return LoyaltyClient(chain, program, account)


def activity(chain: Chain, program: ProgramRecord, brand: LoyaltyClient) -> list[LocalAccount]:
    """Four members: issue, redeem, P2P transfer, a card moved, a card cancelled, a tier change."""
    a, b, c, d = (chain.dev_account(i) for i in range(1, 5))
    brand.enroll_many([(x.address, "Bronze") for x in (a, b, c)])
    brand.issue_many([(a.address, 100), (b.address, 50), (c.address, 30)], "welcome")
    brand.issue(a.address, 20, "birthday")
    perk = brand.add_perk(PerkSpec("Latte", price=40))
    member(chain, program, a).redeem(perk.perk_id)
    member(chain, program, b).transfer(c.address, 10)
    member(chain, program, b).burn(5)
    brand.set_tier(a.address, "Gold")
    bob = member(chain, program, b)  # b hands its card to d (transferable cards, d consents: issue 9)
    member(chain, program, d).accept_card_transfer()
    token = bob.card_of(b.address)
    assert token is not None
    bob.sender.send(bob.card.functions.transferFrom(b.address, d.address, token.token_id))
    member(chain, program, c).cancel()
    return [a, b, c, d]


def test_report_counts_what_a_manager_asks(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, tmp_path: Path
) -> None:
    a, _b, _c, _d = activity(chain, program, brand)
    report = program_report(chain, program, cache=tmp_path / "c.sqlite", value_per_point="0.05")
    assert report.members == 2  # a (Gold) and d (b's card); c cancelled hers
    assert report.members_per_tier == {"Bronze": 1, "Silver": 0, "Gold": 1}
    assert report.cards_ended == 1 and report.new_members == 3
    assert report.tier_moves == {"Bronze→Gold": 1}
    assert report.issued == 200 and report.issued_by_reason == {"welcome": 180, "birthday": 20}
    assert (report.redeemed, report.redemptions, report.burned_other) == (40, 1, 5)
    assert report.outstanding == 155 and report.liability == "7.75"
    assert report.redemption_rate == 0.2
    assert report.point_holders == 3  # a 80, b 35, c 40
    assert report.active_30d == 3 and report.active_90d == 3
    assert (report.p2p_transfers, report.p2p_volume, report.p2p_share) == (1, 10, 0.05)
    assert report.top_earners[0] == (a.address, 120)
    assert [(p.title, p.redemptions, p.points, p.members) for p in report.perks] == [("Latte", 1, 40, 1)]
    assert report.expired == 0 and report.notes
    assert [(c.month, c.size) for c in report.cohorts] == [(report.series.labels[0][:7], 3)]
    assert sum(report.series.active) >= 3 and sum(report.series.redeemed) == 40
    assert {k: sum(v) for k, v in report.series.issued_by_reason.items()} == report.issued_by_reason
    # the Python entry point is the same report
    assert brand.summary(cache=tmp_path / "c.sqlite").issued == 200
    files = {p.name: p for p in write_csv_dir(report, tmp_path / "csv")}
    assert "members,2" in files["summary.csv"].read_text()
    assert files["perks.csv"].read_text().splitlines()[1] == "1,Latte,1,1,40,1"
    page = render_html(report)
    assert "src=" not in page and "https:" not in page and "<link" not in page  # nothing fetched


def test_a_date_range_limits_flows_but_not_balances(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, tmp_path: Path
) -> None:
    a = chain.dev_account(1)
    brand.issue(a.address, 100, "old")
    later = int(chain.w3.eth.get_block("latest")["timestamp"]) + 40 * 86_400
    chain.w3.provider.make_request("evm_setNextBlockTimestamp", [later])  # type: ignore[arg-type]
    brand.issue(a.address, 7, "new")
    report = program_report(chain, program, since=later - 10, cache=tmp_path / "c.sqlite")
    assert report.issued_by_reason == {"new": 7}
    assert report.outstanding == 107 and report.point_holders == 1
    assert report.active_30d == 1
    everything = program_report(chain, program, cache=tmp_path / "c.sqlite")
    assert everything.issued == 107 and everything.series.period == "day"
    # 40 days after the first activity is at most two calendar months on: the cohort shows up again there
    (cohort,) = everything.cohorts
    assert cohort.size == 1 and cohort.retention[-1] == 1.0 and set(cohort.retention[:-1]) <= {0.0}


def test_sync_is_incremental(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, tmp_path: Path
) -> None:
    cache = tmp_path / "c.sqlite"
    brand.issue_many([(chain.dev_account(i).address, 10) for i in range(1, 6)], "x")
    first = sync(chain, program, cache)
    assert first.events >= 6  # 5 Transfers + PointsIssued, besides the deploy's role events
    again = sync(chain, program, cache)
    assert (again.events, again.from_block) == (0, first.to_block + 1)
    brand.issue(chain.dev_account(1).address, 3, "y")
    third = sync(chain, program, cache)
    assert third.events == 2
    with open_store(program, cache) as store:
        assert store.count("LoyaltyPoints_Transfer") == 6


def test_an_incremental_report_asks_the_node_little(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, tmp_path: Path
) -> None:
    """After the first report: no contract read (tier names, decimals and symbol are kept in the cache)
    and one block header for the reorg check (the newest stored block: unchanged, so is all below it)."""
    cache = tmp_path / "c.sqlite"
    brand.issue(chain.dev_account(1).address, 4, "first")
    program_report(chain, program, cache=cache)
    brand.issue(chain.dev_account(2).address, 6, "second")
    before = chain.rpc_stats
    report = program_report(chain, program, cache=cache)
    calls = {k: v - before.get(k, 0) for k, v in chain.rpc_stats.items() if v != before.get(k, 0)}
    assert report.issued == 10 and report.members_per_tier == {"Bronze": 0, "Silver": 0, "Gold": 0}
    assert calls.get("eth_call", 0) == 0, calls
    assert calls.get("eth_getBlockByNumber", 0) == 1, calls


def test_small_ranges_still_read_everything(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, tmp_path: Path
) -> None:
    for i in range(1, 4):
        brand.issue(chain.dev_account(i).address, i, "r")
    settings = FetchSettings(initial_span=1, max_span=2, target_logs=1)
    result = sync(chain, program, tmp_path / "c.sqlite", settings=settings)
    assert result.calls > 3
    assert program_report(chain, program, cache=tmp_path / "c.sqlite", settings=settings).issued == 6


def test_a_reorg_is_undone(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, tmp_path: Path
) -> None:
    cache = tmp_path / "c.sqlite"
    a, b = chain.dev_account(1), chain.dev_account(2)
    brand.enroll_many([(a.address, "Bronze")])
    brand.issue(a.address, 10, "kept")
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    c, d = chain.dev_account(3), chain.dev_account(4)
    brand.enroll_many([(c.address, "Silver")])
    brand.set_tier(a.address, "Gold")
    brand.issue_many([(c.address, 1_000), (d.address, 7)], "orphaned")
    before = program_report(chain, program, cache=cache)
    assert (before.issued, before.point_holders, before.active_30d) == (1_017, 3, 3)
    assert before.members_per_tier == {"Bronze": 0, "Silver": 1, "Gold": 1}
    chain.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    brand.__init__(chain, program, chain.dev_account(0))  # type: ignore[misc]  # forget the cached nonce
    brand.issue(b.address, 5, "replacement")  # a different block at the same height
    result = sync(chain, program, cache)
    assert result.reorged >= 2
    report = program_report(chain, program, cache=cache)
    assert report.issued_by_reason == {"kept": 10, "replacement": 5}
    # the roll-ups (balances, wallet days) lost the orphaned transfers: as a cache that never saw them
    assert (report.point_holders, report.active_30d, report.active_90d) == (2, 2, 2)
    assert report.members_per_tier == {"Bronze": 1, "Silver": 0, "Gold": 0}  # the card roll-up too
    fresh = program_report(chain, program, cache=tmp_path / "fresh.sqlite")
    assert dataclasses.replace(report, seconds=0) == dataclasses.replace(fresh, seconds=0)
    with open_store(program, cache) as store, open_store(program, tmp_path / "fresh.sqlite") as new:
        assert table_rows(store) == table_rows(new)


def test_amounts_too_large_for_sqlite_are_summed_exactly(chain: Chain, tmp_path: Path) -> None:
    record = deploy_program(chain, ProgramOptions("wei", decimals=18), chain.dev_account(0), root=tmp_path)
    brand = LoyaltyClient(chain, record, chain.dev_account(0))
    big = 10**22 + 1  # > 2**63
    brand.issue_many([(chain.dev_account(1).address, big), (chain.dev_account(2).address, big)], "big")
    report = program_report(chain, record, cache=tmp_path / "c.sqlite", value_per_point="2")
    assert report.issued == 2 * big and report.issued_by_reason == {"big": 2 * big}
    assert report.outstanding == 2 * big and report.point_holders == 2
    assert report.liability == "40000.000000000000000004"  # 2 × 20,000.000…002 points, exactly
    assert report.top_earners[0][1] == big


def test_merkle_claims_count_under_their_campaign_reason(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, tmp_path: Path
) -> None:
    from loyalty_chain.campaigns.campaign import claim

    a, b = chain.dev_account(1), chain.dev_account(2)
    tree = StandardMerkleTree.of([[0, a.address, 70], [1, b.address, 30]], ["uint256", "address", "uint256"])
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    campaign = publish_campaign(chain, program, tree, brand.account, start=now, end=now + 86_400,
                                reason="month-bonus")  # fmt: skip
    claim(chain, program, campaign.campaign_id, tree, a)
    report: Any = program_report(chain, program, cache=tmp_path / "c.sqlite")
    assert report.issued_by_reason == {"month-bonus": 70}
    (stats,) = report.campaigns
    assert (stats.campaign_id, stats.reason, stats.claims, stats.claimed) == (
        campaign.campaign_id,
        "month-bonus",
        1,
        70,
    )
