"""The whole-corpus audit as an index: computed once per store version, then paged and filtered.

Auditing every plan on each request took minutes at a few hundred plans. Here the findings are
split by what they depend on:

* one document's findings (its SHACL results and uncovered tasks) depend on its graph only; they
  are kept by content key (shapes and code fingerprint, graph, source SHA-256) in
  :mod:`kgraph.store.derived`, written by ``kgraph build`` while it has the graph at hand, so
  an unchanged plan is never validated twice and re-ingesting one plan re-audits one plan;
* findings across documents (conflicting statements, tasks peers have) are computed once per
  store version.

``/audit`` and ``kgraph audit`` then filter (province, plan, rule, severity) and page the
index in memory: milliseconds whatever the corpus size.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from kgraph.analysis import coverage as cov
from kgraph.analysis.audit import (
    KGSH,
    AuditReport,
    Finding,
    Severity,
    SourceDocument,
    conflict_statements,
    coverage_findings,
    documents_stated_by,
    empty_report,
    peer_findings,
    shacl_findings,
    stored_graph,
)
from kgraph.analysis.shacl_compiled import Workspace
from kgraph.analysis.validation import (
    SEVERITY_ORDER,
    Validation,
    validate_document,
    validate_graph,
)
from kgraph.graph.iris import number_key as _number_key
from kgraph.graph.mapping import Triple, TripleIndex
from kgraph.graph.vocab import sparql_prefixes
from kgraph.ingest.text import fold
from kgraph.store.derived import derived, document_value, keep_document_value
from kgraph.store.embedded import (
    QueryResult,
    Repository,
    query_records,
    solution_records,
    to_query_result,
)

_PACKAGE = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=100_000)
def number_key(number: str) -> str:
    """:func:`kgraph.graph.iris.number_key`, remembered: the index sorts and filters hundreds
    of thousands of findings by the numbers of a few thousand documents."""
    return _number_key(number)


@functools.cache
def audit_fingerprint() -> str:
    """Changes with the shapes or the code that turns results into findings."""
    from kgraph.paths import resource_dir

    digest = hashlib.sha256()
    files = [*sorted(resource_dir("shapes").glob("*.ttl")),
             *(_PACKAGE / "analysis" / n for n in ("audit.py", "coverage.py", "validation.py",
                                                   "shacl_compiled.py"))]
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def document_key(graph: str, sha256: str) -> str:
    graph_part = hashlib.sha256(graph.encode("utf-8")).hexdigest()[:16]
    return f"audit-{audit_fingerprint()}-{graph_part}-{sha256[:24]}"


def audit_graph(source: SourceDocument, data: Graph, validation: Validation | None = None
                ) -> tuple[list[Finding], cov.PlanCoverage]:
    """One document's own findings (SHACL results, tasks no duty covers) and its coverage."""
    from kgraph.graph.mapping import TripleIndex, ntriples_line

    triples = [t for t in data if not any(isinstance(x, BNode) for x in t)]
    if len(triples) != len(data):  # not a document graph kgraph wrote: pySHACL on it as it is
        validation = validation if validation is not None else validate_graph(data)
    return audit_document(source, triples, TripleIndex(triples),  # type: ignore[arg-type]
                          "".join(ntriples_line(t) for t in triples),  # type: ignore[arg-type]
                          validation)


def audit_document(source: SourceDocument, triples: Sequence[Triple], index: TripleIndex,
                   ntriples: str, validation: Validation | None = None,
                   workspace: Workspace | None = None
                   ) -> tuple[list[Finding], cov.PlanCoverage]:
    """:func:`audit_graph` of a document the caller has as triples, their index and their
    N-Triples (the build): validated by the compiled shapes, covered in ``workspace``."""
    from kgraph.analysis.shacl_compiled import Workspace

    if workspace is None:
        workspace = Workspace()
    workspace.load(ntriples)
    if validation is None:
        validation = validate_document(triples, index, workspace)
    findings = shacl_findings(source, index, validation)  # type: ignore[arg-type]
    coverage = cov.plan_coverage(_WorkspaceRepository(workspace), source.iri, source.number)
    findings.extend(coverage_findings([coverage]))
    return findings, coverage


