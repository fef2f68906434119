"""The answer of the ``directive-coverage`` named query, kept by the build per store version.

The query's whole answer for one directive is one row per restatement (and one per cell no
plan item restates): 5,584 rows at 2,000 plans, 56,200 at 20,000, where the query takes 20-40 s
however it is written, because each row reads about sixteen quads (docs/coverage.md §5). The
directive-coverage stage has every value of those rows in hand when it writes the graphs, so
it keeps them:

* **per province**: the rows of one province of one directive (everything but the task's own
  columns) are a *part*, kept by content key next to the store
  (``derived/documents/directive-answer-<hash>.pickle``, in memory for a store in memory). A
  changed plan rewrites its province's part, as it rewrites its province's graph;
* **per directive**: its tasks' columns (number, reconstructed, confidence, text: the
  directive graph's, rewritten with it) and the parts of its provinces;
* **per store version**: the directives' entries, kept as the version value
  :data:`VERSION_VALUE` once the build's new version is current. A version a build did not
  write (``kgraph coverage``, a build without the stage, an older store) has no kept answer:
  the route runs the query.

The rows are the query's: the same columns, values and order (task as a number, province,
plan, plan task). One documented difference: the ``lead`` column joins a restatement's
distinct lead bodies in name order, where the engine's ``GROUP_CONCAT`` leaves the order to its
evaluation (the portable and the Oxigraph texts already list them in opposite orders).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import pickle
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, overload

from kgraph.ingest.text import slugify
from kgraph.store.derived import (
    DERIVED,
    document_value,
    drop_document_value,
    keep_document_value,
    keep_version_value,
    version_value,
)
from kgraph.store.embedded import Repository, plain_rows

if TYPE_CHECKING:  # the writing side only (the build); a server reads plain rows
    from kgraph.analysis import coverage as cov

FORMAT = 3  # the layout of a part's rows: another layout is not read
VERSION_VALUE = f"directive-coverage-answer-{FORMAT}"
COLUMNS = ("task", "reconstructed", "confidence", "province", "status", "plan", "item",
           "score", "lead", "via", "itemText", "taskText")

# A part's row: the province's columns of one answer row, and the plan task's IRI (the last
# key of the query's order). The task's own columns come from the directive's entry.
ProvinceRow = tuple[str, str, str | None, str | None, str | None, str | None, str | None,
                    str | None, str | None]
# (province, status concept, plan, item, score, lead, via, item text, plan task)
Part = dict[str, list[ProvinceRow]]  # task number -> its rows, in the query's order


@dataclass(frozen=True)
class PackedPart:
    """A province's rows as kept: each task's pickled apart, with its count, so that a page
    decodes only the tasks it shows (a directive's first page at 20,000 plans: one task of
    each of 49 provinces, not 56,200 rows)."""

    province: str
    tasks: dict[str, tuple[int, bytes]]


def pack(province: str, part: Part) -> PackedPart:
    return PackedPart(province, {task: (len(rows), pickle.dumps(
        rows, protocol=pickle.HIGHEST_PROTOCOL)) for task, rows in part.items()})


def decimal(value: float) -> str:
    """The canonical form the engine gives an ``xsd:decimal`` written as ``f"{x:.3f}"``
    ("0.660" is read back as "0.66", "1.000" as "1")."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def province_rows(result: cov.DirectiveCoverage, province: str) -> Part:
    """The answer's rows of one province by task, from the cells the province's graph is
    written from (:meth:`kgraph.analysis.coverage.DirectiveCoverage.province_lines`), each
    task's in the query's order (plan, plan task; a cell without an item has one row).
    Repeated values are one string each (a part is read back whole for a request)."""
    from kgraph.analysis import coverage as cov

    via = {p.iri: " → ".join(p.chain) or None for p in result.plans}
    numbers = {p.iri: p.number for p in result.plans}
    statuses = {status: str(concept) for status, concept in cov.STATUS_CONCEPT.items()}
    part: Part = {}
    for (_, name), cell in result.cells.items():
        if name != province:
            continue
        status = statuses[cell.status]
        rows = part.setdefault(cell.task.no, [])
        if not cell.restatements:
            rows.append((name, status, None, None, None, None, None, None, None))
        for r in cell.restatements:
            leads = sorted({body.label for body in r.leads or r.responsible})
            rows.append((name, status, numbers.get(r.item.plan, r.item.number), r.item.no,
                         decimal(r.score), "; ".join(leads) or None, via.get(r.item.plan),
                         r.item.text, r.item.iri))
    for rows in part.values():
        rows.sort(key=_within_cell)
    return part


