"""The explorer and the static export in Debian's chromium: the user's path, safety, no network.

Nodes are clicked on the canvas where vis-network drew them (``kgExplorer.pagePosition``).
The page runs under the server's CSP, so waits poll with ``page.evaluate`` (CDP) instead of
``wait_for_function`` (which evaluates strings inside the page and the CSP forbids that).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kgraph.analysis.explore import export_lineage
from kgraph.graph.mapping import document_graph
from kgraph.graph.vocab import ID
from kgraph.web.app import create_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
D28 = str(ID["doc/vn/28-ct-tw/2023"])
TU273 = str(ID["doc/gia-lai/273-kh-tu/2024"])
GL2509 = str(ID["doc/gia-lai/2509-kh-ubnd/2024"])
SO_YTE_GL = str(ID["org/gia-lai/so-y-te"])
PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 1">'
TOOLTIP_TEXT = """(() => { const t = document.querySelector('.vis-tooltip');
    return t && t.style.visibility !== 'hidden' && t.textContent; })()"""


def wait_until(page: Any, expression: str, timeout: float = 15.0) -> Any:
    """Poll a JS expression until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        time.sleep(0.05)


def node_position(page: Any, iri: str) -> dict[str, float]:
    """Centre the node (scale 1.3) and return where it is drawn, in page coordinates."""
    page.evaluate("""(id) => kgExplorer.network.focus(id, {scale: 1.3, animation: false})""", iri)
    position = page.evaluate("(id) => kgExplorer.pagePosition(id)", iri)
    assert position, f"{iri} is not drawn"
    return position


def click_node(page: Any, iri: str, *, double: bool = False) -> None:
    """Click as a user would: the view centres every node at the same spot, so a click right
    after a double-click there would count as its third click; move away and wait first."""
    page.mouse.move(5, 5)
    page.wait_for_timeout(600)
    pos = node_position(page, iri)
    page.mouse.move(pos["x"], pos["y"])
    if double:
        page.mouse.dblclick(pos["x"], pos["y"])
    else:
        page.mouse.click(pos["x"], pos["y"])


def visible(page: Any) -> set[str]:
    return set(page.evaluate("kgExplorer.visibleIds()"))


def panel_shows(page: Any, iri: str) -> None:
    wait_until(page, f"document.getElementById('panel').dataset.iri === {iri!r}")


def record_requests(page: Any) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


@pytest.fixture
def open_page(browser: Any, live_server: Any) -> Callable[..., Any]:
    """Factory: a page on /explore over the given repository, with its requests recorded."""
    contexts: list[Any] = []
    servers: list[Any] = []

    def factory(repo: Any) -> tuple[Any, list[str], str]:
        server = live_server(create_app(repo)).__enter__()
        servers.append(server)
        context = browser.new_context(viewport={"width": 1500, "height": 950})
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        requests = record_requests(page)
        page.goto(server.url + "/explore")
        page.wait_for_selector("body[data-ready='1']")
        page.errors = errors  # type: ignore[attr-defined]
        return page, requests, server.url

    yield factory
    for context in contexts:
        context.close()
    for server in servers:
        server.__exit__(None, None, None)


def search_and_open(page: Any, query: str, iri: str) -> None:
    page.fill("#search", query)
    page.wait_for_selector(f"#results li[data-iri='{iri}']")
    page.click(f"#results li[data-iri='{iri}']")
    panel_shows(page, iri)


def assert_local(requests: list[str], base: str) -> None:
    assert requests, "no request recorded"
    outside = [u for u in requests if not u.startswith(base + "/")]
    assert outside == []


