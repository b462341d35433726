"""Back office over HTTP: idempotent events, earn rules, API keys, bad input, the worker issuing once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from loyalty_chain.chain import Chain
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.delivery.signing import calldata
from loyalty_chain.errors import InputError, NeverMinedError
from loyalty_chain.gateway import Gateway, WorkerOptions, create_app, create_key
from loyalty_chain.gateway.issuing import issue_batch_data, packed
from loyalty_chain.values import reason_code


def purchase(event_id: str, member: str, value: str = "12.50", **extra: object) -> dict[str, object]:
    return {"id": event_id, "type": "purchase", "member": member, "value": value, "currency": "EUR", **extra}


def bad_checksum(address: str) -> str:
    i = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1 :]


def test_the_same_event_id_is_stored_once_and_issued_once(
    chain: Chain, gateway: Gateway, http: TestClient, api_key: dict[str, str]
) -> None:
    alice = chain.dev_account(1).address
    first = http.post("/v1/events", json=purchase("order-1", alice), headers=api_key)
    assert first.status_code == 202, first.text
    assert first.json() == {
        "id": "order-1",
        "status": "accepted",
        "points": 125,
        "why": None,
        "url": "/v1/events/order-1",
    }
    again = http.post("/v1/events", json=purchase("order-1", alice), headers=api_key)
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = http.post("/v1/events", json=purchase("order-1", alice, value="99"), headers=api_key)
    assert other.status_code == 409 and other.json()["error"]["field"] == "id"

    assert gateway.worker.run_once() == 1
    assert gateway.worker.run_once() == 0
    assert gateway.client.balance(alice) == 125
    status = http.get("/v1/events/order-1", headers=api_key).json()
    assert status["status"] == "issued" and status["points"] == 125
    assert len(status["tx_hashes"]) == 1 and status["tx_hashes"][0].startswith("0x")

    # posted again after issuing: the first answer, and nothing more on chain
    assert http.post("/v1/events", json=purchase("order-1", alice), headers=api_key).json() == first.json()
    assert gateway.worker.run_once() == 0
    assert gateway.client.balance(alice) == 125
    assert http.get("/v1/events/nope", headers=api_key).status_code == 404


def test_many_events_go_out_in_one_batch(
    chain: Chain, gateway: Gateway, http: TestClient, api_key: dict[str, str]
) -> None:
    members = [chain.dev_account(i).address for i in range(1, 6)]
    for i in range(40):
        r = http.post("/v1/events", json=purchase(f"o-{i}", members[i % 5], value="1"), headers=api_key)
        assert r.status_code == 202
    before = chain.w3.eth.block_number
    assert gateway.worker.run_once() == 40
    assert chain.w3.eth.block_number - before == 1  # one issueBatch transaction
    assert [gateway.client.balance(m) for m in members] == [80] * 5
    hashes = {tuple(http.get(f"/v1/events/o-{i}", headers=api_key).json()["tx_hashes"]) for i in range(40)}
    assert len(hashes) == 1


def test_a_batch_sends_its_transactions_together(chain: Chain, make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(worker=WorkerOptions(batch_size=4, txs_per_batch=3))
    members = [chain.dev_account(i).address for i in range(1, 6)]
    with TestClient(create_app(gateway, background=False)) as http:
        key = {"Authorization": f"Bearer {create_key(gateway.store, 'shop')}"}
        for i in range(10):
            r = http.post("/v1/events", json=purchase(f"t-{i}", members[i % 5], value="1"), headers=key)
            assert r.status_code == 202
        assert gateway.worker.run_once() == 10
        hashes = [http.get(f"/v1/events/t-{i}", headers=key).json()["tx_hashes"] for i in range(10)]
    assert [len(h) for h in hashes] == [1] * 10
    assert [h[0] for h in hashes] == [hashes[0][0]] * 4 + [hashes[4][0]] * 4 + [hashes[8][0]] * 2
    assert len({h[0] for h in hashes}) == 3  # 4 + 4 + 2 grants, one batch of three transactions
    assert [gateway.client.balance(m) for m in members] == [20] * 5
    (batches,) = gateway.store.query_one("SELECT COUNT(*) FROM batches")
    assert batches == 1


def test_issue_batch_calldata_is_what_the_abi_encoder_makes(gateway: Gateway) -> None:
    member = gateway.client.sender.address
    code = reason_code("purchase")
    words = [packed(member, 5), packed(member.lower(), 2**96 - 1, 1), (1 << 255) | 7, 0]
    call = gateway.client.points.functions.issueBatch(words, code)
    assert issue_batch_data(calldata(call)[:4], words, code) == calldata(call)
    assert words[0] == (int(member, 16) << 96) | 5
    with pytest.raises(InputError, match="recipient #3"):
        packed("0x1234", 1, 2)
    with pytest.raises(InputError, match="amount #1"):
        packed(member, 2**96)


def test_batches_are_pipelined_and_each_is_settled_once(
    chain: Chain, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(worker=WorkerOptions(batch_size=2, txs_per_batch=1, pipeline=3))
    members = [chain.dev_account(i).address for i in range(1, 6)]
    with TestClient(create_app(gateway, background=False)) as http:
        key = {"Authorization": f"Bearer {create_key(gateway.store, 'shop')}"}
        for i in range(10):
            r = http.post("/v1/events", json=purchase(f"p-{i}", members[i % 5], value="1"), headers=key)
            assert r.status_code == 202
        assert gateway.worker.run_once() == 10
        assert gateway.worker.run_once() == 0  # nothing sent twice
        hashes = [http.get(f"/v1/events/p-{i}", headers=key).json()["tx_hashes"] for i in range(10)]
    assert len({h[0] for h in hashes}) == 5  # five batches of one transaction of two grants
    assert [gateway.client.balance(m) for m in members] == [20] * 5
    states = gateway.store.query("SELECT state, COUNT(*) FROM batches GROUP BY state")
    assert states == [("issued", 5)]
    webhooks_before = gateway.store.query("SELECT COUNT(*) FROM webhooks")
    # another process that sent a batch again under its key settles nothing a second time
    (batch_id,) = gateway.store.query_one("SELECT MIN(id) FROM batches")
    assert gateway.worker._settle(int(batch_id), [1, 2], 2, [RuntimeError("late")]) == 0
    assert gateway.store.query("SELECT COUNT(*) FROM webhooks") == webhooks_before
    assert gateway.store.query("SELECT state, COUNT(*) FROM batches GROUP BY state") == [("issued", 5)]


def test_a_transaction_never_mined_puts_its_grants_back_and_they_are_issued_once(
    chain: Chain, make_gateway: Callable[..., Gateway]
) -> None:
    """Its nonce mined another transaction (another gateway process sending from the same account):
    nothing it carried happened, so its events are neither failed nor issued; a later batch issues them."""
    gateway = make_gateway(worker=WorkerOptions(batch_size=2, txs_per_batch=2, pipeline=1))
    members = [chain.dev_account(i).address for i in range(1, 5)]
    with TestClient(create_app(gateway, background=False)) as http:
        key = {"Authorization": f"Bearer {create_key(gateway.store, 'shop')}"}
        for i, member in enumerate(members):
            assert (
                http.post("/v1/events", json=purchase(f"n-{i}", member, value="1"), headers=key).status_code
                == 202
            )
        gateway.worker._form_batches()
        (batch_id, chunk) = gateway.store.query_one("SELECT id, chunk FROM batches WHERE state = 'pending'")
        ids = [
            int(i)
            for (i,) in gateway.store.query(
                "SELECT id FROM grants WHERE batch_id = ? ORDER BY id", (batch_id,)
            )
        ]
        assert (int(chunk), len(ids)) == (2, 4)
        issued = gateway.worker._settle(
            int(batch_id),
            ids,
            2,
            [NeverMinedError("nonce 7 was used by another transaction"), RuntimeError("x")],
        )
        assert issued == 0
        assert gateway.store.query("SELECT status, COUNT(*) FROM grants GROUP BY status ORDER BY status") == [
            ("failed", 2),
            ("pending", 2),
        ]
        assert http.get("/v1/events/n-0", headers=key).json()["status"] == "accepted"  # waits, not failed
        assert http.get("/v1/events/n-2", headers=key).json()["status"] == "failed"  # the other error
        assert gateway.worker.run_once() == 2  # the two put back, in a new batch under a new key
        assert gateway.worker.run_once() == 0
        assert [http.get(f"/v1/events/n-{i}", headers=key).json()["status"] for i in (0, 1)] == ["issued"] * 2
    assert [gateway.client.balance(m) for m in members] == [10, 10, 0, 0]
    states = dict(gateway.store.query("SELECT state, COUNT(*) FROM batches GROUP BY state"))
    assert states == {"failed": 1, "issued": 1}


def test_earn_rules_signup_birthday_referral_cap_and_tier(
    chain: Chain, gateway: Gateway, http: TestClient, api_key: dict[str, str]
) -> None:
    alice, bob, carol = (chain.dev_account(i).address for i in (1, 2, 3))
    LoyaltyClient(chain, gateway.client.record, chain.dev_account(0)).enroll(carol, "Silver")

    def post(body: dict[str, object]) -> dict[str, object]:
        r = http.post("/v1/events", json=body, headers=api_key)
        assert r.status_code in (200, 202), r.text
        return dict(r.json())

    assert post({"id": "s1", "type": "signup", "member": alice})["points"] == 50
    assert post({"id": "s2", "type": "signup", "member": alice})["status"] == "rejected"
    when = "2026-03-01T10:00:00Z"
    assert post({"id": "b1", "type": "birthday", "member": alice, "occurred_at": when})["points"] == 100
    b2 = post({"id": "b2", "type": "birthday", "member": alice, "occurred_at": "2026-09-01T10:00:00Z"})
    assert b2["status"] == "rejected" and "2026" in str(b2["why"])
    assert (
        post({"id": "b3", "type": "birthday", "member": alice, "occurred_at": "2027-03-01T10:00:00Z"})[
            "points"
        ]
        == 100
    )
    # referral: nothing until bob's first purchase, then both sides
    ref = post({"id": "r1", "type": "referral", "member": alice, "referee": bob})
    assert ref["status"] == "accepted" and ref["points"] == 0 and "first purchase" in str(ref["why"])
    assert post(purchase("p1", bob, value="1"))["points"] == 10 + 200 + 200
    assert post(purchase("p2", bob, value="1"))["points"] == 10
    assert post({"id": "r2", "type": "referral", "member": carol, "referee": bob})["status"] == "rejected"
    # tier multiplier (Silver 1.5) and the monthly cap of 5000
    assert post(purchase("p3", carol, value="10"))["points"] == 150
    capped = post(purchase("p4", carol, value="1000"))
    assert capped["points"] == 5000 - 150 and "capped" in str(capped["why"])
    assert post(purchase("p5", carol, value="1"))["status"] == "rejected"
    assert post(purchase("p6", carol, value="1", currency="JPY"))["status"] == "rejected"

    gateway.worker.run_once()
    assert gateway.client.balance(alice) == 50 + 100 + 100 + 200
    assert gateway.client.balance(bob) == 200 + 10 + 10
    assert gateway.client.balance(carol) == 5000


def test_api_keys_and_scopes(gateway: Gateway, http: TestClient) -> None:
    from loyalty_chain.gateway import create_key

    body = {"id": "x", "type": "signup", "member": "0x" + "11" * 20}
    missing = http.post("/v1/events", json=body)
    assert missing.status_code == 401 and missing.json()["error"]["field"] == "authorization"
    wrong = http.post("/v1/events", json=body, headers={"Authorization": "Bearer lcg_nope"})
    assert wrong.status_code == 401
    reader = create_key(gateway.store, "reader", ("events:read",))
    assert len(reader) >= 36
    denied = http.post("/v1/events", json=body, headers={"Authorization": f"Bearer {reader}"})
    assert denied.status_code == 403 and "events:write" in denied.json()["error"]["message"]
    stored = gateway.store.query("SELECT hash FROM api_keys")
    assert all(reader not in str(row[0]) for row in stored)  # only hashes are kept


def test_bad_input_is_a_4xx_naming_the_field(chain: Chain, http: TestClient, api_key: dict[str, str]) -> None:
    alice = chain.dev_account(1).address
    headers = {**api_key, "Content-Type": "application/json"}
    malformed = http.post("/v1/events", content=b"{not json", headers=headers)
    assert malformed.status_code == 422
    cases = {
        "surprise": {**purchase("e1", alice), "surprise": 1},
        "member": purchase("e1", bad_checksum(alice)),
        "value": purchase("e1", alice, value="-5"),
        "points": {"id": "e1", "type": "custom", "member": alice, "points": 2**100},
        "id": purchase("bad id with spaces", alice),
    }
    for field, body in cases.items():
        r = http.post("/v1/events", json=body, headers=api_key)
        assert r.status_code == 422, (field, r.text)
        assert field in r.json()["error"]["field"], (field, r.json())
    huge = http.post("/v1/events", content=b"{" + b" " * 100_000 + b"}", headers=headers)
    assert huge.status_code == 413 and huge.json()["error"]["field"] == "body"
    assert http.get("/v1/members/0x1234").status_code == 422


def test_health_metrics_and_openapi(http: TestClient, api_key: dict[str, str], chain: Chain) -> None:
    assert http.get("/healthz").json()["ok"] is True
    http.post("/v1/events", json=purchase("m1", chain.dev_account(1).address), headers=api_key)
    metrics = http.get("/metrics").text
    assert "loyalty_gateway_events_accepted 1" in metrics
    paths = http.get("/openapi.json").json()["paths"]
    assert {
        "/v1/events",
        "/v1/events/{event_id}",
        "/v1/members/{address}",
        "/v1/perks",
        "/v1/redemptions/requests",
        "/v1/redemptions",
        "/v1/redemptions/{redemption_id}",
    } <= set(paths)
    assert http.get("/docs").status_code == 200


def test_a_batch_of_events_each_with_its_own_answer(
    chain: Chain, gateway: Gateway, http: TestClient, api_key: dict[str, str]
) -> None:
    alice, bob = chain.dev_account(1).address, chain.dev_account(2).address
    assert http.post("/v1/events", json=purchase("order-1", alice), headers=api_key).status_code == 202
    events = [
        purchase("order-2", alice),
        purchase("order-1", alice),  # posted before, same body: replayed
        purchase("order-1", alice, value="99"),  # posted before, another body
        purchase("order-3", bad_checksum(bob)),
        purchase("order-4", bob, value="1"),
        purchase("order-4", bob, value="1"),  # twice in one batch: stored once
        {"id": "signup-bob", "type": "signup", "member": bob},
    ]
    answer = http.post("/v1/events/batch", json={"events": events}, headers=api_key)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [202, 202, 409, 422, 202, 202, 202]
    assert results[0]["body"]["points"] == 125 and results[0]["body"]["url"] == "/v1/events/order-2"
    assert results[1].get("replayed") and results[5].get("replayed") and not results[4].get("replayed")
    assert results[2]["body"]["error"]["field"] == "id"
    assert results[3]["body"]["error"]["field"] == "events.3.member"
    assert gateway.worker.run_once() == 4  # order-1, order-2, order-4, signup-bob
    assert gateway.client.balance(alice) == 250 and gateway.client.balance(bob) == 10 + 50
    assert http.post("/v1/events/batch", json={"events": []}, headers=api_key).status_code == 422
    assert http.post("/v1/events/batch", json={"events": events}).status_code == 401
    many = {"events": [purchase(f"o-{i}", alice) for i in range(1001)]}
    assert http.post("/v1/events/batch", json=many, headers=api_key).status_code in (413, 422)
