"""Documents a plan mentions: canonical numbers, the relation the plan states, stated lineage.

Relations follow the plan's own words: a mention led by "Căn cứ" / "Trên cơ sở" in the
preamble is ``based_on``; one led by "Thực hiện / Triển khai (thực hiện) / Tổ chức thực hiện /
thi hành" in the title or a preamble (the document's own, an attached plan's, a Công văn's
opening) is ``implements``, and so is a document the purpose part ("Mục đích: Cụ thể hóa ...")
says the plan carries out; in the body such words describe tasks, so the mention only
``cites``, as does a narrative ("sau 8 năm thực hiện ..."). Every document listed after one
verb ("A; B và C", "các Nghị quyết: số X và số Y", "(số X, số Y)") gets that verb's relation.
When one document is said to carry out another ("Kế hoạch số 211-KH/TU ... về thực hiện Chỉ
thị số 28-CT/TW") that is a stated lineage, and the second document is not something the plan
carries out itself. Of several mentions of one number the strongest relation wins
(implements > based_on > cites). Types and their abbreviations come from one vocabulary
(ontology/doctypes.ttl); laws are also cited by name and date, standards by TCVN code; what the
hosting site adds after the document (related documents, notices) is never a reference.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from dataclasses import dataclass
from datetime import date

from rdflib import Graph, Namespace
from rdflib.namespace import SKOS

from kgraph.ingest.model import AgencyMention, DocumentRef, Reference, Relation, Span, StatedLineage
from kgraph.ingest.text import TEXTS_KEPT, aligned_fold, fold, nfc, ocr_tolerant
from kgraph.paths import resource_dir
from kgraph.reference.matching import Matcher

_KG = Namespace("https://w3id.org/kgraph/def#")

# "28-CT/TW", "234/KH-UBND", "121/2020/QH14", "37§/LĐTBXH-TE", "28-\nCT/TW", "23/CT- TTg",
# "1249a/CTPH-UBDT-BTP" (a letter suffix, four segments), "15972/SXD-QLN& TTBĐS"
_SEGMENT = r"[A-ZĐ](?:&[ \t](?=[A-ZĐ])|[A-Za-zĐđ&]){0,14}\d{0,2}"
# Patterns run over a whole document open with what they consume ("\d", "Luật", "TCVN") and look
# behind only then: the regex engine then skips to candidates in C instead of trying every offset.
_NUMBER = re.compile(
    r"(?P<n>\d(?<![\w/.,-]\d)[\d§]{0,4}[a-z]?)(?P<year>\s?/\s?\d{4})?\s?(?P<sep>[/-])"
    r"[ \t]*\n?[ \t]*"
    r"(?P<code>[A-ZĐ][A-Za-zĐđ&]{1,11}\d{0,2}"
    r"(?:[ \t]?[-/][ \t]*\n?[ \t]*" + _SEGMENT + r"){0,3})(?![\w&])"
)
# Authorities a type abbreviation is sometimes glued to ("65/2010/NĐCP", "27/CTTg").
_GLUED_AUTHORITY = ("CP", "TTg", "TW", "UBND", "HĐND", "VPCP")
_PARTY_BODY = re.compile(r"^(TW|TU|HU|ĐU|DU|TƯ|QU|ĐUK)$")
_SEGMENT_FIX = {
    "TTG": "TTg",
    "CTR": "CTr",
    "QD": "QĐ",
    "QP": "QĐ",
    "ND": "NĐ",
    "NP": "NĐ",
    "HDND": "HĐND",
    "BCD": "BCĐ",
}
_INNER_FIX = [
    (re.compile(r"L[DP]TB&?XH"), "LĐTBXH"),
    (re.compile(r"TB&XH"), "TBXH"),
    (re.compile(r"HDND"), "HĐND"),
    (re.compile(r"GD[DP]T"), "GDĐT"),
]


@dataclass(frozen=True)
class DocTypes:
    """The document-type vocabulary (ontology/doctypes.ttl): names and number abbreviations."""

    by_label: dict[str, str]  # folded label ("cong dien") -> canonical type name ("Công điện")
    by_code: dict[str, str]  # abbreviation in a number ("CĐ") -> canonical type name

    def label_pattern(self) -> str:
        """Alternation of the folded labels, longest first (so "chuong trinh hanh dong" wins)."""
        labels = sorted(self.by_label, key=len, reverse=True)
        return "|".join(label.replace(" ", r"\s+") for label in labels)


@functools.cache
def doc_types() -> DocTypes:
    graph = Graph().parse(resource_dir("ontology") / "doctypes.ttl", format="turtle")
    by_label: dict[str, str] = {}
    by_code: dict[str, str] = {}
    for concept in graph.subjects(SKOS.inScheme, _KG.DocumentTypes):
        names = [o for o in graph.objects(concept, SKOS.prefLabel) if o.language == "vi"]
        if not names:
            continue
        name = str(names[0])
        for label in (*names, *graph.objects(concept, SKOS.altLabel)):
            by_label[fold(str(label))] = name
        for code in graph.objects(concept, SKOS.notation):
            by_code[str(code)] = name
    return DocTypes(by_label, by_code)


_TYPES = doc_types().by_label
_CODE_TYPES = doc_types().by_code
# An English OCR reads Đ as D, DB or B: "CD", "QDB", "QB" are "CĐ", "QĐ" when no type is
# abbreviated so.
_SEGMENT_FIX.update(
    {
        code.replace("Đ", misread): code
        for code in _CODE_TYPES
        for misread in ("D", "DB", "B")
        if "Đ" in code and code.replace("Đ", misread) not in _CODE_TYPES
    }
)
_TYPE_ALT = doc_types().label_pattern()
_TYPE_BEFORE = re.compile(r"(" + _TYPE_ALT + r")\w?\s*(?:so|s\w)?\s*[:.]?\s*$")
_TYPE_WORDS = re.compile(r"(?:(?:" + _TYPE_ALT + r")\s+)?(?:s\S{0,2}\s*)?$")
# A clause that opens a list item: "Nghị quyết số", "Các Công điện: số", "số" (after ';').
# The types as an English-only OCR may read them ("Thong bdo", "Chwong trinh"): only where a
# whole clause is a type and "số" before a number.
_TYPE_ALT_OCR = "|".join(
    ocr_tolerant(label) for label in sorted(doc_types().by_label, key=len, reverse=True)
)
_LIST_ITEM = re.compile(
    r"^\W*(?:(?:cac\s+)?(?:" + _TYPE_ALT_OCR
    + r")(?:\s+(?:cua|do)\s+[^\d;:()]{1,60}?)?\s*[:(]?\s*)?"
    r"(?:s\S{0,2}\s*)?[:.]?\s*$"  # "số", and an OCR's "s6", "sé"
)
# "thực hiện các Nghị quyết của Chính phủ: số ..." - the verb's list opens with a plural type.
_PLURAL_TAIL = r"(?:\s+cac\s+(?:" + _TYPE_ALT + r")(?:\s+(?:cua|do)\s+[^:;()]{1,60}?)?\s*[:(])?"
# "theo (quy định tại) Nghị định số ...": the rule a task follows, not what the plan carries out.
_BY_RULE = re.compile(r"\btheo(?:\s+quy\s+dinh)?(?:\s+(?:cua|tai))?\s*$")
# "sau 8 năm thực hiện Chỉ thị ...", "qua 5 năm triển khai ...": a story, not a carry-out.
_NARRATIVE = re.compile(r"\b(?:sau|qua|tu khi)\s+(?:\S+\s+){0,3}(?:nam|thang)\s+[^;,.]{0,20}$")
_CARRY_OUT = re.compile(
    r"(th\S{0,5}\s*hien|trien\s+khai|thi\s+hanh|cu\s+th[a-z]\s+h[a-z]a)" + _PLURAL_TAIL + r"\s*$"
)
# Lead-ins that state the legal basis: "Căn cứ" (also split by a line break), "Trên cơ sở".
_BASIS_VERB = r"ca?n\s+c\S{0,3}|tren\s+co\s+so"  # "Cn ci?": an English OCR's "Căn cứ"
_BASIS = re.compile(r"(" + _BASIS_VERB + r")" + _PLURAL_TAIL + r"\s*$")
# "Căn cứ <a type the vocabulary does not know, or an OCR's reading of one> số X"
_VERB_THEN_TYPE = re.compile(r"^\W*(?:" + _BASIS_VERB + r")\s+(?:[^\W\d]+\s+){1,3}$")
_SEGMENT_START = re.compile(
    r"^\W*(?:de\s+|nham\s+)?(" + _BASIS_VERB + r"|th\S{0,5}\s*hien|trien\s+khai"
    r"|to\s+chuc\s+thuc\s+hien|thi\s+hanh|cu\s+th[a-z]\s+h[a-z]a)\b"
)
# Where a document's structure starts after its preamble: a numbered heading, an article,
# the "QUYẾT ĐỊNH:" line of a decision (a Công văn's opening after "Kính gửi" is a preamble).
_STRUCTURE = re.compile(
    r"^[\W_]*(?:(?:[ivxl]{1,5}|\d{1,2})\s*[.)](?!\d)|dieu\s+\d{1,3}\s*[.:]|chuong\s+[ivxl\d]"
    r"|phan\s+(?:[ivxl\d]|thu)|quyet\s+(?:dinh|nghi)\s*:)",
    re.MULTILINE,
)
# The caption of a plan attached to a decision: its own preamble follows.
_ATTACHED = re.compile(r"\(\W*(?:ban\s+hanh\s+)?kem\s+theo\s+(?:quyet\s+dinh|nghi\s+quyet)")
# The purpose part of a plan ("1. Mục đích"), where a carry-out is stated once more.
_PURPOSE = re.compile(
    r"^[\W_]*(?:[ivxl]{1,5}|\d{1,2}|[a-z])\s*[.)]\s*\W*muc\s+dich\b", re.MULTILINE
)
_PURPOSE_END = re.compile(
    r"^[\W_]*(?:(?:[ivxl]{1,5}|\d{1,2})\s*[.)]\s*\W*yeu\s+cau|(?:[ivxl]{1,5})\s*\.\s)", re.MULTILINE
)
_PURPOSE_VERB = re.compile(
    r"^[\W_]*(?:[a-z0-9]{1,2}\s*[.)]\s*)?(?:cu\s+th[a-z]\s+h[a-z]a|trien\s+khai|th\S{0,5}\s*hien"
    r"|to\s+chuc\s+(?:trien\s+khai|thuc\s+hien))\b"
)
# Site chrome after the document: the site's related-documents list, its caption restating
# the document, its notices.
_CHROME = re.compile(
    r"^[#\s*]*(?:van\s+ban\s+lien\s+quan|van\s+ban\s+nay\s+chua\s+cap\s+nhat|luoc\s+do"
    r"|tai\s+ve\s+van\s+ban|noi\s+dung\s+ma\s+nguon)\b"
    # the site's caption restating the document: "Quyết định 2629/QĐ-TTg năm 2025 phê duyệt ..."
    r"|^[\s*]*(?:"
    + _TYPE_ALT
    + r")\s+(?P<own>\d+[a-z]?(?:/\d{4})?[/-][a-z][\w&/-]*)\s+nam\s+\d{4}\b",
    re.MULTILINE,
)
_DATE_AFTER = re.compile(
    r"^[\s,]*(?:ng\S{1,3}\s*)?(\d{1,2})\s*(?:/|th\S{1,3}ng)\s*(\d{1,2})\s*(?:/|n\S{1,2}m)\s*(\d{4})"
)
# "của <issuer>", up to what follows an issuer: its subject ("về ..."), a stop, "ban hành", or the
# area a plan carries it out in ("… tỉnh X trên địa bàn xã Y": the commune is no issuer)
_ISSUER_AFTER = re.compile(
    r"^\s*c\S{1,3}\s+(.{3,90}?)(?=\s+ve\s|\s*[,;.(“”*\"]|\s+ban hanh|\s+tren dia ban\s|$)"
)
# Authority segments of a number: who issued it decides whether the number is provincial
# ("211-KH/TU" is the Tỉnh ủy of the citing plan's province) or national ("28-CT/TW").
_CENTRAL_AUTHORITY = re.compile(r"^(TW|TTg|CP|VPCP|QH\d*|B[A-ZĐ]{1,9}|LĐTBXH)$")
_PROVINCIAL_AUTHORITY = re.compile(r"^(UBND|TU|HĐND|VP|BTV|S[A-ZĐ]{2,9})$")
# A blank line ends a clause only when a new clause or block visibly starts after it: OCR
# scatters blank lines inside sentences.
_BOUNDARY = re.compile(
    r";|\.\s+(?=\S)|\n\s*\n(?=\W*(?:can\s+c|tren\s+co\s+so|th\S{0,5}\s*hien|trien khai"
    r"|to chuc|uy ban|ubnd"
    r"|[ivxl1]+\s*\.|\d+\s*\.|[a-z]\)|-))"
)
_DAY_BEFORE = re.compile(r"\bngay\s*$")
_RANK = {Relation.IMPLEMENTS: 3, Relation.BASED_ON: 2, Relation.CITES: 1}


@functools.lru_cache(maxsize=TEXTS_KEPT)
def canonical_number(written: str) -> tuple[str | None, str]:
    """(canonical number or None when illegible, number as written with Đ restored); kept per
    text: plans cite the same documents, and each reader asks again."""
    text = re.sub(r"\s+", "", written)
    head = re.match(r"[\d§]+[a-z]?(?:/\d{4})?", text)
    assert head is not None
    num, rest = head.group(0), text[head.end() :]
    sep, code = rest[0], rest[1:]
    parts = re.split(r"([-/])", code)
    fixed = []
    for part in parts:
        part = _SEGMENT_FIX.get(part, part)
        for pattern, repl in _INNER_FIX:
            part = pattern.sub(repl, part)
        fixed.append(part)
    code = _unglue("".join(fixed))
    segments = re.split(r"[-/]", code)
    if len(segments) == 2 and _PARTY_BODY.match(segments[1]) and sep == "/":
        sep, code = "-", f"{segments[0]}/{segments[1]}"  # "27/NQ-TW" -> "27-NQ/TW"
    as_written = f"{num}{sep}{code}"
    return (None if "§" in num else as_written), as_written


def _unglue(code: str) -> str:
    """A lone segment made of a type abbreviation and an authority is the two segments run
    together ("NĐCP" -> "NĐ-CP"), sometimes sharing a letter ("CTTg" -> "CT-TTg")."""
    if re.search(r"[-/]", code) or code in _CODE_TYPES:
        return code
    for type_code in sorted(_CODE_TYPES, key=len, reverse=True):
        if not code.startswith(type_code):
            continue
        for rest in (code[len(type_code) :], code[len(type_code) - 1 :]):
            rest = _SEGMENT_FIX.get(rest, rest)
            if rest in _GLUED_AUTHORITY:
                return f"{type_code}-{rest}"
    return code


def _date_after(text: str) -> date | None:
    m = _DATE_AFTER.match(aligned_fold(text))
    if not m:
        return None
    day, month, year = (int(g) for g in m.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _type_before(folded_before: str, code: str) -> str | None:
    m = _TYPE_BEFORE.search(folded_before[-40:])
    if m:
        return _TYPES[re.sub(r"\s+", " ", m.group(1))]
    first = re.split(r"[-/]", code)[0]
    return _CODE_TYPES.get(first)


class _Mention:
    """One numbered mention ("Chỉ thị số 28-CT/TW"), or one named by title ("Luật Dữ liệu
    ngày 30 tháng 11 năm 2024", "TCVN 5687:2010")."""

    title: str | None = None

    def __init__(self, m: re.Match[str], raw: str, folded: str, line_of: _LineIndex) -> None:
        self.start, self.end = m.start(), m.end()
        self.number, self.written = canonical_number(m.group(0))
        self.key = self.number or self.written
        self.code = self.written.split(self.written[len(m.group("n")) :][:1], 1)[-1]
        self.span = Span(m.group(0), m.start(), m.end(), line_of[m.start()])
        before = folded[max(0, m.start() - 60) : m.start()]
        self.type = _type_before(before, self.code)
        after = raw[m.end() : m.end() + 160]
        self.date = _date_after(after)
        self.lead = _TYPE_WORDS.sub("", before).rstrip()  # text right before "Chỉ thị số"
        self.after = after
        self.before = before

    @classmethod
    def named(
        cls, m: re.Match[str], raw: str, folded: str, line_of: _LineIndex, kind: str
    ) -> _Mention:
        """A law by its name and date or year, or a standard by its code."""
        self = cls.__new__(cls)
        self.start, self.end = m.start(), m.end("name")
        name = nfc(m.group("name"))
        self.span = Span(raw[self.start : self.end], self.start, self.end, line_of[self.start])
        self.code = ""
        self.before = folded[max(0, self.start - 60) : self.start]
        self.lead = self.before.rstrip()
        self.after = raw[self.end : self.end + 160]
        if kind == "standard":
            self.number = self.written = re.sub(r"\s+", " ", name)
            self.key, self.type, self.date = self.number, doc_types().by_code["TCVN"], None
            return self
        self.number = self.written = None
        self.title, self.type = name, doc_types().by_label["luat"]
        self.key = f"title:{fold(name)}"
        self.date = _date_after(raw[self.end : self.end + 40])  # "năm 2024" alone: no day
        return self


# "Luật Tổ chức Chính phủ ngày 18 tháng 02 năm 2025", "Luật Dữ liệu năm 2024": a law is cited
# by its name and when it was passed; "TCVN 5687:2010": a national standard by its code.
_LAW = re.compile(
    r"(?P<name>(?:B(?<!\wB)ộ\s+luật|L(?<!\wL)uật)\s+(?!số\b)"
    r"(?:(?!\s(?:để|trong|được|đã|theo|tại|với|nhằm|khi|đến|trình|thì)\s)[^;:\n\d()]){2,120}?)"
    r"\s+(?P<when>ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}|năm\s+\d{4})\b"
)
_STANDARD = re.compile(r"(?P<name>TCVN(?<!\wTCVN)\s*\d{1,5}(?:-\d{1,3})?(?::\s?\d{4})?)(?!\w)")


class _LineIndex:
    """The line number of every offset of ``raw`` (and of its end): a search among the lines'
    starts, for the few offsets asked (a list of a number per character cost 0.2 ms a plan)."""

    def __init__(self, raw: str) -> None:
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(raw))]

    def __getitem__(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


_LINE_BREAK = re.compile("\n")


def _line_index(raw: str) -> _LineIndex:
    """The line number of every offset of ``raw`` (and of its end)."""
    return _LineIndex(raw)


# A line that starts with a capitalised "Thực hiện / Triển khai / Căn cứ" opens the preamble
# even when no blank line separates it from the title, unless the title's "về" runs into it.
_LINE_VERB = re.compile(
    r"\n[ \t*_]*(?=(?:th\S{0,5}\s*hien|trien\s+khai|can\s+c\S{0,3}|tren\s+co\s+so)\b)"
)


def _boundaries(raw: str, folded: str) -> list[int]:
    """Offsets where a clause starts: after ';', after '.' + space + capital, blank lines,
    and at a line opening with a capitalised preamble verb."""
    marks = [0, *(m.end() for m in _BOUNDARY.finditer(folded))]
    for m in _LINE_VERB.finditer(folded):
        runs_on = folded[: m.start()].rstrip().endswith(" ve")
        if raw[m.end() : m.end() + 1].isupper() and not runs_on:
            marks.append(m.end())
    return sorted(set(marks))


def _segment_start(pos: int, marks: list[int]) -> int:
    best = 0
    for mark in marks:
        if mark <= pos:
            best = mark
        else:
            break
    return best


@functools.lru_cache(maxsize=4)
def folded_text(raw: str) -> str:
    """aligned_fold of a whole document, computed once for the readers that all need it."""
    return aligned_fold(raw)


def document_end(raw: str, folded: str | None = None, own: str | None = None) -> int:
    """Where the document ends and the site's chrome starts (the whole text when none); a
    caption counts only when it restates the document's own number. Kept for the last few
    documents: the metadata, reference and reporting readers all ask."""
    if folded is not None and folded is not folded_text(raw):
        return _document_end(raw, folded, own)
    return _document_end_of(raw, own)


@functools.lru_cache(maxsize=8)
def _document_end_of(raw: str, own: str | None) -> int:
    return _document_end(raw, folded_text(raw), own)


def _document_end(raw: str, folded: str, own: str | None) -> int:
    for m in _CHROME.finditer(folded):
        if m.start() <= len(raw) // 2:
            continue
        if m.group("own") is not None:
            written = raw[m.start("own") : m.end("own")]
            if own is None or canonical_number(written)[1] != own:
                continue
        return m.start()
    return len(raw)


def preamble_zones(folded: str, body_start: int) -> list[tuple[int, int]]:
    """Stretches read as a preamble: the header up to the first structure of the document
    (or body_start), and the preamble of a plan attached after the decision's signature."""
    first = _STRUCTURE.search(folded)
    zones = [(0, min(body_start, first.start() if first else len(folded)))]
    for caption in _ATTACHED.finditer(folded, zones[0][1]):
        nxt = _STRUCTURE.search(folded, caption.end())
        zones.append((caption.end(), nxt.start() if nxt else len(folded)))
    return zones


def purpose_sentences(folded: str) -> list[tuple[int, int]]:
    """Sentences of a "Mục đích" part that open with a carry-out verb ("Cụ thể hóa ...",
    "Triển khai thực hiện ..."): the documents they name are what the plan carries out."""
    out = []
    for head in _PURPOSE.finditer(folded):
        end_m = _PURPOSE_END.search(folded, head.end())
        end = end_m.start() if end_m else min(len(folded), head.end() + 4000)
        line_start = folded.index("\n", head.end()) + 1 if "\n" in folded[head.end() : end] else end
        for sentence in re.finditer(r"[^.]+(?:\.(?!\d)|$)", folded[line_start:end]):
            text = sentence.group(0).lstrip("\n ")
            if _PURPOSE_VERB.match(text) and not _NARRATIVE.search(text[:80]):
                out.append((line_start + sentence.start(), line_start + sentence.end()))
    return out


def find_references(
    raw: str, body_start: int, matcher: Matcher, province: str | None, own: str | None
) -> tuple[list[Reference], list[StatedLineage]]:
    """All numbered document mentions except the plan's own number, merged per number."""
    folded = folded_text(raw)
    lines = _line_index(raw)
    end = document_end(raw, folded, own)
    mentions = [_Mention(m, raw, folded, lines) for m in _NUMBER.finditer(raw, 0, end)]
    aliases = {m.key for m in mentions if _alias(m, folded)}  # "(Đề án 06/CP)", then "Đề án 06/CP"
    mentions = [
        m for m in mentions if m.key != own and m.key not in aliases and _looks_like_document(m)
    ]
    named = [_Mention.named(m, raw, folded, lines, "law") for m in _LAW.finditer(raw, 0, end)]
    named += [_Mention.named(m, raw, folded, lines, "standard") for m in _STANDARD.finditer(raw)]
    numbered = mentions
    zones = preamble_zones(folded, body_start)
    purposes = purpose_sentences(folded)
    marks = _boundaries(raw, folded)
    lineage: list[StatedLineage] = []
    objects: set[int] = set()
    for prev, cur in itertools.pairwise(numbered):
        if _states_lineage(folded, prev, cur, marks) and prev.key not in {cur.key, own}:
            lineage.append(StatedLineage(prev.key, Relation.IMPLEMENTS, cur.key, cur.span))
            objects.add(id(cur))
    # a document the plan says it carries out through another ("Kế hoạch số 211-KH/TU ... về
    # thực hiện Chỉ thị số 28-CT/TW") stays carried out through it, even when the purpose part
    # names it again
    carried_through = {item.object for item in lineage}
    mentions = sorted([*numbered, *(n for n in named if n.end <= end)], key=lambda m: m.start)
    best: dict[str, Reference] = {}
    inherited: Relation | None = None
    carried: Relation | None = None  # the verb relation of the list so far
    last_segment = -1
    for mention in mentions:
        seg = _segment_start(mention.start, marks)
        seg_text = folded[seg : mention.start]
        if seg != last_segment:
            inherited = _inherit(seg_text, carried, folded, seg)
            last_segment = seg
        preamble = any(a <= mention.start < b for a, b in zones)
        relation = _relation(mention, seg_text, inherited, preamble, id(mention) in objects)
        if (
            relation is Relation.CITES
            and id(mention) not in objects
            and any(a <= mention.start < b for a, b in purposes)
            and not _BY_RULE.search(mention.lead)
            and mention.key not in carried_through
        ):
            relation = Relation.IMPLEMENTS
        if id(mention) not in objects:
            carried = relation if relation is not Relation.CITES else inherited
        ref = Reference(_target(mention, matcher, province), relation, mention.span)
        old = best.get(mention.key)
        if old is None:
            best[mention.key] = ref
        elif _RANK[relation] > _RANK[old.relation]:
            ref.target = _merge_target(old.target, ref.target)
            best[mention.key] = ref
        else:
            old.target = _merge_target(ref.target, old.target)
    seen: set[tuple[str, str]] = set()
    unique = []
    for item in lineage:
        if (item.subject, item.object) not in seen:
            seen.add((item.subject, item.object))
            unique.append(item)
    return list(best.values()), unique


def _states_lineage(folded: str, prev: _Mention, cur: _Mention, marks: list[int]) -> bool:
    """'A ... về (triển khai) thực hiện B' within one clause: A carries out B."""
    between = folded[prev.end : cur.start]
    return (
        len(between) < 320
        and ";" not in between
        and _CARRY_OUT.search(cur.lead) is not None
        and _segment_start(cur.start, marks) <= prev.start
    )


def _looks_like_document(m: _Mention) -> bool:
    """A document number has a type code of two or more letters ("KH", "CT", "QĐ"); its
    segments are capitals with at most one small letter ("TTg", "CTr"), not words ("2026-Hoan"
    of a table read without its accents), and it is never the day of a date: "ngày 25 - THÁNG
    12" (a stray OCR dash) is not "25-THÁNG"."""
    segments = re.split(r"[-/]", m.code)
    if any(sum(c.islower() for c in s) > 1 for s in segments):
        return False
    if _DAY_BEFORE.search(m.before) and aligned_fold(segments[0]) == "thang":
        return False
    return len(re.sub(r"[^A-Za-zĐđ]", "", segments[0])) >= 2 or "/" in m.written[:8]


def _alias(m: _Mention, folded: str) -> bool:
    """ "(Đề án 06/CP)": a short name given in parentheses to a document just described, whose
    number has no type abbreviation; not a document of its own."""
    first = re.split(r"[-/]", m.code)[0]
    if first in _CODE_TYPES:
        return False
    before = folded[max(0, m.start - 40) : m.start]
    return bool(re.search(r"\(\s*(?:" + _TYPE_ALT + r")\s*$", before)) and folded[
        m.end : m.end + 2
    ].lstrip().startswith(")")


def _inherit(seg_text: str, previous: Relation | None, folded: str, seg: int) -> Relation | None:
    """A clause list after "Căn cứ A; B; C" keeps its verb when it starts with a document
    ("Nghị định số ...", "Các Công điện: số ...", "số ...")."""
    m = _SEGMENT_START.match(seg_text)
    if m:
        basis = re.match(_BASIS_VERB, m.group(1)) is not None
        return Relation.BASED_ON if basis else Relation.IMPLEMENTS
    starts_with_doc = _LIST_ITEM.match(seg_text) is not None
    prev_char = folded[:seg].rstrip()[-1:] if seg else ""
    return previous if starts_with_doc and prev_char == ";" else None


def _relation(
    mention: _Mention, seg_text: str, inherited: Relation | None, preamble: bool, is_object: bool
) -> Relation:
    if is_object:
        return Relation.CITES
    if preamble and _BASIS.search(mention.lead):
        return Relation.BASED_ON
    if preamble and _CARRY_OUT.search(mention.lead) and not _NARRATIVE.search(mention.lead):
        return Relation.IMPLEMENTS
    if preamble and inherited is Relation.IMPLEMENTS:
        return inherited
    if preamble and inherited is Relation.BASED_ON:
        first = _LIST_ITEM.match(seg_text) is not None or _VERB_THEN_TYPE.match(seg_text)
        if first and not re.search(r"\d[-/][A-Z]", seg_text.upper()):
            return inherited
        if re.search(r"(,|\bva)\s*$", mention.lead):
            return inherited
    return Relation.CITES


def _target(mention: _Mention, matcher: Matcher, province: str | None) -> DocumentRef:
    issuer = None
    after = _after_date(mention.after).replace("\n", " ")  # same length: offsets hold
    m = _ISSUER_AFTER.match(aligned_fold(after))
    if m:
        issuer = _issuer(after[m.start(1) : m.end(1)], matcher, province)
    return DocumentRef(
        number=mention.number,
        number_as_written=mention.written,
        type=mention.type,
        date=mention.date,
        issuer=issuer,
        province=_scope_province(mention.code, issuer, province),
        title=mention.title,
    )


def _issuer(text: str, matcher: Matcher, province: str | None) -> AgencyMention:
    """The body after "của": the longest run of words that names a known body ("của Chính phủ
    sửa đổi, bổ sung ..." -> Chính phủ), else the text as written, unresolved. A province the
    phrase names ("của Ủy ban nhân dân tỉnh X") is the body's, before the citing plan's."""
    province = matcher.province(text) or province
    mention = matcher.agency(text, province)
    words = text.split()
    for size in range(len(words) - 1, 0, -1):
        if mention.resolved:
            break
        shorter = matcher.agency(" ".join(words[:size]), province)
        if shorter.resolved:
            return shorter
    return mention


def _scope_province(code: str, issuer: AgencyMention | None, province: str | None) -> str | None:
    """The province a cited document belongs to: its issuer's, else its number's authority."""
    if issuer is not None and issuer.province:
        return issuer.province
    segments = re.split(r"[-/]", code)
    if segments[0] in _CODE_TYPES:  # "KH-UBND": type, then authority; "UBND-KGVX": authority
        segments = segments[1:]
    if any(_CENTRAL_AUTHORITY.match(s) for s in segments):
        return None
    if any(_PROVINCIAL_AUTHORITY.match(s) for s in segments):
        return province
    return None


def _after_date(after: str) -> str:
    m = _DATE_AFTER.match(aligned_fold(after))
    return after[m.end() :] if m else after


def _merge_target(old: DocumentRef, new: DocumentRef) -> DocumentRef:
    """One cited document from two mentions. Its province goes with the issuer kept: a mention
    naming "của Ủy ban nhân dân tỉnh X" outweighs one whose province was only inferred from
    the number's authority and the citing plan."""
    new.date = new.date or old.date
    new.type = new.type or old.type
    if not (new.issuer and new.issuer.resolved) and old.issuer:
        new.issuer = old.issuer
        new.province = old.province
    return new
