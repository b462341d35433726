"""``loyalty-chain merkle build | publish | proof | claim`` end to end on the devnet, and interop with the
npm @openzeppelin/merkle-tree (our tree.json loads there; its dumps work here)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3.contract import Contract

from loyalty_chain.artifacts import load_artifact
from loyalty_chain.campaigns.campaign import CARDS_LEAF_ENCODING, POINTS_LEAF_ENCODING, build_tree, csv_kind
from loyalty_chain.campaigns.merkle import StandardMerkleTree
from loyalty_chain.chain import Chain
from loyalty_chain.cli import main
from loyalty_chain.errors import CsvValidationError
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not on PATH")


def address(i: int) -> str:
    return to_checksum_address(keccak(b"claim-%d" % i)[-20:])


def node(command: str, payload: dict[str, Any]) -> dict[str, Any]:
    assert NODE is not None
    done = subprocess.run([NODE, "toolchain/merkle-interop.js", command], input=json.dumps(payload),
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=True)  # fmt: skip
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def program(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dev_accounts: list[LocalAccount]
) -> ProgramRecord:
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path / "deployments"))
    return deploy_program(chain, ProgramOptions("pull", decimals=2), dev_accounts[0])


@pytest.fixture
def cli(chain: Chain, capsys: pytest.CaptureFixture[str]) -> Any:
    """``cli(*args)`` → (exit code, stdout, stderr) of ``loyalty-chain --rpc <devnet> *args``."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--rpc", chain.rpc_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def contract(chain: Chain, program: ProgramRecord, name: str) -> Contract:
    c = chain.w3.eth.contract(address=program.addresses[name], abi=load_artifact(name).abi)  # type: ignore[call-overload]
    assert isinstance(c, Contract)
    return c


def points_csv(tmp_path: Path, dev_accounts: list[LocalAccount]) -> Path:
    path = tmp_path / "points.csv"
    rows = [f"{dev_accounts[1].address},12.5", f"{address(1)},3", f"{dev_accounts[2].address},0.01"]
    rows += [f"{address(i)},{i}" for i in range(2, 40)]
    path.write_text("address,amount\n" + "\n".join(rows) + "\n")
    return path


# -- build --------------------------------------------------------------------------------------


@needs_node
def test_build_writes_a_tree_the_npm_package_loads(
    program: ProgramRecord, cli: Any, tmp_path: Path, dev_accounts: list[LocalAccount]
) -> None:
    tree_file = tmp_path / "tree.json"
    code, out, _ = cli(
        "--json",
        "merkle",
        "build",
        str(points_csv(tmp_path, dev_accounts)),
        "--out",
        str(tree_file),
        "--program",
        "pull",
    )
    assert code == 0
    built = json.loads(out)
    dump = json.loads(tree_file.read_text())
    assert dump["leafEncoding"] == list(POINTS_LEAF_ENCODING) and dump["format"] == "standard-v1"
    assert built["leaves"] == 41 and built["kind"] == "points"
    assert dump["values"][0]["value"] == ["0", dev_accounts[1].address, "1250"]  # decimals=2 from the chain
    checked = node("check", {"dump": dump})
    assert checked["root"] == built["root"] and checked["ownProofsVerified"] is True