def _within_cell(row: ProvinceRow) -> tuple[object, ...]:
    """?plan ?planTask of the query's order: unbound first."""
    plan, plan_task = row[2], row[-1]
    return ((plan is not None, plan or ""), (plan_task is not None, plan_task or ""))


def task_columns(result: cov.DirectiveCoverage) -> dict[str, tuple[bool, str, str]]:
    """Task number -> (reconstructed, confidence, text), as the directive's graph states them."""
    return {task.no: (task.reconstructed, decimal(task.confidence), task.label)
            for task in result.outline.tasks}


@dataclass
class DirectiveAnswer:
    """One directive's kept answer: its tasks' columns and its provinces' parts (province
    slug -> the part's key on disk, or its rows for a store in memory)."""

    directive_iri: str
    tasks: dict[str, tuple[bool, str, str]]
    parts: dict[str, str | PackedPart]
    plans: frozenset[str]  # the source plans whose items the rows quote


@dataclass
class StageAnswers:
    """What the directive-coverage stage of one build wrote, per directive: whole (``full``)
    or only some provinces (the others keep the parts of the version before)."""

    full: bool  # the stage re-computed every directive: nothing is carried over
    changed: frozenset[str] = frozenset()  # documents read by the build
    directives: dict[str, tuple[bool, DirectiveAnswer, set[str]]] = field(default_factory=dict)
    # directive IRI -> (every province written, the entry, provinces whose graph emptied)

    def add(self, result: cov.DirectiveCoverage, provinces: Iterable[str], whole: bool,
            gone: Iterable[str], root: Path | None) -> None:
        parts: dict[str, str | PackedPart] = {}
        for province in provinces:
            packed = pack(province, province_rows(result, province))
            parts[slugify(province)] = _keep_part(root, result.directive_iri, packed)
        self.directives[result.directive_iri] = (whole, DirectiveAnswer(
            result.directive_iri, task_columns(result), parts,
            frozenset(p.iri for p in result.plans)), {slugify(p) for p in gone})


@dataclass
class KeptAnswers:
    """A store version's kept answers, and the parts the version before it stopped using
    (removed by the next build: a server may still read the version before)."""

    directives: dict[str, DirectiveAnswer]
    retired: set[str] = field(default_factory=set)


def _keep_part(root: Path | None, directive_iri: str, packed: PackedPart
               ) -> str | PackedPart:
    if root is None:
        return packed
    data = pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(directive_iri.encode("utf-8") + b"\n" + data).hexdigest()[:32]
    key = f"directive-answer-{FORMAT}-{digest}"
    if not os.path.exists(os.path.join(root, DERIVED, "documents", f"{key}.pickle")):
        keep_document_value(root, key, packed)
    return key


def previous(repo: Repository) -> KeptAnswers | None:
    """The answers kept for the repository's current version (read before a build's switch)."""
    kept = version_value(repo, VERSION_VALUE)
    return kept if isinstance(kept, KeptAnswers) else None


def keep(repo: Repository, root: Path | None, before: KeptAnswers | None,
         stage: StageAnswers) -> KeptAnswers:
    """The answers of the build's new version (now current): the stage's directives, and,
    unless it was full, the version before's others whose plans the build did not read."""
    directives: dict[str, DirectiveAnswer] = {}
    if before is not None and not stage.full:
        for iri, entry in before.directives.items():
            if iri not in stage.directives and not entry.plans & stage.changed:
                directives[iri] = entry
    for iri, (whole, entry, gone) in stage.directives.items():
        if whole:
            directives[iri] = entry
            continue
        old = before.directives.get(iri) if before is not None else None
        if old is None:
            continue  # some provinces only, and nothing to complete them: the query answers
        parts = {slug: part for slug, part in old.parts.items() if slug not in gone}
        parts.update(entry.parts)
        directives[iri] = DirectiveAnswer(iri, entry.tasks, parts, entry.plans)
    if root is not None:  # a remote store's stage kept its parts in memory (no store folder)
        for entry in directives.values():
            entry.parts = {slug: _keep_part(root, entry.directive_iri, part)
                           if isinstance(part, PackedPart) else part
                           for slug, part in entry.parts.items()}
    kept = KeptAnswers(directives)
    if before is not None and root is not None:
        for key in before.retired:
            drop_document_value(root, key)
        used = {p for e in directives.values() for p in e.parts.values() if isinstance(p, str)}
        kept.retired = {p for e in before.directives.values() for p in e.parts.values()
                        if isinstance(p, str) and p not in used}
    keep_version_value(repo, VERSION_VALUE, kept)
    return kept


