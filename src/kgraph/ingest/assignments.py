"""The assignment section ("TỔ CHỨC THỰC HIỆN", "PHÂN CÔNG NHIỆM VỤ"): who is given what.

Each numbered heading names its addressees before the first role word or colon ("1. Sở Y
tế:", "1. Sở LĐTBXH chủ trì, phối hợp ...", "2. Đề nghị các sở, ngành: Sở A, Sở B ... phối
hợp ..."). The names are split on commas and "và", then re-joined greedily to the longest run
the reference list knows ("Ủy ban nhân dân các huyện, thị xã, thành phố" holds commas); what
it does not know is kept as an unresolved mention that runs until the next body's head word.
"""

from __future__ import annotations

import re

from kgraph.ingest.model import AddresseeKind, AgencyMention, Assignment, Duty
from kgraph.ingest.outline import Block, Layout, Section, items_of
from kgraph.ingest.text import aligned_fold, nfc
from kgraph.reference.matching import Matcher

_ASSIGN_TITLE = re.compile(r"to chuc th[a-z']{1,4}\s*hien|phan cong")
_HEADING_NO = re.compile(r"^\s*\d{1,2}\s*[.,]\s*")
_REQUEST = re.compile(r"^\W*[dbp]e\s*ngh[a-z]\b")
_LEAD_IN = re.compile(
    r"^\W*(?:[dbp]e\s*ngh[a-z]|giao|yeu cau|(?:bo truong|thu truong|giam doc|chu tich)(?=\s))\s*"
)
_ROLE_CUT = re.compile(
    r"\s(?:chu tri|ph[a-z]{1,3}\s*h[a-z]{1,2}p|h[a-z]{2}g n[a-z]{1,2}m|trong pham vi|tham muu"
    r"|co trach nhiem|chiu trach nhiem|quan t[a-z]{1,2}m"
    r"|thuc hien|trien khai|chi dao|to chuc thuc hien|to chuc trien khai|huong dan|theo doi"
    r"|can cu|kien toan|xay dung|nghien cuu|ra soat|tang cuong|cap nhat|bo tri|kiem tra|lam tot"
    r"|theo chuc nang|phat huy|tiep tuc|nang cao|dam bao|bao dam|vao cuoc)\b|[:(.;]"
)
# "Căn cứ kế hoạch này, Giám đốc các Sở ...": a leading basis clause before the addressees.
_BASIS = re.compile(r"^\W*can cu\b[^,:;]{0,150},\s*")
# "Giám đốc các Sở, Thủ trưởng các ngành, cơ quan cấp tỉnh": heads of several kinds of bodies
# listed in a row are one group ("các Sở, ngành, cơ quan cấp tỉnh").
_TITLED_GROUP = re.compile(r",\s*(?:giam doc|thu truong|chu tich|bo truong)\s+cac\s+")
_SPLIT = re.compile(r"(,\s*|\s+v[aà]\s+|\s+va\s+)")
_HEAD = re.compile(
    r"^(?:s\S{0,2}|[58]\S?|ban|uy ban|ubnd|ub|cong an|bo|hoi|tinh doan|tinh uy|bao|dai|phong"
    r"|van phong|c[a-z]c"
    r"|vien|toa an|kho bac|thue|chi cuc|ngan hang|kiem toan|lien doan|thanh tra|trung tam"
    r"|doan|mat tran|bo chi huy|bao hiem|cuc|tong cuc|truong|thanh uy|huyen uy)\b"
)
_LEAD = re.compile(r"chu\s*tr[a-z]\b")
_COORD = re.compile(
    r"ph[a-z]{1,3}\s*h[a-z]{1,2}p\s+(?:v[a-z]{1,2}\s+)?(.{3,200}?)(?=[.;:(]|\s(?:t[oô] chuc|trien"
    r"|thuc|xay|tham|de)\s|$)"
)


def assignment_sections(layout: Layout) -> list[Section]:
    return [s for s in layout.sections if _ASSIGN_TITLE.search(aligned_fold(s.title))]


def _names_part(title: str) -> str:
    """The part of a heading that names bodies: before the colon or first role word."""
    text = _HEADING_NO.sub("", title, count=1)
    folded = aligned_fold(text)
    basis = _BASIS.match(folded)
    start = basis.end() if basis else 0
    lead = _LEAD_IN.match(folded[start:])
    start += lead.end() if lead else 0
    colon = folded.find(":", start)
    if colon > 0:
        before, after = folded[start:colon].strip(), folded[colon + 1 :].strip()
        if before.startswith("cac") and _HEAD.match(after):
            start = colon + 1 + (len(folded[colon + 1 :]) - len(folded[colon + 1 :].lstrip()))
    end = len(text)
    for cut in _ROLE_CUT.finditer(folded, start):
        if not _names_a_body(text, folded, cut.start()):
            end = cut.start()
            break
    names = text[start:end]
    if folded[start:end].startswith("cac "):
        kept, last = [], 0
        for m in _TITLED_GROUP.finditer(folded, start, end):
            kept.append(text[start + last : m.start()] + ", ")
            last = m.end() - start
        names = "".join(kept) + text[start + last : end]
    return names.strip(" ,-–")


