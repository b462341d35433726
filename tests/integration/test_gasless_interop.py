"""Gasless redemption as real wallets do it: our EIP-712 JSON, signed by ethers v6, accepted on chain.

Three levels, cheapest first:

- ``loyalty_chain.gasless`` alone: sign → recover round trips, tampering changes the signer, the
  validation of the typed data names what is wrong;
- ethers v6 (``node toolchain/sign-typed-data.js``, an implementation independent of eth-account)
  signs our JSON as a dapp would — ``signTypedData(domain, types minus EIP712Domain, message)`` —
  and must produce our signature byte for byte, for small and for 78-digit numbers;
- on the session anvil: a program deployed with ``deploy_program``, a member holding a card and
  points, a request built with our function, signed by ethers, relayed by a third account with
  ``redeemWithSignature``: the points are burned and ``PerkRedeemed`` is emitted.

The ethers tests are skipped only when ``node`` is not installed; a missing npm package is a failure.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract import Contract

from loyalty_chain.artifacts import load_artifact
from loyalty_chain.chain import Chain, dev_keys
from loyalty_chain.decoding import ErrorDecoder
from loyalty_chain.errors import ContractRevertError, InputError
from loyalty_chain.gasless import (
    DOMAIN_NAME,
    REDEMPTION_TYPE,
    RedemptionRequest,
    build_redemption,
    parse_request,
    recover_signer,
    redemption_typed_data,
    sign_typed_data,
)
from loyalty_chain.program import ProgramOptions, deploy_program
from loyalty_chain.relay_policy import relay_call
from loyalty_chain.sender import Sender

REPO = Path(__file__).resolve().parents[2]
HELPER = REPO / "toolchain" / "sign-typed-data.js"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not on PATH; ethers cannot run")

CATALOG = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
RELAYER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
UNLIMITED_STOCK = 2**32 - 1
ZERO = "0x" + "00" * 20
UINT256_MAX = 2**256 - 1


def member_key(i: int = 1) -> LocalAccount:
    return dev_keys()[i]


def request(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "chain_id": 31337,
        "catalog": CATALOG,
        "member": member_key().address,
        "relayer": RELAYER,
        "perk_id": 1,
        "quantity": 2,
        "max_cost": 250,
        "nonce": 0,
        "deadline": 1_900_000_000,
    }
    fields.update(changes)
    return redemption_typed_data(**fields)


def ethers_sign(account: LocalAccount, typed: dict[str, Any]) -> dict[str, str]:
    """ethers v6 signs ``typed`` (sent as JSON text, as a dapp receives it) with ``account``'s key."""
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HELPER)],
        input=json.dumps({"privateKey": "0x" + bytes(account.key).hex(), "typedData": typed}),
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, str] = json.loads(done.stdout)
    return result


def eip712_digest(typed: dict[str, Any]) -> str:
    signable = encode_typed_data(full_message=typed)
    return "0x" + keccak(b"\x19" + signable.version + signable.header + signable.body).hex()


# --- our own implementation ---------------------------------------------------------------------


