"""kgraph's shapes evaluated natively on one document's triples, with pySHACL's results.

pySHACL costs 40–90 ms a plan, most of it fixed per run (cloning the data graph, mixing in
the ontology, building its shape objects): a third of the build's time at 20,000 plans. The
shapes kgraph ships use a small part of SHACL Core (targets by class or subject of a predicate,
predicate/sequence/inverse/alternative paths, min/max count, datatype, class, hasValue, in,
not, or) and SPARQL-based constraints. :class:`CompiledShapes` reads the shapes graph once and
evaluates exactly those on a :class:`~kgraph.graph.mapping.TripleIndex` (SPARQL constraints in
Python when their text is one :data:`NATIVE` knows, else on an in-memory Oxigraph store),
giving the same :class:`ShaclResult` values pySHACL's report gives
(``tests/test_shacl_compiled.py`` compares the two). A shapes graph using anything else
raises :class:`Unsupported`, and :func:`kgraph.analysis.validation.validate_document` falls back
to pySHACL.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path as _File
from typing import Any

import rdflib
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Identifier, Node

from kgraph.analysis.validation import SEVERITY_ORDER, ShaclResult, local_name
from kgraph.graph.mapping import Triple, TripleIndex, ntriples_line
from kgraph.prepared import prepared_by_argument

# What a shape may state besides its constraints (labels, documentation, typing).
_DESCRIPTIVE = {RDF.type, RDFS.label, RDFS.comment, SH.name, SH.description, SH.message,
                SH.severity, SH.path, SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf,
                SH.targetNode, SH.order, SH.group, SH.prefixes, SH.declare, OWL.imports}
_CONSTRAINTS = {SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH.hasValue, SH["in"],
                SH["not"], SH["or"], SH.sparql}


class Unsupported(Exception):
    """The shapes use a SHACL feature this engine does not evaluate (pySHACL does)."""


Path = tuple[Any, ...]  # ("p", iri) | ("inv", path) | ("seq", paths) | ("alt", paths)


@dataclass
class Shape:
    node: Identifier
    path: Path | None = None
    path_node: Identifier | None = None
    severity: str = "Violation"
    messages: list[Literal] = field(default_factory=list)
    target_class: list[URIRef] = field(default_factory=list)
    target_subjects_of: list[URIRef] = field(default_factory=list)
    target_objects_of: list[URIRef] = field(default_factory=list)
    target_node: list[Identifier] = field(default_factory=list)
    min_count: int | None = None
    max_count: int | None = None
    datatype: URIRef | None = None
    classes: list[URIRef] = field(default_factory=list)
    has_value: list[Identifier] = field(default_factory=list)
    in_list: list[Identifier] | None = None
    negated: list[Shape] = field(default_factory=list)
    alternatives: list[list[Shape]] = field(default_factory=list)
    sparql: list[SparqlConstraint] = field(default_factory=list)

    @property
    def targeted(self) -> bool:
        return bool(self.target_class or self.target_subjects_of or self.target_objects_of
                    or self.target_node)


@dataclass
class SparqlConstraint:
    node: Identifier
    query: str
    messages: list[Literal]
    predicates: frozenset[str] | None = None  # all the query can match (None: any)

    @functools.cached_property
    def native(self) -> Native | None:
        """Its evaluation in Python, when its text is one :data:`NATIVE` knows."""
        return NATIVE.get(query_digest(self.query))


class Data:
    """The data graph pySHACL validates: the document's triples with the ontology mixed in."""

    def __init__(self, document: TripleIndex, ontology: TripleIndex,
                 triples: Iterable[Triple], workspace: Workspace | None = None) -> None:
        self.document = document
        self.ontology = ontology
        self.triples = triples
        self.workspace = workspace
        self._instances: dict[URIRef, set[Node]] = {}
        self._part: tuple[frozenset[str], str] | None = None  # predicates, their N-Triples

    def objects(self, s: Node, p: Node) -> list[Node]:
        if isinstance(s, Literal):
            return []
        found = self.document.out.get(str(s), {}).get(str(p), [])
        extra = self.ontology.out.get(str(s), {}).get(str(p))
        if not extra:
            return found
        known = set(found)
        return found + [o for o in extra if o not in known]

    def subjects(self, p: Node, o: Node) -> list[Node]:
        if isinstance(o, Literal):
            raise Unsupported("inverse lookups of literals")
        found = self.document.into.get(str(o), {}).get(str(p), [])
        extra = self.ontology.into.get(str(o), {}).get(str(p))
        if not extra:
            return found
        known = set(found)  # rdflib terms compare in Python: a list scan costs ms per lookup
        return found + [s for s in extra if s not in known]

    def subjects_of(self, p: Node) -> list[Node]:
        pairs = [*self.document.by_predicate.get(str(p), ()),
                 *self.ontology.by_predicate.get(str(p), ())]
        return list(dict.fromkeys(s for s, _ in pairs))

    def objects_of(self, p: Node) -> list[Node]:
        pairs = [*self.document.by_predicate.get(str(p), ()),
                 *self.ontology.by_predicate.get(str(p), ())]
        return list(dict.fromkeys(o for _, o in pairs))

    def subclasses(self, cls: URIRef) -> set[Node]:
        if str(RDFS.subClassOf) not in self.document.by_predicate:  # the ontology's alone
            return _ontology_subclasses(cls)
        return self._subclasses(cls)

    def _subclasses(self, cls: URIRef) -> set[Node]:
        found = {cls}
        frontier = [cls]
        while frontier:
            step = [s for c in frontier for s in self.subjects(RDFS.subClassOf, c)
                    if s not in found]
            found.update(step)
            frontier = step
        return found

    def instances(self, cls: URIRef) -> set[Node]:
        if cls not in self._instances:
            self._instances[cls] = {s for c in self.subclasses(cls)
                                    for s in self.subjects(RDF.type, c)}
        return self._instances[cls]

    def is_instance(self, node: Node, cls: URIRef) -> bool:
        return node in self.instances(cls)

    def values(self, node: Node, path: Path) -> list[Node]:
        kind = path[0]
        if kind == "p":
            return self.objects(node, path[1])
        if kind == "inv":
            inner = path[1]
            if inner[0] != "p":
                raise Unsupported("inverse of a complex path")
            return self.subjects(inner[1], node)
        if kind == "seq":
            current = [node]
            for step in path[1]:
                current = list(dict.fromkeys(v for n in current for v in self.values(n, step)))
            return current
        if kind == "alt":
            return list(dict.fromkeys(v for step in path[1] for v in self.values(node, step)))
        raise Unsupported(kind)

    def sparql(self, query: str, predicates: frozenset[str] | None = None) -> Any:
        """Solutions of a query over this data (the document's triples and the ontology).

        ``predicates``: every predicate the query can match (:func:`query_predicates`); only
        the document's triples stating one of them are loaded, a few dozen of its thousand
        (a query's answers depend on no other triple), into the workspace beside the document
        it holds."""
        if self.workspace is None:
            self.workspace = Workspace()
        if predicates is None:
            if self.workspace.holds is None:
                self.workspace.load("".join(ntriples_line(t) for t in self.triples))
            return self.workspace.query(query, with_ontology=True)
        if self._part is None or self._part[0] != predicates:
            by_predicate = self.document.by_predicate
            lines = [ntriples_line((s, p, o)) for p in sorted(predicates)  # type: ignore[arg-type]
                     for s, o in by_predicate.get(p, ())]
            self._part = (predicates, "".join(lines))
        return self.workspace.query_part(query, self._part[1])


