"""The same app on production SPARQL servers: Virtuoso Open Source and Apache Jena.

For each server this starts one on 127.0.0.1 (``tools/external_stores.py``), runs ``kgraph build
data/sources --store URL`` into it as a user would, and checks that every named query (CLI),
``kgraph audit`` and the explorer API (``/api/*``) answer what they answer over the embedded
store built from the same sources.

"jena" is Apache Jena's engine (ARQ over an in-memory TDB2 dataset with a union default graph)
behind a minimal SPARQL 1.1 Protocol front compiled from ``tools/jena-server/``: **not Fuseki**,
which cannot be installed here; it answers as a Fuseki on the same TDB2 dataset would.

Answers are compared as values, not as text, where the standard leaves the text free:
numbers by value (TDB2 writes ``0.660`` for ``0.66``, Virtuoso ``1.5`` for ``1.50``), the parts
of a GROUP_CONCAT as a set (its order is undefined) with "" and unbound alike (what an empty
group gives differs), lists of JSON objects in any order. Everything else must be equal.
Defects of a server that no portable query avoids are listed in :data:`KNOWN_DEFECTS`; each
such test is an expected failure that fails the suite once the answers agree.

A server whose binary is absent (``scripts/setup --dev`` installs both) skips with the reason.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph
from typer.testing import CliRunner

from conftest import ROOT
from kgraph.analysis.queries import named_queries
from kgraph.cli import app as cli
from kgraph.errors import StoreError
from kgraph.graph.vocab import ID
from kgraph.store.derived import derived_root, forget
from kgraph.store.embedded import open_repository, store_version
from kgraph.store.remote import RemoteRepository
from kgraph.web.app import create_app

sys.path.insert(0, str(ROOT / "tools"))
import external_stores

SERVERS = ("virtuoso", "jena")
SOURCES = ROOT / "data" / "sources"
D28 = str(ID["doc/vn/28-ct-tw/2023"])
KG234 = str(ID["doc/kien-giang/234-kh-ubnd/2024"])
SO_YTE_GL = str(ID["org/gia-lai/so-y-te"])
# (server, named query or route) -> the server's defect that no portable text avoids. Empty: the
# portable texts work around Virtuoso 7.2.5's (queries/README.md lists them).
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


@dataclass
class Running:
    name: str
    url: str
    env: dict[str, str]
    build_output: str
    build_exit: int


def run(args: list[str], env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(cli, args, env=env)
    return result


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The baseline: the same sources built into an embedded store by the same command."""
    store = str(tmp_path_factory.mktemp("embedded") / "store")
    result = run(["build", str(SOURCES), "--store", store])
    assert result.exit_code == 0, result.output
    return store


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           embedded: str) -> Iterator[Running]:
    """One server at a time, holding the seeds as ``kgraph build --store URL`` loads them."""
    name = request.param
    missing, start = external_stores.STARTERS[name]
    if reason := missing():
        pytest.skip(f"{name} cannot run here: {reason}; scripts/setup --dev installs it")
    store = start(tmp_path_factory.mktemp(name))
    try:
        env = dict(store.env)
        result = run(["build", str(SOURCES), "--store", store.url], env=env)
        yield Running(name, store.url, env, result.output, result.exit_code)
    finally:
        store.stop()


def remote(server: Running, monkeypatch: pytest.MonkeyPatch) -> RemoteRepository:
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    repo = open_repository(server.url)
    assert isinstance(repo, RemoteRepository)
    return repo


# ---------------------------------------------------------------------------- comparison

def concat_columns(text: str) -> dict[str, str]:
    """Output variable -> separator of each GROUP_CONCAT of a query."""
    pattern = (r'GROUP_CONCAT\s*\(\s*(?:DISTINCT\s+)?\?\w+\s*;\s*separator\s*=\s*"([^"]*)"\s*\)'
               r"\s*AS\s+\?(\w+)")
    return {m.group(2): m.group(1) for m in re.finditer(pattern, text, re.IGNORECASE)}


def value(cell: Any, separator: str | None = None) -> Any:
    """A cell as the value it stands for (see the module docstring)."""
    if cell is None or cell == "":
        return None if separator is not None or cell is None else ""
    if separator is not None:
        return sorted(set(str(cell).split(separator)))
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float):
        return round(float(cell), 9)
    if isinstance(cell, str) and re.fullmatch(r"-?\d+(\.\d+)?", cell):
        try:
            return str(Decimal(cell).normalize())
        except InvalidOperation:
            return cell
    return cell


def canonical(data: Any, concat: dict[str, str] | None = None) -> Any:
    """JSON data with cells as values and lists of objects in a fixed order."""
    concat = concat or {}
    if isinstance(data, dict):
        return {k: canonical(v, concat) if isinstance(v, dict | list) else value(v, concat.get(k))
                for k, v in data.items()}
    if isinstance(data, list):
        items = [canonical(v, concat) if isinstance(v, dict | list) else value(v) for v in data]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value(data)


def first_difference(got: Any, expected: Any, path: str = "") -> str:
    """Where two JSON values first differ (for the failure message)."""
    if isinstance(got, dict) and isinstance(expected, dict):
        for key in sorted(set(got) | set(expected)):
            if got.get(key) != expected.get(key):
                return first_difference(got.get(key), expected.get(key), f"{path}.{key}")
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        for index, (a, b) in enumerate(zip(got, expected, strict=True)):
            if a != b:
                return first_difference(a, b, f"{path}[{index}]")
    return f"{path or '.'}: {json.dumps(got, ensure_ascii=False)[:400]} != " \
           f"{json.dumps(expected, ensure_ascii=False)[:400]}"


