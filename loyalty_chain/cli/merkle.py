"""``loyalty-chain merkle build | publish | proof | claim | list | status | close | sweep``: Merkle campaigns.

Each command is a few lines over :mod:`loyalty_chain.campaigns.campaign`; the tree JSON is exactly what
@openzeppelin/merkle-tree's ``StandardMerkleTree.dump()`` writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .airdrop import column_map, csv_options
from .context import Context, command_options, iso_time, parse_time, pass_ctx, show_csv_problems

if TYPE_CHECKING:
    from ..campaigns.admin import CampaignStatus


@click.group("merkle")
def merkle_group() -> None:
    """Pull airdrops: Merkle campaigns that recipients (or anyone for them) claim."""


@merkle_group.command("build")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="tree.json")
@click.option("--program", help="Read decimals (points) or tiers (cards) from this deployed program.")
@click.option("--decimals", type=click.IntRange(0, 18), help="Points decimals without --program (default 0).")
@click.option("--tiers", help="Tier names, lowest first, without --program (default Bronze,Silver,Gold).")
@click.option(
    "--skip-invalid", is_flag=True, help="Leave bad rows out (FILE.rejects.csv) and build the rest."
)
@csv_options
@command_options
@pass_ctx
def merkle_build(
    ctx: Context,
    /,
    csv_file: Path,
    out: Path,
    program: str | None,
    decimals: int | None,
    tiers: str | None,
    skip_invalid: bool,
    **column_options: Any,
) -> None:
    """Build a campaign tree (the JSON of @openzeppelin/merkle-tree's dump) from CSV_FILE.

    Columns address and amount make a points campaign; address and tier a card campaign (found by name,
    see --address-column …; other columns are ignored).
    """
    from ..airdrop import open_target
    from ..campaigns.campaign import build_campaign_tree, csv_kind, write_tree
    from ..csv_columns import default_rejects_path, write_rejects
    from ..errors import CsvValidationError
    from ..program import DEFAULT_TIERS

    columns = column_map(column_options)
    kind = csv_kind(csv_file, columns)
    names = tuple(t.strip() for t in tiers.split(",")) if tiers else DEFAULT_TIERS
    places = decimals or 0
    if program:
        with ctx.chain() as chain:
            target = open_target(chain, program, kind)
            names, places = target.tiers or names, target.decimals
    try:
        tree, read = build_campaign_tree(
            kind, csv_file, decimals=places, tiers=names, columns=columns, skip_invalid=skip_invalid
        )
    except CsvValidationError as exc:
        show_csv_problems(ctx, exc)
    rejects = (
        write_rejects(default_rejects_path(csv_file), read.rejects, read.delimiter) if skip_invalid else None
    )
    write_tree(tree, out)
    ctx.emit(
        {"root": tree.root, "kind": kind, "leaves": len(tree), "out": str(out), "rows": read.data_rows,
         "merged_duplicates": read.merged, "rejected": len(read.rejects),
         "rejects_csv": str(rejects) if rejects else None},
        f"{kind} campaign tree of {len(tree):,} leaves ({read.data_rows:,} rows, "
        f"{read.merged:,} duplicate(s) merged, {len(read.rejects):,} bad row(s) left out), "
        f"root {tree.root}, written to {out}",
    )  # fmt: skip


@merkle_group.command("publish")
@click.argument("program")
@click.argument("tree_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--start", help="Claims open: ISO date/time (UTC unless given) or unix seconds; default now.")
@click.option(
    "--end",
    required=True,
    help="Claims close (inclusive): ISO date/time (UTC unless given; a date alone is the end of that day) "
    "or unix seconds.",
)
@click.option("--reason", default="", help="The campaign's reason code (≤ 32 bytes).")
@click.option("--card-valid-until", help="Card campaigns: expiry of the cards claimed (default never).")
@command_options
@pass_ctx
def merkle_publish(
    ctx: Context,
    program: str,
    tree_file: Path,
    start: str | None,
    end: str,
    reason: str,
    card_valid_until: str | None,
) -> None:
    """Open a campaign of PROGRAM's AirdropDistributor with TREE_FILE's root; prints its id."""
    from ..campaigns.campaign import load_tree, publish_campaign

    tree = load_tree(tree_file)
    closes = parse_time(end, "--end", end_of_day=True)
    until = parse_time(card_valid_until, "--card-valid-until") if card_valid_until else 0
    with ctx.chain() as chain:
        opens = parse_time(start, "--start") if start else int(chain.w3.eth.get_block("latest")["timestamp"])
        campaign = publish_campaign(
            chain,
            program,
            tree,
            ctx.signer(chain),
            start=opens,
            end=closes,
            reason=reason,
            card_valid_until=until,
            tree_path=tree_file,
        )
    ctx.emit(
        {
            "campaign_id": campaign.campaign_id,
            "kind": campaign.kind,
            "root": campaign.root,
            "start": campaign.start,
            "end": campaign.end,
            "tx_hash": campaign.tx_hash,
        },
        f"campaign id {campaign.campaign_id}\n{campaign.kind} campaign open from {iso_time(campaign.start)} "
        f"to {iso_time(campaign.end)} (inclusive, UTC), root {campaign.root}, tx {campaign.tx_hash}",
    )


@merkle_group.command("proof")
@click.argument("tree_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("address")
@command_options
@pass_ctx
def merkle_proof(ctx: Context, tree_file: Path, address: str) -> None:
    """Print ADDRESS's leaf (index, amount or tier) and its proof."""
    from ..campaigns.campaign import leaves_for, load_tree, tree_kind

    tree = load_tree(tree_file)
    kind = tree_kind(tree)
    found = leaves_for(tree, address)
    column = "amount" if kind == "points" else "tier"
    data = [{"index": f.index, "account": f.account, column: f.value, "proof": list(f.proof)} for f in found]

    def human() -> None:
        import json

        for f in found:
            click.echo(f"index {f.index}  account {f.account}  {column} {f.value}")
            click.echo(json.dumps(list(f.proof)))

    ctx.emit(data if len(data) > 1 else data[0], human)


@merkle_group.command("claim")
@click.argument("program")
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.argument("tree_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--for", "beneficiary", help="Claim for this address (it receives; the --account pays gas).")
@command_options
@pass_ctx
def merkle_claim(
    ctx: Context, program: str, campaign_id: int, tree_file: Path, beneficiary: str | None
) -> None:
    """Claim from campaign CAMPAIGN_ID as the --account (or for --for ADDRESS)."""
    from ..campaigns.campaign import claim, load_tree

    tree = load_tree(tree_file)
    with ctx.chain() as chain:
        claims = claim(chain, program, campaign_id, tree, ctx.signer(chain), beneficiary=beneficiary)
    data = [
        {"index": c.leaf.index, "account": c.leaf.account, "value": c.leaf.value, "tx_hash": c.tx_hash,
         "already_claimed": c.tx_hash is None}
        for c in claims
    ]  # fmt: skip

    def human() -> None:
        for c in claims:
            if c.tx_hash is None:
                click.echo(f"leaf {c.leaf.index} of {c.leaf.account} was already claimed", err=True)
            else:
                click.echo(
                    f"claimed leaf {c.leaf.index} for {c.leaf.account} ({c.leaf.value}) in {c.tx_hash}"
                )

    ctx.emit(data, human)
    if any(c.tx_hash is None for c in claims):
        raise SystemExit(1)  # claiming what was already claimed is an error, even beside new claims


@merkle_group.command("list")
@click.argument("program")
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), help="Index cache (see `report`).")
@command_options
@pass_ctx
def merkle_list(ctx: Context, program: str, cache: Path | None) -> None:
    """Every campaign of PROGRAM: state, window, claims (and claim rate when its tree was published here)."""
    from ..campaigns.admin import campaign_statuses

    with ctx.chain() as chain:
        statuses = campaign_statuses(chain, program, cache=cache)

    def human() -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table("id", "kind", "reason", "state", "window (UTC)", "claims", "claimed", "unclaimed",
                      title=f"{program}: campaigns")  # fmt: skip
        for s in statuses:
            claims = f"{s.claims:,}" + (f" of {s.leaves:,}" if s.leaves is not None else "")
            left = "?" if s.unclaimed_total is None else f"{s.unclaimed_total:,}"
            window = f"{iso_time(s.start)} → {iso_time(s.end)}"
            row = (
                str(s.campaign_id),
                s.kind,
                s.reason or "—",
                s.state,
                window,
                claims,
                f"{s.claimed:,}",
                left,
            )
            table.add_row(*row)
        Console().print(table)

    ctx.emit([_status_data(s, leaves=False) for s in statuses], human)


