"""The query page and document pages in a real browser (Debian chromium through Playwright).

The app serves the store built from data/sources by the real extractor, over uvicorn on
127.0.0.1; the query runs through the SPARQL endpoint at /sparql. Every request the page makes
is recorded: none may leave 127.0.0.1 (the YASGUI assets are vendored, no CDN).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from factories import provincial_plan
from kgraph.graph.mapping import document_graph
from kgraph.graph.vocab import ID
from kgraph.web.app import create_app

pytestmark = pytest.mark.browser

XSS_TITLE = ('<script>window.__xss=1</script><img src="/xss-probe.png" '
             'onerror="window.__xss=2">')


class Visit:
    """A browser page that records every request it makes and every script error."""

    def __init__(self, browser: object, base: str) -> None:
        self.base = base
        self.context = browser.new_context(locale="vi-VN", viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: str) -> object:
        response = self.page.goto(self.base + path, wait_until="networkidle")
        assert response is not None and response.ok, path
        return response

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests
                if urlsplit(url).scheme not in ("data", "blob", "about")
                and urlsplit(url).hostname != "127.0.0.1"]

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def seed_server(seed_repo) -> Iterator[str]:
    from conftest import LiveServer

    with LiveServer(create_app(seed_repo)) as server:
        yield server.url


@pytest.fixture
def visit(browser, seed_server) -> Iterator[Visit]:
    session = Visit(browser, seed_server)
    yield session
    session.close()


def document_path(repo, number: str) -> str:
    rows = repo.query('PREFIX eli: <http://data.europa.eu/eli/ontology#> '
                      f'SELECT DISTINCT ?d WHERE {{ ?d eli:id_local "{number}" }}').rows
    assert len(rows) == 1, rows
    return "/id/" + str(rows[0][0]).removeprefix(str(ID))


def _editor_holds(page, text: str) -> None:
    """Wait until the editor's query holds ``text``: CodeMirror draws only the lines in view, so
    a bound value further down the query is not in the page's text."""
    page.wait_for_function(
        "t => { const e = document.querySelector('.tabPanel.active .CodeMirror');"
        " return !!e && !!e.CodeMirror && e.CodeMirror.getValue().includes(t); }", arg=text)


def test_query_page_runs_the_implementers_example_through_sparql(visit, artifacts: Path):
    visit.open("/query")
    page = visit.page
    assert page.locator("#q-name").input_value() == "implementers"  # the flagship query first
    editor = page.locator(".tabPanel.active .CodeMirror")
    editor.wait_for()
    _editor_holds(page, "28-ct-tw")
    # the text the embedded store runs (LATERAL joins), not marked as an error by YASQE
    assert "LATERAL" in page.evaluate("kgraphYasgui.getTab().getQuery()")
    assert page.evaluate("kgraphYasgui.getTab().getYasqe().queryValid") is True
    assert page.locator(".tabPanel.active .parseErrorIcon").count() == 0
    with page.expect_response(lambda r: urlsplit(r.url).path == "/sparql") as answer:
        page.locator(".tabPanel.active .yasqe_queryButton").click()
    assert answer.value.status == 200, answer.value.text()
    results = page.locator(".tabPanel.active .yasr table.dataTable")
    results.wait_for()
    page.locator(".tabPanel.active .yasr", has_text="2509/KH-UBND").wait_for()
    assert "273-KH/TU → 28-CT/TW" in results.inner_text()
    assert '"Gia Lai"' not in results.inner_text()  # values, not "…"@vi
    page.screenshot(path=str(artifacts / "query-implementers-28-CT-TW.png"), full_page=True)
    page.evaluate("() => { kgraphYasgui.getTab().setQuery('SELECT * WHERE { ?s ?p }'); }")
    page.wait_for_function("() => kgraphYasgui.getTab().getYasqe().queryValid === false")
    assert visit.errors == []
    assert any(urlsplit(u).path == "/static/vendor/yasgui/yasgui.min.js" for u in visit.requests)
    assert visit.foreign_requests() == []


