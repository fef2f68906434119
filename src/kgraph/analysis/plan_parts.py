"""Facts a build keeps per plan, in parts by scope, for a named query's answer at read time.

A family of facts (the assignments', the dated and reporting duties') is what one plan's own
graph states: read once by the build, kept per plan in one *part* per scope of the graphs (a
province, or the national scope), by content key next to the store
(``derived/documents/<family>-part-<format>-<hash>.pickle``; in memory for a store in memory).
A later build reads again the graphs it wrote only, and rewrites the parts holding those (a
part nobody changed keeps its key). The version's index of parts is kept as a version value.
What any graph may state (a plan's number, a body's name) is not kept: the answer reads it
from the store, so that a rebuild of another graph cannot make a row stale.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgraph.store.derived import (
    DERIVED,
    document_value,
    drop_document_value,
    keep_document_value,
    keep_version_value,
    version_value,
)
from kgraph.store.embedded import Repository, plain_rows, writable_iri

_GRAPH = "/graph/"
# A part: graph -> its plans' facts (plan IRI -> its facts pickled, decoded when asked for).
Part = dict[str, dict[str, bytes]]
# What a family reads from a repository: graph -> plan -> the plan's facts (any picklable
# value); None for a kind of repository it cannot read (nothing is kept then).
Reader = Callable[[Repository, Sequence[str] | None], Mapping[str, Mapping[str, Any]] | None]


def scope(graph: str) -> str:
    """The part a graph's facts are kept in: its scope (``…/graph/<scope>/…``)."""
    _, found, rest = graph.partition(_GRAPH)
    return rest.split("/", 1)[0] if found else ""


@dataclass
class KeptFacts:
    """A store version's kept facts: its parts (scope -> the part's key on disk, or the part
    for a store in memory), the part of each plan holding facts, and the parts the version
    before stopped using (removed by the next build: a server may still read that version)."""

    parts: dict[str, str | Part]
    plans: dict[str, str]  # plan IRI -> scope
    retired: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Family:
    """A kind of facts kept per plan: its name (the keys' family), its layout's format and
    how the build reads them (graph -> plan -> facts; ``graphs``: those only, None: all)."""

    name: str
    format: int
    read: Reader

    @property
    def version_value(self) -> str:
        return f"{self.name}-answer-{self.format}"

    def previous(self, repo: Repository) -> KeptFacts | None:
        """The facts kept for the repository's current version (read before a build's
        switch, or by a reader)."""
        kept = version_value(repo, self.version_value)
        return kept if isinstance(kept, KeptFacts) else None


@dataclass
class Answer:
    """A kept answer: the query's variables and its rows (plain values, in its order; a row
    may carry more values after the variables, such as whether a name is tagged)."""

    variables: tuple[str, ...]
    rows: list[tuple[str | None, ...]]


def bound(value: str | None) -> tuple[bool, str]:
    """A value's place in the engine's ORDER BY: unbound first, then strings and IRIs by
    code point."""
    return (value is not None, value or "")


def values(iris: Iterable[str]) -> str:
    """IRIs as a VALUES list."""
    return " ".join(f"<{iri}>" for iri in iris)


CHUNK = 500  # IRIs a request's VALUES names (as the explorer's walk over a remote store)
IN_FLIGHT = 3  # a remote store's requests asked at once (as the explorer's whole-store reads)
# One step down the lineage: the documents carrying out any of the given ones. Walked a step a
# request, never as ``kg:implements*``/``+``: Virtuoso evaluates such a path from a national
# directive at 20,000 plans in its transitive memory pool, and ran out of it ("Exceeded
# 1000000000 bytes in transitive temp memory"), the answer with it.
_IMPLEMENTING = """PREFIX kg: <https://w3id.org/kgraph/def#>
SELECT DISTINCT ?plan WHERE { VALUES ?root { $roots } ?plan kg:implements ?root }"""
def rows_of(repo: Repository, texts: Sequence[str]) -> list[list[tuple[str | None, ...]]]:
    """Each query's plain rows (:func:`plain_rows`), in the texts' order; over a remote store
    :data:`IN_FLIGHT` requests at a time: the server evaluates the next chunk's while kgraph
    reads the last (one after the other, a national directive's fifty requests of facts and
    names waited on the server most of their time)."""
    from kgraph.store.embedded import OxigraphRepository

    if len(texts) < 2 or isinstance(repo, OxigraphRepository):
        return [plain_rows(repo, text) for text in texts]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(IN_FLIGHT, "kgraph-rows") as pool:
        return list(pool.map(lambda text: plain_rows(repo, text), texts))


