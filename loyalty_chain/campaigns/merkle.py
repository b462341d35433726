"""Merkle trees for claims, byte for byte the same as ``@openzeppelin/merkle-tree`` 1.0.8.

This is a port of that package's ``StandardMerkleTree`` (``dist/standard.js``, ``merkletree.js``,
``core.js``, ``hashes.js``): a tree built here has the same root, proofs and ``dump()`` as one
built by the npm package from the same values, and each package loads the other's dumps.

* leaf hash: ``keccak256(keccak256(abi.encode(leafEncoding, value)))``; the double hash keeps a
  64-byte leaf such as ``abi.encode(address, uint256)`` from passing for an inner node, which
  OpenZeppelin's ``MerkleProof.sol`` warns about;
* node hash: ``keccak256(min(a, b) ++ max(a, b))`` (sorted pairs, as ``MerkleProof.sol`` expects);
* the tree is a heap array: ``tree[0]`` is the root, the children of ``i`` are ``2i+1`` and
  ``2i+2``, and the leaves fill the end of the array in reverse, sorted by hash by default;
* ``dump()`` is ``{"format": "standard-v1", "leafEncoding", "tree", "values"}``.

Values are kept in their JSON form, as the npm package writes them: addresses and ``bytes`` as
``0x`` hex strings, booleans as booleans, and numbers as decimal strings. ``of`` turns Python
``int`` into decimal strings (a JSON number above 2**53 would lose digits in JavaScript) and
``bytes`` into hex; ``load`` keeps a dump's values exactly as written, so ``load(d).dump() == d``.

Deliberate differences, all on the strict side (anything accepted here hashes exactly as in JS):

* a value must be in canonical form: an address is exactly 20 bytes of hex (JS left-pads a
  shorter one), a ``bytesN`` exactly N bytes (JS right-pads), a number an ``int`` or a decimal or
  ``0x`` hex string (JS ``BigInt`` would also take ``""``, ``" 5 "``, ``"0b101"``);
* ``load`` wants tree nodes as lowercase ``0x`` hex (what both packages write; JS loads
  upper-case nodes but then cannot verify against them), and wants every leaf of the tree to be
  listed exactly once in ``values`` (a leaf nobody lists would be a claim nobody sees);
* tuple types such as ``(address,uint256)`` are not supported.

Every failure raises :class:`~loyalty_chain.errors.MerkleError`.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils.crypto import keccak

from ..errors import MerkleError
from .merkle_leaves import LeafValue, canonical_type, json_value, leaf_hash

FORMAT = "standard-v1"
"""The ``format`` field of a dump, as the npm package writes it."""

_NODE = re.compile(r"0x[0-9a-f]{64}")
_ANY_CASE_NODE = re.compile(r"0x[0-9a-fA-F]{64}")


# --- hashing -----------------------------------------------------------------------------------


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _node_bytes(node: object, what: str) -> bytes:
    """A 32-byte node given as ``0x`` hex (either case), or MerkleError naming ``what``."""
    if not isinstance(node, str) or not _ANY_CASE_NODE.fullmatch(node):
        raise MerkleError(f"{what} must be a 0x-prefixed 32-byte hex string, got {node!r}")
    return bytes.fromhex(node[2:])


def _hash_pair(a: bytes, b: bytes) -> bytes:
    """``standardNodeHash``: keccak256 of the two nodes, smaller first."""
    return keccak(a + b if a <= b else b + a)


def standard_leaf_hash(leaf_encoding: Sequence[str], value: Sequence[object]) -> str:
    """The leaf hash of ``value`` (0x hex), as the npm package's ``standardLeafHash``."""
    types = [canonical_type(t) for t in leaf_encoding]
    return _hex(leaf_hash(types, json_value(types, value)))


def process_proof(leaf_hash: str, proof: Sequence[str]) -> str:
    """The root that ``proof`` leads to from ``leaf_hash`` (0x hex), as ``processProof``."""
    node = _node_bytes(leaf_hash, "leaf hash")
    for i, sibling in enumerate(proof):
        node = _hash_pair(node, _node_bytes(sibling, f"proof[{i}]"))
    return _hex(node)


def verify_proof(
    root: str, leaf_encoding: Sequence[str], value: Sequence[object], proof: Sequence[str]
) -> bool:
    """Whether ``proof`` shows ``value`` in the tree with ``root`` (the JS static ``verify``)."""
    root_hex = _hex(_node_bytes(root, "root"))
    return root_hex == process_proof(standard_leaf_hash(leaf_encoding, value), proof)


