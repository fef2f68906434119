"""The plan's own identity: number, type, date, place, province, issuer, title, signer.

Follows the header of Nghị định 30/2020/NĐ-CP: issuing body, "Số: .../KH-UBND", place and date
("Kiên Giang, ngày 23 tháng 7 năm 2024"), the type line and the trích yếu. The issuer is read
from the body code of the number (the part after the type: "KH-UBND" -> the provincial
People's Committee, "QĐ-TTg" -> the Prime Minister, "KH-SLĐTBXH" -> that department), which
survives OCR better than the header block; the header names the body when the code does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from kgraph.ingest.model import AgencyMention, DocumentRef, Signature
from kgraph.ingest.outline import Layout, Line
from kgraph.ingest.references import (
    _SEGMENT,
    _STRUCTURE,
    canonical_number,
    doc_types,
    document_end,
    folded_text,
)
from kgraph.ingest.text import aligned_fold, nfc
from kgraph.reference.matching import PROVINCIAL_COMMITTEE, Matcher
from kgraph.reference.units import COMMUNES_SINCE

# "Số: 234/KH-UBND", "Số: 4085/UBND-ĐT" (a Công văn), "Số: 1249a/CTPH-UBDT-BTP"
_OWN_NUMBER = re.compile(
    r"(?<!\w)[Ss]\S{0,2}\s*[:.]\s*(?P<num>\d{1,5}[a-z]?\s*(?:/\s*\d{4}\s*)?[/-]\s*"
    r"[A-ZĐ][A-Za-zĐđ&]{0,11}(?:\s?[-/]\s?" + _SEGMENT + r"){0,3})"
)
_DATE = re.compile(
    r"ng[a-z]{0,2}\s*([0-9oil|]{1,2})\s*th[a-z]{1,4}\s*([0-9oil|]{1,2})\s*n[a-z]{1,2}m\s*(\d{4})"
)
_SIGNED_AT = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})\s+\d{2}:\d{2}")
_PLACE = re.compile(r"([^\s,:/][^,:/]{1,40}?)\s*,\s*ng\S{1,3}\s*\S{1,2}\s*th", re.IGNORECASE)
_DIGIT_OCR = str.maketrans({"o": "0", "i": "1", "l": "1", "|": "1", "b": "6", "s": "5"})
_TYPE_LINES = doc_types().by_label  # "ke hoach" -> "Kế hoạch", "cong dien" -> "Công điện"
_CODE_TYPES = doc_types().by_code  # "KH" -> "Kế hoạch"
_PREAMBLE = re.compile(r"^\W*(can c|th\S{0,5}\s*hien|theo de nghi|xet de nghi|trien khai)")
_ABOUT = re.compile(r"^\W*v\s*/\s*v\b")  # "V/v": "về việc", the subject of a Công văn
_AUTHORITY_LINE = re.compile(
    r"^\W*(?:pho\s+)?(?:thu\s+tuong|bo\s+truong|chu\s+tich|giam\s+doc|uy\s+ban\s+nhan\s+dan"
    r"|hoi\s+dong\s+nhan\s+dan|truong\s+ban)\b"
)
_AUTHORITY_TAIL = re.compile(
    r"\s(?:pho\s+)?(?:thu\s+tuong|bo\s+truong|chu\s+tich\s+uy\s+ban)\b[^,;]{0,80}$"
)
_RUN_ON_TYPE = re.compile(
    r"\bnam\s+\d{4}\W*\s(" + "|".join(k.replace(" ", r"\s+") for k in _TYPE_LINES) + r")\s+(?=\S)"
)
_SIGNER_TITLES = [
    "pho chu tich",
    "chu tich",
    "pho thu tuong",
    "thu tuong",
    "pho giam doc",
    "giam doc",
    "bo truong",
    "thu truong",
]
_NAME = re.compile(r"^[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ-Ỹ][\w]+(?:\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠ-Ỹ][\w]+){1,4}$")


_PARTY = re.compile(r"^(TW|TU|HU|ĐU|TƯ|QU)$")  # "211-KH/TU": the authority comes last


@dataclass
class Metadata:
    ident: DocumentRef
    place: str | None
    signature: Signature
    number_span: tuple[int, int]


def find_number(raw: str, head_end: int) -> re.Match[str] | None:
    """The plan's own "Số: ..." line, searched in the header first."""
    return _OWN_NUMBER.search(raw[:head_end]) or _OWN_NUMBER.search(raw[: min(len(raw), 3000)])


