"""Writing files safely: a concurrent reader never sees half of one, and nothing is written through
a planted symlink.

Test workers, a CLI run and a compile may read a file (an artifact, a deployment record) while
another process rewrites it: each write goes to a temporary file in the same folder and replaces
the old one in a single rename. The temporary file has a fresh random name and is created
exclusively (``O_CREAT | O_EXCL``, which never follows a symlink): a fixed name such as
``out.csv.tmp`` would let anyone who can write to the folder plant a symlink there and have us
write through it. The rename replaces a symlink at the target itself, never the file it points to.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

FILE_MODE = 0o666
"""Before the umask, as ``open()`` creates files (mkstemp alone would give 0600)."""


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomic(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Replace ``path`` with ``text`` all at once, through an exclusively created temporary file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, FILE_MODE & ~_umask())
        with os.fdopen(fd, "w", encoding=encoding, newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically; an unchanged file is left as it is (no rewrite)."""
    if path.is_file() and not path.is_symlink() and path.read_text() == text:
        return path
    return write_atomic(path, text)


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a CSV cell as a formula (OWASP's CSV injection list)."""


def csv_safe(cell: object) -> object:
    """A text cell that a spreadsheet would run as a formula, made inert with a leading quote."""
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def write_csv_atomic(
    path: str | os.PathLike[str], header: Sequence[object], rows: Iterable[Sequence[object]]
) -> Path:
    """Write a CSV file atomically (:func:`write_atomic`), every cell passed through :func:`csv_safe`."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([csv_safe(cell) for cell in header])
    writer.writerows([csv_safe(cell) for cell in row] for row in rows)
    return write_atomic(path, text.getvalue())