# --- multi-proofs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MultiProof:
    """Several leaves proven at once, as the npm package's ``getMultiProof`` returns them.

    ``leaves`` holds leaf values when it comes from :meth:`StandardMerkleTree.get_multi_proof`;
    ``proof`` and ``proof_flags`` go to ``MerkleProof.multiProofVerify`` unchanged.
    """

    leaves: Sequence[Sequence[object]]
    proof: Sequence[str]
    proof_flags: Sequence[bool]


def _process_multi_proof(leaves: Sequence[bytes], proof: Sequence[str], proof_flags: Sequence[bool]) -> str:
    """``processMultiProof`` over leaf hashes."""
    proof_nodes = [_node_bytes(node, f"proof[{i}]") for i, node in enumerate(proof)]
    if len(proof_nodes) < sum(1 for flag in proof_flags if not flag):
        raise MerkleError("invalid multi-proof: fewer proof nodes than false flags")
    if len(leaves) + len(proof_nodes) != len(proof_flags) + 1:
        raise MerkleError(
            f"invalid multi-proof: {len(leaves)} leaves and {len(proof_nodes)} proof nodes do not fit "
            f"{len(proof_flags)} flags (leaves + proof must be flags + 1)"
        )
    stack = deque(leaves)
    rest = deque(proof_nodes)
    for flag in proof_flags:
        source = stack if flag else rest
        if not stack or not source or (flag and len(stack) < 2):
            raise MerkleError("invalid multi-proof: the flags ask for more nodes than there are")
        a = stack.popleft()
        b = source.popleft()
        stack.append(_hash_pair(a, b))
    return _hex(stack.pop() if stack else rest.popleft())


def verify_multi_proof(root: str, leaf_encoding: Sequence[str], multi_proof: MultiProof) -> bool:
    """Whether ``multi_proof`` shows all its leaves in the tree with ``root`` (JS ``verifyMultiProof``)."""
    root_hex = _hex(_node_bytes(root, "root"))
    types = [canonical_type(t) for t in leaf_encoding]
    hashes = [leaf_hash(types, json_value(types, leaf)) for leaf in multi_proof.leaves]
    return root_hex == _process_multi_proof(hashes, multi_proof.proof, multi_proof.proof_flags)


# --- the tree ----------------------------------------------------------------------------------


def _is_leaf_index(tree_size: int, index: int) -> bool:
    return 0 <= index < tree_size and 2 * index + 1 >= tree_size


def _sibling(index: int) -> int:
    return index + 1 if index % 2 else index - 1


def _parent(index: int) -> int:
    return (index - 1) // 2


def _make_tree(leaves: Sequence[bytes]) -> list[bytes]:
    """``makeMerkleTree``: leaves fill the end of the array in reverse, parents are pair hashes."""
    if not leaves:
        raise MerkleError("a Merkle tree needs at least one value")
    size = 2 * len(leaves) - 1
    tree = [b""] * size
    for i, leaf in enumerate(leaves):
        tree[size - 1 - i] = leaf
    for i in range(size - 1 - len(leaves), -1, -1):
        tree[i] = _hash_pair(tree[2 * i + 1], tree[2 * i + 2])
    return tree


@dataclass(frozen=True)
class TreeValue:
    """One value of the tree and where its leaf sits in the heap array."""

    value: LeafValue
    tree_index: int