def live_keys(kept: Iterable[object]) -> dict[str, set[str]]:
    """The kept parts a server can ask for again (:func:`kgraph.analysis.sweep.sweep`): those
    the answers of these versions (the current one's and the one before it's
    :data:`VERSION_VALUE`; anything else: none) name. A part of another :data:`FORMAT`, or one
    no kept answer names (a version gone, ``kgraph coverage``), is not. By the keys' family
    (``directive-answer``)."""
    named = {part for answers in kept if isinstance(answers, KeptAnswers)
             for entry in answers.directives.values() for part in entry.parts.values()
             if isinstance(part, str)}

    return {"directive-answer": named}


# ---------------------------------------------------------------------------- reading

Row = tuple[str | None, ...]  # the query's columns (plain values), then the plan task's IRI
TaskColumns = tuple[str, str, str, str]  # task, reconstructed, confidence, text


class Rows(Sequence[Row]):
    """The answer's rows in the query's order, made when asked for: a page makes its thousand
    rows, not the 56,200 of a directive at 20,000 plans. Kept as segments, one per task and
    province (already in order inside), with their offsets."""

    def __init__(self, segments: list[tuple[TaskColumns, int, list[ProvinceRow] | bytes]],
                 notations: dict[str, str]) -> None:
        self.columns = [columns for columns, _, _ in segments]
        self.kept: list[list[ProvinceRow] | bytes] = [rows for _, _, rows in segments]
        self.notations = notations
        self.starts: list[int] = []
        total = 0
        for _, count, _ in segments:
            self.starts.append(total)
            total += count
        self.total = total

    def segment(self, index: int) -> list[ProvinceRow]:
        """A segment's rows, decoded the first time they are asked for."""
        rows = self.kept[index]
        if isinstance(rows, bytes):
            rows = self.kept[index] = pickle.loads(rows)
        return rows

    def __len__(self) -> int:
        return self.total

    def _row(self, task: TaskColumns, row: ProvinceRow) -> Row:
        number, reconstructed, confidence, text = task
        province, status, *rest, plan_task = row
        return (number, reconstructed, confidence, province, self.notations[status or ""],
                *rest, text, plan_task)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, int):
            position = index + self.total if index < 0 else index
            if not 0 <= position < self.total:
                raise IndexError(index)
            return self[position:position + 1][0]
        start, stop, step = index.indices(self.total)
        if step != 1:
            return list(self)[index]
        out: list[Row] = []
        segment = max(0, bisect.bisect_right(self.starts, start) - 1)
        while segment < len(self.kept) and len(out) < stop - start:
            task, rows = self.columns[segment], self.segment(segment)
            first = max(0, start - self.starts[segment])
            last = min(len(rows), stop - self.starts[segment])
            out.extend(self._row(task, row) for row in rows[first:last])
            segment += 1
        return out

    def __iter__(self) -> Iterator[Row]:
        for index, task in enumerate(self.columns):
            for row in self.segment(index):
                yield self._row(task, row)


@dataclass
class Answer:
    """The kept answer: the query's variables and its rows (:class:`Rows`)."""

    variables: tuple[str, ...]
    rows: Rows


def read(repo: Repository, root: Path | None, directive_iris: Sequence[str],
         province_key: str, notations: dict[str, list[str]],
         kept: KeptAnswers | None = None) -> Answer | None:
    """The kept answer for these directives (all of them kept, else None: the query answers),
    one province's rows when ``province_key`` (its slug) is given; ``kept``: the version's
    answers when the caller has read them already."""
    kept = kept or previous(repo)
    if kept is None or any(len(n) != 1 for n in notations.values()):
        return None
    cells: dict[tuple[tuple[int, int], str], list[tuple[TaskColumns, int, bytes]]] = {}
    for iri in directive_iris:
        entry = kept.directives.get(iri)
        if entry is None:
            return None
        slugs = [province_key] if province_key else list(entry.parts)
        for slug in slugs:
            part = entry.parts.get(slug)
            if part is None:
                continue
            found = part if isinstance(part, PackedPart) else (
                document_value(root, part) if root is not None else None)
            if not isinstance(found, PackedPart):
                return None  # removed by a later build: the query answers
            for task, (count, rows) in found.tasks.items():
                reconstructed, confidence, text = entry.tasks[task]
                columns = (task, "true" if reconstructed else "false", confidence, text)
                number = (1, int(task)) if task.isdigit() else (0, 0)
                cells.setdefault((number, found.province), []).append((columns, count, rows))
    segments: list[tuple[TaskColumns, int, list[ProvinceRow] | bytes]] = []
    for key in sorted(cells):  # xsd:integer(?task), ?province
        found_cells = cells[key]
        if len(found_cells) == 1:
            segments.extend(found_cells)
        else:  # two directives with one number (rare): their rows merged in order
            merged = sorted(((c, r) for c, _, rows in found_cells for r in pickle.loads(rows)),
                            key=lambda pair: _within_cell(pair[1]))
            segments.extend((c, 1, [r]) for c, r in merged)
    return Answer(COLUMNS, Rows(segments, {k: v[0] for k, v in notations.items()}))


