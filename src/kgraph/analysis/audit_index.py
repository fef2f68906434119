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

import bisect
import csv
import fcntl
import functools
import gc
import hashlib
import io
import math
import multiprocessing
import os
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
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
    all_rule_labels,
    conflict_statements,
    coverage_findings,
    documents_stated_by,
    empty_report,
    finding_lines,
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
from kgraph.store.derived import (
    derived,
    document_value,
    graph_digest,
    has_document_value,
    keep_document_value,
    store_root,
)
from kgraph.store.embedded import (
    OxigraphRepository,
    QueryResult,
    Repository,
    open_read_only,
    query_records,
    solution_records,
    store_version,
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


def tasks_key(graph: str, sha256: str) -> str:
    return document_key(graph, sha256).replace("audit-", "tasks-", 1)


def live_keys(documents: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """The kept values the audit can ask for again (:func:`kgraph.analysis.sweep.sweep`), by
    the keys' family (``audit``, ``tasks``): the findings and tasks of these documents (graph,
    source text hash: the sources of the store's current version and of the one before it)
    under this code's :func:`audit_fingerprint` (:func:`document_key`, :func:`tasks_key`)."""
    fingerprint = audit_fingerprint()
    contents = [f"{fingerprint}-{graph_digest(graph)}-{sha256[:24]}"
                for graph, sha256 in documents]
    return {"audit": {f"audit-{c}" for c in contents}, "tasks": {f"tasks-{c}" for c in contents}}


def keep_document_audit(repo: Repository | Path | None, source: SourceDocument, sha256: str,
                        findings: list[Finding], coverage: cov.PlanCoverage) -> None:
    """Keep one document's findings and its tasks (what peer plans are compared on) by
    content, so the whole-corpus audit reads neither from the store again."""
    keep_document_value(repo, document_key(source.graph, sha256), findings)
    keep_document_value(repo, tasks_key(source.graph, sha256), coverage.tasks)


def keep_document_findings(repo: Repository | Path | None, source: SourceDocument,
                           sha256: str, data: Graph, validation: Validation | None = None
                           ) -> tuple[list[Finding], cov.PlanCoverage]:
    """Compute and keep one document's findings (the build calls this with its graph)."""
    findings, coverage = audit_graph(source, data, validation)
    keep_document_audit(repo, source, sha256, findings, coverage)
    return findings, coverage


def document_findings(repo: Repository, source: SourceDocument, sha256: str) -> list[Finding]:
    key = document_key(source.graph, sha256)
    found = document_value(repo, key)
    if found is None:
        found, _ = keep_document_findings(repo, source, sha256, stored_graph(repo, source.graph))
    return found


# ---------------------------------------------------------------------------- the index
#
# The index of one store version is a small SQLite file, ``<store>/derived/<version>/audit.sqlite``
# (in memory for stores without a folder), read a page at a time: at national scale the findings
# are millions (≈ 120 peer gaps a plan), which a pickle loaded whole made gigabytes. Peer gaps
# are kept compactly (plan, directive, peer, task ids and the best score) and expanded to
# findings only for the page shown; the findings of each (document, rule, severity) are counted
# once, so the summary of any filter is a sum. A new version starts from a copy of the previous
# version's file and touches the rows of the documents that changed.

FORMAT = "audit-index-4"  # the layout of the file: another layout is recomputed, never read
INDEX_FILE = "audit.sqlite"
BULK_CACHE_KB = 262_144  # page cache of a file written from nothing (at most this, in KB)
READ_THREADS = 4  # threads reading the documents' kept findings (waiting on the disk)
SELECTIONS = 64  # filter sets whose groups a reader keeps (turning pages costs a slice)

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE documents (id INTEGER PRIMARY KEY, iri TEXT, graph TEXT, number TEXT, nkey TEXT,
                        province TEXT, pfold TEXT, pv TEXT, sha256 TEXT, UNIQUE (iri, graph));
CREATE INDEX documents_nkey ON documents (nkey);
CREATE INDEX documents_pfold ON documents (pfold);
CREATE INDEX documents_number ON documents (number);
CREATE TABLE findings (kind TEXT, owner TEXT, nkey TEXT, sev INTEGER, rule TEXT,
                       severity TEXT, focus TEXT, document_number TEXT, label_vi TEXT,
                       message_vi TEXT, message_en TEXT, source_text TEXT, value TEXT,
                       origin TEXT);
CREATE INDEX findings_owner ON findings (kind, owner);
CREATE INDEX findings_group ON findings (document_number, rule, severity);
CREATE INDEX findings_focus ON findings (focus);
CREATE TABLE conflict_sources (focus TEXT, number TEXT, nkey TEXT);
CREATE INDEX conflict_sources_focus ON conflict_sources (focus);
CREATE INDEX conflict_sources_nkey ON conflict_sources (nkey);
CREATE TABLE tasks (id INTEGER PRIMARY KEY, iri TEXT UNIQUE, text TEXT, source_text TEXT);
CREATE TABLE peer_sets (plan INTEGER, directive TEXT, peers TEXT,
                        PRIMARY KEY (plan, directive));
CREATE TABLE gaps (plan INTEGER, directive TEXT, peer INTEGER, task INTEGER, best REAL);
{gap_indexes};
CREATE TABLE edges (graph TEXT, child TEXT, parent TEXT);
CREATE INDEX edges_graph ON edges (graph);
CREATE TABLE names (graph TEXT, iri TEXT, number TEXT);
CREATE INDEX names_graph ON names (graph);
CREATE TABLE groups (document_number TEXT, nkey TEXT, sev INTEGER, rule TEXT, severity TEXT,
                     n INTEGER, PRIMARY KEY (sev, document_number, rule, severity));
CREATE INDEX groups_nkey ON groups (nkey);
"""
# Added since the layout above was first written (a file made before gets them when updated):
# who is in which cohort of each directive and whether they are their province's peer there,
# so that one new plan finds its peers by a lookup; edges and names looked up by node.
_ADDED = """
CREATE TABLE IF NOT EXISTS other_graphs (graph TEXT PRIMARY KEY, sha256 TEXT);
CREATE INDEX IF NOT EXISTS documents_graph ON documents (graph);
CREATE TABLE IF NOT EXISTS cohorts (directive TEXT, series TEXT, distance INTEGER,
                                    plan INTEGER, province TEXT, nkey TEXT, first INTEGER);
CREATE INDEX IF NOT EXISTS cohorts_cohort ON cohorts (directive, series, distance);
CREATE INDEX IF NOT EXISTS edges_child ON edges (child);
CREATE INDEX IF NOT EXISTS edges_parent ON edges (parent);
CREATE INDEX IF NOT EXISTS names_iri ON names (iri);
"""
_GAP_INDEXES = ("CREATE INDEX gaps_plan ON gaps (plan, directive, peer)",
                "CREATE INDEX gaps_task ON gaps (task)")
_SCHEMA = _SCHEMA.format(gap_indexes=";\n".join(_GAP_INDEXES))
# indexes of the tables a full computation fills in bulk: made once after the rows are in
_FINDING_INDEXES = ("CREATE INDEX findings_owner ON findings (kind, owner)",
                    "CREATE INDEX findings_group ON findings (document_number, rule, severity)",
                    "CREATE INDEX findings_focus ON findings (focus)")
_BULK_INDEXES = (*_GAP_INDEXES, *_FINDING_INDEXES)
_FINDING_COLUMNS = ("rule, severity, focus, document_number, label_vi, message_vi, message_en, "
                    "source_text, value, origin")
_GAP_COLUMNS = ("g.directive, g.best, p.iri, p.number, p.province, q.number, q.province, t.iri, "
                "t.text, t.source_text")
_GAP_JOIN = ("gaps g JOIN documents p ON p.id = g.plan JOIN documents q ON q.id = g.peer "
             "JOIN tasks t ON t.id = g.task")
PEER_RULE = "MissingPeerTask"


def order_key(finding: Finding) -> tuple[object, ...]:
    """The order of the report: severity, document, rule, focus, then the rest of the finding
    (a total order, so a page is the same whichever way the index was computed)."""
    return (*finding.sort_key, finding.message_en, finding.message_vi, finding.label_vi,
            finding.source_text, finding.value, finding.origin)


@dataclass(frozen=True)
class AuditedDocument:
    iri: str
    graph: str
    number: str
    province: str
    sha256: str
    province_iri: str = ""


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

    def summary(self) -> str:
        """The text ``kgraph audit`` prints (as :meth:`AuditReport.summary` with ``limit``
        the page's size), from the page alone."""
        labels = all_rule_labels()
        listed = ", ".join(self.documents[:20]) + (" …" if len(self.documents) > 20 else "")
        lines = [f"kgraph audit: {len(self.documents)} document(s): {listed}",
                 "  " + ", ".join(f"{s}: {n}" for s, n in self.counts.items())]
        for rule, severity, count in self.rules:
            label = labels.get(rule, {}).get("vi", "")
            lines.append(f"  {count:4d}  {severity:<9} {rule} ({label})")
        if self.total > len(self.findings) and self.offset == 0:
            lines.append(f"  (first {self.limit} of {self.total} findings; filter with "
                         "--province, --doc, --rule, --severity)")
        for finding in self.findings:
            lines.extend(finding_lines(finding))
        return "\n".join(lines)


Group = tuple[int, str, str, str, int]  # (severity order, document number, rule, severity, n)


@dataclass
class _Selection:
    groups: list[Group]
    starts: list[int]  # position of each group's first finding in the selection
    total: int
    counts: dict[str, int]
    rules: list[tuple[str, str, int]]
    documents: list[str]


class AuditIndex:
    """The audit of one store version, read from its SQLite file a page at a time."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._lock = threading.Lock()
        self._selections: dict[tuple[tuple[str, str | None], ...], _Selection] = {}
        self.seconds: dict[str, float] = {}  # wall time of each step of its computation

    @classmethod
    def open(cls, path: Path) -> AuditIndex:
        return cls(sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    # ------------------------------------------------------------------ what it holds

    @property
    def fingerprint(self) -> str:
        rows = self._rows("SELECT value FROM meta WHERE key = 'fingerprint'")
        return rows[0][0] if rows else ""

    @property
    def documents(self) -> list[AuditedDocument]:
        return [AuditedDocument(*row) for row in self._rows(
            "SELECT iri, graph, number, province, sha256, pv FROM documents "
            "ORDER BY number, pv, iri, graph")]

    @property
    def conflict_sources(self) -> dict[str, set[str]]:
        """Document -> numbers of the sources stating its issuer or date (when in conflict)."""
        sources: dict[str, set[str]] = {}
        for focus, number in self._rows("SELECT focus, number FROM conflict_sources"):
            sources.setdefault(focus, set()).add(number)
        return sources

    @property
    def findings(self) -> list[Finding]:
        """Every finding (tests and small stores: at national scale use :meth:`page`)."""
        return self.select()

    # ------------------------------------------------------------------ filters

    def _scope(self, province: str | None, plan: str | None) -> tuple[str, list[object]]:
        conditions, params = [], []
        if province:
            conditions.append("pfold = ?")
            params.append(fold(province))
        if plan:
            conditions.append("nkey = ?")
            params.append(number_key(plan))
        return " AND ".join(conditions), params

    def matching_documents(self, *, province: str | None = None,
                           plan: str | None = None) -> list[str]:
        where, params = self._scope(province, plan)
        return [row[0] for row in self._rows(
            f"SELECT number FROM documents {'WHERE ' + where if where else ''} "
            "ORDER BY number, pv, iri, graph", params)]

    def _conditions(self, province: str | None, plan: str | None, rule: str | None,
                    severity: str | None) -> tuple[list[str], list[str]]:
        """SQL conditions (and their parameters) on a findings table for the filters."""
        conditions: list[str] = []
        params: list[str] = []
        where, scope = self._scope(province, plan)
        if where:
            conditions.append(f"nkey IN (SELECT nkey FROM documents WHERE {where})")
            params.extend(scope)
        if rule:
            conditions.append("rule = ?")
            params.append(rule)
        if severity:
            conditions.append("lower(severity) = lower(?)")
            params.append(severity)
        return conditions, params

    def _selection(self, province: str | None = None, plan: str | None = None,
                   rule: str | None = None, severity: str | None = None) -> _Selection:
        key = (("plan", plan), ("province", province), ("rule", rule), ("severity", severity))
        found = self._selections.get(key)
        if found is not None:
            return found
        conditions, params = self._conditions(province, plan, rule, severity)
        groups: list[Group] = self._rows(
            "SELECT sev, document_number, rule, severity, n FROM groups "
            f"{'WHERE ' + ' AND '.join(conditions) if conditions else ''} "
            "ORDER BY sev, document_number, rule, severity", params)
        starts, total = [], 0
        severities: Counter[str] = Counter()
        rules: Counter[tuple[str, str]] = Counter()
        for _sev, _number, group_rule, group_severity, n in groups:
            starts.append(total)
            total += n
            severities[group_severity] += n
            rules[(group_rule, group_severity)] += n
        selection = _Selection(
            groups, starts, total, {s.value: severities.get(s.value, 0) for s in Severity},
            sorted(((r, s, n) for (r, s), n in rules.items()),
                   key=lambda x: (SEVERITY_ORDER.get(x[1], 9), -x[2], x[0])),
            self.matching_documents(province=province, plan=plan))
        if len(self._selections) >= SELECTIONS:
            self._selections.clear()
        self._selections[key] = selection
        return selection

    def page(self, offset: int = 0, limit: int = 100, **filters: str | None) -> AuditPage:
        """One page of the selection: only the groups of findings the page overlaps are read."""
        selection = self._selection(**filters)
        first = max(0, bisect.bisect_right(selection.starts, offset) - 1)
        chosen: list[Finding] = []
        for position in range(first, len(selection.groups)):
            start = selection.starts[position]
            if start >= offset + limit:
                break
            findings = self._group(selection.groups[position])
            chosen.extend(findings[max(0, offset - start): offset + limit - start])
        return AuditPage(findings=chosen, total=selection.total, offset=offset, limit=limit,
                         documents=selection.documents, counts=selection.counts,
                         rules=selection.rules)

    def iter_findings(self, *, province: str | None = None, plan: str | None = None,
                      rule: str | None = None, severity: str | None = None,
                      chunk: int = 500) -> Iterator[Finding]:
        """Every finding the filters select, in report order, read a few groups first, then
        twice as many each time up to ``chunk`` (a range of documents per severity: two
        queries a read, not two a group; a download's first bytes come at once)."""
        groups = self._selection(province=province, plan=plan, rule=rule,
                                 severity=severity).groups
        conditions, params = self._conditions(province, plan, rule, severity)
        where, scope = self._scope(province, plan)  # the peer gaps' own filter below
        extra = "".join(f" AND {c}" for c in conditions)
        start, size = 0, min(8, chunk)  # small first reads: a stream starts at once
        while start < len(groups):
            part = groups[start: start + size]
            start, size = start + size, min(chunk, size * 2)
            by_severity: dict[int, list[Group]] = {}
            for group in part:
                by_severity.setdefault(group[0], []).append(group)
            found: dict[tuple[str, str, str], list[Finding]] = {}
            for sev, chosen in by_severity.items():
                bounds = (chosen[0][1], chosen[-1][1])
                for row in self._rows(
                        f"SELECT {_FINDING_COLUMNS} FROM findings WHERE sev = ? AND "
                        f"document_number BETWEEN ? AND ?{extra}", (sev, *bounds, *params)):
                    finding = Finding(*row)
                    found.setdefault((finding.document_number, finding.rule,
                                      finding.severity), []).append(finding)
                if any(g[2] == PEER_RULE and g[3] == Severity.INFO.value for g in chosen):
                    gap_scope = (f" AND p.nkey IN (SELECT nkey FROM documents WHERE {where})"
                                 if where else "")
                    for finding in _gap_findings(self._rows(
                            f"SELECT {_GAP_COLUMNS} FROM {_GAP_JOIN} WHERE p.number "
                            f"BETWEEN ? AND ?{gap_scope}", (*bounds, *scope))):
                        found.setdefault((finding.document_number, finding.rule,
                                          finding.severity), []).append(finding)
            for _sev, number, group_rule, group_severity, _n in part:
                yield from sorted(found.get((number, group_rule, group_severity), []),
                                  key=order_key)

    def select(self, *, province: str | None = None, plan: str | None = None,
               rule: str | None = None, severity: str | None = None) -> list[Finding]:
        """Findings of documents in ``province`` (with or without diacritics), of the plan
        numbered ``plan``, of one rule, of one severity."""
        return list(self.iter_findings(province=province, plan=plan, rule=rule,
                                       severity=severity))

    def report(self, **filters: str | None) -> AuditReport:
        """The selected findings as a full report (JSON, CSV, Turtle, HTML writers)."""
        chosen = self.select(**filters)
        return AuditReport(chosen, self.matching_documents(province=filters.get("province"),
                                                           plan=filters.get("plan")),
                           findings_graph(chosen))

    def _group(self, group: Group) -> list[Finding]:
        _sev, number, rule, severity, _n = group
        findings = [Finding(*row) for row in self._rows(
            f"SELECT {_FINDING_COLUMNS} FROM findings "
            "WHERE document_number = ? AND rule = ? AND severity = ?", (number, rule, severity))]
        if rule == PEER_RULE and severity == Severity.INFO.value:
            findings.extend(_gap_findings(self._rows(
                f"SELECT {_GAP_COLUMNS} FROM {_GAP_JOIN} WHERE p.number = ?", (number,))))
        findings.sort(key=order_key)
        return findings

    def flags_for(self, foci: Iterable[str]) -> dict[str, list[str]]:
        """Focus -> "Severity: message" of its findings, in report order (the explorer's
        overlay asks about the nodes it draws)."""
        wanted = list(dict.fromkeys(foci))
        found: list[Finding] = []
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            found.extend(Finding(*row) for row in self._rows(
                f"SELECT {_FINDING_COLUMNS} FROM findings WHERE focus IN ({marks})", chunk))
            found.extend(_gap_findings(self._rows(
                f"SELECT {_GAP_COLUMNS} FROM {_GAP_JOIN} WHERE t.iri IN ({marks})", chunk)))
        flags: dict[str, list[str]] = {}
        for finding in sorted(found, key=order_key):
            message = f"{finding.severity}: {finding.message_vi}"
            if message not in flags.setdefault(finding.focus, []):
                flags[finding.focus].append(message)
        return flags


def _chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start: start + size]


def _gap_findings(rows: Iterable[tuple[Any, ...]]) -> list[Finding]:
    """MissingPeerTask findings of stored gap rows (:func:`peer_findings` writes them)."""
    alignments: dict[str, cov.DirectiveAlignment] = {}
    for (directive, best, plan, number, province, peer_number, peer_province, task, text,
         source_text) in rows:
        alignment = alignments.setdefault(directive, cov.DirectiveAlignment(directive, []))
        alignment.gaps.append(cov.PeerGap(plan, number, province, peer_number, peer_province,
                                          cov.Item(task, "", "", text, source_text), best))
    return peer_findings(list(alignments.values()))


def audited_documents(repo: Repository, graphs: Sequence[str] | None = None,
                      known_provinces: dict[str, str] | None = None) -> list[AuditedDocument]:
    """The source documents of the store (or of these graphs), by number; the names of the
    provinces in ``known_provinces`` (IRI -> name) are not read again."""
    rows = _graph_records(repo, """
        SELECT DISTINCT ?doc ?g ?number ?pv ?sha WHERE { #VALUES
          GRAPH ?g { ?doc kg:sourceFile ?file ; eli:id_local ?number . ?file kg:sha256 ?sha }
          OPTIONAL { GRAPH ?g { ?doc kg:province ?pv } } }""", graphs)
    # (the OPTIONAL outside the GRAPH: inside it, a bound graph took seconds at 20,000 plans)
    wanted = sorted({r["pv"] or "" for r in rows if r["pv"]} - set(known_provinces or {}))
    labels = {**(known_provinces or {}),
              **province_labels(repo, None if graphs is None else wanted)}
    documents: dict[tuple[str, str], AuditedDocument] = {}
    for r in sorted(rows, key=lambda r: (r["number"] or "", r["pv"] or "")):
        documents.setdefault((r["doc"] or "", r["g"] or ""), AuditedDocument(
            r["doc"] or "", r["g"] or "", r["number"] or "", labels.get(r["pv"] or "", ""),
            r["sha"] or "", r["pv"] or ""))
    return list(documents.values())


def province_labels(repo: Repository, provinces: Sequence[str] | None = None
                    ) -> dict[str, str]:
    """Province IRI -> name (labels are restated per graph: read each once)."""
    if provinces is None:
        rows = query_records(repo, sparql_prefixes() + """
            SELECT DISTINCT ?p ?label WHERE {
              { SELECT DISTINCT ?p WHERE { ?p a kg:Province } } ?p skos:prefLabel ?label }
        """)
    else:
        rows = query_records(repo, sparql_prefixes() + "SELECT DISTINCT ?p ?label WHERE { "
                             "VALUES ?p { " + " ".join(f"<{p}>" for p in provinces) + " } "
                             "?p a kg:Province ; skos:prefLabel ?label }") if provinces else []
    labels: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r["label"] or ""):
        labels.setdefault(row["p"] or "", row["label"] or "")
    return labels


def _graph_records(repo: Repository, text: str, graphs: Sequence[str] | None
                   ) -> list[dict[str, str | None]]:
    """A query over every graph, or over these graphs (``#VALUES`` bound, in batches)."""
    if graphs is None:
        return query_records(repo, sparql_prefixes() + text)
    rows: list[dict[str, str | None]] = []
    for chunk in _chunks(list(graphs), 200):
        values = "VALUES ?g { " + " ".join(f"<{g}>" for g in chunk) + " }"
        rows.extend(query_records(repo, sparql_prefixes() + text.replace("#VALUES", values)))
    return rows


SOURCE_INDEX = "build-sources"  # kgraph.build.SOURCE_INDEX (not imported: the build's code)


def document_shas(repo: Repository, documents: int = 0) -> dict[str, str]:
    """Graph -> SHA-256 of its source (what tells a changed document): from the source index
    the build kept for this store version when it has at least ``documents`` graphs, each
    with its hash (a dictionary read), else from the store in one query on one property."""
    from kgraph.store.derived import version_value

    index = version_value(repo, SOURCE_INDEX)
    if isinstance(index, dict):
        shas = {getattr(s, "graph", ""): getattr(s, "sha256", "") for s in index.values()}
        shas.pop("", None)
        if len(shas) >= documents and all(shas.values()):
            return shas
    return {row["g"] or "": row["sha"] or "" for row in query_records(
        repo, sparql_prefixes() + "SELECT ?g ?sha WHERE { GRAPH ?g { ?file kg:sha256 ?sha } }")}


def written_since(repo: Repository, db: sqlite3.Connection) -> list[str] | None:
    """The graphs the build that made the store's current version wrote, when the index in
    ``db`` holds the version that build started from: no other graph can differ from what the
    index holds, so a one-plan build's update looks up a few graphs, not every document's
    source hash (20,000 rows and a source index walked: 0.05 CPU-s). None otherwise (another
    version, a change made in place, a store that records none). The version is compared by
    its folder and generation only: the index lives in the store's own folder (a copy of the
    store holds its copy)."""
    from kgraph.store.derived import CHANGED_GRAPHS, version_value

    record = version_value(repo, CHANGED_GRAPHS)
    if not isinstance(record, dict) or not isinstance(record.get("graphs"), list):
        return None
    folder = str(record.get("derived", ""))
    if not folder or folder == "legacy":
        return None
    token, _, generation = folder.partition("-")
    held = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    if held is None or str(held[0]).rsplit(":", 2)[1:] != [token, generation or "0"]:
        return None
    return sorted(str(graph) for graph in record["graphs"])


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


Plan = tuple[str, str, str]  # (plan IRI, number, province)


def peer_cohorts(lineage: Lineage, plans: Sequence[Plan]
                 ) -> dict[str, tuple[list[Plan], list[tuple[Plan, list[Plan]]]]]:
    """Directive -> (the plans carrying it out, each plan with the peers it is compared with).

    Peers are the plans carrying out the same directive at the same level (same series of
    numbers, same distance below the directive) in *other* provinces, :data:`PEERS_PER_PROVINCE`
    per province (the first by number): at most 33 comparisons a plan, however many communes
    a province has, where comparing every pair grew with the square of the corpus.
    """
    return cohort_pairs(cohort_groups(lineage, plans))


Cohorts = dict[str, dict[tuple[str, int], list[Plan]]]  # directive -> (series, distance) -> plans


def cohort_groups(lineage: Lineage, plans: Sequence[Plan]) -> Cohorts:
    """The plans carrying out each Party directive, by level (series of numbers, distance
    below the directive), in the order of ``plans``."""
    groups: Cohorts = {}
    for plan in plans:
        for ancestor, distance in lineage.ancestors(plan[0]).items():
            directive = lineage.numbers.get(ancestor, "")
            if _CENTRAL.search(directive):
                cohort = (_series(plan[1]), distance)
                groups.setdefault(directive, {}).setdefault(cohort, []).append(plan)
    return groups


def province_firsts(cohort: list[Plan]) -> dict[str, list[Plan]]:
    """Province -> the plans of the cohort its other provinces' plans are compared with (the
    first :data:`PEERS_PER_PROVINCE` by number), provinces in order."""
    firsts: dict[str, list[Plan]] = {}
    for plan in sorted(cohort, key=lambda p: (p[2], number_key(p[1]))):
        chosen = firsts.setdefault(plan[2], [])
        if len(chosen) < PEERS_PER_PROVINCE:
            chosen.append(plan)
    return firsts


def cohort_pairs(groups: Cohorts
                 ) -> dict[str, tuple[list[Plan], list[tuple[Plan, list[Plan]]]]]:
    """:func:`peer_cohorts` of :func:`cohort_groups`."""
    result = {}
    for directive, cohorts in sorted(groups.items()):
        members = [p for cohort in cohorts.values() for p in cohort]
        if len(members) < 2:
            continue
        pairs = []
        for cohort in cohorts.values():
            firsts = province_firsts(cohort)
            shared: dict[str, list[Plan]] = {}  # the same list for a province's plans
            for plan in cohort:
                if plan[2] not in shared:
                    shared[plan[2]] = [p for province, group in firsts.items()
                                       if province != plan[2] for p in group]
                pairs.append((plan, shared[plan[2]]))
        result[directive] = (members, pairs)
    return result


def peer_alignments(repo: Repository, documents: list[AuditedDocument] | None = None
                    ) -> list[cov.DirectiveAlignment]:
    """Tasks each plan lacks that its peers have (:func:`peer_cohorts`), computed whole (the
    index keeps them per plan and recomputes only what a change affects)."""
    documents = documents if documents is not None else audited_documents(repo)
    cohorts = peer_cohorts(Lineage.read(repo), [(d.iri, d.number, d.province)
                                                for d in documents])
    tasks = plans_tasks(repo, sorted({p[0] for members, _ in cohorts.values()
                                      for p in members}))
    rows: dict[str, _TermRows] = {}

    def rows_of(plan: str) -> _TermRows:
        if plan not in rows:
            rows[plan] = _TermRows([t.text for t in tasks.get(plan, [])])
        return rows[plan]

    result = []
    for directive, (members, pairs) in cohorts.items():
        alignment = cov.DirectiveAlignment(directive, members)
        for plan, peers in pairs:
            alignment.gaps.extend(_gaps(plan, peers, lambda p: tasks.get(p, []), rows_of))
        alignment.gaps.sort(key=lambda g: (number_key(g.number), number_key(g.peer_number),
                                           g.task.iri))
        result.append(alignment)
    return result


_PLAN_TASKS = """
    SELECT DISTINCT ?plan ?task ?no ?text ?src ?start ?group WHERE {
      #VALUES
      ?plan kg:sourceFile ?file .
      ?task a kg:Task ; kg:partOf ?plan ; kg:itemNumber ?no .
      OPTIONAL { ?task kg:text ?text } OPTIONAL { ?task kg:sourceText ?src }
      OPTIONAL { ?task kg:sourceStart ?start }
      OPTIONAL { ?parent kg:subTask ?task . ?parent kg:text ?group }
      OPTIONAL { ?task kg:subTask ?child }
      OPTIONAL { ?task kg:leadAgency ?lead }
      FILTER (!BOUND(?child) && !BOUND(?lead))
    }"""
WHOLE_CORPUS_TASKS = 2000  # more plans than this: one query over the corpus, not VALUES batches


def plans_tasks(repo: Repository, plans: Sequence[str]) -> dict[str, list[cov.Item]]:
    """The tasks of each plan as :func:`kgraph.analysis.coverage.plan_tasks` reads them (leaf
    tasks no lead body of their own carries out), for many plans in few queries."""
    if not plans:
        return {}
    texts = [_PLAN_TASKS] if len(plans) > WHOLE_CORPUS_TASKS else [
        _PLAN_TASKS.replace("#VALUES", "VALUES ?plan { " + " ".join(f"<{p}>" for p in chunk)
                            + " }") for chunk in _chunks(list(plans), 200)]
    by_plan: dict[str, list[dict[str, str | None]]] = {}
    for text in texts:
        for row in query_records(repo, sparql_prefixes() + text):
            by_plan.setdefault(row["plan"] or "", []).append(row)
    wanted = set(plans)
    return {plan: cov._items(plan_rows, "task", plan)
            for plan, plan_rows in by_plan.items() if plan in wanted}


def kept_plans_tasks(repo: Repository, documents: Sequence[AuditedDocument]
                     ) -> dict[str, list[cov.Item]]:
    """The tasks of these plans as the build kept them (by content), the others read from the
    store in few queries and kept for the next time."""
    found: dict[str, list[cov.Item]] = {}
    missing: dict[str, AuditedDocument] = {}
    for document in documents:
        if document.iri in found or document.iri in missing:
            continue
        kept = document_value(repo, tasks_key(document.graph, document.sha256))
        if kept is None:
            missing[document.iri] = document
        else:
            found[document.iri] = kept
    read = plans_tasks(repo, sorted(missing))
    for iri, document in missing.items():
        found[iri] = read.get(iri, [])
        keep_document_value(repo, tasks_key(document.graph, document.sha256), found[iri])
    return found


def all_plan_tasks(repo: Repository) -> dict[str, list[cov.Item]]:
    """The tasks of every plan (as :func:`kgraph.analysis.coverage.plan_tasks`)."""
    by_plan: dict[str, list[dict[str, str | None]]] = {}
    for row in query_records(repo, sparql_prefixes() + _PLAN_TASKS):
        by_plan.setdefault(row["plan"] or "", []).append(row)
    return {plan: cov._items(rows, "task", plan) for plan, rows in by_plan.items()}


# ---------------------------------------------------------------------------- computing it

def _new_database(path: Path | str) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False)
    db.executescript(_SCHEMA + _ADDED)
    return db


class _Kept(dict[tuple[str, str], tuple[int, AuditedDocument]]):
    """The documents table's rows as (row id, document), each made when first asked for (a
    one-plan update looks at a few of 20,000)."""

    def __init__(self, rows: dict[tuple[str, str], tuple[Any, ...]]) -> None:
        super().__init__()
        self.rows = rows

    def __missing__(self, key: tuple[str, str]) -> tuple[int, AuditedDocument]:
        row = self.rows[key]
        value = self[key] = (row[0], AuditedDocument(*row[1:]))
        return value

    def get(self, key: tuple[str, str], default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in self.rows else default

    def __contains__(self, key: object) -> bool:
        return key in self.rows


class _Update:
    """Brings an index (empty, or the one of an earlier version) to the store's content by
    comparing each document graph's source SHA-256: only what changed is read again."""

    def __init__(self, db: sqlite3.Connection, repo: Repository) -> None:
        self.db = db
        self.repo = repo
        self.affected: set[str] = set()  # document numbers whose groups must be counted again
        self.changed_numbers: set[str] = set()  # number keys of changed or removed documents
        self.changed_iris: set[str] = set()
        self.lineage_same = False  # the changed documents' lineage rows are as they were
        self.same_plans = False  # no document came or went, none changed number or province
        self.added: list[AuditedDocument] = []  # the changed documents, when all are new ones
        # then the removed documents (a moved or pruned plan's graph), with their row ids
        self.departed: list[tuple[int, AuditedDocument]] = []
        self.new_lineage: list[tuple[str, ...]] = []  # the lineage rows of the changed graphs
        self.old_lineage: set[tuple[str, ...]] = set()  # and those they held before
        self.seconds: dict[str, float] = {}
        self.pending: list[tuple[str, Callable[[], None]]] = []  # (see side_steps)
        self.started = 0.0

    def run(self) -> None:
        self.started = started = time.perf_counter()
        full = not self.db.execute("SELECT 1 FROM documents LIMIT 1").fetchall()
        changed, removed = self.documents(full)
        self.seconds["documents"] = time.perf_counter() - started
        if audit_unkept(self.repo, changed):
            self.seconds["documents audited"] = time.perf_counter() - started
        self.pending = [("own findings", lambda: self.own_findings(changed, full)),
                        ("conflicts", lambda: self.conflicts(changed, removed, full))]
        if full:  # millions of rows: indexed once written, not row by row (the findings'
            for statement in _BULK_INDEXES:  # while the workers compare plans)
                self.db.execute(f"DROP INDEX IF EXISTS {statement.split()[2]}")
            self.pending.append(("findings indexes", lambda: [
                self.db.execute(statement) for statement in _FINDING_INDEXES]))
        else:
            self.side_steps()
        self.peers()
        self.side_steps()  # (when no plan was compared)
        if full:
            for statement in _GAP_INDEXES:
                self.db.execute(statement)
        self.seconds["peers"] = time.perf_counter() - started
        self.regroup(None if full else self.affected)
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?), ('format', ?)",
                        (audit_fingerprint(), FORMAT))
        self.seconds["counts"] = time.perf_counter() - started

    def documents(self, full: bool) -> tuple[list[AuditedDocument], list[AuditedDocument]]:
        """Write the documents and lineage tables; return the changed (or new) documents and
        the removed ones."""
        columns = "SELECT id, iri, graph, number, province, sha256, pv FROM documents"
        if full:
            rows = {(row[1], row[2]): row for row in self.db.execute(columns)}
            old = _Kept(rows)  # (iri, graph) -> (row id, document), made when asked for
            documents = audited_documents(self.repo)
            new = {(d.iri, d.graph): d for d in documents}
            removed = [old[key][1] for key in rows if key not in new]
        else:
            written = written_since(self.repo, self.db)
            if written is None:
                stored = self.db.execute("SELECT graph, sha256 FROM documents").fetchall()
                shas = document_shas(self.repo, len(stored))
                kept = {*stored, *self.db.execute("SELECT graph, sha256 FROM other_graphs")}
            else:  # only the graphs the build wrote can differ: those looked up, not 20,000
                (count,), = self.db.execute("SELECT COUNT(*) FROM documents")
                every = document_shas(self.repo, count)
                shas = {g: every[g] for g in written if g in every}
                stored, kept = [], set()
                for chunk in _chunks(written, 500):
                    marks = ",".join("?" * len(chunk))
                    stored += self.db.execute(
                        f"SELECT graph, sha256 FROM documents WHERE graph IN ({marks})", chunk)
                    kept.update(self.db.execute(
                        f"SELECT graph, sha256 FROM other_graphs WHERE graph IN ({marks})", chunk))
                kept.update(stored)
            graphs = sorted(g for g, sha in shas.items() if (g, sha) not in kept)
            rows = {}  # the rows of the graphs read again or gone (the others stay as they are)
            for chunk in _chunks(sorted({*graphs, *(g for g, _ in stored if g not in shas)}),
                                 500):
                rows.update(((row[1], row[2]), row) for row in self.db.execute(
                    f"{columns} WHERE graph IN ({','.join('?' * len(chunk))})", chunk))
            old = _Kept(rows)
            provinces = dict(self.db.execute(
                "SELECT DISTINCT pv, province FROM documents WHERE province != ''"))
            documents = audited_documents(self.repo, graphs, provinces) if graphs else []
            holding = {d.graph for d in documents}  # graphs with a hash but no document
            self.db.executemany("INSERT OR REPLACE INTO other_graphs VALUES (?, ?)",
                                ((g, shas[g]) for g in graphs if g not in holding))
            reread = set(graphs)
            new = {(d.iri, d.graph): d for d in documents}  # the documents read again
            removed = [old[key][1] for key in rows if key[1] not in shas
                       or (key[1] in reread and key not in new)]
        changed = [d for key, d in new.items() if key not in rows or old[key][1] != d]
        if not full and all(
                (d.iri, d.graph) not in old and not self.db.execute(
                    "SELECT 1 FROM documents WHERE iri = ? LIMIT 1", (d.iri,)).fetchall()
                for d in changed):
            self.added = changed  # new documents only, none stated in another graph before
            self.departed = [(old[(d.iri, d.graph)][0], d) for d in removed]
        for document in removed:
            row_id = old[(document.iri, document.graph)][0]
            self.db.execute("DELETE FROM findings WHERE kind = 'own' AND owner = ?",
                            (document.graph,))
            self.db.execute("DELETE FROM gaps WHERE plan = ?", (row_id,))
            self.db.execute("DELETE FROM peer_sets WHERE plan = ?", (row_id,))
            self.db.execute("DELETE FROM documents WHERE id = ?", (row_id,))
            self.affected.add(document.number)
        for document in changed:
            values = (document.number, number_key(document.number), document.province,
                      fold(document.province), document.province_iri, document.sha256)
            before = old.get((document.iri, document.graph))
            if before is None:
                self.db.execute("INSERT INTO documents (iri, graph, number, nkey, province, "
                                "pfold, pv, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                (document.iri, document.graph, *values))
            else:
                self.db.execute("UPDATE documents SET number = ?, nkey = ?, province = ?, "
                                "pfold = ?, pv = ?, sha256 = ? WHERE id = ?",
                                (*values, before[0]))
                self.affected.add(before[1].number)
            self.affected.add(document.number)
        self.same_plans = not full and not removed and all(
            (d.iri, d.graph) in old and (old[(d.iri, d.graph)][1].number, old[(d.iri, d.graph)][
                1].province) == (d.number, d.province) for d in changed)
        self.changed_iris = {d.iri for d in [*changed, *removed]}
        self.changed_numbers = {number_key(d.number) for d in [*changed, *removed]}
        self.changed_numbers.update(number_key(old[(d.iri, d.graph)][1].number)
                                    for d in changed if (d.iri, d.graph) in old)
        self.lineage(None if full else sorted({d.graph for d in [*changed, *removed]}))
        return changed, removed

    def lineage(self, graphs: list[str] | None) -> None:
        """Who carries out what, kept per document graph (edges of changed graphs re-read)."""
        before: set[tuple[str, ...]] = set()
        if graphs is None:
            self.db.execute("DELETE FROM edges")
            self.db.execute("DELETE FROM names")
        else:
            for chunk in _chunks(graphs, 500):
                marks = ",".join("?" * len(chunk))
                for table in ("edges", "names"):
                    before.update((table, *row) for row in self.db.execute(
                        f"SELECT * FROM {table} WHERE graph IN ({marks})", chunk))
                    self.db.execute(f"DELETE FROM {table} WHERE graph IN ({marks})", chunk)
            if not graphs:
                self.lineage_same = True
                return
        documents: set[str] = set()  # (graphs of documents: others are not lineage)
        for chunk in [None] if graphs is None else _chunks(graphs, 500):
            documents.update(g for (g,) in self.db.execute(
                "SELECT DISTINCT graph FROM documents" if chunk is None else
                f"SELECT graph FROM documents WHERE graph IN ({','.join('?' * len(chunk))})",
                () if chunk is None else chunk))
        edges: dict[tuple[str, str, str], None] = {}  # (graph, child, parent), distinct
        names: dict[tuple[str, str, str], None] = {}  # (graph, parent, its number there)
        if graphs is None:  # one query for both: the numbers' join alone cost twice as much
            for r in query_records(self.repo, sparql_prefixes() + """
                    SELECT ?g ?s ?o ?n WHERE {
                      GRAPH ?g { ?s kg:implements ?o OPTIONAL { ?o eli:id_local ?n } } }"""):
                if r["g"] in documents:
                    edges[(r["g"], r["s"], r["o"])] = None  # type: ignore[index]
                    if r["n"] is not None:
                        names[(r["g"], r["o"], r["n"])] = None  # type: ignore[index]
        else:  # (a bound graph with the OPTIONAL inside it took seconds at 20,000 plans)
            edges.update(((r["g"], r["s"], r["o"]), None) for r in _graph_records(
                self.repo, """SELECT DISTINCT ?g ?s ?o WHERE { #VALUES
                GRAPH ?g { ?s kg:implements ?o } }""", graphs) if r["g"] in documents)
            names.update(((r["g"], r["d"], r["n"]), None) for r in _graph_records(
                self.repo, """SELECT DISTINCT ?g ?d ?n WHERE { #VALUES
                GRAPH ?g { ?x kg:implements ?d . ?d eli:id_local ?n } }""", graphs)
                if r["g"] in documents)
        self.db.executemany("INSERT INTO edges VALUES (?, ?, ?)", edges)
        self.db.executemany("INSERT INTO names VALUES (?, ?, ?)", names)
        self.new_lineage = [*(("edges", *row) for row in edges),
                            *(("names", *row) for row in names)]
        self.old_lineage = before
        self.lineage_same = graphs is not None and before == {
            *(("edges", *row) for row in edges), *(("names", *row) for row in names)}

    def read_lineage(self) -> Lineage:
        parents: dict[str, set[str]] = {}
        for child, parent in self.db.execute("SELECT child, parent FROM edges"):
            parents.setdefault(child, set()).add(parent)
        numbers: dict[str, str] = {}
        for iri, number in self.db.execute("SELECT iri, number FROM names ORDER BY iri, number"):
            numbers.setdefault(iri, number)
        return Lineage(parents, numbers)

    def insert(self, kind: str, owner: Callable[[Finding], str],
               findings: Iterable[Finding]) -> None:
        self.db.executemany(
            "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((kind, owner(f), number_key(f.document_number), SEVERITY_ORDER.get(f.severity, 9),
              f.rule, f.severity, f.focus, f.document_number, f.label_vi, f.message_vi,
              f.message_en, f.source_text, f.value, f.origin) for f in findings))

    def side_steps(self) -> None:
        """The steps the peer comparisons do not depend on (own findings, conflicts), once:
        in a full computation while the workers compare the first plans (they ran before
        the comparisons, one process working and the other cores idle; each table is
        still written in the same order, so its rows and row ids are the same)."""
        steps, self.pending = self.pending, []
        for name, step in steps:
            step()
            self.seconds[name] = time.perf_counter() - self.started

    def own_findings(self, changed: list[AuditedDocument], full: bool = False) -> None:
        """Each changed document's own findings (kept by content key, so mostly a read: of
        many documents, read by a few threads at once, as thousands of small files not in the
        page cache made this step wait on the disk; written in the documents' order)."""

        def read(document: AuditedDocument) -> list[Finding] | None:  # (a file read only)
            return document_value(self.repo, document_key(document.graph, document.sha256))

        if full:  # every document is new: one delete, not one a document (not indexed now)
            self.db.execute("DELETE FROM findings WHERE kind = 'own'")

        with ThreadPoolExecutor(READ_THREADS) as pool:
            for part in _chunks(changed, 256):  # (read ahead a little, not everything)
                for document, kept in zip(part, pool.map(read, part), strict=True):
                    findings = kept if kept is not None else document_findings(  # computed here
                        self.repo, SourceDocument(document.iri, document.graph, document.number),
                        document.sha256)
                    if not full:
                        self.db.execute("DELETE FROM findings WHERE kind = 'own' AND owner = ?",
                                        (document.graph,))
                    self.insert("own", lambda _f, g=document.graph: g, findings)

    def conflicts(self, changed: list[AuditedDocument], removed: list[AuditedDocument],
                  full: bool) -> None:
        """Conflicting statements about the documents the changed ones state (or stated)."""
        if full:
            found, sources = conflict_statements(self.repo)
            foci = None
        else:
            foci = {d for doc in changed for d in documents_stated_by(self.repo, doc.number)}
            keys = sorted(self.changed_numbers)
            for chunk in _chunks(keys, 500):
                foci.update(row[0] for row in self.db.execute(
                    "SELECT DISTINCT focus FROM conflict_sources WHERE nkey IN "
                    f"({','.join('?' * len(chunk))})", chunk))
            if not foci:
                return
            for chunk in _chunks(sorted(foci), 500):
                marks = ",".join("?" * len(chunk))
                self.affected.update(row[0] for row in self.db.execute(
                    "SELECT DISTINCT document_number FROM findings WHERE kind = 'conflict' "
                    f"AND owner IN ({marks})", chunk))
                self.db.execute(f"DELETE FROM findings WHERE kind = 'conflict' AND owner IN "
                                f"({marks})", chunk)
                self.db.execute(f"DELETE FROM conflict_sources WHERE focus IN ({marks})", chunk)
            contested = sorted(foci) if len(foci) > CHECKED_FOCI else [
                focus for focus in sorted(foci) if _stated_twice(self.repo, focus)]
            found, sources = (conflict_statements(self.repo, contested) if contested
                              else ([], {}))
        self.insert("conflict", lambda f: f.focus, found)
        self.affected.update(f.document_number for f in found)
        self.db.executemany("INSERT INTO conflict_sources VALUES (?, ?, ?)",
                            ((focus, number, number_key(number))
                             for focus, numbers in sources.items() for number in numbers))

    def peers(self) -> None:
        """Peer gaps of the pairs (plan, peer) a change touches: a changed plan against its
        peers, every plan against a changed peer, pairs that appear; pairs that disappear are
        dropped. Kept per pair, so a plan that is its province's peer for a whole cohort
        costs one comparison per plan of the cohort, not the cohort's every comparison."""
        if (self.added or self.departed) and self.peers_of_new():
            return
        ids: dict[str, int] = {}
        for row_id, iri in self.db.execute("SELECT id, iri FROM documents ORDER BY id"):
            ids.setdefault(iri, row_id)
        changed = {ids[iri] for iri in self.changed_iris if iri in ids}
        if self.same_plans and self.lineage_same:  # the cohorts are the kept ones
            self.peers_of_changed(changed, ids)
            return
        documents = [AuditedDocument(*row) for row in self.db.execute(
            "SELECT iri, graph, number, province, sha256, pv FROM documents "
            "ORDER BY number, pv, iri, graph")]
        groups = cohort_groups(self.read_lineage(),
                               [(d.iri, d.number, d.province) for d in documents])
        self.keep_cohorts(groups, ids)
        cohorts = cohort_pairs(groups)
        stored = {(plan, directive): peers for plan, directive, peers in
                  self.db.execute("SELECT plan, directive, peers FROM peer_sets")}
        wanted: dict[tuple[int, str], tuple[Plan, list[Plan], str]] = {}
        signatures: dict[int, str] = {}
        for directive, (_members, pairs) in cohorts.items():
            for plan, peers in pairs:
                signature = signatures.get(id(peers))
                if signature is None:
                    signature = signatures[id(peers)] = ",".join(str(ids[p[0]]) for p in peers)
                wanted[(ids[plan[0]], directive)] = (plan, peers, signature)
        drop: list[tuple[int, str, int]] = []  # (plan, directive, peer) whose gaps go
        todo: dict[tuple[int, str], tuple[Plan, list[Plan]]] = {}
        for key, before in stored.items():
            if key not in wanted:
                drop.extend((*key, int(p)) for p in before.split(",") if p)
        touched: dict[int, bool] = {}  # a peer list holds a changed plan (lists are shared)
        for key, (plan, peers, signature) in wanted.items():
            before = stored.get(key)
            if id(peers) not in touched:
                touched[id(peers)] = any(ids[p[0]] in changed for p in peers)
            if before == signature and key[0] not in changed and not touched[id(peers)]:
                continue
            old_peers = {int(p) for p in before.split(",") if p} if before else set()
            if key[0] in changed:
                recompute = peers
                drop.extend((*key, p) for p in old_peers)
            else:
                recompute = [p for p in peers if ids[p[0]] in changed
                             or ids[p[0]] not in old_peers]
                drop.extend((*key, p) for p in old_peers
                            if p in changed or p not in {ids[q[0]] for q in peers})
            todo[key] = (plan, recompute)
        numbers = {row_id: number for row_id, number in
                   self.db.execute("SELECT id, number FROM documents")}
        self.db.executemany("DELETE FROM gaps WHERE plan = ? AND directive = ? AND peer = ?",
                            drop)
        self.db.executemany("DELETE FROM peer_sets WHERE plan = ? AND directive = ?",
                            [k for k in stored if k not in wanted])
        self.db.executemany("INSERT OR REPLACE INTO peer_sets VALUES (?, ?, ?)",
                            ((*key, wanted[key][2]) for key in todo))
        self.affected.update(numbers[plan] for plan, _, _ in drop if plan in numbers)
        if not todo:
            return
        by_iri: dict[str, AuditedDocument] = {}
        for document in documents:  # the first of a document stated in two graphs
            by_iri.setdefault(document.iri, document)
        self.compare(todo, ids, by_iri)

    def keep_cohorts(self, groups: Cohorts, ids: dict[str, int]) -> None:
        """Write who is in which cohort (:meth:`peers_of_new` looks them up); a plan found
        twice in one directive (two ancestors with its number, or one document in two graphs)
        makes them unusable for that."""
        self.db.execute("DELETE FROM cohorts")
        rows, seen, ambiguous = [], set(), False
        for directive, cohorts in groups.items():
            for (series, distance), cohort in cohorts.items():
                firsts = {p for group in province_firsts(cohort).values() for p in group}
                for plan in cohort:
                    key = (directive, ids[plan[0]])
                    ambiguous = ambiguous or key in seen
                    seen.add(key)
                    rows.append((directive, series, distance, ids[plan[0]], plan[2],
                                 number_key(plan[1]), int(plan in firsts)))
        self.db.executemany("INSERT INTO cohorts VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('cohorts', ?)",
                        ("ambiguous" if ambiguous else "exact",))

    def _documents(self, pairs: dict[tuple[int, str], list[int]]) -> dict[int, AuditedDocument]:
        """The index's rows of the plans and peers of ``pairs`` ((plan, directive) -> peers): only
        the documents a small update compares, not the whole table."""
        involved = sorted({i for (plan, _), peers in pairs.items() for i in (plan, *peers)})
        documents: dict[int, AuditedDocument] = {}
        for part in _chunks(involved, 500):
            documents.update((row[0], AuditedDocument(*row[1:])) for row in self.db.execute(
                "SELECT id, iri, graph, number, province, sha256, pv FROM documents WHERE id IN "
                f"({','.join('?' * len(part))})", part))
        return documents

    def peers_of_new(self) -> bool:
        """:meth:`peers` when documents only came or went (new plans; a moved or pruned plan's
        graph removed) and nothing else changed: a new plan's cohorts are looked up, a leaving
        plan's are the ``cohorts`` rows it had, so each new plan is compared with its peers only
        and, where the first plan of a province in a cohort changes, the cohort's other plans
        with the new first (their gaps with the one before dropped), with no work proportional
        to the corpus. False (nothing written) when the lineage around them is not plain
        leaves coming and going: :meth:`peers` then works every cohort out again."""
        if PEERS_PER_PROVINCE != 1 or self.db.execute(
                "SELECT value FROM meta WHERE key = 'cohorts'").fetchall() != [("exact",)]:
            return False
        iris = {d.iri for d in self.added}
        leaving = {d.iri: row_id for row_id, d in self.departed}
        if len(iris) != len(self.added) or len(leaving) != len(self.departed) or (
                iris & leaving.keys()):  # a document stated in two graphs, or in another now
            return False
        for iri in leaving:  # still stated by another graph, or carried out by something
            if self.db.execute("SELECT 1 FROM documents WHERE iri = ? UNION ALL SELECT 1 FROM "
                               "edges WHERE parent = ? LIMIT 1", (iri, iri)).fetchall():
                return False
        graphs = {d.graph for d in self.added} | {d.graph for _, d in self.departed}
        marks = ",".join("?" * len(graphs))
        written = set(self.new_lineage)
        for table, _graph, first, second in [*self.new_lineage,
                                             *(r for r in self.old_lineage if r not in written)]:
            if table == "edges" and first not in iris and first not in leaving and not (
                    self.db.execute(f"SELECT 1 FROM edges WHERE child = ? AND parent = ? AND "
                                    f"graph NOT IN ({marks}) LIMIT 1",
                                    (first, second, *graphs)).fetchall()):
                return False  # a link no graph kept states (before or now)
            if table == "names" and not self._same_number(first, second, graphs):
                return False
        # (plan id, plan, number key) of each cohort's new plans
        arrivals: dict[tuple[str, str, int], list[tuple[int, Plan, str]]] = {}
        for new in sorted(self.added, key=lambda d: (d.number, d.province_iri, d.iri, d.graph)):
            if self.db.execute("SELECT 1 FROM edges WHERE parent = ? LIMIT 1",
                               (new.iri,)).fetchall():  # something carries out a new document
                return False
            (plan_id,), = self.db.execute("SELECT id FROM documents WHERE iri = ? ORDER BY id "
                                          "LIMIT 1", (new.iri,))
            directives: dict[str, int] = {}
            for ancestor, distance in self._ancestors(new.iri).items():
                number = self.db.execute("SELECT MIN(number) FROM names WHERE iri = ?",
                                         (ancestor,)).fetchone()[0] or ""
                if _CENTRAL.search(number):
                    if number in directives:
                        return False
                    directives[number] = distance
            for directive, distance in directives.items():
                arrivals.setdefault((directive, _series(new.number), distance), []).append(
                    (plan_id, (new.iri, new.number, new.province), number_key(new.number)))
        gone = set(leaving.values())
        coming: Counter[str] = Counter()  # new plans of each directive
        for (directive, _level, _distance), arrived in arrivals.items():
            coming[directive] += len(arrived)
        going: Counter[str] = Counter()  # leaving plans of each directive, in their cohorts
        for row_id in sorted(gone):
            for directive, series, distance in self.db.execute(
                    "SELECT directive, series, distance FROM cohorts WHERE plan = ?", (row_id,)):
                going[directive] += 1
                arrivals.setdefault((directive, series, distance), [])
        members = {directive: self.db.execute(
            "SELECT COUNT(*) FROM cohorts WHERE directive = ?", (directive,)).fetchone()[0]
            for directive in coming | going}
        todo: dict[tuple[int, str], list[int]] = {}  # (plan, directive) -> peers to compare
        lists: dict[tuple[int, str], list[int]] = {}  # (plan, directive) -> all its peers
        drop: list[tuple[int, str, int]] = []
        cohort_rows: list[tuple[object, ...]] = []
        demoted: list[tuple[str, str, int, int]] = []
        promoted: list[tuple[str, str, int, int]] = []
        plans: dict[int, Plan] = {}
        for (directive, series, distance), arrived in arrivals.items():
            paired = members[directive] - going[directive] + coming[directive] >= 2
            if paired != (members[directive] >= 2):  # a directive gets its first pair or
                return False  # loses its last
            rows = self.db.execute(
                "SELECT plan, province, nkey, first FROM cohorts WHERE directive = ? AND "
                "series = ? AND distance = ?", (directive, series, distance)).fetchall()
            before = {province: (peer, nkey) for peer, province, nkey, first in rows if first}
            rows = [row for row in rows if row[0] not in gone]
            firsts = {p: first for p, first in before.items() if first[0] not in gone}
            for province in {p for p, first in before.items() if first[0] in gone}:
                left = sorted((nkey, peer) for peer, pv, nkey, _ in rows if pv == province)
                if len(left) > 1 and left[0][0] == left[1][0]:
                    return False  # a tie, broken by the documents' order
                if left:
                    firsts[province] = (left[0][1], left[0][0])
            for plan_id, plan, key in arrived:
                plans[plan_id] = plan
                mine = firsts.get(plan[2])
                if mine is not None and mine[1] == key:  # a tie, broken by the documents' order
                    return False
                if mine is None or key < mine[1]:
                    firsts[plan[2]] = (plan_id, key)
            moved = {province for province in before.keys() | firsts.keys()
                     if before.get(province) != firsts.get(province)}  # a new first, or none
            for plan_id, plan, key in arrived:
                cohort_rows.append((directive, series, distance, plan_id, plan[2], key,
                                    int(firsts[plan[2]][0] == plan_id)))
            demoted.extend((directive, series, distance, before[p][0])
                           for p in moved if p in before and before[p][0] not in gone)
            staying = {peer for peer, *_ in rows}
            promoted.extend((directive, series, distance, firsts[p][0])
                            for p in moved if p in firsts and firsts[p][0] in staying)
            if not paired:
                continue
            order = sorted(firsts)
            for plan_id, plan, _key in arrived:
                lists[(plan_id, directive)] = todo[(plan_id, directive)] = [
                    firsts[p][0] for p in order if p != plan[2]]
            for peer, province, _nkey, _first in rows:
                if not moved - {province}:
                    continue
                lists[(peer, directive)] = [firsts[p][0] for p in order if p != province]
                todo[(peer, directive)] = [firsts[p][0] for p in order
                                           if p in moved and p != province]
                drop.extend((peer, directive, before[p][0]) for p in moved
                            if p in before and p != province)
        # every check passed: write
        self.db.executemany("DELETE FROM cohorts WHERE plan = ?", ((i,) for i in sorted(gone)))
        self.db.executemany("INSERT INTO cohorts VALUES (?, ?, ?, ?, ?, ?, ?)", cohort_rows)
        self.db.executemany("UPDATE cohorts SET first = 0 WHERE directive = ? AND series = ? "
                            "AND distance = ? AND plan = ?", demoted)
        self.db.executemany("UPDATE cohorts SET first = 1 WHERE directive = ? AND series = ? "
                            "AND distance = ? AND plan = ?", promoted)
        self.db.executemany("DELETE FROM gaps WHERE plan = ? AND directive = ? AND peer = ?",
                            drop)
        self.db.executemany("INSERT OR REPLACE INTO peer_sets VALUES (?, ?, ?)",
                            ((*k, ",".join(map(str, peers))) for k, peers in lists.items()))
        documents = self._documents(todo)
        plans = {**{i: (d.iri, d.number, d.province) for i, d in documents.items()}, **plans}
        self.affected.update(plans[p][1] for p, _, _ in drop)
        self.compare({k: (plans[k[0]], [plans[p] for p in peers]) for k, peers in todo.items()},
                     {d.iri: i for i, d in documents.items()},
                     {d.iri: d for d in documents.values()})
        return True

    def _same_number(self, iri: str, number: str, graphs: set[str]) -> bool:
        """Whether a number the changed graphs state for a document carried out leaves every
        other plan's cohorts as they were: it had a number at least as small, or no plan
        carries it out through the graphs kept."""
        marks = ",".join("?" * len(graphs))
        kept = self.db.execute(f"SELECT MIN(number) FROM names WHERE iri = ? AND graph NOT IN "
                               f"({marks})", (iri, *graphs)).fetchone()[0]
        if kept is not None:
            return kept <= number
        return not self.db.execute(f"SELECT 1 FROM edges WHERE parent = ? AND graph NOT IN "
                                   f"({marks}) LIMIT 1", (iri, *graphs)).fetchall()

    def _ancestors(self, plan: str) -> dict[str, int]:
        """:meth:`Lineage.ancestors` read from the edges kept (a lookup a step)."""
        found: dict[str, int] = {}
        frontier, distance = [plan], 0
        while frontier:
            distance += 1
            step = []
            for node in frontier:
                for (parent,) in self.db.execute(
                        "SELECT DISTINCT parent FROM edges WHERE child = ?", (node,)):
                    if parent not in found and parent != plan:
                        found[parent] = distance
                        step.append(parent)
            frontier = step
        return found

    def peers_of_changed(self, changed: set[int], ids: dict[str, int]) -> None:
        """:meth:`peers` when no plan came, went or moved in the lineage: every plan keeps
        its peers, so only the pairs with a changed plan are compared again (the rows kept
        say which), without working out every plan's cohort."""
        if not changed:
            return
        marks = [f",{c}," for c in changed]
        chosen: dict[tuple[int, str], list[int]] = {}
        for plan, directive, peers in self.db.execute(
                "SELECT plan, directive, peers FROM peer_sets"):
            listed = f",{peers},"
            if plan in changed or any(m in listed for m in marks):
                peer_ids = [int(p) for p in peers.split(",") if p]
                chosen[(plan, directive)] = (peer_ids if plan in changed
                                             else [p for p in peer_ids if p in changed])
        documents = self._documents(chosen)
        plans = {i: (d.iri, d.number, d.province) for i, d in documents.items()}
        drop = [(plan, directive, p) for (plan, directive), peers in chosen.items()
                for p in peers]
        self.db.executemany("DELETE FROM gaps WHERE plan = ? AND directive = ? AND peer = ?",
                            drop)
        self.affected.update(plans[plan][1] for plan, _, _ in drop)
        self.compare({key: (plans[key[0]], [plans[p] for p in peers])
                      for key, peers in chosen.items()}, ids,
                     {d.iri: d for d in documents.values()})

    def compare(self, todo: dict[tuple[int, str], tuple[Plan, list[Plan]]],
                ids: dict[str, int], by_iri: dict[str, AuditedDocument]) -> None:
        """Compare each plan of ``todo`` with the peers listed and write the gaps found."""
        if not todo:
            return
        task_ids: dict[str, int] = {}
        if store_root(self.repo) is not None:  # the workers read the plans' tasks: one pass,
            self._peer_gaps(todo, ids, by_iri, task_ids)  # their caches warm from one
            return  # directive to the next, and two plans in two directives compared once
        by_directive: dict[str, list[tuple[int, str]]] = {}
        for key in todo:
            by_directive.setdefault(key[1], []).append(key)
        for keys in by_directive.values():  # one directive's plans' texts held at a time
            self._peer_gaps({key: todo[key] for key in keys}, ids, by_iri, task_ids)

    def _peer_gaps(self, todo: dict[tuple[int, str], tuple[Plan, list[Plan]]],
                   ids: dict[str, int], by_iri: dict[str, AuditedDocument],
                   task_ids: dict[str, int]) -> None:
        needed = {p[0] for plan, peers in todo.values() for p in (plan, *peers)}
        peers_of = {p[0] for _plan, peers in todo.values() for p in peers}
        keys = {iri: tasks_key(by_iri[iri].graph, by_iri[iri].sha256) for iri in needed}
        # the peers' tasks are read here (their gaps are written from them); the others' only
        # where they are not kept yet (read from the store and kept): the workers read them
        read = [iri for iri in sorted(needed) if iri in peers_of
                or not has_document_value(self.repo, keys[iri])]
        tasks = kept_plans_tasks(self.repo, [by_iri[iri] for iri in read])
        kept = {iri: key for iri, key in keys.items()
                if has_document_value(self.repo, key)} if store_root(self.repo) else {}
        wanted_pairs: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for (plan_id, directive), (plan, peers) in todo.items():
            for peer in peers:
                wanted_pairs.setdefault((plan[0], peer[0]), []).append((plan_id, directive))
            if peers:
                self.affected.add(plan[1])
        scores = compare_plans(list(wanted_pairs),
                               {iri: [t.text for t in items] for iri, items in tasks.items()},
                               keys=kept, root=store_root(self.repo), meanwhile=self.side_steps)
        for part in _batched(scores, 2000):  # written as they come: memory does not grow
            self._task_ids([tasks[peer][index] for (_, peer), found in part
                            for index, _ in found], task_ids)
            rows: list[tuple[object, ...]] = []
            for (plan, peer), found in part:
                items, peer_id = tasks[peer], ids[peer]
                gaps = [(peer_id, task_ids[items[index].iri], best) for index, best in found]
                for plan_id, directive in wanted_pairs[(plan, peer)]:
                    rows.extend((plan_id, directive, *gap) for gap in gaps)
            self.db.executemany("INSERT INTO gaps VALUES (?, ?, ?, ?, ?)", rows)

    def _task_ids(self, tasks: list[cov.Item], known: dict[str, int]) -> None:
        """Write the tasks not written yet (a task's text may have changed) and learn their ids."""
        new = list({t.iri: t for t in tasks if t.iri not in known}.values())
        if not new:
            return
        self.db.executemany("INSERT INTO tasks (iri, text, source_text) VALUES (?, ?, ?) "
                            "ON CONFLICT (iri) DO UPDATE SET text = excluded.text, "
                            "source_text = excluded.source_text",
                            ((t.iri, t.text, t.source_text) for t in new))
        for chunk in _chunks([t.iri for t in new], 500):
            known.update((iri, row_id) for row_id, iri in self.db.execute(
                f"SELECT id, iri FROM tasks WHERE iri IN ({','.join('?' * len(chunk))})",
                chunk))

    def regroup(self, numbers: set[str] | None) -> None:
        """Count the findings of each (document, rule, severity) again for ``numbers`` (all
        when None)."""
        own = ("INSERT INTO groups SELECT document_number, nkey, sev, rule, severity, COUNT(*) "
               "FROM findings {} GROUP BY document_number, rule, severity")
        peer = ("INSERT INTO groups SELECT p.number, p.nkey, ?, ?, ?, COUNT(*) FROM gaps g "
                "JOIN documents p ON p.id = g.plan {} GROUP BY p.number "
                "ON CONFLICT DO UPDATE SET n = n + excluded.n")
        info = (SEVERITY_ORDER.get(Severity.INFO.value, 9), PEER_RULE, Severity.INFO.value)
        if numbers is None:
            self.db.execute("DELETE FROM groups")
            self.db.execute(own.format("WHERE 1"))
            self.db.execute(peer.format("WHERE 1"), info)
            return
        for chunk in _chunks(sorted(numbers), 500):
            marks = ",".join("?" * len(chunk))
            self.db.execute(f"DELETE FROM groups WHERE document_number IN ({marks})", chunk)
            self.db.execute(own.format(f"WHERE document_number IN ({marks})"), chunk)
            self.db.execute(peer.format(f"WHERE p.number IN ({marks})"), (*info, *chunk))