@merkle_group.command("status")
@click.argument("program")
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.option("--tree", "tree_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The campaign's tree (default: the one it was published from here).")  # fmt: skip
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), help="Index cache (see `report`).")
@command_options
@pass_ctx
def merkle_status(
    ctx: Context, program: str, campaign_id: int, tree_file: Path | None, cache: Path | None
) -> None:
    """One campaign: claimed vs unclaimed, and every unclaimed leaf when its tree is known."""
    from ..campaigns.admin import campaign_statuses

    with ctx.chain() as chain:
        (s,) = campaign_statuses(chain, program, campaign_id=campaign_id, tree_file=tree_file, cache=cache)

    def human() -> None:
        click.echo(f"campaign {s.campaign_id} · {s.kind} · {s.reason or 'no reason'} · {s.state}")
        click.echo(f"window {iso_time(s.start)} → {iso_time(s.end)} (inclusive, UTC)")
        offered = f" of {s.leaves:,} leaves" if s.leaves is not None else ""
        click.echo(f"claims {s.claims:,}{offered}, claimed {s.claimed:,}")
        if s.unclaimed is None:
            click.echo("unclaimed: unknown (pass --tree with the campaign's tree)")
        else:
            click.echo(f"unclaimed {len(s.unclaimed):,} leaves, {s.unclaimed_total:,} {s.kind}")

    ctx.emit(_status_data(s, leaves=True), human)


