"""Who already received a reason from the program, read from the indexer's cache (synced first): what
``once_per_reason`` skips, so next month's export pays only its new rows.

A recipient counts as having received a reason when a mint to it shares a transaction with a
``PointsIssued`` of that reason (``issue`` and ``issueBatch`` alike), or when it claimed a leaf of a
Merkle campaign published with that reason.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..chain import Chain
from ..errors import InputError
from ..indexer import open_store, quote, sync_store
from ..program import ProgramRecord
from ..values import reason_code
from .plan import Recipient

ZERO = "0x" + "0" * 40


def already_received(
    chain: Chain,
    record: ProgramRecord,
    recipients: Sequence[Recipient],
    *,
    cache: str | os.PathLike[str] | None = None,
) -> dict[str, str]:
    """``{address: why}`` for each recipient that already received its row's reason from the program."""
    missing = [r.line for r in recipients if not r.reason]
    if missing:
        raise InputError(
            f"--once-per-reason needs a reason for every row; line(s) {', '.join(map(str, missing[:10]))} "
            "have none: pass --reason or fill the reason column"
        )
    codes = sorted({"0x" + reason_code(r.reason).hex() for r in recipients})
    if not codes:
        return {}
    marks = ",".join("?" * len(codes))
    transfer, issued = quote("LoyaltyPoints_Transfer"), quote("LoyaltyPoints_PointsIssued")
    claimed, created = quote("AirdropDistributor_Claimed"), quote("AirdropDistributor_CampaignCreated")
    seen: dict[tuple[str, str], int] = {}
    with open_store(record, cache) as store:
        sync_store(chain, record, store)
        rows = store.conn.execute(
            f"""SELECT t."to", i.reason, MIN(t.block) FROM {transfer} t
                JOIN {issued} i ON i.block = t.block AND i.tx_hash = t.tx_hash
                WHERE t."from" = ? AND i.reason IN ({marks}) GROUP BY 1, 2
                UNION ALL
                SELECT c.account, cc.reason, MIN(c.block) FROM {claimed} c
                JOIN {created} cc ON cc.campaignId = c.campaignId
                WHERE cc.kind = 0 AND cc.reason IN ({marks}) GROUP BY 1, 2""",
            (ZERO, *codes, *codes),
        )
        for address, code, block in rows:
            key = (str(address), str(code))
            seen[key] = min(int(block), seen.get(key, int(block)))
    out: dict[str, str] = {}
    for r in recipients:
        block = seen.get((r.address.lower(), "0x" + reason_code(r.reason).hex()))
        if block is not None:
            out[r.address] = f"already received {r.reason!r} from this program (block {block})"
    return out
