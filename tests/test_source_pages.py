"""Provenance to the page: a plan built from its PDF says on which page each statement stands,
its linked-data page and the explorer link to the original opened at that page, the store
serves the original back, and a scan read with low confidence is flagged in the audit.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from conftest import ROOT, shared_path
from kgraph.analysis.validation import validate_graph
from kgraph.build import build
from kgraph.graph.mapping import document_graph
from kgraph.graph.vocab import ID, KG, sparql_prefixes
from kgraph.ingest.extract import extract_document, with_source
from kgraph.ingest.readers import Page, SourceText, read_source
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app

PLAN = "https://w3id.org/kgraph/id/doc/gia-lai/2509-kh-ubnd/2024"


@pytest.fixture(scope="module")
def pdf() -> Path:
    return shared_path("fixtures", "seed004.pdf")


@pytest.fixture(scope="module")
def pdf_repo(pdf) -> OxigraphRepository:
    repo = OxigraphRepository()
    build([pdf], repo, validate=False)
    return repo


def parts_with_pages(repo, cls: str) -> list[tuple[str, int | None, str, int]]:
    rows = repo.query(sparql_prefixes() + f"""
        SELECT ?part ?page ?quote ?start WHERE {{
          ?part a kg:{cls} ; kg:partOf <{PLAN}> ; kg:sourceText ?quote ; kg:sourceStart ?start .
          OPTIONAL {{ ?part kg:sourcePage ?page }}
        }}""").rows
    return [(str(p), int(n) if n is not None else None, str(q), int(s)) for p, n, q, s in rows]


@pytest.mark.parametrize("cls", ["Duty", "Assignment", "Task", "ReportingDuty"])
def test_every_part_carries_the_page_its_text_starts_on(pdf_repo, pdf, cls):
    source = read_source(pdf)
    rows = parts_with_pages(pdf_repo, cls)
    assert rows, f"no {cls} extracted"
    for part, page, quote, start in rows:
        assert page is not None, f"{part} has no page"
        assert source.text[start : start + len(quote)] == quote, part
        on = source.pages[page - 1]
        assert on.number == page and on.start <= start <= on.end, (part, page)
    if cls == "Duty":
        assert len({row[1] for row in rows}) > 1  # duties spread over several pages


def _duty_path(repo) -> tuple[str, int]:
    part, page, _, _ = sorted(parts_with_pages(repo, "Duty"), key=lambda r: -(r[1] or 0))[0]
    return part.removeprefix(str(ID)), page


def test_linked_data_page_links_to_the_original_at_that_page(pdf_repo, pdf):
    client = TestClient(create_app(pdf_repo))
    path, page = _duty_path(pdf_repo)
    html = client.get(f"/id/{path}").text
    match = re.search(r'<p class="source-page" id="source-page"><a href="([^"]+)"[^>]*>([^<]+)</a>',
                      html)
    assert match, html
    href, text = match.groups()
    assert text == f"trang {page} của tệp seed004.pdf"
    assert href.endswith(f"#page={page}")
    original = client.get(urlsplit(href).path)
    assert original.status_code == 200
    assert original.headers["content-type"] == "application/pdf"
    assert original.content == pdf.read_bytes()
    english = client.get(f"/id/{path}", params={"lang": "en"}).text
    assert f"page {page} of seed004.pdf" in english
    assert "kg:content" not in html and "base64" not in html  # the bytes are not shown


def test_explorer_panel_data_names_the_page(pdf_repo):
    client = TestClient(create_app(pdf_repo))
    path, page = _duty_path(pdf_repo)
    detail = client.get("/api/node", params={"iri": str(ID) + path})
    if detail.status_code == 404:  # the explorer indexes documents and agencies only
        pytest.skip("explorer does not index duties")
    body = detail.json()
    assert body["source_page"] == f"trang {page} của tệp seed004.pdf"


def test_unknown_or_text_sources_have_no_original():
    repo = OxigraphRepository()
    build([ROOT / "data" / "sources" / "004_d5d135182c80a159.txt"], repo, validate=False)
    client = TestClient(create_app(repo))
    assert client.get("/source/0123456789abcdef").status_code == 404
    assert client.get("/source/..%2F..%2Fetc").status_code == 404
    part = parts_with_pages(repo, "Duty")[0]
    assert part[1] is None  # plain text claims no page
    assert 'id="source-page"' not in client.get("/id/" + part[0].removeprefix(str(ID))).text


def test_low_confidence_scan_is_flagged_for_review():
    text = (ROOT / "data" / "sources" / "004_d5d135182c80a159.txt").read_text(encoding="utf-8")
    middle = len(text) // 2
    source = SourceText(Path("scan.png"), text, "image", "application/pdf", b"%PDF-1.4 scan",
                        (Page(1, 0, middle, 1, 95.0), Page(2, middle + 1, len(text), 2, 41.5)))
    doc = with_source(extract_document(text, "scan.png"), source)
    mapped = document_graph(doc)
    review = [s for s, _, o in mapped.graph.triples((None, KG.needsReview, None)) if o.toPython()]
    assert [str(s).rsplit("/", 1)[-1] for s in review] == ["2"]
    findings = [r for r in validate_graph(mapped.graph).results if r.rule.endswith("OcrReview")]
    assert len(findings) == 1 and findings[0].severity == "Warning"
    late_duty = [o for s, _, o in mapped.graph.triples((None, KG.ocrConfidence, None))]
    assert {float(c) for c in late_duty} == {95.0, 41.5}


@pytest.mark.browser
def test_browser_opens_the_original_at_the_duty_page(pdf_repo, live_server, browser, artifacts):
    path, page = _duty_path(pdf_repo)
    with live_server(create_app(pdf_repo)) as server:
        context = browser.new_context(locale="vi-VN")
        tab = context.new_page()
        requests: list[str] = []
        tab.on("request", lambda r: requests.append(r.url))
        tab.goto(f"{server.url}/id/{path}", wait_until="networkidle")
        link = tab.locator("#source-page a")
        assert link.inner_text() == f"trang {page} của tệp seed004.pdf"
        href = link.get_attribute("href")
        assert href.endswith(f"#page={page}")
        tab.screenshot(path=str(artifacts / "source-page-link.png"))
        response = tab.request.get(server.url + href)
        assert response.ok and response.headers["content-type"] == "application/pdf"
        assert all(urlsplit(u).hostname == "127.0.0.1" for u in requests)
        context.close()


def test_scan_pages_link_by_their_position_in_the_served_file():
    """Pages 1 and 9 of a scan bound into one PDF: page 9 is opened as the file's page 2."""
    text = (ROOT / "data" / "sources" / "004_d5d135182c80a159.txt").read_text(encoding="utf-8")
    middle = text.index("III.")
    source = SourceText(Path("scan-1.png"), text, "image", "application/pdf", b"%PDF-1.4 pages",
                        (Page(1, 0, middle - 1, 1, 96.0), Page(9, middle, len(text), 2, 95.0)))
    mapped = document_graph(with_source(extract_document(text, "scan-1.png"), source))
    repo = OxigraphRepository()
    repo.replace_graphs({str(mapped.name): mapped.to_ntriples()})
    client = TestClient(create_app(repo))
    late = [str(s) for s, _, o in mapped.graph.triples((None, KG.sourcePage, None))
            if int(o) == 9 and "/duty/" in str(s)]
    html = client.get("/id/" + late[0].removeprefix(str(ID))).text
    match = re.search(r'id="source-page"><a href="(/source/[0-9a-f]{16})#page=(\d+)"[^>]*>([^<]+)'
                      r"</a> · ([^<]+)</p>", html)
    assert match, html
    href, index, label, confidence = match.groups()
    assert (index, label, confidence) == ("2", "trang 9 của tệp scan-1.png", "độ tin cậy OCR 95%")
    served = client.get(href)
    assert served.content == b"%PDF-1.4 pages"
    assert served.headers["content-type"] == "application/pdf"


