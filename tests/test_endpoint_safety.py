"""Safety defaults of /sparql over real HTTP: no outbound network, timeouts that stop work."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app
from kgraph.web.safety import UnsafeRequest, add_using, check_query, check_update
from kgraph.web.settings import Settings

TOKEN = "safety-token"


class Listener:
    """A local HTTP server that records every request it receives."""

    def __init__(self) -> None:
        self.received: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener.received.append(f"GET {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "text/turtle")
                self.end_headers()
                self.wfile.write(b"<http://x/s> <http://x/p> <http://x/o> .\n")

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def listener() -> Iterator[Listener]:
    trap = Listener()
    trap.thread.start()
    yield trap
    trap.server.shutdown()


def test_listener_records_requests(listener: Listener) -> None:
    """The trap works: a direct request is seen (so an empty log below means something)."""
    httpx.get(listener.url + "/probe")
    assert listener.received == ["GET /probe"]
    listener.received.clear()


def test_no_query_or_update_reaches_the_network(sample_repo: OxigraphRepository,
                                                live_server: type, listener: Listener) -> None:
    remote = listener.url + "/data.ttl"
    queries = [
        f"SELECT * WHERE {{ SERVICE <{listener.url}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}/sparql> {{ ?s ?p ?o }} }}",
        f"PREFIX r: <{listener.url}/> SELECT * WHERE {{ service r:sparql {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{listener.url}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{remote}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{remote}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"BASE <{listener.url}/> SELECT * FROM <data.ttl> WHERE {{ ?s ?p ?o }}",
    ]
    updates = [f"LOAD <{remote}>", f"LOAD SILENT <{remote}> INTO GRAPH <urn:g>",
               f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{listener.url}/s> {{ ?s ?p ?o }} }}"]
    settings = Settings(write_token=TOKEN)
    with live_server(create_app(sample_repo, settings)) as server:
        url = server.url + "/sparql"
        answers = [httpx.get(url, params={"query": q}) for q in queries]
        answers.append(httpx.get(url, params={"query": "ASK {}", "default-graph-uri": remote}))
        answers.append(httpx.get(url, params={"query": "ASK {}", "named-graph-uri": remote}))
        answers += [httpx.post(url, data={"update": u},
                               headers={"Authorization": f"Bearer {TOKEN}"}) for u in updates]
        time.sleep(0.3)  # give any stray outbound request time to arrive
    for response in answers:
        assert response.status_code == 400, response.text
        assert response.text.startswith("refused:")
    assert "never" in answers[0].text and "no such graph" in answers[4].text
    assert listener.received == []


def test_harmless_look_alikes_are_allowed(sample_repo: OxigraphRepository,
                                         live_server: type) -> None:
    graph = sample_repo.graph_names()[0]
    queries = [
        'SELECT ?service WHERE { BIND("SERVICE LOAD FROM <http://x/>" AS ?service) }',
        "PREFIX load: <urn:x:> SELECT * WHERE { ?s load:service ?o } # SERVICE <http://x/>",
        f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}",
    ]
    with live_server(create_app(sample_repo)) as server:
        for query in queries:
            response = httpx.get(server.url + "/sparql", params={"query": query})
            assert response.status_code == 200, (query, response.text)
        one = httpx.get(server.url + "/sparql", params={"query": queries[2]}).json()
    assert 0 < int(one["results"]["bindings"][0]["n"]["value"]) < len(sample_repo)


def test_safety_scanner_units() -> None:
    with pytest.raises(UnsafeRequest):
        check_query("SELECT * { SeRvIcE <http://x/> { ?s ?p ?o } }", set)
    with pytest.raises(UnsafeRequest):
        check_update("CLEAR ALL ; load <http://x/>")
    assert check_query("SELECT * FROM <urn:g> { ?s ?p ?o }", lambda: {"urn:g"}) is True
    assert check_query("SELECT * { ?s ?p 'FROM <urn:nope>' }", set) is False
    rewritten = add_using("INSERT { ?s ?p 1 } WHERE { { SELECT * WHERE { ?s ?p ?o } } }",
                          ["urn:a"], ["urn:b"])
    assert rewritten.count("USING <urn:a> USING NAMED <urn:b> WHERE") == 1
    assert add_using("DELETE WHERE { ?s ?p ?o }", ["urn:a"], []) == "DELETE WHERE { ?s ?p ?o }"


def slow_repository(size: int = 400) -> OxigraphRepository:
    repo = OxigraphRepository()
    triples = "".join(f"<urn:s{i}> <urn:p> {i} .\n" for i in range(size))
    repo.replace_graphs({"urn:graph:slow": triples})
    return repo


SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h }"
FAST = "SELECT ?s WHERE { ?s <urn:p> 7 }"


def test_timeout_stops_the_query_while_others_are_served(live_server: type) -> None:
    settings = Settings(query_timeout=1.0, workers=2)
    app = create_app(slow_repository(), settings)
    with live_server(app) as server:
        url = server.url + "/sparql"
        httpx.get(url, params={"query": FAST})  # workers are forked on first use
        before = {w.process.pid for w in app.state.executor._all}
        slow: dict[str, object] = {}

        def run_slow() -> None:
            started = time.monotonic()
            slow["response"] = httpx.get(url, params={"query": SLOW}, timeout=30)
            slow["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=run_slow)
        thread.start()
        time.sleep(0.2)
        fast_times = []
        other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        while thread.is_alive():  # another client: not slowed down by the first one's bomb
            started = time.monotonic()
            response = other.get(url, params={"query": FAST}, timeout=30)
            fast_times.append(time.monotonic() - started)
            assert response.status_code == 200
            assert response.json()["results"]["bindings"][0]["s"]["value"] == "urn:s7"
        thread.join()
        other.close()
        after = {w.process.pid for w in app.state.executor._all}
        again = httpx.get(url, params={"query": FAST})
    response = slow["response"]
    assert isinstance(response, httpx.Response)
    assert response.status_code == 503
    assert "timeout" in response.text
    assert 0.9 < float(slow["seconds"]) < 10  # type: ignore[arg-type]
    # the other client kept being answered while the bomb ran (median: robust on a loaded machine)
    assert len(fast_times) >= 3 and statistics.median(fast_times) < 0.9
    killed = before - after
    assert len(killed) == 1 and len(after) == 2
    for pid in killed:  # the worker that ran the slow query is gone, CPU and all
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert again.status_code == 200


def test_update_is_visible_to_later_queries(live_server: type) -> None:
    """Workers are re-forked after an update, so they see the new data."""
    app = create_app(slow_repository(10), Settings(write_token=TOKEN, workers=2))
    ask = {"query": "ASK { <urn:new> <urn:p> 1 }"}
    with live_server(app) as server:
        url = server.url + "/sparql"
        assert httpx.get(url, params=ask).json()["boolean"] is False
        done = httpx.post(url, content="INSERT DATA { GRAPH <urn:g2> { <urn:new> <urn:p> 1 } }",
                          headers={"Content-Type": "application/sparql-update",
                                   "Authorization": f"Bearer {TOKEN}"})
        assert done.status_code == 204
        assert all(httpx.get(url, params=ask).json()["boolean"] for _ in range(4))


YASGUI_DEFAULT = ("PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
                  "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                  "SELECT * WHERE {\n  ?sub ?pred ?obj .\n} LIMIT 10")


def test_every_query_the_pages_send_passes_the_check(sample_repo: OxigraphRepository,
                                                     live_server: type) -> None:
    """The named queries as the editor shows them (examples bound, and odd values escaped),
    YASGUI's default query: all parse and run through /sparql by GET, form and direct POST."""
    from kgraph.analysis.queries import named_queries

    texts = [YASGUI_DEFAULT]
    for query in named_queries().values():
        texts += [query.example(),
                  query.render({p.name: 'a "quote", a \\ and # SERVICE' for p in query.parameters})]
    with live_server(create_app(sample_repo)) as server:
        url = server.url + "/sparql"
        for i, text in enumerate(texts):
            if i % 3 == 0:
                response = httpx.get(url, params={"query": text}, timeout=30)
            elif i % 3 == 1:
                response = httpx.post(url, data={"query": text}, timeout=30)
            else:
                response = httpx.post(url, content=text.encode(), timeout=30,
                                      headers={"Content-Type": "application/sparql-query"})
            assert response.status_code == 200, (text[:200], response.text)


