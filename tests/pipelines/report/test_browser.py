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


def test_interactions_filter_cards_and_conversation(browser, sample_month, tmp_path: Path) -> None:
    """Filter a table, open an agent card, click an evidence row to see its conversation."""
    from pipelines.monthly import month_bundle

    path = write_report(month_bundle(sample_month), tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    rows = page.locator("#tbl-summary tbody tr")
    assert rows.count() == 8
    page.locator('input[data-table="tbl-summary"]').fill("小鹿")
    assert page.locator("#tbl-summary tbody tr:not([hidden])").count() == 1
    card = page.locator(".agent").first
    assert not card.locator(".agent-body").is_visible()  # collapsed by default
    card.locator(".agent-head").click()
    assert card.locator(".agent-body").is_visible() and "各项" in card.locator(".arith").inner_text()
    ev = page.locator("#tbl-ev-slow_response tr.ev").first
    ctx = page.locator("#tbl-ev-slow_response tr.ctx").first
    assert not ctx.is_visible()
    ev.click()
    assert ctx.is_visible() and ctx.locator("li").count() >= 2 and ctx.locator("li.hit").count() == 1
    assert errors == []
    page.close()


def _pdf_pages(pdf: bytes) -> list[str]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]


def _pdf_page_png(pdf: bytes, index: int, out: Path) -> Path:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    doc[index].render(scale=1.5).to_pil().save(out)
    return out


def test_screenshots_of_both_reports(browser, sample_month, artifacts_dir: Path, tmp_path: Path) -> None:
    """Full-page screenshots of report.html and sla_report.html, and one printed agent page
    (Chromium print-to-PDF → PNG): each agent prints on exactly one A4 page for signature."""
    from datetime import datetime

    from pipelines.monthly import month_bundle
    from pipelines.sla.report import render_sla_report
    from pipelines.sla.run import run_sla
    from pipelines.sla.sample import generate_sla

    bundle = month_bundle(sample_month)
    path = write_report(bundle, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri())
    page.screenshot(path=str(artifacts_dir / "report_full.png"), full_page=True)
    page.locator(".agent-head").first.click()
    page.locator("#tbl-ev-slow_response tr.ev").first.click()
    page.evaluate("document.querySelector('nav.toc').style.position = 'static'")  # not over the element shot
    page.locator("#scorecards").screenshot(path=str(artifacts_dir / "report_agent_open.png"))
    pdf = page.pdf(format="A4", print_background=True)
    page.close()
    pages = _pdf_pages(pdf)
    agent_pages = [i for i, t in enumerate(pages) if "考核确认单" in t]
    assert len(agent_pages) == bundle.payroll.height  # one page per agent ...
    for name in bundle.payroll["name"].to_list():  # ... each name on exactly one of them, with the signature line
        assert sum(1 for i in agent_pages if name in pages[i]) == 1, name
    assert all("客服签字" in pages[i] for i in agent_pages)
    shot = _pdf_page_png(pdf, agent_pages[0], artifacts_dir / "report_print_agent.png")
    assert shot.stat().st_size > 20_000

    inbox = tmp_path / "sla_in"
    inbox.mkdir()
    generate_sla("2026-10", inbox, seed=7)
    rules = (Path(__file__).parents[3] / "data" / "sla_rules.yaml").read_text(encoding="utf-8")
    res = run_sla("2026-10", inbox, datetime(2026, 10, 31, 18), rules)
    sla_path = tmp_path / "sla_report.html"
    sla_path.write_text(render_sla_report(res, "2026-10"), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(sla_path.as_uri())
    assert errors == []
    assert page.locator("#targets svg.chart").count() == 3 and page.locator("#weekly svg.chart").count() == 2
    page.screenshot(path=str(artifacts_dir / "sla_full.png"), full_page=True)
    sla_pdf = page.pdf(format="A4", print_background=True)
    page.close()
    _pdf_page_png(sla_pdf, 0, artifacts_dir / "sla_print_first.png")
    for name in ("report_full.png", "report_agent_open.png", "sla_full.png"):
        assert (artifacts_dir / name).stat().st_size > 50_000, name
    if os.environ.get("KEFU_DOCS_SCREENSHOTS"):  # refresh the pictures in docs/reports.md
        _docs_images(artifacts_dir, Path(__file__).resolve().parents[3] / "docs" / "img")


def _docs_images(src: Path, dst: Path) -> None:
    """Smaller copies of the screenshots for docs/reports.md (first screen, reduced full pages)."""
    from PIL import Image

    dst.mkdir(parents=True, exist_ok=True)
    full = Image.open(src / "report_full.png").convert("RGB")
    full.crop((0, 0, full.width, min(full.height, 1700))).save(dst / "report_first_screen.png", optimize=True)
    for name, width in (("report_full.png", 420), ("sla_full.png", 640)):
        im = Image.open(src / name).convert("RGB")
        im.resize((width, round(im.height * width / im.width)), Image.LANCZOS).quantize(128).save(dst / name, optimize=True)
    for name in ("report_agent_open.png", "report_print_agent.png"):
        im = Image.open(src / name).convert("RGB")
        if im.width > 1000:
            im = im.resize((1000, round(im.height * 1000 / im.width)), Image.LANCZOS)
        im.quantize(256).save(dst / name, optimize=True)