class Workspace:
    """An in-memory Oxigraph store holding the ontology (loaded once) and one document at a
    time, for the SPARQL the build runs on a document before it is stored (SHACL-SPARQL
    constraints, coverage). Reused for every document a worker process handles.

    A document is parsed into the store only when a query needs it (:meth:`query`): in the
    build nothing does, the SPARQL constraints load the few triples they can match
    (:meth:`query_part`) and the coverage reads the document's :attr:`index`. Parsing a whole
    plan cost 8 ms of a worker's 50 after extraction."""

    ONTOLOGY = "urn:kgraph:ontology"

    RENEW_AFTER = 50  # documents: Oxigraph's memory store keeps what was removed from it

    def __init__(self) -> None:
        self.holds: str | None = None
        self.index: TripleIndex | None = None  # of the document held, when the caller has it
        self._renew()

    def _renew(self) -> None:
        import pyoxigraph as ox

        self.store = ox.Store()
        self.store.load(ontology_ntriples(), format=ox.RdfFormat.N_TRIPLES,
                        to_graph=ox.NamedNode(self.ONTOLOGY))
        self.loads = 0.0
        self._in_store: str | None = None  # the text the store's default graph holds

    def load(self, ntriples: str, index: TripleIndex | None = None) -> None:
        """Hold this document (N-Triples; kept when it is the same text object), with the
        :class:`TripleIndex` of its triples when the caller has one (``None`` keeps the one
        given with the same text)."""
        if self.holds is not ntriples:
            self.holds, self.index = ntriples, None
        if index is not None:
            self.index = index

    def _put(self, ntriples: str) -> None:
        """Make the store's default graph hold exactly these lines.

        Parsed without checking the IRIs (``lenient``: a quarter of the parse, 3 ms a plan in
        a build's worker): the text is always kgraph's own writing, of a document it has just
        mapped or of a graph read from a store, whose loader checked them."""
        import pyoxigraph as ox

        if self._in_store is ntriples:
            return
        # a fresh store after RENEW_AFTER documents' worth of text, or memory grows with every
        # document (a part of a document weighs its share of a whole plan's ~1,500 lines)
        self.loads += max(ntriples.count("\n") / _PLAN_LINES, 0.01)
        if self.loads > self.RENEW_AFTER:
            self._renew()
        self.store.clear_graph(ox.DefaultGraph())
        self.store.load(ntriples, format=ox.RdfFormat.N_TRIPLES, lenient=True)
        self._in_store = ntriples

    def query(self, query: str, *, with_ontology: bool = False) -> Any:
        """Solutions over the document held (and the ontology)."""
        self._put(self.holds if self.holds is not None else "")
        return self._query(query, with_ontology)

    def query_part(self, query: str, ntriples: str) -> Any:
        """Solutions over these lines (a part of the document held, all the query can
        match) and the ontology."""
        self._put(ntriples)
        return self._query(query, True)

    def _query(self, query: str, with_ontology: bool) -> Any:
        import pyoxigraph as ox

        graphs = [ox.DefaultGraph(), ox.NamedNode(self.ONTOLOGY)] if with_ontology else None
        return self.store.query(query, default_graph=graphs)


