"""The member page in a real headless Chromium (Debian's, driven by Playwright): a wallet injected as
an EIP-1193 provider backed by a dev key connects, sees card, tier, balance and why a perk is out of
reach, and redeems gasless by signing. The screenshot is kept in ``tests/artifacts/`` (gitignored)."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from loyalty_chain.chain import Chain
from loyalty_chain.gasless import sign_typed_data
from loyalty_chain.gateway import Gateway, create_app
from loyalty_chain.records import PerkSpec

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
START_S = 30.0

WALLET = """
window.ethereum = {
  request: async ({method, params}) => {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return [%(address)s];
    if (method === "eth_signTypedData_v4") return await window.devSign(params[1]);
    throw new Error("unsupported method " + method);
  },
};
"""


def chromium() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path is None:
        message = "chromium is not installed (toolchain/setup.sh installs it: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def served(gateway: Gateway) -> Iterator[str]:
    """The gateway on a real socket (port 0: the OS picks a free one), stopped after the test."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(gateway, background=False), port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_S
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the gateway did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_member_connects_sees_the_card_and_redeems_gasless(
    chain: Chain, gateway: Gateway, served: str, page: Any
) -> None:
    alice = chain.dev_account(4)
    brand = gateway.client
    brand.enroll(alice.address, "Silver")
    brand.issue(alice.address, 300, "welcome")
    brand.add_perk(PerkSpec("Free latte", price=120))
    brand.add_perk(PerkSpec("Gold lounge", price=50, min_tier=2))

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    signed: list[dict[str, Any]] = []

    def dev_sign(typed_json: str) -> str:
        typed = json.loads(typed_json)
        signed.append(typed)
        return sign_typed_data(alice, typed)

    page.expose_function("devSign", dev_sign)
    page.add_init_script(WALLET % {"address": json.dumps(alice.address.lower())})
    page.goto(f"{served}/member")
    page.click("#connect")
    page.wait_for_selector("body[data-member]", timeout=15_000)
    assert page.text_content("#balance") == "300"
    assert page.text_content("#tier") == "Silver"
    lounge = page.locator("li[data-perk-id='2']")
    assert lounge.locator("button").is_disabled()
    assert lounge.locator(".why[data-code='tier']").count() == 1

    page.click("li[data-perk-id='1'] button")
    page.wait_for_selector("body[data-redeemed]", timeout=30_000)
    page.wait_for_function("document.getElementById('balance').textContent === '180'", timeout=15_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "member_page.png"), full_page=True)

    assert errors == []
    assert len(signed) == 1 and signed[0]["message"]["perkId"] in (1, "1")
    assert brand.balance(alice.address) == 180
    assert "Redeemed" in (page.text_content("#status") or "")
