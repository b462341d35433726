"""A report computes the card and cohort KPIs beside the others, on a connection of its own."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from test_indexer_rollups import chain_rows, fill

from loyalty_chain.indexer import EventStore, program_specs
from loyalty_chain.reports import compute
from loyalty_chain.reports.build import ProgramInfo

INFO = ProgramInfo("cafe", 31337, "0x" + "ab" * 20, ("Bronze", "Silver", "Gold"), 0, "LP")


def test_a_file_cache_in_two_threads_gives_the_report_an_in_memory_cache_gives(tmp_path: Path) -> None:
    rows = chain_rows(random.Random(7), 120, big=False)
    with EventStore.open(tmp_path / "c.sqlite", program_specs()) as on_file:
        fill(on_file, rows, step=5)
        assert on_file.reading_copy() is not None  # the path that runs beside the caller
        beside = compute(on_file, INFO)
    with EventStore.open(":memory:", program_specs()) as in_memory:
        fill(in_memory, rows, step=5)
        assert in_memory.reading_copy() is None  # no second connection: computed in order
        alone = compute(in_memory, INFO)
    assert beside.point_holders > 0 and beside.cohorts
    assert dataclasses.replace(beside, seconds=0) == dataclasses.replace(alone, seconds=0)
