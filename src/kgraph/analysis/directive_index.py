"""Directive coverage in the build: from the plans' records, and incremental.

:func:`kgraph.analysis.coverage.compute_directive_coverage` reads every plan carrying a
directive out from the store (tasks, duties, bodies) and re-aligns them all: 56 s for one
directive of 400 plans at 2,000 plans, never finished at 20,000. The build does better:

* **records, not store reads.** Each worker turns the graph it has just mapped into the plan's
  :class:`~kgraph.analysis.coverage.PlanRecord` (leaf tasks, the duties covering each, the
  duties' bodies) and keeps it next to the store by content key (``derived/documents``): it
  survives every build that leaves the document unchanged. The stage reads the lineage once
  (which plan carries out what, :class:`Lineage`), then only records.
* **one graph per directive and per province.** The directive's graph holds its tasks; each
  province's graph its cells and restatements. A changed plan rewrites its province's graph
  and the directive's (a few hundred triples), not the whole matrix.
* **the alignment kept and continued.** With the stored coverage of a directive goes its
  :class:`~kgraph.analysis.alignment.AlignmentState` (clusters, their vector sums, the fitted
  vectoriser), kept under a key of the exact set of plan versions it was computed from. A
  re-build after changed plans finds the state of the set before the change, takes each
  changed plan's old items out of their clusters and places its new items exactly as the
  progressive alignment places every later plan (:meth:`AlignmentState.place`); the other
  plans' placements and scores stay as they were. The state is kept as a head (model, sums,
  per cluster its members' plans, scores and positions: 2 MB for a 4,000-plan directive) and
  one part per province holding its items (:class:`StateHead`, :class:`StatePart`, parts by
  content): such a build reads the head and the parts of the provinces its plans leave and
  join, writes those back and a new head, and writes the province's graph by its differing
  triples only (``build._VersionView.replace_graphs``).

* **the named query's answer kept** (:mod:`kgraph.analysis.coverage_answer`): the rows of
  ``directive-coverage`` per province, written with the province's graph.
* **directives side by side**: when every directive is aligned again, one forked process per
  core aligns them (they are independent), the store read first in the build's process.

The incremental rule, and when it does not apply: the other plans keep their clusters (a full
alignment might place a few of them differently, since the progressive alignment depends on
order); the vectoriser keeps the vocabulary and IDF of the last full alignment; a reconstructed
outline's leave-one-out scores of unchanged items stay as computed then. Everything is
recomputed from scratch (records still, no store scan) when no state matches, when the outline
source (the directive's own text, or the national plan) is new, changed or gone, when a plan
disappeared (other than by the build removing its graph: then it only leaves its clusters), when
an unchanged plan's lineage or province changed, or on a full build.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import multiprocessing
import os
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kgraph.analysis import alignment as al
from kgraph.analysis import coverage as cov
from kgraph.analysis import coverage_answer as answer
from kgraph.store.derived import (
    document_value,
    drop_document_value,
    graph_digest,
    has_document_value,
    keep_document_pickle,
    keep_document_value,
)
from kgraph.store.embedded import Repository, as_stored, stored_lines

_PACKAGE = Path(__file__).resolve().parent


@functools.cache
def fingerprint() -> str:
    """Changes with the code that makes records, aligns and writes the coverage."""
    digest = hashlib.sha256()
    for name in ("coverage.py", "alignment.py", "directive_index.py"):
        digest.update((_PACKAGE / name).read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def record_fingerprint() -> str:
    """Changes with the code that makes a record (not with the alignment's or the writing's:
    a record missing costs a store read, 0.15 s a plan)."""
    import inspect

    digest = hashlib.sha256(repr((cov.COVERAGE_THRESHOLD, cov.PlanRecord.__annotations__))
                            .encode())
    for function in (cov.plan_record, cov.cover, cov.sentences, cov.similarity_matrix,
                     cov._terms, cov.records_from_store, cov._items):
        digest.update(inspect.getsource(function).encode())
    return digest.hexdigest()[:12]


def record_key(graph: str, sha256: str) -> str:
    """Where a document's record is kept (``derived/documents/<key>.pickle``)."""
    graph_part = hashlib.sha256(graph.encode("utf-8")).hexdigest()[:16]
    return f"directive-record-{record_fingerprint()}-{graph_part}-{sha256[:24]}"


def lineage_key(sources: dict[str, str]) -> str:
    """The key of the lineage of a store holding these source graphs (graph -> text hash)."""
    for known, key in _KEYS:  # a build's sources after are the next build's sources before
        if known == sources:
            return key
    graphs = sorted(sources)  # the graphs, then their hashes: two joins, not 20,000 lines
    digest = hashlib.sha256("\n".join(graphs).encode())  # (an IRI holds no line break)
    digest.update(b"\n\n")
    digest.update("\n".join(map(sources.__getitem__, graphs)).encode())
    key = f"directive-lineage-{fingerprint()}-{digest.hexdigest()[:32]}"
    _KEYS[:] = [(dict(sources), key), *_KEYS][:2]
    return key


# The last sources whose lineage key this process made, and their keys (20,000 lines to sort
# and hash; comparing two dictionaries costs a millisecond).
_KEYS: list[tuple[dict[str, str], str]] = []


def kept_lineage(repo: Repository, root: Path | None, before: dict[str, str],
                 after: dict[str, str], *, hold: bool = False) -> Lineage:
    """The lineage of the store holding ``after`` (graph -> source text hash), kept for it in
    parts (:class:`LineageIndex`). With a few graphs changed since ``before`` (a one-plan
    build): only the parts those graphs and the documents they name touch are read, and the
    :class:`Lineage` returned holds those parts only, enough for the directives the changed
    documents carry out (:meth:`Lineage.groups`, :meth:`Lineage.implementing`); else the
    lineage kept for ``before`` with the changed graphs read again, or the store's read whole.
    ``hold``: the parts written are held for this process's next build."""
    changed = sorted(g for g in set(before) | set(after) if before.get(g) != after.get(g))
    old_key, new_key = lineage_key(before), lineage_key(after)  # 20,000 lines each to hash
    kept = _held_value(root, old_key) if root is not None else None
    small = len(changed) <= max(50, len(after) // 10)
    if (isinstance(kept, LineageIndex) and getattr(kept, "layout", None) == LAYOUT and small
            and root is not None):
        found = _continued(repo, root, kept, changed)
        if found is not None:
            lineage, loaded = found
            _keep_continued(root, new_key, kept, loaded, lineage, changed, hold)
            if old_key != new_key:
                drop_document_value(root, old_key)
            return lineage
    whole, dropped = _whole(root, old_key, kept)  # an older layout's value: read once
    lineage = whole.updated(repo, changed) if whole is not None and small else Lineage.read(repo)
    if root is not None:
        index = _keep_index(root, new_key, lineage, hold)
        for key in {old_key, *dropped} - {new_key}:
            drop_document_value(root, key)
        if isinstance(kept, LineageIndex):  # its parts the new index does not share
            for key in set(kept.parts.values()) - set(index.parts.values()):
                drop_document_value(root, key)
    return lineage


LONE = " lone "  # the parts of the graphs in no head's group: LONE and two hex digits (an IRI
LONE_PARTS = 256  # holds no space), by the graph's name, so one holds a 256th of them


def _lone_part(graph: str) -> str:
    """The part of the lone graphs ``graph`` belongs to, when it is in no head's group."""
    digest = hashlib.sha256(graph.encode("utf-8")).digest()[0] % LONE_PARTS
    return f"{LONE}{digest:02x}"


def _is_lone(name: str) -> bool:
    return name.startswith(LONE)


@dataclass
class LineageIndex:
    """A store's lineage kept in parts (a national one is 20 MB, 0.1-0.2 CPU-s to read whole,
    and a one-plan build needs the directive its plan carries out): one part per head, the
    graphs that mention it or a document carrying it out (directly or through others), and
    the graphs in no head's part spread over :data:`LONE_PARTS` small parts by name. The heads
    are the directive documents and the roots of the ``implements`` relation (documents others
    carry out that carry out nothing: a Thủ tướng decision, a Government resolution, a law, a
    plan on top of its own chain), so a plan carrying out no directive reads its roots' parts,
    not one part of every such plan that grows with the store (:func:`_heads`). A graph is kept
    whole in every part holding it. ``holders`` names, for each graph and each document a
    part's graphs mention, the parts mentioning it: a build reads the parts of its changed
    graphs and of the documents they name, then of any document its walks reach beyond the
    groups read (:func:`_continued`)."""

    parts: dict[str, str]  # head IRI (or a lone part's name) -> its part's key
    numbers: dict[str, list[str]]  # directive number -> the directives bearing it
    holders: dict[str, tuple[str, ...]]  # graph or document -> the parts mentioning it
    labels: dict[str, str]  # province IRI -> label
    layout: str  # LAYOUT (an index kept by older code has none: read whole once, kept again)


LAYOUT = "roots"  # parts per directive and per root, lone parts (before: the rest in one)


def _mentions(lineage: Lineage) -> dict[str, set[str]]:
    """Graph -> the documents it mentions (edges' ends, their targets, its source plan)."""
    found: dict[str, set[str]] = defaultdict(set)
    for graph, edges in lineage.edges.items():
        named = found[graph]
        for plan, target in edges:
            named.add(plan)
            named.add(target)
    for graph, targets in lineage.targets.items():
        found[graph].update(document for document, _ in targets)
    for iri, plan in lineage.plans.items():
        found[plan.graph].add(iri)
    return found


def _heads(lineage: Lineage) -> set[str]:
    """The documents whose groups are parts: the directives, and the roots (a document some
    graph carries out that carries out nothing; a plan nobody carries out is no head)."""
    parents = lineage.parents
    return set(lineage.directive_numbers) | {
        document for document, carriers in lineage.carried_by.items()
        if carriers and not parents.get(document)}


def _touched(lineage: Lineage, loaded: dict[str, Lineage], changed: Iterable[str]) -> set[str]:
    """The documents the changed graphs mention, before (in the parts read) and after: the
    only documents whose being a head can change."""
    gone = set(changed)
    found = set().union(*_mentions(lineage.part(gone)).values())
    for part in loaded.values():
        found.update(*_mentions(part.part(gone)).values())
    return found


def _group_graphs(lineage: Lineage, directives: Iterable[str],
                  mentions: dict[str, set[str]]) -> dict[str, set[str]]:
    """Head -> the graphs of its part: those mentioning it or a document below it."""
    mentioned_in: dict[str, list[str]] = defaultdict(list)
    for graph, named in mentions.items():
        for document in named:
            mentioned_in[document].append(graph)
    found: dict[str, set[str]] = {}
    for directive in directives:
        below = cov.ancestors(directive, lineage.carried_by) | {directive}
        found[directive] = {graph for document in below
                            for graph in mentioned_in.get(document, ())}
    return found


def _part(lineage: Lineage, graphs: set[str]) -> Lineage:
    part = lineage.part(graphs)
    part.labels = {}  # (the index holds them)
    return part


def _keep_part(root: Path, part: Lineage, hold: bool) -> str:
    """Where ``part`` is kept: by content, so an unchanged part is written once and shared by
    the indexes of successive source sets."""
    import pickle

    pickled = pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)
    key = f"directive-lineage-{fingerprint()}-part-{hashlib.sha256(pickled).hexdigest()[:32]}"
    if not has_document_value(root, key):
        keep_document_pickle(root, key, pickled)
    identity = _identity(root, key) if hold else None
    if identity is not None:
        _hold(root, key, part, identity)
    return key