def test_editor_autocompletion_asks_no_other_host(visit):
    visit.open("/query")
    page = visit.page
    assert page.evaluate("() => Yasgui.Yasqe.defaults.autocompleters") == [
        "variables", "prefixes"]
    page.locator(".tabPanel.active .CodeMirror").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nSELECT * WHERE { ?s a foaf:Pers")
    page.keyboard.press("Control+Space")
    page.keyboard.type("\n?s foaf:na")
    page.keyboard.press("Control+Space")
    page.wait_for_timeout(1000)
    assert visit.errors == []  # a request blocked by the CSP would log an error here
    assert visit.foreign_requests() == []


def test_result_links_open_the_local_page(visit, artifacts: Path):
    visit.open("/query")
    page = visit.page
    _editor_holds(page, "28-ct-tw")
    page.locator(".tabPanel.active .yasqe_queryButton").click()
    link = page.locator(".tabPanel.active .yasr a", has_text="2509-kh-ubnd").first
    link.wait_for()
    with page.expect_navigation():
        link.click()
    assert urlsplit(page.url).hostname == "127.0.0.1"
    assert urlsplit(page.url).path.startswith("/id/doc/gia-lai/2509-kh-ubnd/")
    assert page.locator("h1").inner_text() == "2509/KH-UBND"
    assert visit.foreign_requests() == []


def test_document_page_shows_lineage_and_assignments(visit, seed_repo, artifacts: Path):
    path = document_path(seed_repo, "2509/KH-UBND")
    visit.open(path)
    page = visit.page
    assert page.locator("h1").inner_text() == "2509/KH-UBND"
    assert "28-CT/TW" in page.locator("#lineage-up").inner_text()
    assignments = page.locator("#assignments-table tbody tr")
    assert assignments.count() >= 5
    assert "Sở Y tế" in page.locator("#assignments-table").inner_text()
    page.screenshot(path=str(artifacts / "document-2509-KH-UBND.png"), full_page=True)
    visit.open(path + "?lang=en")
    assert "Assignments" in page.locator("#assignments h2").first.inner_text()
    page.screenshot(path=str(artifacts / "document-2509-KH-UBND-en.png"), full_page=True)
    assert visit.errors == [] and visit.foreign_requests() == []


def test_directive_page_lists_the_plans_carrying_it_out(visit, seed_repo, artifacts: Path):
    visit.open(document_path(seed_repo, "28-CT/TW"))
    down = visit.page.locator("#lineage-down").inner_text()
    assert "2509/KH-UBND" in down and "234/KH-UBND" in down
    visit.page.screenshot(path=str(artifacts / "document-28-CT-TW.png"), full_page=True)
    assert visit.foreign_requests() == []


def test_markup_from_a_document_never_runs(browser, sample_repo, live_server, artifacts: Path):
    plan = provincial_plan("77/KH-UBND", "Gia Lai", "7-KH/TU", date(2024, 1, 2),
                           date(2024, 2, 3), text=XSS_TITLE)
    mapped = document_graph(plan)
    sample_repo.replace_graphs({str(mapped.name): mapped.to_ntriples()})
    path = "/id/" + str(mapped.document).removeprefix(str(ID))
    with live_server(create_app(sample_repo)) as server:
        session = Visit(browser, server.url)
        try:
            for target in (path, "/", path + "/assignment/1/duty/1"):
                session.open(target)
                assert session.page.evaluate("() => window.__xss") is None, target
                assert session.page.locator("img").count() == 0, target
            session.open(path)
            shown = session.page.locator("#properties").inner_text()
            assert "<script>window.__xss=1</script>" in shown
            session.page.screenshot(path=str(artifacts / "escaped-title.png"), full_page=True)
        finally:
            session.close()
    assert session.dialogs == []
    assert not any("xss-probe" in url for url in session.requests)
    assert session.foreign_requests() == []