_PLAN_LINES = 1500  # N-Triples lines of a typical plan (the unit of Workspace.RENEW_AFTER)


@functools.cache
def ontology_ntriples() -> str:
    from kgraph.analysis.validation import ontology_graph

    return "".join(ntriples_line(t) for t in ontology_graph()  # type: ignore[arg-type]
                   if not any(isinstance(x, BNode) for x in t))


@functools.cache
def _ontology_index() -> TripleIndex:
    from kgraph.analysis.validation import ontology_graph

    return TripleIndex(ontology_graph())  # type: ignore[arg-type]


@functools.cache
def _ontology_subclasses(cls: URIRef) -> set[Node]:
    """``cls`` and its subclasses by the ontology alone (the same for every document that
    states no subclass of its own: computed once per process)."""
    empty = TripleIndex(())
    return Data(empty, _ontology_index(), (), None)._subclasses(cls)


class CompiledShapes:
    """A shapes graph read once, evaluated on many documents."""

    def __init__(self, shapes: Graph) -> None:
        self.graph = shapes
        self._parsed: dict[Identifier, Shape] = {}
        roots = {s for s, _, o in shapes.triples((None, RDF.type, None))
                 if o in (SH.NodeShape, SH.PropertyShape)}
        for predicate in (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf,
                          SH.targetNode):
            roots.update(shapes.subjects(predicate, None))
        if any(isinstance(s, URIRef) and (s, RDF.type, RDFS.Class) in shapes for s in roots):
            raise Unsupported("implicit class targets")
        if any(shapes.triples((None, SH.deactivated, None))):
            raise Unsupported("sh:deactivated")
        self.shapes = [self._shape(node) for node in sorted(roots, key=str)]
        self.shapes = [s for s in self.shapes if s.targeted]
        found = [c.predicates for s in self.shapes for c in s.sparql]
        # what the SPARQL constraints can match, together: one small load a document
        self.sparql_predicates: frozenset[str] | None = (
            None if any(p is None for p in found)
            else frozenset().union(*found))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ reading shapes

    def _one(self, node: Identifier, predicate: URIRef) -> Node | None:
        values = list(self.graph.objects(node, predicate))
        if len(values) > 1:
            raise Unsupported(f"{predicate} stated twice on {node}")
        return values[0] if values else None

    def _list(self, node: Node) -> list[Node]:
        return list(Collection(self.graph, node))  # type: ignore[arg-type]

    def _path(self, node: Node) -> Path:
        if isinstance(node, URIRef):
            return ("p", node)
        first = self._one(node, RDF.first)  # type: ignore[arg-type]
        if first is not None:
            return ("seq", [self._path(n) for n in self._list(node)])
        inverse = self._one(node, SH.inversePath)  # type: ignore[arg-type]
        if inverse is not None:
            return ("inv", self._path(inverse))
        alternative = self._one(node, SH.alternativePath)  # type: ignore[arg-type]
        if alternative is not None:
            return ("alt", [self._path(n) for n in self._list(alternative)])
        raise Unsupported(f"path {node}")

    def _shape(self, node: Identifier) -> Shape:
        if node in self._parsed:
            return self._parsed[node]
        shape = Shape(node)
        self._parsed[node] = shape
        for predicate in set(self.graph.predicates(node, None)):
            if predicate not in _DESCRIPTIVE and predicate not in _CONSTRAINTS:
                raise Unsupported(f"{predicate} on {node}")
        path = self._one(node, SH.path)
        if path is not None:
            shape.path, shape.path_node = self._path(path), path  # type: ignore[assignment]
        severity = self._one(node, SH.severity)
        if severity is not None:
            shape.severity = local_name(severity)  # type: ignore[arg-type]
        shape.messages = [m for m in self.graph.objects(node, SH.message)
                          if isinstance(m, Literal)]
        shape.target_class = list(self.graph.objects(node, SH.targetClass))  # type: ignore
        shape.target_subjects_of = list(self.graph.objects(node, SH.targetSubjectsOf))  # type: ignore
        shape.target_objects_of = list(self.graph.objects(node, SH.targetObjectsOf))  # type: ignore
        shape.target_node = list(self.graph.objects(node, SH.targetNode))  # type: ignore
        for name, predicate in (("min_count", SH.minCount), ("max_count", SH.maxCount)):
            value = self._one(node, predicate)
            if value is not None:
                setattr(shape, name, int(value))  # type: ignore[arg-type]
        shape.datatype = self._one(node, SH.datatype)  # type: ignore[assignment]
        shape.classes = list(self.graph.objects(node, SH["class"]))  # type: ignore[arg-type]
        shape.has_value = list(self.graph.objects(node, SH.hasValue))  # type: ignore[arg-type]
        members = self._one(node, SH["in"])
        if members is not None:
            shape.in_list = self._list(members)  # type: ignore[assignment]
        shape.negated = [self._shape(n) for n in self.graph.objects(node, SH["not"])]  # type: ignore
        shape.alternatives = [[self._shape(n) for n in self._list(o)]  # type: ignore[arg-type]
                              for o in self.graph.objects(node, SH["or"])]
        for constraint in self.graph.objects(node, SH.sparql):
            shape.sparql.append(self._sparql(constraint))  # type: ignore[arg-type]
        if shape.datatype in (RDFS.Literal, RDFS.Datatype, XSD.string, RDF.langString):
            raise Unsupported(f"sh:datatype {shape.datatype}")
        if shape.targeted and not shape.messages and not shape.sparql:
            raise Unsupported(f"generated messages ({node})")
        return shape

    def _sparql(self, node: Identifier) -> SparqlConstraint:
        for predicate in set(self.graph.predicates(node, None)):
            if predicate not in (RDF.type, SH.message, SH.prefixes, SH.select):
                raise Unsupported(f"{predicate} on a SPARQL constraint")
        select = self._one(node, SH.select)
        if select is None:
            raise Unsupported("SPARQL constraint without sh:select")
        prefixes = []
        for source in self.graph.objects(node, SH.prefixes):
            for declaration in self.graph.objects(source, SH.declare):
                prefix = self._one(declaration, SH.prefix)  # type: ignore[arg-type]
                namespace = self._one(declaration, SH.namespace)  # type: ignore[arg-type]
                prefixes.append(f"PREFIX {prefix}: <{namespace}>\n")
        query = "".join(prefixes) + str(select)
        if re.search(r"\$(?!this\b)\w+", query):
            raise Unsupported("pre-bound variables other than $this")
        messages = [m for m in self.graph.objects(node, SH.message) if isinstance(m, Literal)]
        query = query.replace("$this", "?this")
        return SparqlConstraint(node, query, messages, query_predicates(query))

    # ------------------------------------------------------------------ evaluating

    def focus_nodes(self, shape: Shape, data: Data) -> list[Node]:
        found: dict[Node, None] = {}
        for cls in shape.target_class:
            found.update(dict.fromkeys(sorted(data.instances(cls), key=str)))
        for predicate in shape.target_subjects_of:
            found.update(dict.fromkeys(data.subjects_of(predicate)))
        for predicate in shape.target_objects_of:
            found.update(dict.fromkeys(data.objects_of(predicate)))
        found.update(dict.fromkeys(shape.target_node))
        return list(found)

    def conforms(self, shape: Shape, node: Node, data: Data) -> bool:
        """Whether ``node`` conforms to ``shape`` (shapes nested in sh:not and sh:or)."""
        if shape.sparql:
            raise Unsupported("SPARQL constraint in a nested shape")
        values = data.values(node, shape.path) if shape.path is not None else [node]
        return not any(True for _ in self._violations(shape, node, values, data))

    def _violations(self, shape: Shape, focus: Node, values: list[Node], data: Data
                    ) -> Iterable[tuple[Node | None, list[Literal] | None, dict[str, Node]]]:
        """(value node or None, messages when not the shape's, bound variables) per result,
        in the order pySHACL's constraint components yield them."""
        if shape.min_count is not None and len(values) < shape.min_count:
            yield None, None, {}
        if shape.max_count is not None and len(values) > shape.max_count:
            yield None, None, {}
        if shape.datatype is not None:
            for value in values:
                if not (isinstance(value, Literal) and value.datatype == shape.datatype
                        and not value.ill_typed):
                    yield value, None, {}
        for cls in shape.classes:
            for value in values:
                if not data.is_instance(value, cls):
                    yield value, None, {}
        for wanted in shape.has_value:
            if wanted not in values:
                yield None, None, {}
        if shape.in_list is not None:
            for value in values:
                if value not in shape.in_list:
                    yield value, None, {}
        for negated in shape.negated:
            for value in values:
                if self.conforms(negated, value, data):
                    yield value, None, {}
        for members in shape.alternatives:
            for value in values:
                if not any(self.conforms(m, value, data) for m in members):
                    yield value, None, {}

    def validate(self, triples: Iterable[Triple], index: TripleIndex | None = None,
                 workspace: Workspace | None = None) -> list[ShaclResult]:
        """Results on one document; ``workspace``: a :class:`Workspace` already holding it."""
        triples = list(triples)
        data = Data(index or TripleIndex(triples), _ontology_index(), triples, workspace)
        results: list[ShaclResult] = []
        for shape in self.shapes:
            focus = self.focus_nodes(shape, data)
            if not focus:
                continue
            path = str(shape.path_node) if isinstance(shape.path_node, URIRef) else None
            for node in focus:
                values = data.values(node, shape.path) if shape.path is not None else [node]
                for value, _, _ in self._violations(shape, node, values, data):
                    results.append(ShaclResult(
                        str(shape.node), shape.severity, str(node), path,
                        None if value is None else str(value), _messages(shape.messages, {})))
            for constraint in shape.sparql:
                results.extend(self._sparql_results(shape, constraint, focus, data))
        return sorted(results, key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.shape,
                                              r.focus, r.value or ""))

    def _sparql_results(self, shape: Shape, constraint: SparqlConstraint, focus: list[Node],
                        data: Data) -> list[ShaclResult]:
        if any(isinstance(n, BNode) for n in focus):
            raise Unsupported("blank focus node")
        path = str(shape.path_node) if isinstance(shape.path_node, URIRef) else None
        native = constraint.native
        try:
            rows = native(constraint.query, focus, data) if native is not None else None
        except NotNative:
            rows = None
        if rows is None:
            rows = self._sparql_rows(constraint, focus, data)
        results = []
        for bound in rows:
            if bound.get("failure") is not None:
                raise Unsupported("?failure")
            this = bound.get("this")
            value = bound.get("value", this if shape.path is None else None)
            result_path = bound.get("path")
            results.append(ShaclResult(
                str(shape.node), shape.severity, str(this),
                (str(result_path) if isinstance(result_path, URIRef) else None)
                if "path" in bound else path,
                None if value is None else str(value),
                _messages(constraint.messages or shape.messages, bound)))  # type: ignore[arg-type]
        return results

    def _sparql_rows(self, constraint: SparqlConstraint, focus: list[Node], data: Data
                     ) -> list[dict[str, Node]]:
        """The constraint's solutions by its SPARQL text (the reference of :data:`NATIVE`):
        each row's bound variables."""
        import pyoxigraph as ox

        from kgraph.store.embedded import to_rdflib

        values = " ".join(n.n3() for n in focus)  # type: ignore[attr-defined]
        where = constraint.query.find("{", constraint.query.upper().find("WHERE"))
        if where < 0:
            raise Unsupported("SPARQL constraint without WHERE")
        query = (constraint.query[: where + 1] + f" VALUES ?this {{ {values} }} "
                 + constraint.query[where + 1:])
        solutions = data.sparql(query, self.sparql_predicates)
        if not isinstance(solutions, ox.QuerySolutions):
            raise Unsupported("SPARQL constraint that is not a SELECT")
        names = [v.value for v in solutions.variables]
        return [{n: to_rdflib(solution[n]) for n in names  # type: ignore[misc]
                 if solution[n] is not None} for solution in solutions]


