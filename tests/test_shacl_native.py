"""The build's SHACL-SPARQL constraints evaluated in Python give their SPARQL's rows.

:data:`kgraph.analysis.shacl_compiled.NATIVE` evaluates each shipped constraint text in Python
(Oxigraph parsed each text again for every document); the SPARQL text stays the reference:
on every seed, changed so that each constraint fires or stops firing, both give the same rows
(multiplicity included), and a document the Python would not read as the SPARQL does is left
to the SPARQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef

from kgraph.analysis.shacl_compiled import (
    CompiledShapes,
    Data,
    NotNative,
    _ontology_index,
    _type_patterns,
)
from kgraph.analysis.validation import shapes_graph, validate_document
from kgraph.graph.mapping import DocumentGraph, TripleIndex, document_graph
from kgraph.graph.vocab import ELI, KG, SKOS
from kgraph.ingest.extract import extract_file
from test_shacl_compiled import CHANGES, Triples, _plan

ROOT = Path(__file__).resolve().parents[1]
ENGINE = CompiledShapes(shapes_graph())
CONSTRAINTS = [(shape, c) for shape in ENGINE.shapes for c in shape.sparql]
PROVINCE_PEOPLES_COMMITTEE = URIRef("https://w3id.org/kgraph/id/ref/uy-ban-nhan-dan-tinh")
DIRECTIVE = URIRef("https://example.org/directive/99-ct-tw")
PARTY = URIRef("https://example.org/party-plan/5-kh-tu")


@pytest.fixture(scope="module")
def seeds() -> list[DocumentGraph]:
    return [document_graph(extract_file(p))
            for p in sorted((ROOT / "data" / "sources").glob("*.txt"))]


def _directly(*, issuers: int = 1, party: str | None = None, note: bool = False,
              number: str = "99-CT/TW") -> Callable[[Triples], Triples]:
    """A provincial People's Committee plan carrying out a central directive, through a party
    plan numbered ``party`` (None: none), with a reason given (``note``) or not."""
    def change(triples: Triples) -> Triples:
        plan = _plan(triples)
        added: Triples = [(plan, KG.implements, DIRECTIVE),
                          (DIRECTIVE, ELI.id_local, Literal(number))]
        for n in range(issuers):
            issuer = URIRef(f"https://example.org/issuer/{n}")
            added += [(plan, ELI.passed_by, issuer),
                      (issuer, KG.referenceEntry, PROVINCE_PEOPLES_COMMITTEE)]
        if party is not None:
            added += [(plan, KG.implements, PARTY), (PARTY, KG.implements, DIRECTIVE),
                      (PARTY, ELI.id_local, Literal(party))]
        if note:
            added.append((plan, SKOS.editorialNote, Literal("lý do")))
        return [*triples, *added]
    return change


def _typed(kind: str, number: str) -> Callable[[Triples], Triples]:
    """The plan retyped ``kind`` with the number ``number``, and a cited document (no source
    file) of that type and number."""
    def change(triples: Triples) -> Triples:
        plan = _plan(triples)
        cited = URIRef("https://example.org/cited/1")
        kept = [t for t in triples
                if not (t[0] == plan and t[1] in (ELI.type_document, ELI.id_local))]
        return [*kept, (plan, ELI.type_document, URIRef(kind)),
                (plan, ELI.id_local, Literal(number)),
                (cited, ELI.type_document, URIRef(kind)), (cited, ELI.id_local, Literal(number)),
                (cited, ELI.type_document, Literal("không phải IRI"))]
    return change


KINDS = sorted(_type_patterns(CONSTRAINTS[0][1].query))
EXTRA: dict[str, Callable[[Triples], Triples]] = {
    "directly": _directly(),
    "directly, two issuers": _directly(issuers=2),
    "through the party plan": _directly(party="5-KH/TU"),
    "through a district party plan": _directly(party="5-KH/HU"),
    "directly with a reason": _directly(note=True),
    "directly, a blank number": lambda t: [*_directly()(t), (DIRECTIVE, ELI.id_local, BNode())],
    **{f"{kind.rsplit('/', 1)[1]} {number}": _typed(kind, number)
       for kind in KINDS for number in ("12/KH-UBND", "28-CT/TW", "bad number")},
}


def _rows(shape: object, constraint: object, triples: Triples, native: bool
          ) -> list[list[tuple[str, str, str]]]:
    data = Data(TripleIndex(triples), _ontology_index(), triples, None)
    focus = ENGINE.focus_nodes(shape, data)  # type: ignore[arg-type]
    rows = (constraint.native(constraint.query, focus, data)  # type: ignore[attr-defined]
            if native else ENGINE._sparql_rows(constraint, focus, data))  # type: ignore[arg-type]
    return sorted(sorted((name, type(value).__name__, str(value)) for name, value in row.items())
                  for row in rows)


def test_every_shipped_constraint_is_evaluated_natively() -> None:
    assert CONSTRAINTS and all(c.native is not None for _, c in CONSTRAINTS)
    assert len(KINDS) >= 10  # the number patterns were read from the text


def test_native_constraints_give_the_sparql_rows(seeds: list[DocumentGraph]) -> None:
    fired = dict.fromkeys(range(len(CONSTRAINTS)), 0)
    for mapped, change in itertools.product(seeds, [*CHANGES.values(), *EXTRA.values()]):
        triples = list(dict.fromkeys(change(list(mapped.triples))))
        for n, (shape, constraint) in enumerate(CONSTRAINTS):
            native = _rows(shape, constraint, triples, True)
            assert native == _rows(shape, constraint, triples, False), (shape.node, mapped.name)
            fired[n] += len(native)
    assert all(fired.values()), fired  # each constraint fired somewhere: not vacuous


def test_a_number_with_a_line_break_is_left_to_the_sparql(seeds: list[DocumentGraph]) -> None:
    """Python's ``$`` also matches before a last line break, the SPARQL's does not."""
    triples = _directly(number="99-CT/TW\n")(list(seeds[0].triples))
    shape, constraint = next((s, c) for s, c in CONSTRAINTS if s.node.endswith("PartyChain"))
    with pytest.raises(NotNative):
        _rows(shape, constraint, triples, True)
    whole = CompiledShapes(shapes_graph())
    for _, reference in ((s, c) for s in whole.shapes for c in s.sparql):
        reference.__dict__["native"] = None  # the SPARQL alone
    assert (validate_document(triples, TripleIndex(triples)).results
            == whole.validate(triples, TripleIndex(triples)))
