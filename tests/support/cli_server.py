"""``loyalty-chain`` for a shell script, answered by the test's own process.

A script of many commands (the README's session: ~50) costs ~1 s of CPU per command as processes,
nearly all of it importing web3 again. :class:`CliServer` puts a ``loyalty-chain`` first on the
script's ``PATH`` that hands its arguments and folder over a Unix socket to this process, which
runs them through the CLI's ``main`` one at a time and answers with the output and exit code. The
script still sees a command on ``PATH`` with stdout, stderr and an exit status, so redirections,
pipes and ``$(...)`` work as written. ``loyalty-chain devnet`` runs as the real installed command
(a process that must outlive the call, stopped by the script's ``kill``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import sys
import threading
from pathlib import Path

from loyalty_chain.cli import main

CLIENT = """#!{python} -S
import json, os, socket, sys
if sys.argv[1:2] == ["devnet"]:
    os.execv({real!r}, [{real!r}, *sys.argv[1:]])
with socket.socket(socket.AF_UNIX) as conn:
    conn.connect({socket_path!r})
    conn.sendall(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}).encode() + b"\\n")
    reply = json.loads(b"".join(iter(lambda: conn.recv(65536), b"")))
sys.stdout.write(reply["out"])
sys.stderr.write(reply["err"])
sys.exit(reply["code"])
"""


class CliServer:
    """``with CliServer(folder) as bin_dir:`` put ``bin_dir`` first on the script's ``PATH``."""

    def __init__(self, folder: Path) -> None:
        self.bin_dir = folder / "bin"
        self.socket_path = folder / "cli.sock"
        self.commands: list[list[str]] = []

    def __enter__(self) -> Path:
        self.bin_dir.mkdir(parents=True)
        real = str(Path(sys.executable).parent / "loyalty-chain")
        client = self.bin_dir / "loyalty-chain"
        client.write_text(CLIENT.format(python=sys.executable, real=real, socket_path=str(self.socket_path)))
        client.chmod(0o755)
        self._listener = socket.socket(socket.AF_UNIX)
        self._listener.bind(str(self.socket_path))
        self._listener.listen()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self.bin_dir

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept below (close alone does not)
        self._listener.close()
        self._thread.join(timeout=30)

    def _serve(self) -> None:
        home = os.getcwd()
        try:
            while True:
                try:
                    conn, _ = self._listener.accept()
                except OSError:
                    return
                with conn:
                    request = json.loads(conn.makefile("rb").readline())
                    self.commands.append(request["argv"])
                    out, err = io.StringIO(), io.StringIO()
                    os.chdir(request["cwd"])
                    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                        try:
                            code = main(request["argv"])
                        except Exception as exc:  # a traceback would reach a CLI user: a failure here
                            print(f"uncaught {type(exc).__name__}: {exc}", file=sys.stderr)
                            code = 99
                    reply = {"out": out.getvalue(), "err": err.getvalue(), "code": code}
                    conn.sendall(json.dumps(reply).encode())
        finally:
            os.chdir(home)