def split_agencies(text: str, matcher: Matcher, province: str | None) -> list[AgencyMention]:
    """Greedy longest-known-run split of a list of bodies."""
    parts = _SPLIT.split(text)
    names, seps = parts[0::2], parts[1::2]
    runs: list[tuple[int, int, AgencyMention]] = []  # (first part, part after, mention)
    i = 0
    while i < len(names):
        if not names[i].strip():
            i += 1
            continue
        best = None
        for j in range(min(len(names), i + 7), i, -1):
            mention = matcher.agency(_join(names, seps, i, j), province)
            if mention.resolved and (best is None or mention.score > best[1].score):
                best = (j, mention)
        if best is None:
            j = i + 1
            while j < len(names) and not _starts_body(names[j]):
                j += 1
            best = (j, matcher.agency(_join(names, seps, i, j), province))
        if runs and _continues_group(runs[-1][2], best[1], names[i], seps[i - 1]):
            first, _, previous = runs[-1]
            merged = matcher.agency(_join(names, seps, first, best[0]), province)
            if merged.resolved or not previous.resolved:  # never lose a known body
                runs.pop()
                best, i = (best[0], merged), first
        runs.append((i, best[0], best[1]))
        i = best[0]
    return [m for _, _, m in runs if m.raw]


def _continues_group(previous: AgencyMention, mention: AgencyMention, name: str, sep: str) -> bool:
    """An unknown lower-case part that goes on naming the group before it is part of its name.

    "các sở, ban, ngành, đoàn thể Thành phố" (a generic word goes on the list) and "Các sở, cơ
    quan trực thuộc Sở và các cơ quan liên quan" (two unknown groups joined by "và") are one
    collective addressee; "UBND các xã, phường, các cơ quan ... liên quan" stays two.
    """
    name = name.strip()
    if mention.resolved or previous.kind is not AddresseeKind.COLLECTIVE or not name[:1].islower():
        return False
    if not aligned_fold(name).startswith("cac "):
        return not _starts_body(name)
    return not previous.resolved and sep.strip() in {"và", "va"}


def _names_a_body(text: str, folded: str, at: int) -> bool:
    """A capitalised role word right after a head word is part of a name ("Sở Xây dựng")."""
    word = text[at:].strip()
    previous = folded[:at].split()[-1:] or [""]
    return word[:1].isupper() and bool(_HEAD.fullmatch(previous[0]))


def _starts_body(name: str) -> bool:
    """A capitalised head word ("Sở", "Ban", "Các") starts the next body of a list."""
    name = name.strip()
    folded = aligned_fold(name)
    return (name[:1].isupper() and bool(_HEAD.match(folded))) or folded.startswith("cac ")


def _join(names: list[str], seps: list[str], i: int, j: int) -> str:
    text = names[i]
    for k in range(i + 1, j):
        text += seps[k - 1] + names[k]
    return text.strip()


def _kind(mentions: list[AgencyMention]) -> AddresseeKind:
    if not mentions:
        return AddresseeKind.GENERAL
    if any(m.kind is AddresseeKind.AGENCY for m in mentions):
        return AddresseeKind.AGENCY
    return AddresseeKind.COLLECTIVE


def _duty(
    block: Block, raw: str, addressees: list[AgencyMention], matcher: Matcher, province: str | None
) -> Duty:
    folded = aligned_fold(block.text)
    duty = Duty(no=block.no or "1", text=block.text, span=block.span(raw))
    if _LEAD.search(folded):
        duty.lead = list(addressees)
    m = _COORD.search(folded)
    if m:
        names = block.text[m.start(1) : m.end(1)]
        duty.coordinators = [c for c in split_agencies(names, matcher, province) if c.resolved]
    return duty


def _assignment(
    block: Block, section: Section, raw: str, matcher: Matcher, province: str | None
) -> Assignment:
    title = block.title
    names = _names_part(title)
    mentions = split_agencies(names, matcher, province) if _looks_named(names) else []
    items = items_of(block) or [block]
    whole = aligned_fold(" ".join([block.text] + [c.text for c in block.children]))
    return Assignment(
        no=block.no,
        heading=nfc(title),
        span=block.span(raw),
        addressees=mentions,
        requested=bool(_REQUEST.match(aligned_fold(_HEADING_NO.sub("", title, count=1)))),
        kind=_kind(mentions),
        duties=[_duty(item, raw, mentions, matcher, province) for item in items],
        has_lead_clause=bool(_LEAD.search(whole)),
        section=section.no,
    )


def _looks_named(names: str) -> bool:
    """A heading names a body when it starts with a body's head word."""
    return bool(names) and bool(_HEAD.match(aligned_fold(names).strip()))


def extract_assignments(
    layout: Layout, matcher: Matcher, province: str | None
) -> tuple[str | None, list[Assignment]]:
    """(main section number, assignments from every assignment section)."""
    sections = assignment_sections(layout)
    out = [
        _assignment(block, section, layout.raw, matcher, province)
        for section in sections
        for block in section.headings
    ]
    return (sections[0].no if sections else None), out
