"""Coverage, the auditor's core question: is every task of a plan given to someone?

Each task of a plan's tasks section (kg:Task under kg:hasTask / kg:subTask; the leaves, since a
group heading is covered through its items) is linked to the duties of the plan's assignments
(kg:Duty) whose text is similar enough. Similarity is the cosine of TF-IDF vectors over the
diacritic-folded text (:func:`kgraph.ingest.text.ocr_fold`: `fold` plus repair of
OCR look-alikes such as "S6" for "Sở"), with single syllables and syllable pairs as
terms (Vietnamese words are mostly two syllables: "tre em", "cham soc").

Why TF-IDF and not rapidfuzz's token_set_ratio: token_set_ratio scores 100 whenever one text's
words are a subset of the other's, so a short task ("Tuyên truyền Chỉ thị") matches every long
duty; and it weighs "trẻ em", present in every sentence of these plans, like a rare term. IDF,
computed over all tasks and duties compared, discounts such words. Threshold
:data:`COVERAGE_THRESHOLD` = 0.20: on the seeds, duties written for a task score 0.25-0.6 against
it, unrelated pairs of the same plan mostly below 0.15 (see docs/audit.md).

Links are stored with their score in one named graph per plan, ``id/graph/coverage/...``, so
rebuilding the coverage of one plan replaces exactly that graph.

Across plans (:func:`compute_directive_coverage`): each task of a directive (its own outline, or
one reconstructed by :mod:`kgraph.analysis.alignment` from the plans carrying it out) is linked
to every province's restating items, the duties covering them (the links above) and their lead
and coordinating bodies; one derived graph per directive, ``id/graph/directive-coverage/...``,
read back in one go by :func:`read_matrix` for the auditor's matrix (docs/coverage.md).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import operator
import re
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain, count, pairwise
from types import SimpleNamespace

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS, XSD

from kgraph.analysis import alignment as al
from kgraph.graph.iris import directive_graph_iri, graph_iri, province_graph_iri
from kgraph.graph.vocab import ID, KG, sparql_prefixes
from kgraph.ingest.text import ocr_fold, slugify
from kgraph.resources import as_ntriples
from kgraph.store.embedded import Repository

COVERAGE_THRESHOLD = 0.20  # task -> duty: below it a duty does not carry the task out
ALIGNMENT_THRESHOLD = 0.30  # task -> task across plans: below it the other plan lacks the task
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.;])\s+")
_DIRECTIVE = re.compile(r"-(CT|NQ|KL)/TW\Z")  # a Party directive, resolution or conclusion


@dataclass(frozen=True)
class Item:
    """A task or duty with what the report quotes: number, text and raw source span."""

    iri: str
    plan: str
    no: str
    text: str
    source_text: str = ""
    context: str = ""  # the group heading of a task, the assignment heading of a duty


@dataclass(frozen=True)
class Link:
    task: str
    duty: str
    score: float


@dataclass
class PlanCoverage:
    """Coverage of one plan: the links found and the tasks no duty covers."""

    plan: str
    number: str
    tasks: list[Item]
    duties: list[Item]
    links: list[Link] = field(default_factory=list)

    @property
    def uncovered(self) -> list[Item]:
        covered = {link.task for link in self.links}
        return [task for task in self.tasks if task.iri not in covered]

    def graph_name(self) -> str:
        return coverage_graph_iri(self.plan)

    def triples(self) -> list[tuple[URIRef, URIRef, URIRef | Literal]]:
        """kg:coveredBy links with a qualified kg:Coverage node carrying the score."""
        triples: list[tuple[URIRef, URIRef, URIRef | Literal]] = []
        for link in self.links:
            task, duty = URIRef(link.task), URIRef(link.duty)
            digest = hashlib.sha1(link.duty.encode("utf-8")).hexdigest()[:10]
            node = URIRef(f"{link.task}/coverage/{digest}")
            triples += [(task, KG.coveredBy, duty), (task, KG.qualifiedCoverage, node),
                        (node, RDF.type, KG.Coverage), (node, KG.coveringDuty, duty),
                        (node, KG.coverageScore,
                         Literal(f"{link.score:.3f}", datatype=XSD.decimal))]
        return triples

    def to_graph(self) -> Graph:
        graph = Graph()
        for triple in self.triples():
            graph.add(triple)
        return graph

    def to_ntriples(self) -> str:
        """``as_ntriples(self.to_graph())``: the lines of :meth:`triples` written as strings
        straight away (the build does it per plan; rdflib's terms cost 1.7 ms a plan)."""
        kg = str(KG)
        covered, qualified, kind = (f"<{kg}coveredBy>", f"<{kg}qualifiedCoverage>",
                                    f"<{RDF.type}> <{kg}Coverage> .\n")
        duty_p, score_p = f"<{kg}coveringDuty>", f"<{kg}coverageScore>"
        decimal = f"^^<{XSD.decimal}> .\n"
        lines = set()
        for link in self.links:
            task, duty = f"<{link.task}>", f"<{link.duty}>"
            digest = hashlib.sha1(link.duty.encode("utf-8")).hexdigest()[:10]
            node = f"<{link.task}/coverage/{digest}>"
            lines.update((f"{task} {covered} {duty} .\n", f"{task} {qualified} {node} .\n",
                          f"{node} {kind}", f"{node} {duty_p} {duty} .\n",
                          f'{node} {score_p} "{link.score:.3f}"{decimal}'))
        return "".join(sorted(lines))


@dataclass(frozen=True)
class PeerGap:
    """A task of another plan carrying out the same directive that this plan has no match for."""

    plan: str
    number: str
    province: str
    peer_number: str
    peer_province: str
    task: Item
    best: float


@dataclass
class DirectiveAlignment:
    directive: str
    plans: list[tuple[str, str, str]]  # (plan IRI, number, province)
    gaps: list[PeerGap] = field(default_factory=list)

    def by_province(self) -> dict[str, list[PeerGap]]:
        grouped: dict[str, list[PeerGap]] = defaultdict(list)
        for gap in self.gaps:
            grouped[gap.province].append(gap)
        return dict(grouped)


def coverage_graph_iri(plan: str) -> str:
    """``id/graph/coverage/{scope}/{number}/{year}`` for the plan ``id/doc/...``."""
    return str(graph_iri(URIRef(plan))).replace(str(ID) + "graph/", str(ID) + "graph/coverage/", 1)


# ---------------------------------------------------------------------------- similarity

def terms(text: str) -> list[str]:
    """Folded syllables and syllable pairs."""
    return list(_terms(text))


@functools.lru_cache(maxsize=20_000)
def _terms(text: str) -> tuple[str, ...]:
    """Folding is most of the cost of a comparison, and the same task is compared with many
    duties and peers: each text is folded once while it is in use (a bounded cache: a build
    worker folds the texts of thousands of plans, and 200,000 of them held gigabytes)."""
    words = _WORD.findall(ocr_fold(text))
    return (*words, *(f"{a} {b}" for a, b in pairwise(words)))


def similarity_matrix(left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
    """Cosine of every left text against every right text (IDF over both).

    The very floats of scikit-learn's ``TfidfVectorizer(analyzer=terms, sublinear_tf=True)``
    (smoothed IDF ln((1 + n) / (1 + df)) + 1, term frequency 1 + ln tf, L2-normalised rows,
    then the rows' products), computed here without it: importing scikit-learn costs a fresh
    process 1.5-2 s and fitting its vectorizer 5.6 ms a plan, this 1.6 ms. Same floats means
    the same operations in the same order: numpy's ``log`` on the counts and frequencies, and
    every sum taken term by term in the order of the terms' first appearance in the texts
    (the order of scikit-learn's sparse rows; tests/test_reading_stage_equivalence.py
    compares the two).
    """
    if not left or not right:
        return [[] for _ in left]
    import numpy as np

    docs = [Counter(_terms(text)) for text in (*left, *right)]
    rank = dict(zip(dict.fromkeys(chain.from_iterable(docs)), count()))  # first appearance
    if not rank:  # no term at all in any text (empty or punctuation only)
        return [[0.0] * len(right) for _ in left]
    sizes = [len(doc) for doc in docs]
    flat = np.fromiter(map(rank.__getitem__, chain.from_iterable(docs)), dtype=np.intp,
                       count=sum(sizes))
    data = np.fromiter(chain.from_iterable(doc.values() for doc in docs), dtype=np.float64,
                       count=len(flat))
    idf = np.bincount(flat, minlength=len(rank)).astype(np.float64)
    idf += 1.0
    idf = np.full_like(idf, len(docs) + 1, dtype=np.float64) / idf
    np.log(idf, out=idf)
    idf += 1.0
    np.log(data, out=data)
    data += 1.0
    data *= idf[flat]
    # one column a text, one row a term in order of appearance: a reduction over the rows
    # (the outer axis) adds term after term, as scikit-learn's row by row loops do
    weights = np.zeros((len(rank), len(docs)))
    weights[flat, np.repeat(np.arange(len(docs)), sizes)] = data
    norms = np.add.reduce(weights * weights, axis=0)
    np.sqrt(norms, out=norms)
    norms[norms == 0.0] = 1.0  # an empty row stays as it is
    weights /= norms
    mine, theirs = weights[:, :len(left)], weights[:, len(left):]
    shared = np.flatnonzero(mine.any(axis=1) & theirs.any(axis=1))
    if not len(shared):
        return [[0.0] * len(right) for _ in left]
    products = mine[shared][:, :, None] * theirs[shared][:, None, :]
    if products.shape[1] * products.shape[2] == 1:  # one sum: numpy would sum it pairwise
        return [[functools.reduce(operator.add, products.ravel().tolist(), 0.0)]]
    return np.add.reduce(products, axis=0).tolist()


# ---------------------------------------------------------------------------- reading the store

def _records(repo: Repository, sparql: str) -> list[dict[str, str | None]]:
    from kgraph.store.embedded import query_records

    return query_records(repo, sparql_prefixes() + sparql)


def plan_tasks(repo: Repository, plan: str) -> list[Item]:
    """The leaf tasks of a plan that wait for a duty to carry them out, in source order.

    A task that names its own lead body (a labelled "Cơ quan chủ trì:" line, a row of a task
    table) is assigned where it stands: no duty elsewhere in the plan needs to cover it."""
    rows = _records(repo, f"""
        SELECT DISTINCT ?task ?no ?text ?src ?start ?group WHERE {{
          ?task a kg:Task ; kg:partOf <{plan}> ; kg:itemNumber ?no .
          OPTIONAL {{ ?task kg:text ?text }} OPTIONAL {{ ?task kg:sourceText ?src }}
          OPTIONAL {{ ?task kg:sourceStart ?start }}
          OPTIONAL {{ ?parent kg:subTask ?task . ?parent kg:text ?group }}
          OPTIONAL {{ ?task kg:subTask ?child }}
          OPTIONAL {{ ?task kg:leadAgency ?lead }}
          FILTER (!BOUND(?child) && !BOUND(?lead))
        }}""")
    return _items(rows, "task", plan)


def plan_duties(repo: Repository, plan: str) -> list[Item]:
    rows = _records(repo, f"""
        SELECT DISTINCT ?duty ?no ?text ?src ?start ?group WHERE {{
          ?duty a kg:Duty ; kg:partOf <{plan}> ; kg:itemNumber ?no .
          OPTIONAL {{ ?duty kg:text ?text }} OPTIONAL {{ ?duty kg:sourceText ?src }}
          OPTIONAL {{ ?duty kg:sourceStart ?start }}
          OPTIONAL {{ ?assignment kg:hasDuty ?duty . ?assignment kg:text ?group }}
        }}""")
    return _items(rows, "duty", plan)


def _items(rows: list[dict[str, str | None]], key: str, plan: str) -> list[Item]:
    seen: dict[str, Item] = {}
    order: dict[str, int] = {}
    for row in rows:
        iri = row[key] or ""
        if iri in seen:
            continue
        seen[iri] = Item(iri, plan, row["no"] or "", row["text"] or "", row["src"] or "",
                         row.get("group") or "")
        order[iri] = int(row["start"] or 0)
    return sorted(seen.values(), key=lambda item: (order[item.iri], item.iri))


def source_plans(repo: Repository, number_key: str | None = None) -> list[tuple[str, str, str]]:
    """(IRI, number, province) of every source document, or of the one with this number key."""
    # Each hop DISTINCT on its own: a province's label is restated in every graph, and a plan's
    # province in every plan citing it; joined directly they multiply into millions of rows.
    if number_key is not None:  # one number: bound first, then its provinces' labels only
        rows = _records(repo, f"""
            SELECT DISTINCT ?plan ?number ?key ?p WHERE {{
              VALUES ?key {{ {Literal(number_key).n3()} }}
              GRAPH ?g {{ ?plan kg:numberKey ?key ; kg:sourceFile ?file ; eli:id_local ?number
                         OPTIONAL {{ ?plan kg:province ?p }} }} }} ORDER BY ?number""")
        nodes = " ".join(f"<{r['p']}>" for r in rows if r["p"])
        labels: dict[str, str] = {}
        if nodes:
            # the nodes are the plans' kg:province values: no type pattern, which Oxigraph
            # joined to every province's label copies first (0.8 s at 20,000 plans, not 12 ms)
            for label in _records(repo, f"""SELECT DISTINCT ?p ?province WHERE {{
                    VALUES ?p {{ {nodes} }} ?p skos:prefLabel ?province }}"""):
                labels.setdefault(label["p"] or "", label["province"] or "")
        keyed: dict[str, tuple[str, str, str]] = {}
        for row in rows:
            keyed.setdefault(row["plan"] or "", (row["plan"] or "", row["number"] or "",
                                                 labels.get(row["p"] or "", "")))
        return list(keyed.values())
    rows = _records(repo, """
        SELECT ?plan ?number ?key ?province WHERE {
          { SELECT DISTINCT ?plan ?number ?key ?p WHERE {
              GRAPH ?g { ?plan kg:sourceFile ?file ; eli:id_local ?number ; kg:numberKey ?key
                         OPTIONAL { ?plan kg:province ?p } } } }
          OPTIONAL { { SELECT DISTINCT ?p ?province WHERE {
              { SELECT DISTINCT ?p WHERE { ?p a kg:Province } } ?p skos:prefLabel ?province } } }
        } ORDER BY ?number""")
    plans: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        if number_key is None or row["key"] == number_key:
            plans.setdefault(row["plan"] or "", (row["plan"] or "", row["number"] or "",
                                                 row["province"] or ""))
    return list(plans.values())


# ---------------------------------------------------------------------------- coverage

def cover(plan: str, number: str, tasks: list[Item], duties: list[Item],
          threshold: float = COVERAGE_THRESHOLD) -> PlanCoverage:
    """Link each task to every duty scoring at least ``threshold`` against it."""
    result = PlanCoverage(plan, number, tasks, duties)
    if not tasks or not duties:
        return result
    # a duty often bundles several tasks in one paragraph: score it by its best sentence
    owners, segments = [], []
    for index, duty in enumerate(duties):
        for segment in [duty.text, *sentences(duty.text)]:
            owners.append(index)
            segments.append(segment)
    matrix = similarity_matrix([t.text for t in tasks], segments)
    for task, row in zip(tasks, matrix, strict=True):
        best = [0.0] * len(duties)
        for owner, score in zip(owners, row, strict=True):
            best[owner] = max(best[owner], score)
        for duty, score in zip(duties, best, strict=True):
            if score >= threshold:
                result.links.append(Link(task.iri, duty.iri, round(score, 3)))
    return result


def sentences(text: str) -> list[str]:
    """The sentences and ';'-clauses of a duty, when it has more than one."""
    parts = [p.strip() for p in _SENTENCE.split(text) if len(p.strip()) > 20]
    return parts if len(parts) > 1 else []


def plan_coverage(repo: Repository, plan: str, number: str) -> PlanCoverage:
    """The coverage of one plan: from the index of its triples when ``repo`` is a workspace
    holding one (the build's workers: :class:`kgraph.analysis.shacl_compiled.Workspace`, the
    same rows as the queries, without parsing the plan into a store), else queried."""
    index = getattr(getattr(repo, "workspace", None), "index", None)
    if index is not None:
        return cover(plan, number, indexed_items(index, plan, "Task"),
                     indexed_items(index, plan, "Duty"))
    return cover(plan, number, plan_tasks(repo, plan), plan_duties(repo, plan))


def indexed_items(index: object, plan: str, kind: str) -> list[Item]:
    """:func:`plan_tasks` (``kind`` "Task") or :func:`plan_duties` ("Duty") answered from a
    :class:`kgraph.graph.mapping.TripleIndex` of the plan's triples: the same rows, each
    optional value the first stated."""
    out, into = index.out, index.into  # type: ignore[attr-defined]
    kg = str(KG)
    part_of, item_number, text, source, start = (kg + "partOf", kg + "itemNumber", kg + "text",
                                                 kg + "sourceText", kg + "sourceStart")
    parent_link = kg + ("subTask" if kind == "Task" else "hasDuty")
    tasks = kind == "Task"
    rows: list[dict[str, str | None]] = []
    for node in into.get(kg + kind, {}).get(str(RDF.type), ()):
        iri = str(node)
        properties = out.get(iri, {})
        if item_number not in properties or not any(
                str(o) == plan for o in properties.get(part_of, ())):
            continue
        if tasks and (kg + "subTask" in properties or kg + "leadAgency" in properties):
            continue  # a group (its items wait for duties) or a task assigned where it stands
        group = next((str(values[0]) for parent in into.get(iri, {}).get(parent_link, ())
                      if (values := out.get(str(parent), {}).get(text))), None)

        def first(name: str, properties: dict[str, list[object]] = properties) -> str | None:
            values = properties.get(name)
            return str(values[0]) if values else None

        rows.append({kind.lower(): iri, "no": first(item_number), "text": first(text),
                     "src": first(source), "start": first(start), "group": group})
    return _items(rows, kind.lower(), plan)


def coverage_for(repo: Repository, number_key: str | None = None) -> list[PlanCoverage]:
    return [plan_coverage(repo, iri, number) for iri, number, _ in source_plans(repo, number_key)]


def store_coverage(repo: Repository, coverages: Iterable[PlanCoverage]) -> list[str]:
    """Replace each plan's coverage graph (one transaction); returns the graph names."""
    payload = {c.graph_name(): as_ntriples(c.to_graph()) for c in coverages}
    repo.replace_graphs(payload)
    return list(payload)


# ---------------------------------------------------------------------------- peers

def ancestors(plan: str, parents: Mapping[str, Iterable[str]]) -> set[str]:
    """Every document ``plan`` carries out, directly or through others (``parents``: the
    documents each one carries out directly)."""
    seen: set[str] = set()
    frontier = [plan]
    while frontier:
        step = [p for node in frontier for p in parents.get(node, ()) if p not in seen]
        seen.update(step)
        frontier = step
    return seen


def directive_members(directive_numbers: Mapping[str, Iterable[str]],
                      carried_by: Mapping[str, Iterable[str]], plans: Set[str],
                      wanted: Container[str] | None = None) -> dict[str, set[str]]:
    """Directive number -> those ``plans`` carrying it out, directly or through others
    (``directive_numbers``: a directive document's numbers; ``carried_by``: the documents
    carrying each one out directly); ``wanted``: these numbers only. Walked down from each
    directive, not up from every plan: a tenth of the time at 20,000 plans."""
    members: dict[str, set[str]] = defaultdict(set)
    for target, numbers in directive_numbers.items():
        chosen = numbers if wanted is None else [n for n in numbers if n in wanted]
        if chosen:
            below = ancestors(target, carried_by) & plans
            for number in chosen:
                members[number] |= below
    return members


def directive_groups(repo: Repository) -> dict[str, list[tuple[str, str, str]]]:
    """Directive number -> the source plans that carry it out, directly or through others.

    Read as edges and followed here: ``kg:implements+`` evaluated by the store over every
    plan took minutes and gigabytes at 2,000 plans; four DISTINCT reads and a walk down from
    each directive (:func:`directive_members`) are linear in the corpus."""
    carried_by: dict[str, set[str]] = defaultdict(set)
    for row in _records(repo, "SELECT DISTINCT ?s ?o WHERE { ?s kg:implements ?o }"):
        carried_by[row["o"] or ""].add(row["s"] or "")
    directive_numbers: dict[str, set[str]] = defaultdict(set)
    for row in _records(repo, """
            SELECT DISTINCT ?d ?n WHERE {
              { SELECT DISTINCT ?d WHERE { ?x kg:implements ?d } } ?d eli:id_local ?n }"""):
        if _DIRECTIVE.search(row["n"] or ""):
            directive_numbers[row["d"] or ""].add(row["n"] or "")
    plans: dict[str, tuple[str, str]] = {}
    for row in _records(repo, """
            SELECT DISTINCT ?plan ?number WHERE { ?plan kg:sourceFile ?file ;
                                                         eli:id_local ?number }"""):
        plan, number = row["plan"] or "", row["number"] or ""
        if plan not in plans or number < plans[plan][0]:
            plans[plan] = (number, "")
    provinces: dict[str, str] = {}
    for row in _records(repo, """
            SELECT DISTINCT ?plan ?province WHERE {
              { SELECT DISTINCT ?plan ?p WHERE { ?plan kg:sourceFile ?file ; kg:province ?p } }
              { SELECT DISTINCT ?p ?province WHERE {
                  { SELECT DISTINCT ?p WHERE { ?p a kg:Province } } ?p skos:prefLabel ?province } }
            }"""):
        plan, label = row["plan"] or "", row["province"] or ""
        if plan not in provinces or label < provinces[plan]:
            provinces[plan] = label
    groups = directive_members(directive_numbers, carried_by, plans.keys())
    return {d: sorted(((plan, plans[plan][0], provinces.get(plan, "")) for plan in members),
                      key=lambda p: (p[1], p[0]))
            for d, members in sorted(groups.items()) if len(members) > 1}


def align(directive: str, plans: list[tuple[str, str, str]], tasks: dict[str, list[Item]],
          threshold: float = ALIGNMENT_THRESHOLD) -> DirectiveAlignment:
    """For each plan, the tasks of the other plans it has no similar task for."""
    alignment = DirectiveAlignment(directive, plans)
    for plan, number, province in plans:
        mine = tasks.get(plan, [])
        for peer, peer_number, peer_province in plans:
            theirs = tasks.get(peer, [])
            if peer == plan or not theirs:
                continue
            matrix = similarity_matrix([t.text for t in theirs], [t.text for t in mine])
            for task, row in zip(theirs, matrix, strict=True):
                best = max(row, default=0.0)
                if best < threshold:
                    alignment.gaps.append(PeerGap(plan, number, province, peer_number,
                                                  peer_province, task, round(best, 3)))
    return alignment


def alignments(repo: Repository, number_key: str | None = None) -> list[DirectiveAlignment]:
    """Alignments of every directive two or more source plans carry out."""
    result = []
    for directive, plans in directive_groups(repo).items():
        if number_key and number_key not in {_key(directive), *(_key(p[1]) for p in plans)}:
            continue
        tasks = {plan: plan_tasks(repo, plan) for plan, _, _ in plans}
        result.append(align(directive, plans, tasks))
    return result


def _key(number: str) -> str:
    from kgraph.graph.iris import number_key

    return number_key(number)


# ---------------------------------------------------------------------------- directive coverage
#
# Directive task -> each implementing plan's items (per province, through intermediate plans)
# -> the duties covering them (the plan-level links above) -> lead and coordinating bodies.
# Stored in one derived named graph per directive, ``id/graph/directive-coverage/...``, so
# SPARQL (queries/directive-coverage.rq) and the matrix page read it without recomputing.

class Status(StrEnum):
    """What a province made of a directive task (one cell of the auditor's matrix)."""

    ASSIGNED = "assigned"  # a plan item, and a named body leads it
    COLLECTIVE = "collective"  # given only to a collective ("các sở, ngành")
    UNASSIGNED = "unassigned"  # a plan item, but no duty gives it to anyone
    DROPPED = "dropped"  # no plan of the province restates the task


STATUS_CONCEPT = {Status.ASSIGNED: KG.TaskAssigned, Status.COLLECTIVE: KG.TaskCollectiveOnly,
                  Status.UNASSIGNED: KG.TaskUnassigned, Status.DROPPED: KG.TaskDropped}
STATUS_LABELS = {  # vi, en
    Status.ASSIGNED: ("có cơ quan chủ trì", "lead body named"),
    Status.COLLECTIVE: ("chỉ giao cho tập thể", "given only to a collective"),
    Status.UNASSIGNED: ("nhiệm vụ không có cơ quan chịu trách nhiệm",
                        "task without a responsible body"),
    Status.DROPPED: ("không có nhiệm vụ trong kế hoạch", "no plan task"),
}
NO_PROVINCE = "Trung ương"


@dataclass(frozen=True)
class Body:
    iri: str
    label: str
    collective: bool = False


@dataclass(frozen=True)
class ImplementingPlan:
    """A source plan carrying out the directive, and the chain of documents in between."""

    iri: str
    number: str
    province: str
    province_iri: str
    chain: tuple[str, ...] = ()  # numbers of the intermediate documents, nearest the plan first


@dataclass
class Restatement:
    """One plan item restating a directive task, with the bodies its covering duties name."""

    item: al.PlanItem
    score: float
    duties: list[str] = field(default_factory=list)
    leads: list[Body] = field(default_factory=list)
    coordinators: list[Body] = field(default_factory=list)
    responsible: list[Body] = field(default_factory=list)  # addressees of the duties' headings


@dataclass
class Cell:
    task: al.DirectiveTask
    province: str
    province_iri: str
    status: Status
    restatements: list[Restatement] = field(default_factory=list)

    @property
    def leads(self) -> list[Body]:
        found: dict[str, Body] = {}
        for r in self.restatements:
            for body in r.leads or r.responsible:
                found.setdefault(body.iri, body)
        return list(found.values())

    @property
    def coordinators(self) -> list[Body]:
        found: dict[str, Body] = {}
        for r in self.restatements:
            for body in r.coordinators:
                found.setdefault(body.iri, body)
        return list(found.values())


@dataclass
class DirectiveCoverage:
    """The directive's tasks × the provinces whose plans carry it out."""

    directive: str  # number
    directive_iri: str
    outline: al.Outline
    plans: list[ImplementingPlan]
    provinces: dict[str, str]  # label -> IRI
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)  # (task no, province)

    def graph_name(self) -> str:
        return directive_graph_iri(self.directive_iri)

    def task_iri(self, task: al.DirectiveTask) -> str:
        return f"{self.directive_iri}/directive-task/{task.no}"

    def to_graph(self) -> Graph:
        """kg:DirectiveTask nodes, kg:Restatement links with scores, kg:ProvinceCoverage cells."""
        graph = Graph()
        graph.parse(data=self.to_ntriples(), format="nt")
        return graph

    def to_ntriples(self) -> str:
        """All its graphs' triples as N-Triples (the lines :meth:`graphs` writes): with 400
        plans an rdflib Graph costs seconds to fill and serialise, these lines milliseconds."""
        lines = set()
        for text in self.graphs().values():
            lines.update(text.splitlines(keepends=True))
        return "".join(sorted(lines))

    def province_graph_name(self, province: str) -> str:
        return province_graph_iri(self.directive_iri, province)

    def graphs(self, provinces: Iterable[str] | None = None) -> dict[str, str]:
        """N-Triples of the directive's graph (its tasks) and of each province's graph (the
        province's cells, restatements and the tasks' links to its items; ``provinces``: only
        these): one changed plan rewrites its province's graph, not the whole matrix."""
        wanted = sorted(self.provinces if provinces is None else provinces)
        graphs = {self.graph_name(): _ntriples(self.directive_triples())}
        index = self._by_province()
        for province in wanted:
            graphs[self.province_graph_name(province)] = "".join(sorted(set(
                self.province_lines(province, index))))
        return graphs

    def _by_province(self) -> dict[str, tuple[list[tuple[str, str]], list[Cell]]]:
        """Province -> (task node, item) links and cells: each graph written from its own
        part, not by a scan of the whole matrix (4,000 plans, 40 provinces)."""
        index: dict[str, tuple[list[tuple[str, str]], list[Cell]]] = defaultdict(
            lambda: ([], []))
        for task in self.outline.tasks:
            node = self.task_iri(task)
            for member in task.members:
                index[member.province][0].append((node, member.iri))
        for cell in self.cells.values():
            index[cell.province][1].append(cell)
        return index

    def directive_triples(self) -> Iterator[tuple[URIRef, URIRef, URIRef | Literal]]:
        graph = _TripleSink()
        directive = URIRef(self.directive_iri)
        for task in self.outline.tasks:
            node = URIRef(self.task_iri(task))
            graph.add((node, RDF.type, KG.DirectiveTask))
            graph.add((node, KG.directive, directive))
            graph.add((node, KG.itemNumber, Literal(task.no)))
            graph.add((node, KG.text, Literal(task.label)))
            graph.add((node, KG.reconstructed, Literal(task.reconstructed)))
            graph.add((node, KG.alignmentConfidence,
                       Literal(f"{task.confidence:.3f}", datatype=XSD.decimal)))
            graph.add((node, KG.supportingPlans, Literal(len(task.plans))))
            if task.outline_task:
                graph.add((node, PROV.wasDerivedFrom, URIRef(task.outline_task)))
        yield from graph.triples

    def province_lines(self, province: str,
                       index: dict[str, tuple[list[tuple[str, str]], list[Cell]]] | None = None
                       ) -> Iterator[str]:
        """A province's graph as N-Triples lines (its task links, cells and restatements),
        written from strings as ``_ntriples`` writes rdflib terms, without an rdflib term per
        node (a province's graph at 20,000 plans is 27,000 triples; a full build writes 250)."""
        iri, text = _nt_iri, _nt_literal
        k = _kg_lines()
        plan_of = {p.iri: p for p in self.plans}
        links, cells = (index or self._by_province()).get(province, ([], []))
        for node, member in links:
            yield f"{iri(node)} {k.derived} {iri(member)} .\n"
        for cell in cells:
            task_iri = self.task_iri(cell.task)
            task_node = iri(task_iri)
            node = iri(f"{task_iri}/province/{slugify(cell.province)}")
            name = text(cell.province, "vi", "")
            yield f"{node} {k.type} {k.ProvinceCoverage} .\n"
            yield f"{node} {k.directiveTask} {task_node} .\n"
            yield f"{node} {k.provinceName} {name} .\n"
            if cell.province_iri:
                yield f"{node} {k.province} {iri(cell.province_iri)} .\n"
            yield f"{node} {k.coverageStatus} {iri(str(STATUS_CONCEPT[cell.status]))} .\n"
            for body in cell.leads:
                yield f"{node} {k.leadBody} {iri(body.iri)} .\n"
                yield f"{node} {k.leadBodyName} {text(body.label, 'vi', '')} .\n"
            for body in cell.coordinators:
                yield f"{node} {k.coordinatingBody} {iri(body.iri)} .\n"
            for r in cell.restatements:
                item = iri(r.item.iri)
                digest = hashlib.sha1(r.item.iri.encode("utf-8")).hexdigest()[:10]
                link = iri(f"{task_iri}/restatement/{digest}")
                yield f"{task_node} {k.restatedBy} {item} .\n"
                yield f"{node} {k.planTask} {item} .\n"
                yield f"{link} {k.type} {k.Restatement} .\n"
                yield f"{link} {k.directiveTask} {task_node} .\n"
                yield f"{link} {k.planTask} {item} .\n"
                yield f"{link} {k.plan} {iri(r.item.plan)} .\n"
                yield f"{link} {k.provinceName} {name} .\n"
                yield f"{link} {k.alignmentScore} {_nt_decimal(f'{r.score:.3f}')} .\n"
                plan = plan_of.get(r.item.plan)
                if plan and plan.chain:
                    yield f"{link} {k.via} {text(' → '.join(plan.chain), None, '')} .\n"
                for duty in r.duties:
                    yield f"{link} {k.coveringDuty} {iri(duty)} .\n"
                for body in r.leads or r.responsible:
                    yield f"{link} {k.leadBody} {iri(body.iri)} .\n"
                    yield f"{link} {k.leadBodyName} {text(body.label, 'vi', '')} .\n"
                for body in r.coordinators:
                    yield f"{link} {k.coordinatingBody} {iri(body.iri)} .\n"


@functools.cache
def _kg_lines() -> SimpleNamespace:
    """The province graphs' predicates and classes in N-Triples, made once."""
    terms = {name: _nt(value) for name, value in vars(_kg_terms()).items()}
    return SimpleNamespace(**terms, type=_nt(RDF.type), derived=_nt(PROV.wasDerivedFrom))


@functools.lru_cache(maxsize=10_000)
def _nt_decimal(value: str) -> str:
    """A score as an rdflib decimal literal of it writes (a thousand
    values at most)."""
    return _nt(Literal(value, datatype=XSD.decimal))


@functools.cache
def _kg_terms() -> SimpleNamespace:
    """kgraph's terms the province graphs use, made once."""
    names = ["ProvinceCoverage", "Restatement", "alignmentScore", "coordinatingBody",
             "coverageStatus", "coveringDuty", "directiveTask", "leadBody", "leadBodyName",
             "plan", "planTask", "province", "provinceName", "restatedBy", "via"]
    return SimpleNamespace(**{name: KG[name] for name in names})


def _ntriples(triples: Iterable[tuple[URIRef, URIRef, URIRef | Literal]]) -> str:
    return "".join(sorted({f"{_nt(s)} {_nt(p)} {_nt(o)} .\n" for s, p, o in triples}))


class _TripleSink:
    """Collects triples with rdflib's Graph.add signature."""

    def __init__(self) -> None:
        self.triples: list[tuple[URIRef, URIRef, URIRef | Literal]] = []

    def add(self, triple: tuple[URIRef, URIRef, URIRef | Literal]) -> None:
        self.triples.append(triple)


def _nt(term: URIRef | Literal) -> str:
    """One term in N-Triples syntax (pyoxigraph escapes literals as N-Triples requires)."""
    if isinstance(term, Literal):
        return _nt_literal(str(term), term.language, str(term.datatype or ""))
    return _nt_iri(str(term))


@functools.lru_cache(maxsize=100_000)
def _nt_iri(iri: str) -> str:
    """Remembered: a directive's graphs name the same tasks, plans and bodies many times."""
    return str(ox.NamedNode(iri))


@functools.lru_cache(maxsize=100_000)
def _nt_literal(value: str, language: str | None, datatype: str) -> str:
    if language:
        return str(ox.Literal(value, language=language))
    if datatype:
        return str(ox.Literal(value, datatype=ox.NamedNode(datatype)))
    return str(ox.Literal(value))


def directive_of(repo: Repository, doc: str) -> tuple[str, str] | None:
    """(IRI, canonical number) of the document numbered ``doc``, wherever it is mentioned.

    Two lookups: its key and its number are restated in every graph that cites it (400 for
    28-CT/TW in the 2,000-plan corpus), and joining them in one pattern squares that."""
    key = Literal(_key(doc)).n3()
    rows = _records(repo, f"SELECT DISTINCT ?doc WHERE {{ ?doc kg:numberKey {key} }} "
                          "ORDER BY ?doc LIMIT 1")
    if not rows:
        return None
    iri = rows[0]["doc"] or ""
    numbers = _records(repo, f"SELECT ?number WHERE {{ <{iri}> eli:id_local ?number }} LIMIT 1")
    return (iri, numbers[0]["number"] or "") if numbers else None


def implementing_plans(repo: Repository, directive_iri: str, depth: int = 5
                       ) -> list[ImplementingPlan]:
    """Source plans that carry out the directive, directly or through other documents."""
    edges = _records(repo, """
        SELECT DISTINCT ?plan ?target WHERE { ?plan kg:implements ?target }""")
    carried_by: dict[str, set[str]] = defaultdict(set)
    for row in edges:
        carried_by[row["target"] or ""].add(row["plan"] or "")
    # the longest chain wins: 234/KH-UBND carries out 211-KH/TU, which carries out 28-CT/TW,
    # even when it also names 28-CT/TW itself
    chains: dict[str, list[str]] = {directive_iri: []}
    frontier = [directive_iri]
    for _ in range(depth):
        following = []
        for target in frontier:
            for plan in sorted(carried_by.get(target, ())):
                if plan != directive_iri and plan not in chains[target]:
                    chains[plan] = [target, *chains[target]]
                    following.append(plan)
        frontier = following
    rows = _records(repo, """
        SELECT DISTINCT ?plan ?number ?province ?provinceName WHERE {
          ?plan kg:sourceFile ?file ; eli:id_local ?number .
          OPTIONAL { ?plan kg:province ?province .
                     OPTIONAL { ?province skos:prefLabel ?provinceName } }
        }""")
    numbers = {r["plan"]: r["number"] for r in _records(repo, """
        SELECT DISTINCT ?plan ?number WHERE { ?plan kg:numberKey ?key ; eli:id_local ?number }""")}
    plans: dict[str, ImplementingPlan] = {}
    for row in rows:
        plan = row["plan"] or ""
        if plan == directive_iri or plan not in chains or plan in plans:
            continue
        via = tuple(numbers.get(d) or d for d in chains[plan][:-1])
        plans[plan] = ImplementingPlan(plan, row["number"] or "", row["provinceName"] or
                                       NO_PROVINCE, row["province"] or "", via)
    return sorted(plans.values(), key=lambda p: (p.province, p.number))


def _values(iris: Iterable[str]) -> str:
    return " ".join(f"<{i}>" for i in iris)


def tasks_of(repo: Repository, plans: Sequence[str]) -> dict[str, list[Item]]:
    """The leaf tasks of several plans (one query), in source order."""
    if not plans:
        return {}
    rows = _records(repo, f"""
        SELECT DISTINCT ?plan ?task ?no ?text ?src ?start WHERE {{
          VALUES ?plan {{ {_values(plans)} }}
          ?task a kg:Task ; kg:partOf ?plan ; kg:itemNumber ?no .
          OPTIONAL {{ ?task kg:text ?text }} OPTIONAL {{ ?task kg:sourceText ?src }}
          OPTIONAL {{ ?task kg:sourceStart ?start }}
          OPTIONAL {{ ?task kg:subTask ?child }}
          FILTER (!BOUND(?child))
        }}""")
    return _grouped(rows, "task")


def duties_of(repo: Repository, plans: Sequence[str]) -> dict[str, list[Item]]:
    if not plans:
        return {}
    rows = _records(repo, f"""
        SELECT DISTINCT ?plan ?duty ?no ?text ?src ?start WHERE {{
          VALUES ?plan {{ {_values(plans)} }}
          ?duty a kg:Duty ; kg:partOf ?plan ; kg:itemNumber ?no .
          OPTIONAL {{ ?duty kg:text ?text }} OPTIONAL {{ ?duty kg:sourceText ?src }}
          OPTIONAL {{ ?duty kg:sourceStart ?start }}
        }}""")
    return _grouped(rows, "duty")


def _grouped(rows: list[dict[str, str | None]], key: str) -> dict[str, list[Item]]:
    by_plan: dict[str, list[dict[str, str | None]]] = defaultdict(list)
    for row in rows:
        by_plan[row["plan"] or ""].append(row)
    return {plan: _items(group, key, plan) for plan, group in by_plan.items()}


def bodies_of(repo: Repository, plans: Sequence[str]
              ) -> dict[str, dict[str, list[Body]]]:
    """Duty IRI -> role ("lead", "coordinate", "responsible") -> bodies, for several plans."""
    if not plans:
        return {}
    # roles first, labels apart: a body's label is restated in every graph that names it, and
    # joining them in one query multiplies the rows by the number of those graphs
    rows = _records(repo, f"""
        SELECT DISTINCT ?duty ?role ?agency WHERE {{
          VALUES ?plan {{ {_values(plans)} }}
          ?duty a kg:Duty ; kg:partOf ?plan .
          {{ ?duty kg:leadAgency ?agency BIND ("lead" AS ?role) }}
          UNION {{ ?duty kg:coordinatingAgency ?agency BIND ("coordinate" AS ?role) }}
          UNION {{ ?assignment kg:hasDuty ?duty ; kg:addressee ?agency .
                   BIND ("responsible" AS ?role) }}
        }} ORDER BY ?duty ?role ?agency""")
    agencies = sorted({r["agency"] or "" for r in rows})
    labels: dict[str, tuple[str, bool]] = {}
    if agencies:
        for row in _records(repo, f"""
            SELECT ?agency (SAMPLE(?prefLabel) AS ?pref) (SAMPLE(?rawLabel) AS ?raw)
                   (SAMPLE(?isCollective) AS ?collective) WHERE {{
              VALUES ?agency {{ {_values(agencies)} }}
              OPTIONAL {{ ?agency skos:prefLabel ?prefLabel FILTER (LANG(?prefLabel) = "vi") }}
              OPTIONAL {{ ?agency rdfs:label ?rawLabel }}
              OPTIONAL {{ ?agency a kg:CollectiveAddressee BIND (true AS ?isCollective) }}
            }} GROUP BY ?agency"""):
            agency = row["agency"] or ""
            labels[agency] = (row["pref"] or row["raw"] or agency, bool(row["collective"]))
    for row in rows:
        row["label"], collective = labels.get(row["agency"] or "", (row["agency"] or "", False))
        row["collective"] = "true" if collective else None
    roles: dict[str, dict[str, dict[str, Body]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        agency = row["agency"] or ""
        roles[row["duty"] or ""][row["role"] or ""].setdefault(
            agency, Body(agency, row["label"] or "", bool(row["collective"])))
    return {duty: {role: list(bodies.values()) for role, bodies in by_role.items()}
            for duty, by_role in roles.items()}


def outline_source(repo: Repository, directive_iri: str, plans: Sequence[ImplementingPlan],
                   tasks: dict[str, list[Item]]) -> str | None:
    """The document whose tasks are the directive's outline: the directive itself when it is a
    source with tasks, else a plan carrying it out directly with no province (a national plan)."""
    if tasks_of(repo, [directive_iri]).get(directive_iri):
        return directive_iri
    national = [p for p in plans if not p.chain and not p.province_iri and tasks.get(p.iri)]
    return national[0].iri if national else None


@dataclass
class PlanRecord:
    """What the directive coverage needs of one source document, read from its own graph:
    its leaf tasks, the duties covering each (:func:`cover`) and the bodies of each duty.

    The build's workers make it from the graph they have just mapped and keep it by content
    key next to the store, so the coverage stage reads no plan from the store."""

    iri: str
    tasks: list[Item]
    covering: dict[str, list[str]]  # task IRI -> duty IRIs covering it
    bodies: dict[str, dict[str, list[Body]]]  # duty IRI -> role -> bodies


def plan_record(plan: str, number: str, index: object,
                coverage: PlanCoverage | None = None) -> PlanRecord:
    """The record of a document from its triples' index (:class:`kgraph.graph.mapping.
    TripleIndex`): the same answers as :func:`tasks_of`, :func:`duties_of`, :func:`cover` and
    :func:`bodies_of` on a store holding the document. ``coverage``: the document's own
    coverage (:func:`plan_coverage`), reused when it compared the same tasks and duties."""
    out = index.out  # type: ignore[attr-defined]
    kg, rdf_type = str(KG), str(RDF.type)

    def first(subject: str, name: str) -> str:
        found = out.get(subject, {}).get(kg + name)
        return str(found[0]) if found else ""

    def items(kind: str, leaves: bool) -> list[Item]:
        found = []
        for subject, obj in index.by_predicate.get(rdf_type, ()):  # type: ignore[attr-defined]
            iri = str(subject)
            if str(obj) != kg + kind or first(iri, "partOf") != plan:
                continue
            properties = out.get(iri, {})
            if kg + "itemNumber" not in properties or (leaves and kg + "subTask" in properties):
                continue
            start = first(iri, "sourceStart")
            found.append((int(start or 0), iri, Item(iri, plan, first(iri, "itemNumber"),
                                                     first(iri, "text"),
                                                     first(iri, "sourceText"))))
        return [item for _, _, item in sorted(found, key=lambda f: (f[0], f[1]))]

    tasks, duties = items("Task", True), items("Duty", False)
    if not any(str(s) == plan for s, _ in index.by_predicate.get(kg + "implements", ())):  # type: ignore[attr-defined]
        return PlanRecord(plan, tasks, {}, {})  # carries nothing out: only its outline counts
    same = (coverage is not None and [t.iri for t in coverage.tasks] == [t.iri for t in tasks]
            and [d.iri for d in coverage.duties] == [d.iri for d in duties])
    links = (coverage if same and coverage is not None else
             cover(plan, number, tasks, duties)).links
    covering: dict[str, list[str]] = defaultdict(list)
    for link in links:
        covering[link.task].append(link.duty)

    def body(agency: str) -> Body:
        labels = out.get(agency, {})
        pref = [str(v) for v in labels.get(str(SKOS.prefLabel), ())
                if getattr(v, "language", None) == "vi"]
        raw = [str(v) for v in labels.get(str(RDFS.label), ())]
        collective = any(str(t) == kg + "CollectiveAddressee" for t in labels.get(rdf_type, ()))
        return Body(agency, (pref or raw or [agency])[0], collective)

    addressed: dict[str, list[str]] = defaultdict(list)
    for subject, duty in index.by_predicate.get(kg + "hasDuty", ()):  # type: ignore[attr-defined]
        for agency in out.get(str(subject), {}).get(kg + "addressee", ()):
            addressed[str(duty)].append(str(agency))
    bodies: dict[str, dict[str, list[Body]]] = {}
    for duty in duties:
        roles: dict[str, list[Body]] = {}
        for role, agencies in (("coordinate", out.get(duty.iri, {}).get(kg + "coordinatingAgency",
                                                                          ())),
                               ("lead", out.get(duty.iri, {}).get(kg + "leadAgency", ())),
                               ("responsible", addressed.get(duty.iri, ()))):
            names = sorted({str(a) for a in agencies})
            if names:
                roles[role] = [body(a) for a in names]
        if roles:
            bodies[duty.iri] = dict(sorted(roles.items()))
    return PlanRecord(plan, tasks, {t: sorted(d) for t, d in covering.items()}, bodies)


def records_from_store(repo: Repository, plans: Sequence[ImplementingPlan | str]
                       ) -> dict[str, PlanRecord]:
    """Records of several documents read from the store (a store kgraph's build did not write,
    or a document whose record is not kept)."""
    iris = [p if isinstance(p, str) else p.iri for p in plans]
    numbers = {p.iri: p.number for p in plans if not isinstance(p, str)}
    tasks, duties, bodies = tasks_of(repo, iris), duties_of(repo, iris), bodies_of(repo, iris)
    records = {}
    for iri in iris:
        mine, theirs = tasks.get(iri, []), duties.get(iri, [])
        covering: dict[str, list[str]] = defaultdict(list)
        for link in cover(iri, numbers.get(iri, ""), mine, theirs).links:
            covering[link.task].append(link.duty)
        records[iri] = PlanRecord(iri, mine, {t: sorted(d) for t, d in covering.items()},
                                  {d.iri: bodies[d.iri] for d in theirs if d.iri in bodies})
    return records


def outline_of(directive_iri: str, plans: Sequence[ImplementingPlan],
               records: dict[str, PlanRecord]) -> str | None:
    """:func:`outline_source` from records (the directive's own record when it is a source)."""
    own = records.get(directive_iri)
    if own is not None and own.tasks:
        return directive_iri
    national = [p for p in plans if not p.chain and not p.province_iri
                and records.get(p.iri) and records[p.iri].tasks]
    return national[0].iri if national else None


def plan_items(plan: ImplementingPlan, record: PlanRecord | None) -> list[al.PlanItem]:
    mine = record.tasks if record is not None else []
    return [al.PlanItem(t.iri, plan.iri, plan.number, plan.province, t.no, t.text,
                        t.source_text, i / max(len(mine), 1)) for i, t in enumerate(mine)]


def outline_items(outline_iri: str | None, records: dict[str, PlanRecord]) -> list[al.PlanItem]:
    record = records.get(outline_iri or "")
    return [al.PlanItem(t.iri, outline_iri or "", "", "", t.no, t.text, t.source_text)
            for t in (record.tasks if record else [])]


def directive_alignment(number: str, plans: Sequence[ImplementingPlan],
                        records: dict[str, PlanRecord], outline_iri: str | None
                        ) -> al.AlignmentState | None:
    """The progressive alignment of the plans (but the outline source) against the outline."""
    return al.align_state([plan_items(p, records.get(p.iri)) for p in plans
                           if p.iri != outline_iri], outline_items(outline_iri, records))


def assemble(number: str, directive_iri: str, plans: Sequence[ImplementingPlan],
             outline: al.Outline, outline_iri: str | None, records: dict[str, PlanRecord],
             provinces: set[str] | None = None) -> DirectiveCoverage:
    """The matrix: each directive task × each province (or only ``provinces``), its restating
    items, the duties covering them and their bodies."""
    result = DirectiveCoverage(number, directive_iri, outline,
                               [p for p in plans if p.iri != outline_iri],
                               {p.province: p.province_iri for p in plans
                                if p.iri != outline_iri})
    wanted = sorted(p for p in result.provinces if provinces is None or p in provinces)
    members: dict[str, dict[str, list[al.PlanItem]]] = defaultdict(lambda: defaultdict(list))
    for task in outline.tasks:
        for member in task.members:
            members[task.no][member.province].append(member)
    for task in outline.tasks:
        for province in wanted:
            restatements = []
            for member in members[task.no].get(province, []):
                record = records.get(member.plan)
                duties = sorted(record.covering.get(member.iri, [])) if record else []
                r = Restatement(member, task.scores.get(member.iri, 0.0), duties)
                for duty in r.duties:
                    roles = record.bodies.get(duty, {}) if record else {}
                    r.leads.extend(b for b in roles.get("lead", []) if b not in r.leads)
                    r.coordinators.extend(b for b in roles.get("coordinate", [])
                                          if b not in r.coordinators)
                    r.responsible.extend(b for b in roles.get("responsible", [])
                                         if b not in r.responsible)
                restatements.append(r)
            result.cells[(task.no, province)] = Cell(task, province, result.provinces[province],
                                                     _status(restatements), restatements)
    return result


def compute_directive_coverage(repo: Repository, doc: str, *, store: bool = True
                               ) -> DirectiveCoverage | None:
    """Align the plans carrying out ``doc``, link each directive task to the plan items, duties
    and bodies of every province, and (``store``) replace the directive's derived graphs.

    None when no document numbered ``doc`` is in the store or no source plan carries it out.
    Plans' records are read from the store (:func:`records_from_store`); the build uses those
    its workers kept (:mod:`kgraph.analysis.directive_index`).
    """
    found = directive_of(repo, doc)
    if found is None:
        return None
    directive_iri, number = found
    plans = implementing_plans(repo, directive_iri)
    if not plans:
        return None
    records = records_from_store(repo, [directive_iri, *plans])
    outline_iri = outline_of(directive_iri, plans, records)
    state = directive_alignment(number, plans, records, outline_iri)
    outline = (state.result(number) if state is not None
               else al.Outline(number, [], [], outline_iri is None))
    result = assemble(number, directive_iri, plans, outline, outline_iri, records)
    if store:
        graphs = result.graphs()
        for stale in stored_graphs(repo, directive_iri):
            graphs.setdefault(stale, "")
        repo.replace_graphs(graphs)
    return result


def stored_graphs(repo: Repository, directive_iri: str) -> list[str]:
    """Names of the derived graphs holding the directive's coverage now."""
    main = directive_graph_iri(directive_iri)
    rows = _records(repo, f"""
        SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?x kg:directive <{directive_iri}> }} }}""")
    rows += _records(repo, f"""
        SELECT DISTINCT ?g WHERE {{
          {{ SELECT DISTINCT ?t WHERE {{
               GRAPH <{main}> {{ ?t kg:directive <{directive_iri}> }} }} }}
          GRAPH ?g {{ ?c kg:directiveTask ?t }} }}""")
    return sorted({r["g"] or "" for r in rows if (r["g"] or "").startswith(main)})


def _status(restatements: list[Restatement]) -> Status:
    if not restatements:
        return Status.DROPPED
    bodies = [b for r in restatements for b in (r.leads or r.responsible)]
    if not bodies:
        return Status.UNASSIGNED
    if all(b.collective for b in bodies):
        return Status.COLLECTIVE
    return Status.ASSIGNED


def carried_out_directives(repo: Repository) -> list[str]:
    """Numbers of the documents two or more source plans carry out (directives, resolutions)."""
    return sorted(directive_groups(repo))


def compute_all_directive_coverage(repo: Repository) -> list[DirectiveCoverage]:
    """Directive coverage for every directive several source plans carry out (for the build)."""
    results = []
    for directive in carried_out_directives(repo):
        result = compute_directive_coverage(repo, directive)
        if result is not None:
            results.append(result)
    return results


# ---------------------------------------------------------------------------- the stored matrix

@dataclass(frozen=True)
class MatrixTask:
    no: str
    text: str
    reconstructed: bool
    confidence: float


@dataclass(frozen=True)
class MatrixCell:
    status: Status
    leads: tuple[str, ...] = ()


@dataclass
class Matrix:
    """The auditor's matrix as stored: directive tasks × provinces (read in one query)."""

    directive: str
    directive_iri: str
    tasks: list[MatrixTask] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], MatrixCell] = field(default_factory=dict)

    @property
    def reconstructed(self) -> bool:
        return any(t.reconstructed for t in self.tasks)

    def cell(self, task: str, province: str) -> MatrixCell:
        return self.cells.get((task, province), MatrixCell(Status.DROPPED))

    def gaps(self) -> list[tuple[MatrixTask, str, MatrixCell]]:
        return [(t, p, self.cell(t.no, p)) for t in self.tasks for p in self.provinces
                if self.cell(t.no, p).status != Status.ASSIGNED]

    def to_csv(self) -> str:
        """UTF-8 with a byte order mark, so spreadsheet programs read the Vietnamese right."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["nhiệm vụ / task", "nội dung / text", "dựng lại / reconstructed",
                         "độ tin cậy / confidence", *self.provinces])
        for task in self.tasks:
            row = []
            for province in self.provinces:
                cell = self.cell(task.no, province)
                row.append("; ".join(cell.leads) if cell.status == Status.ASSIGNED
                           else f"{STATUS_LABELS[cell.status][0]}"
                           + (f" ({'; '.join(cell.leads)})" if cell.leads else ""))
            writer.writerow([task.no, task.text, "có" if task.reconstructed else "không",
                             f"{task.confidence:.2f}", *row])
        return "\ufeff" + out.getvalue()


_STATUS_OF = {str(concept): status for status, concept in STATUS_CONCEPT.items()}


def read_matrix(repo: Repository, doc: str) -> Matrix | None:
    """The stored directive coverage of ``doc`` (None when it was never computed)."""
    found = directive_of(repo, doc)
    if found is None:
        return None
    directive_iri, number = found
    graph = directive_graph_iri(directive_iri)
    task_rows = _records(repo, f"""
        SELECT ?dt ?task ?text ?reconstructed ?confidence WHERE {{
          GRAPH <{graph}> {{
            ?dt a kg:DirectiveTask ; kg:directive <{directive_iri}> ; kg:itemNumber ?task ;
                kg:text ?text ; kg:reconstructed ?stored ;
                kg:alignmentConfidence ?confidence .
          }}
          BIND(STR(?stored) AS ?reconstructed)  # quoted in Virtuoso's CSV (records)
        }}""")
    if not task_rows:
        return None
    # cells: few columns, so few terms to convert (the page is served from this one query)
    # the cells are in the provinces' graphs: each graph's typed cells, then their leads (a
    # cell's leads joined to it multiply its rows)
    provinces = _values(g for g in stored_graphs(repo, directive_iri) if g != graph)
    rows = _records(repo, f"""
        SELECT ?cell ?dt ?province ?status WHERE {{
          VALUES ?g {{ {provinces} }}
          GRAPH ?g {{ ?cell a kg:ProvinceCoverage ; kg:directiveTask ?dt ;
                           kg:provinceName ?province ; kg:coverageStatus ?status . }}
        }}""") if provinces else []
    lead_of: dict[str, list[str]] = defaultdict(list)
    if provinces:
        for row in _records(repo, f"""
                SELECT ?cell ?lead WHERE {{ VALUES ?g {{ {provinces} }}
                  GRAPH ?g {{ ?cell a kg:ProvinceCoverage ; kg:leadBodyName ?lead }} }}"""):
            lead_of[row["cell"] or ""].append(row["lead"] or "")
    rows = [{**row, "lead": lead} for row in rows
            for lead in (lead_of.get(row["cell"] or "") or [None])]
    matrix = Matrix(number, directive_iri)
    tasks: dict[str, MatrixTask] = {}
    number_of: dict[str, str] = {}
    for row in task_rows:
        no = row["task"] or ""
        number_of[row["dt"] or ""] = no
        tasks[no] = MatrixTask(no, row["text"] or "", row["reconstructed"] == "true",
                               float(row["confidence"] or 0))
    leads: dict[tuple[str, str], list[str]] = defaultdict(list)
    status: dict[tuple[str, str], Status] = {}
    provinces: set[str] = set()
    for row in rows:
        key = (number_of.get(row["dt"] or "", ""), row["province"] or "")
        provinces.add(key[1])
        status[key] = _STATUS_OF.get(row["status"] or "", Status.DROPPED)
        if row["lead"] and row["lead"] not in leads[key]:
            leads[key].append(row["lead"])
    matrix.tasks = sorted(tasks.values(), key=lambda t: (int(t.no) if t.no.isdigit() else 0,
                                                          t.no))
    matrix.provinces = sorted(provinces)
    matrix.cells = {key: MatrixCell(value, tuple(sorted(leads.get(key, []))))
                    for key, value in status.items()}
    return matrix


def kept_matrix(repo: Repository, doc: str) -> Matrix | None:
    """:func:`read_matrix` once per store version: the matrix of a directive carried out
    nationwide is a thousand cells with twelve thousand lead names, read in about 2 s at
    20,000 plans, and it changes only with the store."""
    from kgraph.graph.iris import number_key
    from kgraph.store.derived import derived

    name = "coverage-matrix-" + hashlib.sha256(number_key(doc).encode()).hexdigest()[:24]
    return derived(repo, name, lambda: read_matrix(repo, doc))


def stored_directives(repo: Repository) -> list[tuple[str, int]]:
    """(number, tasks) of every directive whose coverage is stored."""
    rows = _records(repo, """
        SELECT ?number (COUNT(DISTINCT ?task) AS ?tasks) WHERE {
          ?task a kg:DirectiveTask ; kg:directive ?directive .
          { SELECT DISTINCT ?directive ?number WHERE { ?directive eli:id_local ?number } }
        } GROUP BY ?number ORDER BY ?number""")
    return [(r["number"] or "", int(r["tasks"] or 0)) for r in rows]


@dataclass(frozen=True)
class SourceSentence:
    """A plan item restating a directive task, quoted from its source, with its duties."""

    province: str
    plan: str
    no: str
    text: str
    source_text: str
    line: int
    score: float
    via: str
    leads: tuple[str, ...]
    duties: tuple[tuple[str, str], ...]  # (text, raw source) of the covering duties


def cell_sources(repo: Repository, matrix: Matrix, task: str) -> list[SourceSentence]:
    """Every plan item restating the task (all provinces), quoted from the source files."""
    dt = f"{matrix.directive_iri}/directive-task/{task}"
    rows = _records(repo, f"""
        SELECT ?r ?province ?planTask ?planIri ?score ?via ?lead ?duty WHERE {{
          GRAPH ?g {{
            ?r a kg:Restatement ; kg:directiveTask <{dt}> ; kg:provinceName ?province ;
               kg:planTask ?planTask ; kg:plan ?planIri ; kg:alignmentScore ?score .
            OPTIONAL {{ ?r kg:via ?via }} OPTIONAL {{ ?r kg:leadBodyName ?lead }}
            OPTIONAL {{ ?r kg:coveringDuty ?duty }}
          }}
        }}""")
    if not rows:
        return []
    parts = {r["planTask"] or "" for r in rows} | {r["duty"] for r in rows if r["duty"]}
    plans = {r["planIri"] or "" for r in rows}
    texts = {r["part"]: r for r in _records(repo, f"""
        SELECT DISTINCT ?part ?no ?text ?src ?line WHERE {{
          VALUES ?part {{ {_values(parts)} }}
          OPTIONAL {{ ?part kg:itemNumber ?no }} OPTIONAL {{ ?part kg:text ?text }}
          OPTIONAL {{ ?part kg:sourceText ?src }} OPTIONAL {{ ?part kg:sourceLine ?line }}
        }}""")}
    numbers = {r["plan"]: r["number"] for r in _records(repo, f"""
        SELECT DISTINCT ?plan ?number WHERE {{
          VALUES ?plan {{ {_values(plans)} }} ?plan eli:id_local ?number }}""")}
    grouped: dict[str, list[dict[str, str | None]]] = defaultdict(list)
    for row in rows:
        grouped[row["r"] or ""].append(row)
    sentences = []
    for group in grouped.values():
        first = group[0]
        part = texts.get(first["planTask"], {})
        duties = sorted({d for d in (r["duty"] for r in group) if d})
        sentences.append(SourceSentence(
            first["province"] or "", numbers.get(first["planIri"]) or "", part.get("no") or "",
            part.get("text") or "", part.get("src") or "", int(part.get("line") or 0),
            float(first["score"] or 0), first["via"] or "",
            tuple(sorted({r["lead"] for r in group if r["lead"]})),
            tuple((texts.get(d, {}).get("text") or "", texts.get(d, {}).get("src") or "")
                  for d in duties)))
    return sorted(sentences, key=lambda s: (s.province, s.plan, s.line))
