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
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from kgraph.graph.iris import graph_iri
from kgraph.graph.vocab import ID, KG, sparql_prefixes
from kgraph.ingest.text import ocr_fold
from kgraph.resources import as_ntriples
from kgraph.store.embedded import Repository

COVERAGE_THRESHOLD = 0.20  # task -> duty: below it a duty does not carry the task out
ALIGNMENT_THRESHOLD = 0.30  # task -> task across plans: below it the other plan lacks the task
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.;])\s+")


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

    def to_graph(self) -> Graph:
        """kg:coveredBy links with a qualified kg:Coverage node carrying the score."""
        graph = Graph()
        for link in self.links:
            task, duty = URIRef(link.task), URIRef(link.duty)
            digest = hashlib.sha1(link.duty.encode("utf-8")).hexdigest()[:10]
            node = URIRef(f"{link.task}/coverage/{digest}")
            graph.add((task, KG.coveredBy, duty))
            graph.add((task, KG.qualifiedCoverage, node))
            graph.add((node, RDF.type, KG.Coverage))
            graph.add((node, KG.coveringDuty, duty))
            graph.add((node, KG.coverageScore, Literal(f"{link.score:.3f}", datatype=XSD.decimal)))
        return graph


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


@functools.lru_cache(maxsize=200_000)
def _terms(text: str) -> tuple[str, ...]:
    """Folding is most of the cost of a comparison, and the same task is compared with many
    duties and peers: each text is folded once per process."""
    words = _WORD.findall(ocr_fold(text))
    return (*words, *(f"{a} {b}" for a, b in pairwise(words)))


class TfIdf:
    """TF-IDF vectors over a fixed collection of texts (smoothed IDF, L2-normalised)."""

    def __init__(self, texts: Iterable[str]) -> None:
        bags = [Counter(terms(t)) for t in texts]
        df: Counter[str] = Counter(term for bag in bags for term in bag)
        n = len(bags)
        self.idf = {term: math.log((1 + n) / (1 + count)) + 1 for term, count in df.items()}

    def vector(self, text: str) -> dict[str, float]:
        bag = Counter(terms(text))
        vec = {t: (1 + math.log(c)) * self.idf.get(t, 1.0) for t, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def similarity_matrix(left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
    """Cosine of every left text against every right text (IDF over both)."""
    model = TfIdf([*left, *right])
    right_vectors = [model.vector(t) for t in right]
    left_vectors = [model.vector(t) for t in left]  # once each, not once per pair
    return [[cosine(v, r) for r in right_vectors] for v in left_vectors]


# ---------------------------------------------------------------------------- reading the store

def _records(repo: Repository, sparql: str) -> list[dict[str, str | None]]:
    return repo.query(sparql_prefixes() + sparql).records()


def plan_tasks(repo: Repository, plan: str) -> list[Item]:
    """The leaf tasks of a plan, in source order."""
    rows = _records(repo, f"""
        SELECT DISTINCT ?task ?no ?text ?src ?start ?group WHERE {{
          ?task a kg:Task ; kg:partOf <{plan}> ; kg:itemNumber ?no .
          OPTIONAL {{ ?task kg:text ?text }} OPTIONAL {{ ?task kg:sourceText ?src }}
          OPTIONAL {{ ?task kg:sourceStart ?start }}
          OPTIONAL {{ ?parent kg:subTask ?task . ?parent kg:text ?group }}
          OPTIONAL {{ ?task kg:subTask ?child }}
          FILTER (!BOUND(?child))
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
                         row["group"] or "")
        order[iri] = int(row["start"] or 0)
    return sorted(seen.values(), key=lambda item: (order[item.iri], item.iri))


def source_plans(repo: Repository, number_key: str | None = None) -> list[tuple[str, str, str]]:
    """(IRI, number, province) of every source document, or of the one with this number key."""
    # Each hop DISTINCT on its own: a province's label is restated in every graph, and a plan's
    # province in every plan citing it; joined directly they multiply into millions of rows.
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
    return cover(plan, number, plan_tasks(repo, plan), plan_duties(repo, plan))


def coverage_for(repo: Repository, number_key: str | None = None) -> list[PlanCoverage]:
    return [plan_coverage(repo, iri, number) for iri, number, _ in source_plans(repo, number_key)]


def store_coverage(repo: Repository, coverages: Iterable[PlanCoverage]) -> list[str]:
    """Replace each plan's coverage graph (one transaction); returns the graph names."""
    payload = {c.graph_name(): as_ntriples(c.to_graph()) for c in coverages}
    repo.replace_graphs(payload)
    return list(payload)


# ---------------------------------------------------------------------------- peers

def directive_groups(repo: Repository) -> dict[str, list[tuple[str, str, str]]]:
    """Directive number -> the source plans that carry it out, directly or through others."""
    rows = _records(repo, """
        SELECT DISTINCT ?directive ?plan ?number ?province WHERE {
          ?plan kg:sourceFile ?file ; eli:id_local ?number ; kg:implements+ ?target .
          ?target eli:id_local ?directive .
          FILTER (REGEX(STR(?directive), "-(CT|NQ|KL)/TW$"))
          OPTIONAL { ?plan kg:province/skos:prefLabel ?province }
        } ORDER BY ?directive ?number""")
    groups: dict[str, dict[str, tuple[str, str, str]]] = defaultdict(dict)
    for row in rows:
        plan = row["plan"] or ""
        groups[row["directive"] or ""].setdefault(
            plan, (plan, row["number"] or "", row["province"] or ""))
    return {d: list(p.values()) for d, p in groups.items() if len(p) > 1}


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
