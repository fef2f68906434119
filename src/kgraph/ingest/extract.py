"""Source text -> :class:`~kgraph.ingest.model.PlanDocument`.

Any genre is read (Kế hoạch, Chương trình, Quyết định with its Điều and attached plan, Nghị
quyết, Chỉ thị, Công văn, Thông báo): the outline comes from whatever numbering the text uses.
``extract_file`` reads the file with the reader its content calls for (text, PDF, Word, scan,
HTML: :mod:`kgraph.ingest.readers`, which refuses an empty, binary or non-UTF-8 text file) and
refuses, with a one-line :class:`SourceError`, only what is not a document: text with no document
number ("Số: .../KH-UBND") anywhere. A text cut off (a web excerpt) is read for what it holds and
marked partial: no signature or "Nơi nhận" block closes the body *and* the text itself (its last
line, wherever it stands) stops inside a sentence.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from kgraph.errors import SourceError
from kgraph.ingest.assignments import extract_assignments
from kgraph.ingest.metadata import extract_metadata
from kgraph.ingest.model import AgencyMention, PlanDocument, Task
from kgraph.ingest.outline import Layout, divisions, parse, release
from kgraph.ingest.readers import MAX_TEXT_BYTES, SourceText, read_source
from kgraph.ingest.references import find_references
from kgraph.ingest.reporting import extract_reporting
from kgraph.ingest.targets import extract_targets
from kgraph.ingest.tasks import extract_tasks, table_tasks
from kgraph.ingest.text import (
    LONG_TEXT_CHARS,
    CodeTable,
    aligned_fold,
    code_points,
    limit_problem,
    match_key,
    normalise_controls,
)
from kgraph.reference.matching import Matcher, default_matcher
from kgraph.reference.units import COMMUNE_WORDS, COMMUNES_SINCE

__all__ = ["extract_document", "extract_file"]

_VIETNAMESE_MARKS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]")
MAX_SOURCE_BYTES = MAX_TEXT_BYTES  # text and HTML; PDFs, Word files and scans: MAX_FILE_BYTES
# How a text that is complete may end (a colon announces more, so it is no end).
_SENTENCE_END = re.compile(r"[.;!?)”\"]\W*$|\./\.")


def extract_file(path: Path, matcher: Matcher | None = None) -> PlanDocument:
    """Read a source file in any supported format (kgraph.ingest.readers) and extract its plan."""
    path = Path(path)
    source = read_source(path)
    try:
        doc = extract_document(source.text, path.name, matcher)
    except SourceError as exc:
        raise SourceError(path, exc.message) from None  # name the file as the user gave it
    return with_source(doc, source)


def with_source(doc: PlanDocument, source: SourceText) -> PlanDocument:
    """Attach the file as read: its page map (provenance to the page), its digest, its warnings."""
    doc.source = source
    doc.source_sha256 = source.sha256
    doc.warnings.extend(source.warnings)
    return doc


def extract_document(text: str, source_name: str, matcher: Matcher | None = None) -> PlanDocument:
    """Extract one plan; raises SourceError when the text is not a complete plan."""
    matcher = matcher or default_matcher()
    if not text.strip():
        raise SourceError(source_name, "empty file")
    if problem := limit_problem(text):
        raise SourceError(source_name, problem)
    raw, text = text, normalise_controls(text)  # same length: offsets hold for both
    layout = parse(text)
    meta = extract_metadata(layout, matcher)
    if meta is None:
        raise SourceError(source_name, "no document number ('Số: .../KH-...') found")
    province = meta.ident.province
    body_start = layout.sections[0].line.start if layout.sections else meta.number_span[1]
    references, lineage = find_references(text, body_start, matcher, province, meta.ident.number)
    task_section, tasks = extract_tasks(layout, matcher, province)
    assignment_section, assignments = extract_assignments(
        layout, matcher, province, genre_of(layout, meta.ident.type)
    )
    doc = PlanDocument(
        source_name=source_name,
        source_sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        ident=meta.ident,
        place=meta.place,
        signature=meta.signature,
        references=references,
        stated_lineage=lineage,
        task_section=task_section,
        tasks=tasks,
        table_tasks=_placed(table_tasks(text, matcher, province), layout),
        assignment_section=assignment_section,
        assignments=assignments,
        reporting=extract_reporting(layout, matcher, province),
        targets=extract_targets(layout),
        ocr_damaged=_looks_ocr_damaged(text),
        partial=is_partial(layout),
        outline=divisions(layout),
    )
    _former_commune_bodies(doc, matcher)
    _own_commune_bodies(doc, matcher)
    doc.warnings.extend(_warnings(doc))
    release(layout)  # the document holds none of it (its outline is model objects)
    return doc


def _mentions(doc: PlanDocument) -> Iterator[AgencyMention]:
    """Every body the plan's tasks, assignments and reporting duties name."""
    def of_task(task: Task) -> Iterator[AgencyMention]:
        yield from task.lead
        yield from task.coordinators
        for item in task.items:
            yield from of_task(item)

    for task in (*doc.tasks, *doc.table_tasks):
        yield from of_task(task)
    for assignment in doc.assignments:
        yield from assignment.addressees
        for duty in assignment.duties:
            yield from duty.lead
            yield from duty.coordinators
    for duty in doc.reporting:
        yield from duty.recipients
        yield from (m for m in (duty.via, duty.reporter) if m is not None)