class _WorkspaceRepository:
    """The document a workspace holds, queried as a repository (coverage reads it so)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def query(self, sparql: str) -> QueryResult:
        return to_query_result(self.workspace.query(sparql))

    def records(self, sparql: str) -> list[dict[str, str | None]]:
        return solution_records(self.workspace.query(sparql))


def keep_document_findings(repo: Repository | Path | None, source: SourceDocument,
                           sha256: str, data: Graph, validation: Validation | None = None
                           ) -> tuple[list[Finding], cov.PlanCoverage]:
    """Compute and keep one document's findings (the build calls this with its graph)."""
    findings, coverage = audit_graph(source, data, validation)
    keep_document_value(repo, document_key(source.graph, sha256), findings)
    return findings, coverage


def document_findings(repo: Repository, source: SourceDocument, sha256: str) -> list[Finding]:
    key = document_key(source.graph, sha256)
    found = document_value(repo, key)
    if found is None:
        found, _ = keep_document_findings(repo, source, sha256, stored_graph(repo, source.graph))
    return found


# ---------------------------------------------------------------------------- the index

@dataclass(frozen=True)
class AuditedDocument:
    iri: str
    graph: str
    number: str
    province: str
    sha256: str


@dataclass
class AuditPage:
    """One page of filtered findings, with counts over every finding the filters select."""

    findings: list[Finding]
    total: int
    offset: int
    limit: int
    documents: list[str]
    counts: dict[str, int]
    rules: list[tuple[str, str, int]]

    def by_severity(self) -> dict[str, int]:
        return self.counts

    def by_rule(self) -> list[tuple[str, str, int]]:
        return self.rules


@dataclass
class AuditIndex:
    documents: list[AuditedDocument] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # sorted by severity, document, rule
    fingerprint: str = ""  # audit_fingerprint() of the code that computed it
    conflict_sources: dict[str, set[str]] | None = None  # document -> numbers stating it

    def select(self, *, province: str | None = None, plan: str | None = None,
               rule: str | None = None, severity: str | None = None) -> list[Finding]:
        """Findings of documents in ``province`` (with or without diacritics), of the plan
        numbered ``plan``, of one rule, of one severity."""
        chosen = self.findings
        if province or plan:
            numbers = {number_key(d.number) for d in self.documents
                       if (not province or fold(d.province) == fold(province))
                       and (not plan or number_key(d.number) == number_key(plan))}
            by_document = self.by_document()
            positions = sorted(i for key in numbers for i in by_document.get(key, ()))
            chosen = [self.findings[i] for i in positions]
        if rule:
            chosen = [f for f in chosen if f.rule == rule]
        if severity:
            chosen = [f for f in chosen if f.severity.lower() == severity.lower()]
        return chosen

    def by_document(self) -> dict[str, list[int]]:
        """Number key -> positions of its findings (built once per index)."""
        cached = self.__dict__.get("_by_document")
        if cached is None:
            cached = {}
            keys: dict[str, str] = {}  # a document's findings share its number: fold it once
            for position, finding in enumerate(self.findings):
                number = finding.document_number
                key = keys.get(number)
                if key is None:
                    key = keys[number] = number_key(number)
                cached.setdefault(key, []).append(position)
            self.__dict__["_by_document"] = cached
        return cached

    def matching_documents(self, *, province: str | None = None,
                           plan: str | None = None) -> list[str]:
        return [d.number for d in self.documents
                if (not province or fold(d.province) == fold(province))
                and (not plan or number_key(d.number) == number_key(plan))]

    def page(self, offset: int = 0, limit: int = 100, **filters: str | None) -> AuditPage:
        """One page of the selection; the selection and its counts are kept per filter set, so
        turning pages costs a slice."""
        cache: dict[tuple[tuple[str, str | None], ...], tuple[list[Finding], dict[str, int],
                    list[tuple[str, str, int]], list[str]]]
        cache = self.__dict__.setdefault("_selections", {})
        key = tuple(sorted(filters.items()))
        if key not in cache:
            chosen = self.select(**filters)
            counts = Counter(f.severity for f in chosen)
            rules = Counter((f.rule, f.severity) for f in chosen)
            if len(cache) >= 64:
                cache.clear()
            cache[key] = (
                chosen, {s.value: counts.get(s.value, 0) for s in Severity},
                sorted(((r, s, n) for (r, s), n in rules.items()),
                       key=lambda x: (SEVERITY_ORDER.get(x[1], 9), -x[2], x[0])),
                self.matching_documents(province=filters.get("province"),
                                        plan=filters.get("plan")))
        chosen, counts, rules, documents = cache[key]
        return AuditPage(findings=chosen[offset: offset + limit], total=len(chosen),
                         offset=offset, limit=limit, documents=documents, counts=counts,
                         rules=rules)

    def report(self, **filters: str | None) -> AuditReport:
        """The selected findings as a full report (JSON, CSV, Turtle, HTML writers)."""
        chosen = self.select(**filters)
        return AuditReport(chosen, self.matching_documents(province=filters.get("province"),
                                                           plan=filters.get("plan")),
                           findings_graph(chosen))