@dataclass(frozen=True, eq=False)
class StandardMerkleTree:
    """A Merkle tree of ABI-encoded values, compatible with ``@openzeppelin/merkle-tree``.

    Build one with :meth:`of` or :meth:`load`, which check every hash; the constructor trusts
    its arguments. The fields are the parts of a dump.
    """

    leaf_encoding: tuple[str, ...]
    """The Solidity types of a leaf, e.g. ``("address", "uint256")``."""
    tree: tuple[str, ...]
    """Every node as 0x hex, in heap order: ``tree[0]`` is the root."""
    values: tuple[TreeValue, ...]
    """The values in the order they were given, each with the index of its leaf."""
    _types: tuple[str, ...] = field(init=False, repr=False)
    _lookup: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_types", tuple(canonical_type(t) for t in self.leaf_encoding))
        # Like the JS hashLookup (Object.fromEntries): for equal values the last one wins.
        lookup = {self.tree[v.tree_index]: i for i, v in enumerate(self.values)}
        object.__setattr__(self, "_lookup", lookup)

    # --- building ---

    @classmethod
    def of(
        cls,
        values: Iterable[Sequence[object]],
        leaf_encoding: Sequence[str],
        *,
        sort_leaves: bool = True,
    ) -> StandardMerkleTree:
        """Build the tree of ``values``, each a sequence with one item per type of ``leaf_encoding``.

        Items may be Python ``int``/``bytes``; they are kept as decimal strings/hex (see the
        module docstring). With ``sort_leaves`` (the default, as in JS) leaves are ordered by hash.
        """
        encoding = tuple(leaf_encoding)
        types = [canonical_type(t) for t in encoding]
        json_values = [json_value(types, value) for value in values]
        hashes = [leaf_hash(types, value) for value in json_values]
        order = list(range(len(hashes)))
        if sort_leaves:
            order.sort(key=lambda i: hashes[i])  # stable, as Array.prototype.sort in Node >= 11
        tree = _make_tree([hashes[i] for i in order])
        tree_index = [0] * len(hashes)
        for leaf_index, value_index in enumerate(order):
            tree_index[value_index] = len(tree) - 1 - leaf_index
        return cls(
            leaf_encoding=encoding,
            tree=tuple(_hex(node) for node in tree),
            values=tuple(TreeValue(v, i) for v, i in zip(json_values, tree_index, strict=True)),
        )

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> StandardMerkleTree:
        """A tree from a ``dump()`` of either package, after checking every hash in it."""
        if not isinstance(data, Mapping):
            raise MerkleError(f"a Merkle tree dump must be a JSON object, got {type(data).__name__}")
        if data.get("format") != FORMAT:
            raise MerkleError(f"unknown Merkle tree format {data.get('format')!r}; expected {FORMAT!r}")
        encoding = data.get("leafEncoding")
        if not isinstance(encoding, list) or not all(isinstance(t, str) for t in encoding):
            raise MerkleError(f"leafEncoding must be a list of Solidity type names, got {encoding!r}")
        types = [canonical_type(t) for t in encoding]

        tree = data.get("tree")
        if not isinstance(tree, list) or not tree:
            raise MerkleError(f"tree must be a non-empty list of node hashes, got {tree!r}")
        for i, node in enumerate(tree):
            if not isinstance(node, str) or not _NODE.fullmatch(node):
                raise MerkleError(
                    f"tree[{i}] must be a lowercase 0x-prefixed 32-byte hex string, got {node!r}"
                )
        if len(tree) % 2 == 0:
            raise MerkleError(f"tree has {len(tree)} nodes; a complete tree has an odd number")
        nodes = [bytes.fromhex(node[2:]) for node in tree]
        for i in range(len(nodes) // 2 - 1, -1, -1):
            if nodes[i] != _hash_pair(nodes[2 * i + 1], nodes[2 * i + 2]):
                raise MerkleError(
                    f"tree[{i}] is not the hash of its children tree[{2 * i + 1}] and tree[{2 * i + 2}]; "
                    "the dump was altered or is corrupt"
                )

        raw_values = data.get("values")
        if not isinstance(raw_values, list) or not raw_values:
            raise MerkleError(f"values must be a non-empty list, got {raw_values!r}")
        leaf_count = (len(tree) + 1) // 2
        if len(raw_values) != leaf_count:
            raise MerkleError(f"the tree has {leaf_count} leaves but values lists {len(raw_values)}")
        seen: dict[int, int] = {}
        tree_values: list[TreeValue] = []
        for i, entry in enumerate(raw_values):
            if not isinstance(entry, Mapping):
                raise MerkleError(f"values[{i}] must be an object with value and treeIndex, got {entry!r}")
            value, index = entry.get("value"), entry.get("treeIndex")
            if not isinstance(value, list):
                raise MerkleError(f"values[{i}].value must be a list, got {value!r}")
            if not isinstance(index, int) or isinstance(index, bool) or not _is_leaf_index(len(tree), index):
                raise MerkleError(f"values[{i}].treeIndex {index!r} is not a leaf of a {len(tree)}-node tree")
            if index in seen:
                raise MerkleError(f"values[{i}] and values[{seen[index]}] both claim leaf tree[{index}]")
            seen[index] = i
            try:
                leaf = _hex(leaf_hash(types, value))
            except MerkleError as exc:
                raise MerkleError(f"values[{i}]: {exc}") from exc
            if leaf != tree[index]:
                raise MerkleError(
                    f"values[{i}] {value!r} hashes to {leaf}, not to tree[{index}] {tree[index]}; "
                    "the dump was altered or is corrupt"
                )
            tree_values.append(TreeValue(copy.deepcopy(value), index))
        return cls(leaf_encoding=tuple(encoding), tree=tuple(tree), values=tuple(tree_values))

    # --- reading ---

    @property
    def root(self) -> str:
        """The root hash as 0x hex: what the contract stores."""
        return self.tree[0]

    def __len__(self) -> int:
        return len(self.values)

    def at(self, index: int) -> LeafValue:
        """The value given at position ``index`` (a copy)."""
        return copy.deepcopy(self.values[self._check_index(index)].value)

    def entries(self) -> Iterator[tuple[int, LeafValue]]:
        """``(index, value)`` for every value, in the order they were given."""
        for i, tree_value in enumerate(self.values):
            yield i, copy.deepcopy(tree_value.value)

    def leaf_hash(self, value: Sequence[object]) -> str:
        """The leaf hash of ``value`` under this tree's leaf encoding (0x hex)."""
        return _hex(leaf_hash(self._types, json_value(self._types, value)))

    def dump(self) -> dict[str, Any]:
        """The tree as the npm package's ``tree.dump()`` writes it (a fresh, JSON-ready dict)."""
        return {
            "format": FORMAT,
            "leafEncoding": list(self.leaf_encoding),
            "tree": list(self.tree),
            "values": [{"value": copy.deepcopy(v.value), "treeIndex": v.tree_index} for v in self.values],
        }

    # --- proofs ---

    def get_proof(self, index_or_value: int | Sequence[object]) -> list[str]:
        """The proof (sibling hashes, leaf to root) for a value, given as itself or by its index."""
        # JS re-hashes the leaf and the path here as a sanity check; we skip it (it would triple
        # the cost of proving every recipient) because of() and load() already vouch for every hash.
        index = self.values[self._value_index(index_or_value)].tree_index
        proof: list[str] = []
        while index > 0:
            proof.append(self.tree[_sibling(index)])
            index = _parent(index)
        return proof

    def verify(self, index_or_value: int | Sequence[object], proof: Sequence[str]) -> bool:
        """Whether ``proof`` shows the value (or the value at an index) under this tree's root."""
        if isinstance(index_or_value, int):
            leaf = self.tree[self.values[self._value_index(index_or_value)].tree_index]
        else:
            leaf = self.leaf_hash(index_or_value)
        return process_proof(leaf, proof) == self.root

    def get_multi_proof(self, indices_or_values: Sequence[int | Sequence[object]]) -> MultiProof:
        """One proof for several values at once (``getMultiProof``)."""
        indices = [self.values[self._value_index(item)].tree_index for item in indices_or_values]
        indices.sort(reverse=True)
        if len(set(indices)) != len(indices):
            raise MerkleError("cannot prove the same value twice in one multi-proof")
        stack = deque(indices)
        proof: list[str] = []
        flags: list[bool] = []
        while stack and stack[0] > 0:
            j = stack.popleft()
            sibling = _sibling(j)
            if stack and stack[0] == sibling:
                flags.append(True)
                stack.popleft()
            else:
                flags.append(False)
                proof.append(self.tree[sibling])
            stack.append(_parent(j))
        if not indices:
            proof.append(self.tree[0])
        leaves = [copy.deepcopy(self.values[self._lookup[self.tree[i]]].value) for i in indices]
        multi_proof = MultiProof(leaves=leaves, proof=proof, proof_flags=flags)
        if not self.verify_multi_proof(multi_proof):
            raise MerkleError("unable to prove the values: the tree is inconsistent")  # pragma: no cover
        return multi_proof

    def verify_multi_proof(self, multi_proof: MultiProof) -> bool:
        """Whether ``multi_proof`` shows all its leaves under this tree's root."""
        hashes = [bytes.fromhex(self.leaf_hash(leaf)[2:]) for leaf in multi_proof.leaves]
        return _process_multi_proof(hashes, multi_proof.proof, multi_proof.proof_flags) == self.root

    # --- helpers ---

    def _check_index(self, index: int) -> int:
        if not 0 <= index < len(self.values):
            raise MerkleError(f"index {index} is out of bounds for a tree of {len(self.values)} value(s)")
        return index

    def _value_index(self, index_or_value: int | Sequence[object]) -> int:
        """The position of a value given by index, or of the (last) equal value in the tree."""
        if isinstance(index_or_value, int):
            if isinstance(index_or_value, bool):
                raise MerkleError(f"{index_or_value!r} is neither an index nor a leaf value")
            return self._check_index(index_or_value)
        leaf = self.leaf_hash(index_or_value)
        if leaf not in self._lookup:
            raise MerkleError(f"value {list(index_or_value)!r} is not in the tree")
        return self._lookup[leaf]
