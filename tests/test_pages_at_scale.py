"""Pages whose lists grow with the corpus show a bounded part of them, through HTTP.

At national scale a directive is cited by every plan: its page would list tens of thousands of
sources, implementers and assignments. The limits are lowered here so that the hand-made
sample corpus crosses them; what a user sees must say that more exists and where to find it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from kgraph.graph.vocab import ID
from kgraph.web import describe, pages
from kgraph.web.app import create_app

DIRECTIVE = "/id/doc/vn/28-ct-tw/2023"
GIA_LAI = "/id/doc/gia-lai/2509-kh-ubnd/2024"


@pytest.fixture
def client(sample_repo) -> TestClient:
    return TestClient(create_app(sample_repo))


def section(page: str, marker: str) -> str:
    return page.split(marker, 1)[1].split("</section>", 1)[0]


def test_directive_page_cuts_growing_lists_and_links_to_all(client, monkeypatch) -> None:
    whole = client.get(DIRECTIVE).text
    full_down = section(whole, 'id="lineage-down"')
    assert 'class="more"' not in whole and "nguồn khác" not in whole  # nothing cut yet
    monkeypatch.setattr(describe, "TABLE_ROWS", 1)
    monkeypatch.setattr(describe, "SOURCES_SHOWN", 1)
    monkeypatch.setattr(describe, "DOWNSTREAM_DOCUMENTS", 1)
    page = client.get(DIRECTIVE).text
    down = page.split('id="lineage-down"', 1)[1].split("</table>", 1)[0]
    assert down.count("<tr>") == 1 + 1  # heading + the first implementer
    links = re.findall(r'<p class="more"><a href="([^"]+)"', page)
    queries = {parse_qs(urlsplit(link.replace("&amp;", "&")).query)["q"][0]: link
               for link in links}
    assert set(queries) == {"implementers", "assignments"}
    for link in queries.values():
        assert parse_qs(urlsplit(link.replace("&amp;", "&")).query)["doc"] == ["28-CT/TW"]
    # the link leads to the query page, whose form runs the named query with every row
    target = client.get(queries["implementers"].replace("&amp;", "&"))
    assert target.status_code == 200
    rows = client.get("/api/queries/implementers", params={"doc": "28-CT/TW"}).json()
    assert len(rows["rows"]) == full_down.count("<tr>") - 1 > 1
    # each fact lists one source and says how many more state it
    issuer = [r for r in re.findall(r"<tr>.*?</tr>", section(page, 'id="properties"'), re.S)
              if "cơ quan ban hành" in r]
    assert issuer and all(r.count('class="source"') == 1 for r in issuer)
    more = [int(n) for r in issuer for n in re.findall(r"và (\d+) nguồn khác", r)]
    assert sum(more) + len(issuer) == 3  # three plans state the directive's issuer
    english = client.get(DIRECTIVE + "?lang=en").text
    assert re.search(r"and \d+ more", english) and "First 1 rows" in english


def test_plan_page_keeps_its_own_assignments_whole(client, monkeypatch) -> None:
    monkeypatch.setattr(describe, "TABLE_ROWS", 1)
    monkeypatch.setattr(describe, "DOWNSTREAM_DOCUMENTS", 1)
    page = client.get(GIA_LAI).text
    table = page.split('id="assignments-table"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 1 + 4  # the plan's own four assignments are never cut


def test_links_in_are_cut_with_a_note(client, monkeypatch) -> None:
    monkeypatch.setattr(describe, "INCOMING_SHOWN", 2)
    page = client.get(DIRECTIVE).text
    incoming = section(page, 'id="incoming"')
    assert "2 liên kết đầu tiên" in incoming
    assert len(re.findall(r"<tr>", incoming)) <= 1 + 2


def test_rdf_download_of_a_document_keeps_every_statement(client, monkeypatch) -> None:
    monkeypatch.setattr(describe, "SOURCES_SHOWN", 1)
    turtle = client.get(DIRECTIVE + "?format=nquads").text
    graphs = {line.rsplit(" ", 2)[-2] for line in turtle.splitlines()
              if "eli/ontology#passed_by" in line and line.startswith(f"<{ID}doc/vn/28")}
    assert len(graphs) == 3  # every source graph, not the page's first one
    assert client.get("/id/doc/vn/none?format=turtle").status_code == 404


def test_explorer_asks_the_audit_overlay_about_its_nodes(client) -> None:
    everything = client.get("/api/audit").json()
    flagged = sorted(everything["flags"])
    assert len(flagged) >= 2
    some = client.get("/api/audit", params={"iri": [*flagged, str(ID["doc/none"])]}).json()
    assert some["source"] == everything["source"] and some["flags"]
    for node, messages in some["flags"].items():  # the explorer's nodes among them
        severities = ("Violation:", "Warning:", "Info:")  # (not the nodes' own flags)
        assert [m for m in messages if m.startswith(severities)] == everything["flags"][node]
    assert client.get("/api/audit", params={"iri": [str(ID["doc/none"])]}).json()["flags"] == {}


def test_raci_list_is_paged(client, monkeypatch) -> None:
    first = client.get("/raci").text
    numbers = re.findall(r'<tr><td><a href="/audit/raci\?doc=[^"]+">([^<]+)</a>', first)
    assert len(numbers) >= 2
    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    one = client.get("/raci").text
    assert re.findall(r'<tr><td><a href="/audit/raci\?doc=[^"]+">([^<]+)</a>', one) == numbers[:1]
    assert 'id="next"' in one and 'href="/raci?page=2"' in one
    two = client.get("/raci", params={"page": 2}).text
    assert re.findall(r'<tr><td><a href="/audit/raci\?doc=[^"]+">([^<]+)</a>', two) == numbers[1:2]
    assert 'id="previous"' in two


def test_health_counts_are_kept_per_store_version(sample_repo) -> None:
    with TestClient(create_app(sample_repo)) as client:
        before = client.get("/health").json()
        assert before["triples"] == len(sample_repo)
        sample_repo.replace_graphs({str(ID["graph/extra"]):
                                    f"<{ID}x> <{ID}p> \"v\" .\n"})
        after = client.get("/health").json()
    assert after["triples"] == before["triples"] + 1  # a new version: counted again
    assert after["graphs"] == before["graphs"] + 1  # a count, not every graph's name
    assert before["graphs"] == len(sample_repo.graph_names()) - 1
    assert after["version"] != before["version"] and "/" not in after["version"]


def test_audit_overlay_without_nodes_comes_a_page_at_a_time(client) -> None:
    """Without nodes the audit index's findings come a page of findings at a time, in the
    order of /audit, filtered as /audit filters them."""
    from kgraph.analysis.audit_index import audit_index

    index = audit_index(client.app.state.repository)

    def grouped(findings) -> dict[str, list[str]]:
        flags: dict[str, list[str]] = {}
        for f in findings:
            if f"{f.severity}: {f.message_vi}" not in flags.setdefault(f.focus, []):
                flags[f.focus].append(f"{f.severity}: {f.message_vi}")
        return flags

    first = client.get("/api/audit").json()
    total = first["total"]
    assert total == len(index.findings) >= 2 and first["next_offset"] is None
    assert first["flags"] == grouped(index.findings)
    pages, offset = [], 0
    while offset is not None:
        page = client.get("/api/audit", params={"offset": offset, "limit": 1}).json()
        assert len(page["flags"]) == 1 and page["total"] == total
        pages.append(page["flags"])
        offset = page["next_offset"]
    assert len(pages) == total
    assert pages == [grouped([f]) for f in index.findings]  # one finding a page, in order
    document = index.documents[0]
    for filters, asked in (({"province": document.province}, {"province": document.province}),
                           ({"rule": index.findings[0].rule}, {"rule": index.findings[0].rule}),
                           ({"severity": "Info"}, {"severity": "Info"}),
                           ({"plan": document.number}, {"doc": document.number})):
        chosen = index.select(**filters)
        page = client.get("/api/audit", params={**asked, "limit": 3}).json()
        assert page["total"] == len(chosen)
        assert page["flags"] == grouped(chosen[:3])
        assert page["next_offset"] == (3 if len(chosen) > 3 else None)
    assert client.get("/api/audit", params={"doc": "9999/KH-NONE"}).status_code == 404


@pytest.mark.parametrize("q", ["Gia Lai", "gia lai", "2509", "KH-UBND", "28-CT/TW", "kế hoạch",
                               "Đắk", "-", "không có", "ubnd 2024"])
def test_home_search_index_finds_what_the_listing_filter_finds(client, sample_repo, q) -> None:
    from kgraph.ingest.text import nfc, slugify

    listing = pages.home_listing(sample_repo)
    folded, raw = slugify(q), nfc(q).lower()
    expected = [d.number for d in listing if d.matches(folded, raw)]
    assert [listing[i].number for i in pages.ListingSearch.of(listing).rows(folded, raw)] \
        == expected
    page = client.get("/", params={"q": q}).text
    shown = re.findall(r'<td class="nowrap"><a href="/id/[^"]+">([^<]+)</a>', page)
    assert shown == expected[:pages.PAGE_SIZE]
    assert not expected or f"trên {len(expected)}" in page


SEARCHED = ("", "-", "a", "gi", "gia lai", "KH-UBND", "28-CT/TW", "kế hoạch", "Đắk", "zzq", "2024",
            "giai đoạn mới", "x")


@pytest.mark.parametrize("small_part", [256, 1])
def test_home_search_index_updated_version_after_version_finds_what_the_filter_finds(
        sample_repo, monkeypatch, small_part) -> None:
    """Each version's index is updated from the last one's (documents gone, retitled, added,
    a document changed twice; ``affected``: the documents a build touched, as
    :meth:`Changes.affected` gives them), or computed whole when too much changed: it finds what
    :meth:`Listed.matches` finds in each version's listing, in listing order."""
    from dataclasses import replace

    from kgraph.analysis import page_data
    from kgraph.ingest.text import nfc, slugify

    monkeypatch.setattr(page_data, "SMALL_PART", small_part)
    listing = pages.home_listing(sample_repo)
    index = page_data.ListingSearch.of(listing)
    versions = [
        (listing[2:], set()),  # two documents gone
        ([replace(listing[3], title="Giai đoạn mới " + listing[3].title), *listing[2:3],
          *listing[4:]], {listing[3].doc}),  # one retitled, now listed first
        ([*listing[:2], replace(listing[3], title="x"), *listing[2:3], *listing[4:]],
         {listing[3].doc, listing[0].doc}),  # the two back, the retitled one changed again
        ([replace(listing[5], doc=listing[5].doc + "/new", number="9/KH-UBND"), *listing],
         {listing[5].doc + "/new", listing[3].doc}),  # a new one, the changed one as it was
    ]
    for current, affected in versions:
        index = index.updated(current, affected)
        for q in SEARCHED:
            folded, raw = slugify(q), nfc(q).lower()
            assert index.rows(folded, raw) == [
                row for row, d in enumerate(current) if d.matches(folded, raw)], q


