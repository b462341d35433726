"""The indexer's log decoder against web3's own event encoding: static and dynamic arguments,
indexed ones, integers too large for SQLite, and logs of unknown contracts or events."""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import keccak

from loyalty_chain.indexer import LogDecoder, event_specs, program_specs

TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
POINTS = "0x" + "11" * 20
CARD = "0x" + "22" * 20


def word(value: int) -> str:
    return "0x" + f"{value:064x}"


def topic_address(address: str) -> str:
    return "0x" + address[2:].rjust(64, "0")


def decoder() -> LogDecoder:
    return LogDecoder(program_specs(), {"LoyaltyPoints": POINTS, "MembershipCard": CARD})


def test_every_event_of_the_four_contracts_gets_a_table() -> None:
    tables = {spec.table for spec in program_specs()}
    assert {
        "LoyaltyPoints_Transfer",
        "LoyaltyPoints_PointsIssued",
        "MembershipCard_Transfer",
        "MembershipCard_MemberEnrolled",
        "PerkCatalog_PerkRedeemed",
        "AirdropDistributor_Claimed",
        "AirdropDistributor_CampaignClosed",
        "MembershipCard_BaseURIUpdated",
    } <= tables


def test_a_static_event_with_indexed_arguments() -> None:
    a, b = "0x" + "ab" * 20, "0x" + "cd" * 20
    log: dict[str, Any] = {
        "address": POINTS.upper().replace("0X", "0x"),
        "topics": [TRANSFER, topic_address(a), topic_address(b)],
        "data": word(42),
    }
    assert decoder().decode(log) == ("LoyaltyPoints_Transfer", (a, b, 42))


def test_values_too_large_for_sqlite_are_text_and_flagged() -> None:
    d = decoder()
    token = int("ab" * 20, 16)  # card ids are >= 160-bit numbers
    log = {
        "address": CARD,
        "topics": [TRANSFER, topic_address("0x" + "00" * 20), topic_address("0x" + "ab" * 20), word(token)],
        "data": "0x",
    }
    table, values = d.decode(log) or ("", ())
    assert table == "MembershipCard_Transfer" and values[2] == str(token)
    assert d.big_columns == {"MembershipCard_Transfer.tokenId"}


def test_a_dynamic_event_is_decoded_with_the_codec() -> None:
    topic = "0x" + keccak(text="BaseURIUpdated(string)").hex()
    log = {"address": CARD, "topics": [topic], "data": "0x" + encode(["string"], ["ipfs://x/"]).hex()}
    assert decoder().decode(log) == ("MembershipCard_BaseURIUpdated", ("ipfs://x/",))


def test_bytes_logs_as_eth_tester_gives_them() -> None:
    a, b = "0x" + "ab" * 20, "0x" + "cd" * 20
    log = {
        "address": bytes.fromhex(POINTS[2:]),
        "topics": [
            bytes.fromhex(TRANSFER[2:]),
            bytes.fromhex(topic_address(a)[2:]),
            bytes.fromhex(topic_address(b)[2:]),
        ],
        "data": bytes.fromhex(word(5)[2:]),
    }
    assert decoder().decode(log) == ("LoyaltyPoints_Transfer", (a, b, 5))


def test_unknown_logs_are_skipped() -> None:
    d = decoder()
    assert d.decode({"address": "0x" + "99" * 20, "topics": [TRANSFER], "data": "0x"}) is None
    assert d.decode({"address": POINTS, "topics": ["0x" + "00" * 32], "data": "0x"}) is None
    assert d.decode({"address": POINTS, "topics": [], "data": "0x"}) is None


def test_a_new_event_slots_in_from_its_abi() -> None:
    abi = [
        {
            "type": "event",
            "name": "PointsExpired",
            "anonymous": False,
            "inputs": [
                {"name": "holder", "type": "address", "indexed": True},
                {"name": "amount", "type": "uint256", "indexed": False},
            ],
        }
    ]
    (spec,) = event_specs({"LoyaltyPoints": abi})
    assert (spec.table, spec.columns, spec.signature) == (
        "LoyaltyPoints_PointsExpired",
        ("holder", "amount"),
        "PointsExpired(address,uint256)",
    )
    log = {"address": POINTS, "topics": [spec.topic, topic_address("0x" + "ee" * 20)], "data": word(9)}
    assert LogDecoder([spec], {"LoyaltyPoints": POINTS}).decode(log) == (spec.table, ("0x" + "ee" * 20, 9))


def test_ranges_follow_the_log_density() -> None:
    from loyalty_chain.indexer.fetch import FetchSettings, next_span

    s = FetchSettings(target_logs=1_000, max_span=10_000)
    assert next_span(100, 0, s) == 200  # empty: double
    assert next_span(100, 500, s) == 200  # half the target: double (never more than ×2)
    assert next_span(100, 2_000, s) == 50  # twice the target: halve
    assert next_span(100, 1_000_000, s) == 25  # far too many: at most ×¼ a step
    assert next_span(8_000, 0, s) == 10_000 and next_span(1, 5_000, s) == 1


def test_the_generated_static_reader_agrees_with_the_abi_codec() -> None:
    """Every static type, indexed or not, at random values and at the 64-bit edges: the per-event
    generated reader gives what eth_abi decodes (as stored: ints beyond 64 bits as text)."""
    import random

    kinds = ["address", "bool", "uint8", "uint256", "int256", "int32", "bytes32", "bytes4", "uint64"]
    inputs = [{"name": f"a{i}_{k}", "type": k, "indexed": i % 3 == 0} for i, k in enumerate(kinds * 2)]
    abi = [{"type": "event", "name": "Everything", "anonymous": False, "inputs": inputs}]
    (spec,) = event_specs({"LoyaltyPoints": abi})
    rng = random.Random(7)
    edges = [0, 1, 2**63 - 1, 2**63, 2**64 - 1]

    def value(kind: str) -> Any:
        if kind == "address":
            return "0x" + rng.randbytes(20).hex()
        if kind == "bool":
            return rng.random() < 0.5
        if kind.startswith("bytes"):
            return rng.randbytes(int(kind[5:]))
        bits = int(kind.lstrip("uint"))
        if kind.startswith("u"):
            return rng.choice([*(e for e in edges if e < 2**bits), rng.getrandbits(bits)])
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        return rng.choice([low, high, -1, 0, *(e for e in edges if e <= high), rng.randint(low, high)])

    def stored(kind: str, v: Any) -> Any:
        if kind == "address":
            return v.lower()
        if kind == "bool":
            return int(v)
        if kind.startswith("bytes"):
            return "0x" + v.hex()
        return v if -(2**63) < v < 2**63 else str(v)

    for _ in range(200):
        values = [value(i["type"]) for i in inputs]
        topics = [spec.topic] + [
            "0x" + encode([i["type"]], [v]).hex() for i, v in zip(inputs, values, strict=True) if i["indexed"]
        ]
        plain = [(i["type"], v) for i, v in zip(inputs, values, strict=True) if not i["indexed"]]
        data = "0x" + encode([k for k, _ in plain], [v for _, v in plain]).hex()
        log = {"address": POINTS, "topics": topics, "data": data}
        expected = tuple(stored(i["type"], v) for i, v in zip(inputs, values, strict=True))
        assert LogDecoder([spec], {"LoyaltyPoints": POINTS}).decode(log) == (spec.table, expected)