def audited_documents(repo: Repository) -> list[AuditedDocument]:
    rows = query_records(repo, sparql_prefixes() + """
        SELECT DISTINCT ?doc ?g ?number ?pv ?sha WHERE {
          GRAPH ?g { ?doc kg:sourceFile ?file ; eli:id_local ?number . ?file kg:sha256 ?sha
                     OPTIONAL { ?doc kg:province ?pv } } }""")
    labels = province_labels(repo)
    documents: dict[tuple[str, str], AuditedDocument] = {}
    for r in sorted(rows, key=lambda r: (r["number"] or "", r["pv"] or "")):
        documents.setdefault((r["doc"] or "", r["g"] or ""), AuditedDocument(
            r["doc"] or "", r["g"] or "", r["number"] or "", labels.get(r["pv"] or "", ""),
            r["sha"] or ""))
    return list(documents.values())


def province_labels(repo: Repository) -> dict[str, str]:
    """Province IRI -> name (labels are restated per graph: read each once)."""
    rows = query_records(repo, sparql_prefixes() + """
        SELECT DISTINCT ?p ?label WHERE {
          { SELECT DISTINCT ?p WHERE { ?p a kg:Province } } ?p skos:prefLabel ?label }
    """)
    labels: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r["label"] or ""):
        labels.setdefault(row["p"] or "", row["label"] or "")
    return labels


PEERS_PER_PROVINCE = 1  # peers a plan is compared with in each other province
_CENTRAL = re.compile(r"-(CT|NQ|KL)/TW$")  # a Party directive or resolution (as coverage.py)


@dataclass
class Lineage:
    """Who carries out what, read with two queries (no property path over the whole store)."""

    parents: dict[str, set[str]]
    numbers: dict[str, str]

    @classmethod
    def read(cls, repo: Repository) -> Lineage:
        parents: dict[str, set[str]] = {}
        for row in query_records(repo, sparql_prefixes() + """
                SELECT DISTINCT ?s ?o WHERE { ?s kg:implements ?o }"""):
            parents.setdefault(row["s"] or "", set()).add(row["o"] or "")
        numbers: dict[str, str] = {}
        for row in query_records(repo, sparql_prefixes() + """
                SELECT DISTINCT ?d ?n WHERE { ?x kg:implements ?d . ?d eli:id_local ?n }
                """):
            numbers.setdefault(row["d"] or "", row["n"] or "")
        return cls(parents, numbers)

    def ancestors(self, plan: str) -> dict[str, int]:
        """Every document ``plan`` carries out, directly or through others, at its distance."""
        found: dict[str, int] = {}
        frontier = [plan]
        distance = 0
        while frontier:
            distance += 1
            step = []
            for node in frontier:
                for parent in self.parents.get(node, ()):
                    if parent not in found and parent != plan:
                        found[parent] = distance
                        step.append(parent)
            frontier = step
        return found


def _series(number: str) -> str:
    """The part of a number naming the kind and issuer ('2509/KH-UBND' -> 'kh-ubnd'): plans of
    the same series at the same depth are the same level of government in their province."""
    return number_key(number.split("/", 1)[-1] if "/" in number else number.split("-", 1)[-1])


