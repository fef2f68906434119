"""The explorer's JSON API over the hand-made sample documents."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from kgraph.graph.mapping import document_graph
from kgraph.graph.vocab import ID
from kgraph.web.app import create_app

D28 = str(ID["doc/vn/28-ct-tw/2023"])
GL2509 = str(ID["doc/gia-lai/2509-kh-ubnd/2024"])
SO_YTE_GL = str(ID["org/gia-lai/so-y-te"])
PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 1">'


@pytest.fixture
def client(sample_repo) -> TestClient:
    return TestClient(create_app(sample_repo))


def test_search_with_and_without_diacritics(client: TestClient) -> None:
    for query in ("so y te gia lai", "Sở Y tế Gia Lai"):
        hits = client.get("/api/search", params={"q": query}).json()
        assert hits[0] == {"iri": SO_YTE_GL, "kind": "agency", "label": "Sở Y tế",
                           "detail": "Cơ quan", "province": "Gia Lai"}
    assert client.get("/api/search", params={"q": "28 ct tw"}).json()[0]["iri"] == D28
    assert client.get("/api/search", params={"q": ""}).json() == []


def test_lineage_down_and_up(client: TestClient) -> None:
    down = client.get("/api/lineage", params={"iri": D28, "depth": 2}).json()
    ids = {n["id"] for n in down["nodes"]}
    assert down["root"] == D28 and GL2509 in ids and SO_YTE_GL not in ids
    levels = {n["id"]: n["level"] for n in down["nodes"]}
    assert levels[D28] == 0 and levels[GL2509] == 2
    assert {(e["source"], e["target"], e["rel"]) for e in down["edges"]} >= {
        (D28, str(ID["doc/gia-lai/273-kh-tu/2024"]), "implements"), (D28, GL2509, "cites")}
    up = client.get("/api/lineage",
                    params={"iri": SO_YTE_GL, "direction": "up", "depth": 8}).json()
    up_ids = {n["id"] for n in up["nodes"]}
    assert {D28, GL2509, SO_YTE_GL} <= up_ids
    node = next(n for n in up["nodes"] if n["id"] == GL2509)
    assert node["page"] == "/id/doc/gia-lai/2509-kh-ubnd/2024"
    assert (node["province"], node["year"], node["doctype"]) == ("Gia Lai", "2024", "Kế hoạch")


def test_a_lineage_too_large_to_draw_stops_at_its_last_whole_step_and_says_so(
        sample_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    from kgraph.web import explore

    whole = TestClient(create_app(sample_repo)).get(
        "/api/lineage", params={"iri": D28, "depth": 8}).json()
    assert "cut_at" not in whole  # within the limit: every step, no mark
    steps = {}
    for depth in (1, 2, 3):
        steps[depth] = {n["id"] for n in TestClient(create_app(sample_repo)).get(
            "/api/lineage", params={"iri": D28, "depth": depth}).json()["nodes"]}
    assert len(steps[1]) < len(steps[2]) < len(steps[3]) <= len(whole["nodes"])
    # a limit between two steps' sizes: the answer is the last step within it, marked
    monkeypatch.setattr(explore, "LINEAGE_NODES", len(steps[2]))
    explore._LINEAGE_ANSWERS.clear()
    cut = TestClient(create_app(sample_repo)).get(
        "/api/lineage", params={"iri": D28, "depth": 8}).json()
    assert cut["cut_at"] == 2 and {n["id"] for n in cut["nodes"]} == steps[2]
    # the first step is always given, however small the limit
    monkeypatch.setattr(explore, "LINEAGE_NODES", 1)
    explore._LINEAGE_ANSWERS.clear()
    first = TestClient(create_app(sample_repo)).get(
        "/api/lineage", params={"iri": D28, "depth": 8}).json()
    assert first["cut_at"] == 1 and {n["id"] for n in first["nodes"]} == steps[1]
    explore._LINEAGE_ANSWERS.clear()


def test_a_lineage_in_its_compact_form_holds_the_same_nodes_and_edges(
        sample_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    from kgraph.web import explore

    client = TestClient(create_app(sample_repo))
    for params in ({"iri": D28, "depth": 8}, {"iri": SO_YTE_GL, "direction": "up", "depth": 8}):
        whole = client.get("/api/lineage", params=params)
        compact = client.get("/api/lineage", params={**params, "compact": "true"})
        full, table = whole.json(), compact.json()
        assert len(compact.content) < len(whole.content) / 2
        assert table["root"] == full["root"] and "cut_at" not in table
        rows = [dict(zip(table["columns"], row, strict=True)) for row in table["nodes"]]
        ids = [row["id"] for row in rows]
        assert ids == [node["id"] for node in full["nodes"]]
        for row, node in zip(rows, full["nodes"], strict=True):
            document = row["document"]  # the index of its node, or an IRI the answer lacks
            row["document"] = ids[document] if isinstance(document, int) else document
            assert row == {k: v for k, v in node.items() if k not in ("title", "page")}
            assert node["page"] == "/id/" + node["id"].removeprefix(table["id_base"])
            assert node["title"].startswith(
                (node["doctype"] if node["kind"] == "document" else table["heads"][node["kind"]])
                + ": ")
        assert [(ids[s], ids[t], rel, table["relations"][rel]) for s, t, rel in table["edges"]
                ] == [(e["source"], e["target"], e["rel"], e["label"]) for e in full["edges"]]
    assert any(row["flags"] for row in rows)  # 28-CT/TW's conflicting issuer, in its row
    # a cut lineage says so in either form
    monkeypatch.setattr(explore, "LINEAGE_NODES", 1)
    explore._LINEAGE_ANSWERS.clear()
    cut = TestClient(create_app(sample_repo)).get(
        "/api/lineage", params={"iri": D28, "depth": 8, "compact": "true"}).json()
    assert cut["cut_at"] == 1
    explore._LINEAGE_ANSWERS.clear()


def test_a_lineage_is_sent_gzipped_to_a_client_that_accepts_it(client: TestClient) -> None:
    import gzip

    for compact in ("false", "true"):
        params = {"iri": D28, "depth": 8, "compact": compact}
        plain = client.get("/api/lineage", params=params,
                           headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.headers["vary"] == "Accept-Encoding"
        for accepted in ("gzip, deflate, br", "br;q=1.0, gzip;q=0.8"):
            with client.stream("GET", "/api/lineage", params=params,
                               headers={"Accept-Encoding": accepted}) as zipped:
                assert zipped.headers["content-encoding"] == "gzip"
                body = b"".join(zipped.iter_raw())  # as sent
            assert len(body) < len(plain.content) / 5
            assert gzip.decompress(body) == plain.content
        refused = client.get("/api/lineage", params=params,
                             headers={"Accept-Encoding": "gzip;q=0, deflate"})
        assert "content-encoding" not in refused.headers
        assert refused.content == plain.content


def pages_of(client: TestClient, params: dict) -> list[dict]:
    """Every page of a lineage in its full form: the first, then each ``next`` in turn (the
    body's address, also in the ``Link`` header), each page read as the schema's model."""
    from kgraph.web.explore import LineagePage

    answers = [client.get("/api/lineage", params=params)]
    while (following := answers[-1].json()["next"]) is not None:
        assert answers[-1].links["next"]["url"] == following
        assert len(answers) < 100, "the pages do not end"
        answers.append(client.get(following))
    assert "next" not in answers[-1].links
    for answer in answers:
        assert answer.status_code == 200, answer.text
        LineagePage.model_validate_json(answer.content)
    pages = [answer.json() for answer in answers]
    for before, page, answer in zip([None, *pages], pages, answers, strict=False):
        previous = before and client.get(page["previous"]).json()
        assert previous == before and answer.links.get("prev", {}).get("url") == page["previous"]
    return pages


def test_a_lineage_read_page_by_page_is_the_whole_lineage(client: TestClient) -> None:
    from kgraph.web.explore import LINEAGE_NODES

    for params in ({"iri": D28, "depth": 8}, {"iri": SO_YTE_GL, "direction": "up", "depth": 8}):
        [whole] = pages_of(client, {**params, "limit": LINEAGE_NODES})
        total = len(whole["nodes"])
        assert (whole["total_nodes"], whole["total_edges"]) == (total, len(whole["edges"]))
        assert total > 3 and whole["nodes"][0]["id"] == params["iri"]
        for limit in sorted({1, 3, 7, total - 1, total}):
            pages = pages_of(client, {**params, "limit": limit})
            assert len(pages) == -(-total // limit)
            assert [n for page in pages for n in page["nodes"]] == whole["nodes"]
            assert [e for page in pages for e in page["edges"]] == whole["edges"]
            seen: set[str] = set()
            for page in pages:
                assert (page["offset"], page["limit"]) == (len(seen), limit)
                assert (page["total_nodes"], page["total_edges"]) == (
                    whole["total_nodes"], whole["total_edges"])
                assert page["root"] == params["iri"] and 1 <= len(page["nodes"]) <= limit
                shown = {n["id"] for n in page["nodes"]}
                seen |= shown
                for edge in page["edges"]:  # with the page that completes it
                    ends = {edge["source"], edge["target"]}
                    assert ends <= seen and ends & shown, (limit, edge)
        # walk order: the nearest steps first, so a first page is the lineage's top
        for depth in (1, 2):
            near = client.get("/api/lineage", params={**params, "depth": depth}).json()
            assert near["next"] is None
            assert [n["id"] for n in near["nodes"]] == [
                n["id"] for n in whole["nodes"][:len(near["nodes"])]]


def test_the_default_lineage_answer_is_a_bounded_page(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``limit``: LINEAGE_PAGE nodes and a ``next``, however large the lineage; the pages
    after the first cost their bytes (the lineage is walked once); the compact form, which
    the explorer asks, stays whole."""
    from factories import recorded_calls
    from kgraph.analysis.lineage import StoreWalk
    from kgraph.web import explore

    whole = client.get("/api/lineage", params={"iri": D28, "depth": 8, "limit": 6000}).json()
    monkeypatch.setattr(explore, "LINEAGE_PAGE", 5)
    explore._LINEAGE_WALKS.clear()
    walks = recorded_calls(monkeypatch, StoreWalk, "walk_within", lambda found: len(found[0]))
    pages = pages_of(client, {"iri": D28, "depth": 8})
    assert [len(page["nodes"]) for page in pages[:-1]] == [5] * (len(pages) - 1)
    assert [n for page in pages for n in page["nodes"]] == whole["nodes"]
    assert walks == [len(whole["nodes"])]  # one walk for every page
    table = client.get("/api/lineage", params={"iri": D28, "depth": 8, "compact": "true"}).json()
    assert [row[0] for row in table["nodes"]] == [n["id"] for n in whole["nodes"]]
    assert "next" not in table and "total_nodes" not in table
    assert len(walks) == 1  # the compact form is cut from the same walk


def test_a_page_of_another_store_version_is_refused(sample_repo) -> None:
    """A ``next`` address names the store version of its first page: once the store changed
    it is refused (409), never joined to pages of the new data."""
    from factories import provincial_plan

    client = TestClient(create_app(sample_repo))
    first = client.get("/api/lineage", params={"iri": D28, "depth": 8, "limit": 4}).json()
    assert client.get(first["next"]).status_code == 200
    plan = provincial_plan("99/KH-UBND", "Gia Lai", "273-KH/TU", date(2024, 9, 20),
                           date(2024, 12, 1))
    graph = document_graph(plan)
    sample_repo.replace_graphs({str(graph.name): graph.to_ntriples()})
    refused = client.get(first["next"])
    assert refused.status_code == 409 and "first page" in refused.json()["detail"]
    again = pages_of(client, {"iri": D28, "depth": 8, "limit": 4})
    assert again[0]["total_nodes"] > first["total_nodes"]  # the new plan, from page one


@pytest.mark.parametrize(("params", "status", "named"), [
    ({"limit": 0}, 422, "limit"), ({"limit": -3}, 422, "limit"), ({"limit": "ten"}, 422, "limit"),
    ({"limit": "1e3"}, 422, "limit"), ({"limit": "５"}, 422, "limit"),
    ({"limit": 10**9}, 422, "limit"), ({"limit": 6001}, 422, "limit"),
    ({"offset": -1}, 422, "offset"), ({"offset": "first"}, 422, "offset"),
    ({"offset": "9" * 5000}, 422, "offset"), ({"offset": 10**30}, 400, "offset"),
    ({"offset": 1000}, 400, "offset"), ({"version": "x" * 65}, 422, "version"),
    ({"version": "0123456789abcdef"}, 409, "version"),
    ({"compact": "true", "limit": 5}, 400, "limit"),
    ({"compact": "true", "offset": 0}, 400, "offset"),
])
def test_bad_pages_are_refused_clearly(client: TestClient, params: dict, status: int,
                                       named: str) -> None:
    answer = client.get("/api/lineage", params={"iri": D28, "depth": 8, **params})
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    said = str(detail) if isinstance(detail, str) else str([e["loc"] for e in detail])
    assert named in said or (status == 409 and "store has changed" in said)


def test_lineage_rejects_unknown_nodes_and_bad_parameters(client: TestClient) -> None:
    assert client.get("/api/lineage", params={"iri": "urn:x"}).status_code == 404
    assert client.get("/api/lineage", params={"iri": D28, "direction": "sideways"}
                      ).status_code == 422
    assert client.get("/api/lineage", params={"iri": D28, "depth": 99}).status_code == 422


def test_node_detail_of_an_agency(client: TestClient) -> None:
    detail = client.get("/api/node", params={"iri": SO_YTE_GL}).json()
    assert detail["node"]["kind"] == "agency" and detail["node"]["label"] == "Sở Y tế"
    roles = {(r["relation"], r["role"]) for r in detail["roles"]}
    assert roles == {("addressee", "được giao"), ("coordinate", "phối hợp")}
    assert {"predicate": "skos:prefLabel", "value": "Sở Y tế", "iri": None, "page": ""} in \
        detail["properties"]
    neighbours = {n["id"] for n in detail["neighbours"]["nodes"]}
    assert GL2509 + "/assignment/2" in neighbours


def test_node_detail_quotes_the_source(client: TestClient) -> None:
    detail = client.get("/api/node", params={"iri": GL2509 + "/assignment/1/duty/1"}).json()
    assert detail["source_text"] == "- Chủ trì, phối hợp với Sở Y tế"
    assert detail["node"]["document"] == GL2509


def test_path_from_agency_to_directive(client: TestClient) -> None:
    path = client.get("/api/path", params={"from": SO_YTE_GL, "to": D28}).json()
    ids = [n["id"] for n in path["nodes"]]
    assert ids[0] == SO_YTE_GL and ids[-1] == D28 and GL2509 in ids
    assert len(path["edges"]) == len(ids) - 1
    isolated = str(ID["province/gia-lai"])  # provinces are not on the lineage's edges
    assert client.get("/api/path", params={"from": isolated, "to": D28}).status_code == 404


def test_facets_and_audit_overlay(client: TestClient) -> None:
    facets = client.get("/api/facets").json()
    assert facets["provinces"] == ["Gia Lai", "Kiên Giang", "Lào Cai"]
    assert facets["doctypes"] == ["Chỉ thị", "Kế hoạch"]
    assert facets["roles"]["lead"] == "chủ trì"
    audit = client.get("/api/audit").json()  # the audit index's findings by focus
    assert audit["source"] == "audit" and D28 in audit["flags"]
    mention = GL2509 + "/mention/so-hang-khong"  # an unresolved mention: the node's own flag
    shown = client.get("/api/audit", params={"iri": [D28, mention]}).json()["flags"]
    assert set(shown) == {D28, mention}


def test_api_is_in_the_openapi_schema_with_models(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/api/search", "/api/node", "/api/lineage", "/api/path", "/api/facets"):
        ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"], path
    assert {"Subgraph", "GraphNode", "GraphEdge", "NodeDetail", "SearchHit",
            "LineageTable", "LineagePage"} <= set(
        schema["components"]["schemas"])
    page = schema["components"]["schemas"]["LineagePage"]
    assert {"next", "total_nodes", "total_edges", "offset", "limit"} <= set(page["required"])
    asked = {p["name"]: p for p in schema["paths"]["/api/lineage"]["get"]["parameters"]}
    assert asked["limit"]["schema"]["anyOf"][0] == {"type": "integer", "minimum": 1,
                                                    "maximum": 6000}
    assert {"offset", "version", "compact"} <= set(asked)


def test_explore_page_is_served_with_local_assets(client: TestClient) -> None:
    page = client.get("/explore")
    assert page.status_code == 200
    assert "/static/vendor/vis-network/vis-network.min.js" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert client.get("/static/explore.js").status_code == 200
    assert client.get("/static/vendor/vis-network/vis-network.min.js").status_code == 200


def test_markup_in_documents_comes_back_as_data(sample_repo) -> None:
    from factories import provincial_plan

    plan = provincial_plan("77/KH-UBND", "Gia Lai", "273-KH/TU", date(2024, 9, 20),
                           date(2024, 11, 2), text=PAYLOAD)
    graph = document_graph(plan)
    sample_repo.replace_graphs({str(graph.name): graph.to_ntriples()})
    client = TestClient(create_app(sample_repo))
    hit = client.get("/api/search", params={"q": "77/KH-UBND"}).json()[0]
    node = client.get("/api/node", params={"iri": hit["iri"]}).json()["node"]
    assert node["text"] == PAYLOAD and PAYLOAD in node["title"]  # stored as text, unaltered


def test_graph_is_rebuilt_when_the_store_changes(sample_repo) -> None:
    client = TestClient(create_app(sample_repo))
    assert client.get("/api/search", params={"q": "88/KH-UBND"}).json() == []
    from factories import provincial_plan

    graph = document_graph(provincial_plan("88/KH-UBND", "Gia Lai", "273-KH/TU",
                                           date(2024, 9, 20), date(2024, 12, 1)))
    sample_repo.replace_graphs({str(graph.name): graph.to_ntriples()})
    assert client.get("/api/search", params={"q": "88/KH-UBND"}).json()[0]["label"] == \
        "88/KH-UBND"


def test_node_and_path_answers_are_kept_per_store_version(tmp_path, monkeypatch) -> None:
    """A node's detail and a path are walked once per store version: asked again they come
    from what was kept, the same JSON; a changed plan (a new version) shows at once."""
    from factories import provincial_plan, recorded_calls, sample_documents
    from kgraph.resources import resource_graphs
    from kgraph.store.embedded import OxigraphRepository
    from kgraph.web import explore

    repo = OxigraphRepository(tmp_path / "store")  # on disk: its versions are named
    payload = resource_graphs()
    payload.update({str(g.name): g.to_ntriples() for g in map(document_graph, sample_documents())})
    repo.replace_graphs(payload)
    client = TestClient(create_app(repo))
    details = recorded_calls(monkeypatch, explore, "node_detail", lambda d: d.node.id)
    paths = recorded_calls(monkeypatch, explore, "shortest_flow_path", len)
    node = [client.get("/api/node", params={"iri": GL2509}) for _ in range(2)]
    path = [client.get("/api/path", params={"from": SO_YTE_GL, "to": D28}) for _ in range(2)]
    assert node[0].status_code == path[0].status_code == 200
    assert node[0].text == node[1].text and path[0].text == path[1].text
    assert node[0].headers["content-type"] == "application/json"
    assert details == [GL2509] and len(paths) == 1
    assert client.get("/api/node", params={"iri": GL2509 + "/nothing"}).status_code == 404

    changed = provincial_plan("2509/KH-UBND", "Gia Lai", "273-KH/TU", date(2024, 9, 20),
                              date(2024, 10, 28), text="Kế hoạch chuyển đổi số")
    graph = document_graph(changed)
    repo.replace_graphs({str(graph.name): graph.to_ntriples()})
    detail = client.get("/api/node", params={"iri": GL2509}).json()
    assert "Kế hoạch chuyển đổi số" in {p["value"] for p in detail["properties"]}
    assert "Kế hoạch chuyển đổi số" not in node[0].text
    assert client.get("/api/path", params={"from": SO_YTE_GL, "to": D28}).status_code == 200
    assert details == [GL2509, GL2509] and len(paths) == 2


def island() -> dict[str, str]:
    """A graph of its own: a plan, its assignment and the agency it names, related to nothing
    else in the samples (another component of the flow relations)."""
    doc, kg = str(ID["doc/ca-mau/1-kh-ubnd/2024"]), "https://w3id.org/kgraph/def#"
    agency = str(ID["org/ca-mau/so-tai-chinh"])
    statements = [
        (doc, "http://data.europa.eu/eli/ontology#id_local", '"1/KH-UBND"'),
        (doc, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
         "<http://data.europa.eu/eli/ontology#LegalResource>"),
        (doc, kg + "hasAssignment", f"<{doc}/assignment/1>"),
        (f"{doc}/assignment/1", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
         f"<{kg}Assignment>"),
        (f"{doc}/assignment/1", kg + "partOf", f"<{doc}>"),
        (f"{doc}/assignment/1", kg + "addressee", f"<{agency}>"),
        (agency, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
         "<http://www.w3.org/ns/org#Organization>"),
    ]
    return {str(ID["graph/island"]): "".join(f"<{s}> <{p}> {o} .\n" for s, p, o in statements)}


def test_paths_from_the_flow_index_are_the_store_walk_s(sample_repo, monkeypatch) -> None:
    """Once the warm-up has made the version's flow index, /api/path answers from it: the same
    JSON as the walk in the store for every pair asked, a pair in two components refused at
    once (404, nothing walked)."""
    from factories import recorded_calls
    from kgraph.analysis.lineage import LineageGraph, StoreWalk
    from kgraph.web import explore
    from kgraph.web.settings import Settings
    from test_warm import wait_for

    sample_repo.replace_graphs(island())
    whole = LineageGraph.from_repository(sample_repo)
    chosen = sorted(n.iri for n in whole.nodes.values() if n.kind in ("document", "agency"))
    chosen += sorted(n.iri for n in whole.nodes.values() if n.kind == "duty")[:3]
    pairs = [(a, b) for a in chosen for b in chosen]
    walked = {}
    with TestClient(create_app(sample_repo)) as client:  # no warm-up: the walk answers
        for a, b in pairs:
            answer = client.get("/api/path", params={"from": a, "to": b})
            walked[a, b] = (answer.status_code, answer.text)
    explore.KEPT_ANSWERS.kept.clear()
    steps = recorded_calls(monkeypatch, StoreWalk, "neighbours", len)
    with TestClient(create_app(sample_repo, Settings(warm=True))) as client:
        assert wait_for(lambda: client.app.state.warmer.warmed is not None)
        for a, b in pairs:
            answer = client.get("/api/path", params={"from": a, "to": b})
            assert (answer.status_code, answer.text) == walked[a, b], (a, b)
        refused = client.get("/api/path", params={"from": str(ID["org/ca-mau/so-tai-chinh"]),
                                                  "to": D28})
        joined = client.get("/api/path", params={"from": str(ID["org/ca-mau/so-tai-chinh"]),
                                                 "to": str(ID["doc/ca-mau/1-kh-ubnd/2024"])})
    assert steps == []  # the index answered every pair
    assert refused.status_code == 404
    assert [n["id"] for n in joined.json()["nodes"]] == [
        str(ID["org/ca-mau/so-tai-chinh"]), str(ID["doc/ca-mau/1-kh-ubnd/2024"]) + "/assignment/1",
        str(ID["doc/ca-mau/1-kh-ubnd/2024"])]
    statuses = {status for status, _ in walked.values()}
    assert statuses == {200, 404}
