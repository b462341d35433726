"""Pull airdrops: Merkle campaigns of the AirdropDistributor, built from the same CSVs as push airdrops.

A campaign's tree is an ``@openzeppelin/merkle-tree`` StandardMerkleTree (see
:mod:`loyalty_chain.campaigns.merkle`) whose leaves are what ``AirdropDistributor`` hashes:

* points: ``[index, account, amount]`` encoded ``["uint256", "address", "uint256"]``;
* cards:  ``[index, account, tier]`` encoded ``["uint256", "address", "uint8"]``.

``index`` is the row's position in the validated CSV (0, 1, 2, ...): the contract keeps one claimed
flag per index. A tree dumped by the npm package with these encodings is accepted as well; its
leaves are checked (distinct indices, no zero address or amount, existing tiers) before a campaign
is opened with it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from eth_utils.address import to_checksum_address
from web3.exceptions import ContractLogicError

from ..airdrop import open_target
from ..airdrop.plan import Kind
from ..chain import Chain
from ..csv_columns import ColumnMap, delimiter_of
from ..decoding import revert_data
from ..errors import ContractRevertError, CsvValidationError, InputError, MerkleError
from ..files import write_atomic
from ..program import DEFAULT_TIERS, ProgramRecord, load_program
from ..recipients import RecipientFile, read_cards, read_points
from ..sender import Sender, TxResult
from ..signers import SignerLike, as_signer
from ..values import checked_address, reason_code
from .merkle import StandardMerkleTree
from .records import CampaignRecord, save_record

POINTS_LEAF_ENCODING = ("uint256", "address", "uint256")
"""Leaf types of a points campaign: (index, account, amount in base units)."""

CARDS_LEAF_ENCODING = ("uint256", "address", "uint8")
"""Leaf types of a card campaign: (index, account, tier)."""

CAMPAIGN_KINDS: dict[str, int] = {"points": 0, "cards": 1}
"""AirdropDistributor.KIND_POINTS and KIND_CARDS."""

_ENCODINGS: dict[tuple[str, ...], Kind] = {POINTS_LEAF_ENCODING: "points", CARDS_LEAF_ENCODING: "cards"}


@dataclass(frozen=True)
class Leaf:
    """One claimable entry of a campaign tree, with its proof."""

    index: int
    account: str
    value: int
    """Amount in base units (points) or tier index (cards)."""
    proof: tuple[str, ...]


@dataclass(frozen=True)
class Campaign:
    """A campaign just opened."""

    campaign_id: int
    kind: Kind
    root: str
    start: int
    end: int
    tx_hash: str


@dataclass(frozen=True)
class Claim:
    """One leaf claimed (``tx_hash``), or found already claimed (``tx_hash`` None)."""

    leaf: Leaf
    tx_hash: str | None


# -- CSV → tree ---------------------------------------------------------------------------------


def csv_kind(path: str | os.PathLike[str], columns: ColumnMap | None = None) -> Kind:
    """``"cards"`` if the header has the tier column and no amount column, else ``"points"`` (whose
    reader then reports any other header problem with its line)."""
    cols = columns or ColumnMap()
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            first = file.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}; check the path and that it is UTF-8") from None
    header = next(csv.reader(io.StringIO(first), delimiter=delimiter_of(first, cols.delimiter)), [])
    names = [name.strip().lower() for name in header]
    return "cards" if cols.name("tier") in names and cols.name("amount") not in names else "points"


def build_tree(
    kind: Kind,
    csv_path: str | os.PathLike[str],
    *,
    decimals: int = 0,
    tiers: Sequence[str] = DEFAULT_TIERS,
    columns: ColumnMap | None = None,
) -> StandardMerkleTree:
    """The campaign tree of a CSV, validated exactly as a push airdrop validates it.

    A points file may not carry reasons: a campaign's reason is given when it is published.
    """
    return build_campaign_tree(kind, csv_path, decimals=decimals, tiers=tiers, columns=columns)[0]


def build_campaign_tree(
    kind: Kind,
    csv_path: str | os.PathLike[str],
    *,
    decimals: int = 0,
    tiers: Sequence[str] = DEFAULT_TIERS,
    columns: ColumnMap | None = None,
    skip_invalid: bool = False,
) -> tuple[StandardMerkleTree, RecipientFile[Any]]:
    """:func:`build_tree`, also returning what was read (merged rows; with ``skip_invalid`` the rejects)."""
    values: list[list[object]]
    if kind == "cards":
        cards = read_cards(csv_path, tiers=tiers, columns=columns, skip_invalid=skip_invalid)
        values = [[i, str(row.address), row.tier] for i, row in enumerate(cards.rows)]
        return StandardMerkleTree.of(values, CARDS_LEAF_ENCODING), cards
    read = read_points(csv_path, decimals=decimals, columns=columns, skip_invalid=skip_invalid)
    with_reason = [(row.line, "has a reason; a campaign has one reason, given to `merkle publish --reason`")
                   for row in read.rows if row.reason]  # fmt: skip
    if with_reason:
        raise CsvValidationError(str(csv_path), with_reason)
    values = [[i, str(row.address), row.amount] for i, row in enumerate(read.rows)]
    return StandardMerkleTree.of(values, POINTS_LEAF_ENCODING), read


def load_tree(path: str | os.PathLike[str]) -> StandardMerkleTree:
    """A tree dumped by :meth:`StandardMerkleTree.dump` or by the npm package's ``tree.dump()``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}; check the path") from None
    except json.JSONDecodeError as exc:
        raise MerkleError(f"{path} is not JSON ({exc}); pass the file `merkle build` wrote") from None
    return StandardMerkleTree.load(data)