def test_named_query_answers_come_a_page_at_a_time_and_csv_has_every_row(
        client, monkeypatch) -> None:
    from kgraph.web import queries_api

    whole = client.get("/api/queries/implementers", params={"doc": "28-CT/TW"}).json()
    assert whole["total"] == whole["count"] == len(whole["rows"]) > 2
    assert whole["next"] is None and whole["previous"] is None
    computed = []
    original = queries_api.run_named
    monkeypatch.setattr(queries_api, "run_named",
                        lambda *args: computed.append(args[1].name) or original(*args))
    pages_seen, link = [], "/api/queries/implementers?doc=28-CT/TW&limit=2"
    while link:
        page = client.get(link).json()
        assert page["total"] == whole["total"] and page["count"] <= 2
        pages_seen.append(page)
        link = page["next"]
    assert [r for p in pages_seen for r in p["rows"]] == whole["rows"]  # same rows, same order
    assert pages_seen[1]["previous"].endswith("offset=0&limit=2")
    assert [p["offset"] for p in pages_seen] == list(range(0, whole["total"], 2))
    assert computed == []  # the answer was kept for this store version: pages are slices
    csv = client.get("/api/queries/implementers",
                     params={"doc": "28-CT/TW", "format": "csv", "limit": 1})
    assert csv.text.lstrip("\ufeff").count("\n") == 1 + whole["total"]  # CSV: every row
    assert client.get("/api/queries/implementers",
                      params={"doc": "28-CT/TW", "limit": 0}).status_code == 422
    # a new store version is asked again, never answered from the old one
    client.app.state.repository.replace_graphs({str(ID["graph/extra"]):
                                                f"<{ID}x> <{ID}p> \"v\" .\n"})
    client.get("/api/queries/implementers", params={"doc": "28-CT/TW"})
    assert computed == ["implementers"]


