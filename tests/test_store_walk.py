"""The lineage walked in the store from the asked node gives what the whole-store graph gives.

The explorer and ``kgraph viz`` no longer load the whole lineage graph per store version; they
walk the store from the asked node (:class:`StoreWalk`). Each answer is checked here against
:meth:`LineageGraph.from_repository` on the hand-made samples and on the seeds built as
``kgraph build`` builds them.
"""

from __future__ import annotations

import pytest

from kgraph.analysis.lineage import OBJECT_OF, SUBJECT_OF, LineageGraph, StoreWalk, find_document
from kgraph.analysis.search import LabelIndex
from kgraph.store.embedded import OxigraphRepository, QueryResult
from kgraph.web.explore import facets_of, graph_neighbours, shortest_flow_path


class QueriedOnly:
    """A repository answering SPARQL only, as a remote store (no fast `records`)."""

    def __init__(self, repo: OxigraphRepository) -> None:
        self.repo = repo

    def query(self, sparql: str) -> QueryResult:
        return self.repo.query(sparql)


@pytest.fixture(params=["sample_repo", "seed_repo", "sample_repo by query"])
def repo(request):
    """Embedded stores and one answering queries only."""
    found = request.getfixturevalue(request.param.split()[0])
    return QueriedOnly(found) if request.param.endswith("by query") else found


def starts(whole: LineageGraph) -> list[str]:
    """Every document, agent and province, and every fifth plan part."""
    chosen = [n.iri for n in whole.nodes.values()
              if n.kind in {"document", "agency", "collective", "mention", "province"}]
    parts = sorted(n.iri for n in whole.nodes.values()
                   if n.kind in {"task", "assignment", "duty"})
    return sorted(chosen) + parts[::5]


@pytest.mark.parametrize("known", [False, True], ids=["read", "known nodes"])
def test_walks_subgraphs_and_levels_are_the_whole_graphs(repo, known: bool) -> None:
    """Also with the version's documents, agents and provinces known (the explorer's kept
    data): only plan parts are read then, and the answers are the same."""
    whole = LineageGraph.from_repository(repo)
    kept = LineageGraph.searchable(repo).nodes if known else None
    for start in starts(whole):
        for direction in ("down", "up"):
            for depth in (1, 8):
                walk = StoreWalk(repo, kept)  # a request's own walk
                reached = walk.walk(start, direction, depth)
                assert reached == whole.walk(start, direction, depth), (start, direction)
                nodes, edges = walk.subgraph(reached)
                assert (nodes, edges) == whole.subgraph(reached), (start, direction, depth)
                assert walk.levels(reached, edges) == whole.levels(reached, edges)


@pytest.mark.parametrize("known", [False, True], ids=["read", "known nodes"])
def test_every_node_is_read_as_the_whole_graph_reads_it(repo, known: bool) -> None:
    whole = LineageGraph.from_repository(repo)
    nodes = LineageGraph.searchable(repo).nodes if known else None
    walk = StoreWalk(repo, nodes)
    walk.load(whole.nodes)
    assert {i: walk.nodes[i] for i in whole.nodes} == whole.nodes
    for iri, node in whole.nodes.items():
        if node.kind in {"agency", "collective", "mention"}:
            assert StoreWalk(repo, nodes).roles(iri) == whole.roles(iri), iri
    assert StoreWalk(repo).node("urn:kgraph:no-such-node") is None
    assert StoreWalk(repo).node("not an iri> }") is None  # never written into a query
    with pytest.raises(KeyError):
        StoreWalk(repo).walk("28-CT/TW", "down", 1)


def test_paths_search_facets_and_numbers_are_the_whole_graphs(repo) -> None:
    whole = LineageGraph.from_repository(repo)
    documents = sorted(n.iri for n in whole.nodes.values() if n.kind == "document")
    agents = sorted(n.iri for n in whole.nodes.values() if n.kind == "agency")
    for source in agents[::3]:
        for target in documents[::3]:
            walked = shortest_flow_path(StoreWalk(repo).neighbours, source, target)
            assert walked == shortest_flow_path(graph_neighbours(whole), source, target)
    searchable = LineageGraph.searchable(repo)
    assert facets_of(searchable) == facets_of(whole)
    new, old = LabelIndex.from_lineage(searchable), LabelIndex.from_lineage(whole)
    assert len(new) == len(old)
    for query in ("so y te", "28 ct tw", "Gia Lai", "ke hoach", "ubnd", "x"):
        assert new.search(query, 50) == old.search(query, 50), query
    for node in (whole.nodes[d] for d in documents):
        assert find_document(repo, node.number) == whole.find_document(node.number)
    assert find_document(repo, "no such number") is None


