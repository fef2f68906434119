"""The auditor's matrix in a real browser (Debian chromium through Playwright): filter to the
gaps, open a gap cell, read the source sentence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kgraph.analysis import coverage as cov
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def coverage_repo() -> OxigraphRepository:
    from kgraph.build import build

    repo = OxigraphRepository()
    build([ROOT / "data" / "sources"], repo, validate=False)
    assert cov.compute_directive_coverage(repo, "28-CT/TW") is not None
    return repo


@pytest.fixture(scope="module")
def server(coverage_repo) -> Iterator[str]:
    from conftest import LiveServer

    with LiveServer(create_app(coverage_repo)) as live:
        yield live.url


def test_gap_cell_drills_down_to_the_source_sentence(browser, server, coverage_repo,
                                                     artifacts: Path) -> None:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(f"{server}/coverage?doc=28-CT/TW", wait_until="networkidle")
        assert page.locator("#reconstructed-note").is_visible()
        page.screenshot(path=str(artifacts / "coverage-28-CT-TW.png"), full_page=True)
        all_rows = page.locator("#coverage tbody tr").count()
        page.select_option("select[name=status]", "unassigned")
        with page.expect_navigation():
            page.locator("form.filters button[type=submit]").click()
        assert 0 < page.locator("#coverage tbody tr").count() <= all_rows
        gap = page.locator('#coverage td[data-status="unassigned"] a').first
        province = gap.locator("xpath=..").get_attribute("data-province")
        task = gap.locator("xpath=..").get_attribute("data-task")
        with page.expect_navigation():
            gap.click()
        assert urlsplit(page.url).path == "/coverage/cell"
        assert page.locator("#verdict").get_attribute("data-status") == "unassigned"
        matrix = cov.read_matrix(coverage_repo, "28-CT/TW")
        source = next(s for s in cov.cell_sources(coverage_repo, matrix, task)
                      if s.province == province)
        quoted = page.locator("#province-sources blockquote.source").first.inner_text()
        assert source.source_text.split()[:6] == quoted.split()[:6]
        page.screenshot(path=str(artifacts / "coverage-cell.png"), full_page=True)
        # a dropped cell quotes the provinces that kept the task
        page.goto(f"{server}/coverage?doc=28-CT/TW&status=dropped", wait_until="networkidle")
        with page.expect_navigation():
            page.locator('#coverage td[data-status="dropped"] a').first.click()
        assert page.locator("#no-item").is_visible()
        assert page.locator("#other-sources blockquote.source").count() >= 1
        assert errors == []
        assert all(urlsplit(u).hostname == "127.0.0.1" for u in requests
                   if urlsplit(u).scheme in ("http", "https"))
    finally:
        context.close()