def peer_alignments(repo: Repository, shas: dict[str, str] | None = None,
                    documents: list[AuditedDocument] | None = None
                    ) -> list[cov.DirectiveAlignment]:
    """Tasks each plan lacks that its peers have, in time linear in the number of plans.

    Peers are the plans carrying out the same directive at the same level (same series of
    numbers, same distance below the directive) in *other* provinces, :data:`PEERS_PER_PROVINCE`
    per province (the first by number): at most 33 comparisons a plan, however many communes
    a province has, where comparing every pair grew with the square of the corpus. On disk each
    plan's gaps are kept by the content of the plan and its peers (``shas``: plan IRI -> source
    SHA-256), so a build that changes one plan compares that plan again, not the corpus.
    """
    lineage = Lineage.read(repo)
    shas = shas or {}
    tasks: dict[str, list[cov.Item]] = {}

    def tasks_of(plan: str) -> list[cov.Item]:
        if plan not in tasks:
            tasks[plan] = cov.plan_tasks(repo, plan)
        return tasks[plan]

    groups: dict[str, dict[tuple[str, int], list[tuple[str, str, str]]]] = {}
    plans = [(d.iri, d.number, d.province) for d in documents] if documents is not None else [
        (d.iri, d.number, d.province) for d in audited_documents(repo)]
    for plan in plans:
        for ancestor, distance in lineage.ancestors(plan[0]).items():
            directive = lineage.numbers.get(ancestor, "")
            if _CENTRAL.search(directive):
                cohort = (_series(plan[1]), distance)
                groups.setdefault(directive, {}).setdefault(cohort, []).append(plan)
    result = []
    misses: list[tuple[cov.DirectiveAlignment, tuple[str, str, str],
                       list[tuple[str, str, str]], str]] = []
    for directive, cohorts in sorted(groups.items()):
        members = [p for cohort in cohorts.values() for p in cohort]
        if len(members) < 2:
            continue
        alignment = cov.DirectiveAlignment(directive, members)
        for cohort in cohorts.values():
            firsts: dict[str, list[tuple[str, str, str]]] = {}
            for plan in sorted(cohort, key=lambda p: (p[2], number_key(p[1]))):
                chosen = firsts.setdefault(plan[2], [])
                if len(chosen) < PEERS_PER_PROVINCE:
                    chosen.append(plan)
            for plan, number, province in cohort:
                peers = [p for prov, group in firsts.items() if prov != province for p in group]
                key = "peers-" + hashlib.sha256("\n".join(
                    [audit_fingerprint(), directive, plan, shas.get(plan, "?"),
                     *(f"{p[0]} {shas.get(p[0], '?')}" for p in peers)]).encode()).hexdigest()[:32]
                gaps = document_value(repo, key) if shas else None
                if gaps is None:
                    misses.append((alignment, (plan, number, province), peers, key))
                else:
                    alignment.gaps.extend(gaps)
        result.append(alignment)
    if len(misses) > 20:  # one query for every plan's tasks, not one a plan
        tasks.update(all_plan_tasks(repo))
    term_rows: dict[str, _TermRows] = {}

    def rows_of(plan: str) -> _TermRows:
        if plan not in term_rows:
            term_rows[plan] = _TermRows([t.text for t in tasks_of(plan)])
        return term_rows[plan]

    for alignment, plan_row, peers, key in misses:
        gaps = _gaps(plan_row, peers, tasks_of, rows_of)
        if shas:
            keep_document_value(repo, key, gaps)
        alignment.gaps.extend(gaps)
    for alignment in result:
        alignment.gaps.sort(key=lambda g: (number_key(g.number), number_key(g.peer_number),
                                           g.task.iri))
    return result


def all_plan_tasks(repo: Repository) -> dict[str, list[cov.Item]]:
    """The leaf tasks of every plan (as :func:`kgraph.analysis.coverage.plan_tasks`)."""
    rows = query_records(repo, sparql_prefixes() + """
        SELECT DISTINCT ?plan ?task ?no ?text ?src ?start ?group WHERE {
          ?plan kg:sourceFile ?file .
          ?task a kg:Task ; kg:partOf ?plan ; kg:itemNumber ?no .
          OPTIONAL { ?task kg:text ?text } OPTIONAL { ?task kg:sourceText ?src }
          OPTIONAL { ?task kg:sourceStart ?start }
          OPTIONAL { ?parent kg:subTask ?task . ?parent kg:text ?group }
          OPTIONAL { ?task kg:subTask ?child }
          FILTER (!BOUND(?child))
        }""")
    by_plan: dict[str, list[dict[str, str | None]]] = {}
    for row in rows:
        by_plan.setdefault(row["plan"] or "", []).append(row)
    return {plan: cov._items(plan_rows, "task", plan)
            for plan, plan_rows in by_plan.items()}


