"""Open report.html in headless Debian Chromium (Playwright): no errors, charts drawn, no XSS.

Skips only when /usr/bin/chromium is absent and CI is not set; in CI a missing browser fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.report.bundle import MonthBundle
from pipelines.report.html import write_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing in CI: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); set CI=1 to make this a failure")
    from playwright.sync_api import sync_playwright  # installed in the venv (see pyproject)

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_report_in_headless_chromium(browser, bundle: MonthBundle, tmp_path: Path) -> None:
    path = write_report(bundle, tmp_path / "2026-10" / "report.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    console_errors: list[str] = []
    page_errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))

    page.goto(path.as_uri())
    page.wait_for_load_state("load")

    assert console_errors == []
    assert page_errors == []
    assert dialogs == []
    assert [u for u in requests if not u.startswith("file://")] == []  # fully offline
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("img").count() == 0  # the hostile <img> stayed text
    assert page.get_by_text("<img src=x onerror=", exact=False).count() == 1

    # charts rendered: every SVG has drawn bars/lines with a real size
    n_svg = page.locator("svg.chart").count()
    assert n_svg >= 10
    assert page.evaluate("document.querySelectorAll('svg.chart rect.bar').length") > 20
    assert page.evaluate("document.querySelectorAll('svg.chart path.line').length") == 3
    tallest = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll('#summary svg rect.bar'))"
        ".map(r => r.getBoundingClientRect().height))"
    )
    assert tallest > 30

    # the sort script runs without error: sort the summary table by 总分 (ascending)
    page.locator("#summary th", has_text="总分").click()
    first = page.locator("#summary tbody tr").first.locator("td").nth(2).inner_text()
    assert first.startswith("80")
    assert page_errors == [] and console_errors == []

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()


def test_minimal_report_in_headless_chromium(browser, minimal_bundle: MonthBundle, tmp_path: Path) -> None:
    path = write_report(minimal_bundle, tmp_path / "report.html")
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    assert errors == []
    assert page.locator(".nodata").count() >= 5
    page.screenshot(path=str(tmp_path / "minimal.png"), full_page=True)
    page.close()
