"""Documents a plan mentions: canonical numbers, the relation the plan states, stated lineage.

Relations follow the plan's own words: a mention led by "Căn cứ" is ``based_on``; one led by
"Thực hiện / Triển khai (thực hiện) / Tổ chức thực hiện / thi hành" in the title or preamble
is ``implements`` (in the body such words describe tasks, so the mention only ``cites``);
everything else ``cites``. When one document is said to carry out another ("Kế hoạch số
211-KH/TU ... về thực hiện Chỉ thị số 28-CT/TW") that is a stated lineage, and the second
document is not something the plan carries out itself. Of several mentions of one number the
strongest relation wins (implements > based_on > cites).
"""

from __future__ import annotations

import itertools
import re
from datetime import date

from kgraph.ingest.model import AgencyMention, DocumentRef, Reference, Relation, Span, StatedLineage
from kgraph.ingest.text import aligned_fold
from kgraph.reference.matching import Matcher

# "28-CT/TW", "234/KH-UBND", "121/2020/QH14", "37§/LĐTBXH-TE", "28-\nCT/TW", "23/CT- TTg"
_NUMBER = re.compile(
    r"(?<![\w/.,-])(?P<n>\d[\d§]{0,4})(?P<year>\s?/\s?\d{4})?\s?(?P<sep>[/-])[ \t]*\n?[ \t]*"
    r"(?P<code>[A-ZĐ][A-Za-zĐđ&]{1,11}\d{0,2}"
    r"(?:[ \t]?[-/][ \t]*\n?[ \t]*[A-ZĐ][A-Za-zĐđ&]{0,14}\d{0,2}){0,2})(?![\w&])"
)
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
_TYPES = {
    "ke hoach": "Kế hoạch",
    "chi thi": "Chỉ thị",
    "nghi quyet": "Nghị quyết",
    "quyet dinh": "Quyết định",
    "cong van": "Công văn",
    "thong tu": "Thông tư",
    "nghi dinh": "Nghị định",
    "chuong trinh": "Chương trình",
    "thong bao": "Thông báo",
    "quy dinh": "Quy định",
    "huong dan": "Hướng dẫn",
    "ket luan": "Kết luận",
    "thong tri": "Thông tri",
    "luat": "Luật",
    "de an": "Đề án",
    "bao cao": "Báo cáo",
}
_CODE_TYPES = {
    "KH": "Kế hoạch",
    "CT": "Chỉ thị",
    "NQ": "Nghị quyết",
    "QĐ": "Quyết định",
    "TT": "Thông tư",
    "NĐ": "Nghị định",
    "CTr": "Chương trình",
    "TB": "Thông báo",
    "HD": "Hướng dẫn",
    "KL": "Kết luận",
    "BC": "Báo cáo",
}
_TYPE_BEFORE = re.compile(
    r"(" + "|".join(k.replace(" ", r"\s+") for k in _TYPES) + r")\w?\s*(?:so|s\w)?\s*[:.]?\s*$"
)
_TYPE_WORDS = re.compile(
    r"(?:(?:" + "|".join(k.replace(" ", r"\s+") for k in _TYPES) + r")\s+)?(?:s\S{0,2}\s*)?$"
)
_CARRY_OUT = re.compile(r"(th\S{0,5}\s*hien|trien khai|thi hanh)\s*$")
_BASIS = re.compile(r"can c\S{0,3}\s*$")
_SEGMENT_START = re.compile(r"^\W*(can c\S{0,3}|th\S{0,5}\s*hien|trien khai|to chuc thuc hien)\b")
_DATE_AFTER = re.compile(
    r"^[\s,]*(?:ng\S{1,3}\s*)?(\d{1,2})\s*(?:/|th\S{1,3}ng)\s*(\d{1,2})\s*(?:/|n\S{1,2}m)\s*(\d{4})"
)
_ISSUER_AFTER = re.compile(r"^\s*c\S{1,3}\s+(.{3,90}?)(?=\s+ve\s|\s*[,;.(“”*\"]|\s+ban hanh|$)")
# Authority segments of a number: who issued it decides whether the number is provincial
# ("211-KH/TU" is the Tỉnh ủy of the citing plan's province) or national ("28-CT/TW").
_CENTRAL_AUTHORITY = re.compile(r"^(TW|TTg|CP|VPCP|QH\d*|B[A-ZĐ]{1,9}|LĐTBXH)$")
_PROVINCIAL_AUTHORITY = re.compile(r"^(UBND|TU|HĐND|VP|BTV|S[A-ZĐ]{2,9})$")
# A blank line ends a clause only when a new clause or block visibly starts after it: OCR
# scatters blank lines inside sentences.
_BOUNDARY = re.compile(
    r";|\.\s+(?=\S)|\n\s*\n(?=\W*(?:can c|th\S{0,5}\s*hien|trien khai|to chuc|uy ban|ubnd"
    r"|[ivxl1]+\s*\.|\d+\s*\.|[a-z]\)|-))"
)
_DAY_BEFORE = re.compile(r"\bngay\s*$")
_RANK = {Relation.IMPLEMENTS: 3, Relation.BASED_ON: 2, Relation.CITES: 1}


