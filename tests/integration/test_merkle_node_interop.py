"""loyalty_chain.campaigns.merkle and the npm @openzeppelin/merkle-tree, run live, build and read the same
trees.

The tests ask one ``node toolchain/merkle-interop.js serve``, started from the repository root
(so node_modules resolves): Python builds and Node loads, verifies and proves, or Node builds and Python does.
Skipped only when ``node`` is not installed; a missing npm package is a failure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from loyalty_chain.campaigns.merkle import MultiProof, StandardMerkleTree
from loyalty_chain.errors import MerkleError
from loyalty_chain.recipients import parse_points_csv

REPO = Path(__file__).resolve().parents[2]
HELPER = REPO / "toolchain" / "merkle-interop.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on PATH; the npm merkle-tree cannot run")

POINTS_ENCODING = ["address", "uint256"]
MIXED_ENCODING = ["bytes32", "string", "bool", "uint256[]", "int256", "bytes", "address[2]", "int8"]


class NodeRefused(Exception):
    """The helper exited non-zero (e.g. StandardMerkleTree.load threw)."""


class NodeHelper:
    """One ``node toolchain/merkle-interop.js serve`` for the whole module: a request per line,
    an answer per line (a node start for every tree cost ~0.4 s of CPU each)."""

    def __init__(self) -> None:
        assert NODE is not None
        self.process = subprocess.Popen(
            [NODE, str(HELPER), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=REPO,
        )

    def ask(self, command: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"command": command, "input": payload}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the node helper exited ({self.process.poll()})"
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise NodeRefused(answer["error"])
        result: dict[str, Any] = answer["result"]
        return result

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture(scope="module", autouse=True)
def _node_helper() -> Iterator[None]:
    global _helper
    _helper = NodeHelper()
    try:
        yield
    finally:
        _helper.close()
        _helper = None


_helper: NodeHelper | None = None


def node(command: str, payload: dict[str, Any]) -> dict[str, Any]:
    assert _helper is not None, "the module's node helper is not running"
    return _helper.ask(command, payload)


def address(i: int) -> str:
    return to_checksum_address(keccak(b"recipient-%d" % i)[-20:])


def points(n: int) -> list[list[str]]:
    """``n`` distinct recipients with amounts of many sizes, in the form our CSV builder produces."""
    return [[address(i), str((i * 7919) ** (i % 9) + i + 1)] for i in range(n)]


def mixed_values() -> list[list[Any]]:
    return [
        ["0x" + "ab" * 32, "café ☕ 😀", True, ["1", "2", "3"], "-7", "0x", [address(1), address(2)], "-128"],
        ["0x" + "00" * 32, "", False, [], str(-(2**255)), "0xdeadbeef", [address(3), address(3)], "127"],
        ["0x" + "ab" * 32, "café ☕ 😀", True, ["1", "2", "3"], "-7", "0x", [address(1), address(2)], "-128"],
        [
            "0x" + "ff" * 32,
            "x" * 100,
            "true",
            [str(2**256 - 1)],
            "0",
            "0x" + "01" * 70,
            [address(4), address(5)],
            0,
        ],
    ]


def multi_indices(n: int) -> list[int]:
    return sorted({0, n // 3, n // 2, n - 1})


def assert_node_accepts(tree: StandardMerkleTree) -> None:
    """Node loads Python's dump, gets the same root and proofs, and verifies Python's proofs."""
    indices = multi_indices(len(tree))
    multi = tree.get_multi_proof(indices)
    result = node(
        "check",
        {
            "dump": tree.dump(),
            "proofs": [tree.get_proof(i) for i in range(len(tree))],
            "multiProof": {
                "leaves": list(multi.leaves),
                "proof": list(multi.proof),
                "proofFlags": list(multi.proof_flags),
            },
            "multi": indices,
        },
    )
    assert result["root"] == tree.root
    assert result["ownProofsVerified"] is True
    assert result["givenProofsVerified"] is True
    assert result["multiVerified"] is True
    assert result["proofs"] == [tree.get_proof(i) for i in range(len(tree))]
    node_multi = result["multiProof"]
    assert MultiProof(node_multi["leaves"], node_multi["proof"], node_multi["proofFlags"]) == multi


def assert_python_accepts(built: dict[str, Any]) -> StandardMerkleTree:
    """Python loads Node's dump, gets the same dump, root and proofs, and verifies Node's proofs."""
    tree = StandardMerkleTree.load(built["dump"])
    assert tree.root == built["root"]
    assert tree.dump() == built["dump"]
    for i, value in tree.entries():
        assert tree.get_proof(i) == built["proofs"][i]
        assert tree.verify(value, built["proofs"][i])
    return tree


# --- Python builds, Node reads ------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 257])
@pytest.mark.parametrize("sort_leaves", [True, False])
def test_python_tree_loads_and_verifies_in_node(n: int, sort_leaves: bool) -> None:
    tree = StandardMerkleTree.of(points(n), POINTS_ENCODING, sort_leaves=sort_leaves)
    assert_node_accepts(tree)


def test_python_mixed_types_tree_loads_and_verifies_in_node() -> None:
    assert_node_accepts(StandardMerkleTree.of(mixed_values(), MIXED_ENCODING))


def test_tree_from_a_points_csv_loads_in_node() -> None:
    """The path an airdrop takes: CSV rows -> (address, amount in base units) leaves -> root."""
    text = "address,amount\n" + "".join(f"{a.lower()},{i}.5\n" for i, (a, _) in enumerate(points(40)))
    rows = parse_points_csv(text, decimals=18)
    tree = StandardMerkleTree.of([[row.address, row.amount] for row in rows], POINTS_ENCODING)
    assert tree.at(3) == [rows[3].address, str(35 * 10**17)]
    assert_node_accepts(tree)


# --- Node builds, Python reads ------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 5, 100])
@pytest.mark.parametrize("sort_leaves", [True, False])
def test_node_tree_loads_and_verifies_in_python(n: int, sort_leaves: bool) -> None:
    values = points(n)
    indices = sorted({0, n - 1})
    built = node(
        "build",
        {"values": values, "leafEncoding": POINTS_ENCODING, "sortLeaves": sort_leaves, "multi": indices},
    )
    tree = assert_python_accepts(built)
    # and building from the same values in Python gives the identical tree
    assert StandardMerkleTree.of(values, POINTS_ENCODING, sort_leaves=sort_leaves).dump() == built["dump"]
    multi = built["multiProof"]
    assert tree.verify_multi_proof(MultiProof(multi["leaves"], multi["proof"], multi["proofFlags"]))
    assert tree.get_multi_proof(indices) == MultiProof(multi["leaves"], multi["proof"], multi["proofFlags"])


def test_node_mixed_types_tree_loads_in_python() -> None:
    values = mixed_values()
    built = node("build", {"values": values, "leafEncoding": MIXED_ENCODING})
    assert_python_accepts(built)
    ours = StandardMerkleTree.of(values, MIXED_ENCODING).dump()
    assert ours["tree"] == built["dump"]["tree"]
    assert [v["treeIndex"] for v in ours["values"]] == [v["treeIndex"] for v in built["dump"]["values"]]
    # the one JSON number among the values (int8 0) is written as a decimal string by Python
    assert ours["values"][3]["value"][7] == "0" and built["dump"]["values"][3]["value"][7] == 0


def test_node_tree_of_js_numbers_loads_in_python() -> None:
    values: list[list[Any]] = [[address(i), i * 1000] for i in range(6)]
    built = node("build", {"values": values, "leafEncoding": ["address", "uint96"]})
    tree = assert_python_accepts(built)
    assert tree.dump()["values"][0]["value"][1] == 0  # kept as the JSON number Node wrote
    assert StandardMerkleTree.of(values, ["address", "uint96"]).root == built["root"]


# --- both refuse the same tampering -------------------------------------------------------------


@pytest.mark.parametrize("change", ["value", "node", "root"])
def test_both_refuse_a_tampered_dump(change: str) -> None:
    dump = StandardMerkleTree.of(points(9), POINTS_ENCODING).dump()
    if change == "value":
        dump["values"][4]["value"][1] = str(int(dump["values"][4]["value"][1]) + 1)
    elif change == "node":
        dump["tree"][3] = "0x" + "5a" * 32
    else:
        dump["tree"][0] = "0x" + "5a" * 32
    with pytest.raises(NodeRefused, match="InvariantError"):
        node("check", {"dump": dump})
    with pytest.raises(MerkleError):
        StandardMerkleTree.load(dump)