def _digits(text: str) -> int | None:
    cleaned = text.lower().translate(_DIGIT_OCR)
    return int(cleaned) if cleaned.isdigit() else None


def find_date(header_text: str, raw: str) -> date | None:
    """The date line; when OCR ruined it, the digital-signature time ("03.11.2020 16:31")."""
    for m in _DATE.finditer(aligned_fold(header_text)):
        day, month, year = _digits(m.group(1)), _digits(m.group(2)), int(m.group(3))
        if day and month and 1 <= month <= 12 and 1 <= day <= 31:
            try:
                return date(year, month, day)
            except ValueError:
                continue
    m = _SIGNED_AT.search(raw)
    if m:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    return None


def find_type(lines: list[Line], number: str) -> str | None:
    """The type line ("KẾ HOẠCH"), else the type abbreviation of the number ("QĐ"); a number
    whose code opens with the issuer ("4085/UBND-ĐT") is a Công văn (Nghị định 30/2020)."""
    for line in lines:
        key = re.sub(r"[^a-z ]", "", aligned_fold(line.text)).strip()
        if key in _TYPE_LINES and line.text.upper() == line.text:
            return _TYPE_LINES[key]
    first = _code_segments(number)[0]
    if first in _CODE_TYPES:
        return _CODE_TYPES[first]
    return "Công văn" if first else None


def _code_segments(number: str) -> list[str]:
    """The segments after the number ("234/KH-UBND" -> [KH, UBND]; "28-CT/TW" -> [CT, TW])."""
    code = re.sub(r"^[\d§]+[a-z]?(?:/\d{4})?[/-]", "", number)
    return re.split(r"[-/]", code) if code != number else [""]


def find_title(lines: list[Line]) -> str | None:
    """The trích yếu: lines after the type line up to the preamble (a Công văn: its "V/v"
    line), without the issuing authority's line a Quyết định puts before its preamble."""
    out: list[str] = []
    started = False
    upper = False
    for line in lines:
        key = re.sub(r"[^a-z ]", "", aligned_fold(line.text)).strip()
        if not started:
            started = (
                key in _TYPE_LINES
                and line.text.upper() == line.text
                and not line.text.rstrip(" *").endswith(":")  # "QUYẾT ĐỊNH:" opens the articles
            )
            if not started and _ABOUT.match(aligned_fold(line.text)):
                return _about_title(lines[lines.index(line) :])
            run_on = _RUN_ON_TYPE.search(aligned_fold(line.text))
            if not started and run_on and line.text[run_on.start(1) :].isupper():
                return _run_on_title(line.text[run_on.end() :], lines[lines.index(line) + 1 :])
            continue
        text = line.text.strip()
        is_upper = text.upper() == text
        if _PREAMBLE.match(aligned_fold(text)) and (
            out and (line.blank_before or not upper or not is_upper)
        ):
            break
        if out and line.blank_before and not (upper and is_upper):
            break
        if not out:
            upper = is_upper
        out.append(text)
    while len(out) > 1 and _AUTHORITY_LINE.match(aligned_fold(out[-1])):
        out.pop()  # "THỦ TƯỚNG CHÍNH PHỦ", "BỘ TRƯỞNG BỘ ...": who decides, not the title
    return nfc(" ".join(out)) if out else None


def _run_on_title(first: str, rest: list[Line]) -> str | None:
    """Crawler text puts date, type and title on one line ("Hà Nội, ngày 8 tháng 1 năm 2024
    QUYẾT ĐỊNH VỀ VIỆC ... BỘ TRƯỞNG BỘ ..."): the title runs up to the preamble, and the
    issuing authority named at its end is cut off."""
    out = [first.strip()]
    for line in rest:
        if _PREAMBLE.match(aligned_fold(line.text)) or not line.text.isupper():
            break
        out.append(line.text.strip())
    title = nfc(" ".join(out))
    cut = _AUTHORITY_TAIL.search(aligned_fold(title))
    title = title[: cut.start()].strip() if cut else title
    return title or None


