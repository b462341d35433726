"""Early access through the brand's paths: the client functions and ``loyalty-chain perk early``."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import run_json

from loyalty_chain.chain import Chain
from loyalty_chain.cli import main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import ContractRevertError, InputError
from loyalty_chain.mechanics import clear_early_access, read_early_access, set_early_access
from loyalty_chain.mechanics.early_access import CollectionKind
from loyalty_chain.program import ProgramOptions, deploy_program
from loyalty_chain.records import PerkSpec

DAY = 86_400


def now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def test_last_seasons_card_holders_and_gold_members_redeem_before_the_start(
    chain: Chain, tmp_path: Path
) -> None:
    admin, alice, bob, carol = (chain.dev_account(i) for i in range(4))
    brand = LoyaltyClient(
        chain, deploy_program(chain, ProgramOptions("season2"), admin, root=tmp_path), admin
    )
    season1 = LoyaltyClient(
        chain, deploy_program(chain, ProgramOptions("season1"), admin, root=tmp_path), admin
    )
    season1.enroll(carol.address, "Bronze")  # last season's card: carol's key
    brand.enroll_many([(alice.address, "Gold"), (bob.address, "Silver"), (carol.address, "Bronze")])
    brand.issue_many([(m.address, 500) for m in (alice, bob, carol)], "welcome")
    start = now(chain) + 10 * DAY
    perk = brand.add_perk(PerkSpec("Preview night", price=100, start=start))

    with pytest.raises(InputError, match="collection, a minimum tier, or both"):
        set_early_access(brand, perk.perk_id, start - DAY)
    with pytest.raises(InputError, match="must be before the perk's start"):
        set_early_access(brand, perk.perk_id, start, min_tier="Gold")
    with pytest.raises(InputError, match="unknown tier"):
        set_early_access(brand, perk.perk_id, start - DAY, min_tier="Platinum")
    always = brand.add_perk(PerkSpec("Always", price=1))
    with pytest.raises(InputError, match="give it a start first"):
        set_early_access(brand, always.perk_id, 1, min_tier="Gold")

    opened = now(chain) - 1  # the early window is already open
    set_early_access(brand, perk.perk_id, opened, collection=season1.card.address, card_collection=True,
                     min_tier="Gold")  # fmt: skip
    access = read_early_access(brand, perk.perk_id)
    assert (access.early_start, access.collection, access.kind, access.min_tier) == (
        opened,
        season1.card.address,
        CollectionKind.LOYALTY_CARD,
        "Gold",
    )
    assert LoyaltyClient(chain, brand.record, alice).redeem(perk.perk_id).points_burned == 100  # Gold
    assert LoyaltyClient(chain, brand.record, carol).redeem(perk.perk_id).points_burned == 100  # key holder
    with pytest.raises(ContractRevertError, match="CatalogNotEarlyEligible"):
        LoyaltyClient(chain, brand.record, bob).redeem(perk.perk_id)
    with pytest.raises(ContractRevertError, match="AccessControlUnauthorizedAccount"):
        clear_early_access(LoyaltyClient(chain, brand.record, bob), perk.perk_id)
    clear_early_access(brand, perk.perk_id)
    assert not read_early_access(brand, perk.perk_id).enabled
    with pytest.raises(ContractRevertError, match="CatalogPerkNotStarted"):
        LoyaltyClient(chain, brand.record, alice).redeem(perk.perk_id)


def test_perk_early_command(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOYALTY_CHAIN_RPC", chain.rpc_url)
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path / "deployments"))
    run_json("deploy", "cafe")
    start = now(chain) + 10 * DAY
    run_json("perk", "add", "cafe", "--title", "Preview", "--price", "10", "--start", str(start))
    shown = run_json("perk", "early", "cafe", "1")
    assert (shown["early_start"], shown["early_start_utc"], shown["tx_hash"]) == (0, None, None)
    collection = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    set_ = run_json("perk", "early", "cafe", "1", "--from", str(start - DAY), "--holders", collection,
                    "--min-tier", "Silver")  # fmt: skip
    assert set_["early_start"] == start - DAY and set_["collection"] == collection
    assert (set_["collection_kind"], set_["min_tier"]) == ("erc721", "Silver")
    assert str(set_["tx_hash"]).startswith("0x")
    assert run_json("perk", "early", "cafe", "1", "--clear")["collection_kind"] == "none"
    assert main(["perk", "early", "cafe", "1", "--holders", collection]) == 1
    assert "needs --from" in capsys.readouterr().err
    assert main(["perk", "early", "cafe", "1", "--clear", "--min-tier", "Gold"]) == 1
    assert "--clear takes no other option" in capsys.readouterr().err
    assert main(["perk", "early", "cafe", "1", "--from", str(start), "--min-tier", "Gold"]) == 1
    assert "must be before the perk's start" in capsys.readouterr().err
