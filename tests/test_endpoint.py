"""The /sparql endpoint over real HTTP: protocol forms, formats, caps, CORS, operations."""

from __future__ import annotations

import json
import logging

import httpx
import pyoxigraph as ox
import pytest

from kgraph.analysis.queries import load_query
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app, health_version
from kgraph.web.settings import Settings

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
DOCS = "SELECT DISTINCT ?d WHERE { ?d a <http://data.europa.eu/eli/ontology#LegalResource> }"
CONSTRUCT = ("CONSTRUCT { ?d ?p ?o } WHERE { ?d a <http://data.europa.eu/eli/ontology#"
             "LegalResource> ; ?p ?o }")


def rows(response: httpx.Response) -> list[dict[str, object]]:
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def test_query_by_get_form_and_direct_post(sample_repo: OxigraphRepository,
                                           live_server: type) -> None:
    with live_server(create_app(sample_repo)) as server:
        url = server.url + "/sparql"
        by_get = rows(httpx.get(url, params={"query": DOCS}))
        by_form = rows(httpx.post(url, data={"query": DOCS}))
        by_direct = rows(httpx.post(url, content=DOCS.encode(),
                                    headers={"Content-Type": "application/sparql-query"}))
    assert by_get == by_form == by_direct
    assert len(by_get) == len(sample_repo.query(DOCS).rows) >= 3


def test_default_graph_is_the_union_and_dataset_parameters_narrow_it(
        sample_repo: OxigraphRepository, live_server: type) -> None:
    graph = next(g for g in sample_repo.graph_names() if "/graph/" in g and "ontology" not in g)
    with live_server(create_app(sample_repo)) as server:
        url = server.url + "/sparql"
        union = rows(httpx.get(url, params={"query": COUNT}))
        one = rows(httpx.get(url, params={"query": COUNT, "default-graph-uri": graph}))
        named = rows(httpx.get(url, params={
            "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
            "named-graph-uri": graph}))
    assert int(union[0]["n"]["value"]) == len(sample_repo)
    assert 0 < int(one[0]["n"]["value"]) < len(sample_repo)
    assert [b["g"]["value"] for b in named] == [graph]


