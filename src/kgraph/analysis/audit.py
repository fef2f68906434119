"""The auditor's report: one list of findings from SHACL, cross-document queries and coverage.

Three sources, one typed model (:class:`Finding`):

* shapes (``shapes/*.ttl``), run with pySHACL on each source document's graph on its own,
  so a finding always belongs to the document that states it;
* cross-document rules, SPARQL over the store (``queries/audit_*.rq``): the same document
  stated with two issuers or dates by two sources;
* coverage (:mod:`kgraph.analysis.coverage`): tasks no duty carries out, and tasks other provinces'
  plans for the same directive have that a plan lacks.

``kgraph audit`` prints the summary and exits 1 when there is a Violation, so it can gate a
pipeline; it writes the SHACL report (Turtle), JSON, CSV and HTML. ``kgraph raci`` writes the
tasks × agencies matrix of one plan or one directive.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, SKOS

from kgraph.analysis import coverage as cov
from kgraph.analysis.queries import load_query
from kgraph.analysis.validation import SEVERITY_ORDER, Validation, rule_labels, validate_graph
from kgraph.graph.iris import number_key
from kgraph.graph.vocab import ELI, KG, sparql_prefixes
from kgraph.ingest.text import match_key
from kgraph.store.embedded import QueryResult, Repository

KGSH = "https://w3id.org/kgraph/shapes#"
TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
SAME_BODY_SCORE = 80  # partial_ratio of two names, one unresolved, taken as the same body


class Severity(StrEnum):
    VIOLATION = "Violation"
    WARNING = "Warning"
    INFO = "Info"


# Rules that are not shapes: id -> (severity, Vietnamese label, English label)
EXTRA_RULES: dict[str, tuple[Severity, str, str]] = {
    "ConflictingStatement": (Severity.VIOLATION, "Thông tin mâu thuẫn giữa các văn bản",
                             "Conflicting statements across documents"),
    "UncoveredTask": (Severity.WARNING, "Nhiệm vụ chưa được phân công",
                      "Task no duty carries out"),
    "MissingPeerTask": (Severity.INFO, "Nhiệm vụ tỉnh khác có mà kế hoạch này không có",
                        "Task other provinces' plans have and this plan lacks"),
    "DirectiveTaskDropped": (Severity.WARNING, "Tỉnh bỏ sót nhiệm vụ của chỉ thị",
                             "A province's plans drop a task of the directive"),
    "DirectiveTaskUnassigned": (Severity.WARNING, "Nhiệm vụ của chỉ thị không có cơ quan chịu "
                                "trách nhiệm", "Directive task kept but assigned to nobody"),
    "DirectiveTaskCollectiveOnly": (Severity.INFO, "Nhiệm vụ của chỉ thị chỉ giao cho tập thể",
                                    "Directive task given only to a collective"),
    "AmbiguousSuccessor": (Severity.WARNING, "Cơ quan không còn, chưa rõ cơ quan kế thừa",
                           "Body gone, successor ambiguous"),
    "NoSuccessor": (Severity.WARNING, "Cơ quan không còn, không có cơ quan kế thừa",
                    "Body gone, no successor"),
}


@dataclass(frozen=True)
class Finding:
    """One thing the auditor should look at, whichever check found it."""

    rule: str
    severity: str
    focus: str
    document_number: str
    label_vi: str  # the task, agency or document concerned, in Vietnamese
    message_vi: str
    message_en: str
    source_text: str = ""  # quoted from the source file
    value: str = ""
    origin: str = "shacl"  # shacl | query | coverage

    @property
    def sort_key(self) -> tuple[int, str, str, str]:
        return (SEVERITY_ORDER.get(self.severity, 9), self.document_number, self.rule, self.focus)


@dataclass
class AuditReport:
    """Every finding of one audit, plus the SHACL report graph they came with."""

    findings: list[Finding] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # numbers of the audited documents
    shacl: Graph = field(default_factory=Graph)
    alignments: list[cov.DirectiveAlignment] = field(default_factory=list)
    coverages: list[cov.PlanCoverage] = field(default_factory=list)

    def sorted(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: f.sort_key)

    @property
    def violations(self) -> int:
        return sum(1 for f in self.findings if f.severity == Severity.VIOLATION)

    def by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.findings)
        return {s.value: counts.get(s.value, 0) for s in Severity}

    def by_rule(self) -> list[tuple[str, str, int]]:
        counts = Counter((f.rule, f.severity) for f in self.findings)
        return sorted(((r, s, n) for (r, s), n in counts.items()),
                      key=lambda x: (SEVERITY_ORDER.get(x[1], 9), -x[2], x[0]))

    # ------------------------------------------------------------------ outputs

    def to_json(self) -> str:
        return json.dumps({
            "documents": self.documents,
            "counts": {"by_severity": self.by_severity(),
                       "by_rule": [{"rule": r, "severity": s, "count": n}
                                   for r, s, n in self.by_rule()]},
            "findings": [asdict(f) for f in self.sorted()],
        }, ensure_ascii=False, indent=2)

    def to_csv(self) -> str:
        out = io.StringIO()
        names = list(Finding.__dataclass_fields__)
        writer = csv.DictWriter(out, fieldnames=names)
        writer.writeheader()
        for finding in self.sorted():
            writer.writerow(asdict(finding))
        return out.getvalue()

    def to_turtle(self) -> str:
        return self.shacl.serialize(format="turtle")

    def to_html(self, *, standalone: bool = True) -> str:
        return render("audit.html", report=self, findings=self.sorted(), labels=all_rule_labels(),
                      standalone=standalone)

    def summary(self, limit: int | None = None) -> str:
        """Readable text: counts by severity and rule, then the findings (the first ``limit``)."""
        labels = all_rule_labels()
        listed = ", ".join(self.documents[:20]) + (" …" if len(self.documents) > 20 else "")
        lines = [f"kgraph audit: {len(self.documents)} document(s): {listed}"]
        counts = self.by_severity()
        lines.append("  " + ", ".join(f"{s}: {n}" for s, n in counts.items()))
        for rule, severity, count in self.by_rule():
            label = labels.get(rule, {}).get("vi", "")
            lines.append(f"  {count:4d}  {severity:<9} {rule} ({label})")
        shown = self.sorted()
        if limit is not None and len(shown) > limit:
            lines.append(f"  (first {limit} of {len(shown)} findings; filter with --province, "
                         "--doc, --rule, --severity)")
            shown = shown[:limit]
        for finding in shown:
            lines.extend(finding_lines(finding))
        return "\n".join(lines)

    def write(self, out: Path) -> list[Path]:
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "audit-shacl.ttl": self.to_turtle(), "audit.json": self.to_json(),
            "audit.csv": self.to_csv(), "audit.html": self.to_html(),
        }
        written = []
        for name, text in files.items():
            path = out / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written


def finding_lines(finding: Finding) -> list[str]:
    """A finding as the text report prints it: a blank line, then what, where and why."""
    lines = ["", f"[{finding.severity}] {finding.document_number} · {finding.rule}"]
    if finding.label_vi:
        lines.append(f"    {_short(finding.label_vi, 160)}")
    lines.append(f"    vi: {finding.message_vi}")
    lines.append(f"    en: {finding.message_en}")
    if finding.source_text:
        lines.append(f"    « {_short(finding.source_text, 200)} »")
    return lines


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def all_rule_labels() -> dict[str, dict[str, str]]:
    """Rule id -> {'vi': ..., 'en': ...} for shapes and the other rules."""
    labels = {iri.removeprefix(KGSH): names for iri, names in rule_labels().items()
              if iri.startswith(KGSH)}
    for rule, (_severity, vi, en) in EXTRA_RULES.items():
        labels[rule] = {"vi": vi, "en": en}
    return labels


@functools.cache
def _environment() -> Any:
    """The templates' environment, made on first use: a build, which renders none, does not
    import jinja2 (a tenth of a one-plan build's start)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        trim_blocks=True, lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    """Render an audit template (autoescaped: plan text is data, never markup)."""
    return _environment().get_template(template).render(**context)


# ---------------------------------------------------------------------------- SHACL per document

@dataclass(frozen=True)
class SourceDocument:
    iri: str
    graph: str
    number: str


def source_documents(repo: Repository, doc: str | None = None) -> list[SourceDocument]:
    """The source documents (one named graph each), or those matching a number."""
    rows = repo.query(sparql_prefixes() + """
        SELECT DISTINCT ?doc ?g ?number ?key WHERE {
          GRAPH ?g { ?doc kg:sourceFile ?file ; eli:id_local ?number ; kg:numberKey ?key }
        } ORDER BY ?number""").records()
    key = number_key(doc) if doc else None
    return [SourceDocument(r["doc"] or "", r["g"] or "", r["number"] or "")
            for r in rows if key is None or r["key"] == key]


def stored_graph(repo: Repository, name: str) -> Graph:
    """One named graph of the store as an rdflib graph."""
    result = repo.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}")
    graph = Graph()
    for triple in result.triples:
        graph.add(triple)
    return graph