def test_directive_to_agency_in_the_seed_graph(open_page, seed_repo, artifacts: Path) -> None:
    page, requests, base = open_page(seed_repo)
    search_and_open(page, "28-CT/TW", D28)
    assert page.inner_text("#panel-title") == "28-CT/TW"
    if GL2509 not in visible(page):  # reached through the Tỉnh ủy plan
        click_node(page, TU273, double=True)
        wait_until(page, f"kgExplorer.visibleIds().includes({GL2509!r})")
    assert GL2509 in visible(page)

    click_node(page, GL2509, double=True)  # expand the UBND plan: assignments, duties, agencies
    wait_until(page, f"kgExplorer.visibleIds().includes({SO_YTE_GL!r})")
    click_node(page, SO_YTE_GL)
    panel_shows(page, SO_YTE_GL)
    assert page.inner_text("#panel-title") == "Sở Y tế"
    lead = page.inner_text("#panel-roles li[data-relation='lead']")
    assert lead.startswith("chủ trì — 2509/KH-UBND")
    # the duty as data/sources/004_*.txt states it under "3. Sở Y tế:"
    assert "Chủ trì triển khai thực hiện có hiệu quả các chiến lược, chương trình về dinh" in lead
    page.screenshot(path=str(artifacts / "explore-seed-so-y-te.png"))
    shutil.copy(artifacts / "explore-seed-so-y-te.png", ROOT / "docs" / "explorer.png")

    page.select_option("#f-province", "Kiên Giang")
    wait_until(page, f"!kgExplorer.visibleIds().includes({GL2509!r})")
    shown = visible(page)
    assert D28 in shown and SO_YTE_GL not in shown
    assert str(ID["doc/kien-giang/234-kh-ubnd/2024"]) in shown
    page.screenshot(path=str(artifacts / "explore-seed-kien-giang.png"))
    assert page.errors == []
    assert_local(requests, base)


def test_expand_collapse_and_reverse_view(open_page, sample_repo, artifacts: Path) -> None:
    page, requests, base = open_page(sample_repo)
    search_and_open(page, "28 ct tw", D28)
    assert visible(page) == {D28, TU273, str(ID["doc/kien-giang/211-kh-tu/2024"]),
                             str(ID["doc/lao-cai/99-kh-tu/2024"])}
    click_node(page, TU273, double=True)
    wait_until(page, f"kgExplorer.visibleIds().includes({GL2509!r})")
    click_node(page, GL2509, double=True)
    wait_until(page, f"kgExplorer.visibleIds().includes({SO_YTE_GL!r})")
    click_node(page, SO_YTE_GL)
    panel_shows(page, SO_YTE_GL)
    roles = page.inner_text("#panel-roles")
    assert "phối hợp — 2509/KH-UBND" in roles and "Chủ trì, phối hợp với Sở Y tế" in roles
    page.screenshot(path=str(artifacts / "explore-sample-expanded.png"))

    click_node(page, TU273, double=True)  # collapse: what only 273-KH/TU brought goes away
    wait_until(page, f"!kgExplorer.visibleIds().includes({GL2509!r})")
    assert SO_YTE_GL not in visible(page) and TU273 in visible(page)

    # the reverse view: from an agency up to the directive
    page.click("#clear")
    search_and_open(page, "so y te gia lai", SO_YTE_GL)
    assert page.is_checked("input[name=direction][value=up]")
    up = wait_until(page, f"kgExplorer.visibleIds().includes({D28!r}) && kgExplorer.visibleIds()")
    assert {GL2509, TU273, SO_YTE_GL} <= set(up)
    levels = page.evaluate(
        f"kgExplorer.nodes.get([{D28!r}, {SO_YTE_GL!r}]).map(n => n.level)")
    assert levels[0] < levels[1]  # directive drawn above the agency
    page.screenshot(path=str(artifacts / "explore-sample-up.png"))

    page.check("#f-audit")  # overlay: 28-CT/TW has a conflicting issuer
    wait_until(page, f"kgExplorer.nodes.get({D28!r}).borderWidth > 1")
    assert page.evaluate(f"kgExplorer.nodes.get({SO_YTE_GL!r}).borderWidth") == 1
    assert page.errors == []
    assert_local(requests, base)