def _about_title(lines: list[Line]) -> str:
    """ "V/v rà soát ... mã bưu chính": the Công văn's subject, up to the next block."""
    out = [lines[0].text.strip()]
    for line in lines[1:]:
        if line.blank_before or _PLACE.search(line.text):
            break
        out.append(line.text.strip())
    return nfc(" ".join(out))


def _body_codes(label: str) -> set[str]:
    """How a Sở's or a ministry's name shortens in a document number: "Sở Y tế" -> SYT,
    "Bộ Tài nguyên và Môi trường" -> BTNMT, "Bộ Văn hóa, Thể thao và Du lịch" -> BVHTTDL
    (initials, "và" dropped), or an abbreviated label run together ("Sở LĐTBXH" -> SLĐTBXH)."""
    head, rest = label[0], label.split(" ", 1)[1] if " " in label else ""
    words = [w for w in re.findall(r"\w+", rest) if w.lower() != "và"]
    run_together = head + re.sub(r"[\W_]", "", rest).upper()
    # an acronym inside a label stays whole ("Bộ CHQS tỉnh" -> BCHQST, not BCT)
    initials = "".join(w if w.isupper() and len(w) > 1 else w[0] for w in words).upper()
    return {run_together, head + initials}


def issuer_from_code(code: str, province: str | None, matcher: Matcher) -> AgencyMention | None:
    """The issuing body the number's code names: the first segment after the type ("KH-UBND",
    "QĐ-TTg", "KH-SLĐTBXH", "QĐ-BTNMT"; "UBND-ĐT": a Công văn of the UBND's ĐT office)."""
    segments = re.split(r"[-/]", code)
    if segments[0] in _CODE_TYPES and len(segments) > 1:
        segments = segments[1:]
    body = segments[-1] if _PARTY.match(segments[-1]) else segments[0]
    committee = matcher.entry(PROVINCIAL_COMMITTEE) if body == "UBND" and province else None
    if committee is not None:  # named as the reference graph names it: one name per body
        return AgencyMention(
            raw=body,
            canonical=matcher.canonical(committee, province),
            reference_id=committee.ref_id,
            province=province,
            score=100.0,
        )
    if body in {"TTg", "CP"}:
        return matcher.agency("Thủ tướng Chính phủ" if body == "TTg" else "Chính phủ")
    if body.startswith("B") and len(body) > 2:
        # a ministry ("QĐ-BTNMT"); a code two central bodies share ("BCT": Bộ Công Thương,
        # Bộ Chính trị) names neither, and the header decides
        found = {
            entry.label
            for label, entry in matcher.labels
            if label.startswith("Bộ ")
            and "tỉnh" not in label  # a province's Bộ Chỉ huy is not a ministry
            and body.replace("&", "") in _body_codes(label)
        }
        if len(found) == 1:
            mention = matcher.agency(found.pop())
            if mention.resolved and mention.province is None:
                return mention
    if body.startswith("S") and len(body) > 2 and province:
        for label, entry in matcher.labels:
            if label.startswith("Sở ") and body.replace("&", "") in _body_codes(label):
                return AgencyMention(
                    raw=body,
                    canonical=entry.label,  # one name per body; the province is its scope
                    reference_id=entry.ref_id,
                    province=province,
                    score=100.0,
                )
    if body == "TU":
        return matcher.agency("Tỉnh ủy", province)
    if body == "TW":
        return matcher.agency("Ban Chấp hành Trung ương Đảng")
    return None


def find_province(lines: list[Line], matcher: Matcher) -> tuple[str | None, str | None]:
    """(place as written, canonical province) from the place-and-date line or the header. A
    commune's or a district's document is dated at its own name (Nghị định 30/2020/NĐ-CP): a
    place the header names as such a unit ("ỦY BAN NHÂN DÂN XÃ …") names no province,
    not even one spelled alike, and the header's own naming of a province decides."""
    header = " ".join(line.text for line in lines)
    units: set[int] = set()  # the place lines naming a commune or a district
    for line in lines:
        m = _PLACE.search(line.text) if "," in line.text else None  # it needs the comma
        if m:
            place = m.group(1).strip(" *_")
            place = re.sub(r"^.*?/\S*\s+", "", place)  # "234 /KH-UBND Kién Giang"
            if matcher.names_unit(header, place):
                units.add(id(line))
                continue
            province = matcher.province(place) or matcher.province_fuzzy(place)
            if province:
                return nfc(place), province
    for line in lines:
        province = None if id(line) in units else matcher.province(line.text)
        if province:
            return None, province
    return None, None