def _holders(parts: dict[str, set[str]], mentions: dict[str, set[str]],
             into: dict[str, tuple[str, ...]]) -> None:
    """Name each part (name -> its graphs) in ``into`` for its graphs and their documents."""
    added: dict[str, set[str]] = defaultdict(set)
    for name, graphs in parts.items():
        for graph in graphs:
            added[graph].add(name)
            for document in mentions.get(graph, ()):
                added[document].add(name)
    for node, names in added.items():
        into[node] = tuple(sorted(names.union(into.get(node, ()))))


def _keep_index(root: Path, key: str, lineage: Lineage, hold: bool) -> LineageIndex:
    """Keep a whole lineage in parts under ``key``; the index."""
    mentions = _mentions(lineage)
    graphs = _group_graphs(lineage, sorted(_heads(lineage)), mentions)
    for graph in set(mentions) - set().union(*graphs.values()):
        graphs.setdefault(_lone_part(graph), set()).add(graph)
    holders: dict[str, tuple[str, ...]] = {}
    _holders(graphs, mentions, holders)
    numbers: dict[str, list[str]] = defaultdict(list)
    for directive, bearing in sorted(lineage.directive_numbers.items()):
        for number in bearing:
            numbers[number].append(directive)
    index = LineageIndex({name: _keep_part(root, _part(lineage, part), hold)
                          for name, part in sorted(graphs.items())},
                         dict(numbers), holders, dict(lineage.labels), LAYOUT)
    _keep_full(root, key, index, hold)
    return index


def _merged(parts: Iterable[Lineage], labels: dict[str, str]) -> Lineage:
    """The lineage of these parts' graphs, each plan named by ``labels``' province label (a
    part keeps the label of when it was written; :meth:`Lineage.replaced` relabels so)."""
    edges: dict[str, list[tuple[str, str]]] = {}
    targets: dict[str, list[tuple[str, str]]] = {}
    plans: dict[str, SourcePlan] = {}
    for part in parts:
        edges.update(part.edges)
        targets.update(part.targets)
        plans.update(part.plans)
    plans = {iri: p if labels.get(p.province_iri, p.province) == p.province
             or not p.province_iri
             else SourcePlan(p.iri, p.number, labels[p.province_iri], p.province_iri, p.graph,
                             p.sha256) for iri, p in plans.items()}
    return Lineage(edges, targets, plans, dict(labels))


def _continued(repo: Repository, root: Path, index: LineageIndex, changed: list[str]
               ) -> tuple[Lineage, dict[str, Lineage]] | None:
    """The lineage after ``changed`` graphs were read again, from the parts they touch: those
    holding the changed graphs or a document they name (the parts whose content or group can
    change), then, until nothing more is read, those mentioning a document the walks reach
    outside the groups read (up from the changed documents to the directives they carry out,
    down from every head read or new, and from the directives bearing the same numbers): a
    group read holds every graph mentioning one of its documents, so a walk inside it needs no
    other part; a document the changed graphs mention that may have become a head has every
    part mentioning it read. A lone part is read when a graph must join it. Returns the lineage
    and the parts read (name -> part, as they were); None when a part is not kept."""
    fresh = Lineage.read(repo, changed)
    loaded: dict[str, Lineage] = {}
    groups: set[str] = set()  # documents of the groups read (and their directives)
    labels = {**index.labels, **fresh.labels}

    def read(names: Iterable[str]) -> bool | None:
        wanted = sorted({part for name in names for part in index.holders.get(name, ())}
                        - set(loaded))
        for name in wanted:
            part = _held_value(root, index.parts.get(name, ""))
            if not isinstance(part, Lineage):
                return None
            loaded[name] = part
            if not _is_lone(name):
                groups.update(cov.ancestors(name, part.carried_by) | {name})
        return bool(wanted)

    def read_lone(names: list[str]) -> bool | None:
        for name in names:
            part = _held_value(root, index.parts[name])
            if not isinstance(part, Lineage):
                return None
            loaded[name] = part
        return bool(names)

    if read([*changed, *set().union(*_mentions(fresh).values())]) is None:
        return None
    touched = _touched(fresh, loaded, changed)  # (every part holding a changed graph read)
    while True:
        lineage = _merged(loaded.values(), labels).replaced(changed, fresh)
        reached = _reached(lineage, index, loaded, set(changed), touched)
        outside = [node for node in reached if node not in groups
                   and not set(index.holders.get(node, ())) <= set(loaded)]
        found = read(outside)
        if found is None:
            return None
        if found:
            continue
        joining = {_lone_part(graph) for graph in _rest(lineage, index, loaded, touched)}
        found = read_lone(sorted(name for name in joining - set(loaded) if name in index.parts))
        if found is None:
            return None
        if found:
            continue
        return lineage, loaded


def _reached(lineage: Lineage, index: LineageIndex, loaded: dict[str, Lineage],
             changed: set[str], touched: set[str]) -> set[str]:
    """The documents the stage's walks reach in ``lineage``: up from the changed graphs'
    documents, down from the directives they carry out (and those bearing the same numbers),
    from the heads whose parts are read and from those it makes (:func:`_rewritten`); and the
    documents ``touched`` that look like heads in the parts read (every graph mentioning one
    must be read to know whether it carries something out)."""
    documents = {iri for iri, plan in lineage.plans.items() if plan.graph in changed}
    up = documents | {document for plan in documents
                      for document in cov.ancestors(plan, lineage.parents)}
    numbers = {n for document in up for n in lineage.directive_numbers.get(document, ())}
    directives = {d for n in numbers for d in index.numbers.get(n, ())}
    directives.update(d for d, bearing in lineage.directive_numbers.items() if bearing & numbers)
    directives.update(d for d in _rewritten(lineage, index, loaded, touched)  # (a document
                      if set(index.holders.get(d, ())) <= set(loaded))  # only looking one: not)
    directives.update(d for d in loaded if not _is_lone(d))
    reached = up | directives | (_heads(lineage) & touched)
    for directive in directives:
        reached |= cov.ancestors(directive, lineage.carried_by)
    return reached


def _rest(lineage: Lineage, index: LineageIndex, loaded: dict[str, Lineage],
          touched: set[str], mentions: dict[str, set[str]] | None = None,
          graphs: dict[str, set[str]] | None = None) -> set[str]:
    """The graphs of ``lineage`` in no head's part after the change: the lone parts' (those
    of the heads' parts not read stay in them). ``graphs``: the heads' parts, when made."""
    mentions = _mentions(lineage) if mentions is None else mentions
    if graphs is None:
        graphs = _group_graphs(lineage, _rewritten(lineage, index, loaded, touched), mentions)
    grouped = set().union(*(part for name, part in graphs.items() if not _is_lone(name)))
    return {graph for graph in mentions if graph not in grouped and all(
        name in loaded or _is_lone(name) for name in index.holders.get(graph, ()))}


def _rewritten(lineage: Lineage, index: LineageIndex, loaded: dict[str, Lineage],
               touched: set[str]) -> list[str]:
    """The heads whose parts a continued build writes: those read (if still heads), and the
    new ones, among the documents ``touched`` (only theirs being a head can change; a part
    read is exact about its head, a document elsewhere may carry out what is not read)."""
    return sorted(d for d in _heads(lineage)
                  if d in loaded or (d not in index.parts and d in touched))