def label_of(graph: Graph, node: URIRef | Literal | str | None) -> str:
    """Vietnamese label of a node as its source gives it (text, name, number)."""
    if node is None:
        return ""
    term = URIRef(node) if isinstance(node, str) and node.startswith("http") else node
    if not isinstance(term, URIRef):
        return str(term)
    for prop in (KG.text, SKOS.prefLabel, RDFS.label, ELI.id_local, KG.numberAsWritten,
                 KG.mentionedAs):
        values = [v for v in graph.objects(term, prop) if isinstance(v, Literal)]
        vi = [v for v in values if v.language in (None, "vi")]
        if vi or values:
            return str(sorted(vi or values)[0])
    return ""


def source_text_of(graph: Graph, node: str, value: str | None) -> str:
    """The raw source span to quote: the focus's, else the value's mention."""
    for term in (URIRef(node), URIRef(value) if value and value.startswith("http") else None):
        if term is None:
            continue
        for prop in (KG.sourceText, KG.mentionedAs):
            found = graph.value(term, prop)
            if found is not None:
                return str(found)
    return ""


def shacl_findings(source: SourceDocument, data: Graph, validation: Validation) -> list[Finding]:
    """Findings of one document's validation, labelled from that document's graph."""
    findings = []
    for result in validation.results:
        value_label = label_of(data, result.value) if result.value else ""
        focus_label = label_of(data, result.focus)
        agent_value = bool(result.value and result.value.startswith("http") and value_label)
        findings.append(Finding(
            rule=result.rule, severity=result.severity, focus=result.focus,
            document_number=source.number,
            label_vi=value_label if agent_value else focus_label or value_label,
            message_vi=result.messages.get("vi", ""), message_en=result.messages.get("en", ""),
            source_text=source_text_of(data, result.focus, result.value),
            value=result.value or "",
        ))
    return findings


