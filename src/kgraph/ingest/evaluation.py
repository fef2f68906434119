"""Score the extractor against a gold annotation (tests/fixtures/gold_seeds.json and alike).

Per document: the 5 metadata fields (number, type, date, issuer, province); references as
(number, relation) pairs with precision and recall, where a gold ``implements_transitively``
X via V is matched by an extracted ``implements`` link to X, or by any mention of X together
with a stated lineage V -> X; assignment headings (matched by section and number) with exactly
the gold agency set, the same request flag, kind and item count; task groups (count and item
counts); reporting duties found (same deadline, or same frequency when the gold has none).
Names are compared in the folded, OCR-repaired key space; an unresolved mention is compared
by its raw text with abbreviations expanded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kgraph.errors import KgraphError
from kgraph.ingest.bodies import expand_abbreviations
from kgraph.ingest.extract import extract_file
from kgraph.ingest.model import AgencyMention, PlanDocument, Relation
from kgraph.ingest.outline import item_count
from kgraph.ingest.text import match_key
from kgraph.reference.matching import expand

METADATA_FIELDS = ("number", "type", "date", "issuer", "province")


@dataclass
class Ratio:
    """hits out of total."""

    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.hits += int(hit)
        self.total += 1

    def __iadd__(self, other: Ratio) -> Ratio:
        self.hits += other.hits
        self.total += other.total
        return self

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{self.hits}/{self.total}"


@dataclass
class DocScore:
    file: str
    error: str | None = None
    metadata: Ratio = field(default_factory=Ratio)
    metadata_misses: list[str] = field(default_factory=list)
    ref_tp: int = 0
    ref_predicted: int = 0
    ref_gold: int = 0
    ref_misses: list[str] = field(default_factory=list)
    agencies: Ratio = field(default_factory=Ratio)  # exact agency set
    agencies_and_request: Ratio = field(default_factory=Ratio)
    request: Ratio = field(default_factory=Ratio)
    kind: Ratio = field(default_factory=Ratio)
    items: Ratio = field(default_factory=Ratio)
    assignment_misses: list[str] = field(default_factory=list)
    task_groups_exact: bool = True
    task_items: Ratio = field(default_factory=Ratio)
    reporting: Ratio = field(default_factory=Ratio)

    @property
    def ref_found(self) -> int:
        return self.ref_tp


@dataclass
class EvalReport:
    documents: list[DocScore]

    def _sum(self, name: str) -> Ratio:
        total = Ratio()
        for doc in self.documents:
            total += getattr(doc, name)
        return total

    @property
    def metadata(self) -> Ratio:
        return self._sum("metadata")

    @property
    def agencies(self) -> Ratio:
        return self._sum("agencies")

    @property
    def agencies_and_request(self) -> Ratio:
        return self._sum("agencies_and_request")

    @property
    def request(self) -> Ratio:
        return self._sum("request")

    @property
    def kind(self) -> Ratio:
        return self._sum("kind")

    @property
    def items(self) -> Ratio:
        return self._sum("items")

    @property
    def task_items(self) -> Ratio:
        return self._sum("task_items")

    @property
    def reporting(self) -> Ratio:
        return self._sum("reporting")

    @property
    def task_groups_exact(self) -> Ratio:
        out = Ratio()
        for doc in self.documents:
            out.add(doc.task_groups_exact)
        return out

    @property
    def ref_precision(self) -> float:
        predicted = sum(d.ref_predicted for d in self.documents)
        return sum(d.ref_tp for d in self.documents) / predicted if predicted else 1.0

    @property
    def ref_recall(self) -> float:
        gold = sum(d.ref_gold for d in self.documents)
        return sum(d.ref_found for d in self.documents) / gold if gold else 1.0

    @property
    def errors(self) -> list[str]:
        return [f"{d.file}: {d.error}" for d in self.documents if d.error]


def _key(text: str | None) -> str:
    return expand(match_key(expand_abbreviations(text or "")))


def _agency_keys(mention: AgencyMention) -> set[str]:
    keys = {_key(mention.raw)}
    if mention.canonical:
        keys.add(_key(mention.canonical))
    if mention.spelled:
        keys.add(_key(mention.spelled))
    return keys


def _qualified_name(mention: AgencyMention | None) -> str | None:
    """The body's name as the gold writes an issuer: with its province when the name lacks it
    ("Sở Lao động - Thương binh và Xã hội" of Gia Lai -> "... tỉnh Gia Lai")."""
    if mention is None or mention.canonical is None:
        return None
    if mention.commune:  # "Ủy ban nhân dân xã Ea Kly": named by its commune, as its letterhead
        return mention.canonical
    if mention.province and mention.province not in mention.canonical:
        return f"{mention.canonical} tỉnh {mention.province}"
    return mention.canonical


def _score_metadata(score: DocScore, gold: dict, doc: PlanDocument) -> None:
    ident = doc.ident
    got = {
        "number": ident.number,
        "type": ident.type,
        "date": ident.date.isoformat() if ident.date else None,
        "issuer": _qualified_name(ident.issuer),
        "province": ident.province,
    }
    for name in METADATA_FIELDS:
        hit = (
            _key(got[name]) == _key(gold.get(name))
            if name in {"issuer", "type"}
            else (got[name] == gold.get(name))
        )
        score.metadata.add(hit)
        if not hit:
            score.metadata_misses.append(f"{name}: {got[name]!r} != {gold.get(name)!r}")


def _ref_key(ref: dict) -> str:
    return ref.get("number") or ref.get("number_as_written") or f"title:{ref.get('title')}"


def _score_references(score: DocScore, gold: dict, doc: PlanDocument) -> None:
    predicted = {  # documents cited by name only (laws) are left out, as in the gold
        (r.target.number or r.target.number_as_written): r.relation.value
        for r in doc.references
        if r.target.number or r.target.number_as_written
    }
    lineage = {(s.subject, s.object) for s in doc.stated_lineage}
    matched: set[str] = set()
    gold_refs = [
        r for r in gold.get("references", []) if r.get("number") or r.get("number_as_written")
    ]
    for ref in gold_refs:
        number, relation = _ref_key(ref), ref["relation"]
        got = predicted.get(number)
        if relation == "implements_transitively":
            vias = [ref.get("via"), *ref.get("via_also", [])]
            hit = got == Relation.IMPLEMENTS.value or (
                got is not None and any((v, number) in lineage for v in vias)
            )
        else:
            hit = got == relation
        if hit:
            matched.add(number)
        else:
            score.ref_misses.append(f"{number} {relation} (got {got})")
    score.ref_gold = len(gold_refs)
    score.ref_tp = len(matched)
    score.ref_predicted = len(predicted)
    gold_numbers = {_ref_key(r) for r in gold_refs}
    score.ref_misses.extend(
        f"extra {n} {rel}" for n, rel in predicted.items() if n not in gold_numbers
    )


def _score_assignments(score: DocScore, gold: dict, doc: PlanDocument) -> None:
    main = gold.get("assignment_section")
    by_key = {(a.section, a.no): a for a in doc.assignments}
    for entry in gold.get("assignments", []):
        section = entry.get("section", main)
        got = by_key.get((section, entry["no"]))
        want = {_key(name) for name in entry["agencies"]}
        if got is None:
            for ratio in (
                score.agencies,
                score.agencies_and_request,
                score.request,
                score.kind,
                score.items,
            ):
                ratio.add(False)
            score.assignment_misses.append(f"{section}.{entry['no']}: missing")
            continue
        keys = [_agency_keys(m) for m in got.addressees]
        exact = (
            len(keys) == len(want)
            and all(k & want for k in keys)
            and all(any(w in k for k in keys) for w in want)
        )
        request = got.requested == entry.get("requested", False)
        score.agencies.add(exact)
        score.request.add(request)
        score.agencies_and_request.add(exact and request)
        score.kind.add(got.kind.value == entry.get("kind"))
        n_items = len(got.duties)
        score.items.add(n_items == entry.get("items", n_items))
        if not (exact and request):
            names = [m.canonical or f"?{m.raw}" for m in got.addressees]
            score.assignment_misses.append(
                f"{section}.{entry['no']}: {names} vs {entry['agencies']} requested={got.requested}"
            )


def _score_tasks(score: DocScore, gold: dict, doc: PlanDocument) -> None:
    groups = gold.get("task_groups", [])
    score.task_groups_exact = len(groups) == len(doc.tasks)
    for want, got in zip(groups, doc.tasks, strict=False):
        if "items" in want:
            score.task_items.add((len(got.items) or 1) == want["items"])


def _score_reporting(score: DocScore, gold: dict, doc: PlanDocument) -> None:
    for want in gold.get("reporting", []):
        score.reporting.add(any(_duty_matches(want, got) for got in doc.reporting))


def _duty_matches(want: dict, got) -> bool:
    if want.get("due_date"):
        return bool(got.due_date) and got.due_date.isoformat() == want["due_date"]
    if want.get("due_day_month"):
        day, month = (int(x) for x in want["due_day_month"].split("/"))
        return got.due_day_month == (day, month)
    return got.frequency == want.get("frequency")


def score_document(gold: dict, doc: PlanDocument) -> DocScore:
    score = DocScore(file=gold["file"])
    _score_metadata(score, gold.get("document") or {}, doc)
    _score_references(score, gold, doc)
    _score_assignments(score, gold, doc)
    _score_tasks(score, gold, doc)
    _score_reporting(score, gold, doc)
    return score


def _failed(entry: dict, error: str) -> DocScore:
    """A document that could not be read or scored: all of its gold counts as misses."""
    failed = DocScore(file=str(entry.get("file", "?")), error=error)
    failed.metadata = Ratio(0, len(METADATA_FIELDS))
    refs = entry.get("references") or []
    failed.ref_gold = len([r for r in refs if isinstance(r, dict) and _ref_key(r)])
    failed.task_groups_exact = False
    assignments = entry.get("assignments") or []
    for name in ("agencies", "agencies_and_request", "request", "kind", "items"):
        setattr(failed, name, Ratio(0, len(assignments)))
    groups = [g for g in entry.get("task_groups") or [] if isinstance(g, dict) and "items" in g]
    failed.task_items = Ratio(0, len(groups))
    failed.reporting = Ratio(0, len(entry.get("reporting") or []))
    return failed


def load_gold(gold_file: Path) -> list[dict]:
    """The documents of a gold file; a file that is not a gold annotation is a KgraphError."""
    try:
        gold = json.loads(Path(gold_file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KgraphError(f"{gold_file}: not a readable gold file ({exc})") from None
    documents = gold.get("documents") if isinstance(gold, dict) else gold
    if not isinstance(documents, list):
        raise KgraphError(f"{gold_file}: no 'documents' list in the gold file")
    return [d for d in documents if isinstance(d, dict)]


def evaluate(gold_file: Path, source_dir: Path) -> EvalReport:
    """Extract every file the gold names from source_dir and score it.

    A document the extractor refuses or crashes on, and a gold entry with a value the scorer
    does not understand, give one error row each: their gold counts as misses.
    """
    scores = []
    for entry in load_gold(gold_file):
        if not isinstance(entry.get("file"), str):
            scores.append(_failed(entry, "gold entry names no 'file'"))
            continue
        path = Path(source_dir) / entry["file"]
        try:
            doc = extract_file(path)
        except (KgraphError, OSError) as exc:
            scores.append(_failed(entry, str(exc)))
            continue
        except Exception as exc:
            scores.append(_failed(entry, f"extractor crashed: {type(exc).__name__}: {exc}"))
            continue
        try:
            scores.append(score_document(entry, doc))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            scores.append(_failed(entry, f"unexpected gold value ({type(exc).__name__}: {exc})"))
    return EvalReport(scores)


def format_report(report: EvalReport) -> str:
    """A plain-text table, one row per document and a total row."""
    head = (
        f"{'file':<34} {'meta':>5} {'refs P/R':>11} {'agency':>7} {'ag+req':>7} "
        f"{'req':>6} {'kind':>6} {'items':>6} {'groups':>6} {'t.items':>7} {'report':>6}"
    )
    rows = [head, "-" * len(head)]
    for d in report.documents:
        if d.error:
            rows.append(f"{d.file[:34]:<34} ERROR {d.error}")
            continue
        p = d.ref_tp / d.ref_predicted if d.ref_predicted else 1.0
        r = d.ref_found / d.ref_gold if d.ref_gold else 1.0
        rows.append(
            f"{d.file[:34]:<34} {d.metadata!s:>5} {f'{p:.2f}/{r:.2f}':>11} {d.agencies!s:>7} "
            f"{d.agencies_and_request!s:>7} {d.request!s:>6} {d.kind!s:>6} {d.items!s:>6} "
            f"{'ok' if d.task_groups_exact else 'NO':>6} {d.task_items!s:>7} {d.reporting!s:>6}"
        )
    rows.append("-" * len(head))
    rows.append(
        f"{'TOTAL':<34} {report.metadata!s:>5} "
        f"{f'{report.ref_precision:.2f}/{report.ref_recall:.2f}':>11} {report.agencies!s:>7} "
        f"{report.agencies_and_request!s:>7} {report.request!s:>6} {report.kind!s:>6} "
        f"{report.items!s:>6} {report.task_groups_exact!s:>6} {report.task_items!s:>7} "
        f"{report.reporting!s:>6}"
    )
    notes = []
    for d in report.documents:
        for miss in d.metadata_misses + d.ref_misses + d.assignment_misses:
            notes.append(f"  {d.file[:30]}: {miss}")
    if notes:
        rows += ["", "misses:", *notes]
    return "\n".join(rows)


__all__ = ["EvalReport", "evaluate", "format_report", "item_count"]