def _keep_continued(root: Path, key: str, index: LineageIndex, loaded: dict[str, Lineage],
                    lineage: Lineage, changed: list[str], hold: bool) -> None:
    """Keep the index after a continued build under ``key``: the parts read replaced by the
    heads' parts now (of the heads read, and of those the change makes), the lone parts read
    or joined, the others as they are; only the holders of the documents a part gained or
    lost change."""
    mentions = _mentions(lineage)
    touched = _touched(lineage, loaded, changed)
    graphs = _group_graphs(lineage, _rewritten(lineage, index, loaded, touched), mentions)
    for graph in _rest(lineage, index, loaded, touched, mentions, graphs):
        graphs.setdefault(_lone_part(graph), set()).add(graph)
    gone = set(changed)
    holders = dict(index.holders)
    for name in {*loaded, *graphs}:
        after = set(graphs.get(name, ())).union(*(mentions[g] for g in graphs.get(name, ())))
        before: set[str] = set()
        part = loaded.get(name)
        if part is not None:  # (an unchanged graph names what it named)
            held = {*part.edges, *part.targets, *(p.graph for p in part.plans.values())}
            before = held.union(*(mentions[g] for g in held - gone),
                                *(_mentions(part.part(held & gone)).values()))
        for node in before - after:
            left = tuple(h for h in holders.get(node, ()) if h != name)
            if left:
                holders[node] = left
            else:
                holders.pop(node, None)
        for node in after - before:
            holders[node] = tuple(sorted({name, *holders.get(node, ())}))
    parts = {name: k for name, k in index.parts.items() if name not in loaded}
    for name, part_graphs in graphs.items():
        same = loaded.get(name)
        if same is not None and not part_graphs & gone and part_graphs == {
                *same.edges, *same.targets, *(p.graph for p in same.plans.values())}:
            parts[name] = index.parts[name]  # its graphs as they were: the same part
        else:
            parts[name] = _keep_part(root, _part(lineage, part_graphs), hold)
    numbers: dict[str, list[str]] = defaultdict(list)
    for number, bearing in index.numbers.items():
        numbers[number].extend(d for d in bearing if d not in loaded and d in parts)
    for directive in sorted(graphs):
        for number in lineage.directive_numbers.get(directive, ()):
            numbers[number].append(directive)
    _keep_full(root, key, LineageIndex(
        dict(sorted(parts.items())), {n: sorted(ds) for n, ds in sorted(numbers.items()) if ds},
        holders, dict(lineage.labels), LAYOUT), hold)
    for dropped in set(index.parts.values()) - set(parts.values()):
        drop_document_value(root, dropped)


def _whole(root: Path | None, key: str, kept: object) -> tuple[Lineage | None, list[str]]:
    """A lineage kept by older code under ``key`` (a full one, a delta on a full one, or an
    index of another layout, its parts merged), and the keys it was kept under beside ``key``
    (not an index's parts: the caller drops those the new index does not share): read once,
    then kept in parts."""
    if isinstance(kept, LineageIndex) and root is not None:
        parts = [_held_value(root, part) for part in kept.parts.values()]
        return (_merged(parts, kept.labels)  # type: ignore[arg-type]
                if all(isinstance(part, Lineage) for part in parts) else None), []
    if isinstance(kept, LineageDelta) and root is not None:
        base = _held_value(root, kept.base)
        return (base.replaced(kept.graphs, kept.part) if isinstance(base, Lineage) else None,
                [kept.base])
    return (kept if isinstance(kept, Lineage) else None), []


# The full lineage, the states' heads and parts this process read or wrote last, while their
# files are unchanged: a process building one plan after another (a server, the loaded
# benchmark) does not read them again (the lineage: 20 MB, 0.3-0.6 s at 20,000 plans). Held
# values are never changed after (a build makes new ones), and a few at most.
_HELD: OrderedDict[tuple[str, str], tuple[tuple[int, int, int], object]] = OrderedDict()
HELD = 24  # the lineage, and a few directives' heads (2 MB) and parts (0.2 MB)


def _identity(root: Path, key: str) -> tuple[int, int, int] | None:
    try:
        found = os.stat(os.path.join(root, "derived", "documents", f"{key}.pickle"))
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def _held_value(root: Path, key: str) -> object:
    """:func:`document_value`, from memory when this process holds the same file's value."""
    identity = _identity(root, key)
    if identity is None:
        return None
    held = _HELD.get((str(root), key))
    if held is not None and held[0] == identity:
        _HELD.move_to_end((str(root), key))
        return held[1]
    value = document_value(root, key)
    if isinstance(value, (Lineage, StateHead, StatePart)):
        _hold(root, key, value, identity)
    return value


def _keep_full(root: Path, key: str, value: Lineage | StateHead | StatePart,
               hold: bool) -> None:
    """:func:`keep_document_value`, the value held for the next build of this process when
    ``hold`` (an incremental build: a full one holds nothing past its stage)."""
    keep_document_value(root, key, value)
    identity = _identity(root, key) if hold else None
    if identity is not None:
        _hold(root, key, value, identity)


def _hold(root: Path, key: str, value: object, identity: tuple[int, int, int]) -> None:
    _HELD[(str(root), key)] = (identity, value)
    _HELD.move_to_end((str(root), key))
    while len(_HELD) > HELD:
        _HELD.popitem(last=False)


def state_key(directive_iri: str, versions: dict[str, str]) -> str:
    """The key of a directive's state: the directive and each plan's source text hash."""
    digest = hashlib.sha256(directive_iri.encode("utf-8"))
    for plan, sha in sorted(versions.items()):
        digest.update(f"\n{plan} {sha}".encode())
    return f"directive-state-{fingerprint()}-{digest.hexdigest()[:32]}"


# ---------------------------------------------------------------------------- what is live

def live_keys(repo: Repository, root: Path, sources: Sequence[dict[str, str]],
              kept: Iterable[str], *, thorough: bool = False
              ) -> dict[str, set[str] | None]:
    """The stage's kept values a build can ask for again (:func:`kgraph.analysis.sweep.sweep`),
    ``sources`` being the source graphs (graph -> text hash) of the
    store's current version, then of the one before it:

    * records: of those documents, under this code's :func:`record_fingerprint`;
    * lineages: the indexes of either source set (and those this process keyed last, a
      build's before and after) and their parts (an older layout's: the full one a kept
      delta is based on);
    * states: per directive several plans carry out (the current lineage's groups, as
      :func:`update` finds them), the head of its plans' texts now and before. Without a
      kept lineage (a build without the stage) the lineage is read from the store when
      ``thorough``, else every head of this :func:`fingerprint` stays;
    * parts: those the live heads name, read when a head of those ``kept`` is not live (or
      ``thorough``). Else every part stays: a one-plan build drops the parts it replaces
      itself, and reads no other directive's head (2 MB at 20,000 plans).

    A key of another fingerprint is not live. By the keys' family (``directive-record``,
    ``-lineage``, ``-state``, ``-part``; None: every key of the family)."""
    record_prefix = f"directive-record-{record_fingerprint()}-"
    records = {f"{record_prefix}{graph_digest(graph)}-{sha256[:24]}"
               for graph, sha256 in set().union(*(v.items() for v in sources))}
    lineages = {key for _, key in _KEYS}  # before lineage_key below reorders them
    keys = [lineage_key(version) for version in sources]
    lineages.update(keys)
    lineage, named = _kept_lineage(root, keys[0])
    lineages.update(named)
    for key in lineages - {keys[0], *named}:  # the others' parts (or an older layout's base)
        lineages.update(_lineage_keys(_peek(root, key)))
    if lineage is None and thorough:
        lineage = Lineage.read(repo)
    heads: set[str] | None = None
    if lineage is not None:
        heads = set()
        for number in sorted(lineage.members()):
            found_directive = cov.directive_of(repo, number)
            if found_directive is None:
                continue
            iri = found_directive[0]  # its plans as :meth:`Lineage.implementing` finds them
            plans = [lineage.plans[p] for p in lineage.chains(iri) if p != iri
                     and p in lineage.plans]
            if not plans:
                continue
            heads.add(state_key(iri, {p.iri: p.sha256 for p in plans}))
            for version in sources[1:]:
                heads.add(state_key(iri, {p.iri: version[p.graph] for p in plans
                                          if p.graph in version}))
    state_prefix = f"directive-state-{fingerprint()}-"
    lineage_prefix = f"directive-lineage-{fingerprint()}-"
    kept_heads = sorted(k for k in kept if k.startswith("directive-state-"))
    live_heads = [k for k in kept_heads if k.startswith(state_prefix)
                  and (heads is None or k in heads)]
    parts: set[str] | None = None  # None: every part stays
    bases: set[str] = set()  # of the live heads older code kept as deltas
    if thorough or len(live_heads) < len(kept_heads):
        parts = set()
        for key in live_heads:
            head = _peek(root, key)
            if isinstance(head, StateDelta):  # kept by older code: its base is read with it
                bases.add(head.base)
            elif isinstance(head, StateHead):
                parts.update(head.parts.values())

    return {"directive-record": records,
            "directive-lineage": {k for k in lineages if k.startswith(lineage_prefix)},
            "directive-state": {*live_heads, *bases},
            "directive-part": parts}


def _kept_lineage(root: Path, key: str) -> tuple[Lineage | None, set[str]]:
    """The whole lineage kept under ``key`` (every part of its index merged; an older
    layout's delta applied to its base) and the keys it is kept under beside ``key``."""
    kept = _held_value(root, key)
    if isinstance(kept, LineageIndex):
        parts = [_held_value(root, part) for part in kept.parts.values()]
        whole = (_merged(parts, kept.labels)  # type: ignore[arg-type]
                 if all(isinstance(part, Lineage) for part in parts) else None)
        return whole, _lineage_keys(kept)
    return _whole(root, key, kept)[0], _lineage_keys(kept)


