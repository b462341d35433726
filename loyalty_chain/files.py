"""Writing files so that a concurrent reader never sees half of one.

Test workers, a CLI run and a compile may read a file (an artifact, a deployment record) while
another process rewrites it: each write goes to a temporary file in the same folder and replaces
the old one in a single rename.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically; an unchanged file is left as it is (no rewrite)."""
    if path.is_file() and path.read_text() == text:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
