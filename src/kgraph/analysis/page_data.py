"""The data the pages keep per store version: the home listing and its search, the explorer's
label index and facets, the graph names and the quad count.

Each is a scan of the whole store, kept per store version (:mod:`kgraph.store.derived`); after
a build that recorded the graphs it replaced, each is updated from the version the build
started from (:mod:`kgraph.analysis.versions`): only the entries of the subjects those graphs
state are read again. This module imports no web framework: ``kgraph build`` updates the data
as its last stage (:func:`update`), and the web app reads it.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pyoxigraph as ox
from pydantic import BaseModel

from kgraph.analysis.lineage import KIND_LABELS, RELATION_LABELS, LineageGraph, Node, safe_iri
from kgraph.analysis.search import LabelIndex
from kgraph.analysis.substring import SegmentIndex
from kgraph.analysis.versions import (
    EXPLORER_INDEX,
    HOME_LISTING,
    HOME_SEARCH,
    PAGE_DATA,
    Changes,
    changes,
    updatable,
)
from kgraph.graph.vocab import ELI, KG, RDF, SKOS, sparql_prefixes
from kgraph.store.derived import derived
from kgraph.store.embedded import Repository, query_records, store_version, to_rdflib

log = logging.getLogger("kgraph.analysis.page_data")


@dataclass(frozen=True)
class Listed:
    """One document of the home listing (kept once per store version)."""

    doc: str
    number: str
    key: str
    province_iri: str
    province: str | None
    title: str
    types: dict[str, str]  # language -> label
    source: bool

    def matches(self, folded: str, raw: str) -> bool:
        """The search: number key, number, province slug (folded), title, province (raw)."""
        return (folded in self.key or raw in self.number.lower() or folded in self.province_iri
                or raw in self.title.lower() or raw in (self.province or "").lower())


def _pairs(repository: Repository, pattern: str, values: str = "", *, terms: bool = False
           ) -> dict[str, list[object]]:
    """``?s -> [?o, ...]`` for one pattern, each pair read once (DISTINCT), each list in
    order (the listing takes the smallest where a fact has several values: one answer whatever
    order the engine gives them in). The objects' strings, or with ``terms`` the terms (a
    label's language): strings are what a remote store gives fastest
    (:func:`kgraph.store.embedded.query_records`)."""
    found: dict[str, list[object]] = {}
    sparql = sparql_prefixes() + f"SELECT DISTINCT ?s ?o WHERE {{ {values} {pattern} }}"
    if terms:
        for s, o in repository.query(sparql).rows:
            found.setdefault(str(s), []).append(o)
    else:
        for row in query_records(repository, sparql):
            found.setdefault(str(row["s"]), []).append(row["o"])
    for objects in found.values():
        objects.sort(key=str)
    return found


def listed_documents(repository: Repository, documents: set[str] | None = None
                     ) -> dict[str, Listed]:
    """The listing's entry of every document (or of ``documents``, read by their IRIs).

    Each fact about a document is restated in every graph that cites it, so each is read on
    its own (one DISTINCT scan per property) and joined here; a fact stated with several
    values gives its smallest (its number, key, title, province, a type's label per language).
    """
    if documents is None:
        # of the documents only: a plan part's title and an agent's province are most of the
        # store's (80,000 and 11,000 rows at 2,000 plans: 15 s read from Virtuoso, 0.3 s the
        # documents'); each document once (a subquery): joined as a pattern, every restated
        # copy of its type met every copy of the fact
        values = "{ SELECT DISTINCT ?s WHERE { ?s a eli:LegalResource } }"
    else:
        if not documents:
            return {}
        values = "VALUES ?s { " + " ".join(f"<{d}>" for d in sorted(documents)
                                          if safe_iri(d)) + " }"
    store = getattr(repository, "reader", None)
    if documents is not None and isinstance(store, ox.Store):
        return _listed_by_pattern(store, documents)
    typed = {str(row["s"]) for row in query_records(repository, sparql_prefixes() + f"""
        SELECT DISTINCT ?s WHERE {{ {values if documents else ""} ?s a eli:LegalResource }}""")}
    numbers = _pairs(repository, "?s eli:id_local ?o", values)
    keys = _pairs(repository, "?s kg:numberKey ?o", values)
    provinces = _pairs(repository, "?s kg:province ?o", values)
    titles = _pairs(repository, "?s eli:title ?o", values)
    types = _pairs(repository, "?s eli:type_document ?o", values)
    sources = {str(row["s"]) for row in query_records(repository, sparql_prefixes() + f"""
        SELECT DISTINCT ?s WHERE {{ {values} ?s kg:sourceFile ?f }}""")}
    if documents is None:
        province_labels = _pairs(repository, "{ SELECT DISTINCT ?s WHERE { ?x kg:province ?s } "
                                             "} ?s skos:prefLabel ?o")
        type_labels = _pairs(repository, "{ SELECT DISTINCT ?s WHERE { ?x eli:type_document ?s"
                                         " } } ?s skos:prefLabel ?o", terms=True)
    else:
        named = {str(o) for found in (provinces, types) for objects in found.values()
                 for o in objects}
        labels = _pairs(repository, "?s skos:prefLabel ?o", "VALUES ?s { " + " ".join(
            f"<{o}>" for o in sorted(named) if safe_iri(o)) + " }", terms=True) if named else {}
        province_labels = type_labels = labels
    return _listed(typed, numbers, keys, provinces, titles, types, province_labels, type_labels,
                   sources)


def _listed_by_pattern(store: ox.Store, documents: set[str]) -> dict[str, Listed]:
    """:func:`listed_documents` of a few documents, their facts looked up by subject in the
    store's indexes (a query bound with ``VALUES`` joined every ``a eli:LegalResource``
    statement of a national store: seconds)."""
    def pairs(subjects: Iterable[str], predicate: str) -> dict[str, list[object]]:
        node = ox.NamedNode(predicate)
        found: dict[str, list[object]] = {}
        for subject in subjects:
            objects = {quad.object for quad in  # restated copies: each value converted once
                       store.quads_for_pattern(ox.NamedNode(subject), node, None)}
            if objects:
                found[subject] = sorted((to_rdflib(o) for o in objects), key=str)
        return found

    legal, is_a = ox.NamedNode(str(ELI.LegalResource)), ox.NamedNode(str(RDF.type))
    typed = {d for d in documents if safe_iri(d) and next(iter(store.quads_for_pattern(
        ox.NamedNode(d), is_a, legal)), None) is not None}
    asked = sorted(typed)  # only documents are listed (a plan's parts have titles too)
    provinces = pairs(asked, str(KG.province))
    types = pairs(asked, str(ELI.type_document))
    named = sorted({str(o) for found in (provinces, types) for objects in found.values()
                    for o in objects if safe_iri(str(o))})
    labels = pairs(named, str(SKOS.prefLabel))
    return _listed(typed, pairs(asked, str(ELI.id_local)), pairs(asked, str(KG.numberKey)),
                   provinces, pairs(asked, str(ELI.title)), types, labels, labels,
                   set(pairs(asked, str(KG.sourceFile))))


def _listed(typed: set[str], numbers: dict[str, list[object]], keys: dict[str, list[object]],
            provinces: dict[str, list[object]], titles: dict[str, list[object]],
            types: dict[str, list[object]], province_labels: dict[str, list[object]],
            type_labels: dict[str, list[object]], sources: set[str]) -> dict[str, Listed]:
    listed = {}
    for doc in typed:
        if doc not in numbers:
            continue
        province = next((str(p) for p in provinces.get(doc, []) if str(p) in province_labels), "")
        labels = province_labels.get(province, [])
        type_by_lang: dict[str, str] = {}
        for concept in types.get(doc, []):
            for label in type_labels.get(str(concept), []):
                language_of = getattr(label, "language", None) or ""
                type_by_lang.setdefault(language_of, str(label))
        listed[doc] = Listed(
            doc=doc, number=str(numbers[doc][0]), key=str(keys.get(doc, [""])[0]),
            province_iri=province if labels else "",
            province=str(labels[0]) if labels else None,
            title=str(titles.get(doc, [""])[0]), types=type_by_lang, source=doc in sources)
    return listed


def _listing_order(listed: Iterable[Listed]) -> list[Listed]:
    """With a source first, then by province and number (and IRI: one order every time)."""
    return sorted(listed, key=lambda d: (not d.source, d.province is not None, d.province or "",
                                         d.number, d.doc))


def document_listing(repository: Repository) -> list[Listed]:
    """Every document, in the listing's order (with a source first, then province, number):
    linear in the store, computed once per store version
    (:func:`kgraph.store.derived.derived`), not per request."""
    return _listing_order(listed_documents(repository).values())


def updated_listing(repository: Repository, base: list[Listed], found: Changes
                    ) -> list[Listed]:
    """The listing of the store's current version from the base version's: the entries of the
    subjects the changed graphs state (or that name a type or province whose label changed)
    are read again, the others kept."""
    affected = found.affected()
    entries = {d.doc: d for d in base if d.doc not in affected}
    entries.update(listed_documents(repository, affected))
    return _listing_order(entries.values())


def home_listing(repository: Repository) -> list[Listed]:
    """The home listing of the store's current version (computed once per version)."""
    return derived(repository, HOME_LISTING, lambda: _home_listing(repository))