def empty_report() -> tuple[Graph, BNode]:
    """A graph holding one sh:ValidationReport node, with the prefixes reports use."""
    graph = Graph()
    graph.bind("sh", SH)
    graph.bind("kgsh", KGSH)
    root = BNode()
    graph.add((root, RDF.type, SH.ValidationReport))
    return graph, root


def merge_reports(reports: list[Validation]) -> Graph:
    """One sh:ValidationReport holding the results of several validations."""
    merged, root = empty_report()
    for validation in reports:
        roots = set(validation.report.subjects(RDF.type, SH.ValidationReport))
        for triple in validation.report:
            if triple[0] not in roots:
                merged.add(triple)
        for result in validation.report.subjects(RDF.type, SH.ValidationResult):
            merged.add((root, SH.result, result))
    merged.add((root, SH.conforms, Literal(all(v.conforms for v in reports))))
    return merged


def validate_documents(repo: Repository, sources: list[SourceDocument]
                       ) -> tuple[list[Finding], Graph]:
    """pySHACL on each source graph on its own; one merged SHACL report."""
    findings: list[Finding] = []
    validations = []
    for source in sources:
        data = stored_graph(repo, source.graph)
        validation = validate_graph(data)
        validations.append(validation)
        findings.extend(shacl_findings(source, data, validation))
    return findings, merge_reports(validations)


# ---------------------------------------------------------------------------- cross-document

Row = dict[str, str | None]


def _same_value(prop: str, a: Row, b: Row) -> bool:
    """Two statements agree: same term; for issuers, when one side is an unresolved mention
    (per-document IRI), names that match in the OCR-folded space."""
    if a["value"] == b["value"]:
        return True
    if prop != str(ELI.passed_by):
        return False
    if "/mention/" not in (a["value"] or "") + (b["value"] or ""):
        return False
    left, right = match_key(a["valueLabel"] or ""), match_key(b["valueLabel"] or "")
    return fuzz.partial_ratio(left, right) >= SAME_BODY_SCORE