def _lineage_keys(kept: object) -> set[str]:
    """The keys a kept lineage value names: an index's parts, an older delta's base."""
    if isinstance(kept, LineageIndex):
        return set(kept.parts.values())
    return {kept.base} if isinstance(kept, LineageDelta) else set()


def _peek(root: Path, key: str) -> object:
    """The value kept under ``key``, from memory when this process holds the same file's
    value (never held after: a sweep reads each head once)."""
    identity = _identity(root, key)
    if identity is None:
        return None
    held = _HELD.get((str(root), key))
    if held is not None and held[0] == identity:
        return held[1]
    return document_value(root, key)


# ---------------------------------------------------------------------------- the lineage

@dataclass(frozen=True)
class SourcePlan:
    iri: str
    number: str
    province: str  # label, "" when the plan names none
    province_iri: str
    graph: str
    sha256: str


@dataclass
class LineageDelta:
    """A lineage kept as the full one of an earlier source set (``base``, its key) and the
    entries of the graphs read again since: a one-plan build of a national store writes a few
    kilobytes instead of the 20 MB lineage (it still reads the full one)."""

    base: str
    graphs: list[str]
    part: Lineage


@dataclass
class Lineage:
    """Which source plan carries out which document, read once for every directive (a few
    corpus-wide reads instead of :func:`kgraph.analysis.coverage.implementing_plans`' per
    directive), kept per named graph so that a re-build re-reads only the changed graphs."""

    edges: dict[str, list[tuple[str, str]]]  # graph -> its kg:implements edges
    targets: dict[str, list[tuple[str, str]]]  # graph -> (target, number) of its edges' targets
    plans: dict[str, SourcePlan]  # source documents
    labels: dict[str, str]  # province IRI -> label
    numbers: dict[str, str] = field(default_factory=dict)  # other documents' numbers (chains)

    @classmethod
    def read(cls, repo: Repository, graphs: Sequence[str] | None = None) -> Lineage:
        """The lineage of the whole store, or of these ``graphs`` only."""
        scope = (f"VALUES ?g {{ {cov._values(graphs)} }}" if graphs is not None else "")
        edges: dict[str, list[tuple[str, str]]] = defaultdict(list)
        # Two reads, not one with OPTIONAL: Oxigraph evaluates ``GRAPH ?g { ... OPTIONAL }``
        # over every graph before joining the VALUES of a few (2.8 s instead of 5 ms for one
        # plan's lineage at 20,000 plans).
        for row in cov._records(repo, f"""
                SELECT ?g ?s ?o WHERE {{ {scope} GRAPH ?g {{ ?s kg:implements ?o }} }}"""):
            edges[row["g"] or ""].append((row["s"] or "", row["o"] or ""))
        targets: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in cov._records(repo, f"""
                SELECT ?g ?d ?n WHERE {{ {scope}
                  GRAPH ?g {{ ?x kg:implements ?d . ?d eli:id_local ?n }} }}"""):
            targets[row["g"] or ""].append((row["d"] or "", row["n"] or ""))
        found: dict[str, dict[str, str]] = {}
        # each in its own graph, no OPTIONAL: 0.8 + 0.3 s at 2,000 plans, 2.5 s as one query
        for row in cov._records(repo, f"""
                SELECT ?plan ?number ?g ?sha WHERE {{ {scope} GRAPH ?g {{
                  ?plan kg:sourceFile ?file . ?file kg:sha256 ?sha . ?plan eli:id_local ?number
                }} }}"""):
            plan = row["plan"] or ""
            old = found.get(plan)
            if old is None or (row["number"] or "") < old["number"]:
                found[plan] = {"number": row["number"] or "", "g": row["g"] or "",
                               "sha": row["sha"] or "", "p": ""}
        for row in cov._records(repo, f"""
                SELECT ?plan ?p WHERE {{ {scope}
                  GRAPH ?g {{ ?plan kg:sourceFile ?file ; kg:province ?p }} }}"""):
            entry = found.get(row["plan"] or "")
            if entry is not None and row["p"] and (not entry["p"] or row["p"] < entry["p"]):
                entry["p"] = row["p"]
        labels: dict[str, str] = {}
        wanted = sorted({f["p"] for f in found.values() if f["p"]})
        if wanted:
            # Two reads, joined here: a province is typed and labelled in every graph naming
            # it (thousands at national scale), and the union graph's join of the two
            # statements is their product (a million rows for one province at 20,000 plans).
            provinces = {row["p"] for row in cov._records(repo, f"""
                    SELECT DISTINCT ?p WHERE {{ VALUES ?p {{ {cov._values(wanted)} }}
                      ?p a kg:Province }}""")}
            for row in cov._records(repo, f"""
                    SELECT DISTINCT ?p ?label WHERE {{ VALUES ?p {{ {cov._values(wanted)} }}
                      ?p skos:prefLabel ?label }}"""):
                p, label = row["p"] or "", row["label"] or ""
                if row["p"] in provinces and (p not in labels or label < labels[p]):
                    labels[p] = label
        plans = {iri: SourcePlan(iri, f["number"], labels.get(f["p"], "") if f["p"] else "",
                                 f["p"], f["g"], f["sha"]) for iri, f in found.items()}
        return cls(dict(edges), dict(targets), plans, labels)

    def updated(self, repo: Repository, graphs: Sequence[str]) -> Lineage:
        """This lineage with ``graphs`` read again (a re-build: the changed documents')."""
        return self.replaced(graphs, Lineage.read(repo, graphs))

    def replaced(self, graphs: Iterable[str], fresh: Lineage) -> Lineage:
        """This lineage with the entries of ``graphs`` replaced by ``fresh``'s (their new
        reading, or a kept :class:`LineageDelta`'s part)."""
        gone = set(graphs)
        edges = {g: e for g, e in self.edges.items() if g not in gone} | fresh.edges
        targets = {g: t for g, t in self.targets.items() if g not in gone} | fresh.targets
        plans = {iri: p for iri, p in self.plans.items() if p.graph not in gone} | fresh.plans
        labels = {**self.labels, **fresh.labels}
        plans = {iri: p if labels.get(p.province_iri, p.province) == p.province
                 or not p.province_iri
                 else SourcePlan(p.iri, p.number, labels[p.province_iri], p.province_iri,
                                 p.graph, p.sha256) for iri, p in plans.items()}
        return Lineage(edges, targets, plans, labels)

    def part(self, graphs: Iterable[str]) -> Lineage:
        """Only the entries of ``graphs`` (and every province label)."""
        wanted = set(graphs)
        return Lineage({g: e for g, e in self.edges.items() if g in wanted},
                       {g: t for g, t in self.targets.items() if g in wanted},
                       {iri: p for iri, p in self.plans.items() if p.graph in wanted},
                       dict(self.labels))

    @functools.cached_property
    def carried_by(self) -> dict[str, set[str]]:
        """Document -> the documents carrying it out (kg:implements, in any graph)."""
        found: dict[str, set[str]] = defaultdict(set)
        for edges in self.edges.values():
            for plan, target in edges:
                found[target].add(plan)
        return found

    @functools.cached_property
    def directive_numbers(self) -> dict[str, set[str]]:
        """A directive's IRI -> its numbers (a Party directive, resolution or conclusion)."""
        found: dict[str, set[str]] = defaultdict(set)
        for targets in self.targets.values():
            for document, number in targets:
                if cov._DIRECTIVE.search(number):
                    found[document].add(number)
        return found

    @functools.cached_property
    def parents(self) -> dict[str, set[str]]:
        """Document -> the documents it carries out directly (``carried_by`` inverted)."""
        found: dict[str, set[str]] = defaultdict(set)
        for target, plans in self.carried_by.items():
            for plan in plans:
                found[plan].add(target)
        return found

    def members(self, plans: Iterable[str] | None = None, also: Iterable[str] = ()
                ) -> dict[str, set[str]]:
        """Directive number -> the source plans carrying it out, directly or through others,
        where they are two or more (:func:`kgraph.analysis.coverage.directive_members`, the
        rule :func:`kgraph.analysis.coverage.directive_groups` follows too). ``plans``: only
        the directives these carry out (a one-plan build of a national store), and ``also``
        (numbers: those a removed plan carried out)."""
        wanted = None if plans is None else {
            directive for plan in plans for target in cov.ancestors(plan, self.parents)
            for directive in self.directive_numbers.get(target, ())} | set(also)
        found = cov.directive_members(self.directive_numbers, self.carried_by,
                                      self.plans.keys(), wanted)
        return {d: members for d, members in found.items() if len(members) > 1}

    def groups(self, plans: Iterable[str] | None = None, also: Iterable[str] = ()
               ) -> dict[str, list[str]]:
        """:meth:`members` in order: directives by number, each one's plans by plan number."""
        return {d: sorted(members, key=lambda p: (self.plans[p].number, p))
                for d, members in sorted(self.members(plans, also).items())}

    def carried_out(self, gone: Lineage) -> dict[str, set[str]]:
        """Each plan of ``gone`` (the lineage of graphs the build removed, as the store held
        them) -> the numbers of the directives it carried out, directly or through the
        documents this lineage still holds: their coverage must lose it."""
        found: dict[str, set[str]] = {}
        for plan in gone.plans:
            above = set(gone.parents.get(plan, ()))
            for target in list(above):
                above |= cov.ancestors(target, self.parents)
            found[plan] = {number for target in above
                           for number in (*self.directive_numbers.get(target, ()),
                                          *gone.directive_numbers.get(target, ()))}
        return found

    def chains(self, directive_iri: str, depth: int = 5) -> dict[str, list[str]]:
        """The documents carrying the directive out, directly or through others (up to
        ``depth`` steps), each with the documents between it and the directive (the longest
        chain wins); the directive itself with none."""
        chains: dict[str, list[str]] = {directive_iri: []}
        frontier = [directive_iri]
        for _ in range(depth):
            following = []
            for target in frontier:
                for plan in sorted(self.carried_by.get(target, ())):
                    if plan != directive_iri and plan not in chains[target]:
                        chains[plan] = [target, *chains[target]]
                        following.append(plan)
            frontier = following
        return chains

    def implementing(self, repo: Repository, directive_iri: str, depth: int = 5
                     ) -> list[cov.ImplementingPlan]:
        """:func:`kgraph.analysis.coverage.implementing_plans` from the lineage read once."""
        chains = self.chains(directive_iri, depth)
        found = [plan for plan in chains if plan != directive_iri and plan in self.plans]
        missing = {d for plan in found for d in chains[plan][:-1]
                   if d not in self.plans and d not in self.numbers}
        if missing:
            for row in cov._records(repo, f"""
                    SELECT DISTINCT ?d ?n WHERE {{ VALUES ?d {{ {cov._values(sorted(missing))} }}
                      ?d kg:numberKey ?key ; eli:id_local ?n }}"""):
                self.numbers[row["d"] or ""] = min(row["n"] or "", self.numbers.get(
                    row["d"] or "", row["n"] or ""))

        def number(document: str) -> str:
            known = self.plans.get(document)
            return known.number if known else self.numbers.get(document, document)

        result = []
        for plan in found:
            source = self.plans[plan]
            result.append(cov.ImplementingPlan(
                plan, source.number, source.province or cov.NO_PROVINCE, source.province_iri,
                tuple(number(d) for d in chains[plan][:-1])))
        return sorted(result, key=lambda p: (p.province, p.number))