def test_typed_data_is_the_eth_signTypedData_v4_json() -> None:
    typed = request()
    assert json.loads(json.dumps(typed)) == typed  # plain JSON, nothing Python-only
    assert typed == {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Redemption": [
                {"name": "member", "type": "address"},
                {"name": "relayer", "type": "address"},
                {"name": "perkId", "type": "uint256"},
                {"name": "quantity", "type": "uint256"},
                {"name": "maxCost", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Redemption",
        "domain": {
            "name": "LoyaltyPerkCatalog",
            "version": "1",
            "chainId": 31337,
            "verifyingContract": CATALOG,
        },
        "message": {
            "member": member_key().address,
            "relayer": RELAYER,
            "perkId": "1",
            "quantity": "2",
            "maxCost": "250",
            "nonce": "0",
            "deadline": "1900000000",
        },
    }
    fields = ",".join(f"{f['type']} {f['name']}" for f in typed["types"]["Redemption"])
    assert f"Redemption({fields})" == REDEMPTION_TYPE


def test_builder_checksums_what_it_is_given() -> None:
    typed = request(catalog=CATALOG.lower(), member=member_key().address.lower())
    assert typed["domain"]["verifyingContract"] == CATALOG
    assert typed["message"]["member"] == member_key().address


def test_parse_request_round_trip() -> None:
    parsed = parse_request(request())
    assert parsed == RedemptionRequest(
        31337, CATALOG, member_key().address, RELAYER, 1, 2, 250, 0, 1_900_000_000
    )
    assert parsed.typed_data() == request()


def test_sign_then_recover() -> None:
    member = member_key()
    typed = request()
    signature = sign_typed_data(member, typed)
    assert signature.startswith("0x") and len(signature) == 2 + 130
    assert recover_signer(typed, signature) == member.address
    assert recover_signer(typed, bytes.fromhex(signature[2:])) == member.address
    # deterministic (RFC 6979), and independent of ints vs decimal strings in the JSON
    as_ints = copy.deepcopy(typed)
    as_ints["message"] = {k: v if k in ("member", "relayer") else int(v) for k, v in typed["message"].items()}
    assert sign_typed_data(member, as_ints) == signature


def test_another_key_recovers_as_another_signer() -> None:
    typed = request()
    assert recover_signer(typed, sign_typed_data(member_key(2), typed)) == member_key(2).address


@pytest.mark.parametrize(
    ("where", "field", "value"),
    [
        ("message", "perkId", "2"),
        ("message", "quantity", "3"),
        ("message", "nonce", "1"),
        ("message", "deadline", "1900000001"),
        ("message", "member", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
        ("message", "relayer", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
        ("message", "maxCost", "251"),
        ("domain", "chainId", 1),
        ("domain", "verifyingContract", "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"),
    ],
)
def test_tampered_request_recovers_as_someone_else(where: str, field: str, value: Any) -> None:
    typed = request()
    signature = sign_typed_data(member_key(), typed)
    tampered = copy.deepcopy(typed)
    tampered[where][field] = value
    assert recover_signer(tampered, signature) != member_key().address


def _mutate(path: str, value: Any) -> dict[str, Any]:
    typed = request()
    *parents, last = path.split(".")
    target: Any = typed
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is KeyError:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return typed


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("primaryType", "Permit", "primaryType must be 'Redemption'"),
        ("domain.name", "LoyaltyPoints", "domain.name must be 'LoyaltyPerkCatalog'"),
        ("domain.version", "2", "domain.version must be '1'"),
        ("domain.chainId", 0, "domain.chainId must not be 0"),
        ("domain.chainId", "0x7a69", "domain.chainId must be an integer or a decimal string"),
        ("domain.chainId", True, "domain.chainId must be an integer"),
        ("domain.salt", "0x" + "00" * 32, r"domain: unexpected salt"),
        ("domain.verifyingContract", KeyError, "domain: missing verifyingContract"),
        ("domain.verifyingContract", CATALOG.lower(), rf"not EIP-55 checksummed; write it as {CATALOG}"),
        ("domain.verifyingContract", CATALOG.replace("f", "F"), "wrong EIP-55 checksum"),
        ("domain.verifyingContract", "0x1234", "20-byte hex address"),
        ("message.member", None, "message.member must be a 0x-prefixed 20-byte hex address"),
        ("message.quantity", -1, r"message.quantity must be within 0..2\*\*256-1"),
        ("message.quantity", 2**256, r"within 0..2\*\*256-1"),
        ("message.quantity", "1e3", "message.quantity must be an integer or a decimal string"),
        ("message.quantity", "9" * 79, "decimal string"),
        ("message.quantity", 2.0, "decimal string"),
        ("message.extra", 1, "message: unexpected extra"),
        ("message.nonce", KeyError, "message: missing nonce"),
        ("types.Redemption.6", {"name": "deadline", "type": "uint64"}, r"types.Redemption must be exactly"),
        ("message.maxCost", KeyError, "message: missing maxCost"),
        ("message.relayer", "0x1234", "message.relayer must be a 0x-prefixed 20-byte hex address"),
        ("types.Redemption.0", {"name": "from", "type": "address"}, r"types.Redemption must be exactly"),
        ("types.EIP712Domain", [], r"types.EIP712Domain must be exactly \(string name,string version"),
        ("types.Extra", [], "types: unexpected Extra"),
        ("types.EIP712Domain", KeyError, "types: missing EIP712Domain"),
        ("extra", {}, "typed data: unexpected extra"),
    ],
)
def test_parse_request_names_what_is_wrong(path: str, value: Any, message: str) -> None:
    typed = _mutate(path, value)
    with pytest.raises(InputError, match=message):
        parse_request(typed)
    with pytest.raises(InputError, match=message):
        sign_typed_data(member_key(), typed)  # nothing malformed is ever signed


def test_reordered_type_fields_are_refused() -> None:
    typed = request()
    typed["types"]["Redemption"].reverse()
    with pytest.raises(InputError, match="in this order"):
        parse_request(typed)


def test_recover_refuses_what_the_catalog_refuses() -> None:
    typed = request()
    signature = bytes.fromhex(sign_typed_data(member_key(), typed)[2:])
    with pytest.raises(InputError, match="65 bytes"):
        recover_signer(typed, signature[:64])
    with pytest.raises(InputError, match=rf"v must be 27 or 28, got {signature[64] - 27}\b.*add 27"):
        recover_signer(typed, signature[:64] + bytes([signature[64] - 27]))
    # the same signature with s' = n - s (and v flipped) is valid ECDSA but malleable
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = (n - int.from_bytes(signature[32:64], "big")).to_bytes(32, "big")
    flipped = signature[:32] + high_s + bytes([55 - signature[64]])
    with pytest.raises(InputError, match="malleable"):
        recover_signer(typed, flipped)
    with pytest.raises(InputError, match="must be hex"):
        recover_signer(typed, "0x" + "zz" * 65)


# --- ethers v6 signs our JSON -------------------------------------------------------------------


@needs_node
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {
            "perk_id": 2**200,
            "quantity": 2**53 + 1,
            "nonce": 2**64,
            "deadline": UINT256_MAX,
            "max_cost": UINT256_MAX,
        },
        {"chain_id": 11155111, "catalog": "0x" + "ab" * 20, "quantity": 0},
    ],
    ids=["small", "78-digit", "sepolia"],
)
def test_ethers_signature_equals_ours(changes: dict[str, Any]) -> None:
    member = member_key(4)
    typed = request(member=member.address, **changes)
    signed = ethers_sign(member, typed)
    assert signed["signer"] == member.address
    assert signed["digest"] == eip712_digest(typed)
    assert signed["signature"] == sign_typed_data(member, typed)  # byte for byte
    assert recover_signer(typed, signed["signature"]) == member.address


