"""Query page and linked-data pages through the app (no browser): content, negotiation, escaping."""

from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from rdflib import Dataset, Graph, Literal, URIRef

from factories import provincial_plan
from kgraph.analysis.queries import named_queries, parse_named_query
from kgraph.graph.mapping import document_graph
from kgraph.graph.vocab import ELI, ID, KG, PREFIXES
from kgraph.web.app import create_app
from kgraph.web.pages import STATIC_DIR

GIA_LAI = "/id/doc/gia-lai/2509-kh-ubnd/2024"
DIRECTIVE = "/id/doc/vn/28-ct-tw/2023"
XSS_TITLE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


@pytest.fixture
def client(sample_repo) -> TestClient:
    return TestClient(create_app(sample_repo))


def hostile_plan_repo(sample_repo):
    """The sample store plus a plan whose title and duty carry markup."""
    plan = provincial_plan("77/KH-UBND", "Gia Lai", "7-KH/TU", date(2024, 1, 2),
                           date(2024, 2, 3), text=XSS_TITLE)
    mapped = document_graph(plan)
    sample_repo.replace_graphs({str(mapped.name): mapped.to_ntriples()})
    return sample_repo, str(mapped.document)


class Attributes(HTMLParser):
    """Collects every src/href attribute and the text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v is not None]


def parsed(html: str) -> Attributes:
    parser = Attributes()
    parser.feed(html)
    return parser


def config_of(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="kgraph-config">(.*?)</script>',
                      html, re.S)
    assert found, "the query page carries its configuration as JSON"
    return json.loads(found.group(1))


# ---------------------------------------------------------------- named-query examples

def test_example_header_lines_bind_the_parameters():
    query = parse_named_query("x", "# title: X\n# param doc: a number\n"
                                   "# example doc: 28-CT/TW\nSELECT * { ?d ?p $doc_key }")
    assert query.examples == {"doc": "28-CT/TW"}
    assert '"28-ct-tw"' in query.example()


def test_every_shipped_query_has_a_runnable_example(sample_repo):
    for name, query in named_queries().items():
        required = {p.name for p in query.parameters if p.required}
        assert required <= set(query.examples), f"{name} lacks an example for {required}"
        assert "$" not in query.example().split("WHERE", 1)[-1], name
        sample_repo.query(query.example())  # parses and runs


# ---------------------------------------------------------------- the query page

def test_query_page_offers_every_named_query_implementers_first(client):
    response = client.get("/query")
    assert response.status_code == 200
    config = config_of(response.text)
    names = [q["name"] for q in config["queries"]]
    assert names[0] == "implementers" and sorted(names) == sorted(named_queries())
    implementers = config["queries"][0]
    assert '"28-ct-tw"' in implementers["sparql"]
    assert implementers["title"]["vi"] == "Văn bản thực hiện"
    [doc] = implementers["parameters"]
    assert doc["name"] == "doc" and doc["example"] == "28-CT/TW" and doc["suggest"] == "document"
    assert config["endpoint"] == "/sparql"
    assert config["lateral"] is True  # the embedded store: its texts' LATERAL is no error
    assert config["prefixes"] == PREFIXES
    english = config_of(client.get("/query?lang=en").text)
    assert english["queries"][0]["title"]["en"] == "Implementers" and english["lang"] == "en"
    assert english["columns"]["number"] == "Number"


def test_query_page_loads_only_local_assets_under_a_strict_policy(client):
    response = client.get("/query")
    urls = parsed(response.text).urls
    assert "/static/vendor/yasgui/yasgui.min.js" in urls
    assert "/static/vendor/yasgui/yasgui.min.css" in urls
    assert all(not re.match(r"^(https?:)?//", url) for url in urls), urls
    policy = response.headers["content-security-policy"]
    assert "connect-src 'self'" in policy and "default-src 'self'" in policy
    assert "/static/query.js" in urls
    assert "<script nonce" not in response.text  # no inline script: the page's code is a file
    assert client.get("/static/vendor/yasgui/yasgui.min.js").status_code == 200


def test_vendored_yasgui_is_documented_and_fetches_no_cdn():
    folder = STATIC_DIR / "vendor" / "yasgui"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "@zazuko/yasgui" in readme and "4.6.2" in readme
    assert "MIT" in (folder / "LICENSE").read_text(encoding="utf-8")
    css = (folder / "yasgui.min.css").read_text(encoding="utf-8")
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    script = (folder / "yasgui.min.js").read_text(encoding="utf-8")
    for cdn in ("fonts.googleapis", "fonts.gstatic", "cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert cdn not in script, cdn


def test_home_lists_documents_and_links_the_query_page(client):
    page = client.get("/").text
    urls = parsed(page).urls
    assert "/query" in urls
    assert GIA_LAI in urls and DIRECTIVE in urls


# ---------------------------------------------------------------- resource pages

def test_document_page_shows_lineage_and_its_assignments(client):
    response = client.get(GIA_LAI)
    assert response.status_code == 200
    page = response.text
    assert '<h1 id="label">2509/KH-UBND</h1>' in page
    up = page.split('id="lineage-up"', 1)[1].split("</table>", 1)[0]
    assert "273-KH/TU" in up and "28-CT/TW" in up
    table = page.split('id="assignments-table"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 1 + 4  # heading + the plan's four assignments
    assert "Sở Y tế" in table and "? Sở Hàng không" in table and "đề nghị" in table
    assert f'href="{GIA_LAI}/assignment/3"' in table
    assert "downstream-assignments-table" not in page
    assert "số hiệu" in page and "thực hiện" in page  # property labels from the graph, vi


def test_directive_page_shows_who_carries_it_out_and_who_says_what(client):
    page = client.get(DIRECTIVE).text
    down = page.split('id="lineage-down"', 1)[1].split("</table>", 1)[0]
    assert "2509/KH-UBND" in down and "234/KH-UBND" in down and "50/KH-UBND" in down
    # The issuer conflict stays visible, each value with the source stating it.
    rows = re.findall(r"<tr>.*?</tr>", page.split('id="properties"', 1)[1], re.S)
    issuer_rows = [r for r in rows if "cơ quan ban hành" in r]
    by_value = {("Ban Chấp hành" in r): r for r in issuer_rows}
    assert len(issuer_rows) == 2
    assert "50/KH-UBND" in by_value[True] and "2509/KH-UBND" not in by_value[True]
    assert "2509/KH-UBND" in by_value[False] and "234/KH-UBND" in by_value[False]
    assert "downstream-assignments-table" in page  # the plans' assignments, apart


def test_english_labels_on_request(client):
    page = client.get(GIA_LAI + "?lang=en").text
    assert '<html lang="en">' in page
    assert "carries out" in page and "number" in page and "Assignments" in page
    assert f'href="{GIA_LAI}/assignment/1?lang=en"' in page


def test_part_page_quotes_the_source_text_and_its_document(client):
    page = client.get(GIA_LAI + "/assignment/1").text
    quote = page.split('id="quote"', 1)[1].split("</section>", 1)[0]
    assert "<blockquote>1. Sở Lao động</blockquote>" in quote
    assert f'href="{GIA_LAI}"' in quote and "dòng 1" in quote
    assert "Phân công 1 — 2509/KH-UBND" in page
    # Incoming links: the plan points here.
    assert "có phân công" in page.split('id="incoming"', 1)[1]


def test_unknown_and_malformed_iris_are_404(client):
    assert client.get("/id/doc/vn/999-xx/1999").status_code == 404
    assert client.get("/id/doc/vn/999-xx/1999", headers={"accept": "text/turtle"}).status_code \
        == 404
    assert client.get("/id/doc/x%3E%20%3Cy%3E%20%3Fp%20%3Fo").status_code == 404
    assert client.get("/id/").status_code == 404


# ---------------------------------------------------------------- content negotiation

@pytest.mark.parametrize(("accept", "syntax", "media"), [
    ("text/turtle", "turtle", "text/turtle"),
    ("application/ld+json", "json-ld", "application/ld+json"),
    ("application/n-triples", "nt", "application/n-triples"),
    ("text/html;q=0.4, text/turtle;q=0.9", "turtle", "text/turtle"),
])
def test_rdf_by_accept_header(client, accept, syntax, media):
    response = client.get(GIA_LAI, headers={"accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    assert "Accept" in response.headers["vary"]
    graph = Graph().parse(data=response.text, format=syntax)
    doc = URIRef(str(ID) + GIA_LAI.removeprefix("/id/"))
    assert (doc, ELI.id_local, Literal("2509/KH-UBND")) in graph
    assert (doc, KG.implements, URIRef(str(ID) + "doc/gia-lai/273-kh-tu/2024")) in graph
    # Incoming statements come along: the parts point back at the plan.
    assert (URIRef(str(doc) + "/assignment/1"), KG.partOf, doc) in graph


def test_format_parameter_wins_and_trig_keeps_the_stating_graph(client):
    response = client.get(DIRECTIVE + "?format=trig", headers={"accept": "text/html"})
    assert response.headers["content-type"].startswith("application/trig")
    dataset = Dataset().parse(data=response.text, format="trig")
    issuer = ELI.passed_by
    graphs = {str(g) for _, p, _, g in dataset.quads((None, issuer, None, None))}
    assert str(ID) + "graph/lao-cai/50-kh-ubnd/2024" in graphs
    assert str(ID) + "graph/gia-lai/2509-kh-ubnd/2024" in graphs
    ntriples = client.get(DIRECTIVE + "?format=nt")
    assert ntriples.headers["content-type"].startswith("application/n-triples")
    assert client.get(DIRECTIVE + "?format=html", headers={"accept": "text/turtle"}) \
        .headers["content-type"].startswith("text/html")


def test_unacceptable_requests_are_refused(client):
    assert client.get(GIA_LAI, headers={"accept": "image/png"}).status_code == 406
    assert client.get(GIA_LAI + "?format=docx").status_code == 406


# ---------------------------------------------------------------- escaping

def test_markup_in_the_graph_is_shown_as_text(sample_repo):
    repo, iri = hostile_plan_repo(sample_repo)
    client = TestClient(create_app(repo))
    path = "/id/" + iri.removeprefix(str(ID))
    for url in (path, path + "?lang=en", "/", path + "/assignment/1/duty/1"):
        page = client.get(url).text
        assert "<script>window.__xss" not in page, url
        assert "<img src=x" not in page, url
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page, url
        assert "img" not in parsed(page).tags, url
    response = client.get(path)
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