# ---------------------------------------------------------------------------- records

class Records:
    """Plans' records: those the build's workers kept (or handed over, for a store in
    memory), else read from the store once and kept."""

    def __init__(self, repo: Repository, root: Path | None, lineage: Lineage,
                 handed: dict[str, cov.PlanRecord] | None = None) -> None:
        self.repo, self.root, self.lineage = repo, root, lineage
        self.handed = handed or {}
        self.read_from_store = 0

    def key(self, plan: str) -> str | None:
        source = self.lineage.plans.get(plan)
        return record_key(source.graph, source.sha256) if source else None

    def get(self, plans: Sequence[str]) -> dict[str, cov.PlanRecord]:
        found: dict[str, cov.PlanRecord] = {}
        missing = []
        for plan in dict.fromkeys(plans):
            record = self.handed.get(plan)
            key = self.key(plan)
            if record is None and key is not None and self.root is not None:
                record = document_value(self.root, key)
            if isinstance(record, cov.PlanRecord):
                found[plan] = record
            elif plan in self.lineage.plans:
                missing.append(plan)
        for start in range(0, len(missing), 200):  # VALUES of thousands of plans: slower
            numbers = [cov.ImplementingPlan(p, self.lineage.plans[p].number, "", "")
                       for p in missing[start:start + 200]]
            for plan, record in cov.records_from_store(self.repo, numbers).items():
                found[plan] = record
                key = self.key(plan)
                if key is not None and self.root is not None:
                    keep_document_value(self.root, key, record)
        self.read_from_store += len(missing)
        return found

    def prefetch(self, plans: Sequence[str]) -> None:
        """Read here, from the store, the records no worker kept (and hand them over): a
        forked process then only reads files."""
        missing = []
        for plan in dict.fromkeys(plans):
            key = self.key(plan)
            if plan in self.handed or key is None:
                continue
            if not has_document_value(self.root, key):
                missing.append(plan)
        if missing:
            self.handed.update(self.get(missing))


# ---------------------------------------------------------------------------- the state

@dataclass
class DirectiveState:
    """A directive's whole state (what :func:`_full` makes; kept whole by older code, read
    once and kept again as a :class:`StateHead` and its parts)."""

    directive_iri: str
    number: str
    outline_iri: str | None
    plans: list[cov.ImplementingPlan]
    alignment: al.AlignmentState | None
    clusters: list[int]  # the cluster of each numbered task
    provinces: list[str]  # provinces with a graph


@dataclass
class StateDelta:
    """A state kept by older code as the full state of an earlier plan set (``base``, its
    key) and what its one-plan builds changed: read once, then kept as a head and parts."""

    base: str
    removed: set[str]  # plans whose items in the base left their clusters
    added: list[tuple[int, al.PlanItem]]  # (cluster, item) placed since the base, in order
    clusters: int  # clusters now (a reconstructed outline may have started some)
    sums: list[np.ndarray]
    scores: dict[str, float]  # the added items' leave-one-out cosines
    aligned: dict[str, int]  # AlignmentState.plans
    state: DirectiveState  # the small fields, ``alignment`` None

    def apply(self, base: DirectiveState) -> DirectiveState:
        """The state this delta describes, from its base (which stays as it is)."""
        kept = base.alignment
        assert kept is not None
        removed = self.removed
        clusters = ([[m for m in cluster if m.plan not in removed] for cluster in kept.clusters]
                    if removed else [list(cluster) for cluster in kept.clusters])
        clusters += [[] for _ in range(self.clusters - len(clusters))]
        for index, item in self.added:
            clusters[index].append(item)
        gone = {m.iri for cluster in kept.clusters for m in cluster if m.plan in removed}
        scores = {iri: v for iri, v in kept.scores.items() if iri not in gone}
        scores.update(self.scores)
        alignment = al.AlignmentState(kept.model, clusters, list(self.sums), kept.fixed,
                                      kept.outline, kept.own, scores, dict(self.aligned))
        small = self.state
        return DirectiveState(small.directive_iri, small.number, small.outline_iri,
                              list(small.plans), alignment, list(small.clusters),
                              list(small.provinces))


Label = tuple[float, int, str, int]  # a cluster's best label: its key, its text, its plan's row


@dataclass
class StatePart:
    """One province's items of a directive's clusters (cluster -> its items, in cluster
    order), kept by content (:func:`part_key`): a one-plan build reads and writes its
    province's part, the others stay as they are."""

    province: str
    items: dict[int, list[al.PlanItem]]


@dataclass
class StateHead:
    """A directive's state without the plans' items (2 MB at 20,000 plans instead of 21):
    the small fields, the alignment's model, sums and outline, and per cluster what the
    outline is made from, in member order: each member's plan (a row of ``table``), score
    and position, and the best label candidate. ``parts``: province -> its
    :class:`StatePart`'s key. The items of one province are enough to take a plan out and
    place it again; a change of the tasks' numbering, or a plan taking a reconstructed
    task's label away, reads every part."""

    directive_iri: str
    number: str
    outline_iri: str | None
    plans: list[cov.ImplementingPlan]
    clusters: list[int]  # the cluster of each numbered task
    provinces: list[str]  # provinces with a graph
    model: al.Terms | None  # None: no item was aligned
    sums: list[np.ndarray]
    fixed: bool
    outline: list[al.PlanItem]
    own: list[np.ndarray]
    aligned: dict[str, int]  # AlignmentState.plans
    table: list[tuple[str, str]]  # (plan, province) of each row ``who`` names
    who: list[np.ndarray]  # per cluster: its members' plans (rows of ``table``), in order
    scores: list[np.ndarray]  # per cluster: its members' leave-one-out cosines
    positions: list[np.ndarray]  # per cluster: its members' places in their plans
    labels: list[Label | None]  # per cluster of a reconstructed outline (else None)
    parts: dict[str, str] = field(default_factory=dict)


def _label_key(item: al.PlanItem) -> tuple[float, int]:
    """What :func:`kgraph.analysis.alignment._label` picks the best member by."""
    return al._clean_share(item.text), -len(item.text)


def _members(cluster: Sequence[al.PlanItem], fixed: bool) -> list[al.PlanItem]:
    """A cluster's members (a fixed outline's own task, first, left out)."""
    return list(cluster[1:]) if fixed else list(cluster)


def _split(state: DirectiveState) -> tuple[StateHead, dict[str, StatePart]]:
    """A whole state as a head and one part per province."""
    kept = state.alignment
    head = StateHead(state.directive_iri, state.number, state.outline_iri, list(state.plans),
                     list(state.clusters), list(state.provinces), None, [], False, [], [], {},
                     [], [], [], [], [])
    parts: dict[str, StatePart] = {}
    if kept is None:
        return head, parts
    head.model, head.sums, head.fixed = kept.model, list(kept.sums), kept.fixed
    head.outline, head.own, head.aligned = list(kept.outline), list(kept.own), dict(kept.plans)
    rows: dict[tuple[str, str], int] = {}
    for index, cluster in enumerate(kept.clusters):
        members = _members(cluster, kept.fixed)
        who = [rows.setdefault((m.plan, m.province), len(rows)) for m in members]
        head.who.append(np.array(who, dtype=np.int32))
        head.scores.append(np.array([kept.scores.get(m.iri, 0.0) for m in members],
                                    dtype=np.float64))
        head.positions.append(np.array([m.position for m in members], dtype=np.float64))
        best = max(members, key=_label_key) if members and not kept.fixed else None
        head.labels.append((*_label_key(best), best.text, rows[(best.plan, best.province)])
                           if best is not None else None)
        for member in members:
            parts.setdefault(member.province, StatePart(member.province, {})).items.setdefault(
                index, []).append(member)
    head.table = list(rows)
    return head, parts