def _clusters(prop: str, statements: list[Row]) -> list[list[Row]]:
    clusters: list[list[Row]] = []
    for row in statements:
        for cluster in clusters:
            if _same_value(prop, cluster[0], row):
                cluster.append(row)
                break
        else:
            clusters.append([row])
    return sorted(clusters, key=lambda c: -len({r["sourceNumber"] for r in c}))


def _sources(cluster: list[Row]) -> list[str]:
    return sorted({r["sourceNumber"] or "" for r in cluster})


def documents_stated_by(repo: Repository, doc: str) -> list[str]:
    """The document numbered ``doc`` and every document its graph states an issuer or date of."""
    key = Literal(number_key(doc)).n3()
    rows = repo.query(sparql_prefixes() + f"""
        SELECT DISTINCT ?document WHERE {{
          {{ ?document kg:numberKey {key} }}
          UNION
          {{ GRAPH ?g {{ ?source kg:numberKey {key} ; kg:sourceFile ?file .
                        ?document eli:passed_by|eli:date_document ?value }} }}
        }}""").records()
    return sorted(r["document"] or "" for r in rows)


def conflict_findings(repo: Repository, doc: str | None = None) -> list[Finding]:
    """The same document stated with two issuers or dates: one finding per dissenting source
    (all sources when there is no majority)."""
    # scope first, so one plan's check stays fast on a large store
    rows = _conflict_rows(repo, documents_stated_by(repo, doc) if doc else None)
    findings = _conflicts(rows)
    if doc:  # this plan's own dissent, or conflicts about the document itself
        key = number_key(doc)
        findings = [f for f in findings
                    if key in (number_key(f.document_number), number_key(f.label_vi))]
    return findings


def conflict_statements(repo: Repository, documents: list[str] | None = None
                        ) -> tuple[list[Finding], dict[str, set[str]]]:
    """Conflict findings about ``documents`` (all when None), with the numbers of every
    source stating each conflicting document (the audit index updates them incrementally)."""
    rows = _conflict_rows(repo, documents)
    sources: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        sources[row["document"] or ""].add(row["sourceNumber"] or "")
    return _conflicts(rows), dict(sources)


def _conflict_rows(repo: Repository, scope: list[str] | None) -> list[Row]:
    return conflict_result(repo, scope).records()


# The documents some issuer or date is stated of with two values: the few the portable text's
# statements are read for, one document a request (kgraph.analysis.audit.conflict_result).
_CANDIDATES = """
SELECT ?document ?property WHERE {
  #SCOPE
  VALUES ?property { eli:passed_by eli:date_document }
  ?document ?property ?stated }
GROUP BY ?document ?property HAVING (COUNT(DISTINCT ?stated) > 1)
"""


def _scoped(sparql: str, documents: list[str]) -> str:
    values = " ".join(f"<{d}>" for d in documents if d) or "<urn:none>"
    return sparql.replace("#SCOPE", f"VALUES ?document {{ {values} }} #", 1)


def conflict_result(repo: Repository, scope: list[str] | None = None) -> QueryResult:
    """The ``audit_conflicts`` answer (of the documents of ``scope``, all when None).

    The Oxigraph text finds the documents stated with two values first, then reads their
    statements, in one query. Over a remote store (the portable text) that is two steps
    here: Virtuoso does not start from the few such documents (49 s for no row at 2,000
    plans; bound to two documents 13 s, to one 0.04-0.4 s), so the candidates are asked
    first (0.1 s), then each one's statements in a request of its own, the rows sorted as
    the query's ORDER BY sorts them."""
    named = load_query("audit_conflicts")
    ran = named.for_repository(repo)
    text = ran.render({})
    if ran.text != named.text:  # the engine's own text: one query
        return repo.query(text if scope is None else _scoped(text, scope))
    asked = _CANDIDATES if scope is None else _scoped(_CANDIDATES, scope)
    candidates = sorted({str(row[0]) for row in
                         repo.query(sparql_prefixes() + asked).rows})
    results = [repo.query(_scoped(text, [document])) for document in candidates or [""]]
    variables = results[0].variables  # ("" binds <urn:none>: no row, the query's columns)
    at = [variables.index(v) for v in ("number", "property", "valueLabel", "sourceNumber")]
    rows = sorted((row for result in results for row in result.rows),
                  key=lambda row: [(0, "") if row[i] is None else (1, str(row[i])) for i in at])
    return QueryResult("select", variables, rows)


