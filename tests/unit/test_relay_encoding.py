"""The relay hot path computes by hand what the generic libraries compute: the EIP-712 digest, the
signer, EIP-55 checksums, the redeemWithSignature calldata and the batch's logs. Each is checked
here against the library it replaces, on random values."""

from __future__ import annotations

import random
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from loyalty_chain.artifacts import load_artifact
from loyalty_chain.decoding import ErrorDecoder
from loyalty_chain.delivery import TxResult
from loyalty_chain.delivery.signing import calldata
from loyalty_chain.errors import ContractRevertError, InputError
from loyalty_chain.gasless import (
    RedemptionRequest,
    checksummed,
    parse_request,
    recover_signer,
    request_signer,
    sign_typed_data,
    signature_bytes,
)
from loyalty_chain.gateway.relay_batch import (
    MAX_ITEMS,
    PERK_REDEEMED,
    REDEMPTION_SKIPPED,
    Relayed,
    batches,
    outcomes,
)
from loyalty_chain.relay_policy import decode_redeem_calldata, redeem_calldata, unchecked_relay_call

RNG = random.Random(11)
CATALOG = to_checksum_address("0x" + "ca" * 20)


def address() -> str:
    return to_checksum_address("0x" + RNG.randbytes(20).hex())


def random_request(member: str) -> RedemptionRequest:
    big = [2**256 - 1, 0, 1, 2**53 + 1, RNG.getrandbits(256), RNG.getrandbits(64)]
    return RedemptionRequest(
        chain_id=RNG.choice([1, 31337, 11155111, 2**64]),
        catalog=RNG.choice([CATALOG, address()]),
        member=member,
        relayer=RNG.choice([address(), "0x" + "00" * 20]),
        perk_id=RNG.choice(big),
        quantity=RNG.choice(big),
        max_cost=RNG.choice(big),
        nonce=RNG.choice(big),
        deadline=RNG.choice(big),
    )


def catalog() -> Any:
    return Web3().eth.contract(address=CATALOG, abi=load_artifact("PerkCatalog").abi)


def test_digest_and_signer_match_eth_account() -> None:
    for _ in range(40):
        key = Account.from_key(RNG.randbytes(32))
        request = random_request(key.address)
        typed = request.typed_data()
        assert request.digest() == _hash_eip191_message(encode_typed_data(full_message=typed))
        signature = sign_typed_data(key, typed)
        assert request_signer(request, signature_bytes(signature)) == key.address
        assert recover_signer(typed, signature) == key.address
        other = random_request(key.address)
        assert request_signer(other, signature_bytes(signature)) != key.address


def test_an_r_that_is_no_point_is_refused_as_before() -> None:
    request = random_request(address())
    # r = 5 is not the x coordinate of a secp256k1 point: no key made it
    bad = (5).to_bytes(32, "big") + (1).to_bytes(32, "big") + bytes([27])
    with pytest.raises(InputError, match="no key made it"):
        request_signer(request, bad)


def test_checksums_match_eth_utils() -> None:
    for _ in range(200):
        raw = "0x" + RNG.randbytes(20).hex()
        assert checksummed(raw, "x") == checksummed(raw.upper().replace("0X", "0x"), "x")
        assert checksummed(raw, "x") == to_checksum_address(raw)
    good = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55's own example
    typed = random_request(good).typed_data()
    typed["message"]["member"] = good.replace("E0F", "e0F")
    with pytest.raises(InputError, match="wrong EIP-55 checksum"):
        parse_request(typed)
    typed["message"]["member"] = good.lower()
    with pytest.raises(InputError, match=f"not EIP-55 checksummed; write it as {good}"):
        parse_request(typed)


def test_calldata_matches_web3_and_decodes_back() -> None:
    contract = catalog()
    for _ in range(20):
        request = random_request(address())
        signature = RNG.randbytes(65)
        data = redeem_calldata(request, signature)
        assert data == calldata(unchecked_relay_call(contract, request, signature))
        _, args = contract.decode_function_input(data)
        assert decode_redeem_calldata(data) == tuple(args.values())
    with pytest.raises(InputError, match="not redeemWithSignature"):
        decode_redeem_calldata(bytes(4) + data[4:])


def test_batch_calldata_matches_web3() -> None:
    contract = catalog()
    for count in (1, 2, 7, MAX_ITEMS + 3):
        items = [(random_request(address()), RNG.randbytes(65)) for _ in range(count)]
        stored = [("0x" + redeem_calldata(r, s).hex(), 120_000) for r, s in items]
        plan = batches(CATALOG, stored, 30_000_000)
        assert [b.size for b in plan] == [min(count, MAX_ITEMS), count - MAX_ITEMS][: len(plan)]
        at = 0
        for batch in plan:
            args = [decode_redeem_calldata(redeem_calldata(r, s)) for r, s in items[at : at + batch.size]]
            assert batch.data == calldata(contract.functions.redeemBatchWithSignature(args))
            assert batch.tx.to == CATALOG and batch.gas == 30_000 + 120_000 * batch.size
            at += batch.size
    bad = "0x" + (bytes(4) + redeem_calldata(random_request(address()), RNG.randbytes(65))[4:]).hex()
    with pytest.raises(InputError, match="not redeemWithSignature calldata"):
        batches(CATALOG, [(bad, 120_000)], 30_000_000)


def test_batch_outcomes_read_from_the_receipt_logs() -> None:
    contract = catalog()
    decoder = ErrorDecoder({"PerkCatalog": contract})
    member = address()
    word = bytes(12) + bytes.fromhex(member[2:])
    error = keccak(text="CatalogInvalidSignature(address,uint256)")[:4] + word + (3).to_bytes(32, "big")

    def log(topics: list[bytes], data: bytes, where: str = CATALOG) -> dict[str, Any]:
        hexed = ["0x" + t.hex() for t in topics]
        return {"address": where.lower(), "topics": hexed, "data": "0x" + data.hex()}

    def u(n: int) -> bytes:
        return n.to_bytes(32, "big")

    logs = (
        log([PERK_REDEEMED, u(7), u(1), word], u(1) + u(120)),
        log([REDEMPTION_SKIPPED, u(1), word], u(32) + u(len(error)) + error.ljust(96, b"\0")),
        log([PERK_REDEEMED, u(9), u(1), word], u(1) + u(120), where=address()),  # another contract
        log([PERK_REDEEMED, u(8), u(1), word], u(2) + u(240)),
        log([REDEMPTION_SKIPPED, u(3), word], u(32) + u(0)),  # out of gas: no revert data
    )
    result = TxResult("0xab", 5, 400_000, logs, decoder)
    each = outcomes(result, 4, decoder, CATALOG)
    assert each[0] == Relayed("0xab", 7, 120, 100_000)
    assert isinstance(each[1], ContractRevertError) and "CatalogInvalidSignature" in str(each[1])
    assert each[2] == Relayed("0xab", 8, 240, 100_000)
    assert isinstance(each[3], RuntimeError) and "out of gas" in str(each[3])
    failed = RuntimeError("refused")
    assert outcomes(failed, 2, decoder, CATALOG) == [failed, failed]
