"""SHACL validation of one document's graph, with pySHACL as the reference engine.

A document graph is small (a few hundred triples), so validating it on ingest with pySHACL is
fast and needs nothing from the store: what one source states is checked on its own. Rules that
compare sources (the same document stated with two issuers) are SPARQL queries over the store
(:mod:`kgraph.analysis.audit`), not shapes, because a shape over the union of graphs would see both
statements as one node with two issuers and could not say which source says what.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Identifier

from kgraph.paths import resource_dir
from kgraph.resources import turtle_folder

SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


REFERENCE_SHAPES = "reference.ttl"  # shapes of the reference graph, never of a document


@functools.cache
def shapes_graph() -> Graph:
    """The document shapes of ``shapes/*.ttl`` in one graph (parsed once per process)."""
    graph = Graph()
    for file in sorted(resource_dir("shapes").glob("*.ttl")):
        if file.name != REFERENCE_SHAPES:
            graph.parse(file, format="turtle")
    return graph


@functools.cache
def reference_shapes_graph() -> Graph:
    """The shapes of the reference graph (bodies, periods, change events)."""
    return Graph().parse(resource_dir("shapes") / REFERENCE_SHAPES, format="turtle")


def validate_reference(data: Graph | None = None) -> Validation:
    """Validate the reference graph (default: the shipped one) against its own shapes."""
    if data is None:
        data = turtle_folder(resource_dir("reference"))
    return validate_graph(data, reference_shapes_graph())


@functools.cache
def ontology_graph() -> Graph:
    """kgraph's ontology: mixed into the data so sh:class sees rdfs:subClassOf."""
    return turtle_folder(resource_dir("ontology"))


def local_name(iri: Identifier | str) -> str:
    """The part after '#' or the last '/' ('…shacl#Violation' -> 'Violation')."""
    text = str(iri)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ShaclResult:
    """One sh:ValidationResult, flattened: which rule, on which node, with which messages."""

    shape: str  # IRI of the source shape (the rule)
    severity: str  # Violation | Warning | Info
    focus: str
    path: str | None = None
    value: str | None = None
    messages: dict[str, str] = field(default_factory=dict)  # language -> message

    @property
    def rule(self) -> str:
        return local_name(self.shape)


class Validation:
    """The outcome of validating one graph: SHACL report graph and its results.

    The report of the compiled engine (:mod:`kgraph.analysis.shacl_compiled`) is written from
    its results on first use: the build keeps the results only.
    """

    def __init__(self, conforms: bool, report: Graph | None, results: list[ShaclResult]
                 ) -> None:
        self.conforms = conforms
        self._report = report
        self.results = results

    @property
    def report(self) -> Graph:
        if self._report is None:
            self._report = results_report(self.conforms, self.results)
        return self._report

    def without_report(self) -> Validation:
        """The same outcome without the report graph (cheap to send between processes)."""
        return Validation(self.conforms, None, self.results)

    def __repr__(self) -> str:
        return f"Validation(conforms={self.conforms}, results={len(self.results)})"


def results_report(conforms: bool, results: list[ShaclResult]) -> Graph:
    """An sh:ValidationReport stating the given results (focus, shape, severity, path, value,
    messages), as an engine's report would."""
    from rdflib import BNode

    graph = Graph()
    graph.bind("sh", SH)
    root = BNode()
    graph.add((root, RDF.type, SH.ValidationReport))
    graph.add((root, SH.conforms, Literal(conforms)))
    for result in results:
        node = BNode()
        graph.add((root, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, _term(result.focus)))
        graph.add((node, SH.sourceShape, URIRef(result.shape)))
        graph.add((node, SH.resultSeverity, SH[result.severity]))
        if result.path:
            graph.add((node, SH.resultPath, URIRef(result.path)))
        if result.value is not None:
            graph.add((node, SH.value, _term(result.value)))
        for language, message in result.messages.items():
            graph.add((node, SH.resultMessage, Literal(message, lang=language or None)))
    return graph


def _term(text: str) -> URIRef | Literal:
    return URIRef(text) if text.startswith(("http://", "https://", "urn:")) else Literal(text)


def _rule_shape(report: Graph, shapes: Graph, node: Identifier) -> Identifier:
    """The named shape a result comes from (property shapes nested in sh:or are blank)."""
    seen: set[Identifier] = set()
    while not isinstance(node, URIRef) and node not in seen:
        seen.add(node)
        parents = [s for s, _, _ in shapes.triples((None, None, node))]
        if not parents:
            break
        node = parents[0]
    return node


_PLACEHOLDER = re.compile(r"\\\{\\[?$]\w+\\\}")


def _templates(report: Graph, result: Identifier, shapes: Graph,
               shape: Identifier) -> list[Literal]:
    """The language-tagged message templates a result's message was made from."""
    carriers = [report.value(result, SH.sourceConstraint), shape]
    return [m for c in carriers if c is not None
            for m in (*report.objects(c, SH.message), *shapes.objects(c, SH.message))
            if isinstance(m, Literal) and m.language]


def _language(message: str, templates: list[Literal]) -> str:
    """pySHACL drops the language tag when it fills {?var}: find the template that matches."""
    for template in templates:
        pattern = _PLACEHOLDER.sub(".*", re.escape(str(template)))
        if re.fullmatch(pattern, message, flags=re.S):
            return template.language or ""
    return ""


def _messages(report: Graph, result: Identifier, shapes: Graph,
              shape: Identifier) -> dict[str, str]:
    templates = _templates(report, result, shapes, shape)
    messages: dict[str, str] = {}
    for message in report.objects(result, SH.resultMessage):
        if isinstance(message, Literal):
            language = message.language or _language(str(message), templates)
            messages.setdefault(language, str(message))
    for template in templates:
        messages.setdefault(template.language or "", str(template))
    return messages


def parse_report(report: Graph, shapes: Graph | None = None) -> list[ShaclResult]:
    """Typed results of a SHACL validation report (any engine's), sorted for stable output."""
    shapes = shapes if shapes is not None else shapes_graph()
    results = []
    roots = list(report.subjects(RDF.type, SH.ValidationReport))
    top = [r for root in roots for r in report.objects(root, SH.result)]  # not sh:detail ones
    for result in top if roots else report.subjects(RDF.type, SH.ValidationResult):
        source = report.value(result, SH.sourceShape)
        rule = _rule_shape(report, shapes, source) if source is not None else None
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        results.append(
            ShaclResult(
                shape=str(rule) if rule is not None else "",
                severity=local_name(report.value(result, SH.resultSeverity) or SH.Violation),
                focus=str(report.value(result, SH.focusNode)),
                path=None if path is None or not isinstance(path, URIRef) else str(path),
                value=None if value is None else str(value),
                messages=_messages(report, result, shapes, rule) if rule is not None else {},
            )
        )
    return sorted(
        results, key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.shape, r.focus, r.value or "")
    )


@functools.lru_cache(maxsize=512)
def _prepared(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]) -> Any:
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.processor import translateQuery

    return translateQuery(parseQuery(text), base, dict(namespaces) or None)


@functools.cache
def _cache_sparql_parsing() -> None:
    """Parse each SHACL-SPARQL query once per process, not once per focus node and call.

    pySHACL hands rdflib the query text on every evaluation and rdflib re-parses it: 85% of
    the time of validating one plan. rdflib's prepared queries are made for reuse (that is
    what ``prepareQuery`` is for), so caching them changes no result. Installed once.
    """
    from rdflib.plugins.sparql.processor import SPARQLProcessor

    original = SPARQLProcessor.query

    def query(self: Any, query: Any, initBindings: Any = None, initNs: Any = None,
              base: str | None = None, DEBUG: bool = False) -> Any:
        if isinstance(query, str):
            namespaces = tuple(sorted((k, str(v)) for k, v in (initNs or {}).items()))
            query = _prepared(query, base, namespaces)
        return original(self, query, initBindings or {}, initNs, base, DEBUG)

    SPARQLProcessor.query = query  # type: ignore[method-assign]


def validate_graph(data: Graph, shapes: Graph | None = None, *,
                   with_ontology: bool = True) -> Validation:
    """Validate one graph against kgraph's shapes (pySHACL, ontology mixed in, no inference).

    ``conforms`` is False only for Violations: Warnings are findings, not failures.
    ``with_ontology=False`` runs the same engine on foreign shapes (the W3C test suite).
    """
    from pyshacl import validate as pyshacl_validate

    shapes = shapes if shapes is not None else shapes_graph()
    _cache_sparql_parsing()
    conforms, report, text = pyshacl_validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology_graph() if with_ontology else None,
        inference="none",
        allow_warnings=True,
        abort_on_first=False,
    )
    if not isinstance(report, Graph):  # pySHACL rejected the shapes themselves
        raise ValueError(f"SHACL engine failure: {text}")
    return Validation(bool(conforms), report, parse_report(report, shapes))


@functools.cache
def _compiled_shapes() -> Any:
    """kgraph's document shapes compiled once per process (None: pySHACL must run them)."""
    from kgraph.analysis.shacl_compiled import CompiledShapes, Unsupported

    try:
        return CompiledShapes(shapes_graph())
    except Unsupported:
        return None


def validate_document(triples: Any, index: Any = None, workspace: Any = None) -> Validation:
    """Validate one document's triples against kgraph's shapes: the compiled engine (the same
    results as :func:`validate_graph`, 20× faster), or pySHACL when the shapes use SHACL the
    engine does not evaluate. ``triples``: a sequence of (s, p, o) rdflib terms; ``index``
    and ``workspace`` (:mod:`kgraph.analysis.shacl_compiled`): the same already indexed and
    loaded, when the caller has them."""
    from kgraph.analysis.shacl_compiled import Unsupported

    engine = _compiled_shapes()
    if engine is not None:
        try:
            results = engine.validate(triples, index, workspace)
            return Validation(not any(r.severity == "Violation" for r in results), None,
                              results)
        except Unsupported:
            pass
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return validate_graph(graph)


def rule_labels(shapes: Graph | None = None) -> dict[str, dict[str, str]]:
    """Each rule's label per language (for report headings)."""
    shapes = shapes if shapes is not None else shapes_graph()
    labels: dict[str, dict[str, str]] = {}
    for shape, label in shapes.subject_objects(RDFS.label):
        if isinstance(shape, URIRef) and isinstance(label, Literal):
            labels.setdefault(str(shape), {})[label.language or ""] = str(label)
    return labels