PARALLEL_AUDITS = 200  # documents without kept findings from which processes audit them
AUDIT_CHUNK = 50  # documents a process is given at a time
# What forked processes audit (set before they start; each reads its copy), and the process
# whose own reader of the store version is open.
_UNKEPT: tuple[OxigraphRepository, list[AuditedDocument]] | None = None
_READER_OF = 0


def audit_unkept(repo: Repository, documents: list[AuditedDocument]) -> bool:
    """Audit the documents whose findings are not kept (another audit fingerprint: the code
    changed since they were built) in forked processes, one per core, each keeping them (and
    the tasks) as the build's workers do; the index then reads them as kept. A served store's
    first ``/audit`` after a code change audited 20,000 documents in its one process for
    minutes. Only many of them (a build's, or a small update's, are kept): True when done."""
    if not isinstance(repo, OxigraphRepository) or repo.path is None or repo.root is None:
        return False
    missing = [d for d in documents
               if not has_document_value(repo, document_key(d.graph, d.sha256))]
    workers = min(os.cpu_count() or 1, -(-len(missing) // AUDIT_CHUNK))
    if len(missing) < PARALLEL_AUDITS or workers < 2:
        return False
    global _UNKEPT
    _UNKEPT = (repo, missing)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for _ in pool.imap_unordered(_audit_chunk, range(0, len(missing), AUDIT_CHUNK)):
                pass
    finally:
        _UNKEPT = None
    return True


def _audit_chunk(start: int) -> None:
    """Forked process: a chunk of :func:`audit_unkept`'s documents audited and kept, read
    through a reader of the version of its own (the parent's is not used across a fork)."""
    global _READER_OF
    assert _UNKEPT is not None
    repo, missing = _UNKEPT
    if os.getpid() != _READER_OF:
        assert repo.path is not None
        repo._store = open_read_only(repo.path)  # (this process's copy of the repository)
        _READER_OF = os.getpid()
    for document in missing[start:start + AUDIT_CHUNK]:
        document_findings(repo, SourceDocument(document.iri, document.graph, document.number),
                          document.sha256)


CHECKED_FOCI = 64  # documents whose values are looked at one by one before the conflict query
_CONFLICTING = ("eli:passed_by", "eli:date_document")  # (the conflict query's properties)


def _stated_twice(repo: Repository, document: str) -> bool:
    """Whether the store states two issuers or two dates of ``document``: the conflict query
    finds nothing about a document that has one of each (its first step keeps only the
    others), and a plan's directive is restated by thousands of plans, every statement of
    which the query reads; this stops at the second value."""
    return any(len(query_records(repo, sparql_prefixes() + f"SELECT DISTINCT ?value WHERE "
                                 f"{{ <{document}> {prop} ?value }} LIMIT 2")) > 1
               for prop in _CONFLICTING)


def _batched(values: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def compute_index(repo: Repository, target: Path | None = None) -> AuditIndex:
    """The whole-corpus audit, in memory, or in the index file ``target``: a file written for
    another version of the store by the same code is brought up to date in place (one
    transaction: readers see the old index or the new one), recomputing only what the changed
    documents affect: their own findings, the conflicts about the documents they state (or
    stated), the peer gaps they take part in."""
    fresh = False
    if target is None:
        db = _new_database(":memory:")
    else:
        remove_stale(target)
        if (target.exists() and _meta(target).get("format") != FORMAT) or (
                _meta(target).get("fingerprint") != audit_fingerprint()):
            for path in (target, *(target.with_name(target.name + s) for s in ("-wal", "-shm"))):
                path.unlink(missing_ok=True)
        fresh = not target.exists()
        # a new file is written whole under another name and renamed into place when done:
        # no reader sees it before, so it needs no log (written once, not twice)
        written = target.with_name(f".{target.name}.{os.getpid()}.new") if fresh else target
        if fresh:
            written.unlink(missing_ok=True)
        db = sqlite3.connect(str(written), check_same_thread=False)
        # a file in place: readers keep their snapshot while it changes
        db.execute(f"PRAGMA journal_mode = {'OFF' if fresh else 'WAL'}")
        db.execute("PRAGMA synchronous = NORMAL")
        if fresh:
            # a bulk write: its pages held in memory (the default 2 MB cache wrote them out
            # and read them back) and the indexes made at the end sorted there
            db.execute(f"PRAGMA cache_size = -{BULK_CACHE_KB}")
            db.execute("PRAGMA temp_store = MEMORY")
            db.executescript(_SCHEMA)
        db.executescript(_ADDED)  # tables and indexes added since the file was made
    update = _Update(db, repo)
    collecting = gc.isenabled()
    try:
        # no cycle collection meanwhile (the processes comparing plans are forked without it
        # too): the step makes millions of rows and records, which create no cycles, and each
        # full collection walked every object held (a tenth of its CPU at 2,000 plans)
        gc.disable()
        with db:  # one transaction
            update.run()
            db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)",
                       (store_version(repo),))
        if target is not None and fresh:
            db.execute("PRAGMA journal_mode = WAL")  # (kept in the file) for later updates
            db.close()
            os.replace(written, target)
            db = sqlite3.connect(str(target), check_same_thread=False)
        elif target is not None:  # fold the log into the file (readers of an old snapshot
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # may hold part of it back)
    except BaseException:
        if target is not None and fresh:
            db.close()
            written.unlink(missing_ok=True)
        raise
    finally:
        if collecting:
            gc.enable()
    index = AuditIndex(db)
    index.seconds = update.seconds
    return index


def remove_stale(target: Path) -> list[Path]:
    """Remove the files ``.<target name>.<pid>.new`` a writer killed before renaming left
    next to ``target`` (each is as big as the index): those of a process no longer alive, or
    of a live process that started after the file was last written (its pid reused).
    Returns the files removed."""
    removed = []
    prefix = f".{target.name}."
    for path in target.parent.glob(f"{prefix}*.new"):
        pid = path.name[len(prefix):-len(".new")]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            written = path.stat().st_mtime
        except OSError:
            continue
        started = _alive_since(int(pid))
        if started is None or started > written:
            try:
                path.unlink(missing_ok=True)
            except OSError:  # (a folder this process may not write to: left as it is)
                continue
            removed.append(path)
    return removed


def _alive_since(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds; 0 where the system does not say), None
    when no such process lives."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # another user's process
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            ticks = int(handle.read().rsplit(b")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/stat", "rb") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith(b"btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return 0.0


def _meta(path: Path) -> dict[str, str]:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return dict(db.execute("SELECT key, value FROM meta").fetchall())
        finally:
            db.close()
    except sqlite3.Error:
        return {}


_open: dict[tuple[Path, str], AuditIndex] = {}
_open_lock = threading.Lock()


def index_file(repo: Repository) -> Path | None:
    """``<store>/derived/audit.sqlite`` for a store on disk, ``$KGRAPH_CACHE/remote/<store-id>/
    audit.sqlite`` for a remote one (one file, kept up to date); None in memory."""
    from kgraph.store.derived import derived_root

    root = derived_root(repo)
    return root / INDEX_FILE if root is not None else None


def audit_index(repo: Repository) -> AuditIndex:
    """The audit of the whole store, brought up to date once per store version (from the
    index of the version before when there is one) and kept next to the store."""

    path = index_file(repo)
    if path is None:
        return derived(repo, "audit-index", lambda: compute_index(repo))
    try:
        return _kept_index(repo, path)
    except (OSError, sqlite3.Error):  # a store folder we cannot write to: computed in memory
        return derived(repo, "audit-index", lambda: compute_index(repo))


def _kept_index(repo: Repository, path: Path) -> AuditIndex:
    version = store_version(repo)
    with _open_lock:
        found = _open.get((path, version))
        if found is not None:
            return found
        if not _current(path, version):
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path.with_name(INDEX_FILE + ".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # another process updating it: wait for it
                if not _current(path, version):
                    compute_index(repo, path).close()
        for key in [k for k in _open if k[0] == path]:  # one version per store in memory
            del _open[key]  # (requests still holding the old one finish with it)
        index = _open[(path, version)] = AuditIndex.open(path)
        return index


def _current(path: Path, version: str) -> bool:
    meta = _meta(path) if path.is_file() else {}
    return (meta.get("version") == version and meta.get("format") == FORMAT
            and meta.get("fingerprint") == audit_fingerprint())


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

        # one entry per (text, term) with its count, each text's from :func:`_text_terms`
        found = [_text_terms(text) for text in texts]
        self.n = len(texts)
        self.ids = np.concatenate([ids for ids, _ in found]) if found else np.zeros(0, np.int32)
        counts = (np.concatenate([count for _, count in found]) if found
                  else np.zeros(0, np.int64))
        self.rows = np.repeat(np.arange(self.n), [len(ids) for ids, _ in found])
        self.weights = _log_table(int(counts.max(initial=0)))[counts]
        # the plan's distinct terms (sorted), each entry's among them, in how many of its
        # texts each is found
        terms, df = np.unique(self.ids, return_counts=True)
        self.terms, self.df = terms, df.astype(np.int32)
        self.entry_column = np.searchsorted(terms, self.ids)
        self.columns = np.arange(len(terms))


@functools.lru_cache(maxsize=20_000)
def _text_terms(text: str) -> tuple[Any, Any]:
    """One text's distinct term ids (sorted; 4 bytes each) and how often each is found in it.
    Ids are given in the order terms first appear (text after text, as one setdefault per
    term would give them) and never change in a process, so a text's are made once while
    it is in use: plans restate the same texts (folding them and looking every term up was
    most of the making of a plan's rows, made for each plan in each worker)."""
    import numpy as np

    vocabulary = _TermRows.vocabulary
    words = cov.terms(text)
    for word in dict.fromkeys(words):
        if word not in vocabulary:
            vocabulary[word] = len(vocabulary)
    ids, counts = np.unique(np.fromiter(map(vocabulary.__getitem__, words), dtype=np.int32,
                                        count=len(words)), return_counts=True)
    return ids, counts


@functools.lru_cache(maxsize=64)
def _log_table(largest: int) -> Any:
    """Sublinear term frequency 1 + log(count) for counts 0..largest (math.log, as the
    reference code; 0 never looked up)."""
    import numpy as np

    return np.array([0.0, *(1 + math.log(count) for count in range(1, largest + 1))])


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


def similarity_of(left: _TermRows, right: _TermRows, slot: Any) -> Any:
    """:func:`pair_similarity` without sorting the two plans' terms again for every pair: the
    columns are ``left``'s terms (sorted once per plan), then ``right``'s others, found
    through ``slot`` (term id -> column, -1 elsewhere, restored after use). The rows' norms
    divide the product (not the whole matrix), and the matrix is filled through flat
    positions (numpy's two-index assignment and the division of the whole matrix were half
    of the time): the sums are taken in another order, so a value may differ from
    :func:`pair_similarity`'s in its last bits (:func:`_settled` makes the gaps the same)."""
    import numpy as np

    width = len(left.terms)
    slot[left.terms] = left.columns
    column = slot[right.terms]
    slot[left.terms] = -1
    new = np.flatnonzero(column < 0)
    column[new] = right.columns[: len(new)] + width
    total = width + len(new)
    df = np.concatenate((left.df, np.zeros(len(new), dtype=left.df.dtype)))
    df[column] += right.df
    idf = _idf_table(left.n + right.n)[df]
    matrix = np.zeros((left.n + right.n) * total)
    matrix[left.rows * total + left.entry_column] = left.weights * idf[left.entry_column]
    right_column = column[right.entry_column]
    matrix[(right.rows + left.n) * total + right_column] = right.weights * idf[right_column]
    matrix = matrix.reshape(left.n + right.n, total)
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
    norms[norms == 0] = 1.0
    scores = matrix[: left.n] @ matrix[left.n:].T
    scores /= norms[: left.n, None]
    scores /= norms[left.n:]
    return scores


PARALLEL_PAIRS = 2_000  # plan pairs from which both cores compare them (processes)
CHUNK_PAIRS = 2_000  # plan pairs a process is given at a time (their texts go with them)
KEPT_ROWS = 2_048  # plans whose term rows a process keeps (a directive's peers stay in it)
PairGaps = list[tuple[int, float]]  # (index of the peer's task, best score rounded)
TaskTexts = list[str] | str  # a plan's task texts, or the key its tasks are kept under


def compare_plans(pairs: Sequence[tuple[str, str]], texts: dict[str, list[str]],
                  jobs: int | None = None, keys: dict[str, str] | None = None,
                  root: Path | None = None, meanwhile: Callable[[], None] | None = None
                  ) -> Iterator[tuple[tuple[str, str], PairGaps]]:
    """For each (plan, peer) whose peer has tasks: the peer's tasks the plan has no similar
    task for (:func:`_gaps`' rule and scores). Each pair of plans is compared once for both
    directions, and many pairs are shared among ``jobs`` processes (default: one per core),
    a few thousand at a time, so memory does not grow with the corpus.

    A plan's texts are given in ``texts``, or named by the key its tasks are kept under next
    to the store at ``root`` (``keys``, :func:`tasks_key`): the worker comparing it reads and
    folds them itself, so the calling process (which writes the gaps) does not also fold
    every text and send it on. ``meanwhile`` is called once the processes compare, before
    the first result is awaited (before anything when comparing here)."""
    keys = keys or {}
    units: dict[tuple[str, str], list[bool]] = {}  # (a, b), a < b -> [a's gaps, b's gaps]
    for plan, peer in pairs:
        if texts[peer] if peer in texts else keys.get(peer):
            key = (plan, peer) if plan < peer else (peer, plan)
            units.setdefault(key, [False, False])[0 if plan == key[0] else 1] = True
    workers = min(jobs or os.cpu_count() or 1, -(-len(units) // CHUNK_PAIRS))
    parallel = workers > 1 and len(units) >= PARALLEL_PAIRS
    place = str(root) if root is not None else None

    def text_of(iri: str) -> TaskTexts:  # workers read by key; here the texts at hand first
        if parallel and iri in keys:
            return keys[iri]
        return texts[iri] if iri in texts else keys.get(iri, [])

    jobs_of = ((place, {iri: text_of(iri) for pair, _ in chunk for iri in pair}, chunk)
               for chunk in _chunks(list(units.items()), CHUNK_PAIRS))
    if not parallel:
        if meanwhile is not None:
            meanwhile()
        for job in jobs_of:
            yield from _compare(job)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:  # as the build's workers
        results = pool.imap(_compare, jobs_of)
        if meanwhile is not None:
            meanwhile()
        for found in results:
            yield from found


_kept_rows: dict[str, _TermRows] = {}  # kept tasks key -> term rows (per process, bounded)


def _rows_of(root: str | None, texts: TaskTexts) -> _TermRows:
    """A plan's term rows, from its texts or its kept tasks (remembered by key: the key names
    the content)."""
    if not isinstance(texts, str):
        return _TermRows(texts)
    found = _kept_rows.get(texts)
    if found is None:
        tasks = document_value(Path(root), texts) if root is not None else None
        found = _TermRows([t.text for t in tasks or []])
        if len(_kept_rows) >= KEPT_ROWS:
            del _kept_rows[next(iter(_kept_rows))]  # the oldest first
        _kept_rows[texts] = found
    return found


def _compare(job: tuple[str | None, dict[str, TaskTexts],
                        Sequence[tuple[tuple[str, str], list[bool]]]]
             ) -> list[tuple[tuple[str, str], PairGaps]]:
    """Worker: the gaps of a chunk of plan pairs, each direction asked for (the gaps of the
    whole chunk's scores found at once: :func:`_flat_gaps`)."""
    import numpy as np

    root, texts, units = job
    rows = {iri: _rows_of(root, value) for iri, value in texts.items()}
    size = 1 + max((int(r.terms[-1]) for r in rows.values() if len(r.terms)), default=0)
    slot = np.full(size, -1, dtype=np.int64)
    asked: list[tuple[tuple[str, str], _TermRows, _TermRows]] = []  # (pair, peer, plan)
    bests: list[Any] = []
    for (a, b), (a_lacks, b_lacks) in units:
        first, second = rows[a], rows[b]
        scores = similarity_of(second, first, slot) if first.n and second.n else None
        if a_lacks and second.n:  # plan a, peer b: b's tasks a has no match for
            asked.append(((a, b), second, first))
            bests.append(scores.max(axis=1) if scores is not None else np.zeros(second.n))
        if b_lacks and first.n:
            asked.append(((b, a), first, second))
            bests.append(scores.max(axis=0) if scores is not None else np.zeros(first.n))
    if not bests:
        return []
    found = _flat_gaps(np.concatenate(bests), [len(best) for best in bests])
    return [(pair, gaps if gaps is not None else _pair_gaps(peer, plan, best))
            for (pair, peer, plan), gaps, best in zip(asked, found, bests, strict=True)]


def _flat_gaps(best: Any, sizes: list[int]) -> list[PairGaps | None]:
    """:func:`_pair_gaps` of many pairs' best scores one after the other (``sizes`` each),
    at once; None for a pair with a score too close to call (:func:`_pair_gaps` recomputes
    it from the reference)."""
    import numpy as np

    counts = np.array(sizes, dtype=np.int64)
    pair = np.repeat(np.arange(len(sizes)), counts)
    near = np.nonzero(best < cov.ALIGNMENT_THRESHOLD + SETTLED)[0]
    unsettled = np.zeros(len(sizes), dtype=bool)
    unsettled[pair[near[~_settled(best[near])]]] = True
    under = near[best[near] < cov.ALIGNMENT_THRESHOLD]
    local = (under - (np.cumsum(counts) - counts)[pair[under]]).tolist()
    scores = [round(score, 3) for score in best[under].tolist()]
    ends = np.cumsum(np.bincount(pair[under], minlength=len(sizes))).tolist()
    found: list[PairGaps | None] = []
    start = 0
    for end, bad in zip(ends, unsettled.tolist(), strict=True):
        found.append(None if bad else list(zip(local[start:end], scores[start:end],
                                               strict=True)))
        start = end
    return found


def _pair_gaps(peer: _TermRows, plan: _TermRows, best: Any) -> PairGaps:
    """The peer's tasks whose best score is under the threshold, with the score rounded; a
    score too close to call is taken from :func:`pair_similarity` (the reference)."""
    import numpy as np

    # only scores under the threshold + SETTLED can be unsettled (:func:`_settled`): those few
    # are looked at one by one, the same float operations as numpy's on each
    near = np.nonzero(best < cov.ALIGNMENT_THRESHOLD + SETTLED)[0].tolist()
    scores = best[near].tolist()
    if not all(map(_settled_score, scores)):
        best = pair_similarity(peer, plan).max(axis=1)
        near = np.nonzero(best < cov.ALIGNMENT_THRESHOLD + SETTLED)[0].tolist()
        scores = best[near].tolist()
    return [(i, round(score, 3)) for i, score in zip(near, scores, strict=True)
            if score < cov.ALIGNMENT_THRESHOLD]


SETTLED = 1e-9  # scores closer than this to the threshold or a rounding step: recomputed


def _settled(best: Any) -> Any:
    """Scores whose gap decision and rounded value cannot depend on the order of the sums."""
    import numpy as np

    steps = best * 1000
    near_step = np.abs(steps - np.floor(steps) - 0.5) < SETTLED * 1000
    return ~((np.abs(best - cov.ALIGNMENT_THRESHOLD) < SETTLED)
             | (near_step & (best < cov.ALIGNMENT_THRESHOLD + SETTLED)))


def _settled_score(score: float) -> bool:
    """:func:`_settled` of one score under the threshold + SETTLED."""
    steps = score * 1000
    return not (abs(score - cov.ALIGNMENT_THRESHOLD) < SETTLED
                or abs(steps - math.floor(steps) - 0.5) < SETTLED * 1000)


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


def findings_csv(findings: Iterable[Finding], chunk: int = 1000) -> Iterator[str]:
    """:meth:`AuditReport.to_csv` (with a BOM for spreadsheets) as chunks of text, so a
    national selection is streamed rather than held."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(Finding.__dataclass_fields__))
    out.write("\ufeff")
    writer.writeheader()
    for count, finding in enumerate(findings, 1):
        writer.writerow(asdict(finding))
        if count % chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
