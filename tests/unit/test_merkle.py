"""loyalty_chain.campaigns.merkle against vectors pinned from @openzeppelin/merkle-tree 1.0.8.

The JSON files in tests/data/merkle/ were written by the npm package (``JSON.stringify(tree.dump(),
null, 2)``); the roots, proofs and multi-proof below were printed by it for the same values.
tests/integration/test_merkle_node_interop.py runs the npm package live.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from loyalty_chain.campaigns.merkle import (
    MultiProof,
    StandardMerkleTree,
    process_proof,
    standard_leaf_hash,
    verify_multi_proof,
    verify_proof,
)
from loyalty_chain.errors import InputError, MerkleError

DATA = Path(__file__).resolve().parent.parent / "data" / "merkle"

POINTS = [
    ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "1500"],
    ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "250000000000000000000"],
    ["0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "1"],
    ["0x90F79bf6EB2c4f870365E785982E1f101E93b906", "79228162514264337593543950335"],
    ["0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "42"],
]
POINTS_ROOT = "0x51a13d331aba24a2e692b25f6e8b590bea6b501ec4ef6c490f241ec2c4fb309c"
POINTS_PROOF_1 = [
    "0x82f7b94e0c57d5874ee5b99441a9f94cffc783a2b2971dd54cd4d91409d97bd0",
    "0xa76f430bb6f9ddbe8470cf28400e9f761435dda502672a7ff22057dc6012973b",
]
POINTS_MULTI_0_3_4 = MultiProof(
    leaves=[POINTS[0], POINTS[4], POINTS[3]],
    proof=[
        "0x457aa17fe0228467c8ff03c94ef937caf43d83d6102043300dc6a2e9a13a7006",
        "0xf82144bbe430433a83a8f6b0f3acfdf453f8df70cb93f3aa3ea5170360058ca7",
    ],
    proof_flags=[False, True, False, True],
)

CARDS = [
    ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 0],
    ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 2],
    ["0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", 1],
]
CARDS_ROOT = "0xa2f26530f6b149d4a667e7e13e724fb99e6ba450488e63fedfb4f008760b9798"

MIXED_ENCODING = ["bytes32", "string", "bool", "uint256[]", "int256", "bytes"]
MIXED = [
    ["0x" + "ab" * 32, "café ☕", True, ["1", "2", "3"], "-7", "0x"],
    ["0x" + "00" * 32, "", False, [], str(-(2**255)), "0xdeadbeef"],
    ["0x" + "ab" * 32, "café ☕", True, ["1", "2", "3"], "-7", "0x"],
]
MIXED_ROOT = "0x6ef2357dbdb2fe9ea9abb790466d73bf62c05fa558f3586f4373141f3087914f"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def as_js_file(dump: dict[str, Any]) -> str:
    """What ``JSON.stringify(dump, null, 2) + "\\n"`` writes."""
    return json.dumps(dump, indent=2, ensure_ascii=False) + "\n"


# --- building matches the npm package byte for byte ---------------------------------------------


def test_points_tree_matches_npm_package() -> None:
    tree = StandardMerkleTree.of(POINTS, ["address", "uint256"])
    assert tree.root == POINTS_ROOT
    assert tree.dump() == fixture("points-5.json")
    assert as_js_file(tree.dump()) == (DATA / "points-5.json").read_text(encoding="utf-8")


def test_unsorted_tree_with_python_ints_matches_npm_package() -> None:
    tree = StandardMerkleTree.of(CARDS, ["address", "uint8"], sort_leaves=False)
    assert tree.root == CARDS_ROOT
    # ints are dumped as decimal strings, the form the npm package was given
    assert tree.dump() == fixture("cards-unsorted.json")


def test_mixed_types_and_duplicate_values_match_npm_package() -> None:
    tree = StandardMerkleTree.of(MIXED, MIXED_ENCODING)
    assert tree.root == MIXED_ROOT
    assert as_js_file(tree.dump()) == (DATA / "mixed-types.json").read_text(encoding="utf-8")
    # equal values get distinct leaves
    assert tree.values[0].tree_index != tree.values[2].tree_index


def test_sorted_leaves_fill_the_end_of_the_array_in_hash_order() -> None:
    tree = StandardMerkleTree.of(POINTS, ["address", "uint256"])
    leaves = [tree.tree[len(tree.tree) - 1 - i] for i in range(len(POINTS))]
    assert leaves == sorted(leaves)
    assert sorted(v.tree_index for v in tree.values) == list(range(len(POINTS) - 1, 2 * len(POINTS) - 1))


def test_single_value_tree_has_the_leaf_as_root_and_an_empty_proof() -> None:
    tree = StandardMerkleTree.of([POINTS[0]], ["address", "uint256"])
    assert tree.root == standard_leaf_hash(["address", "uint256"], POINTS[0])
    assert tree.get_proof(0) == []
    assert tree.verify(0, [])


def test_leaf_hash_is_double_keccak_of_abi_encoding() -> None:
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    address, amount = POINTS[0]
    expected = "0x" + keccak(keccak(encode(["address", "uint256"], [address, int(amount)]))).hex()
    assert standard_leaf_hash(["address", "uint256"], POINTS[0]) == expected
    tree = StandardMerkleTree.of(POINTS, ["address", "uint256"])
    assert tree.leaf_hash(POINTS[0]) == expected == tree.tree[tree.values[0].tree_index]


def test_equivalent_spellings_of_a_value_hash_the_same() -> None:
    a = standard_leaf_hash(["address", "uint256"], ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "1500"])
    b = standard_leaf_hash(["address", "uint"], ["0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", 1500])
    c = standard_leaf_hash(["address", "uint256"], ("0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266", "0x5dc"))
    d = standard_leaf_hash(
        ["address", "uint256"], [bytes.fromhex("f39fd6e51aad88f6f4ce6ab8827279cfffb92266"), 1500]
    )
    assert a == b == c == d


def test_of_keeps_values_json_ready() -> None:
    tree = StandardMerkleTree.of(
        [[bytes.fromhex("f39fd6e51aad88f6f4ce6ab8827279cfffb92266"), 10**30, True]],
        ["address", "uint256", "bool"],
    )
    assert tree.at(0) == [
        "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        "1000000000000000000000000000000",
        True,
    ]
    json.dumps(tree.dump())  # no bytes or other non-JSON values left


# --- proofs -------------------------------------------------------------------------------------


def test_proofs_match_npm_package_and_verify() -> None:
    tree = StandardMerkleTree.of(POINTS, ["address", "uint256"])
    assert tree.get_proof(1) == POINTS_PROOF_1
    assert tree.get_proof(POINTS[1]) == POINTS_PROOF_1
    for i, value in tree.entries():
        proof = tree.get_proof(i)
        assert tree.verify(i, proof)
        assert tree.verify(value, proof)
        assert verify_proof(POINTS_ROOT, ["address", "uint256"], value, proof)
        assert process_proof(tree.leaf_hash(value), proof) == POINTS_ROOT


def test_wrong_proofs_do_not_verify() -> None:
    tree = StandardMerkleTree.of(POINTS, ["address", "uint256"])
    proof = tree.get_proof(1)
    assert not tree.verify(0, proof)
    assert not tree.verify([POINTS[1][0], "250000000000000000001"], proof)
    assert not tree.verify(1, proof[:-1])
    assert not verify_proof(CARDS_ROOT, ["address", "uint256"], POINTS[1], proof)
    with pytest.raises(MerkleError, match=r"proof\[0\]"):
        tree.verify(1, ["0x1234"])


def test_proof_of_unknown_value_or_index_is_refused() -> None:
    tree = StandardMerkleTree.of(POINTS, ["address", "uint256"])
    with pytest.raises(MerkleError, match="not in the tree"):
        tree.get_proof([POINTS[0][0], "1501"])
    with pytest.raises(MerkleError, match="out of bounds"):
        tree.get_proof(5)
    with pytest.raises(MerkleError, match="out of bounds"):
        tree.get_proof(-1)
    with pytest.raises(MerkleError, match="neither an index nor a leaf value"):
        tree.get_proof(True)


def test_multi_proof_matches_npm_package_and_verifies() -> None:
    tree = StandardMerkleTree.of(POINTS, ["address", "uint256"])
    multi = tree.get_multi_proof([0, 3, 4])
    assert multi == POINTS_MULTI_0_3_4
    assert tree.verify_multi_proof(multi)
    assert verify_multi_proof(POINTS_ROOT, ["address", "uint256"], multi)
    assert tree.get_multi_proof([POINTS[4], 0, POINTS[3]]) == multi
    everything = tree.get_multi_proof(list(range(len(POINTS))))
    assert everything.proof == [] and tree.verify_multi_proof(everything)
    assert tree.get_multi_proof([]).proof == [POINTS_ROOT]


def test_bad_multi_proofs_are_refused() -> None:
    tree = StandardMerkleTree.of(POINTS, ["address", "uint256"])
    multi = tree.get_multi_proof([0, 3, 4])
    with pytest.raises(MerkleError, match="same value twice"):
        tree.get_multi_proof([0, 0])
    wrong_leaf = MultiProof([POINTS[0], POINTS[4], POINTS[2]], multi.proof, multi.proof_flags)
    assert not tree.verify_multi_proof(wrong_leaf)
    with pytest.raises(MerkleError, match="do not fit"):
        tree.verify_multi_proof(MultiProof(multi.leaves, multi.proof, [*multi.proof_flags, True]))
    with pytest.raises(MerkleError, match="fewer proof nodes"):
        tree.verify_multi_proof(MultiProof(multi.leaves, [], multi.proof_flags))


# --- loading and validating dumps ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "root"),
    [("points-5.json", POINTS_ROOT), ("cards-unsorted.json", CARDS_ROOT), ("mixed-types.json", MIXED_ROOT)],
)
def test_load_npm_dumps_round_trips(name: str, root: str) -> None:
    data = fixture(name)
    tree = StandardMerkleTree.load(data)
    assert tree.root == root
    assert tree.dump() == data
    for i, value in tree.entries():
        assert tree.verify(value, tree.get_proof(i))


def test_load_keeps_number_values_as_written() -> None:
    data = fixture("cards-unsorted.json")
    for entry in data["values"]:
        entry["value"][1] = int(entry["value"][1])
    tree = StandardMerkleTree.load(data)
    assert tree.root == CARDS_ROOT
    assert tree.dump() == data


def test_dump_is_a_copy() -> None:
    tree = StandardMerkleTree.of(POINTS, ["address", "uint256"])
    dump = tree.dump()
    dump["values"][0]["value"][1] = "999"
    dump["tree"][0] = "0x" + "00" * 32
    assert tree.dump() == fixture("points-5.json")


def _tampered(change: str) -> dict[str, Any]:
    data = copy.deepcopy(fixture("points-5.json"))
    leaf_index = data["values"][0]["treeIndex"]
    if change == "value":
        data["values"][0]["value"][1] = "1501"
    elif change == "leaf":
        data["tree"][leaf_index] = "0x" + "11" * 32
    elif change == "root":
        data["tree"][0] = "0x" + "22" * 32
    elif change == "swap-values":
        data["values"][0]["value"], data["values"][1]["value"] = (
            data["values"][1]["value"],
            data["values"][0]["value"],
        )
    elif change == "internal-index":
        data["values"][0]["treeIndex"] = 1
    elif change == "shared-index":
        data["values"][1]["treeIndex"] = leaf_index
    elif change == "hidden-leaf":
        del data["values"][0]
    elif change == "format":
        data["format"] = "simple-v1"
    elif change == "no-encoding":
        del data["leafEncoding"]
    elif change == "encoding":
        data["leafEncoding"] = ["address", "string"]
    elif change == "unsupported-type":
        data["leafEncoding"] = ["(address,uint256)"]
    elif change == "uppercase":
        data["tree"][0] = data["tree"][0].upper().replace("0X", "0x")
    elif change == "short-node":
        data["tree"][3] = "0x1234"
    elif change == "even-tree":
        data["tree"].append(data["tree"][-1])
    elif change == "value-arity":
        data["values"][0]["value"].append("1")
    elif change == "bool-index":
        data["values"][0]["treeIndex"] = True
    elif change == "empty":
        data["tree"], data["values"] = [], []
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("value", r"values\[0\] .* hashes to .*not to tree"),
        ("leaf", r"not the hash of its children"),
        ("root", r"tree\[0\] is not the hash of its children"),
        ("swap-values", r"values\[0\] .* hashes to"),
        ("internal-index", r"treeIndex 1 is not a leaf"),
        ("shared-index", r"both claim leaf"),
        ("hidden-leaf", r"the tree has 5 leaves but values lists 4"),
        ("format", r"unknown Merkle tree format 'simple-v1'"),
        ("no-encoding", r"leafEncoding must be a list"),
        ("encoding", r"hashes to"),
        ("unsupported-type", r"not supported"),
        ("uppercase", r"tree\[0\] must be a lowercase"),
        ("short-node", r"tree\[3\] must be"),
        ("even-tree", r"odd number"),
        ("value-arity", r"values\[0\]: leaf value .* has 3 item\(s\)"),
        ("bool-index", r"treeIndex True is not a leaf"),
        ("empty", r"tree must be a non-empty list"),
    ],
)
def test_load_rejects_a_tampered_or_malformed_dump(change: str, message: str) -> None:
    with pytest.raises(MerkleError, match=message):
        StandardMerkleTree.load(_tampered(change))


def test_load_rejects_non_objects() -> None:
    with pytest.raises(MerkleError, match="JSON object"):
        StandardMerkleTree.load([])  # type: ignore[arg-type]


# --- values the encoder refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "value", "message"),
    [
        (["address"], ["0x1234"], "20-byte hex"),
        (["address"], [1], "20-byte hex"),
        (["uint256"], ["-1"], "out of range for type uint256"),
        (["uint8"], ["256"], "out of range for type uint8"),
        (["int8"], [-129], "out of range for type int8"),
        (["uint256"], [True], "must be an int"),
        (["uint256"], ["1.5"], "must be an int"),
        (["uint256"], [" 5"], "must be an int"),
        (["uint256"], [""], "must be an int"),
        (["bool"], ["yes"], "a bool must be"),
        (["bytes32"], ["0x1234"], "32-byte hex"),
        (["bytes"], ["0x123"], "even-length"),
        (["string"], [5], "must be a str"),
        (["uint256[2]"], [["1"]], "must have 2 items"),
        (["uint256[]"], ["1"], "must be a list"),
        (["uint7"], ["1"], "multiple of 8"),
        (["bytes33"], ["0x00"], "from 1 to 32"),
        (["uint256[0]"], [[]], "at least 1"),
        (["address", "uint256"], [POINTS[0][0]], "has 1 item"),
        (["address"], POINTS[0][0], "must be a list"),
    ],
)
def test_bad_values_are_refused(encoding: list[str], value: Any, message: str) -> None:
    with pytest.raises(MerkleError, match=message):
        StandardMerkleTree.of([value], encoding)


def test_of_refuses_no_values_and_odd_objects() -> None:
    with pytest.raises(MerkleError, match="at least one value"):
        StandardMerkleTree.of([], ["address", "uint256"])
    with pytest.raises(MerkleError, match="cannot put"):
        StandardMerkleTree.of([[1.5]], ["uint256"])
    with pytest.raises(MerkleError, match="cannot put"):
        StandardMerkleTree.of([[b"ab"]], ["string"])


def test_merkle_error_is_an_input_error() -> None:
    assert issubclass(MerkleError, InputError)
    assert issubclass(MerkleError, ValueError)