def test_text_outside_sparql_11_is_refused_with_one_line(sample_repo: OxigraphRepository,
                                                         live_server: type,
                                                         listener: Listener) -> None:
    cases = {
        "SELECT * WHERE { ?s ?p }": "not a SPARQL 1.1 query: error at 1:24: expected ",
        f"SELECT * WHERE {{ ?s ?p ?o }} BINDINGS ?x {{ <{listener.url}/> }}":
            "error at 1:29: 'BINDINGS' is no SPARQL 1.1 keyword",
        "SELECT * WHERE { << ?s ?p ?o >> ?q ?r }": "RDF-star quoted triples",
        f"SELECT * WHERE {{ ?s ?p ?o LATERAL {{ SERVICE <{listener.url}/> {{}} }} }}":
            "SERVICE is disabled",
        "SELECT * WHERE " + "{ " * 200 + " }" * 200: "nested deeper than 128",
        "SELECT * WHERE { ?s ?p ?o BIND(1 AS ?o) }": "BIND assigns ?o",
        "SELECT * WHERE { BIND('\\uDC00' AS ?v) }": "surrogate",
    }
    with live_server(create_app(sample_repo)) as server:
        answers = {text: httpx.post(server.url + "/sparql", data={"query": text})
                   for text in cases}
        time.sleep(0.2)
    for text, reason in cases.items():
        response = answers[text]
        assert response.status_code == 400, response.text
        assert response.text.startswith("refused: ") and reason in response.text, response.text
        assert response.text.strip().count("\n") == 0
    assert listener.received == []


