"""Members' side over HTTP: the card and why each perk can or cannot be redeemed, the catalog, and a
gasless redemption end to end within the relay policy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from loyalty_chain.chain import Chain
from loyalty_chain.gasless import relay_call, sign_typed_data
from loyalty_chain.gateway import Gateway, RelayPolicy, create_app
from loyalty_chain.records import PerkSpec


def setup_member(chain: Chain, gateway: Gateway) -> str:
    brand = gateway.client
    alice = chain.dev_account(5).address
    brand.enroll(alice, "Silver")
    brand.issue(alice, 300, "welcome")
    brand.add_perk(PerkSpec("Free latte", price=120, per_wallet=2))
    brand.add_perk(PerkSpec("Gold lounge", price=50, min_tier=2))
    brand.add_perk(PerkSpec("Espresso machine", price=10_000, stock=1))
    return alice


def test_member_card_and_eligibility_reasons(chain: Chain, gateway: Gateway, http: TestClient) -> None:
    alice = setup_member(chain, gateway)
    member = http.get(f"/v1/members/{alice}").json()
    assert member["balance"] == 300 and member["card"]["tier"] == "Silver" and member["card"]["active"]
    perks = {p["perk_id"]: p for p in member["perks"]}
    assert perks[1]["can_redeem"] and perks[1]["why_not"] == []
    assert [r["code"] for r in perks[2]["why_not"]] == ["tier"]
    assert [r["code"] for r in perks[3]["why_not"]] == ["balance"]
    stranger = http.get(f"/v1/members/{chain.dev_account(6).address}").json()
    assert stranger["card"] is None
    assert {r["code"] for r in stranger["perks"][0]["why_not"]} == {"card", "balance"}

    catalog = http.get("/v1/perks").json()
    assert catalog[0]["title"] == "Free latte" and catalog[0]["description"] == "A latte of any size"
    assert catalog[0]["image"].startswith("https://") and catalog[0]["per_member"] == 2
    assert catalog[2]["stock"] == 1 and catalog[2]["left"] == 1 and catalog[1]["min_tier"] == "Gold"
    assert (
        http.get("/v1/perks", headers={"Origin": "https://wallet.example"}).headers[
            "access-control-allow-origin"
        ]
        == "*"
    )


def test_gasless_redemption_end_to_end(chain: Chain, gateway: Gateway, http: TestClient) -> None:
    alice_key = chain.dev_account(5)
    alice = setup_member(chain, gateway)
    refused = http.post("/v1/redemptions/requests", json={"member": alice, "perk_id": 2})
    assert refused.status_code == 409 and refused.json()["error"]["why_not"][0]["code"] == "tier"
    assert http.post("/v1/redemptions/requests", json={"member": alice, "perk_id": 99}).status_code == 404

    typed = http.post("/v1/redemptions/requests", json={"member": alice, "perk_id": 1}).json()["typed_data"]
    assert typed["primaryType"] and "EIP712Domain" in typed["types"]
    signature = sign_typed_data(alice_key, typed)
    done = http.post("/v1/redemptions", json={"typed_data": typed, "signature": signature})
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["status"] == "relayed" and body["points_burned"] == 120 and body["tx_hash"].startswith("0x")
    assert gateway.client.balance(alice) == 180
    assert http.get(f"/v1/redemptions/{body['id']}").json() == body
    assert http.get("/v1/redemptions/abc123").status_code == 404

    replay = http.post("/v1/redemptions", json={"typed_data": typed, "signature": signature})
    assert replay.status_code == 409 and replay.json()["error"]["field"] == "signature"
    # a request signed by someone else, and one past its deadline
    fresh = http.post("/v1/redemptions/requests", json={"member": alice, "perk_id": 1}).json()["typed_data"]
    forged = http.post(
        "/v1/redemptions",
        json={"typed_data": fresh, "signature": sign_typed_data(chain.dev_account(6), fresh)},
    )
    assert forged.status_code == 422 and forged.json()["error"]["field"] == "signature"
    old = {**fresh, "message": {**fresh["message"], "deadline": 1}}
    expired = http.post(
        "/v1/redemptions", json={"typed_data": old, "signature": sign_typed_data(alice_key, old)}
    )
    assert expired.status_code == 422 and "expired" in expired.json()["error"]["message"]
    assert gateway.store.query("SELECT type FROM webhooks") == [("redemption.relayed",)]


def test_relay_policy_refusals(chain: Chain, make_gateway: Callable[..., Gateway]) -> None:
    gw = make_gateway(policy=RelayPolicy(per_member_per_hour=1, gas_ceiling=1_000_000))
    alice_key = chain.dev_account(5)
    alice = setup_member(chain, gw)
    with TestClient(create_app(gw, background=False)) as http:

        def relay() -> dict[str, object]:
            typed = http.post("/v1/redemptions/requests", json={"member": alice, "perk_id": 1}).json()[
                "typed_data"
            ]
            r = http.post(
                "/v1/redemptions", json={"typed_data": typed, "signature": sign_typed_data(alice_key, typed)}
            )
            return {"http": r.status_code, **r.json()}

        assert relay()["http"] == 201
        limited = relay()
        assert limited["http"] == 429 and "per member" in str(limited["error"])
        # members with code: refused unless allowed
        contract = gw.client.points.address
        typed = gw.client.redemption_request(contract, 1)
        r = http.post("/v1/redemptions", json={"typed_data": typed, "signature": "0x" + "11" * 64 + "1b"})
        assert r.status_code == 403 and r.json()["error"]["field"] == "member"

    tight = make_gateway(policy=RelayPolicy(gas_ceiling=21_000))
    with TestClient(create_app(tight, background=False)) as http:
        typed = http.post("/v1/redemptions/requests", json={"member": alice, "perk_id": 1}).json()[
            "typed_data"
        ]
        r = http.post(
            "/v1/redemptions", json={"typed_data": typed, "signature": sign_typed_data(alice_key, typed)}
        )
        assert r.status_code == 403 and "ceiling" in r.json()["error"]["message"]


def test_relays_waiting_together_go_out_in_one_group(chain: Chain, gateway: Gateway) -> None:
    """Relays that arrive while a group is being sent wait, then leave together in the next one."""
    brand, relayer = gateway.client, gateway.relayer
    members = [chain.dev_account(i) for i in range(1, 5)]
    brand.enroll_many([(m.address, 0) for m in members])
    brand.issue_many([(m.address, 100) for m in members], "welcome")
    brand.add_perk(PerkSpec("Free latte", price=10))
    calls = []
    for member in members:
        typed = brand.redemption_request(member.address, 1)
        call = relay_call(brand.catalog, typed, sign_typed_data(member, typed), relayer=brand.sender.address)
        calls.append((call, brand.sender.simulate(call) * 2))
    groups: list[int] = []
    send = relayer._send

    def counted(group: list[Any]) -> None:
        groups.append(len(group))
        send(group)

    relayer._send = counted  # type: ignore[method-assign]
    results: dict[int, Any] = {}

    def post(n: int) -> None:
        results[n] = relayer.relay(f"r{n}", *calls[n])

    with relayer._sending:  # a group "in flight": every relay posted now has to wait for it
        threads = [threading.Thread(target=post, args=(n,)) for n in range(len(calls))]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(relayer._waiting) < len(calls) and time.monotonic() < deadline:
            time.sleep(0.01)
    for t in threads:
        t.join(60)
    assert groups == [len(calls)]
    assert all(results[n].event("PerkRedeemed").args["member"] == m.address for n, m in enumerate(members))
    assert [brand.balance(m.address) for m in members] == [90] * len(members)