@prepared_by_argument(_File(__file__), rdflib.__version__)  # rdflib's parser: not at every start
def query_predicates(query: str) -> frozenset[str] | None:
    """The predicates whose triples a SPARQL query's answers can depend on, or None when it
    could match any triple (a variable or negated predicate, a path that may be empty, a
    GRAPH or SERVICE pattern, a query rdflib cannot read).

    Every triple pattern and path step naming its predicate matches only triples with that
    predicate, so the query over those triples alone gives the same solutions."""
    from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        algebra = translateQuery(parseQuery(query)).algebra
    except Exception:  # any syntax rdflib lacks: the whole document is loaded
        return None
    if algebra.name == "DescribeQuery":  # describes its nodes by all their triples
        return None
    found: set[str] = set()

    def predicate(term: object) -> bool:
        if isinstance(term, URIRef):
            found.add(str(term))
            return True
        if isinstance(term, InvPath):
            return predicate(term.arg)
        if isinstance(term, SequencePath | AlternativePath):
            return all(predicate(step) for step in term.args)
        if isinstance(term, MulPath):  # p* and p? match every node to itself
            return term.mod == "+" and predicate(term.path)
        return False  # a variable, a negated set, a parse-level path

    def walk(node: object) -> bool:
        if isinstance(node, CompValue):
            if node.name in ("Graph", "GraphGraphPattern", "ServiceGraphPattern", "Service"):
                return False
            if node.name in ("BGP", "TriplesBlock"):
                return all(len(t) == 3 and predicate(t[1]) for t in node.get("triples") or ())
            return all(walk(value) for value in node.values())
        if isinstance(node, list | tuple | set):
            return all(walk(value) for value in node)
        return True

    return frozenset(found) if walk(algebra) else None