def test_build_validates_like_a_push_airdrop(
    cli: Any, tmp_path: Path, dev_accounts: list[LocalAccount]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(f"address,amount\n{address(1)},1\n{address(2)[:-2]},1\n{address(3)},1.5\n{address(1)},x\n")
    out = tmp_path / "tree.json"
    code, _, err = cli("merkle", "build", str(bad), "--out", str(out))
    assert code == 1 and not out.exists()
    assert "line 3: address" in err and "line 4: amount '1.5' has a fractional part" in err
    assert "line 5: amount 'x' is not a number" in err and "3 bad row(s), nothing was sent" in err

    with_reason = tmp_path / "reason.csv"
    with_reason.write_text(f"address,amount,reason\n{address(1)},1,promo\n{address(2)},1,\n")
    code, _, err = cli("merkle", "build", str(with_reason), "--out", str(out))
    assert code == 1 and "line 2: has a reason" in err and "--reason" in err


def test_cards_tree_from_tier_names(tmp_path: Path) -> None:
    path = tmp_path / "cards.csv"
    path.write_text(f"address,tier\n{address(1)},Gold\n{address(2)},silver\n{address(3)},0\n")
    assert csv_kind(path) == "cards"
    tree = build_tree("cards", path)
    assert tree.leaf_encoding == CARDS_LEAF_ENCODING
    assert [v for _, v in tree.entries()] == [
        ["0", address(1), "2"],
        ["1", address(2), "1"],
        ["2", address(3), "0"],
    ]
    with pytest.raises(CsvValidationError, match="line 2: tier 'Gold' is unknown"):
        build_tree("cards", path, tiers=("Basic", "Plus"))


# -- publish, proof, claim ----------------------------------------------------------------------


def test_publish_proof_and_claim_points(
    chain: Chain, program: ProgramRecord, cli: Any, tmp_path: Path, dev_accounts: list[LocalAccount]
) -> None:
    tree_file = tmp_path / "tree.json"
    assert (
        cli(
            "merkle",
            "build",
            str(points_csv(tmp_path, dev_accounts)),
            "--out",
            str(tree_file),
            "--decimals",
            "2",
        )[0]
        == 0
    )
    code, out, _ = cli(
        "merkle",
        "publish",
        "pull",
        str(tree_file),
        "--start",
        "2020-01-01",
        "--end",
        "2099-12-31T23:59:59Z",
        "--reason",
        "spring",
    )
    assert code == 0 and out.startswith("campaign id 1\n")
    distributor = contract(chain, program, "AirdropDistributor")
    kind, root, start, end, reason, _, started, budget_left = distributor.functions.campaign(1).call()
    tree = StandardMerkleTree.load(json.loads(tree_file.read_text()))
    assert (kind, "0x" + root.hex(), start, end) == (0, tree.root, 1577836800, 4102444799)
    assert reason.rstrip(b"\0") == b"spring" and not started
    assert budget_left == sum(int(str(value[2])) for _, value in tree.entries())  # the leaves' total

    code, out, _ = cli("--json", "merkle", "proof", str(tree_file), dev_accounts[1].address.lower())
    leaf = json.loads(out)
    assert (leaf["index"], leaf["amount"]) == (0, 1250) and leaf["proof"] == tree.get_proof(0)

    points = contract(chain, program, "LoyaltyPoints")
    code, out, _ = cli("--account", "dev:1", "merkle", "claim", "pull", "1", str(tree_file))
    assert code == 0 and "claimed leaf 0" in out
    assert points.functions.balanceOf(dev_accounts[1].address).call() == 1250
    code, out, err = cli("--account", "dev:1", "merkle", "claim", "pull", "1", str(tree_file))
    assert code == 1 and "already claimed" in err
    assert points.functions.balanceOf(dev_accounts[1].address).call() == 1250

    # dev:3 pays the gas for address(1); the points go to address(1).
    payer_before = chain.w3.eth.get_balance(dev_accounts[3].address)
    code, out, _ = cli(
        "--json", "--account", "dev:3", "merkle", "claim", "pull", "1", str(tree_file), "--for", address(1)
    )
    assert code == 0 and json.loads(out)[0]["tx_hash"]
    assert points.functions.balanceOf(address(1)).call() == 300
    assert points.functions.balanceOf(dev_accounts[3].address).call() == 0
    assert chain.w3.eth.get_balance(dev_accounts[3].address) < payer_before


def test_claim_refuses_a_tree_that_is_not_the_campaigns(
    program: ProgramRecord, cli: Any, tmp_path: Path, dev_accounts: list[LocalAccount]
) -> None:
    one, other = tmp_path / "one.json", tmp_path / "other.json"
    csv_path = points_csv(tmp_path, dev_accounts)
    assert cli("merkle", "build", str(csv_path), "--out", str(one), "--decimals", "2")[0] == 0
    csv_path.write_text(csv_path.read_text().replace(",3\n", ",4\n"))
    assert cli("merkle", "build", str(csv_path), "--out", str(other), "--decimals", "2")[0] == 0
    assert cli("merkle", "publish", "pull", str(one), "--end", "2099-01-01")[0] == 0
    code, _, err = cli("--account", "dev:1", "merkle", "claim", "pull", "1", str(other))
    assert code == 1 and "root" in err and "another campaign's tree" in err
    code, _, err = cli("--account", "dev:5", "merkle", "claim", "pull", "1", str(one))
    assert code == 1 and "is not in this tree" in err
    code, _, err = cli("--account", "dev:1", "merkle", "claim", "pull", "7", str(one))
    assert code == 1 and "AirdropUnknownCampaign" in err


@needs_node
def test_a_tree_dumped_by_the_npm_package_publishes_and_claims_cards(
    chain: Chain, program: ProgramRecord, cli: Any, tmp_path: Path, dev_accounts: list[LocalAccount]
) -> None:
    values = [["0", dev_accounts[4].address, "2"], ["1", address(7), "1"], ["2", address(8), "0"]]
    dump = node("build", {"values": values, "leafEncoding": list(CARDS_LEAF_ENCODING)})["dump"]
    tree_file = tmp_path / "js-tree.json"
    tree_file.write_text(json.dumps(dump))
    code, _, err = cli("--json", "merkle", "publish", "pull", str(tree_file), "--end", "4102444799",
                       "--card-valid-until", "2098-01-01")  # fmt: skip
    assert code == 1 and "falls inside the claim window" in err  # later claimers would be locked out
    code, out, _ = cli("--json", "merkle", "publish", "pull", str(tree_file), "--end", "4102444799",
                       "--card-valid-until", "2100-06-01")  # fmt: skip
    assert code == 0 and json.loads(out)["campaign_id"] == 1 and json.loads(out)["kind"] == "cards"

    code, out, _ = cli("merkle", "proof", str(tree_file), address(7))
    assert code == 0 and out.startswith("index 1  account") and "tier 1" in out
    assert cli("--account", "dev:4", "merkle", "claim", "pull", "1", str(tree_file))[0] == 0
    card = contract(chain, program, "MembershipCard")
    token = card.functions.cardOf(dev_accounts[4].address).call()
    assert card.functions.cardInfo(token).call()[1:] == [2, 4115491200]


def test_publish_checks_the_leaves(program: ProgramRecord, cli: Any, tmp_path: Path) -> None:
    values = [[0, address(1), 5], [0, address(2), 6], [1, "0x" + "00" * 20, 7], [2, address(3), 0]]
    tree_file = tmp_path / "bad-tree.json"
    tree_file.write_text(json.dumps(StandardMerkleTree.of(values, POINTS_LEAF_ENCODING).dump()))
    code, _, err = cli("merkle", "publish", "pull", str(tree_file), "--end", "2099-01-01")
    assert code == 1 and "3 leaf problem(s), nothing was sent" in err
    assert "index 0 is also values[0]'s" in err and "the zero address" in err and "amount 0" in err


# -- managing campaigns -------------------------------------------------------------------------


def test_list_status_close_and_sweep_a_campaign(
    chain: Chain, program: ProgramRecord, cli: Any, tmp_path: Path, dev_accounts: list[LocalAccount]
) -> None:
    tree_file = tmp_path / "tree.json"
    cli(
        "merkle", "build", str(points_csv(tmp_path, dev_accounts)), "--out", str(tree_file), "--decimals", "2"
    )
    code, out, _ = cli("merkle", "publish", "pull", str(tree_file), "--end", "2099-12-31", "--reason", "may")
    assert code == 0 and "2099-12-31T23:59:59+00:00 (inclusive, UTC)" in out  # a date alone: its last second
    assert contract(chain, program, "AirdropDistributor").functions.campaign(1).call()[3] == 4102444799
    # the same tree again is refused, before anything is sent
    code, _, err = cli("merkle", "publish", "pull", str(tree_file), "--end", "2099-12-31")
    assert code == 1 and "already published as campaign 1" in err
    cli("--account", "dev:1", "merkle", "claim", "pull", "1", str(tree_file))

    code, out, _ = cli("--json", "merkle", "list", "pull")
    (listed,) = json.loads(out)
    assert (listed["state"], listed["reason"], listed["claims"], listed["leaves"]) == ("open", "may", 1, 41)
    assert listed["claimed"] == 1250 and listed["claim_rate"] == round(1 / 41, 4)
    total = listed["total"]
    assert listed["unclaimed_total"] == total - 1250 and listed["unclaimed_leaves"] == 40

    code, _, err = cli("merkle", "sweep", "pull", "1", "--out", str(tmp_path / "left.csv"))
    assert code == 1 and "still open" in err
    code, out, _ = cli("merkle", "close", "pull", "1")
    assert code == 0 and "closed" in out
    code, _, err = cli("--account", "dev:2", "merkle", "claim", "pull", "1", str(tree_file))
    assert code == 1 and "AirdropEnded" in err

    code, out, _ = cli("--json", "merkle", "status", "pull", "1")
    status = json.loads(out)
    assert status["state"] == "closed" and len(status["unclaimed"]) == 40
    assert dev_accounts[1].address not in {leaf["account"] for leaf in status["unclaimed"]}
    code, out, _ = cli("merkle", "sweep", "pull", "1", "--out", str(tmp_path / "left.csv"))
    assert code == 0 and "40 unclaimed leaves" in out
    rows = (tmp_path / "left.csv").read_text().splitlines()
    assert rows[0] == "address,amount" and len(rows) == 41 and f"{dev_accounts[2].address},0.01" in rows
    # the swept file is a valid push-airdrop CSV of exactly what was not claimed
    code, out, _ = cli("--json", "airdrop", "points", "pull", str(tmp_path / "left.csv"), "--dry-run")
    assert code == 0 and json.loads(out)["to_send"] == 40