def find_signature(closing: list[Line]) -> Signature:
    title = None
    name = None
    for line in closing:
        key = aligned_fold(line.text)
        for candidate in _SIGNER_TITLES:
            if re.search(rf"(^|[^a-z.] ?){candidate}\s*$", key) and not re.search(
                r"\b(kt|tm)\s*\.", key
            ):
                title = candidate
                break
        text = line.text.strip()
        if _NAME.match(text) and not text.isupper() and ":" not in text:
            name = nfc(text)
    return Signature(name=name, title=_title_case(title) if title else None)


# The signature block: "[KT./TM. ...] TITLE" in capitals, then the signer's name.
_SIGNATURE_TITLES = (
    r"pho\s+chu\s+tich|chu\s+tich|pho\s+thu\s+tuong|thu\s+tuong|bo\s+truong"
    r"|thu\s+truong|pho\s+giam\s+doc|giam\s+doc"
)
_SIGNATURE = re.compile(
    r"(?:\b(?:kt|tm|q)\s*\.\s*[^\n]{0,60}?\s+)?"
    r"(?P<title>" + _SIGNATURE_TITLES + r")[\s*|_]+(?=[a-z])"
)


# What every signature holds (its title) and how its optional "KT./TM./Q." opens: patterns that
# open with letters, found by the regex engine's fast scan (_SIGNATURE, whose first part is
# optional, is tried at every offset: 1 ms a plan over the body).
_SIGNATURE_TITLE = re.compile(r"(?:" + _SIGNATURE_TITLES + r")[\s*|_]+(?=[a-z])")
_SIGNATURE_OPENING = re.compile(r"(?:k(?<!\wk)t|t(?<!\wt)m|q(?<!\wq))\s*\.")


def _signatures(folded: str, start: int, end: int) -> Iterator[re.Match[str]]:
    """The matches of ``_SIGNATURE.finditer(folded, start, end)``, found from the titles: a
    match holds a title, so the leftmost one starts at the first title left from ``pos`` or
    at an opening "KT." before it."""
    pos = start
    while pos <= end:
        title = _SIGNATURE_TITLE.search(folded, pos, end)
        if title is None:
            return
        found = None
        for opening in _SIGNATURE_OPENING.finditer(folded, pos, title.start()):
            found = _SIGNATURE.match(folded, opening.start(), end)
            if found is not None:
                break
        found = found or _SIGNATURE.match(folded, title.start(), end)
        if found is None:  # cannot be: the title alone matches
            pos = title.start() + 1
            continue
        yield found
        pos = found.end() if found.end() > found.start() else found.end() + 1


def find_signer(raw: str, start: int, end: int) -> Signature:
    """The first signature block after the body starts, read from the text itself (any
    layout, crawler lines included): "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / Hồ Thị Nguyên Thảo"."""
    folded = folded_text(raw)
    for m in _signatures(folded, start, end):
        title_raw = raw[m.start("title") : m.end("title")]
        if not title_raw.isupper():
            continue  # "Chủ tịch UBND tỉnh chỉ đạo ...": a sentence, not a signature
        words = []
        block = re.split(r"\||\n\s*\n", raw[m.end() : m.end() + 80])[0]  # its table cell
        for word in re.findall(r"[^\s*_]+", block):
            if not (word[0].isupper() and (len(word) == 1 or word[1:].islower())):
                break
            words.append(word)
        if 2 <= len(words) <= 5:
            return Signature(
                name=nfc(" ".join(words[:5])),
                title=_title_case(re.sub(r"\s+", " ", m.group("title"))),
            )
    return Signature()