# ------------------------------------------------------------- from a store's graphs

# The query's answer read from the graphs in two parts, for a store whose build kept no answer
# where this server can read it (a remote store loaded by its own loader, or built from another
# machine): each restatement's plain values, then the directive tasks' own columns once (the
# query repeats a task's text in each of its rows: half the bytes of a directive's answer).
# Same joins as queries/directive-coverage.rq; the lead bodies' names joined with a tab (sorted
# and joined as the kept answer joins them); no ORDER BY (the rows are sorted as kept ones).
_STORED_ROWS = """PREFIX kg: <https://w3id.org/kgraph/def#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?directiveTask ?province ?status ?plan ?item ?score
       (GROUP_CONCAT(DISTINCT ?leadName; separator="\\t") AS ?lead) ?via ?itemText ?planTask
WHERE {
  $directives
  GRAPH ?coverage { ?directiveTask kg:directive ?directive ; kg:itemNumber ?task . }
  GRAPH ?cells {
    ?cell kg:directiveTask ?directiveTask ; kg:provinceName ?province ;
          kg:coverageStatus ?statusConcept .
  }
  FILTER($province_key = "" || STRENDS(STR(?cells), CONCAT("/province/", $province_key)))
  GRAPH ?ontology { ?statusConcept skos:inScheme kg:CoverageStatuses ; skos:notation ?status }
  OPTIONAL {
    GRAPH ?cells {
      ?restatement kg:directiveTask ?directiveTask ; kg:provinceName ?province ;
                   kg:planTask ?planTask ; kg:plan ?planIri ; kg:alignmentScore ?score .
    }
    GRAPH ?itemGraph { ?planTask kg:itemNumber ?item ; kg:text ?itemText }
    GRAPH ?planGraph { ?planIri kg:sourceFile ?file ; eli:id_local ?plan }
    OPTIONAL { GRAPH ?cells { ?restatement kg:via ?via } }
    OPTIONAL { GRAPH ?cells { ?restatement kg:leadBodyName ?leadName } }
  }
}
GROUP BY ?directiveTask ?province ?status ?plan ?item ?score ?via ?itemText ?planTask"""
_STORED_TASKS = """PREFIX kg: <https://w3id.org/kgraph/def#>
SELECT ?directiveTask ?task ?reconstructed ?confidence ?taskText WHERE {
  $directives
  GRAPH ?coverage {
    ?directiveTask kg:directive ?directive ; kg:itemNumber ?task ; kg:text ?taskText ;
                   kg:reconstructed ?reconstructed ; kg:alignmentConfidence ?confidence .
  }
}"""
STORED_VALUE = f"directive-coverage-stored-{FORMAT}"  # per version, directive and province
# The directives the two texts read ($directives): those numbered so, or the ones given.
_NUMBERED = "{ SELECT DISTINCT ?directive WHERE { ?directive kg:numberKey $doc_key } }"


def _literal(text: str) -> str:
    from rdflib import Literal

    return Literal(text).n3()


_NOTATIONS = """PREFIX kg: <https://w3id.org/kgraph/def#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?concept ?notation WHERE {
  GRAPH ?g { ?concept skos:inScheme kg:CoverageStatuses ; skos:notation ?notation } }"""
_DIRECTIVES = """PREFIX kg: <https://w3id.org/kgraph/def#>
SELECT DISTINCT ?directive ?key WHERE { ?directive kg:numberKey ?key }"""
_DIRECTIVE_OF = """PREFIX kg: <https://w3id.org/kgraph/def#>
SELECT DISTINCT ?directive WHERE { ?directive kg:numberKey $doc_key }"""