def test_query_page_shows_which_rows_and_pages(client) -> None:
    page = client.get("/query", params={"q": "implementers", "doc": "28-CT/TW"}).text
    assert 'id="q-pages"' in page and 'id="q-next"' in page and 'id="q-previous"' in page
    assert "dòng {first}–{last} trên {total}" in page  # the words the script fills in


def test_document_page_is_kept_per_store_version_and_follows_a_changed_plan(
        tmp_path, monkeypatch) -> None:
    """A page (and a download) is computed once per store version: asked again it comes from
    what was kept; a changed plan (a new store version) shows at once, never the page kept."""
    from datetime import date

    from factories import provincial_plan, recorded_calls, sample_documents
    from kgraph.graph.mapping import document_graph
    from kgraph.resources import resource_graphs
    from kgraph.store.embedded import OxigraphRepository
    from kgraph.web.pages import serialized

    repo = OxigraphRepository(tmp_path / "store")  # on disk: its versions are named
    payload = resource_graphs()
    payload.update({str(g.name): g.to_ntriples() for g in map(document_graph, sample_documents())})
    repo.replace_graphs(payload)
    client = TestClient(create_app(repo))
    pages_computed = recorded_calls(monkeypatch, describe, "describe", lambda d: d.iri)
    downloads = recorded_calls(monkeypatch, pages, "serialized", len)
    first = client.get(GIA_LAI)
    again = client.get(GIA_LAI)
    assert first.status_code == again.status_code == 200
    assert section(first.text, 'id="properties"') == section(again.text, 'id="properties"')
    assert "Kế hoạch thực hiện" in first.text and "← 2509_KH-UBND.txt" in first.text
    assert client.get(GIA_LAI + "?lang=en").status_code == 200  # each language its own page
    turtle = [client.get(GIA_LAI + "?format=turtle").text for _ in range(2)]
    assert turtle[0] == turtle[1] and "Kế hoạch thực hiện" in turtle[0]
    assert pages_computed == [f"{ID}doc/gia-lai/2509-kh-ubnd/2024"] * 2 and len(downloads) == 1
    assert serialized(repo, f"{ID}doc/gia-lai/2509-kh-ubnd/2024", "turtle") == turtle[0]

    changed = provincial_plan("2509/KH-UBND", "Gia Lai", "273-KH/TU", date(2024, 9, 20),
                              date(2024, 10, 28), text="Kế hoạch chuyển đổi số")
    changed.source_name = "2509_KH-UBND (sửa).txt"  # the sources shown are read again too
    graph = document_graph(changed)
    repo.replace_graphs({str(graph.name): graph.to_ntriples()})
    page = client.get(GIA_LAI)
    assert page.status_code == 200 and "Kế hoạch chuyển đổi số" in page.text
    assert "← 2509_KH-UBND (sửa).txt" in page.text and "← 2509_KH-UBND.txt" not in page.text
    assert "Kế hoạch chuyển đổi số" in client.get(GIA_LAI + "?format=turtle").text
    assert len(pages_computed) == 3 and len(downloads) == 2