def _home_listing(repository: Repository) -> list[Listed]:
    found = changes(repository, [HOME_LISTING])
    base = found.base_value(HOME_LISTING) if found is not None else None
    if found is not None and isinstance(base, list):
        return updated_listing(repository, base, found)
    return document_listing(repository)


_FIELD, _ROW = "\x01", "\x00"  # separators no needle holds: a match never spans two fields
# A version's search index: one part for the documents of the version it was first computed
# for, and one small part re-indexed at each update for the documents listed or changed since
# (up to this many, or an eighth of the listing); beyond, it is computed whole again.
SMALL_PART = 256


def _segments(listing: Iterable[Listed]) -> tuple[list[str], list[str]]:
    """Each document's searched text: folded (number key, province IRI) and raw lower-cased
    (number, title, province), fields apart (what :meth:`Listed.matches` reads)."""
    folded, raw = [], []
    for d in listing:
        folded.append(_FIELD.join((d.key, d.province_iri)))
        raw.append(_FIELD.join((d.number.lower(), d.title.lower(), (d.province or "").lower())))
    return folded, raw


def _indexes(listing: list[Listed]) -> tuple[SegmentIndex, SegmentIndex]:
    folded, raw = _segments(listing)
    return SegmentIndex(folded, _ROW), SegmentIndex(raw, _ROW)