def kept_rows(repo: Repository, values: dict[str, str]) -> Answer | None:
    """The ``directive-coverage`` answer for ``values`` (``doc``, ``province``) from what the
    build kept for the store's version: the query's rows in its order, read in a fraction of
    the query's time (a national directive's 56,200 rows at 20,000 plans: the query 4.5 s of
    CPU). None when the query must answer (no ``doc``; a version ``kgraph coverage`` wrote).
    A remote store's rows are read from its coverage graphs (:func:`stored_answer`)."""
    import pyoxigraph as ox

    from kgraph.graph.iris import directive_graph_iri  # (not the coverage module: numpy)
    from kgraph.store.derived import derived, store_root

    doc = values.get("doc")
    if not doc:
        return None
    province_key = slugify(values.get("province") or "")
    before = previous(repo)
    native = getattr(repo, "native", None)
    if not isinstance(native, ox.Store):
        from kgraph.store.remote import RemoteRepository  # (only then: an HTTP client's imports)

        if not isinstance(repo, RemoteRepository):
            return None
        # the answer a build over this store kept for the version it wrote (in this machine's
        # cache, under the version token it stamped: a write by anyone since is a new token),
        # else the rows read from the coverage graphs
        kept = _remote_kept(repo, before, slugify(doc), province_key)
        return kept if kept is not None else stored_answer(repo, slugify(doc), province_key)
    found = [s["directive"].value for s in native.query(
        _DIRECTIVES, use_default_graph_as_union=True,
        substitutions={ox.Variable("key"): ox.Literal(slugify(doc))})]
    known = before.directives if before is not None else {}
    wanted = []
    for iri in found:
        if iri in known:
            wanted.append(iri)
        elif native.query(f"ASK {{ GRAPH <{directive_graph_iri(iri)}> {{ ?s ?p ?o }} }}"):
            return None  # coverage this version keeps no answer for
    notations = derived(repo, "coverage-status-notations", lambda: _notations(
        (s["concept"].value, s["notation"].value)
        for s in native.query(_NOTATIONS, use_default_graph_as_union=True)))
    return read(repo, store_root(repo), wanted, province_key, notations)


def _remote_kept(repo: Repository, before: KeptAnswers | None, doc_key: str,
                 province_key: str) -> Answer | None:
    """:func:`kept_rows` from what a build over the remote store kept for its version; None
    when it kept nothing for the directive (the rows are then read from the graphs)."""
    from kgraph.graph.iris import directive_graph_iri
    from kgraph.store.derived import derived, kept_root

    if before is None:
        return None
    wanted = []
    for (iri,) in plain_rows(repo, _DIRECTIVE_OF.replace("$doc_key", _literal(doc_key))):
        if iri is not None and iri in before.directives:
            wanted.append(iri)
        elif iri is not None and plain_rows(repo, f"SELECT ?s WHERE {{ GRAPH <"
                                                  f"{directive_graph_iri(iri)}> {{ ?s ?p ?o }} }}"
                                                  " LIMIT 1"):
            return None
    notations = derived(repo, "coverage-status-notations",
                        lambda: _notations(plain_rows(repo, _NOTATIONS)))
    return read(repo, kept_root(repo), wanted, province_key, notations, before)