def conflicts_result(repo: Repository, params: dict[str, str]) -> QueryResult:
    """``kgraph query audit_conflicts`` (the named query's ``# python:`` header)."""
    return conflict_result(repo)


def _conflicts(rows: list[Row]) -> list[Finding]:
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row["document"] or "", row["property"] or "")].append(row)
    findings = []
    for (document, prop), statements in sorted(groups.items()):
        clusters = _clusters(prop, statements)
        if len(clusters) < 2:
            continue
        majority = len(_sources(clusters[0])) > len(_sources(clusters[1]))
        what_vi, what_en = (("cơ quan ban hành", "issuer") if prop == str(ELI.passed_by)
                            else ("ngày ban hành", "date"))
        for index, cluster in enumerate(clusters):
            if index == 0 and majority:
                continue  # the majority view is quoted in the dissenting findings
            mine = cluster[0]["valueLabel"] or ""
            others = "; ".join(f"«{c[0]['valueLabel']}» ({', '.join(_sources(c))})"
                               for c in clusters if c is not cluster)
            number = cluster[0]["number"] or ""
            for source in _sources(cluster):
                mention = next((r["mention"] for r in cluster
                                if r["sourceNumber"] == source and r["mention"]), "")
                findings.append(Finding(
                    rule="ConflictingStatement", severity=Severity.VIOLATION.value,
                    focus=document, document_number=source, label_vi=number,
                    message_vi=(f"{source} ghi {what_vi} của {number} là «{mine}»; "
                                f"văn bản khác ghi {others}."),
                    message_en=(f"{source} states the {what_en} of {number} as «{mine}»; "
                                f"other sources state {others}."),
                    source_text=mention or "", value=mine, origin="query"))
    return findings


# ---------------------------------------------------------------------------- coverage

def coverage_findings(coverages: list[cov.PlanCoverage]) -> list[Finding]:
    """Every task of a plan that no duty of the same plan carries out."""
    findings = []
    for plan in coverages:
        for task in plan.uncovered:
            findings.append(Finding(
                rule="UncoveredTask", severity=Severity.WARNING.value, focus=task.iri,
                document_number=plan.number, label_vi=task.text,
                message_vi="Không có nhiệm vụ nào ở phần Tổ chức thực hiện giao việc này "
                           f"(độ tương đồng < {cov.COVERAGE_THRESHOLD}).",
                message_en="No duty of the plan's assignments carries this task out "
                           f"(similarity < {cov.COVERAGE_THRESHOLD}).",
                source_text=task.source_text, origin="coverage"))
    return findings


def peer_findings(alignments: list[cov.DirectiveAlignment]) -> list[Finding]:
    """Tasks of other provinces' plans for the same directive that a plan has no match for."""
    findings = []
    for alignment in alignments:
        for gap in alignment.gaps:
            findings.append(Finding(
                rule="MissingPeerTask", severity=Severity.INFO.value, focus=gap.task.iri,
                document_number=gap.number, label_vi=gap.task.text,
                message_vi=(f"Kế hoạch {gap.peer_number} ({gap.peer_province}) cùng thực hiện "
                            f"{alignment.directive} có nhiệm vụ này; {gap.number} "
                            f"({gap.province}) không có nhiệm vụ tương tự."),
                message_en=(f"Plan {gap.peer_number} ({gap.peer_province}), also carrying out "
                            f"{alignment.directive}, has this task; {gap.number} "
                            f"({gap.province}) has no similar task (best {gap.best})."),
                source_text=gap.task.source_text, value=gap.peer_number, origin="coverage"))
    return findings


# ---------------------------------------------------------------------------- directive coverage

_DIRECTIVE_RULES = {cov.Status.DROPPED: "DirectiveTaskDropped",
                    cov.Status.UNASSIGNED: "DirectiveTaskUnassigned",
                    cov.Status.COLLECTIVE: "DirectiveTaskCollectiveOnly"}