def _former_commune_bodies(doc: PlanDocument, matcher: Matcher) -> None:
    """In a document dated before the 2025 merger, "Công an phường X" is the former phường X's
    (what it went into), though a commune of today bears the name, or several do: the mention
    keeps what the text said, its body is what the former commune became (one divided, or
    several of that name that went different ways: unresolved)."""
    if doc.ident.date is None or doc.ident.date >= COMMUNES_SINCE:
        return
    issuer = [doc.ident.issuer] if doc.ident.issuer is not None else []
    for mention in (*issuer, *_mentions(doc)):
        if mention.resolved and not mention.commune:
            continue  # a province's body, a group: no commune's
        named = matcher.commune_body(mention.raw, doc.ident.province, before_2025=True)
        if named is None or (named.reference_id, named.commune) == (
                mention.reference_id, mention.commune):
            continue
        if named.resolved or mention.resolved:  # a former one's, or none (divided)
            raw = mention.raw
            mention.__dict__.update(named.__dict__)
            mention.raw = raw


def _own_commune_bodies(doc: PlanDocument, matcher: Matcher) -> None:
    """In a commune's own plan, "Công an xã", "Văn phòng HĐND và UBND xã" (a body with the unit
    word and no name, elsewhere every commune's) are that commune's: named as its issuer's
    commune, as "tỉnh" alone in a province's plan is that province."""
    issuer = doc.ident.issuer
    if issuer is None or not issuer.commune:
        return
    division = next((w.written for w in COMMUNE_WORDS if issuer.commune.startswith(w.written)), "")
    name = issuer.commune[len(division):].strip()
    if not division or not name:
        return
    for mention in _mentions(doc):
        if mention.commune or not match_key(mention.raw).endswith(" " + match_key(division)):
            continue
        named = matcher.commune_body(f"{mention.raw} {name}", doc.ident.province)
        if named is not None and named.resolved and named.commune == issuer.commune:
            raw = mention.raw
            mention.__dict__.update(named.__dict__)
            mention.raw = raw  # as written; the name is derived


def _placed(tasks: list[Task], layout: Layout) -> list[Task]:
    """Each table row hangs off the outline node it stands in (the last one opened before it)."""
    if not tasks:  # most plans have no task table: the outline is not walked for nothing
        return tasks
    nodes = list(layout.outline.walk()) if layout.outline is not None else []
    seen = {id(n) for n in nodes}  # by identity: == compares whole subtrees
    nodes += [n for top in layout.appendices for n in (top, *top.walk()) if id(n) not in seen]
    starts = sorted((n.lines[0].start, n.key) for n in nodes)
    for task in tasks:
        before = [key for start, key in starts if start <= task.span.start]
        task.division = before[-1] if before else None
    return tasks


_KINH_GUI = re.compile(r"^\W*kinh\s*g[a-z]{1,2}i\b")


def genre_of(layout: Layout, stated: str | None) -> str | None:
    """The document's genre: its stated type, else a letter's "Kính gửi" makes it a Công văn."""
    if stated:
        return stated
    if any(_KINH_GUI.match(aligned_fold(line.text)) for line in layout.header):
        return "Công văn"
    return None


def is_partial(layout: Layout) -> bool:
    """Cut off: nothing closes the body and the text's own last line stops mid-sentence."""
    if layout.ended:
        return False
    last = layout.last_line
    return last is None or not layout.sections or not _SENTENCE_END.search(last.text)


def _looks_ocr_damaged(text: str) -> bool:
    """Vietnamese text with almost no Vietnamese-only letters went through an English OCR."""
    codes = code_points(text) if len(text) >= LONG_TEXT_CHARS else None
    if codes is None:
        letters = sum(map(str.isalpha, text))  # not a generator: 4 ms a plan
        marks = len(_VIETNAMESE_MARKS.findall(text.lower()))
    else:  # the same counts, a character table for each (a document: 1 ms a plan -> 0.1)
        letters = int(_LETTER(codes).sum())
        marks = int(_MARKS(codes).sum())
    return letters > 200 and marks / letters < 0.01


_LETTER = CodeTable(str.isalpha)
# Vietnamese-only letters in the character's lower case (as many as ``findall`` of the lowered
# text finds: lower-casing is per character but for a final sigma, no Vietnamese letter).
_MARKS = CodeTable(lambda ch: len(_VIETNAMESE_MARKS.findall(ch.lower())))


def _warnings(doc: PlanDocument) -> list[str]:
    out = []
    if doc.ident.date is None:
        out.append("date not legible")
    if doc.ident.issuer is None:
        out.append("issuer not found")
    for ref in doc.references:
        if ref.target.number is None and ref.target.number_as_written:
            out.append(f"illegible document number {ref.target.number_as_written!r}")
    unresolved = {m.raw for a in doc.assignments for m in a.addressees if not m.resolved}
    out.extend(f"unresolved agency {name!r}" for name in sorted(unresolved))
    if aligned_fold(doc.ident.number or "") == "":
        out.append("document number illegible")
    if doc.partial:
        out.append("partial text: it stops before the end of the document")
    return out