@needs_node
def test_ethers_refuses_a_type_it_cannot_read() -> None:
    typed = request()
    typed["types"]["Redemption"][1]["type"] = "uint257"
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(HELPER)],
        input=json.dumps({"privateKey": "0x" + bytes(member_key().key).hex(), "typedData": typed}),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "uint257" in done.stderr
    assert bytes(member_key().key).hex() not in done.stderr + done.stdout


# --- on the devnet: ethers signs, a relayer submits, the catalog burns --------------------------


@dataclass(frozen=True)
class Program:
    chain: Chain
    points: Contract
    card: Contract
    catalog: Contract
    admin: Sender
    decoder: ErrorDecoder


@pytest.fixture
def program(
    chain: Chain, dev_accounts: list[LocalAccount], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Program:
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path / "deployments"))
    admin = dev_accounts[0]
    record = deploy_program(chain, ProgramOptions("gasless-test"), admin)
    assert record.path.is_relative_to(tmp_path)
    contracts = {
        name: chain.w3.eth.contract(address=address, abi=load_artifact(name).abi)  # type: ignore[call-overload]
        for name, address in record.addresses.items()
    }
    decoder = ErrorDecoder(contracts.values())
    return Program(
        chain=chain,
        points=contracts["LoyaltyPoints"],
        card=contracts["MembershipCard"],
        catalog=contracts["PerkCatalog"],
        admin=Sender(chain, admin, decoder),
        decoder=decoder,
    )