def similarity_matrix(left: list[str], right: list[str]) -> list[list[float]]:
    """:func:`kgraph.analysis.coverage.similarity_matrix` (the same TF-IDF: smoothed IDF over
    both lists, 1 + log tf, L2 norm) as one matrix product: the peer audit compares tens of
    thousands of task lists."""
    import numpy as np

    if not left or not right:
        return [[0.0] * len(right) for _ in left]
    bags = [Counter(cov.terms(text)) for text in (*left, *right)]
    vocabulary: ClassVar[dict[str, int]] = {}  # term -> id, shared by every plan
    df: Counter[str] = Counter()
    for bag in bags:
        df.update(bag.keys())
    n = len(bags)
    idf = {term: math.log((1 + n) / (1 + count)) + 1 for term, count in df.items()}
    rows, columns, values = [], [], []
    for row, bag in enumerate(bags):
        for term, count in bag.items():
            rows.append(row)
            columns.append(vocabulary.setdefault(term, len(vocabulary)))
            values.append((1 + math.log(count)) * idf[term])
    matrix = np.zeros((n, len(vocabulary)))
    matrix[rows, columns] = values
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    matrix /= norms[:, None]
    return (matrix[: len(left)] @ matrix[len(left):].T).tolist()


class _TermRows:
    """One plan's task texts as term ids and sublinear term frequencies, made once per plan:
    a plan is compared with up to 33 peers, and building these per pair was most of the
    peer audit's time."""

    vocabulary: ClassVar[dict[str, int]] = {}  # term -> id, shared by every plan

    def __init__(self, texts: list[str]) -> None:
        import numpy as np

        ids: list[int] = []
        rows: list[int] = []
        weights: list[float] = []
        for row, text in enumerate(texts):
            for term, count in Counter(cov.terms(text)).items():
                ids.append(self.vocabulary.setdefault(term, len(self.vocabulary)))
                rows.append(row)
                weights.append(1 + math.log(count))
        self.n = len(texts)
        self.ids = np.array(ids, dtype=np.int64)
        self.rows = np.array(rows, dtype=np.int64)
        self.weights = np.array(weights, dtype=np.float64)


@functools.lru_cache(maxsize=4096)
def _idf_table(n: int) -> Any:
    """Smoothed IDF of a term found in 0..n of n texts (math.log, as the reference code)."""
    import numpy as np

    return np.array([math.log((1 + n) / (1 + count)) + 1 for count in range(n + 1)])


def pair_similarity(left: _TermRows, right: _TermRows) -> Any:
    """:func:`similarity_matrix` of two plans' texts from their term rows (the same TF-IDF:
    smoothed IDF over both lists, 1 + log tf, L2 norm)."""
    import numpy as np

    n = left.n + right.n
    ids = np.concatenate([left.ids, right.ids])
    terms, column, df = np.unique(ids, return_inverse=True, return_counts=True)
    idf = _idf_table(n)[df]
    matrix = np.zeros((n, len(terms)))
    matrix[np.concatenate([left.rows, right.rows + left.n]), column] = (
        np.concatenate([left.weights, right.weights]) * idf[column])
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    matrix /= norms[:, None]
    return matrix[: left.n] @ matrix[left.n:].T


def _gaps(plan: tuple[str, str, str], peers: list[tuple[str, str, str]],
          tasks_of: Callable[[str], list[cov.Item]],
          rows_of: Callable[[str], _TermRows] | None = None) -> list[cov.PeerGap]:
    iri, number, province = plan
    mine = tasks_of(iri)
    gaps = []
    for peer, peer_number, peer_province in peers:
        theirs = tasks_of(peer)
        if not theirs:
            continue
        if rows_of is None or not mine:
            matrix = similarity_matrix([t.text for t in theirs], [t.text for t in mine])
            best_scores = [max(row, default=0.0) for row in matrix]
        else:
            best_scores = pair_similarity(rows_of(peer), rows_of(iri)).max(axis=1).tolist()
        for task, best in zip(theirs, best_scores, strict=True):
            if best < cov.ALIGNMENT_THRESHOLD:
                gaps.append(cov.PeerGap(iri, number, province, peer_number, peer_province,
                                        task, round(best, 3)))
    return gaps