def directive_findings(coverage: cov.DirectiveCoverage) -> list[Finding]:
    """The gaps of a directive's matrix: a task a province dropped, kept but gave to nobody, or
    gave only to a collective ("các sở, ngành"); quoted from the province's item, or, for a
    dropped task, from another province's."""
    findings = []
    plans_of: dict[str, list[str]] = defaultdict(list)
    for plan in coverage.plans:
        plans_of[plan.province].append(plan.number)
    for (_no, province), cell in sorted(coverage.cells.items(),
                                        key=lambda kv: (int(kv[0][0]), kv[0][1])):
        rule = _DIRECTIVE_RULES.get(cell.status)
        if rule is None:
            continue
        task = cell.task
        kind_vi = "dựng lại từ các kế hoạch" if task.reconstructed else "theo văn bản"
        kind_en = "reconstructed from the plans" if task.reconstructed else "from its text"
        numbers = [r.item.number for r in cell.restatements] or plans_of[province]
        what_vi, what_en = cov.STATUS_LABELS[cell.status]
        bodies = "; ".join(b.label for b in cell.leads)
        quoted = cell.restatements or [r for c in coverage.cells.values()
                                       if c.task is task for r in c.restatements]
        findings.append(Finding(
            rule=rule, severity=EXTRA_RULES[rule][0].value, focus=coverage.task_iri(task),
            document_number=", ".join(sorted(set(numbers))), label_vi=task.label,
            message_vi=(f"{province}: {what_vi}{f' ({bodies})' if bodies else ''} — nhiệm vụ "
                        f"{task.no} của {coverage.directive} ({kind_vi}, độ tin cậy "
                        f"{task.confidence:.2f})."),
            message_en=(f"{province}: {what_en}{f' ({bodies})' if bodies else ''} — task "
                        f"{task.no} of {coverage.directive} ({kind_en}, confidence "
                        f"{task.confidence:.2f})."),
            source_text=quoted[0].item.source_text if quoted else "", value=province,
            origin="coverage"))
    return findings


def succession_findings(repo: Repository, numbers: list[str], on: str) -> list[Finding]:
    """Tasks whose named body no longer exists on the date and whose successor is unclear.

    Ambiguous: a split the task's words (and its plan's title) could not settle, or a chain
    whose weakest step is below the confidence the walk trusts. No successor: the body ended
    and no change event says who took its tasks.
    """
    from kgraph.analysis.succession import responsible_rows

    findings: dict[tuple[str, str], Finding] = {}
    for number in dict.fromkeys(numbers):
        for row in responsible_rows(repo, number, on):
            if row["status"] == "ended":
                rule = "NoSuccessor"
                vi = (f"{row['named']} ({row['named_province']}) không còn vào ngày {on}; "
                      "không có sự kiện thay đổi nào nêu cơ quan nhận nhiệm vụ.")
                en = (f"{row['named']} ({row['named_province']}) no longer exists on {on}; "
                      "no change event says who took its tasks.")
            elif row["status"] == "succeeded" and row["ambiguous"]:
                rule = "AmbiguousSuccessor"
                vi = (f"{row['named']} không còn vào ngày {on}; cơ quan kế thừa có thể là "
                      f"{row['holder']} ({row['holder_province']}), độ tin cậy "
                      f"{row['confidence']}: {row['chain']}")
                en = (f"{row['named']} no longer exists on {on}; the successor may be "
                      f"{row['holder']} ({row['holder_province']}), confidence "
                      f"{row['confidence']}: {row['chain']}")
            else:
                continue
            findings.setdefault((row["part"], row["named_iri"]), Finding(
                rule=rule, severity=EXTRA_RULES[rule][0].value, focus=row["part"],
                document_number=row["plan"], label_vi=row["text"] or row["named"],
                message_vi=vi, message_en=en, value=row["holder_iri"], origin="query"))
    return list(findings.values())


# ---------------------------------------------------------------------------- the audit

def run_audit(repo: Repository, doc: str | None = None, *, store_links: bool = False,
              as_of: str | None = None) -> AuditReport:
    """Audit every source document (or the one numbered ``doc``).

    ``as_of`` (yyyy-mm-dd) adds the succession findings of that date: tasks whose body no
    longer exists and whose successor is ambiguous or missing.
    """
    sources = source_documents(repo, doc)
    findings, shacl = validate_documents(repo, sources)
    findings.extend(conflict_findings(repo, doc))
    coverages = [cov.plan_coverage(repo, s.iri, s.number) for s in sources]
    if store_links and coverages:
        cov.store_coverage(repo, coverages)
    findings.extend(coverage_findings(coverages))
    alignments = cov.alignments(repo)
    gaps = peer_findings(alignments)
    if doc:
        numbers = {number_key(s.number) for s in sources}
        gaps = [g for g in gaps if number_key(g.document_number) in numbers]
    findings.extend(gaps)
    directive = (cov.compute_directive_coverage(repo, doc, store=store_links)
                 if doc and not sources else None)
    if directive is not None:
        findings.extend(directive_findings(directive))
    if as_of:
        findings.extend(succession_findings(repo, [s.number for s in sources], as_of))
    documents = [s.number for s in sources] or ([directive.directive] if directive else [])
    report = AuditReport(findings, documents, shacl, alignments, coverages)
    _add_extra_results(report)
    return report


