"""Every ```python block of the README runs as written, each on its own from an empty folder.

The blocks are found by parsing README.md at test time, so a block added or changed later is
tested too. Each runs in a fresh interpreter with none of our environment variables set (no
LOYALTY_CHAIN_RPC, no deployments folder): what a newcomer pasting it would get.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
TIMEOUT_S = 300


def python_blocks() -> list[tuple[str, str]]:
    """(id, code) of each python block: its id is the heading above it and its line number."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        headings = re.findall(r"^#+ (.+)$", text[: match.start()], re.MULTILINE)
        title = re.sub(r"\W+", "-", headings[-1]).strip("-").lower() if headings else "top"
        blocks.append((f"{title}-line{line}", match.group(1)))
    return blocks


BLOCKS = python_blocks()


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 3, "the README's python examples were not found: is the fence still ```python?"


@pytest.mark.parametrize("code", [code for _, code in BLOCKS], ids=[name for name, _ in BLOCKS])
def test_readme_block_runs_from_an_empty_folder(code: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_CHAIN_")}
    out = subprocess.run(
        [sys.executable, script.name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, f"README block failed:\n{code}\n--- stderr ---\n{out.stderr[-4000:]}"
