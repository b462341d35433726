"""A relay's simulation with a gas hint: an ``eth_call`` at the hinted limit instead of
``eth_estimateGas`` when the relay runs within it, the usual estimate and checks when it does not
(more gas needed, a revert, a hint above the ceiling), and the gateway learning the hint per perk
and timing each admission's stages."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from loyalty_chain.chain import Chain
from loyalty_chain.errors import LoyaltyChainError, RelayRefusedError
from loyalty_chain.gasless import parse_request, sign_typed_data
from loyalty_chain.gateway import Gateway
from loyalty_chain.records import PerkSpec
from loyalty_chain.relay_policy import PreparedRelay, RelayPolicy, RpcCalls, prepare_relay


def members(chain: Chain, gateway: Gateway, count: int) -> list[LocalAccount]:
    accounts = [chain.dev_account(i) for i in range(1, 1 + count)]
    gateway.client.enroll_many([(a.address, 0) for a in accounts])
    gateway.client.issue_many([(a.address, 100) for a in accounts], "welcome")
    gateway.client.add_perk(PerkSpec("Free latte", price=10))
    gateway.client.add_perk(PerkSpec("Espresso machine", price=10_000))
    return accounts


def test_a_hint_the_relay_runs_within_replaces_the_estimate(chain: Chain, gateway: Gateway) -> None:
    (alice,) = members(chain, gateway, 1)
    sender, catalog = gateway.client.sender, gateway.client.catalog
    sent: list[list[str]] = []

    def read(calls: RpcCalls) -> list[dict[str, Any]]:
        sent.append([method for method, _ in calls])
        return sender.chain.batch(calls)

    def prepare(hint: int | None, perk_id: int = 1, policy: RelayPolicy | None = None) -> PreparedRelay:
        typed = gateway.client.redemption_request(alice.address, perk_id)
        request, signature = parse_request(typed), sign_typed_data(alice, typed)
        return prepare_relay(
            sender, catalog, request, signature, policy or RelayPolicy(), read=read, gas_hint=hint
        )

    usual = prepare(None).gas  # the estimate with its margin
    assert sent[-1][-1] == "eth_estimateGas" and 21_000 < usual < 300_000
    assert prepare(usual + 5_000).gas == usual + 5_000  # ran within it: sent with the hint
    assert sent[-1][-1] == "eth_call" and len(sent) == 2
    # a hint the relay does not run within: estimated the usual way, the usual limit
    assert prepare(usual // 3).gas == usual
    # a hint above the ceiling is capped at it: a relay needing more is refused, naming the ceiling
    with pytest.raises(RelayRefusedError, match="ceiling of"):
        prepare(1_000_000, policy=RelayPolicy(max_gas=usual // 2))
    # a revert (points short): the same decoded error with a hint as without
    with pytest.raises(LoyaltyChainError) as without:
        prepare(None, perk_id=2)
    with pytest.raises(LoyaltyChainError) as hinted:
        prepare(usual, perk_id=2)
    assert type(hinted.value) is type(without.value) and str(hinted.value) == str(without.value)
    assert "Insufficient" in str(without.value) or "balance" in str(without.value).lower()


def test_the_gateway_learns_each_perks_gas_from_its_first_relay(
    chain: Chain, gateway: Gateway, http: TestClient
) -> None:
    accounts = members(chain, gateway, 3)
    for account in accounts:
        typed = http.post("/v1/redemptions/requests", json={"member": account.address, "perk_id": 1})
        body = {
            "typed_data": typed.json()["typed_data"],
            "signature": sign_typed_data(account, typed.json()["typed_data"]),
        }
        answer = http.post("/v1/redemptions", json=body, headers={"Prefer": "respond-async"})
        assert answer.status_code == 202, answer.text
    gas = [g for (g,) in gateway.store.query("SELECT gas FROM relays")]
    assert gateway.relay_gas_hints == {(1, 1): gas[0]} and set(gas) == {gas[0]}
    assert gateway.relayer.run_once() == 3
    assert [gateway.client.balance(a.address) for a in accounts] == [90, 90, 90]
    assert gateway.store.query("SELECT DISTINCT status FROM redemptions") == [("relayed",)]
    # where the admissions' time went: three of each stage in /metrics
    metrics = http.get("/metrics").text
    for stage in ("admit.slot", "admit.check", "admit.node", "admit.store", "admit.answer"):
        assert f'loyalty_gateway_span_count{{stage="{stage}"}} 3.000000' in metrics, stage
    assert 'loyalty_gateway_span_wall_seconds{stage="relay.start"}' in metrics