def _add_extra_results(report: AuditReport) -> None:
    """Cross-document and coverage findings also go into the RDF report, as SHACL results."""
    graph = report.shacl
    root = next(iter(graph.subjects(RDF.type, SH.ValidationReport)), None)
    if root is None:
        root = BNode()
        graph.add((root, RDF.type, SH.ValidationReport))
        graph.add((root, SH.conforms, Literal(True)))
    for finding in report.findings:
        if finding.origin == "shacl":
            continue
        result = BNode()
        graph.add((root, SH.result, result))
        graph.add((result, RDF.type, SH.ValidationResult))
        graph.add((result, SH.focusNode, URIRef(finding.focus)))
        graph.add((result, SH.sourceShape, URIRef(KGSH + finding.rule)))
        graph.add((result, SH.resultSeverity, SH[finding.severity]))
        graph.add((result, SH.resultMessage, Literal(finding.message_vi, lang="vi")))
        graph.add((result, SH.resultMessage, Literal(finding.message_en, lang="en")))
        if finding.severity == Severity.VIOLATION:
            graph.set((root, SH.conforms, Literal(False)))


# ---------------------------------------------------------------------------- RACI

ROLE_ORDER = {"lead": 0, "responsible": 1, "coordinate": 2, "requested": 3}
ROLE_MARK = {"lead": "L", "responsible": "R", "coordinate": "C", "requested": "Đ"}
ROLE_LABELS = {"lead": ("chủ trì", "lead"), "responsible": ("được giao", "responsible"),
               "coordinate": ("phối hợp", "coordinate"), "requested": ("đề nghị", "requested")}


@dataclass
class RaciMatrix:
    """Tasks × agencies: the roles the duties covering each task give each agency."""

    title: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (plan number, no, text)
    agencies: list[str] = field(default_factory=list)
    cells: dict[tuple[int, str], set[str]] = field(default_factory=dict)

    def mark(self, row: int, agency: str) -> str:
        roles = sorted(self.cells.get((row, agency), set()), key=ROLE_ORDER.__getitem__)
        return "/".join(ROLE_MARK[r] for r in roles)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["document", "task", "text", *self.agencies])
        for index, (number, no, text) in enumerate(self.rows):
            writer.writerow([number, no, text, *(self.mark(index, a) for a in self.agencies)])
        return out.getvalue()

    def to_html(self, *, standalone: bool = True) -> str:
        return render("audit_raci.html", matrix=self, marks=ROLE_MARK, roles=ROLE_LABELS,
                      standalone=standalone)


def duty_roles(repo: Repository, plan: str) -> dict[str, set[tuple[str, str]]]:
    """Duty IRI -> {(agency label, role)}: lead, coordinate, and the heading's addressees
    (responsible, or requested when the heading begins 'Đề nghị').

    The agencies' names are read apart, for the few agencies found: a body is restated in the
    graph of every plan naming it, and the labels joined to the roles read those copies for
    every row (0.2 s for one plan at 20,000 plans, the roles alone 40 ms)."""
    rows = repo.query(sparql_prefixes() + f"""
        SELECT DISTINCT ?duty ?role ?agency WHERE {{
          ?duty a kg:Duty ; kg:partOf <{plan}> .
          {{ ?duty kg:leadAgency ?agency BIND ("lead" AS ?role) }}
          UNION {{ ?duty kg:coordinatingAgency ?agency BIND ("coordinate" AS ?role) }}
          UNION {{ ?assignment kg:hasDuty ?duty ; kg:addressee ?agency .
                   OPTIONAL {{ ?assignment kg:isRequest ?request }}
                   BIND (IF(COALESCE(?request, false), "requested", "responsible") AS ?role) }}
        }}""").records()
    names = agency_names(repo, {r["agency"] or "" for r in rows} - {""})
    roles: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in rows:
        agency = row["agency"] or ""
        for name in names.get(agency) or {agency}:
            roles[row["duty"] or ""].add((name, row["role"] or ""))
    return roles