def test_service_in_any_form_and_place_is_refused_on_the_tree(listener: Listener) -> None:
    """The parse alone (the lexer layer switched off) finds SERVICE wherever the grammar
    allows it, and the lexer alone refuses what the grammar cannot even read."""
    from kgraph.web import safety

    service = f"SERVICE <{listener.url}/s> {{ ?s ?p ?o }}"
    queries = [
        f"SELECT * WHERE {{ {service} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}/s> {{ }} }}",
        "SELECT * WHERE { BIND(<urn:x> AS ?e) SERVICE ?e { ?s ?p ?o } }",
        f"SELECT * WHERE {{ OPTIONAL {{ {service} }} }}",
        f"ASK {{ FILTER NOT EXISTS {{ {service} }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ {service} }} }} }}",
        f"SELECT * WHERE {{ ?a ?b ?c # x\r {service} }}",
        f"PREFIX ex: <urn:x:> SELECT * WHERE {{ BIND(ex:a\\# AS ?y) {service} }}",
        f"PREFIX ex: <urn:x:> SELECT * WHERE {{ BIND(ex:a\\' AS ?y) {service} }}",
    ]
    plain_scan = safety.scan
    try:
        safety.scan = lambda text, base=None, keywords=(): safety.Scan([], {}, base)  # type: ignore[assignment,misc]
        for query in queries:
            with pytest.raises(UnsafeRequest, match="SERVICE is disabled"):
                check_query(query, set)
        with pytest.raises(UnsafeRequest, match="LOAD is disabled"):
            check_update(f"CLEAR ALL ; LOAD SILENT <{listener.url}/d> INTO GRAPH <urn:g>")
        with pytest.raises(UnsafeRequest, match="SERVICE is disabled"):
            check_update(f"DELETE {{ ?s ?p ?o }} WHERE {{ {service} }}")
    finally:
        safety.scan = plain_scan  # type: ignore[assignment]
    for glued in (f"SELECT * WHERE {{ SERVICESILENT<{listener.url}/s>{{}} }}",
                  f"PREFIX : <{listener.url}/> SELECT * WHERE {{ SERVICE:x{{}} }}"):
        with pytest.raises(UnsafeRequest, match="SERVICE is disabled"):
            safety.scan(glued, None, safety.QUERY_KEYWORDS)  # the lexer layer refuses it
        with pytest.raises(safety.UnreadableRequest, match=r"not a SPARQL 1\.1 query"):
            safety._syntax(glued, "query")  # and the grammar cannot read it
    assert listener.received == []


def test_dataset_clauses_resolve_prefixes_and_base_as_the_engine_does() -> None:
    known = {"http://x/data.ttl", "urn:x:a#b", "urn:g"}
    assert check_query("BASE <http://x/> PREFIX e: <urn:x:> SELECT * FROM <data.ttl> "
                       "FROM NAMED e:a\\#b WHERE { ?s ?p ?o }", lambda: known) is True
    with pytest.raises(UnsafeRequest, match="FROM NAMED <urn:x:a#c>: no such graph"):
        check_query("PREFIX e: <urn:x:> SELECT * FROM NAMED e:a\\#c { ?s ?p ?o }",
                    lambda: known)
    with pytest.raises(UnsafeRequest, match="prefix nope: is not declared"):
        check_query("SELECT * FROM nope:x { ?s ?p ?o }", lambda: known)
    # a FROM inside a string, a comment or an IRI is no dataset clause
    assert check_query("SELECT * { ?s ?p 'FROM <urn:no>' } # FROM <urn:no>", set) is False
    # an absolute IRI stays as it is written under the protocol's base (the endpoint's IRI),
    # its empty fragment too, as the engine reads it; a relative one is resolved
    ns = {"http://x/ns#", "http://127.0.0.1:8000/data"}
    assert check_query("PREFIX e: <http://x/ns#> SELECT * FROM e: FROM <data> { ?s ?p ?o }",
                       lambda: ns, base="http://127.0.0.1:8000/sparql") is True