def canonical_number(written: str) -> tuple[str | None, str]:
    """(canonical number or None when illegible, number as written with Đ restored)."""
    text = re.sub(r"\s+", "", written)
    head = re.match(r"[\d§]+(?:/\d{4})?", text)
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
    code = "".join(fixed)
    segments = re.split(r"[-/]", code)
    if len(segments) == 2 and _PARTY_BODY.match(segments[1]) and sep == "/":
        sep, code = "-", f"{segments[0]}/{segments[1]}"  # "27/NQ-TW" -> "27-NQ/TW"
    as_written = f"{num}{sep}{code}"
    return (None if "§" in num else as_written), as_written


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
    def __init__(self, m: re.Match[str], raw: str, folded: str, line_of: list[int]) -> None:
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


def _line_index(raw: str) -> list[int]:
    index, line = [], 1
    for ch in raw:
        index.append(line)
        if ch == "\n":
            line += 1
    index.append(line)
    return index


# A line that starts with a capitalised "Thực hiện / Triển khai / Căn cứ" opens the preamble
# even when no blank line separates it from the title, unless the title's "về" runs into it.
_LINE_VERB = re.compile(r"\n[ \t]*(?=(?:th\S{0,5}\s*hien|trien khai|can c\S{0,3})\b)")


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


def find_references(
    raw: str, body_start: int, matcher: Matcher, province: str | None, own: str | None
) -> tuple[list[Reference], list[StatedLineage]]:
    """All numbered document mentions except the plan's own number, merged per number."""
    folded = aligned_fold(raw)
    lines = _line_index(raw)
    mentions = [_Mention(m, raw, folded, lines) for m in _NUMBER.finditer(raw)]
    mentions = [m for m in mentions if m.key != own and _looks_like_document(m)]
    marks = _boundaries(raw, folded)
    lineage: list[StatedLineage] = []
    objects: set[int] = set()
    for prev, cur in itertools.pairwise(mentions):
        if _states_lineage(folded, prev, cur, marks) and prev.key not in {cur.key, own}:
            lineage.append(StatedLineage(prev.key, Relation.IMPLEMENTS, cur.key, cur.span))
            objects.add(id(cur))
    best: dict[str, Reference] = {}
    inherited: Relation | None = None
    last_segment = -1
    for mention in mentions:
        seg = _segment_start(mention.start, marks)
        seg_text = folded[seg : mention.start]
        if seg != last_segment:
            inherited = _inherit(seg_text, inherited, folded, seg)
            last_segment = seg
        relation = _relation(
            mention, seg_text, inherited, mention.start < body_start, id(mention) in objects
        )
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
    """A document number has a type code of two or more letters ("KH", "CT", "QĐ"), and is
    never the day of a date: "ngày 25 - tháng 12" (a stray OCR dash) is not "25-THÁNG"."""
    first = re.split(r"[-/]", m.code)[0]
    if _DAY_BEFORE.search(m.before) and aligned_fold(first) == "thang":
        return False
    return len(re.sub(r"[^A-Za-zĐđ]", "", first)) >= 2 or "/" in m.written[:8]


def _inherit(seg_text: str, previous: Relation | None, folded: str, seg: int) -> Relation | None:
    """A clause list after "Căn cứ A; B; C" keeps its verb when it starts with a document."""
    m = _SEGMENT_START.match(seg_text)
    if m:
        return Relation.BASED_ON if m.group(1).startswith("can") else Relation.IMPLEMENTS
    starts_with_doc = _TYPE_BEFORE.search(seg_text.strip()[:30] + " so") is not None
    prev_char = folded[seg - 1 : seg] if seg else ""
    return previous if starts_with_doc and prev_char == ";" else None


def _relation(
    mention: _Mention, seg_text: str, inherited: Relation | None, preamble: bool, is_object: bool
) -> Relation:
    if is_object:
        return Relation.CITES
    if _BASIS.search(mention.lead):
        return Relation.BASED_ON
    if preamble and _CARRY_OUT.search(mention.lead):
        return Relation.IMPLEMENTS
    if preamble and inherited is Relation.IMPLEMENTS:
        return inherited
    if preamble and inherited is Relation.BASED_ON:
        first = _TYPE_BEFORE.search(seg_text.strip()[:40] + " so") is not None
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
        text = after[m.start(1) : m.end(1)]
        issuer = matcher.agency(text, province)
    return DocumentRef(
        number=mention.number,
        number_as_written=mention.written,
        type=mention.type,
        date=mention.date,
        issuer=issuer,
        province=_scope_province(mention.code, issuer, province),
    )


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
    new.date = new.date or old.date
    new.type = new.type or old.type
    new.issuer = new.issuer if new.issuer and new.issuer.resolved else old.issuer or new.issuer
    return new

