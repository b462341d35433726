"""Managing published Merkle campaigns: list them, one campaign's claimed vs unclaimed, close one early,
and sweep: the unclaimed leaves of an ended campaign as a CSV.

Claims are read from the indexer's cache (synced first, see :mod:`loyalty_chain.indexer`), settings
from the distributor. Points of a campaign are minted only when claimed, so nothing unclaimed sits in
a contract: "sweeping" an ended campaign hands back its unclaimed leaves (``address,amount`` or
``address,tier``, amounts in whole points) for a push airdrop, a later campaign, or the books.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..airdrop import open_target
from ..chain import Chain
from ..errors import InputError, MerkleError
from ..files import write_csv_atomic
from ..indexer import open_store, quote, sync_store
from ..program import ProgramRecord, load_program
from ..sender import Sender
from ..signers import SignerLike, as_signer
from .campaign import Leaf, leaves, load_tree
from .records import load_records

KIND_NAMES = {0: "points", 1: "cards"}


@dataclass(frozen=True)
class CampaignStatus:
    """One campaign as it stands: its settings, its claims, and (tree known) what is left unclaimed."""

    campaign_id: int
    kind: str
    reason: str
    root: str
    start: int
    end: int
    state: str
    """``scheduled`` (not open yet), ``open``, ``ended`` or ``closed`` (closed early)."""
    claims: int
    claimed: int
    """Points claimed (base units) or cards claimed."""
    leaves: int | None
    total: int | None
    unclaimed: tuple[Leaf, ...] | None
    """The leaves nobody claimed yet, when the tree is known (given, or published from here)."""
    tree: str | None

    @property
    def unclaimed_total(self) -> int | None:
        if self.unclaimed is None:
            return None
        return sum(leaf.value for leaf in self.unclaimed) if self.kind == "points" else len(self.unclaimed)

    @property
    def claim_rate(self) -> float | None:
        return round(self.claims / self.leaves, 4) if self.leaves else None


def _record(chain: Chain, program: str | ProgramRecord) -> ProgramRecord:
    return program if isinstance(program, ProgramRecord) else load_program(chain, program)


def campaign_statuses(
    chain: Chain,
    program: str | ProgramRecord,
    *,
    campaign_id: int | None = None,
    tree_file: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> list[CampaignStatus]:
    """Every campaign of the program (or just ``campaign_id``), oldest first."""
    record = _record(chain, program)
    target = open_target(chain, record, "points")
    airdrop = target.contracts["AirdropDistributor"]
    count = int(airdrop.functions.campaignCount().call())
    if campaign_id is not None and not 1 <= campaign_id <= count:
        raise InputError(f"campaign {campaign_id} does not exist: {record.name} has campaigns 1-{count}")
    ids = [campaign_id] if campaign_id is not None else list(range(1, count + 1))
    known = load_records(record)
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    with open_store(record, cache) as store:
        sync_store(chain, record, store)
        table = quote("AirdropDistributor_Claimed")
        claimed_rows: dict[int, list[tuple[int, int]]] = {}
        for cid, index, amount in store.conn.execute(f'SELECT campaignId, "index", amount FROM {table}'):
            claimed_rows.setdefault(int(cid), []).append((int(index), int(amount)))
        closed = {
            int(c)
            for (c,) in store.conn.execute(
                f"SELECT campaignId FROM {quote('AirdropDistributor_CampaignClosed')}"
            )
        }
    out = []
    for cid in ids:
        kind_n, root, start, end, reason, *_ = airdrop.functions.campaign(cid).call()
        kind = KIND_NAMES.get(int(kind_n), str(kind_n))
        rows = claimed_rows.get(cid, [])
        path = str(tree_file) if tree_file is not None and campaign_id is not None else None
        if path is None and cid in known and Path(known[cid].tree).is_file():
            path = known[cid].tree
        unclaimed = _unclaimed(path, "0x" + bytes(root).hex(), {i for i, _ in rows}, cid) if path else None
        state = (
            "scheduled" if now < start else "open" if now <= end else "closed" if cid in closed else "ended"
        )
        out.append(
            CampaignStatus(
                campaign_id=cid,
                kind=kind,
                reason=bytes(reason).rstrip(b"\0").decode("utf-8", errors="replace"),
                root="0x" + bytes(root).hex(),
                start=int(start),
                end=int(end),
                state=state,
                claims=len(rows),
                claimed=sum(a for _, a in rows) if kind == "points" else len(rows),
                leaves=known[cid].leaves if cid in known else None,
                total=known[cid].total if cid in known else None,
                unclaimed=unclaimed,
                tree=path,
            )
        )
    return out


def _unclaimed(path: str, root: str, claimed: set[int], campaign_id: int) -> tuple[Leaf, ...]:
    tree = load_tree(path)
    if tree.root != root:
        raise MerkleError(
            f"{path} has root {tree.root}, but campaign {campaign_id}'s is {root}: pass that campaign's tree"
        )
    return tuple(leaf for leaf in leaves(tree) if leaf.index not in claimed)


def close_campaign(chain: Chain, program: str | ProgramRecord, campaign_id: int, account: SignerLike) -> int:
    """Close a campaign now (``closeCampaign``); returns its new end (unix seconds). Needs
    CAMPAIGN_MANAGER_ROLE."""
    target = open_target(chain, _record(chain, program), "points")
    airdrop = target.contracts["AirdropDistributor"]
    result = Sender(chain, as_signer(account), target.decoder).send(
        airdrop.functions.closeCampaign(campaign_id)
    )
    return int(result.event("CampaignClosed").args["end"])


def sweep_campaign(
    chain: Chain,
    program: str | ProgramRecord,
    campaign_id: int,
    out: str | os.PathLike[str],
    *,
    tree_file: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> CampaignStatus:
    """Write the unclaimed leaves of an ended (or closed) campaign to ``out`` as an airdrop CSV."""
    record = _record(chain, program)
    (status,) = campaign_statuses(chain, record, campaign_id=campaign_id, tree_file=tree_file, cache=cache)
    if status.state in ("open", "scheduled"):
        raise InputError(
            f"campaign {campaign_id} is still {status.state} (until {status.end}): its leaves can still be "
            "claimed; close it first (loyalty-chain merkle close) or wait for its end"
        )
    if status.unclaimed is None:
        raise InputError(
            f"campaign {campaign_id}'s tree is not known here: "
            "pass the tree file it was published from (--tree)"
        )
    decimals = open_target(chain, record, "points").decimals
    _write_leaves(Path(out), status, decimals)
    return status


def _write_leaves(path: Path, status: CampaignStatus, decimals: int) -> None:
    points = status.kind == "points"
    rows = [
        (leaf.account, f"{Decimal(leaf.value).scaleb(-decimals):f}" if points else leaf.value)
        for leaf in status.unclaimed or ()
    ]
    write_csv_atomic(path, ("address", "amount" if points else "tier"), rows)


def claim_status_error(campaign_id: int, already: list[Leaf]) -> InputError:
    """The error of a claim whose leaves were already claimed (the CLI exits non-zero with it)."""
    listed = ", ".join(f"leaf {leaf.index} of {leaf.account}" for leaf in already)
    return InputError(f"campaign {campaign_id}: {listed} already claimed; nothing more to claim for it")