def write_tree(tree: StandardMerkleTree, path: str | os.PathLike[str]) -> Path:
    return write_atomic(path, json.dumps(tree.dump(), indent=2) + "\n")


# -- reading a tree ------------------------------------------------------------------------------


def tree_kind(tree: StandardMerkleTree) -> Kind:
    """Which campaign a tree is for, from its leaf encoding."""
    kind = _ENCODINGS.get(tuple(tree.leaf_encoding))
    if kind is None:
        raise MerkleError(
            f"leaf encoding {list(tree.leaf_encoding)} is neither a points campaign's "
            f"{list(POINTS_LEAF_ENCODING)} nor a card campaign's {list(CARDS_LEAF_ENCODING)}"
        )
    return kind


def leaves(tree: StandardMerkleTree) -> list[Leaf]:
    """Every leaf of a campaign tree, with its proof, in the order of the dump's values."""
    tree_kind(tree)
    out = []
    for i, value in tree.entries():
        index, account, amount = (cast(Any, item) for item in value)
        out.append(
            Leaf(_as_int(index), to_checksum_address(account), _as_int(amount), tuple(tree.get_proof(i)))
        )
    return out


def leaves_for(tree: StandardMerkleTree, account: str) -> list[Leaf]:
    """The leaves of ``account`` (any letter case); MerkleError if it has none."""
    found = [leaf for leaf in leaves(tree) if leaf.account.lower() == account.lower()]
    if not found:
        raise MerkleError(
            f"{account} is not in this tree ({len(tree)} leaves); check the address and the file"
        )
    return found


def check_tree(tree: StandardMerkleTree, tier_count: int | None = None) -> None:
    """Refuse a tree with leaves the contract could never pay: every problem, with its value index."""
    kind = tree_kind(tree)
    problems = []
    seen: dict[int, int] = {}
    for i, leaf in enumerate(leaves(tree)):
        if leaf.index in seen:
            problems.append(
                f"values[{i}]: index {leaf.index} is also values[{seen[leaf.index]}]'s (one claim per index)"
            )
        seen.setdefault(leaf.index, i)
        if int(leaf.account, 16) == 0:
            problems.append(f"values[{i}]: the zero address")
        if kind == "points" and leaf.value == 0:
            problems.append(f"values[{i}]: amount 0 (the token refuses zero)")
        if kind == "cards" and tier_count is not None and leaf.value >= tier_count:
            problems.append(f"values[{i}]: tier {leaf.value}, but the program has {tier_count} tiers")
    if problems:
        listed = "\n  ".join(problems[:50])
        raise MerkleError(f"{len(problems)} leaf problem(s), nothing was sent:\n  {listed}")


def _as_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return int(value, 16) if value.startswith("0x") else int(value)
    raise MerkleError(f"{value!r} is not a number")


# -- on chain ------------------------------------------------------------------------------------


