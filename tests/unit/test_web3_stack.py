"""Our connections' web3 middleware: web3's checks kept, the chain id asked only when it matters."""

from __future__ import annotations

import pytest
from web3.exceptions import ExtraDataLengthError, Web3ValidationError

from loyalty_chain.chain import Chain
from loyalty_chain.web3_stack import ChainIdCheck


def test_the_stack_has_the_chain_id_check_and_no_ens_names(chain: Chain) -> None:
    names = [name for _, name in chain.w3.middleware_onion.middleware]
    assert "ens_name_to_address" not in names
    assert dict((n, m) for m, n in chain.w3.middleware_onion.middleware)["validation"] is ChainIdCheck
    assert names == ["gas_price_strategy", "attrdict", "validation", "gas_estimate"]


def test_a_call_without_a_chain_id_does_not_ask_for_one(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = chain.w3.provider
    asked: list[str] = []
    make_request = provider.make_request
    monkeypatch.setattr(provider, "make_request", lambda m, p: asked.append(m) or make_request(m, p))
    monkeypatch.setattr(provider, "_request_func_cache", (None, None))  # web3 rebuilds it around ours
    sender = chain.dev_accounts[0].address
    for _ in range(3):
        chain.w3.eth.call({"from": sender, "to": sender, "data": "0x"})
        chain.w3.eth.estimate_gas({"from": sender, "to": sender, "value": 1})
    assert asked.count("eth_call") == 3 and asked.count("eth_estimateGas") == 3
    assert "eth_chainId" not in asked  # web3's own validation asks before each of the six


def test_a_declared_chain_id_must_be_the_nodes(chain: Chain) -> None:
    sender = chain.dev_accounts[0].address
    tx = {"from": sender, "to": sender, "value": 1}
    assert chain.w3.eth.estimate_gas({**tx, "chainId": chain.chain_id}) == 21_000
    with pytest.raises(Web3ValidationError, match="declared chain ID 1, but the connected node is on 31337"):
        chain.w3.eth.estimate_gas({**tx, "chainId": 1})
    with pytest.raises(Web3ValidationError, match="declared chain ID 5"):
        chain.w3.eth.call({**tx, "chainId": "0x5"})


def test_a_proof_of_authority_block_is_refused_as_web3_does() -> None:
    check = ChainIdCheck(None)  # type: ignore[arg-type]  # answers are checked without the node
    long_extra = "0x" + "ab" * 97  # a clique block's vanity + signature
    with pytest.raises(ExtraDataLengthError, match="97 bytes"):
        check.response_processor("eth_getBlockByNumber", {"result": {"extraData": long_extra}})  # type: ignore[arg-type]
    ok = {"result": {"extraData": "0x" + "ab" * 32}}
    assert check.response_processor("eth_getBlockByNumber", ok) is ok  # type: ignore[arg-type]
    assert check.response_processor("eth_getBlockByNumber", {"result": None}) == {"result": None}  # type: ignore[arg-type]