def _title_case(folded: str) -> str:
    names = {
        "pho chu tich": "Phó Chủ tịch",
        "chu tich": "Chủ tịch",
        "thu tuong": "Thủ tướng",
        "pho thu tuong": "Phó Thủ tướng",
        "giam doc": "Giám đốc",
        "pho giam doc": "Phó Giám đốc",
        "bo truong": "Bộ trưởng",
        "thu truong": "Thứ trưởng",
    }
    return names[folded]


def extract_metadata(layout: Layout, matcher: Matcher) -> Metadata | None:
    """Identity of the plan, or None when no document number can be found."""
    raw = layout.raw
    head_end = layout.sections[0].line.start if layout.sections else len(raw)
    m = find_number(raw, head_end)
    if m is None:
        return None
    number, written = canonical_number(m.group("num"))
    code = (number or written).split("/", 1)[1] if "/" in (number or written) else ""
    end = document_end(raw, own=number or written)  # the site's notices are not the header
    header = [line for line in layout.header if line.start < end]
    # a site's banner before the document ("Loại văn bản: ...") is not its header either
    own_block = [line for line in header if line.end > m.start() - 400]
    place, province = find_province(header, matcher)
    header_text = "\n".join(line.text for line in header)
    dated = find_date(header_text, raw)
    before = dated is not None and dated < COMMUNES_SINCE  # the former communes' names first
    commune = _commune_in_header(header[: _before(header, m.start())], matcher, province, before)
    if commune is not None and commune.province and province is None:
        # its header names the commune, not the province: the commune's province then
        then = matcher.province_then(commune.raw, commune.province) if before else None
        province = then or commune.province
    issuer = issuer_from_code(code, province, matcher) or _issuer_from_header(
        header, matcher, province
    )
    if commune is not None and (issuer is None or issuer.reference_id == PROVINCIAL_COMMITTEE):
        issuer = commune  # "ỦY BAN NHÂN DÂN XÃ …" over "Số: …/KH-UBND": the commune's committee
    if issuer is not None and issuer.resolved and issuer.province is None:
        province = None  # a central body: the place line names the capital, not a province
    ident = DocumentRef(
        number=number,
        number_as_written=written,
        type=find_type(own_block, number or written),
        date=dated,
        issuer=issuer,
        province=province,
        title=find_title(header),
    )
    body = _STRUCTURE.search(folded_text(raw))
    signature = find_signer(raw, body.start() if body else m.end(), end)
    if signature.name is None:
        signature = find_signature(layout.closing)
    return Metadata(ident, place, signature, (m.start("num"), m.end("num")))


def _before(lines: list[Line], offset: int) -> int:
    """How many of the lines start before ``offset`` (the number's): the letterhead."""
    return sum(1 for line in lines if line.start < offset)


def _commune_in_header(lines: list[Line], matcher: Matcher, province: str | None,
                       before_2025: bool = False) -> AgencyMention | None:
    """The commune body a letterhead names ("ỦY BAN NHÂN DÂN / XÃ EA KLY", "ĐẢNG ỦY PHƯỜNG …"),
    its name over one or two lines (Nghị định 30/2020/NĐ-CP: the issuer's name under its
    superior's)."""
    texts = [line.text for line in lines[:8]]
    for i in range(len(texts)):
        for width in (1, 2):
            chunk = re.split(r"C\S{2,3}NG H\S{1,2}A", " ".join(texts[i : i + width]))[0].strip()
            mention = matcher.commune_body(chunk, province, before_2025) if chunk else None
            if mention is not None and mention.resolved:
                return mention
    return None


def _issuer_from_header(lines: list[Line], matcher: Matcher, province: str | None):
    """First header line(s) naming a known body ("THỦ TƯỚNG CHÍNH PHỦ", "SỞ Y TẾ")."""
    texts = [line.text for line in lines[:8]]
    for i in range(len(texts)):
        for width in (3, 2, 1):  # "BỘ VĂN HÓA, THỂ THAO / VÀ DU LỊCH / -----" over lines
            chunk = " ".join(texts[i : i + width])
            chunk = re.split(r"C\S{2,3}NG H\S{1,2}A", chunk)[0].strip()
            if not chunk:
                continue
            mention = matcher.agency(chunk, province)
            if mention.resolved:
                return mention
    return None
