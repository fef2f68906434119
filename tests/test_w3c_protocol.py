"""The W3C SPARQL 1.1 Protocol test suite, replayed over real HTTP against /sparql.

Each ``mf:ProtocolTest`` in ../shared/w3c/rdf-tests/sparql/sparql11/protocol/manifest.ttl
describes its HTTP requests (method, path, headers, body) and the expected responses (status
class, result kind, boolean). Every test gets a fresh in-memory store with the test's
``ut:graphData`` loaded, and a server with update enabled by a write token (the harness sends
the bearer token; the suite itself knows nothing about authentication).

The endpoint refuses dataset clauses naming graphs it does not hold (see kgraph.web.safety).
Several tests name ``.../data0.rdf`` without giving its content: the suite assumes the
endpoint has it, so the harness creates it as an empty graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import RDF, RDFS, Graph, Namespace
from rdflib.collection import Collection

from conftest import ARTIFACTS, shared_path
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app
from kgraph.web.settings import Settings

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
DATA0 = "http://kasei.us/2009/09/sparql/data/data0.rdf"
TOKEN = "w3c-suite-token"
KIND_TYPES = {
    "boolean": ("application/sparql-results+json", "application/sparql-results+xml"),
    "tabular": ("application/sparql-results+json", "application/sparql-results+xml",
                "text/csv", "text/tab-separated-values"),
    "RDF": ("text/turtle", "application/n-triples", "application/rdf+xml",
            "application/ld+json", "application/trig", "application/n-quads"),
}


@dataclass
class Step:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    statuses: set[str]
    kind: str | None
    boolean: bool | None


@dataclass
class ProtocolTest:
    name: str
    data: dict[str, Path] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)


def load_manifest(path: Path) -> list[ProtocolTest]:
    graph = Graph().parse(path, format="turtle", publicID=path.as_uri())
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in Collection(graph, graph.value(manifest, MF.entries)):
        test = ProtocolTest(str(entry).rsplit("#", 1)[-1])
        for data in graph.objects(entry, UT.graphData):
            source = graph.value(data, UT.graph)
            test.data[str(graph.value(data, RDFS.label))] = Path(str(source).removeprefix("file://"))
        action = graph.value(entry, MF.action)
        for request in Collection(graph, graph.value(action, HT.requests)):
            headers = {}
            header_list = graph.value(request, HT.headers)
            for header in Collection(graph, header_list) if header_list else []:
                headers[str(graph.value(header, HT.fieldName))] = str(
                    graph.value(header, HT.fieldValue))
            body = graph.value(request, HT.body)
            response = graph.value(request, HT.resp)
            statuses = {str(s).rsplit("#", 1)[-1]
                        for s in graph.objects(response, MF.expectedStatus)}
            boolean = graph.value(response, MF.expectedBoolean)
            kind = graph.value(response, MF.expectedFormat)
            test.steps.append(Step(
                method=str(graph.value(request, HT.methodName)),
                path=str(graph.value(request, HT.absolutePath)),
                headers=headers,
                body=None if body is None else str(graph.value(body, CNT.chars)),
                statuses=statuses,
                kind=None if kind is None else str(kind),
                boolean=None if boolean is None else boolean.toPython(),
            ))
        tests.append(test)
    return tests


def fresh_repository(test: ProtocolTest) -> OxigraphRepository:
    repo = OxigraphRepository()
    repo.native.update(f"CREATE SILENT GRAPH <{DATA0}>")
    for name, source in test.data.items():
        repo.native.load(path=str(source), format=ox.RdfFormat.N_TRIPLES,
                         to_graph=ox.NamedNode(name))
    return repo


def check_step(step: Step, response: httpx.Response) -> str | None:
    """None when the response meets the expectation, else why not."""
    status_class = f"StatusCode{response.status_code // 100}xx"
    if status_class not in step.statuses:
        return f"{step.method} {step.path}: status {response.status_code}, " \
               f"expected {sorted(step.statuses)}: {response.text[:200]}"
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if step.kind and media not in KIND_TYPES[step.kind]:
        return f"{step.method} {step.path}: content type {media} is not {step.kind}"
    if step.boolean is not None:
        parsed = ox.parse_query_results(response.content, format=(
            ox.QueryResultsFormat.JSON if media.endswith("json") else ox.QueryResultsFormat.XML))
        if bool(parsed) is not step.boolean:
            return f"{step.method} {step.path}: answered {bool(parsed)}, expected {step.boolean}"
    return None


def replay(test: ProtocolTest, live_server: type, settings: Settings) -> str | None:
    app = create_app(fresh_repository(test), settings)
    with live_server(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for step in test.steps:
            path = "/sparql" + step.path.removeprefix("/sparql/")
            headers = dict(step.headers)
            if settings.write_token:
                headers["Authorization"] = f"Bearer {settings.write_token}"
            request = client.build_request(
                step.method, path, headers=headers,
                content=None if step.body is None else step.body.encode("utf-8"),
            )
            problem = check_step(step, client.send(request))
            if problem:
                return problem
    return None


@pytest.fixture(scope="module")
def protocol_tests() -> list[ProtocolTest]:
    path = shared_path("w3c", "rdf-tests", "sparql", "sparql11", "protocol", "manifest.ttl")
    return load_manifest(path)


def test_w3c_protocol_suite(protocol_tests: list[ProtocolTest], live_server: type) -> None:
    settings = Settings(write_token=TOKEN, query_timeout=20)
    failures = {}
    for test in protocol_tests:
        problem = replay(test, live_server, settings)
        if problem:
            failures[test.name] = problem
    passed = len(protocol_tests) - len(failures)
    summary = f"W3C protocol: {passed}/{len(protocol_tests)} passed"
    print(summary)
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [summary] + [f"FAIL {name}: {why}" for name, why in sorted(failures.items())]
    (ARTIFACTS / "w3c-protocol.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(protocol_tests) == 34
    assert sum(t.name.startswith("bad_") for t in protocol_tests) == 14
    assert not failures, "\n".join(lines)


def test_updates_are_refused_without_a_token(protocol_tests: list[ProtocolTest],
                                             live_server: type) -> None:
    """The same suite on a read-only server: every update step is refused, queries still pass."""
    settings = Settings(query_timeout=20)
    for test in protocol_tests:
        if not test.name.startswith("update_"):
            continue
        first = test.steps[0]
        app = create_app(fresh_repository(test), settings)
        with live_server(app) as server:
            response = httpx.request(
                first.method, server.url + "/sparql" + first.path.removeprefix("/sparql/"),
                headers=first.headers, content=(first.body or "").encode(), timeout=30,
            )
        assert response.status_code == 403, (test.name, response.text)


def test_update_token_is_checked(live_server: type) -> None:
    settings = Settings(write_token=TOKEN)
    app = create_app(OxigraphRepository(), settings)
    update = "INSERT DATA { GRAPH <http://example.org/g> { <http://a> <http://b> 1 } }"
    with live_server(app) as server:
        url = server.url + "/sparql"
        kind = {"Content-Type": "application/sparql-update"}
        assert httpx.post(url, content=update, headers=kind).status_code == 401
        wrong = {**kind, "Authorization": "Bearer nope"}
        assert httpx.post(url, content=update, headers=wrong).status_code == 403
        right = {**kind, "Authorization": f"Bearer {TOKEN}"}
        assert httpx.post(url, content=update, headers=right).status_code == 204
        ask = httpx.get(url, params={"query": "ASK { <http://a> <http://b> 1 }"})
        assert ask.json()["boolean"] is True