def _visible(head: StateHead, parts: dict[str, StatePart]) -> list[list[al.PlanItem]] | None:
    """The clusters with the items of these provinces' parts only (in cluster order, a fixed
    outline's own task first); None when a part does not hold what the head says."""
    loaded = np.array([province in parts for _, province in head.table], dtype=bool)
    clusters: list[list[al.PlanItem]] = []
    single = next(iter(parts.values())) if len(parts) == 1 else None
    for index, who in enumerate(head.who):
        cluster = [head.outline[index]] if head.fixed else []
        shown = who[loaded[who]] if len(who) else who
        if single is not None:
            items = single.items.get(index, [])
            if len(items) != len(shown):
                return None
            cluster += items
        elif len(shown):
            queues = {p: iter(part.items.get(index, [])) for p, part in parts.items()}
            for row in shown.tolist():
                item = next(queues[head.table[row][1]], None)
                if item is None:
                    return None
                cluster.append(item)
            if any(next(queue, None) is not None for queue in queues.values()):
                return None
        elif any(part.items.get(index) for part in parts.values()):
            return None
        clusters.append(cluster)
    return clusters


class _Shown(al.AlignmentState):
    """An alignment state whose clusters hold some provinces' items only: it places and
    scores a plan as the whole state does (sums and plans counted are the whole's)."""

    hidden: list[int]  # per cluster: plans with items in the provinces not shown

    def restating(self, index: int, cluster: Sequence[al.PlanItem]) -> int:
        hidden = self.hidden[index] if index < len(self.hidden) else 0
        return len({m.plan for m in cluster}) + hidden


@dataclass
class _Task(al.DirectiveTask):
    """A directive task whose members are some provinces' only: its supporting plans are
    every province's."""

    supporting: set[str] = field(default_factory=set)

    @property  # type: ignore[override]
    def plans(self) -> set[str]:
        return self.supporting


def _outline(head: StateHead, clusters: list[list[al.PlanItem]]) -> al.Outline:
    """:meth:`AlignmentState.result` from the head (support, labels, confidences, order:
    every province's) and ``clusters`` (:func:`_visible`: the tasks' members shown)."""
    support = al.minimum_support(len(head.aligned))
    provinces = {m.province for cluster in clusters for m in _members(cluster, head.fixed)}
    shown = np.array([province in provinces for _, province in head.table], dtype=bool)
    tasks: list[al.DirectiveTask] = []
    unaligned: list[al.PlanItem] = []
    cluster_of: dict[int, int] = {}
    places: dict[int, float] = {}
    for number, cluster in enumerate(clusters):
        members = _members(cluster, head.fixed)
        own = cluster[0] if head.fixed else None
        supporting = {head.table[row][0] for row in np.unique(head.who[number]).tolist()}
        if own is None and len(supporting) < support:
            unaligned.extend(members)
            continue
        label = head.labels[number]
        text = own.text if own else al._MARKER.sub("", label[2] if label else "", count=1)
        scores, who = head.scores[number], head.who[number]
        task = _Task("", text, members, reconstructed=own is None,
                     outline_task=own.iri if own else None, supporting=supporting)
        task.scores = dict(zip((m.iri for m in members), (
            scores if len(members) == len(who) else scores[shown[who]]).tolist(), strict=True))
        task.confidence = round(float(np.mean(scores)), 3) if len(scores) else 0.0
        cluster_of[id(task)] = number
        if not head.fixed:
            places[id(task)] = float(np.mean(head.positions[number]))
        tasks.append(task)
    if not head.fixed:
        tasks.sort(key=lambda t: (places[id(t)], t.label))
    for index, task in enumerate(tasks, start=1):
        task.no = str(index)
    return al.Outline(head.number, tasks, unaligned, not head.fixed,
                      [cluster_of[id(task)] for task in tasks])


def part_key(directive_iri: str, part: StatePart) -> str:
    """Where a part is kept: by its content (and directive), so an unchanged part is kept
    once and shared by the heads of successive plan sets."""
    import pickle

    digest = hashlib.sha256(directive_iri.encode("utf-8"))
    digest.update(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
    return f"directive-part-{digest.hexdigest()[:32]}"


def kept_head(root: Path, key: str) -> StateHead | None:
    """The head kept under ``key``; a state older code kept (whole, or a delta on a whole
    one) is read once and kept again as a head and parts. None when none is kept."""
    kept = _held_value(root, key)
    if isinstance(kept, StateHead):
        return kept
    base_key = None
    if isinstance(kept, StateDelta):
        base = _held_value(root, kept.base)
        base_key = kept.base
        kept = kept.apply(base) if (isinstance(base, DirectiveState)
                                    and base.alignment is not None) else None
    if not isinstance(kept, DirectiveState):
        return None
    head, parts = _split(kept)
    _keep_state(root, key, head, parts, set(), hold=True, converted=True)
    if base_key is not None and base_key != key:
        drop_document_value(root, base_key)
    return head


def kept_state(root: Path, key: str) -> DirectiveState | None:
    """The whole state kept under ``key`` (its head and every part)."""
    head = kept_head(root, key)
    if head is None:
        return None
    parts = _read_parts(root, head, set(head.parts))
    clusters = _visible(head, parts) if parts is not None else None
    if clusters is None:
        return None
    alignment = None
    if head.model is not None:
        scores = {m.iri: s for index, cluster in enumerate(clusters) for m, s in zip(
            _members(cluster, head.fixed), head.scores[index].tolist(), strict=True)}
        alignment = al.AlignmentState(head.model, clusters, list(head.sums), head.fixed,
                                      list(head.outline), list(head.own), scores,
                                      dict(head.aligned))
    return DirectiveState(head.directive_iri, head.number, head.outline_iri, list(head.plans),
                          alignment, list(head.clusters), list(head.provinces))


def _read_parts(root: Path, head: StateHead, provinces: set[str]
                ) -> dict[str, StatePart] | None:
    """These provinces' parts (a province without one: none); None when one is missing."""
    parts: dict[str, StatePart] = {}
    for province in sorted(provinces):
        key = head.parts.get(province)
        if key is None:
            continue
        part = _held_value(root, key)
        if not isinstance(part, StatePart):
            return None
        parts[province] = part
    return parts


def _keep_state(root: Path, key: str, head: StateHead, parts: dict[str, StatePart],
                replaced: set[str], hold: bool, converted: bool = False) -> None:
    """Keep the head under ``key`` with these parts (each province's; ``replaced``: the
    provinces whose part they replace, an empty one dropped from the head); the parts of a
    head kept under ``key`` before, and no longer used, dropped (``converted``: what ``key``
    held was a whole state, not a head)."""
    keys = {p: k for p, k in head.parts.items() if p not in replaced and p not in parts}
    for province, part in parts.items():
        if not any(part.items.values()):
            continue
        keys[province] = part_key(head.directive_iri, part)
        if not has_document_value(root, keys[province]):
            _keep_full(root, keys[province], part, hold)
    head.parts = dict(sorted(keys.items()))
    replaced_head = None if converted else _held_value(root, key)  # the same plans again
    _keep_full(root, key, head, hold)
    if isinstance(replaced_head, StateHead) and replaced_head is not head:
        for part in set(replaced_head.parts.values()) - set(head.parts.values()):
            drop_document_value(root, part)


def _drop_state(root: Path, key: str | None, old: StateHead, new: StateHead) -> None:
    """Drop the head kept under ``key`` (None: the new one replaced it) and the parts only
    it used."""
    if key is not None:
        drop_document_value(root, key)
    for part in set(old.parts.values()) - set(new.parts.values()):
        drop_document_value(root, part)


@dataclass
class StageReport:
    directives: list[str] = field(default_factory=list)
    incremental: list[str] = field(default_factory=list)  # continued from a kept state
    whole: list[str] = field(default_factory=list)  # directive IRIs all of whose graphs it wrote
    provinces_written: int = 0
    records_from_store: int = 0
    answers: answer.StageAnswers = field(default_factory=lambda: answer.StageAnswers(True))


def update(repo: Repository, root: Path | None, write: Callable[[dict[str, str]], None],
           changed: dict[str, str | None] | None = None,
           handed: dict[str, cov.PlanRecord] | None = None,
           lineage: Lineage | None = None, only: Sequence[str] | None = None,
           keep: bool = True, sources: tuple[dict[str, str], dict[str, str]] | None = None,
           jobs: int | None = None, gone: Lineage | None = None) -> StageReport:
    """Recompute the coverage of every directive several source plans carry out (``changed``
    None), or of those ``changed`` plans carry out (document IRI -> the source text hash of
    its previous version, None when it is new): incrementally where a kept state allows.
    ``only``: these directives (numbers) at most; ``keep``: keep the new states. ``sources``:
    the source graphs before and after the build (graph -> text hash), to start from the
    lineage kept for the store before it. ``jobs``: processes aligning directives side by
    side when every directive is aligned again (default: one per core). ``gone``: the lineage
    of the graphs the build removed (as the store held them; their plans in ``changed`` with
    their last hash): they leave the coverage of the directives they carried out."""
    if lineage is None:
        lineage = (kept_lineage(repo, root, *sources, hold=changed is not None)
                   if sources is not None
                   else Lineage.read(repo))
    records = Records(repo, root, lineage, handed)
    report = StageReport()
    report.answers = answer.StageAnswers(changed is None, frozenset(changed or ()))
    todo: list[tuple[str, tuple[str, str]]] = []
    removed = lineage.carried_out(gone) if gone is not None else {}
    left = set().union(*removed.values())
    groups = lineage.groups(changed, left)
    for number, members in groups.items():
        if only is not None and number not in only:
            continue
        if changed is not None and not set(members) & set(changed) and number not in left:
            continue
        found = cov.directive_of(repo, number)
        if found is not None:
            todo.append((number, found))
    for number in sorted(left - set(groups)):  # fewer than two plans carry it out now: as a
        found = cov.directive_of(repo, number)  # whole build, no coverage (its graphs emptied)
        stale = cov.stored_graphs(repo, found[0]) if found is not None else []
        if stale and (only is None or number in only):
            write(dict.fromkeys(stale, ""))
    workers = min(jobs or os.cpu_count() or 1, len(todo))
    if changed is None and workers > 1:
        _full_in_processes(repo, root if keep else None, write, lineage, records, todo, report,
                           root, workers)
        report.whole += [found[0] for number, found in todo if number in report.directives]
    else:
        for number, found in todo:
            if _directive(repo, root if keep else None, write, lineage, records, found,
                          changed, report, root,
                          {plan for plan, numbers in removed.items() if number in numbers}):
                report.directives.append(number)
    report.records_from_store = records.read_from_store
    return report


# What forked processes align (set before they start; each reads its copy).
_FORKED: tuple[list[tuple[str, str, list[cov.ImplementingPlan], list[str]]], Records,
               Path | None, Path | None] | None = None


def _full_in_processes(repo: Repository, root: Path | None,
                       write: Callable[[dict[str, str]], None], lineage: Lineage,
                       records: Records, todo: list[tuple[str, tuple[str, str]]],
                       report: StageReport, kept_in: Path | None, workers: int) -> None:
    """Every directive aligned from scratch, ``workers`` at a time in forked processes (the
    directives are independent; at national scale each takes tens of seconds of one core):
    the store is read here first (plans, records no worker kept, stale graphs), the processes
    align and assemble and hand the graphs back, written here as they come."""
    global _FORKED
    prepared = []
    for number, (directive_iri, canonical) in todo:
        plans = lineage.implementing(repo, directive_iri)
        if not plans:
            continue
        records.prefetch([directive_iri, *(p.iri for p in plans)])
        prepared.append((directive_iri, canonical, plans, cov.stored_graphs(repo, directive_iri)))
        report.directives.append(number)
    _FORKED = (prepared, records, root, kept_in)
    # the directives of most plans first: the last one to start is then a short one, not a
    # long one aligned by one process while the other waits
    order = sorted(range(len(prepared)), key=lambda i: -len(prepared[i][2]))
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, len(prepared))) as pool:
            for graphs, entry, written in pool.imap_unordered(_full_job, order):
                write(graphs)
                report.answers.directives[entry[1].directive_iri] = entry
                report.provinces_written += written
    finally:
        _FORKED = None