@pytest.mark.parametrize("fixture", ["sample_repo", "seed_repo"])
def test_every_relation_is_one_its_nodes_kinds_are_looked_up_for(request, fixture) -> None:
    """The walk looks a node's relations up only by the predicates its kind can be the subject
    or the object of (``SUBJECT_OF``, ``OBJECT_OF``): every relation the mapping wrote between
    two nodes of the samples and the seeds must be one of them, or a walk would miss it."""
    repo = request.getfixturevalue(fixture)
    whole = LineageGraph.from_repository(repo)
    predicates = " ".join(f"<{p}>" for p in sorted(SUBJECT_OF["document"] | OBJECT_OF["agency"]
                                                     | SUBJECT_OF["task"] | OBJECT_OF["task"]
                                                     | SUBJECT_OF["assignment"]))
    rows = repo.query(f"SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?p {{ {predicates} }} "
                      "?s ?p ?o }").rows
    checked = 0
    for s, p, o in rows:
        subject, target = whole.nodes.get(str(s)), whole.nodes.get(str(o))
        if subject is None or target is None:
            continue  # not an edge of the lineage graph either
        assert str(p) in SUBJECT_OF[subject.kind], (s, p, subject.kind)
        assert str(p) in OBJECT_OF[target.kind], (o, p, target.kind)
        checked += 1
    assert checked > 50
    walk = StoreWalk(repo)  # and a walk with the tables reads every edge of the whole graph
    walk.load(whole.nodes)
    assert walk.subgraph(set(whole.nodes)) == whole.subgraph(set(whole.nodes))


@pytest.mark.parametrize("fixture", ["sample_repo", "seed_repo"])
def test_the_flow_index_gives_the_walk_s_neighbours_and_paths(request, fixture) -> None:
    """The explorer's flow index (one per store version) holds the nodes a walk reads, each
    with the neighbours a step of the walk finds, in the same order; its search gives the
    walk's path for every pair, and no path where the walk finds none."""
    from kgraph.analysis.flow_index import whole_index

    repo = request.getfixturevalue(fixture)
    whole = LineageGraph.from_repository(repo)
    index = whole_index(repo)
    walk = StoreWalk(repo)
    nodes = sorted(whole.nodes)
    assert [iri for iri in index.terms() if index.number(iri) is not None] == nodes
    assert walk.neighbours(nodes) == {iri: index.neighbours(iri) for iri in nodes}
    chosen = starts(whole)[::3]
    missing = 0
    for source in chosen:
        for target in chosen:
            walked = shortest_flow_path(walk.neighbours, source, target)
            assert index.path(source, target) == walked, (source, target)
            missing += walked is None
    assert 0 < missing < len(chosen) ** 2  # pairs joined and pairs in two components
    with pytest.raises(KeyError):
        index.path(nodes[0], "https://w3id.org/kgraph/id/nothing")


def test_a_remote_store_s_whole_store_reads_are_asked_at_once(seed_repo) -> None:
    """Over a remote store the searchable nodes' whole-store queries are in flight together
    (the server evaluates the next while kgraph reads the last), each text asked once, and give
    the embedded store's nodes."""
    import threading
    import time

    from kgraph.analysis import lineage
    from kgraph.store.remote import RemoteRepository

    lock = threading.Lock()
    asked: list[str] = []
    running = [0, 0]  # now, most at once

    class Remote(RemoteRepository):
        """A remote store answering from the seeds, each answer taking a while."""

        def __init__(self) -> None:  # (no server)
            pass

        def records(self, sparql: str) -> list[dict[str, str | None]]:
            with lock:
                asked.append(sparql)
                running[0] += 1
                running[1] = max(running)
            time.sleep(0.05)
            with lock:
                running[0] -= 1
            return seed_repo.records(sparql)

    remote = Remote()
    nodes = LineageGraph.searchable(remote).nodes
    assert nodes == LineageGraph.searchable(seed_repo).nodes
    assert running[1] == lineage.READ_AHEAD_REQUESTS > 1
    assert len(asked) == len(set(asked))
    assert LineageGraph.from_repository(remote).nodes == \
        LineageGraph.from_repository(seed_repo).nodes