def test_using_rewrite_is_placed_on_the_parsed_where(sample_repo: OxigraphRepository,
                                                     live_server: type) -> None:
    """using-graph-uri goes before the WHERE of each INSERT/DELETE ... WHERE, never into a
    string, a comment, a subquery or DELETE WHERE."""
    update = ("PREFIX ex: <urn:x:> # WHERE in a comment\n"
              "INSERT { GRAPH <urn:copy> { ?s ex:note 'WHERE { }' } } "
              "WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 1 } } ;\n"
              "DELETE WHERE { GRAPH <urn:none> { ?a ?b ?c } }")
    rewritten = add_using(update, ["urn:graph:a"], [])
    assert rewritten.count("USING <urn:graph:a>") == 1
    assert "USING <urn:graph:a> WHERE { { SELECT" in rewritten
    assert "'WHERE { }'" in rewritten and "# WHERE in a comment" in rewritten
    graph = sample_repo.graph_names()[0]
    settings = Settings(write_token=TOKEN)
    with live_server(create_app(sample_repo, settings)) as server:
        url = server.url + "/sparql"
        done = httpx.post(url, params={"using-graph-uri": graph}, content=update.encode(),
                          headers={"Content-Type": "application/sparql-update",
                                   "Authorization": f"Bearer {TOKEN}"})
        assert done.status_code == 204, done.text
        ask = httpx.get(url, params={"query": "ASK { GRAPH <urn:copy> { ?s ?p 'WHERE { }' } }"})
    assert ask.json()["boolean"] is True


def test_every_update_operation_is_parsed_and_applied(live_server: type) -> None:
    """Each SPARQL 1.1 Update operation passes the check over HTTP and is applied; LOAD is
    refused on the tree (also with SILENT and INTO)."""
    operations = [
        "CREATE GRAPH <urn:g:a>",
        "INSERT DATA { GRAPH <urn:g:a> { <urn:s> <urn:p> 'o', \"\"\"long\"\"\" } }",
        "ADD <urn:g:a> TO <urn:g:b>",
        "COPY GRAPH <urn:g:a> TO GRAPH <urn:g:c>",
        "MOVE SILENT <urn:g:c> TO <urn:g:d>",
        "WITH <urn:g:b> DELETE { ?s ?p 'o' } INSERT { ?s ?p 'n' } WHERE { ?s ?p 'o' }",
        "DELETE DATA { GRAPH <urn:g:d> { <urn:s> <urn:p> 'o' } }",
        "DELETE WHERE { GRAPH <urn:g:a> { ?s ?p 'long' } }",
        "INSERT { GRAPH <urn:g:e> { ?s ?p ?o } } USING <urn:g:b> WHERE { ?s ?p ?o }",
        "DROP SILENT GRAPH <urn:g:none> ; CLEAR SILENT GRAPH <urn:g:none>",
    ]
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"}
    app = create_app(OxigraphRepository(), Settings(write_token=TOKEN, workers=1))
    with live_server(app) as server:
        url = server.url + "/sparql"
        for operation in operations:
            done = httpx.post(url, content=operation.encode(), headers=auth, timeout=30)
            assert done.status_code == 204, (operation, done.text)
        load = httpx.post(url, content=b"LOAD SILENT <urn:doc> INTO GRAPH <urn:g:f>",
                          headers=auth)
        rows = httpx.get(url, params={"query": "SELECT ?g ?o { GRAPH ?g { ?s ?p ?o } } "
                                               "ORDER BY ?g ?o"}).json()["results"]["bindings"]
    assert load.status_code == 400 and "LOAD is disabled" in load.text
    assert [(r["g"]["value"], r["o"]["value"]) for r in rows] == [
        ("urn:g:a", "o"), ("urn:g:b", "long"), ("urn:g:b", "n"), ("urn:g:d", "long"),
        ("urn:g:e", "long"), ("urn:g:e", "n")]


