"""The web app as its users work: named-query API, header and language on every page, paging,
readable values, and the data to take away (CSV for Excel, the whole dataset, /def)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kgraph.analysis.queries import load_query
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app
from kgraph.web.describe import display_title
from kgraph.web.queries_api import ordered_queries, projecting, run_named, used_variables

NAV = ["/", "/explore", "/audit", "/raci", "/query", "/download"]
PAGES = ["/", "/explore", "/raci", "/query", "/download", "/def", "/audit/raci?doc=28-CT/TW"]


@pytest.fixture(scope="module")
def seed_client(seed_repo) -> Iterator[TestClient]:
    with TestClient(create_app(seed_repo)) as client:
        yield client


def nav_links(html: str) -> list[str]:
    nav = re.search(r'<header class="site">(.*?)</header>', html, re.S).group(1)
    return re.findall(r'data-nav="([^"]+)"', nav)


# ---------------------------------------------------------------- header and language

@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_one_header_in_both_languages(seed_client, path: str) -> None:
    vi = seed_client.get(path)
    assert vi.status_code == 200, vi.text[:300]
    assert nav_links(vi.text) == NAV
    for word in ("Văn bản", "Khám phá", "Kiểm tra", "RACI", "Truy vấn", "Tải về"):
        assert f">{word}</a>" in vi.text, (path, word)
    english = seed_client.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert english.status_code == 200
    assert '<html lang="en">' in english.text
    for word in ("Documents", "Explore", "Audit", "RACI", "Query", "Download"):
        assert f">{word}</a>" in english.text, (path, word)
    hrefs = re.findall(r'href="([^"]+)" data-nav=', english.text)
    assert all(h.endswith("?lang=en") for h in hrefs), hrefs


def test_audit_page_honours_the_language(seed_client) -> None:
    vi = seed_client.get("/audit", params={"doc": "2509/KH-UBND"}).text
    en = seed_client.get("/audit", params={"doc": "2509/KH-UBND", "lang": "en"}).text
    assert nav_links(vi) == NAV and nav_links(en) == NAV
    assert "<h1>Kiểm tra kế hoạch</h1>" in vi and "Findings" not in vi
    assert "<h1>Plan audit</h1>" in en and ">Findings<" in en and "Phát hiện" not in en
    assert re.search(r'<code class="rule">\w+</code>', en)  # the rule's id stays visible
    raci = seed_client.get("/audit/raci", params={"doc": "28-CT/TW", "lang": "en"}).text
    assert "Responsibility matrix" in raci and '<table id="raci">' in raci


def test_explorer_page_in_english(seed_client) -> None:
    html = seed_client.get("/explore?lang=en").text
    assert 'placeholder="Search a number, document, agency, province' in html
    assert "Down (document → agencies)" in html and "Tìm số hiệu" not in html


# ---------------------------------------------------------------- home: search and paging

def test_home_pages_and_searches(seed_client, seed_repo) -> None:
    from kgraph.web.pages import PAGE_SIZE

    total = len(seed_repo.query(
        "PREFIX eli: <http://data.europa.eu/eli/ontology#> "
        "SELECT DISTINCT ?d WHERE { ?d a eli:LegalResource ; eli:id_local ?n }").rows)
    first = seed_client.get("/").text
    shown = len(re.findall(r"<tr>\s*<td class=\"nowrap\">", first))
    assert shown == min(total, PAGE_SIZE)
    assert f"trên {total}" in first
    found = seed_client.get("/", params={"q": "2509/kh-ubnd"}).text
    assert ">2509/KH-UBND</a>" in found and ">28-CT/TW</a>" not in found
    folded = seed_client.get("/", params={"q": "kien giang"}).text  # province, no diacritics
    assert "Kiên Giang" in folded
    none = seed_client.get("/", params={"q": "khong-co-van-ban-nay"}).text
    assert "Không có văn bản nào khớp" in none


def test_home_pages_when_there_are_more_documents_than_a_page(sample_repo) -> None:
    from datetime import date

    from factories import provincial_plan
    from kgraph.graph.mapping import document_graph
    from kgraph.web import pages

    graphs = {}
    for k in range(pages.PAGE_SIZE + 5):
        mapped = document_graph(provincial_plan(f"{k + 1}/KH-UBND", "Gia Lai", "273-KH/TU",
                                                date(2024, 9, 20), date(2024, 10, 1)))
        graphs[str(mapped.name)] = mapped.to_ntriples()
    sample_repo.replace_graphs(graphs)
    with TestClient(create_app(sample_repo)) as client:
        one = client.get("/").text
        assert 'rel="next"' in one and 'rel="prev"' not in one
        two = client.get("/", params={"page": 2}).text
        assert 'rel="prev"' in two
        rows_one = set(re.findall(r'<td class="nowrap"><a href="([^"]+)"', one))
        rows_two = set(re.findall(r'<td class="nowrap"><a href="([^"]+)"', two))
        assert len(rows_one) == pages.PAGE_SIZE and rows_two and not rows_one & rows_two


# ---------------------------------------------------------------- readable values

def test_titles_show_without_the_preamble(seed_client, seed_repo) -> None:
    title = "Về tăng cường công tác trẻ em Căn cứ Quyết định số 1183/QĐ-TTg của Thủ tướng"
    assert display_title(title) == "Về tăng cường công tác trẻ em"
    assert display_title("Kế hoạch thực hiện căn cứ pháp lý") == "Kế hoạch thực hiện căn cứ pháp lý"
    home = seed_client.get("/", params={"q": "2509"}).text
    row = re.search(r">2509/KH-UBND</a>.*?</tr>", home, re.S).group(0)
    assert "TRÊN ĐỊA BÀN TỈNH GIA LAI" in row and "Căn cứ" not in row
    [(doc,)] = seed_repo.query('PREFIX eli: <http://data.europa.eu/eli/ontology#> '
                               'SELECT DISTINCT ?d WHERE { ?d eli:id_local "2509/KH-UBND" }').rows
    page = seed_client.get("/id/" + str(doc).split("/id/", 1)[1]).text
    assert "Căn cứ Quyết định số 1183" not in page


def test_booleans_show_as_words(seed_client, seed_repo) -> None:
    [(assignment,)] = seed_repo.query(
        'PREFIX kg: <https://w3id.org/kgraph/def#> '
        'SELECT ?a WHERE { ?a kg:isRequest ?r } ORDER BY ?a LIMIT 1').rows
    path = "/id/" + str(assignment).split("/id/", 1)[1]
    vi = seed_client.get(path).text
    en = seed_client.get(path + "?lang=en").text
    assert "xsd:boolean" not in vi and ">false<" not in vi and ">true<" not in vi
    assert re.search(r'<span class="literal">(không|có)</span>', vi)
    assert re.search(r'<span class="literal">(no|yes)</span>', en)


# ---------------------------------------------------------------- named queries API

def test_implementers_as_people_write_the_number(seed_client) -> None:
    for written in ("28-CT/TW", "28 ct tw", " 28-ct/tw "):
        answer = seed_client.get("/api/queries/implementers", params={"doc": written}).json()
        assert answer["count"] == 7, written
    answer = seed_client.get("/api/queries/implementers", params={"doc": "28-CT/TW"}).json()
    numbers = {row["number"]["value"] for row in answer["rows"]}
    assert {"273-KH/TU", "2509/KH-UBND", "234/KH-UBND"} <= numbers
    plan = next(r["plan"] for r in answer["rows"] if r["number"]["value"] == "2509/KH-UBND")
    assert plan["href"].startswith("/id/doc/gia-lai/2509-kh-ubnd/")
    province = next(r["province"] for r in answer["rows"] if r["province"])
    assert province["text"] == "Gia Lai" and province["lang"] == "vi"  # a value, not "…"@vi


# columns written by GROUP_CONCAT, with their separators
CONCATENATED = {"lead": "; ", "stated_by": ", "}


def test_substitutions_give_the_cli_answer_for_every_query(seed_repo) -> None:
    values = {"implementers": {"doc": "28-CT/TW"}, "assignments": {"doc": "2509/KH-UBND"},
              "agency": {"agency": "so y te", "province": "Gia Lai"},
              "lineage": {"doc": "2509/KH-UBND"}, "reporting": {}, "conflicts": {},
              "audit_conflicts": {}}
    for query in ordered_queries():
        if query.python:  # answered by a Python walk, the same function for CLI and web
            continue
        given = values.get(query.name, dict(query.examples))
        expected = seed_repo.query(query.render(given))
        got = run_named(seed_repo, query, given)
        assert got.variables == expected.variables, query.name
        # GROUP_CONCAT's order is the engine's (the two directive-coverage texts list a cell's
        # lead bodies in opposite orders): its lists are compared as sets
        joined = {i: CONCATENATED[v] for i, v in enumerate(got.variables) if v in CONCATENATED}

        def rows(result, joined=joined):
            return sorted((tuple(joined[i].join(sorted(str(t).split(joined[i]))) if i in joined
                                 else t for i, t in enumerate(row)) for row in result.rows),
                          key=str)

        assert rows(got) == rows(expected), query.name
        if query.name in values and query.parameters and given:  # known to answer on seeds
            assert got.rows, query.name
    # the value never enters the text: only variable names are added to the projections
    implementers = load_query("implementers")
    text = projecting(implementers.text, used_variables(implementers))
    assert "28-ct-tw" not in text and text.count("?doc_key") > implementers.text.count("$doc_key")


def test_a_value_cannot_change_the_query(seed_client) -> None:
    hostile = '28-CT/TW" } } SELECT * WHERE { ?s ?p ?o } #'
    answer = seed_client.get("/api/queries/implementers", params={"doc": hostile})
    assert answer.status_code == 200 and answer.json()["count"] == 0


def test_query_api_errors_and_schema(seed_client) -> None:
    missing = seed_client.get("/api/queries/implementers")
    assert missing.status_code == 400 and "missing parameter doc" in missing.json()["detail"]
    unknown = seed_client.get("/api/queries/nothing")
    assert unknown.status_code == 404 and "implementers" in unknown.json()["detail"]
    schema = seed_client.get("/openapi.json").json()
    operation = schema["paths"]["/api/queries/implementers"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"doc", "format", "lang"} <= set(params)
    assert "28-CT/TW" in str(params["doc"])
    listed = seed_client.get("/api/queries").json()
    assert listed[0]["name"] == "implementers"
    assert seed_client.get("/api/queries/implementers",
                           params={"doc": "28-CT/TW", "format": "sparql"}).text.count(
                               '"28-ct-tw"') >= 1


def test_csv_opens_in_excel_with_vietnamese_intact(seed_client) -> None:
    """As Excel reads it: a UTF-8 byte-order mark, then the rows (csv module, utf-8-sig)."""
    urls = [("/api/queries/agency", {"agency": "Sở Y tế", "province": "Gia Lai",
                                     "format": "csv"}),
            ("/audit", {"doc": "2509/KH-UBND", "format": "csv"}),
            ("/audit/raci", {"doc": "28-CT/TW", "format": "csv"}),
            ("/sparql", {"query": "SELECT ?l WHERE { ?o <http://www.w3.org/2004/02/skos/core#"
                                  "prefLabel> ?l } LIMIT 50", "format": "csv"})]
    for path, params in urls:
        response = seed_client.get(path, params=params)
        assert response.status_code == 200, path
        assert response.content.startswith(b"\xef\xbb\xbf"), path
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
        assert len(rows) > 1 and not rows[0][0].startswith("\ufeff"), path
        if path.startswith("/api/queries"):
            assert rows[0][0] == "agency" and any(r[0] == "Sở Y tế" for r in rows[1:])
            assert any(r[1] == "Gia Lai" for r in rows[1:])
            assert "attachment" in response.headers["content-disposition"]


def test_query_csv_holds_the_json_answers_values(seed_client) -> None:
    """``/api/queries/NAME?format=csv`` writes the rows as they are: every value of the JSON
    answer as its text, an unbound one as an empty field (the directive's own implementer by
    the government has no province), for a query's answer and for a build's kept one."""
    for name, params in (("implementers", {"doc": "28-CT/TW"}),
                         ("assignments", {"doc": "28-CT/TW"})):
        whole = seed_client.get(f"/api/queries/{name}", params={**params, "limit": 10000}).json()
        response = seed_client.get(f"/api/queries/{name}", params={**params, "format": "csv"})
        header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"),
                                                    newline="")))
        assert header == whole["variables"]
        expected = [["" if row[v] is None else row[v]["value"] for v in header]
                    for row in whole["rows"]]
        assert rows == expected and len(rows) == whole["total"] > 0, name
        if name == "implementers":
            assert any("" in row for row in rows)  # an unbound value among them


def test_a_csv_download_is_written_once_per_store_version(seed_client, monkeypatch) -> None:
    """The next download of the same answer sends the bytes the first wrote (a national
    directive's coverage is 31 MB of CSV at 20,000 plans), a new store version writes them
    again, and an answer too large to keep streams as it is written, kept by no one."""
    from kgraph.web import queries_api

    written: list[int] = []
    real = queries_api.csv_chunks

    def counted(result):  # type: ignore[no-untyped-def]
        written.append(len(result.rows))
        return real(result)

    monkeypatch.setattr(queries_api, "csv_chunks", counted)
    monkeypatch.setattr(queries_api, "CSV_BODIES", queries_api.CsvBodies())
    asked = [("assignments", {"doc": "28-CT/TW"}),  # a build's kept answer
             ("implementers", {"doc": "28-CT/TW"})]  # the query's

    def download(name: str, params: dict[str, str]) -> bytes:
        response = seed_client.get(f"/api/queries/{name}", params={**params, "format": "csv"})
        assert response.status_code == 200 and "attachment" in response.headers[
            "content-disposition"]
        return response.content

    first = [download(n, p) for n, p in asked]
    assert len(written) == 2 and all(written)
    assert [download(n, p) for n, p in asked] == first and len(written) == 2  # kept bytes
    version = queries_api.store_version(seed_client.app.state.repository)
    monkeypatch.setattr(queries_api, "store_version", lambda repo: version + "-next")
    assert [download(n, p) for n, p in asked] == first and len(written) == 4  # written again
    monkeypatch.setattr(queries_api, "KEPT_CSV_VALUES", 1)
    kept = dict(queries_api.CSV_BODIES.kept)
    monkeypatch.setattr(queries_api, "store_version", lambda repo: version + "-last")
    assert [download(n, p) for n, p in asked] == first and len(written) == 6
    assert queries_api.CSV_BODIES.kept == kept  # streamed, nothing more kept


# ---------------------------------------------------------------- the whole dataset

def nquads(store: ox.Store) -> list[str]:
    return sorted(store.dump(format=ox.RdfFormat.N_QUADS).decode("utf-8").splitlines())


def test_download_holds_every_named_graph_and_round_trips(seed_client, seed_repo) -> None:
    trig = seed_client.get("/download/kgraph.trig")
    assert trig.status_code == 200 and trig.headers["content-type"].startswith(
        "application/trig")
    fresh = ox.Store()
    fresh.load(trig.content, ox.RdfFormat.TRIG)
    assert nquads(fresh) == nquads(seed_repo.native)
    assert {g.value for g in fresh.named_graphs()} == set(seed_repo.graph_names())
    page = seed_client.get("/download").text
    assert 'href="/download/kgraph.trig"' in page and "/api/queries/implementers?" in page


def test_kgraph_dump_round_trips(tmp_path: Path) -> None:
    from kgraph.build import build
    from kgraph.cli import app

    store = tmp_path / "store"
    repo = OxigraphRepository(store)
    build([Path(__file__).resolve().parents[1] / "data" / "sources"], repo, ttl_out=None)
    expected = nquads(repo.native)
    del repo
    runner = CliRunner()
    for fmt, rdf_format in (("trig", ox.RdfFormat.TRIG), ("nquads", ox.RdfFormat.N_QUADS)):
        out = tmp_path / f"dump.{fmt}"
        result = runner.invoke(app, ["dump", "--store", str(store), "--format", fmt,
                                     "--out", str(out)])
        assert result.exit_code == 0, result.output
        fresh = ox.Store()
        fresh.load(path=str(out), format=rdf_format)
        assert nquads(fresh) == expected, fmt
    to_stdout = runner.invoke(app, ["dump", "--store", str(store), "-f", "nquads"])
    assert to_stdout.exit_code == 0
    assert sorted(to_stdout.stdout_bytes.decode("utf-8").splitlines()) == expected


# ---------------------------------------------------------------- /def

def test_ontology_documentation_and_turtle(seed_client) -> None:
    vi = seed_client.get("/def").text
    assert 'id="Assignment"' in vi and "Phân công" in vi and 'id="implements"' in vi
    en = seed_client.get("/def?lang=en").text
    assert "Assignment" in en and "Classes" in en
    turtle = seed_client.get("/def", headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert turtle.headers["vary"] == "Accept"
    graph = ox.Store()
    graph.load(turtle.content, ox.RdfFormat.TURTLE)
    assert len(graph) > 100
    assert seed_client.get("/def?format=ttl").text == turtle.text


def test_ocr_damaged_text_shows_canonical_names_with_the_raw_ocr_one_click_away(
        seed_client) -> None:
    damaged = seed_client.get("/id/doc/gia-lai/18-kh-sldtbxh/2021/assignment/2").text
    restored = re.search(r'<blockquote id="restored">(.*?)</blockquote>', damaged, re.S).group(1)
    assert "Sở Y tế" in restored and "Sở Giáo dục và Đào tạo" in restored
    assert "SO Y té" not in restored
    raw = re.search(r'<details class="raw-ocr">(.*?)</details>', damaged, re.S).group(1)
    assert "SO Y té" in raw  # the source as the OCR wrote it, never lost
    clean = seed_client.get("/id/doc/gia-lai/2509-kh-ubnd/2024/assignment/3").text
    assert 'id="restored"' not in clean and "raw-ocr" not in clean
