"""The rough edges a newcomer hit on the command line (issue 10, item 6), each pinned by a test."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from support.cli import run

from loyalty_chain.chain import Chain, start_devnet
from loyalty_chain.cli import main
from loyalty_chain.cli.demo import _StepProgress
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import InsufficientFundsError
from loyalty_chain.program import ProgramOptions, deploy_program, load_program
from loyalty_chain.records import PerkSpec

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
CAROL = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def test_enrolling_many_members_has_a_bulk_path(cli_env: dict[str, str], tmp_path: Path) -> None:
    run("deploy", "cafe")
    members = tmp_path / "members.csv"
    members.write_text(f"address,tier\n{ALICE},Gold\n{BOB},Silver\n{CAROL},0\n")
    assert "--csv" in run("member", "enroll", "--help")
    out = run("member", "enroll", "cafe", "--csv", str(members))
    assert "3" in out
    shown = json.loads(run("--json", "member", "show", "cafe", BOB))
    assert shown["card"]["tier"] == "Silver"


def test_enroll_needs_an_address_or_a_csv(cli_env: dict[str, str]) -> None:
    run("deploy", "cafe")
    assert main(["member", "enroll", "cafe"]) == 1


def test_card_ids_are_decimal_everywhere(cli_env: dict[str, str]) -> None:
    run("deploy", "cafe")
    enrolled = json.loads(run("--json", "member", "enroll", "cafe", ALICE))
    token_id = enrolled["token_id"]
    assert token_id.isdigit()
    assert f"card {token_id})" in run("member", "show", "cafe", ALICE)
    assert "0x" not in run("member", "show", "cafe", ALICE).split("(card")[1]


def test_a_member_without_eth_is_pointed_to_gasless(chain: Chain, cli_env: dict[str, str]) -> None:
    record = deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0))
    brand = LoyaltyClient(chain, record, chain.dev_account(0))
    broke = Account.create()
    brand.enroll(broke.address)
    brand.issue(broke.address, 100)
    perk = brand.add_perk(PerkSpec("Mug", price=10))
    with pytest.raises(InsufficientFundsError, match="--gasless"):
        LoyaltyClient(chain, record, broke).redeem(perk.perk_id)


def test_the_cli_hints_at_funding_on_other_writes(
    chain: Chain, cli_env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0))
    broke = Account.create()
    keystore = Path(cli_env["LOYALTY_CHAIN_KEYSTORE"])
    keystore.mkdir()
    (keystore / "broke.json").write_text(
        json.dumps(Account.encrypt(broke.key, "pw", kdf="pbkdf2", iterations=2))
    )
    monkeypatch.setenv("LOYALTY_CHAIN_PASSWORD", "pw")
    LoyaltyClient(chain, load_program(chain, "cafe"), chain.dev_account(0)).issue(broke.address, 5)
    assert main(["points", "transfer", "cafe", ALICE, "1", "--account", "broke"]) == 1
    assert "needs ETH for gas" in capsys.readouterr().err


def test_the_token_has_a_display_name(chain: Chain, cli_env: dict[str, str]) -> None:
    run("deploy", "bean-there", "--display-name", "Bean There Rewards", "--symbol", "BEAN")
    record = load_program(chain, "bean-there")
    client = LoyaltyClient(chain, record, chain.dev_account(0))
    assert client.points.functions.name().call() == "Bean There Rewards"
    assert client.card.functions.name().call() == "Bean There Rewards Membership"
    assert record.options["display_name"] == "Bean There Rewards"
    plain = deploy_program(chain, ProgramOptions("plain"), chain.dev_account(0))
    assert LoyaltyClient(chain, plain, chain.dev_account(0)).points.functions.name().call() == "plain"


def test_expiry_errors_say_the_date(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    run("deploy", "cafe")
    assert main(["member", "enroll", "cafe", ALICE, "--valid-until", "2020-01-01"]) == 1
    err = capsys.readouterr().err
    assert "MembershipExpiryInPast(validUntil=1577836800 (2020-01-01 00:00:00 UTC)" in err


def test_accounts_commands_offer_only_options_that_do_something() -> None:
    for command in ("new", "import", "list"):
        text = run("accounts", command, "--help")
        assert "--json" in text
        assert "--rpc" not in text and "--account " not in text, text


def test_the_demo_never_wraps_an_address_in_a_pipe(capsys: pytest.CaptureFixture[str]) -> None:
    address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    with _StepProgress() as progress:
        progress.say(f"deployed program 'bean-there-with-a-long-name': points {address} and more words")
    lines = capsys.readouterr().out.splitlines()
    assert any(address in line for line in lines), lines


def test_a_devnet_with_more_dev_accounts() -> None:
    with start_devnet(accounts=15) as chain:
        assert len(chain.dev_accounts) == 15
        assert chain.w3.eth.get_balance(chain.dev_account(14).address) > 0
        again: Any = __import__("loyalty_chain").connect(chain.rpc_url)
        assert again.dev_account(14).address == chain.dev_account(14).address  # asked of the node
    assert "--accounts" in run("devnet", "--help")


def test_perk_spec_fields_are_documented() -> None:
    import ast
    import inspect
    import itertools

    from loyalty_chain import records

    tree = ast.parse(inspect.getsource(records.PerkSpec))
    body = tree.body[0].body  # type: ignore[attr-defined]
    documented = {
        node.target.id
        for node, after in itertools.pairwise(body)
        if isinstance(node, ast.AnnAssign)
        and isinstance(after, ast.Expr)
        and isinstance(after.value, ast.Constant)
    }
    fields = {f for f in records.PerkSpec.__dataclass_fields__}
    assert documented == fields
    assert "4294967295" in inspect.getsource(records.PerkSpec)


def test_the_cli_starts_without_importing_web3() -> None:
    """--help, usage errors and the accounts commands never pay for web3 and eth-utils' imports."""
    heavy = "('web3', 'eth_utils', 'eth_account')"
    for argv in ([], ["--help"], ["no-such-command"], ["member", "--help"]):
        # main() itself, not only the import: it used to import web3 to name the node's errors
        code = (
            "import sys, loyalty_chain.cli\n"
            f"code = loyalty_chain.cli.main({argv!r}) if {bool(argv)} else 0\n"
            f"print('loaded', sorted(m for m in {heavy} if m in sys.modules), file=sys.stderr)"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert "loaded []" in out.stderr, (argv, out.stderr)


def test_a_node_error_without_a_better_name_is_one_line_and_others_still_raise(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from web3.exceptions import Web3RPCError

    cli_main = importlib.import_module(
        "loyalty_chain.cli.main"
    )  # the module (the package exports the function)

    def node_error(**_kwargs: object) -> None:
        raise Web3RPCError("header not found")

    monkeypatch.setattr(cli_main.cli, "main", node_error)
    assert cli_main.main(["points", "balance"]) == 1
    assert capsys.readouterr().err == "error: the node answered: header not found\n"

    def our_bug(**_kwargs: object) -> None:
        raise KeyError("not a node's error")

    monkeypatch.setattr(cli_main.cli, "main", our_bug)
    with pytest.raises(KeyError):  # not dressed up as the node's answer
        cli_main.main(["points", "balance"])
