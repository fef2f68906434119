"""What a user does, in Debian's chromium: the header to every page, the implementers form with
the number typed as people write it, a permalink, a readable explorer, the English pages, and
the `kgraph viz` export at a readable size. Screenshots go to test-artifacts/ (and docs/)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kgraph.analysis.explore import export_lineage
from kgraph.graph.vocab import ID
from kgraph.web.app import create_app
from test_browser_explore import click_node, node_position
from test_browser_explore import wait_until as poll

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
D28 = str(ID["doc/vn/28-ct-tw/2023"])
TU273 = str(ID["doc/gia-lai/273-kh-tu/2024"])
GL2509 = str(ID["doc/gia-lai/2509-kh-ubnd/2024"])
SO_YTE_GL = str(ID["org/gia-lai/so-y-te"])
MIN_LABEL_PX = 10


def wait_until(page: Any, expression: str) -> Any:
    """Poll until truthy; generous, because CI machines are loaded (never a wrong answer)."""
    return poll(page, expression, timeout=90)


def panel_shows(page: Any, iri: str) -> None:
    wait_until(page, f"document.getElementById('panel').dataset.iri === {iri!r}")


@pytest.fixture(scope="module")
def server(seed_repo) -> Iterator[str]:
    from conftest import LiveServer

    with LiveServer(create_app(seed_repo)) as live:
        yield live.url


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    context.set_default_timeout(120_000)  # a loaded CI machine: pages are slow, never wrong
    tab = context.new_page()
    tab.errors = []
    tab.requests = []
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.base = server
    yield tab
    assert [u for u in tab.requests if urlsplit(u).hostname not in ("127.0.0.1", None)
            and urlsplit(u).scheme not in ("data", "blob")] == []
    context.close()


def test_header_reaches_every_page_from_home(page: Any, artifacts: Path) -> None:
    page.goto(page.base + "/")
    expected = {"Khám phá": "/explore", "Kiểm tra": "/audit", "RACI": "/raci",
                "Truy vấn": "/query", "Tải về": "/download"}
    for word, path in expected.items():
        page.goto(page.base + "/")
        with page.expect_navigation(timeout=180_000):  # the audit runs for the page
            page.locator("header.site nav a", has_text=word).first.click()
        assert urlsplit(page.url).path == path
        current = page.locator("header.site nav a[aria-current=page]").inner_text()
        assert current == word
        page.screenshot(path=str(artifacts / f"page{path.replace('/', '-')}.png"))
    page.goto(page.base + "/raci")  # RACI leads on to a matrix
    with page.expect_navigation():
        page.locator("#raci-documents a", has_text="28-CT/TW").first.click()
    assert page.locator("#raci").count() == 1
    assert page.locator("header.site nav a[aria-current=page]").inner_text() == "RACI"
    assert page.errors == []


def test_implementers_form_with_the_number_as_people_write_it(page: Any,
                                                              artifacts: Path) -> None:
    page.goto(page.base + "/query")
    page.wait_for_selector("body[data-ready='1']")
    field = page.locator("#q-param-doc")
    field.fill("")
    field.type("28-CT/TW")
    page.click("#q-run")
    wait_until(page, "document.getElementById('q-status').textContent.includes('7 dòng')")
    rows = page.locator("#q-results tbody tr")
    assert rows.count() == 7
    sixth = rows.nth(5).locator("td")
    assert sixth.nth(0).inner_text() == "6"  # the row number has its own column
    numbers = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(7)]
    assert "2509/KH-UBND" in numbers
    table = page.inner_text("#q-results")
    assert '"Gia Lai"' not in table and "@vi" not in table and "Gia Lai" in table
    headings = page.locator("#q-results thead th").all_inner_texts()
    assert headings[:3] == ["#", "Số hiệu", "Loại"]
    page.screenshot(path=str(artifacts / "query-form-implementers.png"), full_page=True)
    assert page.errors == []


def test_permalink_reopens_the_query_and_its_value(page: Any, browser: Any) -> None:
    page.goto(page.base + "/query")
    page.wait_for_selector("body[data-ready='1']")
    page.select_option("#q-name", "agency")
    page.fill("#q-param-agency", "so y te")
    page.fill("#q-param-province", "Gia Lai")
    page.click("#q-run")
    wait_until(page, "document.querySelector('#q-results th[data-variable=agency]') && "
                     "document.querySelectorAll('#q-results tbody tr').length > 0")
    expected = page.inner_text("#q-results")
    link = page.get_attribute("#q-permalink", "href")
    assert "q=agency" in link and "agency=so+y+te" in link
    other_context = browser.new_context(viewport={"width": 1300, "height": 900})
    other_context.set_default_timeout(120_000)
    other = other_context.new_page()
    other.goto(page.base + link)
    other.wait_for_selector("body[data-ready='1']")
    assert other.input_value("#q-name") == "agency"
    assert other.input_value("#q-param-agency") == "so y te"
    assert other.input_value("#q-param-province") == "Gia Lai"
    wait_until(other, "document.querySelector('#q-results th[data-variable=agency]') && "
                      "document.querySelectorAll('#q-results tbody tr').length > 0")
    assert other.inner_text("#q-results") == expected
    other.reload()  # a reload keeps the form as it was
    other.wait_for_selector("body[data-ready='1']")
    assert other.input_value("#q-param-agency") == "so y te"
    other.context.close()


def test_the_editor_share_link_reopens_the_edited_query(page: Any, browser: Any) -> None:
    page.goto(page.base + "/query")
    page.wait_for_selector("body[data-ready='1']")
    edited = "SELECT ?n WHERE { ?d <http://data.europa.eu/eli/ontology#id_local> ?n } LIMIT 3"
    page.evaluate("(q) => { kgraphYasgui.getTab().setQuery(q); }", edited)
    link = page.evaluate("kgraphYasgui.getTab().getShareableLink()")
    assert urlsplit(link).path == "/query"
    other_context = browser.new_context()
    other_context.set_default_timeout(120_000)
    other = other_context.new_page()
    other.goto(link)
    other.wait_for_selector("body[data-ready='1']")
    assert other.evaluate("kgraphYasgui.getTab().getQuery()") == edited
    other.reload()  # a reload keeps it too
    other.wait_for_selector("body[data-ready='1']")
    assert other.evaluate("kgraphYasgui.getTab().getQuery()") == edited
    other.context.close()


def test_a_number_that_matches_nothing_gets_suggestions(page: Any) -> None:
    page.goto(page.base + "/query?q=implementers&doc=2509")
    page.wait_for_selector("body[data-ready='1']")
    wait_until(page, "!document.getElementById('q-hint').hidden")
    suggestion = page.locator("#q-hint button.suggestion", has_text="2509/KH-UBND")
    assert suggestion.count() == 1


def label_sizes(page: Any) -> dict[str, float]:
    return page.evaluate("kgExplorer.labelSizes()")


def test_explorer_expansion_stays_readable(page: Any, artifacts: Path) -> None:
    page.goto(page.base + "/explore")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#search", "28-CT/TW")
    page.click(f"#results li[data-iri='{D28}']")
    panel_shows(page, D28)
    click_node(page, TU273, double=True)
    wait_until(page, f"kgExplorer.visibleIds().includes({GL2509!r})")
    click_node(page, GL2509, double=True)
    wait_until(page, f"kgExplorer.visibleIds().includes({SO_YTE_GL!r})")
    page.click("#fit")  # the default view of the whole expansion
    sizes = label_sizes(page)
    assert len(sizes) >= 90
    assert min(sizes.values()) >= MIN_LABEL_PX, sorted(sizes.values())[:5]
    positions = page.evaluate("Object.values(kgExplorer.network.getPositions())")
    xs = [p["x"] for p in positions]
    ys = [p["y"] for p in positions]
    assert (max(ys) - min(ys)) > 0.3 * (max(xs) - min(xs))  # rows wrap: not a strip
    page.screenshot(path=str(artifacts / "explore-28-273-2509.png"))
    shutil.copy(artifacts / "explore-28-273-2509.png", ROOT / "docs" / "explorer-expansion.png")

    # collapsing keeps the collapsed node where the user clicked it
    before = page.evaluate(f"kgExplorer.pagePosition({GL2509!r})")
    pos = node_position(page, GL2509)
    before = page.evaluate(f"kgExplorer.pagePosition({GL2509!r})")
    page.mouse.dblclick(pos["x"], pos["y"])
    wait_until(page, f"!kgExplorer.visibleIds().includes({SO_YTE_GL!r})")
    after = page.evaluate(f"kgExplorer.pagePosition({GL2509!r})")
    assert abs(after["x"] - before["x"]) < 2 and abs(after["y"] - before["y"]) < 2

    # "Lên": the selected node drawn upwards, still readable
    click_node(page, GL2509)
    panel_shows(page, GL2509)
    page.check("input[name=direction][value=up]")
    wait_until(page, f"kgExplorer.visibleIds().includes({D28!r}) && "
                     f"kgExplorer.visibleIds().includes({GL2509!r})")
    assert min(label_sizes(page).values()) >= MIN_LABEL_PX
    assert page.errors == []


def test_explorer_and_audit_in_english(page: Any, artifacts: Path) -> None:
    page.goto(page.base + "/explore?lang=en")
    page.wait_for_selector("body[data-ready='1']")
    assert page.get_attribute("#search", "placeholder").startswith("Search")
    page.fill("#search", "so y te gia lai")
    page.click(f"#results li[data-iri='{SO_YTE_GL}']")
    panel_shows(page, SO_YTE_GL)
    panel = page.inner_text("#panel")
    assert "Duties given" in panel and "Properties" in panel and "Nhiệm vụ được giao" not in panel
    assert page.inner_text("#panel-roles li[data-relation='lead']").startswith("lead — ")
    legend = page.inner_text("#legend")
    assert "Agency" in legend and "carries out" in legend and "Cơ quan" not in legend
    assert "nodes" in page.inner_text("#status")
    page.screenshot(path=str(artifacts / "explore-en.png"))
    page.goto(page.base + "/audit?lang=en")
    assert page.inner_text("h1") == "Plan audit"
    findings = page.inner_text("#findings")
    assert "Severity" in findings and "Mức" not in findings
    page.screenshot(path=str(artifacts / "audit-en.png"))
    assert page.errors == []


def test_viz_export_is_readable(browser: Any, seed_repo, tmp_path: Path,
                                artifacts: Path) -> None:
    html, count = export_lineage(seed_repo, "28-CT/TW")
    out = tmp_path / "viz.html"
    out.write_text(html, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.goto(out.as_uri())
    wait_until(tab, "window.kgExport && window.kgExport.count")
    assert count > 150
    assert min(tab.evaluate("kgExport.labelSizes()")) >= MIN_LABEL_PX
    positions = tab.evaluate("Object.values(kgExport.network.getPositions())")
    xs = [p["x"] for p in positions]
    ys = [p["y"] for p in positions]
    assert (max(ys) - min(ys)) > 0.3 * (max(xs) - min(xs))
    tab.screenshot(path=str(artifacts / "viz-28-CT-TW.png"))
    context.close()


def test_a_long_answer_is_paged_and_says_which_rows_it_shows(page: Any, monkeypatch) -> None:
    from kgraph.web import queries_api

    monkeypatch.setattr(queries_api, "PAGE_ROWS", 3)  # the seeds' 7 implementers: 3 pages
    page.goto(page.base + "/query?q=implementers&doc=28-CT%2FTW")
    wait_until(page, "document.getElementById('q-status').textContent.includes('dòng 1–3 trên 7')")
    assert page.locator("#q-results tbody tr").count() == 3
    assert page.is_disabled("#q-previous") and page.is_visible("#q-next")
    page.click("#q-next")
    wait_until(page, "document.getElementById('q-status').textContent.includes('dòng 4–6 trên 7')")
    assert page.locator("#q-results tbody tr").nth(0).locator("td").nth(0).inner_text() == "4"
    page.click("#q-next")
    wait_until(page, "document.getElementById('q-status').textContent.includes('dòng 7–7 trên 7')")
    assert page.is_disabled("#q-next")
    page.click("#q-previous")
    wait_until(page, "document.getElementById('q-status').textContent.includes('dòng 4–6 trên 7')")
    csv = page.get_attribute("#q-csv", "href")
    assert "offset" not in csv and "format=csv" in csv  # the download has every row
    assert page.errors == []