def publish_campaign(
    chain: Chain,
    program: str | ProgramRecord,
    tree: StandardMerkleTree,
    account: SignerLike,
    *,
    start: int,
    end: int,
    reason: str = "",
    card_valid_until: int = 0,
    tree_path: str | os.PathLike[str] | None = None,
    budget: int | None = None,
) -> Campaign:
    """Open a campaign with the tree's root (``createCampaign``); cards get ``card_valid_until``,
    which must fall after the window (a card expiring inside it would lock out later claimers).

    The window is inclusive, unix seconds. Needs CAMPAIGN_MANAGER_ROLE (the program admin has it).
    A root is published once: a tree already published is refused (MerkleError). The tree's size and
    total, and ``tree_path``, are recorded beside the program (see :mod:`loyalty_chain.campaigns.records`).
    ``budget`` is the most the campaign may mint, default exactly what its leaves add up to (points,
    or one card per leaf); a manager who is not the admin draws it from the admin's allowance.
    """
    kind = tree_kind(tree)
    target = open_target(chain, program, kind)
    check_tree(tree, len(target.tiers) if kind == "cards" else None)
    if not 0 <= start < end < 2**40:
        raise InputError(
            f"the claim window must have start < end < 2**40 (unix seconds), got {start} .. {end}"
        )
    if card_valid_until and kind != "cards":
        raise InputError("a card expiry applies to card campaigns only")
    if card_valid_until and card_valid_until <= end:
        raise InputError(
            f"the card expiry {card_valid_until} falls inside the claim window (ends {end}): everyone "
            "claiming after it could never be enrolled; give an expiry after the window, or none"
        )
    if budget is None:
        budget = sum(leaf.value for leaf in leaves(tree)) if kind == "points" else len(tree)
    airdrop = target.contracts["AirdropDistributor"]
    sender = Sender(chain, as_signer(account), target.decoder)
    root = bytes.fromhex(tree.root[2:])
    try:
        result = sender.send(
            airdrop.functions.createCampaign(
                CAMPAIGN_KINDS[kind], root, start, end, reason_code(reason), budget
            )
        )
    except ContractRevertError as exc:
        if exc.error_name == "AirdropRootAlreadyPublished":
            first = exc.error_args.get("campaignId")
            raise MerkleError(
                f"this tree (root {tree.root}) was already published as campaign {first}: one tree is one "
                "campaign, so it cannot be claimed twice; build a new tree for a new campaign"
            ) from None
        raise
    campaign_id = int(result.event("CampaignCreated").args["campaignId"])
    if card_valid_until:
        sender.send(airdrop.functions.setCardValidUntil(campaign_id, card_valid_until))
    values = [leaf.value for leaf in leaves(tree)]
    offered = sum(values) if kind == "points" else len(values)
    where = str(Path(tree_path).resolve()) if tree_path else ""
    kept = CampaignRecord(campaign_id, kind, tree.root, len(values), offered, where)
    save_record(target_record(chain, program), kept)
    return Campaign(campaign_id, kind, tree.root, start, end, result.tx_hash)


def target_record(chain: Chain, program: str | ProgramRecord) -> ProgramRecord:
    return program if isinstance(program, ProgramRecord) else load_program(chain, program)


def claim(
    chain: Chain,
    program: str | ProgramRecord,
    campaign_id: int,
    tree: StandardMerkleTree,
    account: SignerLike,
    *,
    beneficiary: str | None = None,
) -> list[Claim]:
    """Claim every unclaimed leaf of ``beneficiary`` (default: the signer), signed and paid by ``account``.

    The points or the card always go to the leaf's account, whoever submits.
    """
    kind = tree_kind(tree)
    target = open_target(chain, program, kind)
    airdrop = target.contracts["AirdropDistributor"]
    who = checked_address(beneficiary, "--for address") if beneficiary else str(account.address)
    found = leaves_for(tree, who)
    try:
        settings = airdrop.functions.campaign(campaign_id).call()
    except ContractLogicError as exc:
        raise target.decoder.decode(revert_data(exc)) from None
    campaign_kind, root = int(settings[0]), "0x" + bytes(settings[1]).hex()
    if campaign_kind != CAMPAIGN_KINDS[kind]:
        raise MerkleError(f"campaign {campaign_id} is not a {kind} campaign, but this is a {kind} tree")
    if root != tree.root:
        raise MerkleError(
            f"campaign {campaign_id}'s root is {root}, this tree's is {tree.root}: it is another "
            "campaign's tree (or the campaign's root was changed)"
        )
    sender = Sender(chain, as_signer(account), target.decoder)
    claims = []
    for leaf in found:
        if airdrop.functions.isClaimed(campaign_id, leaf.index).call():
            claims.append(Claim(leaf, None))
            continue
        proof = [bytes.fromhex(node[2:]) for node in leaf.proof]
        fn = airdrop.functions.claimPoints if kind == "points" else airdrop.functions.claimCard
        result: TxResult = sender.send(fn(campaign_id, leaf.index, leaf.account, leaf.value, proof))
        claims.append(Claim(leaf, result.tx_hash))
    return claims
