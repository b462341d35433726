"""Small helpers for contract tests: send a call, read its events, check a revert's custom error."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError
from web3.logs import DISCARD
from web3.types import TxReceipt

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

TIERS = ["Bronze", "Silver", "Gold"]
BASE_URI = "ipfs://cards/"

ISSUER_ROLE = keccak(text="ISSUER_ROLE")
PAUSER_ROLE = keccak(text="PAUSER_ROLE")
REDEEMER_ROLE = keccak(text="REDEEMER_ROLE")
DEFAULT_ADMIN_ROLE = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20

# PerkCatalog's EIP-712 redemption, written out here as a wallet sees it (not taken from the library)
REDEMPTION_TYPES = {
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
}

# A receiver whose every call returns IERC721Receiver.onERC721Received.selector (0x150b7a02):
# runtime PUSH4 0x150b7a02 PUSH1 0xe0 SHL PUSH0 MSTORE PUSH1 0x20 PUSH0 RETURN, behind a 9-byte
# constructor that copies it out (PUSH1 len DUP1 PUSH1 9 PUSH0 CODECOPY PUSH0 RETURN).
ACCEPTING_RECEIVER_INITCODE = "0x600e8060095f395ff3" + "63150b7a0260e01b5f5260205ff3"
# A receiver that answers every call with 32 zero bytes (a wrong magic value): PUSH1 0x20 PUSH0 RETURN.
WRONG_MAGIC_RECEIVER_INITCODE = "0x60048060095f395ff3" + "60205ff3"
ACCEPTING_RUNTIME = "63150b7a0260e01b5f5260205ff3"
WRONG_MAGIC_RUNTIME = "60205ff3"


def consenting_receiver_initcode(card: str, runtime: str = ACCEPTING_RUNTIME) -> str:
    """Init code of a contract that agrees to receive a card (calls ``card.setAcceptsTransfer(true)``
    in its constructor) and then runs ``runtime`` (hex) for every call."""
    selector = keccak(text="setAcceptsTransfer(bool)")[:4].hex()
    constructor = (
        f"63{selector}60e01b5f52"  # PUSH4 selector, PUSH1 0xe0, SHL, PUSH0, MSTORE: mem[0:4] = selector
        "6001600452"  # PUSH1 1, PUSH1 4, MSTORE: mem[4:36] = true
        "5f5f60245f5f73" + card[2:].lower() + "5af150"  # CALL(gas, card, 0, 0, 0x24, 0, 0); POP
    )
    length = len(runtime) // 2
    head_len = len(constructor) // 2 + 9  # the copy-out below is 9 bytes
    copy_out = f"60{length:02x}8060{head_len:02x}5f395ff3"
    return "0x" + constructor + copy_out + runtime


def error_with(abis: list[dict[str, Any]], fn: Any, sender: LocalAccount) -> tuple[str, tuple[Any, ...]]:
    """The custom error ``fn`` reverts with when ``sender`` calls it, decoded with ``abis`` (every ABI
    an error can bubble up from)."""
    with pytest.raises(ContractCustomError) as info:
        fn.call({"from": sender.address})
    assert isinstance(info.value.data, str)
    return decode_error(abis, info.value.data)


def reverts_with(abis: list[dict[str, Any]], fn: Any, sender: LocalAccount, name: str, *values: Any) -> None:
    """``fn`` reverts with ``name(values…)``; addresses compare checksummed."""
    expected = tuple(to_checksum_address(v) if isinstance(v, str) and len(v) == 42 else v for v in values)
    assert error_with(abis, fn, sender) == (name, expected)


class Harness:
    """Mixed into a test's frozen dataclass of contracts: revert checks against all their ABIs."""

    @property
    def abis(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def error_of(self, fn: Any, sender: LocalAccount) -> tuple[str, tuple[Any, ...]]:
        return error_with(self.abis, fn, sender)

    def reverts(self, fn: Any, sender: LocalAccount, name: str, *values: Any) -> None:
        reverts_with(self.abis, fn, sender, name, *values)


def address_of(who: LocalAccount | str) -> str:
    return who if isinstance(who, str) else who.address


def send(fn: Any, sender: LocalAccount | str, **tx: Any) -> TxReceipt:
    """Send ``fn`` from an unlocked dev account; the transaction must succeed."""
    w3: Web3 = fn.w3
    tx_hash = fn.transact({"from": address_of(sender), **tx})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, f"{fn.fn_name} failed in {tx_hash.to_0x_hex()}"
    return receipt


def events(contract: Contract, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
    """The decoded ``name`` events ``contract`` emitted in ``receipt``, as plain dicts of their args."""
    logs = contract.events[name]().process_receipt(receipt, errors=DISCARD)
    return [dict(log["args"]) for log in logs if log["address"] == contract.address]


def decode_error(abi: list[dict[str, Any]], data: str) -> tuple[str, tuple[Any, ...]]:
    """The custom error (name, values) that revert ``data`` encodes, looked up in ``abi``."""
    raw = bytes.fromhex(data.removeprefix("0x"))
    for item in abi:
        if item.get("type") != "error":
            continue
        types = [inp["type"] for inp in item["inputs"]]
        if keccak(text=f"{item['name']}({','.join(types)})")[:4] == raw[:4]:
            values = decode(types, raw[4:])
            return item["name"], tuple(
                to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True)
            )
    raise AssertionError(f"revert data {data} matches no error in the ABI")


def revert_of(fn: Any, sender: LocalAccount | str) -> tuple[str, tuple[Any, ...]]:
    """The custom error (name, values) ``fn`` reverts with when called from ``sender``."""
    with pytest.raises(ContractCustomError) as info:
        fn.call({"from": address_of(sender)})
    data = info.value.data
    assert isinstance(data, str)
    return decode_error(fn.contract_abi, data)


def expect_revert(fn: Any, sender: LocalAccount | str, error: str, *args: Any) -> None:
    """``fn`` called from ``sender`` reverts with custom error ``error(*args)``."""
    expected = tuple(to_checksum_address(a) if _is_address(a) else a for a in args)
    assert revert_of(fn, sender) == (error, expected)


def deploy_revert_of(w3: Web3, abi: Any, bytecode: str, *args: Any) -> tuple[str, tuple[Any, ...]]:
    """The custom error (name, values) a deployment with constructor ``args`` reverts with."""
    sender = w3.eth.accounts[0]
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    tx = factory.constructor(*args).build_transaction({"from": sender, "gas": 10_000_000, "nonce": 0})
    with pytest.raises(ContractCustomError) as info:
        w3.eth.call({"from": sender, "data": tx["data"]})
    data = info.value.data
    assert isinstance(data, str)
    return decode_error(abi, data)


def expect_panic(fn: Any, sender: LocalAccount | str) -> None:
    with pytest.raises(ContractPanicError):
        fn.call({"from": address_of(sender)})


def expect_plain_revert(fn: Any, sender: LocalAccount | str) -> None:
    """``fn`` reverts without a custom error (e.g. a bubbled-up string)."""
    with pytest.raises(ContractLogicError):
        fn.call({"from": address_of(sender)})


def _is_address(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("0x") and len(value) == 42


def deploy_raw(w3: Web3, initcode: str, sender: LocalAccount | str) -> str:
    """Deploy raw init code; returns the new contract's address."""
    tx_hash = w3.eth.send_transaction({"from": address_of(sender), "data": initcode})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    address = receipt["contractAddress"]
    assert address is not None
    return str(address)


def set_next_timestamp(w3: Web3, timestamp: int) -> None:
    w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]


def mine(w3: Web3, timestamp: int | None = None) -> None:
    params = [timestamp] if timestamp is not None else []
    w3.provider.make_request("evm_mine", params)  # type: ignore[arg-type]


def now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def pack_issue(to: str, amount: int) -> int:
    """One ``issueBatch`` word: ``(uint160(to) << 96) | amount``."""
    assert 0 <= amount < 2**96
    return (int(to, 16) << 96) | amount


def pack_card(member: str, tier: int = 0, valid_until: int = 0) -> int:
    """One ``enrollBatch`` word: ``member | tier << 160 | validUntil << 168``."""
    return int(member, 16) | (tier << 160) | (valid_until << 168)


def fresh_accounts(count: int, seed: int = 0) -> list[str]:
    """``count`` deterministic addresses that hold nothing on a fresh devnet."""
    return [Account.from_key(keccak(text=f"fresh-{seed}-{i}")).address for i in range(count)]


def sign_permit(
    points: Contract,
    owner: LocalAccount,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
    chain_id: int,
    signer: LocalAccount | None = None,
) -> tuple[int, bytes, bytes]:
    """An EIP-2612 permit signature (v, r, s) for ``points`` (signed by ``signer``, default ``owner``)."""
    message = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": points.functions.name().call(),
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": points.address,
        },
        "message": {
            "owner": owner.address,
            "spender": spender,
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    }
    signed = (signer or owner).sign_typed_data(full_message=message)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def new_points(
    chain: Chain,
    artifacts: dict[str, Artifact],
    admin: LocalAccount,
    name: str = "Loyalty Points",
    symbol: str = "LP",
    decimals: int = 0,
    cap: int = 0,
    policy: int = 0,
    owner: str | None = None,
) -> Contract:
    """A LoyaltyPoints with the ``points`` fixture's defaults (see tests/contracts/conftest.py)."""
    args = (name, symbol, decimals, cap, policy, owner or admin.address)
    return deploy_contract(chain, artifacts["LoyaltyPoints"], *args, sender=admin)


def new_card(
    chain: Chain,
    artifacts: dict[str, Artifact],
    admin: LocalAccount,
    tiers: list[str] | None = None,
    soulbound: bool = False,
    base_uri: str = BASE_URI,
    owner: str | None = None,
) -> Contract:
    """A MembershipCard with the ``card`` fixture's defaults (see tests/contracts/conftest.py)."""
    tier_names = TIERS if tiers is None else tiers
    args = ("Loyalty Card", "LC", tier_names, soulbound, base_uri, owner or admin.address)
    return deploy_contract(chain, artifacts["MembershipCard"], *args, sender=admin)