def test_service_and_load_inside_a_lateral_are_refused_by_each_layer(listener: Listener) -> None:
    """Where LATERAL is accepted (the embedded store), SERVICE and LOAD anywhere inside one
    are still refused: by the tree alone (the lexer layer switched off) and by the lexer
    alone (glued spellings the grammar cannot read)."""
    from kgraph.web import safety

    service = f"SERVICE <{listener.url}/s> {{ ?s ?p ?o }}"
    queries = [
        f"SELECT * WHERE {{ ?s ?p ?o LATERAL {{ {service} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o lateral{{SERVICE SILENT <{listener.url}/s>{{}}}} }}",
        f"SELECT * WHERE {{ ?s ?p ?o LaTeRaL # note\n {{ # more\r {service} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o LATERAL {{ OPTIONAL {{ {service} }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o LATERAL {{ SELECT * WHERE {{ {service} }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o LATERAL {{ ?s ?q ?r LATERAL {{ {service} }} }} }}",
        f"ASK {{ ?s ?p ?o LATERAL {{ FILTER EXISTS {{ {service} }} }} }}",
        "SELECT * WHERE { BIND(<urn:x> AS ?e) LATERAL { SERVICE ?e { ?s ?p ?o } } }",
    ]
    updates = [f"DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o LATERAL {{ {service} }} }}",
               f"INSERT {{ ?s ?p 1 }} WHERE {{ ?s ?p ?o LATERAL {{ {service} }} }} ; "
               f"LOAD <{listener.url}/d>"]
    plain_scan = safety.scan
    try:
        safety.scan = lambda text, base=None, keywords=(): safety.Scan([], {}, base)  # type: ignore[assignment,misc]
        for query in queries:
            with pytest.raises(UnsafeRequest, match="SERVICE is disabled"):
                check_query(query, set, lateral=True)
        for update in updates:
            with pytest.raises(UnsafeRequest, match="SERVICE is disabled"):
                check_update(update, lateral=True)
    finally:
        safety.scan = plain_scan  # type: ignore[assignment]
    for glued in (f"SELECT * WHERE {{ ?s ?p ?o LATERAL{{SERVICESILENT<{listener.url}/s>{{}}}} }}",
                  f"PREFIX : <{listener.url}/> SELECT * WHERE {{ LATERAL {{ SERVICE:x{{}} }} }}",
                  f"SELECT * WHERE {{ ?s ?p ?o LATERALSERVICE <{listener.url}/s> {{}} }}"):
        with pytest.raises(UnsafeRequest, match="SERVICE is disabled"):
            check_query(glued, set, lateral=True)
        with pytest.raises(safety.UnreadableRequest, match=r"not a SPARQL 1\.1 query"):
            safety._syntax(glued, "query", lateral=True)  # the grammar cannot read it either
    assert check_query("SELECT * WHERE { ?s ?p ?o LATERAL { ?s ?q 'SERVICE' } }", set,
                       lateral=True) is False  # a word in a string is no keyword
    assert listener.received == []


def test_lateral_is_accepted_only_where_the_store_s_engine_runs_it() -> None:
    """The worker's check decides per engine: pyoxigraph (the embedded store) takes LATERAL;
    a store that does not say it does (a remote one: Virtuoso has none) is refused with the
    reason and where the named queries' text for it is."""
    import pyoxigraph as ox

    from kgraph.store.remote import RemoteRepository
    from kgraph.web.query_workers import Job, prepare, takes_lateral

    text = "SELECT * WHERE { ?s ?p ?o LATERAL { SELECT ?s ?l WHERE { ?s ?q ?l } LIMIT 1 } }"
    store = ox.Store()
    prepare(store, Job(text), None)
    prepare(store, Job(f"DELETE {{ ?s ?p ?o }} WHERE {{ {text[16:-2]} }}", update=True), None)
    assert takes_lateral(store) and takes_lateral(OxigraphRepository())
    remote = RemoteRepository("http://127.0.0.1:9/query")
    assert not takes_lateral(remote) and not takes_lateral(object())
    for job in (Job(text), Job(f"INSERT {{ ?s ?p 1 }} WHERE {{ {text[16:-2]} }}", update=True)):
        with pytest.raises(UnsafeRequest) as caught:
            prepare(remote, job, None)
        message = str(caught.value)
        assert "LATERAL joins (SEP-0006: run by the embedded Oxigraph store" in message
        assert "/api/queries/NAME?format=sparql" in message and "\n" not in message