def agency_names(repo: Repository, agencies: set[str]) -> dict[str, set[str]]:
    """Agency IRI -> its Vietnamese canonical names, or its names as the sources give them when
    it has none (an agency with neither is absent)."""
    if not agencies:
        return {}
    preferred: dict[str, set[str]] = defaultdict(set)
    raw: dict[str, set[str]] = defaultdict(set)
    for row in repo.query(sparql_prefixes() + f"""
            SELECT DISTINCT ?agency ?prefLabel ?rawLabel WHERE {{
              VALUES ?agency {{ {" ".join(f"<{a}>" for a in sorted(agencies))} }}
              {{ ?agency skos:prefLabel ?prefLabel FILTER (LANG(?prefLabel) = "vi") }}
              UNION {{ ?agency rdfs:label ?rawLabel }}
            }}""").records():
        if row["prefLabel"] is not None:
            preferred[row["agency"] or ""].add(row["prefLabel"])
        if row["rawLabel"] is not None:
            raw[row["agency"] or ""].add(row["rawLabel"])
    return {a: preferred.get(a) or raw[a] for a in agencies if preferred.get(a) or raw.get(a)}


def raci_plans(repo: Repository, doc: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The plan numbered ``doc``, or the source plans carrying out the directive ``doc``."""
    key = number_key(doc)
    plans = cov.source_plans(repo, key)
    if plans:
        return doc, plans
    for directive, group in cov.directive_groups(repo).items():
        if number_key(directive) == key:
            return f"{doc}: " + ", ".join(f"{n} ({p})" for _, n, p in group), group
    rows = repo.query(sparql_prefixes() + f"""
        SELECT DISTINCT ?plan WHERE {{
          ?plan kg:sourceFile ?file ; kg:implements+ ?target . ?target kg:numberKey "{key}" }}
    """).records()
    chosen = {r["plan"] for r in rows}
    group = [p for p in cov.source_plans(repo) if p[0] in chosen]
    return f"{doc}: " + ", ".join(f"{n} ({p})" for _, n, p in group), group


def holders_on(repo: Repository, number: str, on: str) -> dict[tuple[str, str], str]:
    """(duty IRI, body name as the plan gives it) -> the body holding that duty on the date."""
    from kgraph.analysis.succession import responsible_rows

    return {(r["part"], r["named"]): f"{r['holder']} ({r['holder_province']})"
            if r["holder_province"] else r["holder"]
            for r in responsible_rows(repo, number, on) if r["status"] == "succeeded"}


def raci(repo: Repository, doc: str, as_of: str | None = None) -> RaciMatrix:
    """The RACI matrix of one plan, or of every source plan carrying out one directive.

    Rows are the plan's tasks; an agency gets a role for a task through the duties that
    cover it (:mod:`kgraph.analysis.coverage`). Columns are agency names, so the same Sở of two
    provinces shares a column in a directive's matrix. ``as_of`` (yyyy-mm-dd) puts each duty
    in the column of the body holding it on that date (kgraph.analysis.succession).
    """
    title, plans = raci_plans(repo, doc)
    matrix = RaciMatrix(f"{title} (as of {as_of})" if as_of else title)
    agencies: set[str] = set()
    for plan, number, _province in plans:
        coverage = cov.plan_coverage(repo, plan, number)
        roles = duty_roles(repo, plan)
        holders = holders_on(repo, number, as_of) if as_of else {}
        duties_of: dict[str, list[str]] = defaultdict(list)
        for link in coverage.links:
            duties_of[link.task].append(link.duty)
        for task in coverage.tasks:
            index = len(matrix.rows)
            matrix.rows.append((number, task.no, task.text))
            for duty in duties_of.get(task.iri, []):
                for named, role in roles.get(duty, set()):
                    agency = holders.get((duty, named), named)
                    matrix.cells.setdefault((index, agency), set()).add(role)
                    agencies.add(agency)
    matrix.agencies = sorted(agencies)
    return matrix


# ---------------------------------------------------------------------------- command line