def _notations(rows: Iterable[tuple[str | None, ...]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for concept, notation in rows:
        if concept is not None and notation is not None:
            found.setdefault(concept, []).append(notation)
    return found


def _boolean(value: str | None) -> bool:
    return value in ("true", "1")


def stored_answer(repo: Repository, doc_key: str, province_key: str) -> Answer:
    """The query's answer (a directive's rows, one province's when ``province_key``) read from
    the coverage graphs the build wrote, in the kept answer's form and order: the rows a kept
    answer gives for the same graphs. Computed once per store version and kept with the
    version's derived data on disk (a remote store's: in this server's cache folder)."""
    from kgraph.store.derived import derived_on_disk

    return derived_on_disk(repo, f"{STORED_VALUE}-{doc_key}-{province_key}",
                   lambda: _stored_answer(repo, doc_key, province_key))


def _stored_answer(repo: Repository, doc_key: str, province_key: str) -> Answer:
    directives = _NUMBERED.replace("$doc_key", _literal(doc_key))
    cells = _stored_cells(repo, directives, province_key)
    segments: list[tuple[TaskColumns, int, list[ProvinceRow] | bytes]] = []
    for key in sorted(cells):  # xsd:integer(?task), ?province
        found = sorted(cells[key], key=lambda pair: _within_cell(pair[1]))
        if len({task for task, _ in found}) == 1:
            segments.append((found[0][0], len(found), pickle.dumps(
                [row for _, row in found], protocol=pickle.HIGHEST_PROTOCOL)))
        else:  # two directives with one number (as :func:`read` merges their kept rows)
            segments.extend((task, 1, [row]) for task, row in found)
    notations = {row[1]: row[1] for found in cells.values() for _, row in found}
    return Answer(COLUMNS, Rows(segments, notations))


Cells = dict[tuple[tuple[int, int], str], list[tuple[TaskColumns, ProvinceRow]]]


def _stored_cells(repo: Repository, directives: str, province_key: str) -> Cells:
    """The rows the coverage graphs state for ``directives`` (the texts' directive selection),
    one province's when ``province_key``: (task number, province) -> (the task's columns, the
    row, its status as the notation), unordered."""
    province = _literal(province_key)
    tasks: dict[str, TaskColumns] = {}
    for directive_task, number, reconstructed, confidence, text in plain_rows(
            repo, _STORED_TASKS.replace("$directives", directives)):
        if directive_task is None or number is None:
            continue
        tasks[directive_task] = (number, "true" if _boolean(reconstructed) else "false",
                                 decimal(float(confidence or 0)), text or "")
    cells: Cells = {}
    for directive_task, name, status, plan, item, score, lead, via, item_text, plan_task in \
            plain_rows(repo, _STORED_ROWS.replace("$directives", directives)
                        .replace("$province_key", province)):
        task = tasks.get(directive_task or "")
        if task is None or name is None or status is None:
            continue  # a task the query's inner join leaves out
        leads = "; ".join(sorted(set(lead.split("\t")))) if lead else None
        number = (1, int(task[0])) if task[0].isdigit() else (0, 0)
        cells.setdefault((number, name), []).append((task, (
            name, status, plan, item, None if score is None else decimal(float(score)),
            leads, via, item_text, plan_task)))
    return cells


# ------------------------------------------------- kept after the fact (``kgraph keep``)

_COVERED = """PREFIX kg: <https://w3id.org/kgraph/def#>
SELECT DISTINCT ?directive WHERE { GRAPH ?coverage { ?task kg:directive ?directive } }"""


def keep_stored(repo: Repository) -> int | None:
    """Keep the answers of every directive whose coverage graphs the store holds, read from
    those graphs, as the build that wrote them would have kept them, for the store's current
    version: for a store no build over it wrote here (a server its own bulk loader filled),
    whose first ``directive-coverage`` of a national directive its engine would otherwise
    answer (56,161 rows at 20,000 plans). None when the version has them kept already (nothing
    done); else how many directives were kept."""
    from kgraph.analysis.plan_parts import carrying_out
    from kgraph.store.derived import derived, kept_root
    from kgraph.store.embedded import writable_iri

    if previous(repo) is not None:
        return None
    notations = derived(repo, "coverage-status-notations",
                        lambda: _notations(plain_rows(repo, _NOTATIONS)))
    concept_of = {found[0]: concept for concept, found in notations.items() if len(found) == 1}
    stage = StageAnswers(full=True)
    for (iri,) in plain_rows(repo, _COVERED):
        if iri is None or not writable_iri(iri):
            continue  # (a query cannot name it: the graphs' rows answer it)
        cells = _stored_cells(repo, f"VALUES ?directive {{ <{iri}> }}", "")
        parts: dict[str, Part] = {}
        tasks: dict[str, tuple[bool, str, str]] = {}
        statuses = {row[1] or "" for found in cells.values() for _, row in found}
        if not statuses <= concept_of.keys():
            continue  # a status no single concept names: the graphs' rows answer it
        for (_, name), found in cells.items():
            for (number, reconstructed, confidence, text), row in found:
                tasks[number] = (reconstructed == "true", confidence, text)
                parts.setdefault(name, {}).setdefault(number, []).append(
                    (row[0], concept_of[row[1] or ""], *row[2:]))  # type: ignore[arg-type]
        for part in parts.values():
            for rows in part.values():
                rows.sort(key=_within_cell)
        packed: dict[str, str | PackedPart] = {
            slugify(name): pack(name, part) for name, part in parts.items()}
        stage.directives[iri] = (True, DirectiveAnswer(
            iri, tasks, packed, frozenset(carrying_out(repo, [iri]))), set())
    keep(repo, kept_root(repo), None, stage)
    return len(stage.directives)
