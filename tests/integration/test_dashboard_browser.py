"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): it renders offline with no
console error, and every number tile shows the JSON report's value. The screenshot is kept in
``tests/artifacts/`` (gitignored). In CI a missing Chromium fails the test; elsewhere it skips."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loyalty_chain.chain import Chain
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.program import ProgramOptions, deploy_program
from loyalty_chain.records import PerkSpec
from loyalty_chain.reports import program_report
from loyalty_chain.reports.dashboard import write_html

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path is None:
        message = "chromium is not installed (toolchain/setup.sh installs it: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_dashboard_renders_the_reports_numbers(chain: Chain, tmp_path: Path, browser_page: Any) -> None:
    record = deploy_program(chain, ProgramOptions("dash"), chain.dev_account(0), root=tmp_path)
    brand = LoyaltyClient(chain, record, chain.dev_account(0))
    members = [chain.dev_account(i) for i in range(1, 6)]
    brand.enroll_many([(m.address, i % 3) for i, m in enumerate(members)])
    brand.issue_many([(m.address, 100 + i) for i, m in enumerate(members)], "welcome")
    brand.issue(members[0].address, 25, "<b>bonus</b>")  # shown as text, never as markup
    perk = brand.add_perk(PerkSpec("Free latte", price=60))
    LoyaltyClient(chain, record, members[1]).redeem(perk.perk_id)
    report = program_report(chain, record, cache=tmp_path / "c.sqlite", value_per_point="0.01")
    page_file = write_html(report, tmp_path / "dashboard.html")

    errors: list[str] = []
    requests: list[str] = []
    browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_page.on("pageerror", lambda e: errors.append(str(e)))
    browser_page.on("request", lambda r: requests.append(r.url))
    browser_page.goto(page_file.as_uri())
    browser_page.wait_for_selector("body[data-rendered='1']", timeout=15_000)
    ARTIFACTS.mkdir(exist_ok=True)
    browser_page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    assert errors == []
    assert requests == [page_file.as_uri()]  # offline: the page fetches nothing
    expected = json.loads(json.dumps(report.to_json(), default=str))
    tiles = browser_page.eval_on_selector_all(
        "[data-kpi]", "els => els.map(e => [e.dataset.kpi, e.dataset.value, e.textContent])"
    )
    assert len(tiles) >= 12
    for key, value, shown in tiles:
        want = expected[key]
        if want is None:
            assert value == "", key
        else:
            assert float(value) == float(want), key
        assert shown.strip(), key
    shown = dict((k, s) for k, _, s in tiles)
    assert shown["members"] == "5" and shown["issued"] == "535" and shown["redeemed"] == "60"
    assert shown["redemption_rate"] == f"{100 * 60 / 535:.1f}%"
    assert browser_page.locator("#issued rect").count() >= 1
    assert browser_page.locator("#tiers text").all_text_contents()[::2] == ["Bronze", "Silver", "Gold"]
    assert "<b>bonus</b>" in browser_page.locator("#issued-legend").inner_text()
    assert browser_page.locator("#perks text").first.text_content() == "Free latte"