def _messages(templates: list[Literal], bound: dict[str, Node]) -> dict[str, str]:
    """Each language's message, with {?var} / {$var} filled as pySHACL fills them."""
    messages: dict[str, str] = {}
    for template in templates:
        text = str(template)
        for var, value in bound.items():
            text = re.sub(f"{{[?$]{var}}}", str(value), text)
        messages.setdefault(template.language or "", text)
    return messages


# ---------------------------------------------------------------------------- native constraints

# The build's SPARQL constraints evaluated in Python over the document's index. Oxigraph cannot
# prepare a query: every document paid for parsing each constraint's text again (1.45 ms a plan
# of the 3.1 its three constraints cost) and for compiling a regular expression per row. Each
# entry evaluates one constraint text exactly (known by :func:`query_digest`; an edited text is
# evaluated by its SPARQL again); the SPARQL stays the reference the tests compare with
# (tests/test_shacl_native.py), and the patterns and terms are read from the text itself.

Native = Callable[[str, list[Node], Data], list[dict[str, Node]]]


class NotNative(Exception):
    """A document this Python evaluation would not treat as the SPARQL does: the SPARQL runs."""


def query_digest(query: str) -> str:
    """A constraint text's identity: its PREFIX lines sorted (their order is the shapes
    graph's), the rest with its spaces collapsed."""
    lines = query.split("\n")
    prefixes = sorted(line.strip() for line in lines if line.startswith("PREFIX "))
    rest = " ".join(" ".join(line for line in lines if not line.startswith("PREFIX ")).split())
    return hashlib.sha256("\n".join([*prefixes, rest]).encode()).hexdigest()[:24]