def same(server: str, what: str, got: Any, expected: Any) -> None:
    """Assert equal answers, or the known defect of this server (an expected failure that
    turns into a failure once the answers agree)."""
    reason = KNOWN_DEFECTS.get((server, what))
    if reason is None:
        assert got == expected, (f"{server}: {what} answers differently: "
                                 f"{first_difference(got, expected)}")
    elif got == expected:
        pytest.fail(f"{server}: {what} now agrees with the embedded store: remove it from "
                    f"KNOWN_DEFECTS ({reason})")
    else:
        pytest.xfail(reason)


# ---------------------------------------------------------------------------- the tests

def fresh_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The web app's kept answers and CSV downloads as a new server process has them: none."""
    from kgraph.web import queries_api

    monkeypatch.setattr(queries_api, "ANSWERS", queries_api.Answers())
    monkeypatch.setattr(queries_api, "CSV_BODIES", queries_api.CsvBodies())


def test_build_loads_the_seeds_into_the_server(server: Running, embedded: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert server.build_exit == 0, server.build_output
    assert "built 5 document graph(s)" in server.build_output
    repo = remote(server, monkeypatch)
    local = open_repository(embedded, read_only=True)
    assert repo.graph_names() == local.graph_names()
    assert len(repo) == len(local)
    # building again changes nothing: every source is recognised as unchanged
    again = run(["build", str(SOURCES), "--store", server.url], env=server.env)
    assert again.exit_code == 0, again.output
    assert len(repo) == len(local)


@pytest.mark.parametrize("name", sorted(named_queries()))
def test_named_query_answers_as_the_embedded_store(server: Running, embedded: str,
                                                   name: str) -> None:
    query = named_queries()[name]
    params = [arg for key, val in query.examples.items() for arg in ("--param", f"{key}={val}")]
    answers = []
    for store, env in ((server.url, server.env), (embedded, None)):
        result = run(["query", name, *params, "--store", store, "--format", "json"], env=env)
        assert result.exit_code == 0, result.output
        answers.append(canonical(json.loads(result.stdout), concat_columns(query.text)))
    assert answers[1], f"{name}: the example gives no rows, so it compares nothing"
    same(server.name, name, answers[0], answers[1])


def test_audit_reports_as_over_the_embedded_store(server: Running, embedded: str) -> None:
    remote_audit = run(["audit", "--store", server.url], env=server.env)
    local_audit = run(["audit", "--store", embedded])
    assert "Violation" in local_audit.stdout
    assert (remote_audit.exit_code, remote_audit.stdout) == (
        local_audit.exit_code, local_audit.stdout)


API_CONCAT = {"frequency": " + ", "answered_by": " | "}  # GROUP_CONCATs of /api/deadlines
EXPLORER_REQUESTS = [
    ("/api/facets", {}),
    # every hit (the limit past their number): hits tied at the cut-off would otherwise come
    # in the store's row order
    ("/api/search", {"q": "so y te gia lai", "limit": 100}),
    ("/api/search", {"q": "28-CT/TW", "limit": 100}),
    ("/api/lineage", {"iri": D28, "direction": "down", "depth": 3}),
    ("/api/lineage", {"iri": SO_YTE_GL, "direction": "up", "depth": 4}),
    # a plan down to its agencies and a duty up to the directive: every flow relation, each
    # read over the server by its own UNION branch (kgraph.analysis.lineage._STEP)
    ("/api/lineage", {"iri": KG234, "direction": "down", "depth": 8}),
    ("/api/lineage", {"iri": KG234 + "/assignment/1/duty/1", "direction": "up", "depth": 8}),
    ("/api/path", {"from": SO_YTE_GL, "to": D28}),
    ("/api/node", {"iri": D28}),
    ("/api/node", {"iri": KG234 + "/assignment/1/duty/1"}),
    ("/api/audit", {}),
    ("/api/queries", {}),
    ("/api/responsible", {"doc": "234/KH-UBND", "date": "2026-01-01"}),
    ("/api/deadlines", {"date": "2026-01-01"}),
]


def test_explorer_api_answers_as_over_the_embedded_store(
        server: Running, embedded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    apps = [TestClient(create_app(remote(server, monkeypatch))),
            TestClient(create_app(open_repository(embedded, read_only=True)))]
    for path, params in EXPLORER_REQUESTS:
        got, expected = (app.get(path, params=params) for app in apps)
        assert expected.status_code == 200, (path, expected.text)
        assert got.status_code == 200, (path, got.text)
        same(server.name, path, canonical(got.json(), API_CONCAT),
             canonical(expected.json(), API_CONCAT))


PAGE_TABLES = ("assignments-table", "downstream-assignments-table")


def page_tables(html: str) -> dict[str, str]:
    """The assignment tables of a document's page (the whole page differs where a known defect
    of the server touches the implementers table)."""
    found = {}
    for name in PAGE_TABLES:
        match = re.search(rf'<(table|p) class="[^"]*" id="{name}".*?</\1>', html, re.DOTALL)
        found[name] = match.group(0) if match else ""
    return found


def test_document_pages_list_the_assignments_of_the_embedded_store(
        server: Running, embedded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``/id/<document>``: its own assignments and those of the plans carrying it out, each
    read for the page's documents only (on a remote store too), as over the embedded store."""
    apps = [TestClient(create_app(remote(server, monkeypatch))),
            TestClient(create_app(open_repository(embedded, read_only=True)))]
    for iri in (D28, KG234):
        got, expected = (app.get("/id/" + iri[len(str(ID)):]) for app in apps)
        assert expected.status_code == got.status_code == 200, (iri, got.text[:300])
        tables = page_tables(expected.text)
        assert "<tr>" in "".join(tables.values()), f"{iri}: no assignment listed"
        assert page_tables(got.text) == tables, iri


def without_nonces(html: str) -> str:
    return re.sub(r'nonce="[^"]*"|nonce-[A-Za-z0-9_-]+', "", html)


def test_directive_page_is_the_embedded_store_s(
        server: Running, embedded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``/id/<directive>``: its facts (each once, with its sources), the links in, lineage,
    implementers (a non-ASCII chain) and assignments, byte for byte as over the embedded
    store, in both languages; its Turtle download holds the same triples."""
    apps = [TestClient(create_app(remote(server, monkeypatch))),
            TestClient(create_app(open_repository(embedded, read_only=True)))]
    path = "/id/" + D28[len(str(ID)):]
    for params in ({}, {"lang": "en"}):
        got, expected = (app.get(path, params=params) for app in apps)
        assert expected.status_code == got.status_code == 200, got.text[:300]
        assert "→ 28-CT/TW" in expected.text and 'id="lineage-down"' in expected.text
        assert without_nonces(got.text) == without_nonces(expected.text)
    got, expected = (app.get(path, params={"format": "turtle"}) for app in apps)
    assert expected.status_code == got.status_code == 200
    graphs = [set(Graph().parse(data=r.text, format="turtle")) for r in (got, expected)]
    assert graphs[0] == graphs[1] and graphs[1]


def test_listing_pages_are_the_embedded_store_s(
        server: Running, embedded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The home listing, its search and the ``/raci`` list: read from the server's answers
    (Virtuoso's CSV, kgraph.store.remote.RemoteRepository.records), the embedded store's pages
    byte for byte."""
    apps = [TestClient(create_app(remote(server, monkeypatch))),
            TestClient(create_app(open_repository(embedded, read_only=True)))]
    for path, params in (("/", {}), ("/", {"q": "gia lai"}), ("/raci", {}),
                         ("/raci", {"lang": "en"})):
        got, expected = (app.get(path, params=params) for app in apps)
        assert expected.status_code == got.status_code == 200, got.text[:300]
        assert "28-CT/TW" in expected.text or "Gia Lai" in expected.text, path
        assert without_nonces(got.text) == without_nonces(expected.text), (path, params)


def test_directive_coverage_route_is_the_embedded_store_s(
        server: Running, embedded: str, kgraph_cache: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``/api/queries/directive-coverage``: over the server, the answer the build over the
    server kept (in this machine's cache, for the version it wrote), byte for byte the embedded
    store's in JSON pages and CSV, whole or one province, the query and the coverage graphs'
    rows never asked for."""

    repo = remote(server, monkeypatch)
    fresh_answers(monkeypatch)
    apps = [TestClient(create_app(repo)),
            TestClient(create_app(open_repository(embedded, read_only=True)))]
    asked = refuse(monkeypatch, "kg:alignmentScore")  # the query's and the graphs' rows
    answers = []
    for params in COVERAGE_REQUESTS:
        got, expected = (app.get("/api/queries/directive-coverage", params=params)
                         for app in apps)
        assert expected.status_code == got.status_code == 200, got.text[:300]
        assert got.content == expected.content, params
        answers.append(got.content)
    assert not asked
    first = apps[1].get("/api/queries/directive-coverage", params=COVERAGE_REQUESTS[0]).json()
    assert first["total"] > 4 and any(row["lead"] and row["plan"] for row in first["rows"]), \
        "28-CT/TW's coverage restates nothing"
    assert json.loads(answers[-1])["total"] == 0
    root = derived_root(repo) or Path()
    assert list(root.glob("derived/documents/directive-answer-*.pickle")), \
        "the build over the server keeps its answer's parts in the cache"
    assert not list(root.glob("*/directive-coverage-stored-*.pickle"))


COVERAGE_REQUESTS = [
    {"doc": "28-CT/TW"}, {"doc": "28-CT/TW", "offset": "3", "limit": "4"},
    {"doc": "28-CT/TW", "format": "csv"}, {"doc": "28-CT/TW", "lang": "en"},
    {"doc": "28-CT/TW", "province": "kien giang"}, {"doc": "no-such-number"}]
ASSIGNMENT_DOCS = ("28-CT/TW", "234/KH-UBND")


def refuse(monkeypatch: pytest.MonkeyPatch, marker: str) -> list[str]:
    """Every request to a remote store whose text holds ``marker`` refused (an error), and
    listed in the list returned."""
    asked: list[str] = []
    for method in ("query", "plain_rows", "records"):
        original = getattr(RemoteRepository, method)

        def guarded(self: RemoteRepository, sparql: str, *args: Any,
                    _original: Any = original, **kwargs: Any) -> Any:
            if marker in sparql:
                asked.append(sparql)
                raise StoreError("refused by the test")
            return _original(self, sparql, *args, **kwargs)

        monkeypatch.setattr(RemoteRepository, method, guarded)
    return asked


def assignments_csv(store: str, doc: str, env: dict[str, str] | None) -> str:
    result = run(["query", "assignments", "--param", f"doc={doc}", "--store", store,
                  "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_assignments_are_the_kept_facts_of_the_build_over_the_server(
        server: Running, embedded: str, kgraph_cache: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``assignments`` over the server answers from the facts the build over it kept (in this
    machine's cache, for the version it wrote) and the names the server states: the query
    refused, the embedded store's CSV byte for byte, at the command line and through the API."""
    from kgraph.analysis import assignments_answer

    repo = remote(server, monkeypatch)
    assert assignments_answer.previous(repo) is not None, "the build kept no facts"
    expected = {doc: assignments_csv(embedded, doc, None) for doc in ASSIGNMENT_DOCS}
    assert all(text.count("\n") > 2 for text in expected.values())
    fresh_answers(monkeypatch)
    apps = [TestClient(create_app(repo)),
            TestClient(create_app(open_repository(embedded, read_only=True)))]
    asked = refuse(monkeypatch, "kg:hasAssignment")  # the query and the facts' own reading
    for doc in ASSIGNMENT_DOCS:
        assert assignments_csv(server.url, doc, server.env) == expected[doc], doc
        for params in ({"doc": doc, "format": "csv"}, {"doc": doc, "limit": "5"}):
            got, want = (app.get("/api/queries/assignments", params=params) for app in apps)
            assert want.status_code == got.status_code == 200, got.text[:300]
            assert got.content == want.content, params
    assert not asked


def test_a_store_changed_since_the_build_is_answered_by_its_queries(
        server: Running, embedded: str, kgraph_cache: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone else's write (another process, another machine: a new version token) leaves
    what the build kept unused: ``assignments`` runs its query (and shows the new assignment
    the kept facts lack), directive-coverage reads the coverage graphs and keeps those rows for
    the new version, which a restarted server answers from."""

    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    other = open_repository(server.url)  # another writer, sharing nothing with this process
    assert isinstance(other, RemoteRepository)
    kept = {doc: assignments_csv(server.url, doc, server.env) for doc in ASSIGNMENT_DOCS}
    added = "urn:test:someone-else:assignment"
    kg = "https://w3id.org/kgraph/def#"
    boolean = "^^<http://www.w3.org/2001/XMLSchema#boolean>"
    other.replace_graphs({"urn:test:someone-else": (
        f"<{KG234}> <{kg}hasAssignment> <{added}> .\n"
        f'<{added}> <{kg}itemNumber> "99" .\n'
        f'<{added}> <{kg}isRequest> "false"{boolean} .\n'
        f'<{added}> <{kg}hasLeadClause> "true"{boolean} .\n'
        f"<{added}> <{kg}addresseeKind> <{kg}Agency> .\n"
        f"<{added}> <{kg}addressee> <{SO_YTE_GL}> .\n")})
    try:
        repo = remote(server, monkeypatch)
        fresh_answers(monkeypatch)
        for doc in ASSIGNMENT_DOCS:
            now = assignments_csv(server.url, doc, server.env)
            assert added in now and added not in kept[doc], doc
            assert now.count("\n") == kept[doc].count("\n") + 1, doc
        app = TestClient(create_app(repo))
        expected = TestClient(create_app(open_repository(embedded, read_only=True)))
        answers = []
        for params in COVERAGE_REQUESTS[:3]:
            got = app.get("/api/queries/directive-coverage", params=params)
            assert got.status_code == 200, got.text[:300]
            assert got.content == expected.get("/api/queries/directive-coverage",
                                               params=params).content, params
            answers.append(got.content)
        stored = sorted((derived_root(repo) or Path()).glob(
            "*/directive-coverage-stored-*.pickle"))
        assert stored, "the graphs' rows are kept for the new version"
        fresh_answers(monkeypatch)  # restarted
        monkeypatch.setattr(repo, "plain_rows", lambda sparql: pytest.fail("asked the store"))
        again = app.get("/api/queries/directive-coverage", params=COVERAGE_REQUESTS[0])
        assert again.content == answers[0]
    finally:
        other.drop_graphs(["urn:test:someone-else"])


# A property path of unbounded length (``kg:implements*``, ``<iri>+``, ``( … )*``): Virtuoso
# evaluates one from a national directive in its transitive memory pool, which it exhausts at
# national scale ("Exceeded 1000000000 bytes in transitive temp memory").
UNBOUNDED_PATH = re.compile(r"(?:\b[a-z][\w-]*:[\w-]+|<[^<>\s\"]+>|\))[*+](?=\s*[?<$(])")


@pytest.fixture(scope="module")
def bulk_loaded(tmp_path_factory: pytest.TempPathFactory, embedded: str) -> Iterator[Running]:
    """A Virtuoso its own bulk loader filled (``ld_dir`` + ``rdf_loader_run``) from the
    embedded store's ``kgraph dump``, as an institution loads it: no kgraph build wrote it, so
    nothing is kept for it and it has no version token."""
    if reason := external_stores.virtuoso_missing():
        pytest.skip(f"virtuoso cannot run here: {reason}; scripts/setup --dev installs it")
    directory = tmp_path_factory.mktemp("virtuoso-bulk")
    data = directory / "data"
    data.mkdir()
    dumped = run(["dump", "--store", embedded, "--format", "nquads",
                  "--out", str(data / "store.nq")])
    assert dumped.exit_code == 0, dumped.output
    store = external_stores.start_virtuoso(directory)
    try:
        external_stores.isql(int(store.env["KGRAPH_VIRTUOSO_SQL_PORT"]),
                             f"ld_dir('{data}', '*.nq', 'urn:kgraph:default'); "
                             "rdf_loader_run(); checkpoint;")
        yield Running("virtuoso", store.url, dict(store.env), "", 0)
    finally:
        store.stop()


def refuse_unbounded_paths(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """Every request to a remote store logged (the first list); one holding an unbounded
    property path refused as the server refuses it at national scale (and listed apart)."""
    sent: list[str] = []
    refused: list[str] = []
    original = RemoteRepository.raw_query

    def guarded(self: RemoteRepository, sparql: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(sparql)
        if UNBOUNDED_PATH.search(sparql):
            refused.append(sparql)
            raise StoreError("refused by the test: Exceeded 1000000000 bytes in transitive "
                             "temp memory")
        return original(self, sparql, *args, **kwargs)

    monkeypatch.setattr(RemoteRepository, "raw_query", guarded)
    return sent, refused


def test_the_unbounded_path_pattern_finds_the_query_s_path() -> None:
    """The pattern the stub refuses finds the path the ``assignments`` text holds, and not a
    count or a plain step."""
    assert UNBOUNDED_PATH.search(named_queries()["assignments"].text)
    assert UNBOUNDED_PATH.search("?p <urn:x>+ ?q . ?a (kg:b/kg:c)* <urn:y>")
    assert not UNBOUNDED_PATH.search("SELECT * WHERE { ?a kg:b ?c } GROUP BY ?a "
                                     "HAVING (COUNT(*) > 1) ORDER BY (?n + 1)")


@pytest.mark.parametrize("name", sorted(named_queries()))
def test_bulk_loaded_server_answers_every_named_query_as_the_embedded_store(
        bulk_loaded: Running, embedded: str, kgraph_cache: Path, name: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Over a server its bulk loader filled (nothing kept), every named query gives the
    embedded store's rows, and no request holds an unbounded property path (refused here as
    Virtuoso refuses ``kg:implements*`` from a national directive at 20,000 plans)."""
    query = named_queries()[name]
    params = [arg for key, val in query.examples.items() for arg in ("--param", f"{key}={val}")]
    expected = run(["query", name, *params, "--store", embedded, "--format", "json"])
    assert expected.exit_code == 0, expected.output
    sent, refused = refuse_unbounded_paths(monkeypatch)
    got = run(["query", name, *params, "--store", bulk_loaded.url, "--format", "json"],
              env=bulk_loaded.env)
    assert not refused, f"{name} asked the server for an unbounded path: {refused[0][:300]}"
    assert got.exit_code == 0, got.output
    assert sent, "the server was asked"
    answers = [canonical(json.loads(r.stdout), concat_columns(query.text))
               for r in (got, expected)]
    assert answers[1], f"{name}: the example gives no rows, so it compares nothing"
    same(bulk_loaded.name, name, answers[0], answers[1])


def test_bulk_loaded_server_s_assignments_walk_the_plans_a_step_a_request(
        bulk_loaded: Running, embedded: str, kgraph_cache: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``assignments`` of a directive and of a provincial plan over the bulk-loaded server:
    nothing is kept for it, the plans are walked one ``kg:implements`` step a request and their
    facts read by the query's patterns (its path refused): the embedded store's CSV byte for
    byte, at the command line and through the API (its JSON pages too)."""
    from kgraph.analysis import assignments_answer

    repo = remote(bulk_loaded, monkeypatch)
    assert assignments_answer.previous(repo) is None, "nothing is kept for a bulk-loaded server"
    assert ":size-" in store_version(repo)  # no token: no kgraph write
    expected = {doc: assignments_csv(embedded, doc, None) for doc in ASSIGNMENT_DOCS}
    assert all(text.count("\n") > 2 for text in expected.values())
    fresh_answers(monkeypatch)
    apps = [TestClient(create_app(repo)),
            TestClient(create_app(open_repository(embedded, read_only=True)))]
    sent, refused = refuse_unbounded_paths(monkeypatch)
    for doc in ASSIGNMENT_DOCS:
        assert assignments_csv(bulk_loaded.url, doc, bulk_loaded.env) == expected[doc], doc
        for params in ({"doc": doc, "format": "csv"}, {"doc": doc, "limit": "5"},
                       {"doc": doc, "offset": "3", "limit": "4"}):
            got, want = (app.get("/api/queries/assignments", params=params) for app in apps)
            assert want.status_code == got.status_code == 200, got.text[:300]
            assert got.content == want.content, params
    assert not refused
    steps = [text for text in sent if "kg:implements ?root" in text]
    assert len(steps) >= len(ASSIGNMENT_DOCS), "one request a step of the walk"


def test_bulk_loaded_server_s_document_pages_walk_the_plans_a_step_a_request(
        bulk_loaded: Running, embedded: str, kgraph_cache: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``/id/<document>`` over the bulk-loaded server: the plans carrying a document out whose
    assignments it lists are walked a step a request (``kg:implements+`` refused, as Virtuoso
    refuses it from a national directive at 20,000 plans), the embedded store's tables."""
    apps = [TestClient(create_app(remote(bulk_loaded, monkeypatch))),
            TestClient(create_app(open_repository(embedded, read_only=True)))]
    sent, refused = refuse_unbounded_paths(monkeypatch)
    for iri in (D28, KG234):
        got, expected = (app.get("/id/" + iri[len(str(ID)):]) for app in apps)
        assert expected.status_code == got.status_code == 200, (iri, got.text[:300])
        tables = page_tables(expected.text)
        assert page_tables(got.text) == tables, iri
        if iri == D28:  # a plan carrying out one carrying 28-CT/TW out: found by the walk
            assert "2509/KH-UBND" in tables["downstream-assignments-table"]
    assert not refused, refused[0][:300]
    assert any("VALUES ?root" in text for text in sent), "28-CT/TW's plans walked"


def test_keep_stamps_a_bulk_loaded_server_and_keeps_its_answers(
        bulk_loaded: Running, embedded: str, kgraph_cache: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``kgraph keep --store URL`` after a bulk load (last of the bulk-loaded server's tests: it
    writes the token): the server stamped, the plans' facts and the directive coverage kept for
    its version, ``assignments`` and ``directive-coverage`` answered from them in another
    command (the facts' and the coverage rows' reading refused), the embedded store's CSV byte
    for byte (the API's JSON pages too); run again, it finds them kept and asks nothing."""
    from kgraph.analysis import assignments_answer, coverage_answer

    repo = remote(bulk_loaded, monkeypatch)
    assert not repo.stamped()
    kept = run(["keep", "--store", bulk_loaded.url], env=bulk_loaded.env)
    assert kept.exit_code == 0, kept.output
    assert "stamped the store" in kept.output
    assert "kept the plans' assignment facts" in kept.output
    assert re.search(r"kept the directive coverage of [1-9]\d* directives", kept.output)
    assert repo.stamped() and ":size-" not in store_version(repo)
    forget(repo)  # another process: what is kept on disk only
    assert assignments_answer.previous(repo) is not None
    assert coverage_answer.previous(repo) is not None
    expected = {doc: assignments_csv(embedded, doc, None) for doc in ASSIGNMENT_DOCS}
    coverage = [run(["query", "directive-coverage", "--param", f"doc={doc}", *extra,
                     "--store", embedded, "--format", "csv"]).stdout
                for doc, extra in COVERAGE_CLI]
    assert coverage[0].count("\n") > coverage[1].count("\n") > 4, "no coverage restated"
    fresh_answers(monkeypatch)
    apps = [TestClient(create_app(repo)),
            TestClient(create_app(open_repository(embedded, read_only=True)))]
    asked = refuse(monkeypatch, "kg:hasAssignment")  # the query and the facts' own reading
    asked += refuse(monkeypatch, "kg:alignmentScore")  # the query and the graphs' rows
    for doc in ASSIGNMENT_DOCS:
        assert assignments_csv(bulk_loaded.url, doc, bulk_loaded.env) == expected[doc], doc
    for (doc, extra), want in zip(COVERAGE_CLI, coverage, strict=True):
        got = run(["query", "directive-coverage", "--param", f"doc={doc}", *extra,
                   "--store", bulk_loaded.url, "--format", "csv"], env=bulk_loaded.env)
        assert got.exit_code == 0, got.output
        assert got.stdout == want, (doc, extra)
    for params in COVERAGE_REQUESTS:
        got, want = (app.get("/api/queries/directive-coverage", params=params) for app in apps)
        assert want.status_code == got.status_code == 200, got.text[:300]
        assert got.content == want.content, params
    assert not asked
    sent, _ = refuse_unbounded_paths(monkeypatch)
    again = run(["keep", "--store", bulk_loaded.url], env=bulk_loaded.env)
    assert again.exit_code == 0, again.output
    assert "stamped" not in again.output and "kept already" in again.output
    assert not re.search(r"^kept ", again.output, re.MULTILINE), again.output
    assert not [text for text in sent if "kg:implements" in text or "kg:directive" in text]


COVERAGE_CLI = [("28-CT/TW", []), ("28-CT/TW", ["--param", "province=Kiên Giang"]),
                ("no-such-number", [])]


def test_derived_data_of_the_server_is_kept_in_the_user_s_cache(
        server: Running, kgraph_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What kgraph derives from a remote store (the audit index, the pages' data) is kept under
    ``$KGRAPH_CACHE/remote/<store-id>/`` (the server is not ours to write files on), reused by
    the next command and by a restarted server, and kept per version of the store."""
    repo = remote(server, monkeypatch)
    store_folder = derived_root(repo)
    assert store_folder is not None and store_folder.parent == kgraph_cache / "remote"
    first = run(["audit", "--store", server.url], env=server.env)
    assert "Violation" in first.stdout
    index = store_folder / "audit.sqlite"
    assert index.is_file()
    written = index.stat().st_mtime_ns
    again = run(["audit", "--store", server.url], env=server.env)
    assert (again.exit_code, again.stdout) == (first.exit_code, first.stdout)
    assert index.stat().st_mtime_ns == written  # read, not recomputed
    # a served store keeps the pages' data under its version token
    home = TestClient(create_app(repo)).get("/")
    assert home.status_code == 200, home.text
    version = store_folder / store_version(repo).rsplit(":", 2)[1]  # its token's folder
    assert version.is_dir()
    kept = {p.name: p.stat().st_mtime_ns for p in version.glob("*.pickle")}
    assert kept, "the home page's data is kept for the store's version"
    forget(repo)  # as a restarted server: the same page, from the kept data
    again_home = TestClient(create_app(repo)).get("/")
    assert again_home.status_code == 200
    assert again_home.text == home.text
    assert {p.name: p.stat().st_mtime_ns for p in version.glob("*.pickle")} == kept
    # a write makes a new version, whose data is kept beside the old one's
    repo.replace_graphs({"urn:test:cache": "<urn:test:s> <urn:test:p> <urn:test:o> .\n"})
    try:
        assert TestClient(create_app(repo)).get("/").status_code == 200
        versions = sorted(p.name for p in store_folder.iterdir()
                          if p.is_dir() and p.name != "derived")  # (kept parts: kept_root)
        assert len(versions) == 2 and version.name in versions
        # the build's kept answers (by content key) are not a version's, nor pruned with one
        assert list((store_folder / "derived" / "documents").glob("assignments-part-*"))
    finally:
        repo.drop_graphs(["urn:test:cache"])


def test_fact_stated_by_many_graphs_lists_some_and_counts_the_rest(
        server: Running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fact restated by many graphs (a directive cited by every plan) is one row of its
    page: the first twelve sources and "and N more", over the server as over an embedded
    store holding the same graphs."""
    node = str(ID["doc/vn/test-restated/2026"])
    graphs = {f"urn:test:restated{i:02d}": f'<{node}> <{ID}p> "giá trị" .\n'
              for i in range(15)}
    local = open_repository(str(tmp_path / "store"))
    local.replace_graphs(graphs)
    repo = remote(server, monkeypatch)
    repo.replace_graphs(graphs)
    try:
        pages = [TestClient(create_app(store)).get("/id/doc/vn/test-restated/2026")
                 for store in (repo, local)]
    finally:
        repo.drop_graphs(list(graphs))
    for page in pages:
        assert page.status_code == 200, page.text[:300]
        facts = re.search(r'<section id="properties">.*?</section>', page.text, re.DOTALL)
        assert facts is not None
        assert facts.group(0).count("giá trị") == 1  # one row, not one per graph
        assert len(set(re.findall(r"urn:test:restated\d+", facts.group(0)))) == 12
        assert "và 3 nguồn khác" in facts.group(0)


def test_implementers_name_a_province_the_reference_graph_does_not_list(
        server: Running, embedded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``implementers`` (the portable text over the server, the Oxigraph text over an embedded
    store holding the same graphs): a province the reference graph lists is named from it, one
    it does not list from the graphs that name it (here two), once per plan."""
    from kgraph.analysis.queries import run_named
    from kgraph.graph.vocab import ELI, KG, SKOS
    from kgraph.store.embedded import OxigraphRepository

    plan, province = ID["doc/test-unlisted/99-kh-thu/2026"], ID["province/test-unlisted"]
    name = f'<{province}> <{SKOS.prefLabel}> "Tỉnh Thử Nghiệm"@vi .\n'
    graphs = {
        "urn:test:unlisted-plan": (
            f"<{plan}> <{KG.implements}> <{D28}> .\n"
            f'<{plan}> <{ELI.id_local}> "99/KH-THU" .\n'
            f"<{plan}> <{KG.province}> <{province}> .\n"
            f"<{plan}> <{ELI.type_document}> <{ID['doctype/ke-hoach']}> .\n" + name),
        "urn:test:unlisted-citing": name,
    }
    local = OxigraphRepository()
    local.native.extend(open_repository(embedded, read_only=True).native.quads_for_pattern(
        None, None, None, None))
    local.replace_graphs(graphs)
    repo = remote(server, monkeypatch)
    repo.replace_graphs(graphs)
    query = named_queries()["implementers"]
    try:
        got, expected = (canonical(run_named(query, store, {"doc": "28-CT/TW"}).records())
                         for store in (repo, local))
    finally:
        repo.drop_graphs(list(graphs))
    unlisted = [row for row in expected if row["plan"] == str(plan)]
    assert [row["province"] for row in unlisted] == ["Tỉnh Thử Nghiệm"]
    assert any(row["province"] == "Gia Lai" for row in expected)  # listed ones too
    assert got == expected


def test_sparql_endpoint_forwards_to_the_server_with_its_credentials(
        server: Running, embedded: str, live_server: type,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``kgraph serve --store URL``: /sparql forwards (with the store's credentials) and
    answers as over the embedded store."""
    import httpx

    query = named_queries()["agency"].example()
    construct = ("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <https://w3id.org/kgraph/id/graph/"
                 "gia-lai/2509-kh-ubnd/2024> { ?s ?p ?o } }")
    answers, graphs = [], []
    for repo in (remote(server, monkeypatch), open_repository(embedded, read_only=True)):
        with live_server(create_app(repo)) as app:
            response = httpx.post(app.url + "/sparql", data={"query": query}, timeout=120)
            triples = httpx.post(app.url + "/sparql", data={"query": construct}, timeout=120,
                                 headers={"Accept": "application/n-triples"})
        assert response.status_code == 200, response.text
        rows = [{k: v["value"] for k, v in b.items()}
                for b in response.json()["results"]["bindings"]]
        answers.append(canonical(rows, concat_columns(query)))
        assert triples.status_code == 200, triples.text  # a graph, even from Virtuoso
        graphs.append(canonical(triples.text.splitlines()))
    assert answers[1] and len(graphs[1]) > 100
    assert answers[0] == answers[1]
    assert graphs[0] == graphs[1]


def test_large_replacement_is_staged_and_switched_in_one_request(
        server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """A replacement larger than one request is written into staging graphs first; readers
    never see the staging graphs nor half a graph, and a failed write leaves the old graph."""
    given = remote(server, monkeypatch)
    repo = RemoteRepository(given.query_url, given.update_url, auth=given.auth,
                            max_update_bytes=4096)  # chunks, even for the small graph below
    lines = "".join(f'<urn:test:s{i}> <urn:test:p> "giá trị {i}" .\n' for i in range(400))
    repo.replace_graphs({"urn:test:big": lines})
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:test:big> { ?s ?p ?o } }"
    assert int(repo.query(count).rows[0][0]) == 400
    assert not [g for g in repo.graph_names() if g.startswith("urn:kgraph:staging:")]
    broken = lines + "<urn:test:s> <urn:test:p> this is no term .\n"
    with pytest.raises(StoreError, match="failed"):
        repo.replace_graphs({"urn:test:big": broken})
    assert int(repo.query(count).rows[0][0]) == 400  # the live graph is untouched
    everything = RemoteRepository.graph_names(repo)
    assert not [g for g in everything if g.startswith("urn:kgraph:staging:")]
    repo.drop_graphs(["urn:test:big"])
    assert "urn:test:big" not in repo.graph_names()
    # many graphs (on Virtuoso one request each), one opening with a long text (which
    # Virtuoso's Graph Store takes for text/plain) and one emptied
    text = "Kế hoạch thực hiện " * 5000
    many = {f"urn:test:many{i}": f'<urn:test:s> <urn:test:n> "{i}" .\n' for i in range(30)}
    many["urn:test:many0"] = f'<urn:test:s> <urn:test:text> "{text}" .\n' + many["urn:test:many0"]
    repo.replace_graphs(many)
    repo.replace_graphs({"urn:test:many1": ""})
    counts = repo.query("""SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o }
        FILTER(STRSTARTS(STR(?g), "urn:test:many")) } GROUP BY ?g""").records()
    got = {r["g"]: int(r["n"] or 0) for r in counts}
    assert got == {**{g: 1 for g in many if g != "urn:test:many1"}, "urn:test:many0": 2}
    long = repo.query("SELECT ?t WHERE { GRAPH <urn:test:many0> { ?s <urn:test:text> ?t } }")
    assert str(long.rows[0][0]) == text
    repo.drop_graphs(list(many))


# A value of each kind kgraph stores, as its mapping writes them (kgraph.graph.mapping).
_TYPED = {
    "integer": '"2504"^^<http://www.w3.org/2001/XMLSchema#integer>',
    "negative": '"-7"^^<http://www.w3.org/2001/XMLSchema#integer>',
    "decimal": '"0.35"^^<http://www.w3.org/2001/XMLSchema#decimal>',
    "whole-decimal": '"12"^^<http://www.w3.org/2001/XMLSchema#decimal>',
    "date": '"2024-10-28"^^<http://www.w3.org/2001/XMLSchema#date>',
    "month-day": '"--11-10"^^<http://www.w3.org/2001/XMLSchema#gMonthDay>',
    "string": '"Sở Y tế, \\"Gia Lai\\"\\n2"',
    "spaced": '"  lề trái"',
    "empty": '""',
    "tagged": '"Kế hoạch"@vi',
    "iri": "<https://w3id.org/kgraph/id/org/gia-lai/so-y-te>",
    "true": '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>',
    "false": '"false"^^<http://www.w3.org/2001/XMLSchema#boolean>',
}


def test_records_are_the_embedded_store_s_in_one_request(
        server: Running, embedded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``records`` (the pages' and the explorer's reads): on Virtuoso one CSV request, whose
    values are the embedded store's for every kind of value kgraph stores, a stored boolean
    read as ``STR(?b)``; a directive's stored matrix (its ``kg:reconstructed`` read so) too."""
    from kgraph.analysis.coverage import read_matrix
    from kgraph.store.embedded import OxigraphRepository

    repo = remote(server, monkeypatch)
    lines = "".join(f"<urn:test:{name}> <urn:test:value> {term} .\n"
                    for name, term in _TYPED.items())
    repo.replace_graphs({"urn:test:typed": lines})
    memory = OxigraphRepository()
    memory.replace_graphs({"urn:test:typed": lines})
    sparql = """SELECT ?s ?o ?flag ?none WHERE { GRAPH <urn:test:typed> { ?s <urn:test:value> ?o }
        BIND(IF(isLiteral(?o) && DATATYPE(?o) = <http://www.w3.org/2001/XMLSchema#boolean>,
                STR(?o), ?unbound) AS ?flag) OPTIONAL { ?s <urn:test:none> ?none } }"""
    expected = sorted(memory.records(sparql), key=lambda r: r["s"] or "")
    try:
        if repo.is_virtuoso:  # the CSV is enough: no JSON asked for
            monkeypatch.setattr(repo, "query", lambda text: pytest.fail(f"asked again: {text}"))
        got = sorted(repo.records(sparql), key=lambda r: r["s"] or "")
        assert [r for r in got if r["s"] not in ("urn:test:true", "urn:test:false")] == [
            r for r in expected if r["s"] not in ("urn:test:true", "urn:test:false")]
        assert [r["flag"] for r in got if r["flag"]] == ["false", "true"]
        assert [r["flag"] for r in expected if r["flag"]] == ["false", "true"]
        matrix = read_matrix(repo, "28-CT/TW")
        assert matrix is not None and matrix.tasks
        assert matrix == read_matrix(open_repository(embedded, read_only=True), "28-CT/TW")
    finally:
        monkeypatch.undo()
        remote(server, monkeypatch).drop_graphs(["urn:test:typed"])


def test_a_bad_query_is_a_syntax_error_and_credentials_are_required(
        server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = remote(server, monkeypatch)
    with pytest.raises(SyntaxError):
        repo.query("SELECT * WHERE {")
    if server.name == "virtuoso":  # writes need the kgraph user on /sparql-auth
        monkeypatch.delenv("KGRAPH_STORE_USER")
        monkeypatch.delenv("KGRAPH_STORE_PASSWORD")
        anonymous = open_repository(server.url)
        with pytest.raises(StoreError, match="401"):
            anonymous.replace_graphs({"urn:test:anonymous": "<urn:a> <urn:b> <urn:c> .\n"})


def test_missing_server_binaries_are_reported_not_crashed(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setattr(external_stores.shutil, "which", lambda name: None)
    assert "virtuoso-t is absent" in (external_stores.virtuoso_missing() or "")
    assert "java is absent" in (external_stores.jena_missing() or "")


def test_store_urls_carry_credentials_without_leaking_them(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.delenv("KGRAPH_STORE_USER", raising=False)
    repo = open_repository("http://kgraph:s%40cret@127.0.0.1:1/sparql-auth")
    assert isinstance(repo, RemoteRepository)
    assert repo.query_url == "http://127.0.0.1:1/sparql-auth" == repo.update_url
    assert repo.auth is not None and "s@cret" not in repo.query_url
    plain = open_repository("http://127.0.0.1:1")
    assert isinstance(plain, RemoteRepository) and plain.auth is None
    assert plain.query_url.endswith("/query") and plain.update_url.endswith("/update")

