"""The real site in a real browser: `vnsearch serve` in a subprocess, Debian's chromium via Playwright.

Never runs `playwright install` (it downloads browsers): it drives /usr/bin/chromium, and skips
when that or the playwright package is missing. Screenshots go to tests/artifacts/ (git-ignored);
the one shown in the README goes to docs/screenshot.png.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS = ROOT / "docs"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install playwright; never 'playwright install')")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_site(index_dir: Path, log_path: Path):
    """`vnsearch serve` on a free loopback port; yields its base URL once it answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "vnsearch.cli", "serve", "--index-dir", str(index_dir),
             "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    pytest.fail(f"vnsearch serve exited with {server.returncode}:\n{log_path.read_text()}")
                try:
                    with urllib.request.urlopen(base + "/api/search?per_page=1", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"vnsearch serve did not answer within 60 s:\n{log_path.read_text()}")
                time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture
def site(sample_index, tmp_path):
    with running_site(sample_index, tmp_path / "serve.log") as base:
        yield base


def new_page(browser, viewport):
    """A page in Vietnamese that records console errors (a CSP violation shows up as one)."""
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def screenshot(page, name: str, **options) -> None:
    """A screenshot in tests/artifacts/ (git-ignored), to look at after a run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), **options)


def close_without_errors(page) -> None:
    """The page logged no console or script errors (a CSP violation is one); then close it."""
    assert page.errors == []
    page.context.close()


def search(page, base: str, text: str) -> None:
    page.goto(base + "/")
    page.fill("#q", text)
    with page.expect_navigation():
        page.press("#q", "Enter")


def test_unaccented_search_then_category_facet(browser, site):
    page = new_page(browser, DESKTOP)
    search(page, site, "hoa binh")

    assert page.locator(".summary .total").inner_text() == "4"
    marks = page.locator(".hits .snippet mark").all_inner_texts()
    # Typed without accents, found and highlighted with them (either tone-mark placement).
    assert "Bình" in marks and ({"Hoà", "Hòa"} & set(marks)), marks
    assert page.locator(".chart-svg a").count() == 3

    with page.expect_navigation():
        page.locator("aside.facets a", has_text="Kinh doanh").click()
    assert parse_qs(urlsplit(page.url).query) == {"q": ["hoa binh"], "category": ["Kinh doanh"]}
    assert page.locator(".summary .total").inner_text() == "1"
    assert page.locator(".hits .hit").count() == 1
    assert page.locator("aside.facets a[aria-current]", has_text="Kinh doanh").count() == 1

    screenshot(page, "results.png", full_page=True)
    close_without_errors(page)


def test_phone_width_shows_results_before_filters_without_sideways_scroll(browser, site):
    page = new_page(browser, PHONE)
    search(page, site, "hoa binh")
    results = page.locator("section.results").bounding_box()
    filters = page.locator("aside.facets").bounding_box()
    assert results["y"] < filters["y"]  # one column: the results first
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "results-phone.png", full_page=True)
    close_without_errors(page)


def completions(page, site, typed: str) -> list[str]:
    """What the search box offers once ``typed`` is typed into it, a key at a time."""
    page.goto(site + "/")
    page.locator("#q").press_sequentially(typed, delay=30)
    page.locator("#q-suggestions option").first.wait_for(state="attached", timeout=5000)
    return page.eval_on_selector_all("#q-suggestions option", "els => els.map(e => e.value)")


def test_search_box_offers_completions_with_accents(browser, site):
    page = new_page(browser, DESKTOP)
    options = completions(page, site, "hoa b")
    assert options[0].split()[-1] == "bình"
    close_without_errors(page)


def test_screenshot_for_the_readme(browser, request, tmp_path):
    """The README's screenshot, on the real dantri corpus when ../shared is there, else the samples.

    It goes to tests/artifacts/ (git-ignored); with VNSEARCH_UPDATE_SCREENSHOT=1 it also
    replaces docs/screenshot.png, so an ordinary test run never changes the repository.
    """
    try:
        index_dir, query = request.getfixturevalue("dantri_index"), "tiem vac xin"
    except pytest.skip.Exception:
        index_dir, query = request.getfixturevalue("sample_index"), "hoa binh"
    with running_site(index_dir, tmp_path / "serve.log") as base:
        page = new_page(browser, DESKTOP)
        search(page, base, query)
        assert page.locator(".hits .hit").count() > 0
        screenshot(page, "screenshot.png")
        if os.environ.get("VNSEARCH_UPDATE_SCREENSHOT") == "1":
            DOCS.mkdir(exist_ok=True)
            page.screenshot(path=str(DOCS / "screenshot.png"))
        close_without_errors(page)


def test_phone_chart_shows_the_count_of_every_month(browser, site):
    page = new_page(browser, PHONE)
    search(page, site, "hoa binh")
    rows = page.locator(".count-rows li")
    assert rows.count() == 3
    assert page.locator(".count-rows").is_visible() and not page.locator(".chart-svg").is_visible()
    # The counts are text on the page, next to their bars: nothing to hover.
    assert page.locator(".count-rows .count").all_inner_texts() == ["1", "2", "1"]
    for i in range(rows.count()):
        box = rows.nth(i).locator("a").bounding_box()
        assert box["height"] >= 44 and box["width"] > 300
    page.locator(".chart").scroll_into_view_if_needed()
    page.locator(".chart").screenshot(path=str(_artifact("chart-phone.png")))
    with page.expect_navigation():
        rows.nth(1).locator("a").click()
    assert page.locator(".summary .total").inner_text() == "2"
    close_without_errors(page)


def test_desktop_chart_writes_the_counts_on_the_bars(browser, site):
    page = new_page(browser, DESKTOP)
    search(page, site, "")
    assert page.locator(".chart-svg").is_visible() and not page.locator(".count-rows").is_visible()
    assert "6" in page.locator(".chart-svg text.count").all_text_contents()  # April 2021
    screenshot(page, "chart-desktop.png")
    close_without_errors(page)


def test_article_page_marks_the_search_words_and_leads_back(browser, site):
    page = new_page(browser, PHONE)
    search(page, site, "cong thuong")
    with page.expect_navigation():
        page.locator(".hits .hit h2 a").first.click()
    marks = page.locator("article.article mark").all_inner_texts()
    assert {"Công", "Thương"} <= set(marks), marks
    back = page.locator("p.back a")
    assert back.is_visible() and "cong thuong" in back.inner_text()
    assert back.bounding_box()["height"] >= 44
    screenshot(page, "article-phone.png", full_page=True)
    with page.expect_navigation():
        back.click()
    assert parse_qs(urlsplit(page.url).query) == {"q": ["cong thuong"]}
    assert page.locator(".summary .total").is_visible()
    close_without_errors(page)


def test_phone_touch_targets_are_at_least_44_px(browser, site):
    page = new_page(browser, PHONE)
    page.goto(site + "/?q=hoa+binh&per_page=1&category=Kinh+doanh&category=Gi%C3%A1o+d%E1%BB%A5c")
    selectors = ["aside.facets li a", ".pages a", ".sort a", ".chips a", ".tools a", ".hit .meta a"]
    small = []
    for selector in selectors:
        links = page.locator(selector)
        assert links.count() > 0, selector
        for i in range(links.count()):
            box = links.nth(i).bounding_box()
            if box and (box["height"] < 44 or box["width"] < 44):
                small.append((selector, links.nth(i).inner_text(), box["width"], box["height"]))
    assert small == []
    screenshot(page, "filters-phone.png", full_page=True)
    close_without_errors(page)


def test_search_box_completes_keeping_the_accents_typed(browser, site):
    page = new_page(browser, DESKTOP)
    options = completions(page, site, "bóng đ")
    assert options[0] == "bóng đá" and all(o.startswith("bóng đ") for o in options), options
    close_without_errors(page)


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
