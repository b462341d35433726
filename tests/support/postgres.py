"""A throw-away PostgreSQL server from Debian's binaries: initdb + pg_ctl in a temp dir, on a free
port, trust authentication on 127.0.0.1 only, stopped and deleted afterwards.

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user the Debian
package creates (or ``nobody``), through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loyalty_chain.chain import free_port

START_TIMEOUT_S = 60


def bin_dir() -> Path | None:
    """Where initdb and pg_ctl are (the newest Debian version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_user() -> tuple[list[str], str | None]:
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"], user
    raise RuntimeError("running as root with neither a postgres nor a nobody user to run PostgreSQL as")


@contextmanager
def postgres_server(bins: Path) -> Iterator[str]:
    """A running server; yields its URL (superuser ``gateway``, database ``postgres``)."""
    prefix, user = _as_user()
    root = Path(tempfile.mkdtemp(prefix="lc-pg-"))
    data, log = root / "data", root / "server.log"
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=START_TIMEOUT_S)

    try:
        run(str(bins / "initdb"), "-D", str(data), "-U", "gateway", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(str(bins / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start")
        try:
            yield f"postgresql://gateway@127.0.0.1:{port}/postgres"
        finally:
            run(str(bins / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    except subprocess.CalledProcessError as exc:
        server_log = log.read_text() if log.exists() else ""
        raise RuntimeError(f"PostgreSQL: {exc.args} failed: {exc.stderr!r}\n{server_log}") from None
    finally:
        shutil.rmtree(root, ignore_errors=True)