@merkle_group.command("close")
@click.argument("program")
@click.argument("campaign_id", type=click.IntRange(min=1))
@command_options
@pass_ctx
def merkle_close(ctx: Context, program: str, campaign_id: int) -> None:
    """Close campaign CAMPAIGN_ID now: no claim is accepted from the next block on."""
    from ..campaigns.admin import close_campaign

    with ctx.chain() as chain:
        end = close_campaign(chain, program, campaign_id, ctx.signer(chain))
    ctx.emit(
        {"campaign_id": campaign_id, "end": end},
        f"campaign {campaign_id} closed: its window now ends at {iso_time(end)} (UTC)",
    )


@merkle_group.command("sweep")
@click.argument("program")
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="unclaimed.csv")
@click.option("--tree", "tree_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The campaign's tree (default: the one it was published from here).")  # fmt: skip
@command_options
@pass_ctx
def merkle_sweep(ctx: Context, program: str, campaign_id: int, out: Path, tree_file: Path | None) -> None:
    """Write an ended campaign's unclaimed leaves to --out as an airdrop CSV.

    Campaign points are minted only when claimed, so nothing is left in a contract to sweep: the CSV
    is what was not claimed, for a push airdrop, a new campaign, or the books.
    """
    from ..campaigns.admin import sweep_campaign

    with ctx.chain() as chain:
        s = sweep_campaign(chain, program, campaign_id, out, tree_file=tree_file)
    ctx.emit(
        {**_status_data(s, leaves=False), "out": str(out)},
        f"campaign {campaign_id} ({s.state}): {len(s.unclaimed or ()):,} unclaimed leaves, "
        f"{s.unclaimed_total or 0:,} {s.kind}, written to {out}",
    )


def _status_data(s: CampaignStatus, *, leaves: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "campaign_id": s.campaign_id, "kind": s.kind, "reason": s.reason, "root": s.root, "start": s.start,
        "end": s.end, "state": s.state, "claims": s.claims, "claimed": s.claimed, "leaves": s.leaves,
        "total": s.total, "claim_rate": s.claim_rate, "unclaimed_leaves": None if s.unclaimed is None
        else len(s.unclaimed), "unclaimed_total": s.unclaimed_total,
    }  # fmt: skip
    if leaves and s.unclaimed is not None:
        data["unclaimed"] = [{"index": x.index, "account": x.account, "value": x.value} for x in s.unclaimed]
    return data


COMMANDS = (merkle_group,)