def carrying_out(repo: Repository, roots: Iterable[str]) -> list[str]:
    """The documents carrying out any of ``roots``, transitively (``kg:implements+``), and the
    roots themselves, sorted: walked one step a request per chunk of :data:`CHUNK` IRIs (an
    IRI a query cannot name is left out)."""
    frontier = sorted({r for r in roots if writable_iri(r)})
    seen = set(frontier)
    while frontier:
        found = []
        for start in range(0, len(frontier), CHUNK):
            text = _IMPLEMENTING.replace("$roots", values(frontier[start:start + CHUNK]))
            for (plan,) in plain_rows(repo, text):
                if plan is not None and plan not in seen and writable_iri(plan):
                    seen.add(plan)
                    found.append(plan)
        frontier = found
    return sorted(seen)


def _pack(facts: Mapping[str, Mapping[str, Any]]) -> dict[str, Part]:
    """Facts by scope, each plan's pickled apart (a page decodes the plans it needs)."""
    parts: dict[str, Part] = {}
    for graph, plans in facts.items():
        parts.setdefault(scope(graph), {})[graph] = {
            plan: pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            for plan, value in sorted(plans.items())}
    return parts


def _keep_part(family: Family, root: Path | None, name: str, part: Part) -> str | Part:
    if root is None:
        return part
    data = pickle.dumps(dict(sorted(part.items())), protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + data).hexdigest()[:32]
    key = f"{family.name}-part-{family.format}-{digest}"
    if not os.path.exists(os.path.join(root, DERIVED, "documents", f"{key}.pickle")):
        keep_document_value(root, key, part)
    return key


def read_part(root: Path | None, kept: str | Part) -> Part | None:
    """A kept part (None: removed by a later build)."""
    if not isinstance(kept, str):
        return kept
    found = document_value(root, kept) if root is not None else None
    return found if isinstance(found, dict) else None


def keep(family: Family, repo: Repository, root: Path | None, before: KeptFacts | None,
         written: Iterable[str] | None) -> KeptFacts | None:
    """Keep the family's facts of the build's new version (now current): those of the version
    before, with the ``written`` graphs read again and their parts rewritten; every graph read
    when ``written`` is None (a first or a full build) or the version before kept none."""
    if before is None or written is None:
        every = family.read(repo, None)
        if every is None:
            return None
        parts = {name: _keep_part(family, root, name, part)
                 for name, part in _pack(every).items()}
        kept = KeptFacts(parts, _plans_of(root, parts))
    else:
        changed = sorted(written)
        read = family.read(repo, changed) if changed else {}
        if read is None:
            return None
        fresh = _pack(read)
        touched = ({scope(g) for g in changed} | set(fresh)) & (set(before.parts) | set(fresh))
        parts = dict(before.parts)
        plans = dict(before.plans)
        gone = set(changed)
        for name in sorted(touched):
            old = read_part(root, before.parts[name]) if name in before.parts else {}
            if old is None:  # removed by a later build: every graph is read again
                return keep(family, repo, root, None, None)
            part = {g: p for g, p in old.items() if g not in gone}
            for graph_plans in old.values():
                for plan in graph_plans:
                    plans.pop(plan, None)
            part.update(fresh.get(name, {}))
            for graph_plans in part.values():
                for plan in graph_plans:
                    plans[plan] = name
            if part:
                parts[name] = _keep_part(family, root, name, part)
            else:
                parts.pop(name, None)
        kept = KeptFacts(parts, plans)
    if before is not None and root is not None:
        for key in before.retired:
            drop_document_value(root, key)
        used = {p for p in kept.parts.values() if isinstance(p, str)}
        kept.retired = {p for p in before.parts.values() if isinstance(p, str) and p not in used}
    keep_version_value(repo, family.version_value, kept)
    return kept


def written_plans(root: Path | None, kept: KeptFacts, graphs: Iterable[str]) -> set[str] | None:
    """The plans ``kept`` (a version's facts) holds facts of under these graphs (a build's
    written graphs: the plans whose facts may differ from another version's); None when a part
    is gone (removed by a later build)."""
    wanted = set(graphs)
    plans: set[str] = set()
    for name in sorted({scope(g) for g in wanted} & set(kept.parts)):
        part = read_part(root, kept.parts[name])
        if part is None:
            return None
        for graph in sorted(wanted & part.keys()):
            plans.update(part[graph])
    return plans


def _plans_of(root: Path | None, parts: dict[str, str | Part]) -> dict[str, str]:
    plans: dict[str, str] = {}
    for name, kept in parts.items():
        part = read_part(root, kept) or {}
        for graph_plans in part.values():
            for plan in graph_plans:
                plans[plan] = name
    return plans


def live_keys(family: Family, kept: Iterable[object]) -> dict[str, set[str]]:
    """The kept parts a server can ask for again: those these versions' facts name (by the
    keys' family; :func:`kgraph.analysis.sweep.sweep`)."""
    return {family.name: {p for facts in kept if isinstance(facts, KeptFacts)
                           for p in facts.parts.values() if isinstance(p, str)}}
