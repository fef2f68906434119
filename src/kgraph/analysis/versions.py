"""What changed between a store version and the version the build that made it started from.

The pages keep data computed from the whole store per version (the home listing, the
explorer's label index and facets, the graph names and quad count): at national scale each is
a scan of millions of statements (tens of seconds), and a build that adds one plan changed a
handful of graphs. A build records which graphs it replaced and the version it started from
(:data:`kgraph.store.derived.CHANGED_GRAPHS`); the store keeps that version beside the new one
(:data:`kgraph.store.embedded.KEEP_VERSIONS`). From the base version's data, the statements the
changed graphs held before and hold now tell which subjects' entries can differ; only those are
read again, from the new version's union, with the rules the whole computation uses, so the
result is the one a whole computation gives.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kgraph.graph.vocab import ELI, KG, RDF, SKOS
from kgraph.resources import ONTOLOGY_GRAPH, REFERENCE_GRAPH
from kgraph.store.derived import (
    CHANGED_GRAPHS,
    has_named_version_value,
    named_version_value,
    store_root,
    version_value,
)
from kgraph.store.embedded import (
    OxigraphRepository,
    QueryResult,
    Repository,
    open_read_only,
    solution_records,
    store_version,
    to_query_result,
)

SHIPPED_GRAPHS = frozenset({ONTOLOGY_GRAPH, REFERENCE_GRAPH})
# Beyond this many replaced graphs (a build of hundreds of plans) reading the subjects they state
# by IRI costs more than one scan of the whole store: the data is computed whole.
MAX_GRAPHS = 2000
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_ORG = "http://www.w3.org/ns/org#"
# Facts of a subject the per-version data reads (documents: the listing and the explorer's
# document nodes; agents: the explorer's agent nodes).
SUBJECT_FACTS = tuple(ox.NamedNode(str(p)) for p in (
    ELI.id_local, ELI.title, ELI.date_document, ELI.type_document, ELI.passed_by, KG.province,
    KG.numberKey, KG.sourceFile, SKOS.prefLabel, _RDFS_LABEL))
SUBJECT_TYPES = tuple(ox.NamedNode(t) for t in (
    str(ELI.LegalResource), _ORG + "Organization", str(KG.CollectiveAddressee),
    str(KG.UnresolvedMention), str(KG.Province)))
_TYPE = ox.NamedNode(str(RDF.type))
_PROVINCE = ox.NamedNode(str(KG.province))
_PREF_LABEL = ox.NamedNode(str(SKOS.prefLabel))
_NAMING = (ELI.type_document, ELI.passed_by, KG.province)  # a document's facts shown by name


def safe(iri: str) -> bool:
    """An IRI that can be written between <> in a query."""
    return not any(c in iri for c in ' <>"{}|^`\\\n')


class StoreView:
    """A pyoxigraph store (another version, read-only) answering like a repository."""

    def __init__(self, store: ox.Store) -> None:
        self.reader = store

    def query(self, sparql: str) -> QueryResult:
        return to_query_result(self.reader.query(sparql, use_default_graph_as_union=True))

    def records(self, sparql: str) -> list[dict[str, str | None]]:
        return solution_records(self.reader.query(sparql, use_default_graph_as_union=True))


@dataclass
class Changes:
    """The graphs a build replaced, the version it started from and what that version kept."""

    repo: Repository
    base_path: Any  # Path of the base version's store folder
    base_derived: str  # name of the base version's derived folder
    graphs: list[str]
    _base: StoreView | None = field(default=None, repr=False)
    _touched: tuple[set[str], set[str]] | None = field(default=None, repr=False)
    _affected: set[str] | None = field(default=None, repr=False)

    @property
    def shipped(self) -> bool:
        """Whether the ontology or the reference data changed (then everything is read again)."""
        return bool(SHIPPED_GRAPHS.intersection(self.graphs))

    def base_value(self, name: str) -> Any:
        """The value ``name`` the base version kept (None when it kept none)."""
        return named_version_value(self.repo, self.base_derived, name)

    @property
    def base(self) -> StoreView:
        """The base version, opened read-only on first use."""
        if self._base is None:
            self._base = StoreView(open_read_only(self.base_path))
        return self._base

    @property
    def current(self) -> ox.Store:
        return self.repo.reader  # type: ignore[attr-defined,no-any-return]

    def touched(self) -> tuple[set[str], set[str]]:
        """The subjects whose facts the changed graphs state (before or now) and the IRIs they
        name by a label (their labels may have changed)."""
        if self._touched is None:
            subjects: set[str] = set()
            labelled: set[str] = set()
            for store in (self.base.reader, self.current):
                for name in self.graphs:
                    graph = ox.NamedNode(name)
                    for predicate in SUBJECT_FACTS:
                        for quad in store.quads_for_pattern(None, predicate, None, graph):
                            if isinstance(quad.subject, ox.NamedNode):
                                subjects.add(quad.subject.value)
                                if predicate == _PREF_LABEL:
                                    labelled.add(quad.subject.value)
                            if predicate == _PROVINCE and isinstance(quad.object, ox.NamedNode):
                                subjects.add(quad.object.value)  # a province some graph names
                    for kind in SUBJECT_TYPES:
                        for quad in store.quads_for_pattern(None, _TYPE, kind, graph):
                            if isinstance(quad.subject, ox.NamedNode):
                                subjects.add(quad.subject.value)
            self._touched = subjects, labelled
        return self._touched

    def relabelled(self) -> set[str]:
        """The labelled IRIs whose set of ``skos:prefLabel`` differs between the versions."""
        _, labelled = self.touched()
        if not labelled:
            return set()

        values = " ".join(f"<{iri}>" for iri in sorted(labelled) if safe(iri))

        def labels(store: ox.Store) -> dict[str, set[tuple[str, str]]]:
            # DISTINCT in the engine: a province's name is restated in every graph naming it
            found: dict[str, set[tuple[str, str]]] = {}
            for solution in store.query(f"SELECT DISTINCT ?o ?label WHERE {{ VALUES ?o {{ "
                                        f"{values} }} ?o <{SKOS.prefLabel}> ?label }}",
                                        use_default_graph_as_union=True):
                literal = solution["label"]
                if isinstance(literal, ox.Literal):
                    found.setdefault(solution["o"].value, set()).add(  # type: ignore[union-attr]
                        (literal.value, literal.language or ""))
            return found

        before, after = labels(self.base.reader), labels(self.current)
        return {iri for iri in labelled if before.get(iri) != after.get(iri)}

    def renamed(self, predicates: Iterable[str]) -> set[str] | None:
        """The touched subjects whose values of ``predicates`` (their distinct objects, in any
        graph) differ between the versions; None when one cannot be written in a query. An
        answer that reads a subject's first value found reads the same for the others: the
        engine finds a subject's values in the order of its index (by value, whatever graph
        states them), so the same set of values gives the same first one."""
        subjects, _ = self.touched()
        if not subjects:
            return set()
        if not all(safe(iri) for iri in subjects):
            return None
        # each subject's values looked up LATERAL (joined after, the engine read ?s ?p ?o
        # whole: 0.19 s against 0.002 at 2,000 plans)
        text = (f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ "
                f"{' '.join(f'<{iri}>' for iri in sorted(subjects))} }} VALUES ?p {{ "
                f"{' '.join(f'<{p}>' for p in predicates)} }} "
                "LATERAL { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } } }")

        def values(store: ox.Store) -> dict[str, set[tuple[str, str]]]:
            found: dict[str, set[tuple[str, str]]] = {}
            for solution in store.query(text, use_default_graph_as_union=True):
                found.setdefault(solution["s"].value, set()).add(  # type: ignore[union-attr]
                    (solution["p"].value, str(solution["o"])))  # type: ignore[union-attr]
            return found

        before, after = values(self.base.reader), values(self.current)
        return {iri for iri in subjects if before.get(iri) != after.get(iri)}

    def naming(self, iris: Iterable[str]) -> set[str]:
        """The subjects that name one of ``iris`` as their type, issuer or province (their
        entries show its label), in the current version."""
        found: set[str] = set()
        for iri in iris:
            for predicate in _NAMING:
                node = ox.NamedNode(str(predicate))
                found.update(quad.subject.value for quad in
                             self.current.quads_for_pattern(None, node, ox.NamedNode(iri))
                             if isinstance(quad.subject, ox.NamedNode))
        return found

    def affected(self) -> set[str]:
        """Subjects whose entries may differ from the base version's: touched or naming an
        IRI whose labels changed."""
        if self._affected is None:
            subjects, _ = self.touched()
            relabelled = self.relabelled()
            self._affected = subjects | relabelled | self.naming(relabelled)
        return set(self._affected)

    def quad_counts(self) -> int:
        """Quads the changed graphs hold now minus those they held before (counted by the
        engine: a re-aligned directive's coverage graphs hold millions)."""
        values = " ".join(f"<{name}>" for name in self.graphs if safe(name))

        def count(store: ox.Store) -> int:
            if not values:
                return 0
            solutions = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                                    "GRAPH ?g { ?s ?p ?o } }")
            return sum(int(solution["n"].value) for solution in solutions)  # type: ignore[union-attr]

        return count(self.current) - count(self.base.reader)

    def graph_present(self, name: str) -> bool:
        return bool(self.current.contains_named_graph(ox.NamedNode(name)))