def test_markup_in_a_document_stays_text(open_page, sample_repo, artifacts: Path,
                                         tmp_path: Path, browser: Any) -> None:
    from factories import provincial_plan

    plan = provincial_plan("77/KH-UBND", "Gia Lai", "273-KH/TU", date(2024, 9, 20),
                           date(2024, 11, 2), text=PAYLOAD)
    graph = document_graph(plan)
    sample_repo.replace_graphs({str(graph.name): graph.to_ntriples()})
    doc = str(ID["doc/gia-lai/77-kh-ubnd/2024"])

    page, requests, base = open_page(sample_repo)
    search_and_open(page, "77/KH-UBND", doc)
    assert PAYLOAD in page.inner_text("#panel-props")  # eli:title, as text
    pos = node_position(page, doc)
    page.mouse.move(pos["x"], pos["y"])
    tooltip = wait_until(page, TOOLTIP_TEXT)
    assert PAYLOAD in tooltip
    assert page.evaluate("document.querySelectorAll('.vis-tooltip img, #panel img').length") == 0
    page.screenshot(path=str(artifacts / "explore-markup-as-text.png"))
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert_local(requests, base)

    # the static export of the same lineage
    html, _ = export_lineage(sample_repo, doc, direction="up")
    out = tmp_path / "viz.html"
    out.write_text(html, encoding="utf-8")
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    export_page = context.new_page()
    export_requests = record_requests(export_page)
    export_page.goto(out.as_uri())
    wait_until(export_page, "window.kgExport && window.kgExport.count")
    position = export_page.evaluate("""(id) => {
        const n = kgExport.network, p = n.canvasToDOM(n.getPositions([id])[id]);
        const r = document.getElementById('network').getBoundingClientRect();
        return {x: r.left + p.x, y: r.top + p.y}; }""", doc)
    export_page.mouse.move(position["x"], position["y"])
    tip = wait_until(export_page, TOOLTIP_TEXT)
    assert PAYLOAD in tip
    export_page.mouse.click(position["x"], position["y"])
    assert PAYLOAD in export_page.inner_text("#details")
    assert PAYLOAD in export_page.inner_text("h1")
    assert export_page.evaluate("typeof window.__pwned") == "undefined"
    export_page.screenshot(path=str(artifacts / "viz-export-markup.png"))
    assert [u for u in export_requests if not u.startswith("file://")] == []
    context.close()


def test_filters_by_role_and_agency(open_page, sample_repo) -> None:
    page, requests, base = open_page(sample_repo)
    page.goto(f"{base}/explore?open={GL2509}&direction=down&depth=3")
    page.wait_for_selector("body[data-ready='1']")
    so_ld = str(ID["org/gia-lai/so-lao-dong-thuong-binh-va-xa-hoi"])
    assert {SO_YTE_GL, so_ld} <= visible(page)
    page.select_option("#f-role", "lead")  # only the agencies some duty makes lead
    wait_until(page, f"!kgExplorer.visibleIds().includes({SO_YTE_GL!r})")
    assert so_ld in visible(page)
    page.select_option("#f-role", "")
    page.fill("#f-agency", "so y te")  # folded: matches "Sở Y tế" only
    wait_until(page, f"!kgExplorer.visibleIds().includes({so_ld!r})")
    assert SO_YTE_GL in visible(page) and GL2509 in visible(page)
    assert_local(requests, base)