def _full_job(index: int) -> tuple[dict[str, str], tuple[bool, answer.DirectiveAnswer, set[str]],
                                   int]:
    """Forked process: one directive aligned and assembled, its state kept; its graphs, its
    kept answer's entry and its province count handed back."""
    assert _FORKED is not None
    prepared, records, root, kept_in = _FORKED
    directive_iri, number, plans, stale = prepared[index]
    graphs: dict[str, str] = {}
    answers = answer.StageAnswers(True)
    new_state, written = _full(None, directive_iri, number, plans, records, graphs.update,
                               None, answers, kept_in, stale)
    if root is not None:
        _keep_state(root, state_key(directive_iri, {
            p.iri: records.lineage.plans[p.iri].sha256 for p in plans}), *_split(new_state),
            set(), hold=False)
    return graphs, answers.directives[directive_iri], written


def _directive(repo: Repository, root: Path | None, write: Callable[[dict[str, str]], None],
               lineage: Lineage, records: Records, found: tuple[str, str],
               changed: dict[str, str | None] | None, report: StageReport,
               kept_in: Path | None, gone: set[str] | None = None) -> bool:
    """One directive's coverage, continued from its kept state when one matches the plans
    before the build (``gone``: plans the build removed that carried it out), else whole."""
    directive_iri, number = found
    plans = lineage.implementing(repo, directive_iri)
    if not plans:
        return False
    versions = {p.iri: lineage.plans[p.iri].sha256 for p in plans}
    head, previous = None, None
    if changed is not None and kept_in is not None:
        before = {iri: changed.get(iri, sha) for iri, sha in versions.items()}
        before.update({iri: changed.get(iri) for iri in gone or ()})
        previous = state_key(directive_iri, {iri: sha for iri, sha in before.items()
                                             if sha is not None})
        head = kept_head(kept_in, previous)
    continued = None
    if head is not None and changed is not None:
        continued = _continue(directive_iri, number, plans, head, records, changed, write,
                              report.answers, kept_in, gone or set())
    if continued is not None:
        report.incremental.append(number)
        new_head, parts, written = continued
    else:
        new_state, written = _full(repo, directive_iri, number, plans, records, write,
                                   head.provinces if head is not None else None,
                                   report.answers, kept_in)
        report.whole.append(directive_iri)
        new_head, parts = _split(new_state)
        new_head.parts = {}
    report.provinces_written += written
    if root is not None:
        key = state_key(directive_iri, versions)
        _keep_state(root, key, new_head, parts, set(parts) | (
            set(head.parts) if head is not None and continued is None else set()),
            hold=changed is not None)
        if previous is not None and head is not None:  # one state per directive and store
            _drop_state(root, previous if previous != key else None, head, new_head)
    return True


def _full(repo: Repository | None, directive_iri: str, number: str,
          plans: list[cov.ImplementingPlan], records: Records,
          write: Callable[[dict[str, str]], None], old: list[str] | None,
          answers: answer.StageAnswers, root: Path | None,
          stale: list[str] | None = None) -> tuple[DirectiveState, int]:
    """Align every plan and write every graph of the directive (stale ones emptied: those of
    the ``old`` state's provinces, else ``stale``, else those the store holds), and keep the
    named query's answer of every province."""
    found = records.get([directive_iri, *(p.iri for p in plans)])
    outline_iri = cov.outline_of(directive_iri, plans, found)
    state = cov.directive_alignment(number, plans, found, outline_iri)
    outline = (state.result(number) if state is not None
               else al.Outline(number, [], [], outline_iri is None))
    result = cov.assemble(number, directive_iri, plans, outline, outline_iri, found)
    graphs = result.graphs()
    if old is not None:
        stale = [result.province_graph_name(p) for p in old]
    elif stale is None:
        assert repo is not None
        stale = cov.stored_graphs(repo, directive_iri)
    for name in stale:
        graphs.setdefault(name, "")
    write(graphs)
    answers.add(result, result.provinces, True, (), root)
    return (DirectiveState(directive_iri, number, outline_iri, plans, state, outline.clusters,
                           sorted(result.provinces)), len(result.provinces))


def _continue(directive_iri: str, number: str, plans: list[cov.ImplementingPlan],
              head: StateHead, records: Records, changed: dict[str, str | None],
              write: Callable[[dict[str, str]], None], answers: answer.StageAnswers,
              root: Path | None, gone: set[str] = frozenset()  # type: ignore[assignment]
              ) -> tuple[StateHead, dict[str, StatePart], int] | None:
    """The changed plans re-placed in the kept alignment, from the head and the parts of the
    provinces they leave and join (every part when the tasks' numbering changes, or when a
    moved plan's item was a reconstructed task's label): the new head, the parts read (as
    they are now) and the provinces written; None when the rule does not apply (see the
    module's docstring) or a part is missing."""
    if head.model is None or root is None:
        return None
    before = {p.iri: p for p in head.plans}
    now = {p.iri: p for p in plans}
    gone = (set(before) - set(now)) & set(gone)  # removed by the build: taken out
    if set(before) - set(now) - gone:
        return None  # a plan no longer carries the directive out
    if any(before.get(iri) != plan for iri, plan in now.items() if iri not in changed):
        return None  # an unchanged plan's chain or province changed
    candidates = [directive_iri, *(p.iri for p in plans if not p.chain and not p.province_iri)]
    found = records.get(candidates + [iri for iri in now if iri in changed])
    outline_iri = cov.outline_of(directive_iri, plans, found)
    if outline_iri != head.outline_iri or (outline_iri is not None and outline_iri in changed):
        return None
    moving = [now[iri] for iri in now if iri in changed and iri != outline_iri]
    leaving = {plan.iri for plan in moving if plan.iri in before} | gone
    touched = {before[iri].province for iri in leaving} | {plan.province for plan in moving}
    labels = {head.table[label[3]][0] for label in head.labels if label is not None}
    shown = set(head.parts) | touched if labels & leaving else touched
    parts = _read_parts(root, head, shown)
    clusters = _visible(head, parts) if parts is not None else None
    if parts is None or clusters is None:
        return None
    loaded = np.array([province in shown for _, province in head.table], dtype=bool)
    scores = {m.iri: s for index, cluster in enumerate(clusters) for m, s in zip(
        _members(cluster, head.fixed), head.scores[index][loaded[head.who[index]]].tolist()
        if len(head.who[index]) else [], strict=True)}
    alignment = _Shown(head.model, clusters, list(head.sums), head.fixed, list(head.outline),
                       list(head.own), scores, dict(head.aligned))
    alignment.hidden = [len(np.unique(who[~loaded[who]])) for who in head.who]
    # A build's version holding the graphs the kept states give (build._coverage_kept): the
    # outline they were written from, before the moved plans leave it, gives their lines.
    known = (getattr(records.repo, "known", None)
             if directive_iri in getattr(records.repo, "kept", ()) else None)
    old_outline = (_outline(head, [list(c) for c in clusters])
                   if isinstance(known, dict) and leaving else None)
    for plan in moving:
        old = ([m for cluster in alignment.clusters for m in cluster if m.plan == plan.iri]
               if plan.iri in before else [])
        if old:
            alignment.remove(plan.iri, old)
        else:  # a new plan: nothing to take out of 50,000 items
            alignment.plans.pop(plan.iri, None)
    for iri in sorted(gone):
        alignment.remove(iri, [m for cluster in alignment.clusters for m in cluster
                               if m.plan == iri])
    items = [cov.plan_items(plan, found.get(plan.iri)) for plan in moving]
    for plan_items in sorted((i for i in items if i), key=lambda p: (-len(p), p[0].number)):
        matrix = alignment.vectors(plan_items)
        alignment.place(plan_items, matrix)
        alignment.score(plan_items, matrix)
    new_head = _moved(head, alignment, loaded, {p.iri for p in moving}, leaving,
                      labels & leaving != set(), plans)
    new_parts = {p: StatePart(p, {}) for p in shown}
    for index, cluster in enumerate(alignment.clusters):
        for member in _members(cluster, head.fixed):
            new_parts[member.province].items.setdefault(index, []).append(member)
    outline = _outline(new_head, alignment.clusters)
    provinces = {p.province for p in plans if p.iri != outline_iri}
    new_head.provinces = sorted(provinces)
    if outline.clusters != head.clusters:
        rest = _read_parts(root, new_head, set(head.parts) - shown)
        if rest is None:
            return None
        whole = _visible(new_head, {**new_parts, **rest})
        if whole is None:
            return None
        outline = _outline(new_head, whole)
        rewrite = provinces
    else:
        rewrite = touched & provinces
    new_head.clusters = outline.clusters
    wanted = [p.iri for p in plans if p.province in rewrite]
    result = cov.assemble(number, directive_iri, plans, outline, outline_iri,
                          records.get(wanted), provinces=rewrite)
    graphs = result.graphs(rewrite)
    for gone in set(head.provinces) - provinces:
        graphs[result.province_graph_name(gone)] = ""
    if isinstance(known, dict) and outline.clusters == head.clusters:
        unknown = {name: text for name, text in graphs.items() if text and name not in known}
        if unknown:
            known.update(_written_before(records, head, result, old_outline,
                                         {plan.iri for plan in moving} | gone, changed,
                                         unknown))
    write(graphs)
    answers.add(result, rewrite, rewrite == provinces, set(head.provinces) - provinces, root)
    return new_head, new_parts, len(rewrite)