class ListingSearch:
    """The home search over a listing, from a trigram index of every document's searched text
    (:class:`kgraph.analysis.substring.SegmentIndex`): a new search costs the occurrences of
    its rarest trigram, not a scan of the corpus, and gives :meth:`Listed.matches`' answers.

    A document's text has a slot in a part of the index; each slot knows its document's row in
    the listing (-1 once the document is gone or changed). A new store version re-indexes only
    the documents its build may have changed (:meth:`updated`)."""

    def __init__(self, docs: list[str], parts: list[tuple[int, SegmentIndex, SegmentIndex]],
                 slot_rows: np.ndarray, size: int) -> None:
        self.docs = docs  # the document of each slot
        self.parts = parts  # (first slot, folded text's index, raw text's index)
        self.slot_rows = slot_rows
        self.size = size  # documents listed

    @classmethod
    def of(cls, listing: list[Listed]) -> ListingSearch:
        return cls([d.doc for d in listing], [(0, *_indexes(listing))],
                   np.arange(len(listing), dtype=np.int32), len(listing))

    def updated(self, listing: list[Listed], affected: set[str]) -> ListingSearch:
        """The search of ``listing`` (a new version's) from this one (its base version's):
        the first part's slots kept for the documents still listed that no build since the
        part was made touched (their entries are the part's), every other listed document
        indexed again in a new small part."""
        _, main, _ = self.parts[0]
        docs = self.docs[:len(main)]
        row_of = {d.doc: row for row, d in enumerate(listing)}
        live = self.slot_rows[:len(docs)] >= 0  # a slot left once stays left
        rows = np.fromiter((row_of.get(doc, -1) if alive and doc not in affected else -1
                            for doc, alive in zip(docs, live.tolist(), strict=True)),
                           np.int32, len(docs))
        kept = {doc for doc, row in zip(docs, rows.tolist(), strict=True) if row >= 0}
        rest = [d for d in listing if d.doc not in kept]
        if len(rest) > max(SMALL_PART, len(listing) // 8):
            return ListingSearch.of(listing)
        return ListingSearch(
            docs + [d.doc for d in rest], [self.parts[0], (len(docs), *_indexes(rest))],
            np.concatenate((rows, np.fromiter((row_of[d.doc] for d in rest), np.int32,
                                              len(rest)))), len(listing))

    def row_array(self, folded: str, raw: str) -> np.ndarray:
        """Positions in the listing of the documents matching the search, in listing order."""
        found = np.zeros(self.size, dtype=bool)
        for first, *indexes in self.parts:
            for index, needle in zip(indexes, (folded, raw), strict=True):
                needle = needle.replace(_ROW, "").replace(_FIELD, "")
                rows = self.slot_rows[index.segments_of(needle) + first]
                found[rows[rows >= 0]] = True
        return np.flatnonzero(found)

    def rows(self, folded: str, raw: str) -> list[int]:
        """:meth:`row_array` as a list."""
        return self.row_array(folded, raw).tolist()  # type: ignore[no-any-return]


def listing_search(repository: Repository) -> ListingSearch:
    """The home search index of the store's current version (computed once per version)."""
    return derived(repository, HOME_SEARCH, lambda: _listing_search(repository))


def _listing_search(repository: Repository) -> ListingSearch:
    """Updated from the base version's index when a build recorded what it changed, else
    built from the whole listing."""
    listing = home_listing(repository)
    found = changes(repository, [HOME_LISTING, HOME_SEARCH])
    base = found.base_value(HOME_SEARCH) if found is not None else None
    if found is not None and isinstance(base, ListingSearch):
        return base.updated(listing, found.affected())
    return ListingSearch.of(listing)


# The searches asked last, per store version: a search's next pages are slices of its rows,
# not the search again (a common string matches most of the listing: its rows cost their
# count). At most 4 bytes a document each.
SEARCHES_KEPT = 64
_SEARCHES: OrderedDict[tuple[str, str, str], array[int]] = OrderedDict()
_SEARCHES_LOCK = threading.Lock()


def search_rows(repository: Repository, folded: str, raw: str) -> array[int]:
    """Positions in :func:`home_listing` of the documents matching a search
    (:meth:`ListingSearch.rows`), kept for the :data:`SEARCHES_KEPT` searches asked last."""
    key = (store_version(repository), folded, raw)
    with _SEARCHES_LOCK:
        rows = _SEARCHES.get(key)
        if rows is not None:
            _SEARCHES.move_to_end(key)
            return rows
    rows = array("i")
    rows.frombytes(listing_search(repository).row_array(folded, raw).astype(np.int32).tobytes())
    with _SEARCHES_LOCK:
        _SEARCHES[key] = rows
        while len(_SEARCHES) > SEARCHES_KEPT:
            _SEARCHES.popitem(last=False)
    return rows


class Facets(BaseModel):
    provinces: list[str]
    doctypes: list[str]
    years: list[str]
    roles: dict[str, str]
    kinds: dict[str, str]


_NODE_FIELDS = tuple(f.name for f in fields(Node))
_KIND, _DOCTYPE, _PROVINCE, _YEAR, _DOCUMENT = (
    _NODE_FIELDS.index(name) for name in ("kind", "doctype", "province", "year", "document"))
Row = tuple[Any, ...]  # a node's fields in Node's order


def _row(node: Node) -> Row:
    return tuple(getattr(node, name) for name in _NODE_FIELDS)


def _node(row: Row) -> Node:
    """``Node(*row)`` without its ``__init__`` (76,000 of them at 20,000 plans)."""
    node = object.__new__(Node)
    node.__dict__.update(zip(_NODE_FIELDS, row, strict=True))
    return node


class ExplorerData:
    """Label index and facets of one version of the store, and the searchable nodes (the
    documents, agents and provinces) they are made of: what the next version's are updated
    from.

    Read back from disk, the nodes and the index stay the plain rows they were pickled as until
    a page asks for them: a build that updates the data from them reads and writes rows, and
    builds objects only for the nodes it reads again (building all 76,000 nodes and index
    entries of a national store took most of a fresh one-plan build's page-data stage)."""

    def __init__(self, nodes: dict[str, Node], index: LabelIndex | None = None) -> None:
        self._nodes: dict[str, Node] | None = nodes
        self._rows: dict[str, Row] | None = None
        self._index = LabelIndex.from_nodes(nodes.values()) if index is None else index
        self._index_state: list[tuple[Any, ...]] | None = None
        self.facets = facets_of(nodes.values())

    @classmethod
    def _of_rows(cls, rows: dict[str, Row], index_state: list[tuple[Any, ...]]
                 ) -> ExplorerData:
        data = object.__new__(cls)
        data._nodes, data._rows = None, rows
        data._index, data._index_state = None, index_state
        data.facets = _facets_of_rows(rows.values())
        return data

    @property
    def nodes(self) -> dict[str, Node]:
        """The searchable nodes by IRI (built from the kept rows on first use)."""
        if self._nodes is None:
            if self._rows is None:
                raise AttributeError("no nodes kept")  # a pickle of older code: read whole
            self._nodes = {iri: _node(row) for iri, row in self._rows.items()}
        return self._nodes

    @property
    def index(self) -> LabelIndex:
        """The label index (built from the kept rows on first use)."""
        if self._index is None:
            self._index = LabelIndex.from_state(self._index_state or [])
        return self._index

    def can_update(self) -> bool:
        """Whether this data holds its nodes (what :meth:`updated` starts from)."""
        return self._rows is not None or isinstance(self._nodes, dict)

    def _node_rows(self) -> dict[str, Row]:
        if self._nodes is not None:  # objects a page may have used: they are the truth
            return {iri: _row(node) for iri, node in self._nodes.items()}
        return self._rows or {}

    def _index_rows(self) -> list[tuple[Any, ...]]:
        return self._index.state() if self._index is not None else self._index_state or []

    # Pickled as tuples: a national store's 76,000 nodes and index entries as objects took 1.8 s
    # to read back (twice as long as tuples), the most of a one-plan build's page-data stage.
    def __getstate__(self) -> dict[str, Any]:
        return {"nodes": list(self._node_rows().values()), "index": self._index_rows(),
                "facets": self.facets.model_dump()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._nodes, self._rows, self._index, self._index_state = None, None, None, None
        if isinstance(state.get("nodes"), dict) or "facets" not in state or isinstance(
                state.get("facets"), Facets):  # kept by older code (objects)
            self._nodes = state.get("nodes")
            self._index = state.get("index")
            self.facets = state.get("facets")  # type: ignore[assignment]
            return
        self._rows = {row[0]: row for row in state["nodes"]}
        self._index_state = state["index"]
        self.facets = Facets(**state["facets"])

    @classmethod
    def of(cls, repo: Repository) -> ExplorerData:
        """From the whole store, the cycle collector paused: the work only allocates (at
        20,000 plans half a million rows, then 100,000 nodes and index entries), and its
        collections, walking them all again and again to free nothing, were most of the label
        index's time."""
        from kgraph.memory import collector_paused

        with collector_paused(settle=True):
            return cls(LineageGraph.searchable(repo).nodes)

    def updated(self, repo: Repository, changes: Changes) -> ExplorerData:
        """The data of the store's current version from this one, the base version's: only the
        nodes of the subjects the changed graphs state (or whose names changed) are read again,
        with the rules :meth:`of` reads every node with. The others are kept as rows."""
        base = self._node_rows()
        affected = changes.affected()
        # an unresolved mention's province is its document's
        affected |= {iri for iri, row in base.items() if row[_DOCUMENT] in affected}
        fresh = LineageGraph()
        fresh._load_nodes(repo, affected, parts=False)
        rows = {iri: row for iri, row in base.items() if iri not in affected}
        rows.update((iri, _row(node)) for iri, node in fresh.nodes.items())
        # as LabelIndex.updated: the others' entries kept, then the read nodes' in IRI order
        changed = affected | fresh.nodes.keys()
        entries = LabelIndex.from_nodes(fresh.nodes[iri] for iri in sorted(changed)
                                        if iri in fresh.nodes)
        index = [entry for entry in self._index_rows() if entry[0] not in changed]
        return ExplorerData._of_rows(rows, index + entries.state())


def _facets_of_rows(rows: Iterable[Row]) -> Facets:
    """:func:`facets_of` of nodes kept as rows."""
    return _facets((r[_PROVINCE], r[_DOCTYPE], r[_YEAR], r[_KIND]) for r in rows)


def facets_of(lineage: LineageGraph | Iterable[Node]) -> Facets:
    nodes = lineage.nodes.values() if isinstance(lineage, LineageGraph) else lineage
    return _facets((n.province, n.doctype, n.year, n.kind) for n in nodes)


def _facets(entries: Iterable[tuple[Any, Any, Any, str]]) -> Facets:
    """The facets of nodes given as (province, doctype, year, kind): one rule for objects and
    rows."""
    entries = list(entries)
    documents = [entry for entry in entries if entry[3] == "document"]
    return Facets(
        provinces=sorted({province for province, *_ in entries if province}),
        doctypes=sorted({doctype for _, doctype, _, _ in documents if doctype}),
        years=sorted({year for _, _, year, _ in documents if year}),
        roles={k: RELATION_LABELS[k] for k in ("lead", "coordinate", "addressee", "request")},
        kinds=KIND_LABELS,
    )


def explorer_for(repo: Repository) -> ExplorerData:
    """The explorer's data for the store's current version, computed once per version."""
    return derived(repo, EXPLORER_INDEX, lambda: _explorer(repo))


def _explorer(repo: Repository) -> ExplorerData:
    """Updated from the base version's data when a build recorded what it changed, else read
    from the whole store."""
    found = changes(repo, [EXPLORER_INDEX])
    base = found.base_value(EXPLORER_INDEX) if found is not None else None
    if found is not None and isinstance(base, ExplorerData) and base.can_update():
        return base.updated(repo, found)
    return ExplorerData.of(repo)


def store_counts(repository: Repository) -> tuple[list[str], int]:
    """The store's named graphs and its quad count, kept per store version (both scan it)."""
    from kgraph.store.derived import derived

    return (graph_names(repository),
            derived(repository, "triple-count", lambda: _triple_count(repository)))


def graph_names(repository: Repository) -> list[str]:
    """The store's named graphs, sorted, kept per store version: listing them scans the store
    (0.5 s at 20,000 plans, 40,000 graphs), which ``/sparql``'s service description did on
    every request."""
    from kgraph.store.derived import derived

    return derived(repository, "graph-names", lambda: _graph_names(repository))


def _graph_names(repository: Repository) -> list[str]:
    """The base version's names with the graphs a build replaced added or removed, when it
    recorded them (:mod:`kgraph.analysis.versions`); else the store's."""
    from kgraph.analysis.versions import changes

    found = changes(repository, ["graph-names"])
    if found is None:
        return repository.graph_names()
    names = set(found.base_value("graph-names"))
    for name in found.graphs:
        if found.graph_present(name):
            names.add(name)
        else:
            names.discard(name)
    return sorted(names)


def _triple_count(repository: Repository) -> int:
    """The base version's count plus what the graphs a build replaced gained (else a count of
    every quad: a scan of the store)."""
    from kgraph.analysis.versions import changes

    found = changes(repository, ["triple-count"])
    if found is None:
        return len(repository)
    return int(found.base_value("triple-count")) + found.quad_counts()


def _updatable() -> list[tuple[str, Callable[[Repository], object]]]:
    """What computes each per-version data :data:`kgraph.analysis.versions.PAGE_DATA` names."""
    from kgraph.analysis.flow_index import flow_index
    from kgraph.analysis.succession import change_events

    computed: dict[str, Callable[[Repository], object]] = {
        "graph names and quad count": store_counts, "home listing": home_listing,
        "home search": listing_search, "reference change events": change_events,
        "explorer data": explorer_for, "explorer flow index": flow_index}
    return [(name, computed[name]) for name in PAGE_DATA]


def update(repository: Repository) -> list[str]:
    """Compute the per-version data the current version can update from its base version's
    (``kgraph build``'s last stage: seconds, where reading the whole store takes minutes at
    national scale); what cannot is left to the server's warm-up. The names computed."""
    done = []
    possible = updatable(repository)
    # The collector stays off: the base version's data is hundreds of thousands of small
    # objects at national scale, and every full collection the update's allocations trigger
    # walks them all (as in the build's directive-coverage stage).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for name, compute in _updatable():
            if name not in possible:
                continue
            started = time.perf_counter()
            compute(repository)
            log.info("page data: %s updated in %.1f s", name, time.perf_counter() - started)
            done.append(name)
    finally:
        if collecting:
            gc.enable()
    return done