def test_large_fan_out_is_clustered(open_page, sample_repo) -> None:
    from factories import agency, provincial_plan, span
    from kgraph.ingest.model import Assignment

    plan = provincial_plan("66/KH-UBND", "Gia Lai", "273-KH/TU", date(2024, 9, 20),
                           date(2024, 12, 5))
    for k in range(25):
        name = f"Phòng số {k}"
        plan.assignments.append(Assignment(
            str(10 + k), f"{name}:", span(name),
            addressees=[agency(name, name, f"phong-{k}", "Gia Lai")]))
    graph = document_graph(plan)
    sample_repo.replace_graphs({str(graph.name): graph.to_ntriples()})
    doc = str(ID["doc/gia-lai/66-kh-ubnd/2024"])
    page, requests, base = open_page(sample_repo)
    before = len(requests)
    page.goto(f"{base}/explore?open={doc}&direction=down&depth=1")
    page.wait_for_selector("body[data-ready='1']")
    asked = [u.split("?")[0].removeprefix(base) for u in requests[before:] if "/api/" in u]
    # the lineage the address names is asked at once (before the filters' values), and once
    assert asked.index("/api/lineage") < asked.index("/api/facets")
    assert asked.count("/api/lineage") == 1
    cluster = f"cluster:{doc}:assignment"
    assert page.evaluate(f"kgExplorer.network.isCluster({cluster!r})")
    # the lineage is first drawn grouped, laid out and fitted: never half built (vis redraws
    # on every change of its data; each redraw of a national lineage costs a few hundred ms)
    timings = page.evaluate("kgExplorer.timings")
    assert timings["drawn"] >= timings["laidOut"] >= timings["merged"]
    assert "1 nhóm" in page.inner_text("#status")
    pos = page.evaluate(f"""(() => {{ const n = kgExplorer.network;
        const p = n.canvasToDOM(n.getPositions([{cluster!r}])[{cluster!r}]);
        const r = document.getElementById('graph').getBoundingClientRect();
        return {{x: r.left + p.x, y: r.top + p.y}}; }})()""")
    page.mouse.dblclick(pos["x"], pos["y"])
    wait_until(page, f"!kgExplorer.network.isCluster({cluster!r})")
    assert f"{doc}/assignment/20" in page.evaluate("Object.keys(kgExplorer.network.getPositions())")


def test_a_lineage_too_large_to_draw_is_cut_and_the_status_says_so(
        open_page, sample_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    from kgraph.web import explore

    monkeypatch.setattr(explore, "LINEAGE_NODES", 1)  # the server's limit: one step only
    explore._LINEAGE_ANSWERS.clear()
    page, requests, base = open_page(sample_repo)
    page.goto(f"{base}/explore?open={D28}&direction=down&depth=8")
    page.wait_for_selector("body[data-ready='1']")
    wait_until(page, "document.getElementById('status').textContent.includes('1 cấp')")
    assert "quá nhiều nút: chỉ hiện 1 cấp" in page.inner_text("#status")
    assert GL2509 not in visible(page)  # two steps down: not drawn
    assert_local(requests, base)
    explore._LINEAGE_ANSWERS.clear()


def test_the_explorer_asks_lineages_compact_and_reads_them_as_the_full_answer(
        open_page, sample_repo) -> None:
    page, requests, base = open_page(sample_repo)
    page.goto(f"{base}/explore?open={D28}&direction=down&depth=8")
    page.wait_for_selector("body[data-ready='1']")
    asked = [u for u in requests if "/api/lineage" in u]
    assert asked and all("compact=true" in u for u in asked)
    # lineage_table.js gives the records of the full answer: the same fields, titles (the
    # tooltips, with the flags of the unresolved mention), pages and edge labels, in order
    for query in (f"iri={D28}&direction=down&depth=8",
                  f"iri={SO_YTE_GL}&direction=up&depth=8"):
        full, decoded = page.evaluate("""async (query) => {
            const get = async (url) => (await fetch(url)).json();
            const full = await get('/api/lineage?' + query);
            const table = await get('/api/lineage?' + query + '&compact=true');
            return [full, kgLineageTable.decode(table)]; }""",
                                      query.replace("/", "%2F").replace(":", "%3A"))
        assert full["next"] is None  # the whole lineage: one page of the full form
        paging = ("total_nodes", "total_edges", "offset", "limit", "next", "previous")
        assert decoded == {k: v for k, v in full.items() if k not in paging}
        assert list(decoded["nodes"][0]) == list(full["nodes"][0])  # field order too
        flagged = [node["title"] for node in full["nodes"] if node["flags"]]
        assert all("\n⚠ " in title for title in flagged)
    assert flagged  # the up lineage holds 28-CT/TW and its conflicting issuer
    shown = page.evaluate("[...kgExplorer.data.keys()]")
    assert set(shown) == {node["id"] for node in page.evaluate(
        f"fetch('/api/lineage?iri={D28}&direction=down&depth=8').then(r => r.json())")["nodes"]}
    assert page.errors == []
    assert_local(requests, base)