def _moved(head: StateHead, alignment: _Shown, loaded: np.ndarray, moved: set[str],
           leaving: set[str], relabel: bool, plans: list[cov.ImplementingPlan]) -> StateHead:
    """The head after the ``moved`` plans were taken out (those ``leaving`` their earlier
    place) and placed again in ``alignment`` (its clusters: the provinces ``loaded``; every
    one when ``relabel``, a label's plan leaving): the moved plans' rows left out, their new
    items' appended, as their clusters now end."""
    table = list(head.table)
    rows = {entry: row for row, entry in enumerate(table)}
    gone = np.array([row for row, (plan, _) in enumerate(table) if plan in leaving],
                    dtype=np.int32)
    who, scores, positions, labels = [], [], [], []
    for index, cluster in enumerate(alignment.clusters):
        members = _members(cluster, head.fixed)
        if index < len(head.who):
            keep = ~np.isin(head.who[index], gone) if len(gone) else np.ones(
                len(head.who[index]), dtype=bool)
            kept_rows = head.who[index][keep]
            shown = int(loaded[kept_rows].sum()) if len(kept_rows) else 0
            kept = (kept_rows, head.scores[index][keep], head.positions[index][keep])
            label = head.labels[index]
        else:
            shown, label = 0, None
            kept = (np.zeros(0, np.int32), np.zeros(0), np.zeros(0))
        added = members[shown:]
        assert all(m.plan in moved for m in added)
        new_rows = [rows.setdefault((m.plan, m.province), len(rows)) for m in added]
        who.append(np.concatenate([kept[0], np.array(new_rows, dtype=np.int32)]))
        scores.append(np.concatenate([kept[1], np.array(
            [alignment.scores.get(m.iri, 0.0) for m in added], dtype=np.float64)]))
        positions.append(np.concatenate([kept[2], np.array(
            [m.position for m in added], dtype=np.float64)]))
        if head.fixed:
            labels.append(None)
            continue
        if relabel:  # every item shown: the best of all, as AlignmentState.result picks
            best = max(members, key=_label_key) if members else None
            candidates = [best] if best is not None else []
            label = None
        else:
            candidates = added
        for member in candidates:
            if label is None or _label_key(member) > label[:2]:
                label = (*_label_key(member), member.text, rows[(member.plan, member.province)])
        labels.append(label)
    table = list(rows)
    return StateHead(head.directive_iri, head.number, head.outline_iri, list(plans),
                     list(head.clusters), list(head.provinces), head.model,
                     list(alignment.sums), head.fixed, list(head.outline), list(head.own),
                     dict(alignment.plans), table, who, scores, positions, labels,
                     dict(head.parts))


def _written_before(records: Records, state: DirectiveState, result: cov.DirectiveCoverage,
                    outline: al.Outline | None, moved: set[str], changed: dict[str, str | None],
                    graphs: dict[str, str]) -> dict[str, set[str]]:
    """The lines the store holds for these province graphs (``graphs``: their new text), as
    the build that kept ``state`` wrote them, so that they are written by difference without
    reading them back (a province's graph at 20,000 plans: 27,000 triples, 0.6 CPU-s to dump).

    The clusters are as they were (the caller checks it), so only the ``moved`` plans' lines
    and the cells' own lines (status, bodies) can differ: the new text without the new ones
    and with the old ones (the moved plans' items before, from ``outline``, the outline of
    ``state``, and their earlier records). A graph whose size in the store is not the one so
    made is left out (read back, as before); so is a province holding a changed plan whose
    earlier record is not kept."""
    provinces = {p for p in result.provinces if result.province_graph_name(p) in graphs}
    provinces &= set(state.provinces)
    earlier: dict[str, cov.PlanRecord] = {}
    for plan in state.plans:
        if plan.iri in moved and plan.province in provinces:
            source, sha = records.lineage.plans.get(plan.iri), changed.get(plan.iri)
            record = (document_value(records.root, record_key(source.graph, sha))
                      if source is not None and sha is not None and records.root is not None
                      else None)
            if isinstance(record, cov.PlanRecord) and outline is not None:
                earlier[plan.iri] = record
            else:
                provinces.discard(plan.province)
    before: dict[tuple[str, str], cov.Cell] = {}  # the moved plans' cells before
    if earlier:
        assert outline is not None
        before = cov.assemble(state.number, state.directive_iri,
                              [p for p in state.plans if p.iri in earlier],
                              _only(outline, moved), state.outline_iri, earlier,
                              provinces=provinces).cells
    new_cells: dict[tuple[str, str], cov.Cell] = {}
    old_cells: dict[tuple[str, str], cov.Cell] = {}
    for key, cell in result.cells.items():
        if key[1] not in provinces:
            continue
        old = before.get(key)
        moved_old = old.restatements if old is not None else []
        whole = [r for r in cell.restatements if r.item.plan not in moved] + moved_old
        was = cov.Cell(cell.task, cell.province, cell.province_iri, cov._status(whole), whole)
        new_cells[key] = _Own(cell.task, cell.province, cell.province_iri, cell.status,
                              [r for r in cell.restatements if r.item.plan in moved],
                              cell.leads, cell.coordinators)
        old_cells[key] = _Own(cell.task, cell.province, cell.province_iri, was.status,
                              moved_old, was.leads, was.coordinators)
    now = cov.DirectiveCoverage(result.directive, result.directive_iri,
                                _only(result.outline, moved), result.plans, result.provinces,
                                new_cells)
    then = cov.DirectiveCoverage(result.directive, result.directive_iri,
                                 _only(outline, moved) if outline is not None else
                                 al.Outline(result.directive, [], [], False),
                                 [p for p in state.plans if p.iri != state.outline_iri],
                                 result.provinces, old_cells)
    held: dict[str, set[str]] = {}
    now_index, then_index = now._by_province(), then._by_province()
    for province in provinces:
        name = result.province_graph_name(province)
        lines = set(stored_lines(graphs[name]))
        lines.difference_update(as_stored(line[:-1])
                                for line in now.province_lines(province, now_index))
        lines.update(as_stored(line[:-1]) for line in then.province_lines(province, then_index))
        rows = cov._records(records.repo, f"""
            SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}""")
        if rows and rows[0]["n"] == str(len(lines)):
            held[name] = lines
    return held


def _only(outline: al.Outline, plans: set[str]) -> al.Outline:
    """The outline's tasks with these plans' items only (numbers, labels, scores kept)."""
    return al.Outline(outline.directive, [
        dataclasses.replace(task, members=[m for m in task.members if m.plan in plans])
        for task in outline.tasks], [], outline.reconstructed, outline.clusters)


@dataclass
class _Own(cov.Cell):
    """A cell with some of its restatements, writing the bodies of all of them."""

    all_leads: list[cov.Body] = field(default_factory=list)
    all_coordinators: list[cov.Body] = field(default_factory=list)

    @property  # type: ignore[override]
    def leads(self) -> list[cov.Body]:
        return self.all_leads

    @property  # type: ignore[override]
    def coordinators(self) -> list[cov.Body]:
        return self.all_coordinators


def timed_update(*args: object, **kwargs: object) -> tuple[StageReport, float]:
    started = time.perf_counter()
    report = update(*args, **kwargs)  # type: ignore[arg-type]
    return report, time.perf_counter() - started