def test_source_file_and_page_resources_link_to_the_original(pdf_repo):
    client = TestClient(create_app(pdf_repo))
    (file,) = pdf_repo.query(sparql_prefixes() + f"SELECT ?f WHERE {{ <{PLAN}> kg:sourceFile ?f }}"
                             ).rows[0]
    key = str(file).rsplit("/", 1)[-1]
    html = client.get("/id/" + str(file).removeprefix(str(ID))).text
    assert f'id="original"><a href="/source/{key}"' in html and "Mở tệp gốc" in html
    page = client.get("/id/" + str(file).removeprefix(str(ID)) + "/page/3").text
    assert f'href="/source/{key}#page=3"' in page
    assert "<h1 id=\"label\">trang 3 của seed004.pdf</h1>" in page


@pytest.mark.browser
def test_explorer_side_panel_names_the_page(pdf_repo, live_server, browser):
    """The explorer's side panel of a duty: 'trang N của tệp seed004.pdf', linked to the page."""
    path, page = _duty_path(pdf_repo)
    duty = str(ID) + path
    with live_server(create_app(pdf_repo)) as server:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        tab = context.new_page()
        tab.goto(f"{server.url}/explore?open={PLAN}&direction=down&depth=3")
        tab.wait_for_selector("body[data-ready='1']")
        deadline = time.monotonic() + 20
        while not tab.evaluate("(id) => kgExplorer.data.has(id)", duty):
            assert time.monotonic() < deadline, "duty never drawn"
            tab.evaluate("(id) => kgExplorer.expand(id)", path_parent(duty))
            time.sleep(0.2)
        tab.evaluate("(id) => kgExplorer.select(id)", duty)
        link = tab.locator("#panel-source-page a")
        link.wait_for()
        assert link.inner_text() == f"trang {page} của tệp seed004.pdf"
        assert link.get_attribute("href").endswith(f"#page={page}")
        context.close()


def path_parent(iri: str) -> str:
    """The assignment a duty hangs below ({doc}/assignment/3/duty/2 -> {doc}/assignment/3)."""
    return iri.rsplit("/duty/", 1)[0]
