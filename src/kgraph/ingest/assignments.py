"""Assignments: who is given what, found by what the entries say, wherever they stand.

A list of entries is an assignment list when its container says so ("TỔ CHỨC THỰC HIỆN",
"PHÂN CÔNG NHIỆM VỤ", "Trách nhiệm ...", the body of a Công văn / Chỉ thị / Thông báo, which
is its list of instructions) or when its entries open with bodies ("2.1 Sở Y tế", "Giao Sở
...", "Đề nghị ...", "Giám đốc các Sở ...") at any level of the outline. An entry of a titled
list that names no body but holds such a list is a container: its entries are the
assignments, keyed by the container's place in the outline ("IV.1", "1").

Each entry names its addressees before the first role word or colon (segmentation in
:mod:`kgraph.ingest.bodies`); its lettered points or bullets (labelled lines such as "Cơ quan
chủ trì: ..." excepted) are its duties, and every assignment and duty keeps the key of the
outline node it came from.
"""

from __future__ import annotations

import re

from kgraph.ingest.bodies import (
    is_request,
    kind_of,
    looks_named,
    names_part,
    opens_with_body,
    split_agencies,
)
from kgraph.ingest.model import AgencyMention, Assignment, Duty
from kgraph.ingest.outline import Block, Layout, Section, leaves
from kgraph.ingest.text import aligned_fold, nfc
from kgraph.reference.matching import Matcher

__all__ = ["_names_part", "assignment_lists", "extract_assignments", "split_agencies"]

# "Tổ chức thực hiện", also as an OCR gives it back: "thực" misread, or lost ("TO CHUC HIEN");
# "tổ chức hiện nay" (organisations of today) is no such title.
_ORGANISE = r"to chuc (?:th[a-z']{1,4}\s*)?hien(?! nay)"
_ASSIGN_TITLE = re.compile(_ORGANISE + r"|phan cong|trach nhiem")
# A division inside the body that is about implementation, by its title's first words.
_ASSIGN_HEADING = re.compile(
    r"^\W*(?:" + _ORGANISE + r"|phan cong|trach nhiem (?:thuc hien|cua cac))"
)
# Genres whose body is itself the list of instructions, numbered or not.
DIRECTIVE_GENRES = {"Công văn", "Chỉ thị", "Thông báo", "Công điện"}
_LEAD = re.compile(r"chu\s*tr[a-z]\b")
_COORD = re.compile(
    r"ph[a-z]{1,3}\s*h[a-z]{1,2}p\s+(?:v[a-z]{1,2}\s+)?(.{3,200}?)(?=[.;:(]|\s(?:t[oô] chuc|trien"
    r"|thuc|xay|tham|de)\s|$)"
)
_SENTENCE_END = re.compile(r"[.;]\W*$")


def _names_part(title: str) -> str:
    """Kept for callers of the former module: the names part of a sentence heading."""
    return names_part(title)


def _entries(children: list[Block]) -> list[Block]:
    """The entries of a list: its numbered headings, else its lettered points."""
    headings = [c for c in children if c.kind == "heading"]
    return headings or [c for c in children if c.kind == "letter"]


def _is_label(block: Block) -> bool:
    """A heading that is a name only: no sentence end, short or closed by a colon, its duties
    on other lines ("1. Sở Công Thương:", "3. Sở Tư pháp các tỉnh, thành phố ...")."""
    title = block.title.rstrip(" *")
    if _SENTENCE_END.search(title):
        return False
    short = title.endswith(":") or len(title.split()) <= 14
    return short and (bool(block.children) or len(block.lines) > block.title_lines)


def _body_headed(entries: list[Block]) -> bool:
    """Most entries of a list open with a body."""
    if len(entries) < 2:
        return False
    named = sum(opens_with_body(e.title) for e in entries)
    return named >= 2 and named * 2 >= len(entries)


def _titled(section: Section, genre: str | None) -> bool:
    if section.no == "body":
        return genre in DIRECTIVE_GENRES
    return bool(_ASSIGN_TITLE.search(aligned_fold(section.title)))


def assignment_lists(layout: Layout, genre: str | None = None) -> list[tuple[str, list[Block]]]:
    """(key of the container, its entries) for every assignment list of the outline."""
    out: list[tuple[str, list[Block]]] = []
    for section in layout.sections:
        if _titled(section, genre):
            entries = []
            for block in section.headings:
                inner = _entries(block.children)
                if _body_headed(inner) and (
                    not opens_with_body(block.title) or all(opens_with_body(e.title) for e in inner)
                ):  # agency by agency under a sub-heading: the sub-heading holds the list
                    out.append((block.path, inner))
                else:
                    entries.append(block)
            out.append((section.no, entries))
            continue
        nodes = [section.node] if section.node is not None else []
        nodes += list(section.node.walk()) if section.node is not None else []
        for node in nodes:
            inner = _entries(node.children)
            titled = node is not section.node and bool(
                _ASSIGN_HEADING.match(aligned_fold(node.name))
            )
            if inner and (titled or _body_headed(inner)):  # "Điều 2. Tổ chức thực hiện"
                out.append((node.path or section.no, inner))
    return out


def _duty(
    block: Block, raw: str, addressees: list[AgencyMention], matcher: Matcher, province: str | None
) -> Duty:
    folded = aligned_fold(block.text)
    duty = Duty(no=block.no or "1", text=block.text, span=block.span(raw), division=block.key)
    if _LEAD.search(folded):
        duty.lead = list(addressees)
    m = _COORD.search(folded)
    if m:
        names = block.text[m.start(1) : m.end(1)]
        duty.coordinators = [c for c in split_agencies(names, matcher, province) if c.resolved]
    return duty


def _assignment(
    block: Block, key: str, raw: str, matcher: Matcher, province: str | None
) -> Assignment:
    title = block.title
    names = names_part(title, label=_is_label(block))
    mentions = split_agencies(names, matcher, province) if looks_named(names) else []
    items = leaves(block) or [block]
    whole = aligned_fold(" ".join([block.text] + [c.text for c in block.children]))
    return Assignment(
        no=block.no,
        heading=nfc(title),
        span=block.span(raw),
        addressees=mentions,
        requested=is_request(title),
        kind=kind_of(mentions),
        duties=[_duty(item, raw, mentions, matcher, province) for item in items],
        has_lead_clause=bool(_LEAD.search(whole)),
        section=key,
        division=block.key,
    )


def extract_assignments(
    layout: Layout, matcher: Matcher, province: str | None, genre: str | None = None
) -> tuple[str | None, list[Assignment]]:
    """(main list's key, assignments from every assignment list)."""
    lists = assignment_lists(layout, genre)
    out = [
        _assignment(block, key, layout.raw, matcher, province)
        for key, entries in lists
        for block in entries
    ]
    main = max(lists, key=lambda item: len(item[1]))[0] if lists else None
    return main, out
