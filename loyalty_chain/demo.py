"""The README's main job: a coffee brand's loyalty program on a managed devnet, start to finish.

Deploy the program, enrol 1,000 members across three tiers, issue welcome points in batches, add
perks, have 100 members redeem (a share of them gasless, relayed by the brand), run issue 12's
mechanics (a donation, an early-access perk, a conversion to a partner brand, a member crossing into
Gold by purchases once tiers follow activity), then summarise it
from the contracts' events the way a brand manager reads it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from .analytics import ProgramSummary, summarize
from .chain import Chain, start_devnet
from .client import LoyaltyClient
from .decoding import hex_int
from .delivery import Tx, send_from_many
from .delivery.signing import calldata
from .demo_expiry import ExpiryResult, run_expiry
from .demo_mechanics import MechanicsResult, run_mechanics
from .demo_tiers import TiersDemo, run_tiers
from .gasless import sign_typed_data
from .program import ProgramOptions, deploy_program, registry_root
from .records import PerkSpec

Say = Callable[[str], None]
Progress = Callable[[str, int, int], None]
"""progress(step, done, total): called as a long step advances."""


def _no_progress(step: str, done: int, total: int) -> None:
    return None


MEMBERS = 1_000
REDEEMERS = 100
GASLESS_SHARE = 0.6
"""Share of the redeeming members who hold no ETH and redeem through the brand's relayer."""
WELCOME_POINTS = {"Bronze": 100, "Silver": 250, "Gold": 500}
TIER_MIX = {"Bronze": 0.6, "Silver": 0.3, "Gold": 0.1}
SEED = 7


@dataclass(frozen=True)
class DemoResult:
    summary: ProgramSummary
    perk_titles: dict[int, str]
    gas_used: int
    transactions: int
    seconds: float
    record_path: Path
    rpc_url: str
    mechanics: MechanicsResult | None = None
    """Issue 12's mechanics: a donation, an early-access perk, a conversion to a partner brand."""
    expiry: ExpiryResult | None = None
    """Issue 12's expiring points: a second program whose points expire after their validity."""
    tiers: TiersDemo | None = None
    """Issue 12's tiers that follow activity: a member crossing into Gold by purchases."""


def _members(count: int) -> list[LocalAccount]:
    rng = random.Random(SEED)
    return [Account.from_key(rng.randbytes(32)) for _ in range(count)]


def run_demo(
    say: Say = print, *, progress: Progress = _no_progress, deployments: Path | None = None
) -> DemoResult:
    started = time.monotonic()
    root = deployments or registry_root()
    with start_devnet() as chain:
        return _run(chain, say, progress, root, started)


def _run(chain: Chain, say: Say, progress: Progress, root: Path, started: float) -> DemoResult:
    brand = chain.dev_account(0)
    say(f"devnet (anvil) at {chain.rpc_url}, chain id {chain.chain_id}")
    options = ProgramOptions("bean-there", symbol="BEAN", display_name="Bean There Rewards")
    record = deploy_program(chain, options, brand, root=root)
    say(f"deployed program 'bean-there': points {record.addresses['LoyaltyPoints']}")
    client = LoyaltyClient(chain, record, brand)
    gas = 0
    txs = 0

    members = _members(MEMBERS)
    rng = random.Random(SEED)
    tiers = rng.choices(list(TIER_MIX), weights=list(TIER_MIX.values()), k=MEMBERS)
    roster = [(m.address, t) for m, t in zip(members, tiers, strict=True)]
    results = client.enroll_many(roster, batch_size=250)
    gas += sum(r.gas_used for r in results)
    txs += len(results)
    say(f"enrolled {MEMBERS:,} members in {len(results)} transactions")

    results = []
    for tier, amount in WELCOME_POINTS.items():
        group = [(m.address, amount) for m, t in zip(members, tiers, strict=True) if t == tier]
        results += client.issue_many(group, "welcome", batch_size=250)
    gas += sum(r.gas_used for r in results)
    txs += len(results)
    say(f"issued welcome points to {MEMBERS:,} members in {len(results)} batches")

    perks = [
        PerkSpec("Free espresso", price=80),
        PerkSpec("Any pastry", price=120, per_wallet=2),
        PerkSpec("Barista class", price=400, min_tier=2, stock=20),
    ]
    perk_ids = [client.add_perk(p).perk_id for p in perks]
    txs += len(perks)
    say(f"added {len(perks)} perks")

    redeemers = rng.sample(range(MEMBERS), REDEEMERS)
    gasless = redeemers[: int(REDEEMERS * GASLESS_SHARE)]
    paying = redeemers[len(gasless) :]

    # Members who pay their own gas get a little ETH first, in one batch from the brand.
    client.sender.send_txs([Tx(members[i].address, b"", 21_000, 10**16) for i in paying])

    def choose(i: int) -> int:
        eligible = zip(perk_ids, perks, strict=True)
        tier_rank = list(TIER_MIX).index(tiers[i])
        allowed = [
            pid for pid, p in eligible if p.min_tier <= tier_rank and p.price <= WELCOME_POINTS[tiers[i]]
        ]
        return rng.choice(allowed)

    # Members paying their own gas: each signs its own redeem; all are delivered together.
    items = []
    for i in paying:
        member_client = LoyaltyClient(chain, record, members[i])
        perk_id = choose(i)
        price = perks[perk_ids.index(perk_id)].price  # the price the member sees: at most that is burned
        call = member_client.catalog.functions.redeem(perk_id, 1, price)
        items.append((member_client.sender, Tx(str(call.address), calldata(call), 200_000)))
    outcomes = send_from_many(chain, items)
    gas += sum(hex_int(o["gasUsed"]) for o in outcomes if not isinstance(o, Exception))
    txs += len(outcomes)

    # Gasless: the brand builds the typed data, the member's wallet signs, the brand relays.
    relayed = 0
    for done, i in enumerate(gasless, start=1):
        request = client.redemption_request(members[i].address, choose(i))
        signature = sign_typed_data(members[i], request)
        redemption = client.relay(request, signature)
        gas += redemption.tx.gas_used
        relayed += 1
        progress("gasless redemptions relayed", done, len(gasless))
    txs += relayed
    failed = sum(1 for o in outcomes if isinstance(o, Exception) or not hex_int(o["status"]))
    say(
        f"{REDEEMERS} members redeemed: {len(paying)} paying their own gas, {relayed} gasless via the relayer"
        + (f" ({failed} refused)" if failed else "")
    )

    with_eth = [members[i] for i in paying]
    mechanics = run_mechanics(chain, client, with_eth, dict(roster), say, root)
    gas += mechanics.gas_used
    txs += mechanics.transactions
    tiers_demo = run_tiers(client, roster, say)
    gas += tiers_demo.gas_used
    txs += tiers_demo.transactions
    expiry = run_expiry(chain, brand, members[0].address, say, root)  # last: it moves the devnet's clock
    gas += expiry.gas_used
    txs += expiry.transactions

    summary = summarize(client.events(), client.tiers(), record.addresses["LoyaltyPoints"])
    return DemoResult(
        summary=summary,
        perk_titles={
            **{pid: p.title for pid, p in zip(perk_ids, perks, strict=True)},
            mechanics.early_perk_id: mechanics.early_perk_title,
        },
        gas_used=gas,
        transactions=txs,
        seconds=time.monotonic() - started,
        record_path=root / str(chain.chain_id) / f"{record.name}.json",
        rpc_url=chain.rpc_url,
        mechanics=mechanics,
        expiry=expiry,
        tiers=tiers_demo,
    )