def test_lineage_table_is_the_named_querys_whatever_was_kept(tmp_path, monkeypatch) -> None:
    """A document page's lineage table is the lineage query's rows, whether its ancestors'
    facts are asked for or were kept for the store version by an earlier page; a page asks
    only for the ancestors no page asked about yet, and a new version asks again."""
    from datetime import date

    from factories import provincial_plan, sample_documents
    from kgraph.graph.mapping import document_graph
    from kgraph.resources import resource_graphs
    from kgraph.store.embedded import OxigraphRepository

    repo = OxigraphRepository(tmp_path / "store")  # on disk: its versions are named
    payload = resource_graphs()
    payload.update({str(g.name): g.to_ntriples() for g in map(document_graph, sample_documents())})
    repo.replace_graphs(payload)
    client = TestClient(create_app(repo))
    asked: list[str] = []
    real = repo.query

    def query(text: str, *args, **kwargs):
        if "VALUES ?ancestor" in text:
            asked.append(text.split("VALUES ?ancestor {", 1)[1].split("}", 1)[0])
        return real(text, *args, **kwargs)

    monkeypatch.setattr(repo, "query", query)
    kien_giang = "/id/doc/kien-giang/234-kh-ubnd/2024"
    tables = {}
    for path in (GIA_LAI, kien_giang):
        tables[path] = section(client.get(path).text, 'id="lineage"')
    assert "273-KH/TU" in tables[GIA_LAI] and "28-CT/TW" in tables[GIA_LAI]
    assert "211-KH/TU" in tables[kien_giang] and "28-CT/TW" in tables[kien_giang]
    assert len(asked) == 2 and "28-ct-tw" in asked[0] and "28-ct-tw" not in asked[1]
    monkeypatch.setattr(describe, "_lineage_parts", lambda text: None)  # the query whole
    describe.KEPT_PAGES.kept.clear()
    for path, table in tables.items():
        assert section(client.get(path).text, 'id="lineage"') == table
    assert len(asked) == 2

    monkeypatch.undo()
    changed = document_graph(provincial_plan("2509/KH-UBND", "Gia Lai", "273-KH/TU",
                                             date(2024, 9, 20), date(2024, 10, 28),
                                             text="Kế hoạch chuyển đổi số"))
    repo.replace_graphs({str(changed.name): changed.to_ntriples()})
    asked.clear()
    monkeypatch.setattr(repo, "query", query)
    assert section(client.get(GIA_LAI).text, 'id="lineage"') == tables[GIA_LAI]
    assert len(asked) == 1 and "28-ct-tw" in asked[0]  # a new version: asked again


