"""The README's command-line session runs as written, in order, from an empty folder.

The session is the ```sh block of "Command line"; the blocks the README says "continue the session
above" (the loyalty mechanics) run after it, before its closing ``kill %1``. bash runs the lines as
written; ``loyalty-chain`` on its ``PATH`` hands each command to this test's process
(:mod:`support.cli_server`: the CLI's ``main``, ~50 commands without importing web3 ~50 times),
except ``loyalty-chain devnet``, the installed command. Two more things differ from a reader's
terminal, neither in the commands: the devnet listens on a free port (``LOYALTY_CHAIN_RPC`` points
the commands there), since ``ape test`` may hold 8545 beside the suite; and the script waits for
that port after starting the devnet, as a reader sees its banner before typing on. The session's
last line, ``loyalty-chain demo``, is left to ``tests/integration/test_scripts.py``, and the
installed command's own start to the subprocess tests of ``tests/integration/test_cli.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cli_server import CliServer

from loyalty_chain.chain import free_port

README = Path(__file__).resolve().parents[2] / "README.md"
SH_BLOCK = re.compile(r"^```sh[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
CONTINUES = "These blocks continue the session above, in order"
DEVNET = "loyalty-chain devnet --accounts 20 &"
TIMEOUT_S = 300


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = re.search(r"^#{2,3} ", text[start + len(heading) :], re.MULTILINE)
    return text[start : start + len(heading) + following.start()] if following else text[start:]


def readme_session(port: int) -> str:
    """The session as one bash script: the Command line block, then the blocks that continue it."""
    text = README.read_text(encoding="utf-8")
    session = SH_BLOCK.findall(_section(text, "### Command line"))[0]
    assert DEVNET in session, f"the session no longer starts its devnet with {DEVNET!r}"
    head, kill, tail = session.partition("\nkill %1")
    assert kill, "the session no longer stops its devnet with `kill %1`"
    continued = text[text.index(CONTINUES) :]
    continued = continued[: re.search(r"^### ", continued, re.MULTILINE).start()]  # type: ignore[union-attr]
    wait = f"for _ in $(seq 300); do (echo > /dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; sleep 0.1; done"
    head = head.replace(DEVNET, f"loyalty-chain devnet --accounts 20 --port {port} &\n{wait}")
    closing = "\n".join(
        line for line in (kill + tail).splitlines() if not line.startswith("loyalty-chain demo")
    )
    return "\n".join(["set -e -o pipefail -x", head, *SH_BLOCK.findall(continued), closing, ""])


def test_the_readme_session_is_found() -> None:
    script = readme_session(8545)
    assert script.count("loyalty-chain ") >= 40  # the session and the five mechanics blocks
    assert "loyalty-chain giving donate" in script and "loyalty-chain tiers enable" in script


def test_the_readme_cli_session_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    script = tmp_path / "session.sh"
    script.write_text(readme_session(port), encoding="utf-8")
    settings = {  # for the commands, answered in this process, as for the devnet's process
        "LOYALTY_CHAIN_RPC": f"http://127.0.0.1:{port}",
        "LOYALTY_CHAIN_KEYSTORE": str(tmp_path / "keystore"),
    }
    for key in [k for k in os.environ if k.startswith("LOYALTY_CHAIN_")]:
        monkeypatch.delenv(key)  # records go to ./deployments of the session's folder
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    server = CliServer(tmp_path)
    env = {**os.environ, "PATH": f"{server.bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
           f"{os.environ['PATH']}"}  # fmt: skip
    work = tmp_path / "empty"
    work.mkdir()
    log = tmp_path / "session.log"  # a file, not a pipe: a devnet left running would hold a pipe open
    with server, log.open("w") as out:
        process = subprocess.Popen(
            ["bash", str(script)], cwd=work, env=env, start_new_session=True,
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(process, log)
    output = log.read_text()
    assert process.returncode == 0, f"the README session failed:\n{output[-6000:]}"
    assert "devnet stopped" in output  # `kill %1` stopped it, and it stopped its anvil
    assert (work / "deployments" / "31337" / "cafe.json").is_file()
    assert len(server.commands) >= 40  # the session's commands went through main, each once


def _wait(process: subprocess.Popen[str], log: Path) -> None:
    try:
        process.wait(timeout=TIMEOUT_S)
        deadline = time.monotonic() + 30  # `kill %1` asked the devnet to stop: it says when it has
        while (
            process.returncode == 0
            and "devnet stopped" not in log.read_text()
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
    finally:  # also the devnet of a session that stopped half-way (a background job: same group)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
