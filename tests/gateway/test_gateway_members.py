"""Members' side over HTTP: the card and why each perk can or cannot be redeemed, the catalog, and a
gasless redemption end to end within the relay policy."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from support.gateway_relays import store_relay

from loyalty_chain.chain import Chain
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import NeverMinedError
from loyalty_chain.gasless import sign_typed_data
from loyalty_chain.gateway import Gateway, RelayPolicy, SqliteStore, create_app
from loyalty_chain.gateway.relay_admission import refusal
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


def test_relays_stored_together_go_out_in_one_group(chain: Chain, gateway: Gateway) -> None:
    """Relays stored while a group is being sent wait, then leave together in the next one."""
    brand, relayer = gateway.client, gateway.relayer
    members = [chain.dev_account(i) for i in range(1, 5)]
    brand.enroll_many([(m.address, 0) for m in members])
    brand.issue_many([(m.address, 100) for m in members], "welcome")
    brand.add_perk(PerkSpec("Free latte", price=10))
    ids = [store_relay(gateway, member, 1) for member in members]
    assert relayer.run_once() == len(members)
    assert gateway.store.query("SELECT state, COUNT(*) FROM relay_groups GROUP BY state") == [("settled", 1)]
    rows = gateway.store.query("SELECT status, tx_hash FROM redemptions ORDER BY id")
    assert {s for s, _ in rows} == {"relayed"} and len({h for _, h in rows}) == 1  # one batch relay
    assert [relayer.relay(rid, wait_s=0) for rid in ids] == ["relayed"] * len(members)
    assert [brand.balance(m.address) for m in members] == [90] * len(members)
    assert relayer.run_once() == 0  # nothing left: nothing sent again


def test_a_bad_relay_in_a_batch_fails_alone(chain: Chain, gateway: Gateway) -> None:
    """A member that cancels its signed request after it was admitted: that item is skipped on chain
    (RedemptionSkipped) and recorded failed with the catalog's error; the others are relayed."""
    brand, relayer = gateway.client, gateway.relayer
    members = [chain.dev_account(i) for i in range(1, 4)]
    brand.enroll_many([(m.address, 0) for m in members])
    brand.issue_many([(m.address, 100) for m in members], "welcome")
    brand.add_perk(PerkSpec("Free latte", price=10))
    ids = [store_relay(gateway, member, 1) for member in members]
    LoyaltyClient(chain, brand.record, members[1]).cancel_requests()
    assert relayer.run_once() == len(members)
    status = dict(gateway.store.query("SELECT id, status FROM redemptions"))
    assert [status[rid] for rid in ids] == ["relayed", "failed", "relayed"]
    (error,) = gateway.store.query_one("SELECT error FROM redemptions WHERE id = ?", (ids[1],))
    assert "CatalogInvalidSignature" in str(error)
    assert [brand.balance(m.address) for m in members] == [90, 100, 90]


def test_a_relay_never_mined_waits_again_and_is_relayed_once(chain: Chain, gateway: Gateway) -> None:
    """Its batch transaction's nonce mined another transaction (another gateway process sending from
    the same account): nothing happened, so the relay goes into a later group instead of failing."""
    brand, relayer = gateway.client, gateway.relayer
    members = [chain.dev_account(i) for i in range(1, 3)]
    brand.enroll_many([(m.address, 0) for m in members])
    brand.issue_many([(m.address, 100) for m in members], "welcome")
    brand.add_perk(PerkSpec("Free latte", price=10))
    ids = [store_relay(gateway, member, 1) for member in members]
    relayer._form_groups()
    (group_id,) = gateway.store.query_one("SELECT id FROM relay_groups WHERE state = 'pending'")
    lost = NeverMinedError("nonce 9 was used by another transaction")
    assert relayer._settle(int(group_id), ids, [lost, RuntimeError("the item ran out of gas")]) == 1
    status = dict(gateway.store.query("SELECT id, status FROM redemptions"))
    assert [status[rid] for rid in ids] == ["relaying", "failed"]
    assert relayer.run_once() == 1  # the first one, in a new group
    assert relayer.run_once() == 0
    status = dict(gateway.store.query("SELECT id, status FROM redemptions"))
    assert [status[rid] for rid in ids] == ["relayed", "failed"]
    assert [brand.balance(m.address) for m in members] == [90, 100]


def test_the_relays_per_second_limit_is_counted_in_the_store(
    chain: Chain, make_gateway: Callable[..., Gateway]
) -> None:
    gw = make_gateway(policy=RelayPolicy(global_per_second=2))
    members = [chain.dev_account(i) for i in range(1, 4)]
    gw.client.enroll_many([(m.address, 0) for m in members])
    gw.client.issue_many([(m.address, 100) for m in members], "welcome")
    gw.client.add_perk(PerkSpec("Free latte", price=10))
    for member in members[:2]:
        store_relay(gw, member, 1)
    other = SqliteStore(gw.store.path)  # what another process on the same database sees
    try:
        now = time.time()
        refused = refusal(other.query_one, gw.options.policy, members[2].address, "sig", 0, now)
        assert refused is not None and refused.status == 429 and "per second" in refused.message
        assert refusal(other.query_one, gw.options.policy, members[2].address, "sig", 0, now + 1.5) is None
    finally:
        other.close()


def test_prefer_respond_async_answers_once_the_relay_is_stored(
    chain: Chain, gateway: Gateway, http: TestClient
) -> None:
    alice = setup_member(chain, gateway)
    typed = http.post("/v1/redemptions/requests", json={"member": alice, "perk_id": 1}).json()["typed_data"]
    body = {"typed_data": typed, "signature": sign_typed_data(chain.dev_account(5), typed)}
    stored = http.post("/v1/redemptions", json=body, headers={"Prefer": "respond-async"})
    assert stored.status_code == 202, stored.text
    assert stored.json()["status"] == "relaying" and stored.headers["Preference-Applied"] == "respond-async"
    assert gateway.client.balance(alice) == 300  # not sent yet (no background thread in this test)
    assert gateway.relayer.run_once() == 1
    done = http.get(stored.headers["Location"]).json()
    assert done["status"] == "relayed" and done["points_burned"] == 120
    assert gateway.client.balance(alice) == 180
