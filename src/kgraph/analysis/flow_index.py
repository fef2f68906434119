"""The explorer's flow relations held in memory once per store version: its path between nodes.

``/api/path`` looked for the shortest chain between two nodes by walking the store from both
ends (:class:`kgraph.analysis.lineage.StoreWalk`), one query a step: at 20,000 plans 1.2 CPU-s
median for a first request, 3.4 s for the farthest pair measured (bench/bench_paths.py), and a
walk of the whole lineage both ways before answering that two nodes are not joined. Here the
flow relations (every relation the walk follows, "cites" excluded) are read once per store
version into integer arrays: nodes numbered in IRI order, each node's neighbours as a CSR row
(in IRI order, as the walk gives them), and the weakly connected components (scipy), so a pair
in two components is answered at once. The search is
:func:`kgraph.web.explore.shortest_flow_path`'s, step for step, on arrays: the same path.

A node is what the walk reads as one: a document, agent or province of the explorer's data
(:func:`kgraph.analysis.page_data.explorer_for`) and a plan part (typed task, assignment or
duty, part of something). Each node's neighbours are those a step of the walk finds: the
relations its kind can have (:data:`~kgraph.analysis.lineage.SUBJECT_OF`,
:data:`~kgraph.analysis.lineage.OBJECT_OF`) to other nodes. IRIs a query cannot name
(:func:`~kgraph.analysis.lineage.safe_iri`) are no node here (the mapping writes none).

Kept per store version next to the other per-version data (``flow-index.pickle``); after a
build that recorded the graphs it replaced (:mod:`kgraph.analysis.versions`) it is updated from
the base version's: only the statements those graphs held before and hold now are read again.
Embedded stores only: a remote store keeps the walk.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyoxigraph as ox

from kgraph.analysis.lineage import (
    _FORWARD_FLOW_IRIS,
    _REVERSE_FLOW_IRIS,
    OBJECT_OF,
    SUBJECT_OF,
    safe_iri,
)
from kgraph.analysis.versions import EXPLORER_INDEX, FLOW_INDEX, Changes, changes
from kgraph.graph.vocab import KG, RDF
from kgraph.store.derived import derived, has_version_value, memory_value
from kgraph.store.embedded import Repository

FLOW_PREDICATES = (*_FORWARD_FLOW_IRIS, *_REVERSE_FLOW_IRIS)
KINDS = ("", "document", "task", "assignment", "duty", "agency", "collective", "mention",
         "province")
_KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
_PART_TYPES = {str(KG.Task): "task", str(KG.Assignment): "assignment", str(KG.Duty): "duty"}
_TYPE = ox.NamedNode(str(RDF.type))
_PART_OF = ox.NamedNode(str(KG.partOf))
# [kind, predicate]: whether a node of that kind is looked up as the subject / the object of
# that flow relation (what a step of the walk asks of it)
_AS_SUBJECT = np.array([[p in SUBJECT_OF.get(kind, frozenset()) for p in FLOW_PREDICATES]
                        for kind in KINDS], dtype=bool)
_AS_OBJECT = np.array([[p in OBJECT_OF.get(kind, frozenset()) for p in FLOW_PREDICATES]
                       for kind in KINDS], dtype=bool)
_UNSEEN, _ROOT = -2, -1


class FlowIndex:
    """Flow statements and nodes of one store version as arrays, and the adjacency made of
    them. ``terms``: every IRI a flow statement or a node names, sorted, as one string
    (``\\n``-separated: a national store's 900,000 IRIs as Python strings were twice the
    memory); ``kinds``: each term's node kind (:data:`KINDS`, 0: no node); ``statements``:
    the distinct (subject, predicate, object) flow statements between terms, sorted."""

    def __init__(self, terms: list[str], kinds: np.ndarray, statements: np.ndarray) -> None:
        self.text = "\n".join(terms)
        starts = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum([len(t) + 1 for t in terms], out=starts[1:])
        self.starts = starts
        self.kinds = kinds.astype(np.int8)
        self.statements = statements.astype(np.int32).reshape(-1, 3)
        self._adjacency()

    def __len__(self) -> int:
        return len(self.kinds)

    # Only what a whole computation reads is kept: the adjacency is rebuilt on load (arrays,
    # a fraction of a second at 20,000 plans).
    def __getstate__(self) -> dict[str, Any]:
        return {"text": self.text, "starts": self.starts, "kinds": self.kinds,
                "statements": self.statements}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.text, self.starts = state["text"], state["starts"]
        self.kinds, self.statements = state["kinds"], state["statements"]
        self._adjacency()

    def _adjacency(self) -> None:
        """Each node's neighbours along flow relations, either direction, as a step of the
        walk finds them; the weakly connected components."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        count = len(self.kinds)
        s, p, o = self.statements[:, 0], self.statements[:, 1], self.statements[:, 2]
        ks, ko = self.kinds[s], self.kinds[o]
        both = (ks > 0) & (ko > 0)
        outward = both & _AS_SUBJECT[ks, p]  # s's step finds o
        inward = both & _AS_OBJECT[ko, p]  # o's step finds s
        sources = np.concatenate((s[outward], o[inward])).astype(np.int64)
        targets = np.concatenate((o[outward], s[inward])).astype(np.int64)
        pairs = _distinct(sources * count + targets)  # sorted: by node, then neighbour
        self.indices = (pairs % count).astype(np.int32)
        self.indptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(np.bincount(pairs // count, minlength=count), out=self.indptr[1:])
        graph = csr_matrix((np.ones(len(self.indices), dtype=np.int8), self.indices,
                            self.indptr), shape=(count, count))
        _, self.components = connected_components(graph, directed=True, connection="weak")

    # ------------------------------------------------------------------ terms
    def iri(self, number: int) -> str:
        return self.text[self.starts[number]: self.starts[number + 1] - 1]

    def terms(self) -> list[str]:
        return self.text.split("\n") if len(self.kinds) else []

    def number(self, iri: str) -> int | None:
        """The number of a node's IRI (None when it names no node here)."""
        low, high = 0, len(self.kinds)
        while low < high:  # bisection on the joined text: no list of 900,000 strings
            middle = (low + high) // 2
            if self.iri(middle) < iri:
                low = middle + 1
            else:
                high = middle
        if low < len(self.kinds) and self.kinds[low] > 0 and self.iri(low) == iri:
            return low
        return None

    def neighbours(self, iri: str) -> list[str]:
        """A node's neighbours in IRI order (what :meth:`StoreWalk.neighbours` gives)."""
        number = self.number(iri)
        if number is None:
            return []
        return [self.iri(int(i)) for i in
                self.indices[self.indptr[number]: self.indptr[number + 1]]]

    # ------------------------------------------------------------------ the path
    def path(self, source: str, target: str) -> list[str] | None:
        """:func:`kgraph.web.explore.shortest_flow_path` between two nodes of this index: a
        breadth-first search from both ends, the smaller frontier grown a step at a time, each
        frontier's new neighbours taken in frontier order then IRI order, stopped at the first
        one the other side has reached. None when no chain joins them (at once when they lie
        in two components)."""
        ends = self.number(source), self.number(target)
        if ends[0] is None or ends[1] is None:
            raise KeyError(source if ends[0] is None else target)
        found = self._path(*ends)  # type: ignore[arg-type]
        return None if found is None else [self.iri(n) for n in found]

    def _path(self, source: int, target: int) -> list[int] | None:
        if source == target:
            return [source]
        if self.components[source] != self.components[target]:
            return None
        count = len(self.kinds)
        parents = (np.full(count, _UNSEEN, dtype=np.int32),
                   np.full(count, _UNSEEN, dtype=np.int32))
        parents[0][source], parents[1][target] = _ROOT, _ROOT
        frontiers = [np.array([source], dtype=np.int64), np.array([target], dtype=np.int64)]
        while len(frontiers[0]) and len(frontiers[1]):
            side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
            frontier = frontiers[side]
            starts, ends = self.indptr[frontier], self.indptr[frontier + 1]
            sizes = ends - starts
            total = int(sizes.sum())
            if total == 0:
                frontiers[side] = frontier[:0]
                continue
            # the frontier's neighbour lists one after the other, in frontier order
            offsets = np.repeat(starts - np.cumsum(sizes) + sizes, sizes)
            others = self.indices[offsets + np.arange(total)].astype(np.int64)
            owners = np.repeat(frontier, sizes)
            unseen = np.flatnonzero(parents[side][others] == _UNSEEN)
            at = unseen[_first_places(others[unseen])]  # each new node where it first appears
            reached, by = others[at], owners[at]
            meeting = np.flatnonzero(parents[1 - side][reached] != _UNSEEN)
            if len(meeting):
                k = int(meeting[0])
                parents[side][reached[k]] = by[k]
                return _joined(parents, int(reached[k]))
            parents[side][reached] = by
            frontiers[side] = reached
        return None


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (``np.unique`` hashed 2 million keys in 0.9 s here; a sort
    and a comparison of neighbours take a tenth of that)."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def _first_places(values: np.ndarray) -> np.ndarray:
    """The place of each distinct value's first occurrence, in order of place."""
    order = np.argsort(values, kind="stable")  # equal values keep their order
    ranked = values[order]
    return np.sort(order[np.concatenate(([True], ranked[1:] != ranked[:-1]))]
                   if len(ranked) else order)


def _joined(parents: tuple[np.ndarray, np.ndarray], meeting: int) -> list[int]:
    """The path source → meeting → target from the two searches' parents."""
    half = [meeting]
    while parents[0][half[-1]] != _ROOT:
        half.append(int(parents[0][half[-1]]))
    path = half[::-1]
    node = int(parents[1][meeting])
    while node != _ROOT:
        path.append(node)
        node = int(parents[1][node])
    return path


# ---------------------------------------------------------------------- computing it
Statement = tuple[str, int, str]  # subject, index in FLOW_PREDICATES, object


def _statements(store: ox.Store, graph: ox.NamedNode | None = None) -> set[Statement]:
    """The distinct flow statements between IRIs a query can name (of one graph, or all)."""
    found: set[Statement] = set()
    for code, predicate in enumerate(FLOW_PREDICATES):
        for quad in store.quads_for_pattern(None, ox.NamedNode(predicate), None, graph):
            subject, obj = quad.subject, quad.object
            if isinstance(subject, ox.NamedNode) and isinstance(obj, ox.NamedNode):
                found.add((subject.value, code, obj.value))
    return {s for s in found if safe_iri(s[0]) and safe_iri(s[2])}


def _parts(store: ox.Store, subjects: Iterable[str] | None = None) -> dict[str, str]:
    """Plan parts (of the store, or among ``subjects``): typed task, assignment or duty and part
    of something, as the walk's ``_PARTS_OF`` reads them; their kind."""
    found: dict[str, str] = {}
    if subjects is None:
        part_of = {quad.subject.value for quad in store.quads_for_pattern(None, _PART_OF, None)
                   if isinstance(quad.subject, ox.NamedNode)}
        for type_iri, kind in _PART_TYPES.items():
            for quad in store.quads_for_pattern(None, _TYPE, ox.NamedNode(type_iri)):
                iri = quad.subject.value
                if isinstance(quad.subject, ox.NamedNode) and iri in part_of:
                    found.setdefault(iri, kind)
        return {iri: kind for iri, kind in found.items() if safe_iri(iri)}
    for iri in subjects:
        if not safe_iri(iri):
            continue
        node = ox.NamedNode(iri)
        if next(iter(store.quads_for_pattern(node, _PART_OF, None)), None) is None:
            continue
        for type_iri, kind in _PART_TYPES.items():
            if next(iter(store.quads_for_pattern(node, _TYPE, ox.NamedNode(type_iri))), None):
                found[iri] = kind
                break
    return found


def _kinds(parts: dict[str, str], known: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Every node's kind: the explorer's documents, agents and provinces over plan parts (a walk
    with them known asks the parts' facts only of the IRIs they are not)."""
    kinds = dict(parts)
    kinds.update((iri, kind) for iri, kind in known if kind in _KIND_CODE and safe_iri(iri))
    return kinds


_KNOWN_KINDS = frozenset(KINDS) - {"", "task", "assignment", "duty"}  # the explorer data's


def _known(repo: Repository) -> list[tuple[str, str]]:
    """The explorer data's documents, agents and provinces (IRI, kind) of the current version."""
    from kgraph.analysis.page_data import explorer_for

    data = explorer_for(repo)
    rows = getattr(data, "_rows", None)
    if getattr(data, "_nodes", None) is None and rows is not None:  # rows kept: no objects
        from kgraph.analysis.page_data import _KIND

        return [(iri, row[_KIND]) for iri, row in rows.items()]
    return [(iri, node.kind) for iri, node in data.nodes.items()]


def index_of(statements: Iterable[Statement], kinds: dict[str, str]) -> FlowIndex:
    """The index of these statements and nodes (terms no statement or node uses are dropped)."""
    statements = list(statements)
    terms = sorted({s for s, _, _ in statements} | {o for _, _, o in statements}
                   | kinds.keys())
    numbers = {iri: n for n, iri in enumerate(terms)}
    rows = np.array(sorted((numbers[s], p, numbers[o]) for s, p, o in statements),
                    dtype=np.int32).reshape(-1, 3)
    codes = np.array([_KIND_CODE[kinds.get(iri, "")] for iri in terms], dtype=np.int8)
    return FlowIndex(terms, codes, rows)


def whole_index(repo: Repository) -> FlowIndex:
    """The index read from the whole store."""
    store: ox.Store = repo.reader  # type: ignore[attr-defined]
    return index_of(_statements(store), _kinds(_parts(store), _known(repo)))


def _packed(statements: np.ndarray, count: int) -> np.ndarray:
    """Each (subject, predicate, object) row as one int64, in the rows' lexicographic order."""
    rows = statements.astype(np.int64)
    return (rows[:, 0] * len(FLOW_PREDICATES) + rows[:, 1]) * count + rows[:, 2]


def _unpacked(keys: np.ndarray, count: int) -> np.ndarray:
    subjects, rest = np.divmod(keys, len(FLOW_PREDICATES) * count)
    predicates, objects = np.divmod(rest, count)
    return np.stack((subjects, predicates, objects), axis=1).astype(np.int32)


def updated_index(repo: Repository, base: FlowIndex, found: Changes) -> FlowIndex:
    """The current version's index from the base version's: the statements and plan parts the
    replaced graphs held before or hold now are looked up again in the current version (a
    statement restated by an unchanged graph stays), and the nodes whose kind the explorer data
    changed; the rest is the base version's arrays, renumbered where new IRIs come in."""
    current: ox.Store = found.current
    touched: set[Statement] = set()
    subjects: set[str] = set()
    for store in (found.base.reader, current):
        for name in found.graphs:
            graph = ox.NamedNode(name)
            touched |= _statements(store, graph)
            for predicate in (_PART_OF, _TYPE):
                subjects.update(q.subject.value for q in
                                store.quads_for_pattern(None, predicate, None, graph)
                                if isinstance(q.subject, ox.NamedNode))
    present = [st for st in sorted(touched) if next(iter(current.quads_for_pattern(
        ox.NamedNode(st[0]), ox.NamedNode(FLOW_PREDICATES[st[1]]), ox.NamedNode(st[2]))), None)]
    # the IRIs whose kind as a document, agent or province is not the base index's (the
    # explorer data is updated first; reading the base version's back would cost seconds)
    terms, base_kinds = base.terms(), base.kinds.tolist()
    known = dict(_kinds({}, _known(repo)))
    relabelled = {terms[n] for n, kind in enumerate(base_kinds)
                  if KINDS[kind] in _KNOWN_KINDS and terms[n] not in known}
    for iri, kind in known.items():
        at = bisect_left(terms, iri)
        if at == len(terms) or terms[at] != iri or KINDS[base_kinds[at]] != kind:
            relabelled.add(iri)
    recheck = sorted(i for i in subjects | relabelled if safe_iri(i))
    parts = _parts(current, recheck)
    kinds = {iri: known.get(iri) or parts.get(iri, "") for iri in recheck}
    # the base terms with the new IRIs merged in (numbers shift past each one)
    mentioned = {iri for st in touched for iri in (st[0], st[2])} | kinds.keys()
    new = sorted(iri for iri in mentioned if not _holds(terms, iri))
    positions = np.array([bisect_left(terms, iri) for iri in new], dtype=np.int64)
    shifted = np.arange(len(terms), dtype=np.int64)
    shifted += np.searchsorted(positions, shifted, side="right")
    merged = list(heapq.merge(terms, new))
    count = len(merged)
    statements = base.statements.copy().astype(np.int64)
    statements[:, 0], statements[:, 2] = shifted[statements[:, 0]], shifted[statements[:, 2]]
    code = {iri: bisect_left(merged, iri) for iri in mentioned}

    def keys(found: Iterable[Statement]) -> np.ndarray:
        rows = np.array([(code[s], p, code[o]) for s, p, o in found], dtype=np.int64)
        return _packed(rows.reshape(-1, 3), count)

    kept = _packed(statements, count)
    kept = kept[~np.isin(kept, keys(touched))]
    statements = _unpacked(_distinct(np.concatenate((kept, keys(present)))), count)
    node_kinds = np.zeros(count, dtype=np.int8)
    node_kinds[shifted] = base.kinds
    for iri, kind in kinds.items():
        node_kinds[code[iri]] = _KIND_CODE[kind]
    # terms no statement or node uses any more are dropped (as a whole computation has none)
    used = node_kinds > 0
    used[statements[:, 0]] = used[statements[:, 2]] = True
    if used.all():
        return FlowIndex(merged, node_kinds, statements)
    renumbered = np.cumsum(used) - 1
    statements[:, 0], statements[:, 2] = (renumbered[statements[:, 0]],
                                          renumbered[statements[:, 2]])
    return FlowIndex([iri for iri, keep in zip(merged, used.tolist(), strict=True) if keep],
                     node_kinds[used], statements)


def _holds(terms: list[str], iri: str) -> bool:
    at = bisect_left(terms, iri)
    return at < len(terms) and terms[at] == iri


def flow_index(repo: Repository) -> FlowIndex:
    """The flow index of the store's current version, computed once per version (updated from
    the base version's when a build recorded what it changed)."""
    return derived(repo, FLOW_INDEX, lambda: _flow_index(repo))


def _flow_index(repo: Repository) -> FlowIndex:
    found = changes(repo, [FLOW_INDEX, EXPLORER_INDEX])
    base = found.base_value(FLOW_INDEX) if found is not None else None
    if found is not None and isinstance(base, FlowIndex):
        return updated_index(repo, base, found)
    return whole_index(repo)


def embedded(repo: Repository) -> bool:
    """Whether the index can be read for this store (an embedded Oxigraph store)."""
    return isinstance(getattr(repo, "reader", None), ox.Store)


def ready_index(repo: Repository) -> FlowIndex | None:
    """The current version's index when it is computed already (in memory, or kept on disk by
    the build or the warm-up), else None: a request never waits for a whole computation (the
    walk answers it meanwhile)."""
    if not embedded(repo):
        return None
    held = memory_value(repo, FLOW_INDEX)
    if held is not None:
        return held  # type: ignore[no-any-return]
    return flow_index(repo) if has_version_value(repo, FLOW_INDEX) else None