def test_home_search_pages_are_slices_of_one_search_per_store_version(client, monkeypatch
                                                                      ) -> None:
    """The next pages of a search show its next rows without searching again; a new store
    version is searched again (its new document is found)."""
    from kgraph.analysis import page_data

    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    scans = []
    original = page_data.ListingSearch.row_array
    monkeypatch.setattr(page_data.ListingSearch, "row_array",
                        lambda self, *args: scans.append(args) or original(self, *args))
    shown = []
    for n in (1, 2, 3):
        page = client.get("/", params={"q": "KH-UBND", "page": n}).text
        shown += re.findall(r'<td class="nowrap"><a href="/id/[^"]+">([^<]+)</a>', page)
    listing = pages.home_listing(client.app.state.repository)
    expected = [d.number for d in listing if d.matches("kh-ubnd", "kh-ubnd")]
    assert len(expected) >= 3 and shown == expected[:3]
    assert len(scans) == 1  # one search, three pages
    client.app.state.repository.replace_graphs({str(ID["graph/extra"]): (
        f'<{ID}doc/x/9-kh-ubnd/2024> <https://w3id.org/kgraph/def#numberKey> "9-kh-ubnd" .\n'
        f'<{ID}doc/x/9-kh-ubnd/2024> <http://data.europa.eu/eli/ontology#id_local> '
        f'"9/KH-UBND" .\n'
        f'<{ID}doc/x/9-kh-ubnd/2024> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
        f'<http://data.europa.eu/eli/ontology#LegalResource> .\n')})
    page = client.get("/", params={"q": "KH-UBND"}).text
    assert len(scans) == 2 and f"trên {len(expected) + 1}" in page