@pytest.mark.parametrize(("fmt", "media", "native"), [
    ("json", "application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("csv", "text/csv", ox.QueryResultsFormat.CSV),
    ("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
])
def test_select_formats_by_parameter_and_accept(sample_repo: OxigraphRepository,
                                                live_server: type, fmt: str, media: str,
                                                native: ox.QueryResultsFormat) -> None:
    with live_server(create_app(sample_repo)) as server:
        url = server.url + "/sparql"
        by_param = httpx.get(url, params={"query": DOCS, "format": fmt})
        by_accept = httpx.get(url, params={"query": DOCS},
                              headers={"Accept": f"text/html;q=0.5, {media}"})
    for response in (by_param, by_accept):
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media
        count = len(sample_repo.query(DOCS).rows)
        if native == ox.QueryResultsFormat.CSV:  # lossy: pyoxigraph does not parse it
            assert response.content.startswith(b"\xef\xbb\xbf")  # Excel's UTF-8 mark
            text = response.content.decode("utf-8-sig")
            assert text.splitlines()[0] == "d"
            assert len(text.strip().splitlines()) == count + 1
            continue
        parsed = ox.parse_query_results(response.content, format=native)
        assert len(list(parsed)) == count


@pytest.mark.parametrize(("media", "native"), [
    ("text/turtle", ox.RdfFormat.TURTLE),
    ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    ("application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/trig", ox.RdfFormat.TRIG),
    ("application/n-quads", ox.RdfFormat.N_QUADS),
])
def test_construct_formats(sample_repo: OxigraphRepository, live_server: type, media: str,
                           native: ox.RdfFormat) -> None:
    expected = {tuple(map(str, t)) for t in sample_repo.query(CONSTRUCT).triples}
    with live_server(create_app(sample_repo)) as server:
        response = httpx.get(server.url + "/sparql", params={"query": CONSTRUCT},
                             headers={"Accept": media})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media
    triples = {(q.subject.value, q.predicate.value, q.object.value)
               for q in ox.parse(response.content, format=native)}
    assert triples == expected and len(expected) > 10


def test_ask_and_describe(sample_repo: OxigraphRepository, live_server: type) -> None:
    with live_server(create_app(sample_repo)) as server:
        url = server.url + "/sparql"
        ask = httpx.get(url, params={"query": "ASK { ?s ?p ?o }"})
        xml = httpx.get(url, params={"query": "ASK { <urn:nothing> ?p ?o }", "format": "xml"})
        doc = rows(httpx.get(url, params={"query": DOCS}))[0]["d"]["value"]
        described = httpx.get(url, params={"query": f"DESCRIBE <{doc}>", "format": "nt"})
    assert ask.json() == {"head": {}, "boolean": True}
    assert "<boolean>false</boolean>" in xml.text
    assert described.headers["content-type"].startswith("application/n-triples")
    assert f"<{doc}>" in described.text


def test_unknown_format_is_406(sample_repo: OxigraphRepository, live_server: type) -> None:
    with live_server(create_app(sample_repo)) as server:
        response = httpx.get(server.url + "/sparql", params={"query": DOCS, "format": "png"})
    assert response.status_code == 406
    assert "json" in response.text


def test_named_query_through_the_endpoint_matches_the_store(sample_repo: OxigraphRepository,
                                                            live_server: type) -> None:
    sparql = load_query("implementers").render({"doc": "28-CT/TW"})
    expected = sample_repo.query(sparql).records()
    with live_server(create_app(sample_repo)) as server:
        response = httpx.post(server.url + "/sparql", data={"query": sparql})
    got = [{k: v["value"] for k, v in b.items()} for b in rows(response)]
    assert expected, "the sample documents implement 28-CT/TW"
    normal = [{k: v for k, v in r.items() if v is not None} for r in expected]
    assert sorted(json.dumps(r, sort_keys=True) for r in got) == sorted(
        json.dumps(r, sort_keys=True) for r in normal)


def test_malformed_query_gets_400_with_position(sample_repo: OxigraphRepository,
                                                live_server: type) -> None:
    with live_server(create_app(sample_repo)) as server:
        response = httpx.get(server.url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p"})
    assert response.status_code == 400
    assert "error at 1:" in response.text


def test_row_cap_truncates_and_flags(sample_repo: OxigraphRepository, live_server: type) -> None:
    settings = Settings(max_rows=5)
    with live_server(create_app(sample_repo, settings)) as server:
        url = server.url + "/sparql"
        many = httpx.get(url, params={"query": "SELECT * WHERE { ?s ?p ?o }"})
        csv = httpx.get(url, params={"query": "SELECT * WHERE { ?s ?p ?o }", "format": "csv"})
        graph = httpx.get(url, params={"query": CONSTRUCT, "format": "nt"})
        few = httpx.get(url, params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"})
    assert len(rows(many)) == 5
    assert many.headers["x-kgraph-truncated"] == "true"
    assert many.headers["x-kgraph-max-rows"] == "5"
    assert len(csv.text.strip().splitlines()) == 6  # header + 5 rows
    assert len(graph.text.strip().splitlines()) == 5
    assert graph.headers["x-kgraph-truncated"] == "true"
    assert len(rows(few)) == 3 and "x-kgraph-truncated" not in few.headers


def test_body_cap_gives_413(sample_repo: OxigraphRepository, live_server: type) -> None:
    padding = "#" + "x" * 3000 + "\n"
    with live_server(create_app(sample_repo, Settings(max_body=2000))) as server:
        url = server.url + "/sparql"
        big = httpx.post(url, content=(padding + DOCS).encode(),
                         headers={"Content-Type": "application/sparql-query"})
        small = httpx.post(url, content=DOCS.encode(),
                           headers={"Content-Type": "application/sparql-query"})
    assert big.status_code == 413
    assert small.status_code == 200


def test_cors_is_off_by_default_and_an_allow_list_when_configured(
        sample_repo: OxigraphRepository, live_server: type) -> None:
    origin = {"Origin": "https://analyst.example"}
    with live_server(create_app(sample_repo)) as server:
        plain = httpx.get(server.url + "/sparql", params={"query": COUNT}, headers=origin)
    assert "access-control-allow-origin" not in plain.headers
    settings = Settings(cors_origins="https://analyst.example")  # type: ignore[arg-type]
    with live_server(create_app(sample_repo, settings)) as server:
        allowed = httpx.get(server.url + "/sparql", params={"query": COUNT}, headers=origin)
        other = httpx.get(server.url + "/sparql", params={"query": COUNT},
                          headers={"Origin": "https://evil.example"})
        preflight = httpx.options(server.url + "/sparql", headers={
            **origin, "Access-Control-Request-Method": "POST"})
    assert allowed.headers["access-control-allow-origin"] == "https://analyst.example"
    assert "access-control-allow-credentials" not in allowed.headers
    assert "access-control-allow-origin" not in other.headers
    assert preflight.status_code == 200


def test_service_description_by_content_negotiation(sample_repo: OxigraphRepository,
                                                    live_server: type) -> None:
    with live_server(create_app(sample_repo)) as server:
        url = server.url + "/sparql"
        turtle = httpx.get(url)
        rdfxml = httpx.get(url, headers={"Accept": "application/rdf+xml"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    for response, fmt in ((turtle, ox.RdfFormat.TURTLE), (rdfxml, ox.RdfFormat.RDF_XML)):
        quads = list(ox.parse(response.content, format=fmt))
        endpoints = [q.object.value for q in quads if q.predicate.value == sd + "endpoint"]
        assert endpoints == [url]
        languages = {q.object.value for q in quads if q.predicate.value == sd + "supportedLanguage"}
        assert languages == {sd + "SPARQL11Query"}
        names = {q.object.value for q in quads if q.predicate.value == sd + "name"}
        assert names == set(sample_repo.graph_names())


def test_service_description_lists_the_graphs_of_the_served_version(
        sample_repo: OxigraphRepository, live_server: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The graph list is read from the store once per version, not on every request (a scan
    of 40,000 graphs at 20,000 plans), and a new version's list holds its new graph."""
    sd = "http://www.w3.org/ns/sparql-service-description#"
    scans: list[int] = []
    real = sample_repo.graph_names
    monkeypatch.setattr(sample_repo, "graph_names", lambda: scans.append(1) or real())

    def names(response: httpx.Response) -> set[str]:
        return {q.object.value for q in ox.parse(response.content, format=ox.RdfFormat.TURTLE)
                if q.predicate.value == sd + "name"}

    added = "https://w3id.org/kgraph/id/graph/test/added"
    with live_server(create_app(sample_repo)) as server:
        first = names(httpx.get(server.url + "/sparql"))
        second = names(httpx.get(server.url + "/sparql"))
        assert len(scans) <= 1
        sample_repo.replace_graphs({added: "<http://e/s> <http://e/p> <http://e/o> .\n"})
        after = names(httpx.get(server.url + "/sparql"))
    assert first == second == set(real()) - {added}
    assert after == first | {added}


def test_health_timing_and_request_log(sample_repo: OxigraphRepository, live_server: type,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kgraph.web")
    with live_server(create_app(sample_repo)) as server:
        health = httpx.get(server.url + "/health").json()
        answer = httpx.get(server.url + "/sparql", params={"query": COUNT})
    assert health == {"status": "ok", "version": health_version(sample_repo),
                      "triples": len(sample_repo), "graphs": len(sample_repo.graph_names()),
                      "worker_sandbox": None}  # no worker forked before the first query
    assert answer.headers["server-timing"].startswith("query;dur=")
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("GET /sparql 200") and m.endswith("ms") for m in messages)
    assert any("query_ms=" in m for m in messages)


def test_protocol_errors(sample_repo: OxigraphRepository, live_server: type) -> None:
    with live_server(create_app(sample_repo)) as server:
        url = server.url + "/sparql"
        assert httpx.put(url, content=DOCS).status_code == 405
        assert httpx.get(url, params={"update": "CLEAR ALL"}).status_code == 405
        assert httpx.post(url, content=DOCS, headers={"Content-Type": "text/plain"}
                          ).status_code == 415
        assert httpx.post(url, content=b"\xff\xfe", headers={
            "Content-Type": "application/sparql-query"}).status_code == 400
        assert httpx.get(url, params=[("query", DOCS), ("query", DOCS)]).status_code == 400