@functools.cache
def _prefixes(query: str) -> dict[str, str]:
    return dict(re.findall(r"^PREFIX (\w*): <([^>]*)>", query, re.MULTILINE))


def _term(query: str, name: str) -> URIRef:
    prefix, local = name.split(":", 1)
    return URIRef(_prefixes(query)[prefix] + local)


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regex(node: Node, pattern: str) -> bool | None:
    """``REGEX(STR(node), pattern)``: None where the SPARQL errs (a blank node)."""
    if isinstance(node, BNode):
        return None
    text = str(node)
    if "\n" in text:  # Python's $ also matches before a last line break, the SPARQL's not
        raise NotNative(text)
    return _pattern(pattern).search(text) is not None


@functools.cache
def _type_patterns(query: str) -> dict[str, str]:
    """The number pattern of each document type, as the text's IF chain binds ?pattern."""
    found = re.findall(r'IF\(\?type = (\w+:[\w-]+), "([^"\\]*)",', query)
    return {str(_term(query, name)): pattern for name, pattern in found}


def _number_format(query: str, focus: list[Node], data: Data, *, cited: bool = False
                   ) -> list[dict[str, Node]]:
    """Numbers not matching their document type's pattern (a type the IF chain does not name,
    or a literal type, binds "" and is not checked); ``cited``: documents with no source file."""
    patterns = _type_patterns(query)
    kind_of, number, source = (_term(query, "eli:type_document"), _term(query, "eli:id_local"),
                               _term(query, "kg:sourceFile"))
    rows: list[dict[str, Node]] = []
    for this in focus:
        if cited and data.objects(this, source):
            continue
        for kind in data.objects(this, kind_of):
            pattern = patterns.get(str(kind), "") if isinstance(kind, URIRef) else ""
            if not pattern:
                continue
            rows.extend({"this": this, "value": value} for value in data.objects(this, number)
                        if _regex(value, pattern) is False)
    return rows