# A property path of unbounded length, as tests/test_external_stores.py's stub refuses it.
UNBOUNDED = r"(?:\b[a-z][\w-]*:[\w-]+|<[^<>\s\"]+>|\))[*+](?=\s*[?<$(])"


@pytest.mark.parametrize("first,chunk", [(10, 500), (2, 500), (2, 1), (2, 2), (1, 1)])
def test_a_document_s_downstream_plans_are_walked_a_step_a_request(
        seed_repo, monkeypatch: pytest.MonkeyPatch, first: int, chunk: int) -> None:
    """A document page's first documents carrying it out that give assignments: when those
    carrying it out directly are too few, the further ones are walked a step a request (never
    ``kg:implements+``, which a remote store is refused here as Virtuoso refuses it at national
    scale) and asked in IRI order a chunk at a time: the documents the path gives, and whether
    there are more, however few are listed and however small the chunks (enough direct ones:
    those, nothing walked)."""
    import re

    from kgraph.analysis import plan_parts
    from kgraph.graph.vocab import sparql_prefixes
    from kgraph.web import describe

    sent: list[str] = []

    class Remote(QueriedOnly):
        def query(self, sparql: str) -> QueryResult:
            sent.append(sparql)
            assert not re.search(UNBOUNDED, sparql), sparql
            return self.repo.query(sparql)

    monkeypatch.setattr(describe, "DOWNSTREAM_DOCUMENTS", first)
    monkeypatch.setattr(plan_parts, "CHUNK", chunk)
    checked = 0
    for number in ("28-CT/TW", "121/2020/QH14", "273-KH/TU", "234/KH-UBND"):
        iri = str(find_document(seed_repo, number))
        reach = sorted(str(r[0]) for r in seed_repo.query(sparql_prefixes() + f"""
            SELECT DISTINCT ?plan WHERE {{ ?plan kg:implements+ <{iri}> ;
            kg:hasAssignment ?a }}""").rows)
        direct = {str(r[0]) for r in seed_repo.query(sparql_prefixes() + f"""
            SELECT DISTINCT ?plan WHERE {{ ?plan kg:implements <{iri}> ;
            kg:hasAssignment ?a }}""").rows}
        checked += len(direct) <= first < len(reach)  # the walk's case, with more than shown
        listed = sorted(direct) if len(direct) > first else reach  # the direct ones first
        sent.clear()
        plans = describe._downstream_plans(Remote(seed_repo), iri)
        assert plans == (listed[:first], len(listed) > first), number
        if len(direct) > first:
            assert not any("VALUES ?root" in text for text in sent), "walked for nothing"
    assert checked or first != 2  # (the seeds: 28-CT/TW, two direct, three in all)


def test_a_remote_store_s_chunks_are_asked_a_few_at_once_in_order(seed_repo) -> None:
    """``plan_parts.rows_of`` over a remote store: several requests in flight (the server
    evaluates the next chunk's while kgraph reads the last), the answers in the texts' order,
    the embedded store's rows; over the embedded store, one after the other."""
    import threading
    import time

    from kgraph.analysis import plan_parts
    from kgraph.store.embedded import plain_rows
    from kgraph.store.remote import RemoteRepository

    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    class Remote(RemoteRepository):
        def __init__(self) -> None:  # (no server)
            pass

        def plain_rows(self, sparql: str) -> tuple[list[str], list[tuple[str | None, ...]]]:
            with lock:
                running[0] += 1
                running[1] = max(running)
            time.sleep(0.05)
            with lock:
                running[0] -= 1
            found = seed_repo.query(sparql)
            return list(found.variables), plain_rows(seed_repo, sparql)

    texts = [f"SELECT ?n WHERE {{ BIND({n} AS ?n) }}" for n in range(7)]
    texts.append("PREFIX kg: <https://w3id.org/kgraph/def#> "
                 "SELECT DISTINCT ?p ?d WHERE { ?p kg:implements ?d } ORDER BY ?p ?d")
    expected = [plain_rows(seed_repo, text) for text in texts]
    assert expected[-1]
    assert plan_parts.rows_of(Remote(), texts) == expected
    assert running[1] == plan_parts.IN_FLIGHT > 1
    assert plan_parts.rows_of(seed_repo, texts) == expected
