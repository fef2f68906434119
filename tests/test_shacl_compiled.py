"""The compiled shapes give pySHACL's results, rule for rule, on every kind of document.

The build validates each document with :mod:`kgraph.analysis.shacl_compiled` (pySHACL costs
most of a plan's build time); pySHACL stays the reference engine. Each case below is a seed
graph changed so that one rule fires (or stops firing); both engines must return the same
:class:`ShaclResult` values, messages included.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from kgraph.analysis.shacl_compiled import CompiledShapes, Unsupported
from kgraph.analysis.validation import shapes_graph, validate_document, validate_graph
from kgraph.graph.mapping import DocumentGraph, TripleIndex, document_graph, ntriples_line
from kgraph.graph.vocab import ELI, KG
from kgraph.ingest.extract import extract_file

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "data" / "sources").glob("*.txt"))

Triples = list[tuple]
DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")


@pytest.fixture(scope="module")
def seeds() -> list[DocumentGraph]:
    return [document_graph(extract_file(p)) for p in SEEDS]


def _plan(triples: Triples) -> URIRef:
    return next(s for s, p, _ in triples if p == KG.sourceFile)


def _without(predicate: URIRef) -> Callable[[Triples], Triples]:
    def change(triples: Triples) -> Triples:
        plan = _plan(triples)
        return [t for t in triples if not (t[0] == plan and t[1] == predicate)]
    return change


def _adding(make: Callable[[URIRef], list[tuple]]) -> Callable[[Triples], Triples]:
    def change(triples: Triples) -> Triples:
        return [*triples, *make(_plan(triples))]
    return change


def _replacing(predicate: URIRef, value: Literal) -> Callable[[Triples], Triples]:
    def change(triples: Triples) -> Triples:
        plan = _plan(triples)
        kept = [t for t in triples if not (t[0] == plan and t[1] == predicate)]
        return [*kept, (plan, predicate, value)]
    return change


def _retyping(source: URIRef, target: URIRef) -> Callable[[Triples], Triples]:
    def change(triples: Triples) -> Triples:
        return [(s, p, target if p == RDF.type and o == source else o) for s, p, o in triples]
    return change


def _page(plan: URIRef) -> list[tuple]:
    page = URIRef(str(plan) + "/page/1")
    return [(page, RDF.type, KG.SourcePage), (page, KG.needsReview, Literal(True))]


CHANGES: dict[str, Callable[[Triples], Triples]] = {
    "as extracted": lambda triples: triples,
    "no number": _without(ELI.id_local),
    "two dates": _adding(lambda plan: [(plan, ELI.date_document,
                                        Literal("2001-01-01", datatype=DATE))]),
    "date as text": _replacing(ELI.date_document, Literal("ngày 5 tháng 3")),
    "ill-typed date": _replacing(ELI.date_document, Literal("2024-13-45", datatype=DATE)),
    "no type": _without(ELI.type_document),
    "no issuer": _without(ELI.passed_by),
    "no province": _without(KG.province),
    "nothing carried out": lambda t: _without(ELI.based_on)(_without(KG.implements)(t)),
    "malformed own number": _replacing(ELI.id_local, Literal("KH 12 UBND")),
    "partial text": _replacing(KG.isPartial, Literal(True)),
    "page to review": _adding(_page),
    "duties become tasks": _retyping(KG.Duty, KG.Task),
    "every mention unresolved": _retyping(KG.CollectiveAddressee, KG.UnresolvedMention),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_compiled_shapes_give_pyshacl_results(seeds: list[DocumentGraph], change: str) -> None:
    fired = 0
    for mapped in seeds:
        triples = list(dict.fromkeys(CHANGES[change](list(mapped.triples))))
        graph = Graph()
        for triple in triples:
            graph.add(triple)
        reference = validate_graph(graph)
        compiled = validate_document(triples, TripleIndex(triples))
        assert compiled.results == reference.results, (change, mapped.name)
        assert compiled.conforms == reference.conforms
        fired += len(reference.results)
    assert fired  # every case produces findings somewhere: the comparison is not vacuous


def test_compiled_report_states_the_results(seeds: list[DocumentGraph]) -> None:
    """The report written from compiled results parses back to the same results."""
    from kgraph.analysis.validation import parse_report

    mapped = seeds[0]
    compiled = validate_document(mapped.triples)
    assert compiled.results
    assert parse_report(compiled.report) == compiled.results


def test_shapes_beyond_the_compiled_subset_fall_back_to_pyshacl() -> None:
    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <http://example.org/> .
        ex:Name a sh:PropertyShape ; sh:targetClass ex:Person ; sh:path ex:name ;
            sh:pattern "^[A-Z]" ; sh:message "Names start with a capital."@en .
    """, format="turtle")
    with pytest.raises(Unsupported):
        CompiledShapes(shapes)
    assert CompiledShapes(shapes_graph()).shapes  # kgraph's own shapes compile


def test_sparql_constraints_on_their_predicates_give_the_whole_documents_results(
        seeds: list[DocumentGraph]) -> None:
    """The build runs each SHACL-SPARQL constraint on the triples of the predicates it can
    match; over the whole document (a workspace holding it, no predicate known) the results
    are the same."""
    from kgraph.analysis import shacl_compiled as sc

    engine = CompiledShapes(shapes_graph())
    assert engine.sparql_predicates  # kgraph's constraints name every predicate they match
    whole = CompiledShapes(shapes_graph())
    whole.sparql_predicates = None
    found = 0
    for mapped, change in itertools.product(seeds, CHANGES.values()):
        triples = list(dict.fromkeys(change(list(mapped.triples))))
        index = TripleIndex(triples)
        workspace = sc.Workspace()
        workspace.load("".join(map(ntriples_line, triples)))
        results = engine.validate(triples, index)
        assert results == whole.validate(triples, index, workspace)
        found += sum(1 for r in results if r.rule.endswith("NumberFormat"))
    assert found  # a SPARQL constraint fired: the comparison is not vacuous


def test_query_predicates_name_what_a_query_can_match() -> None:
    from kgraph.analysis.shacl_compiled import query_predicates

    ex = "PREFIX ex: <http://example.org/> "
    assert query_predicates(ex + "SELECT ?a WHERE { ?a a ex:T ; ex:p/^ex:q+ ?b "
                                 "FILTER NOT EXISTS { ?a ex:r ?c } }") == {
        str(RDF.type), "http://example.org/p", "http://example.org/q", "http://example.org/r"}
    for query in ("SELECT * WHERE { ?a ?p ?b }",  # any predicate
                  ex + "SELECT * WHERE { ?a ex:p* ?b }",  # every node reaches itself
                  ex + "SELECT * WHERE { ?a !ex:p ?b }",
                  ex + "SELECT * WHERE { GRAPH ?g { ?a ex:p ?b } }",
                  ex + "DESCRIBE ?a WHERE { ?a ex:p ?b }",
                  "SELECT * WHERE { this is not SPARQL"):
        assert query_predicates(query) is None, query