# The per-version page data a new version can take from the version its build started from,
# with the names of the base version's values each needs (:mod:`kgraph.analysis.page_data`
# computes them; named here so that a build with none to update does not import it: its
# modules cost a fresh one-plan build a third of a CPU-second).
HOME_LISTING = "home-listing"
HOME_SEARCH = "home-search-index"  # "home-search" was older code's scanned text
EXPLORER_INDEX = "explorer-index"
FLOW_INDEX = "flow-index"
PAGE_DATA: dict[str, tuple[str, ...]] = {
    "graph names and quad count": ("graph-names", "triple-count"),
    "home listing": (HOME_LISTING,),
    "home search": (HOME_LISTING, HOME_SEARCH),
    "reference change events": ("change-events",),
    "explorer data": (EXPLORER_INDEX,),
    "explorer flow index": (FLOW_INDEX, EXPLORER_INDEX),  # after the explorer data it reads
}


def updatable(repo: Repository) -> list[str]:
    """The per-version page data the current version can update from its base version's."""
    return [name for name, needs in PAGE_DATA.items() if changes(repo, needs) is not None]


def changes(repo: Repository, names: Iterable[str] = ()) -> Changes | None:
    """The changes the build that made the current version recorded, when the version it
    started from is still on disk and kept every value of ``names``; None otherwise (the data
    is then computed from the whole store). One object per version: what it reads is shared
    by every value updated from it."""
    if not isinstance(repo, OxigraphRepository) or not isinstance(repo.reader, ox.Store):
        return None
    version = store_version(repo)
    with _guard:
        if version not in _latest:
            _latest.clear()  # one version at a time: the base's handle is dropped with it
            _latest[version] = _recorded(repo)
        found = _latest[version]
    if found is None or not all(has_named_version_value(repo, found.base_derived, name)
                                for name in names):
        return None
    return found


_latest: dict[str, Changes | None] = {}
_guard = threading.Lock()


def release() -> None:
    """Drop the changes held (and the version before's handle): a build about to switch
    versions, after which the version before is pruned."""
    with _guard:
        _latest.clear()


def _recorded(repo: OxigraphRepository) -> Changes | None:
    record = version_value(repo, CHANGED_GRAPHS)
    root = store_root(repo)
    if not isinstance(record, dict) or root is None:
        return None
    base_path = root if record.get("derived") == "legacy" else root / str(record.get("base"))
    if not base_path.is_dir() or base_path == repo.path:
        return None
    found = Changes(repo, base_path, str(record.get("derived")), list(record.get("graphs", ())))
    return None if found.shipped or len(found.graphs) > MAX_GRAPHS else found