def setup_member(program: Program, member: LocalAccount, *, points: int, price: int) -> int:
    """Give ``member`` a Bronze card and ``points``; add a perk at ``price``; return its id."""
    p = program
    perk = p.admin.send(
        p.catalog.functions.addPerk(b"Free coffee".ljust(32, b"\0"), price, 0, UNLIMITED_STOCK, 0, 0, 0, True)
    ).event("PerkAdded")
    p.admin.send(p.card.functions.enroll(member.address, 0, 0))
    p.admin.send(p.points.functions.issue(member.address, points, keccak(text="purchase")))
    return int(perk.args["perkId"])


def chain_time(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def test_catalog_agrees_with_our_domain_and_type(program: Program) -> None:
    catalog = program.catalog
    typed = request(chain_id=program.chain.chain_id, catalog=catalog.address)
    assert catalog.functions.REDEMPTION_TYPEHASH().call() == keccak(text=REDEMPTION_TYPE)
    assert catalog.functions.DOMAIN_SEPARATOR().call() == encode_typed_data(full_message=typed).header
    fields, name, version, chain_id, contract, _, _ = catalog.functions.eip712Domain().call()
    assert (name, version, chain_id, contract) == (DOMAIN_NAME, "1", program.chain.chain_id, catalog.address)
    assert fields == b"\x0f"  # name, version, chainId, verifyingContract: no salt


@needs_node
def test_ethers_signed_request_is_redeemed_by_a_relayer(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    member, relayer = dev_accounts[1], dev_accounts[2]
    perk_id = setup_member(p, member, points=1_000, price=25)
    supply = p.points.functions.totalSupply().call()
    member_eth = p.chain.w3.eth.get_balance(member.address)

    deadline = chain_time(p.chain) + 3_600
    typed = build_redemption(
        p.catalog, member.address, perk_id, 3, deadline=deadline, relayer=relayer.address
    )
    assert typed["message"]["nonce"] == "0"
    assert typed["message"]["maxCost"] == "75"  # the price now times the quantity: what the wallet shows
    wire = json.loads(json.dumps(typed))  # what travels to the wallet and back
    signed = ethers_sign(member, wire)
    assert signed["signature"] == sign_typed_data(member, typed)  # byte for byte

    relay = Sender(p.chain, relayer, p.decoder)
    result = relay.send(relay_call(p.catalog, wire, signed["signature"], relayer=relayer.address))

    redeemed = result.event("PerkRedeemed")
    assert redeemed.address.lower() == p.catalog.address.lower()
    assert redeemed.args == {
        "redemptionId": 1,
        "perkId": perk_id,
        "member": member.address,
        "quantity": 3,
        "pointsBurned": 75,
    }
    assert p.points.functions.balanceOf(member.address).call() == 1_000 - 75
    assert p.points.functions.totalSupply().call() == supply - 75
    assert p.catalog.functions.nonces(member.address).call() == 1
    assert p.chain.w3.eth.get_balance(member.address) == member_eth  # the member paid no gas

    # the same request again: stopped before sending, and refused by the catalog if sent anyway
    with pytest.raises(InputError, match=r"carries nonce 0 but .* next nonce is 1"):
        relay_call(p.catalog, wire, signed["signature"], relayer=relayer.address)
    replay = p.catalog.functions.redeemWithSignature(
        member.address, relayer.address, perk_id, 3, 75, deadline, signed["signature"]
    )
    with pytest.raises(ContractRevertError) as raised:
        relay.send(replay)
    assert raised.value.error_name == "CatalogInvalidSignature"
    assert raised.value.error_args == {"member": member.address, "nonce": 1}


@needs_node
def test_ethers_signature_over_an_altered_request_is_refused(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    member, relayer = dev_accounts[1], dev_accounts[2]
    perk_id = setup_member(p, member, points=1_000, price=25)
    typed = build_redemption(
        p.catalog, member.address, perk_id, 1, deadline=chain_time(p.chain) + 600, relayer=relayer.address
    )
    signature = ethers_sign(member, typed)["signature"]

    greedy = copy.deepcopy(typed)
    greedy["message"]["quantity"] = "40"
    greedy["message"]["maxCost"] = "1000"
    with pytest.raises(InputError, match=rf"not the member {member.address}'s"):
        relay_call(p.catalog, greedy, signature, relayer=relayer.address)
    relay = Sender(p.chain, relayer, p.decoder)
    call = p.catalog.functions.redeemWithSignature(
        member.address, relayer.address, perk_id, 40, 1_000, int(typed["message"]["deadline"]), signature
    )
    with pytest.raises(ContractRevertError, match="CatalogInvalidSignature"):
        relay.send(call)
    assert p.points.functions.balanceOf(member.address).call() == 1_000


def test_relay_call_checks_catalog_chain_and_deadline(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    member, relayer, copier = dev_accounts[1], dev_accounts[2], dev_accounts[3]
    now = chain_time(p.chain)
    bound = {"relayer": relayer.address, "max_cost": 10}
    good = build_redemption(p.catalog, member.address, 1, 1, deadline=now + 600, **bound)
    signature = sign_typed_data(member, good)
    assert relay_call(p.catalog, good, signature, relayer=relayer.address).fn_name == "redeemWithSignature"
    # a copy taken from the mempool by another account is stopped before it costs anything
    with pytest.raises(InputError, match=f"names relayer {relayer.address}, not {copier.address}"):
        relay_call(p.catalog, good, signature, relayer=copier.address)
    anyone = build_redemption(p.catalog, member.address, 1, 1, deadline=now + 600, relayer=ZERO, max_cost=10)
    relay_call(p.catalog, anyone, sign_typed_data(member, anyone), relayer=copier.address)

    other_catalog = request(chain_id=p.chain.chain_id, member=member.address, deadline=now + 600)
    with pytest.raises(InputError, match=rf"for catalog {CATALOG}, not {p.catalog.address}"):
        relay_call(p.catalog, other_catalog, sign_typed_data(member, other_catalog), relayer=RELAYER)
    other_chain = request(chain_id=1, catalog=p.catalog.address, member=member.address, deadline=now + 600)
    with pytest.raises(InputError, match="for chain id 1, this is chain id 31337"):
        relay_call(p.catalog, other_chain, sign_typed_data(member, other_chain), relayer=RELAYER)
    expired = build_redemption(p.catalog, member.address, 1, 1, deadline=now - 1, **bound)
    with pytest.raises(InputError, match="expired"):
        relay_call(p.catalog, expired, sign_typed_data(member, expired), relayer=relayer.address)


def test_a_keystore_member_signs_without_ethers(program: Program, dev_accounts: list[LocalAccount]) -> None:
    """The Python path end to end: a fresh random member (a keystore-style account) pays no gas."""
    p = program
    member = Account.create()
    perk_id = setup_member(p, member, points=100, price=10)
    relayer = dev_accounts[3]
    typed = build_redemption(
        p.catalog, member.address, perk_id, 2, deadline=chain_time(p.chain) + 60, relayer=relayer.address
    )
    relay = Sender(p.chain, relayer, p.decoder)
    result = relay.send(relay_call(p.catalog, typed, sign_typed_data(member, typed), relayer=relayer.address))
    assert result.event("PerkRedeemed").args["pointsBurned"] == 20
    assert p.points.functions.balanceOf(member.address).call() == 80
    assert p.chain.w3.eth.get_balance(member.address) == 0