CROSS_DOCUMENT = ("ConflictingStatement", "MissingPeerTask")


def compute_index(repo: Repository, previous: AuditIndex | None = None) -> AuditIndex:
    """The whole-corpus audit; from ``previous`` (the index of the version this one was built
    from) only what the changed documents affect is recomputed: their own findings, the
    conflicts about the documents they state (or stated), and peer gaps (kept per plan)."""
    documents = audited_documents(repo)
    shas = {d.iri: d.sha256 for d in documents}
    usable = (previous is not None and getattr(previous, "fingerprint", "") == audit_fingerprint()
              and getattr(previous, "conflict_sources", None) is not None)
    old = {(d.iri, d.graph): d for d in previous.documents} if usable and previous else {}
    if not usable or previous is None or not set(old) <= {(d.iri, d.graph) for d in documents}:
        findings: list[Finding] = []
        for doc in documents:
            source = SourceDocument(doc.iri, doc.graph, doc.number)
            findings.extend(document_findings(repo, source, doc.sha256))
        conflicts, sources = conflict_statements(repo)
        findings.extend(conflicts)
    else:
        changed = [d for d in documents if old.get((d.iri, d.graph)) != d]
        keys = {number_key(d.number) for d in changed}
        keys.update(number_key(old[(d.iri, d.graph)].number) for d in changed
                    if (d.iri, d.graph) in old)
        findings = [f for f in previous.findings if f.rule not in CROSS_DOCUMENT
                    and number_key(f.document_number) not in keys]
        for doc in changed:
            source = SourceDocument(doc.iri, doc.graph, doc.number)
            findings.extend(document_findings(repo, source, doc.sha256))
        sources = dict(previous.conflict_sources)
        foci = {d for doc in changed for d in documents_stated_by(repo, doc.number)}
        foci.update(focus for focus, numbers in sources.items()
                    if keys & {number_key(n) for n in numbers})
        findings.extend(f for f in previous.findings
                        if f.rule == "ConflictingStatement" and f.focus not in foci)
        for focus in foci:
            sources.pop(focus, None)
        if foci:
            conflicts, found = conflict_statements(repo, sorted(foci))
            findings.extend(conflicts)
            sources.update(found)
    findings.extend(peer_findings(peer_alignments(repo, shas, documents)))
    findings.sort(key=lambda f: f.sort_key)
    return AuditIndex(documents, findings, audit_fingerprint(), sources)


def corpus_findings(repo: Repository, documents: list[AuditedDocument] | None = None
                    ) -> list[Finding]:
    """Findings across documents: conflicting statements and tasks peer plans have."""
    documents = documents if documents is not None else audited_documents(repo)
    shas = {d.iri: d.sha256 for d in documents}
    return [*conflict_statements(repo)[0],
            *peer_findings(peer_alignments(repo, shas, documents))]


def audit_index(repo: Repository) -> AuditIndex:
    """The audit of the whole store, computed once per store version (incrementally from the
    previous version's index when it is at hand)."""
    return derived(repo, "audit-index", lambda: compute_index(repo, _previous_index(repo)))


def _previous_index(repo: Repository) -> AuditIndex | None:
    """The index kept for the version before the current one, if any."""
    from kgraph.store.derived import previous_value

    value = previous_value(repo, "audit-index")
    return value if isinstance(value, AuditIndex) else None


def findings_graph(findings: list[Finding]) -> Graph:
    """Findings as one sh:ValidationReport (the Turtle output of a whole-corpus audit)."""
    graph, root = empty_report()
    graph.add((root, SH.conforms, Literal(not any(f.severity == "Violation" for f in findings))))
    for finding in findings:
        result = BNode()
        graph.add((root, SH.result, result))
        graph.add((result, RDF.type, SH.ValidationResult))
        graph.add((result, SH.focusNode, URIRef(finding.focus)))
        graph.add((result, SH.sourceShape, URIRef(KGSH + finding.rule)))
        graph.add((result, SH.resultSeverity, SH[finding.severity]))
        if finding.message_vi:
            graph.add((result, SH.resultMessage, Literal(finding.message_vi, lang="vi")))
        if finding.message_en:
            graph.add((result, SH.resultMessage, Literal(finding.message_en, lang="en")))
    return graph
