"""Early access of a Merkle campaign through the brand's paths: the client functions and
``loyalty-chain merkle early``; claims through ``loyalty_chain.campaign.claim``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_chain.campaigns.campaign import POINTS_LEAF_ENCODING, claim, publish_campaign
from loyalty_chain.campaigns.merkle import StandardMerkleTree
from loyalty_chain.chain import Chain
from loyalty_chain.cli import cli, main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import ContractRevertError, InputError
from loyalty_chain.mechanics import (
    clear_campaign_early_access,
    read_campaign_early_access,
    set_campaign_early_access,
)
from loyalty_chain.mechanics.early_access import CollectionKind
from loyalty_chain.program import ProgramOptions, deploy_program

DAY = 86_400


def now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def test_gold_members_claim_a_campaign_before_its_start(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin, alice, bob = (chain.dev_account(i) for i in range(3))
    record = deploy_program(chain, ProgramOptions("drops"), admin, root=tmp_path)
    brand = LoyaltyClient(chain, record, admin)
    brand.enroll_many([(alice.address, "Gold"), (bob.address, "Silver")])
    tree = StandardMerkleTree.of([[0, alice.address, 100], [1, bob.address, 50]], POINTS_LEAF_ENCODING)
    start = now(chain) + 10 * DAY
    campaign = publish_campaign(chain, record, tree, admin, start=start, end=start + 30 * DAY)
    cid = campaign.campaign_id

    with pytest.raises(InputError, match="collection, a minimum tier, or both"):
        set_campaign_early_access(brand, cid, start - DAY)
    with pytest.raises(InputError, match="before the campaign's start"):
        set_campaign_early_access(brand, cid, start, min_tier="Gold")
    with pytest.raises(InputError, match="card_collection needs"):
        set_campaign_early_access(brand, cid, start - DAY, card_collection=True, min_tier="Gold")
    opened = now(chain) - 1
    set_campaign_early_access(brand, cid, opened, min_tier="Gold")
    access = read_campaign_early_access(brand, cid)
    assert (access.early_start, access.collection, access.kind, access.min_tier) == (
        opened,
        None,
        CollectionKind.NONE,
        "Gold",
    )
    claim(chain, record, cid, tree, alice)
    assert brand.balance(alice.address) == 100
    with pytest.raises(ContractRevertError, match="AirdropNotEarlyEligible"):
        claim(chain, record, cid, tree, bob)
    clear_campaign_early_access(brand, cid)
    assert not read_campaign_early_access(brand, cid).enabled

    monkeypatch.setenv("LOYALTY_CHAIN_RPC", chain.rpc_url)
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path))
    out = CliRunner().invoke(cli, ["--json", "merkle", "early", "drops", str(cid), "--from", str(opened),
                                   "--min-tier", "Silver"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["min_tier"] == "Silver"
    claim(chain, record, cid, tree, bob)  # Silver may claim early now
    assert brand.balance(bob.address) == 50
    assert main(["merkle", "early", "drops", str(cid), "--clear", "--min-tier", "Gold"]) == 1
    assert "--clear takes no other option" in capsys.readouterr().err
    assert main(["merkle", "early", "drops", str(cid), "--clear"]) == 0
    assert "no early access" in capsys.readouterr().out