def _through_party_plan(query: str, focus: list[Node], data: Data) -> list[dict[str, Node]]:
    """The issuer's reference entry, the directive's number and the party plan's number as the
    text names them; one row per issuer, directive and number (the SPARQL's multiplicity)."""
    entry = _term(query, re.findall(r"\?issuer kg:referenceEntry (\w+:[\w-]+)", query)[0])
    directive_pattern, party_pattern = re.findall(r'REGEX\(STR\(\?\w+\), "([^"\\]*)"\)', query)
    passed_by, implements, reference = (_term(query, "eli:passed_by"),
                                        _term(query, "kg:implements"),
                                        _term(query, "kg:referenceEntry"))
    number, note = _term(query, "eli:id_local"), _term(query, "skos:editorialNote")
    rows: list[dict[str, Node]] = []
    for this in focus:
        if data.objects(this, note):
            continue
        issuers = [i for i in data.objects(this, passed_by) if entry in data.objects(i, reference)]
        if not issuers:
            continue
        carried = data.objects(this, implements)
        for directive in carried:
            values = [v for v in data.objects(directive, number)
                      if _regex(v, directive_pattern)]
            if values and not any(
                    directive in data.objects(party, implements)
                    and any(_regex(n, party_pattern) for n in data.objects(party, number))
                    for party in carried):
                rows.extend({"this": this, "value": v} for v in values for _ in issuers)
    return rows


NATIVE: dict[str, Native] = {  # query_digest of a shipped constraint -> its evaluation
    "c964c04dbc40ec273d041b72": _number_format,  # kgsh:OwnNumberFormat
    "ee0232070280d9f5c6125b12": functools.partial(_number_format, cited=True),
    "c2f53bf6ace44bc0d6b2537a": _through_party_plan,  # kgsh:PartyChain
}
