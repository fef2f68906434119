"""The grammar of numbering in Vietnamese administrative documents, kept as data.

Nghị định 30/2020/NĐ-CP (Phụ lục I) lets a document divide its body into Phần, Chương, Mục,
Điều, Roman sections, Arabic and decimal headings, lettered points and bulleted indents. Each
:class:`MarkerKind` below says how one kind of division marker is written (a pattern on the
line's markup-free text), how its printed number becomes a value (so that sequences can be
checked) and how deep it usually sits (``rank``: lower is outer). The outline engine
(:mod:`kgraph.ingest.outline`) reads only this table: a new kind of numbering is a new row.

Patterns work on the folded text of a line (no diacritics, lower case, OCR look-alikes
repaired, one character per input character), so "Điều", "DIEU" and "Diéu" are one word.
Every pattern has a group ``no`` (the printed number) and a group ``rest`` (what follows it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Vietnamese letters as used for points: a) b) c) d) đ) e) g) h) i) k) ... (no f, j, w, z).
LETTERS = "abcdđeghiklmnopqrstuvxy"
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50}


def roman_value(numeral: str) -> int:
    """Value of a Roman numeral, OCR digits 1/l read as I ("I1" -> 2, "1V" -> 4)."""
    letters = numeral.lower().replace("1", "i").replace("l", "i")
    total = 0
    for i, ch in enumerate(letters):
        value = _ROMAN_VALUES.get(ch, 0)
        nxt = _ROMAN_VALUES.get(letters[i + 1], 0) if i + 1 < len(letters) else 0
        total += -value if value < nxt else value
    return total


def to_roman(value: int) -> str:
    parts = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for size, sym in parts:
        while value >= size:
            out, value = out + sym, value - size
    return out


def _arabic(no: str) -> int:
    return int(no)


def _letter(no: str) -> int:
    return LETTERS.index(no) + 1 if no in LETTERS else 0


def _decimal_last(no: str) -> int:
    return int(no.rstrip(".").split(".")[-1])


def _none(no: str) -> int:
    return 0


# "Phần thứ nhất", "Phần thứ hai" ... (folded)
_ORDINALS = {
    "nhat": 1, "hai": 2, "ba": 3, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9
}


def _word_number(no: str) -> int:
    """"3", "III" or "thứ ba" (folded: "thu ba") as a number."""
    no = no.strip()
    if no.isdigit():
        return int(no)
    if no.startswith("thu "):
        return _ORDINALS.get(no[4:], 0)
    return roman_value(no)


@dataclass(frozen=True)
class MarkerKind:
    """One way of numbering a division of the text."""

    name: str
    category: str  # "division" (Phần, Điều, Roman, Phụ lục) | "heading" | "letter" | "bullet"
    rank: int  # usual depth; a marker of lower rank closes every open division of higher rank
    pattern: re.Pattern[str]
    value: Callable[[str], int]
    first: tuple[int, ...] = (1,)  # values a new list may start with
    sequenced: bool = True  # numbers must follow on (what makes OCR-damaged numerals safe)
    upper_title: bool = False  # the title is written in capitals (Roman sections)


# Order matters: the first kind whose pattern matches a line wins.
GRAMMAR: tuple[MarkerKind, ...] = (
    MarkerKind(
        "appendix",
        "division",
        0,
        re.compile(
            r"^\s*(?P<no>phu luc(?:\s+(?:so\s+)?[0-9ivxl]{1,4}\b)?)\s*[.:]?\s*(?P<rest>.*)$"
        ),
        _none,
        first=(0,),
        sequenced=False,
        upper_title=True,
    ),
    MarkerKind(
        "part",
        "division",
        1,
        re.compile(r"^\s*phan\s+(?P<no>thu\s+\w+|[0-9]{1,2}|[ivxl]{1,5})\b\s*[.:]?\s*(?P<rest>.*)$"),
        _word_number,
        sequenced=False,
        upper_title=True,
    ),
    MarkerKind(
        "chapter",
        "division",
        2,
        re.compile(r"^\s*chuong\s+(?P<no>[0-9]{1,2}|[ivxl]{1,5})\b\s*[.:]?\s*(?P<rest>.*)$"),
        _word_number,
        sequenced=False,
        upper_title=True,
    ),
    MarkerKind(
        "subchapter",
        "division",
        3,
        re.compile(r"^\s*muc\s+(?P<no>[0-9]{1,2}|[ivxl]{1,5})\b\s*[.:]?\s*(?P<rest>.*)$"),
        _word_number,
        sequenced=False,
        upper_title=True,
    ),
    MarkerKind(
        "article",
        "division",
        4,
        re.compile(r"^\s*dieu\s+(?P<no>[0-9]{1,3})\s*[.:]\s*(?P<rest>.*)$"),
        _arabic,
        first=(1, 2, 3),
    ),
    MarkerKind(
        "roman",
        "division",
        5,
        # the dot may be lost to OCR ("III TỔ CHỨC ..."): the numeral then stands alone before
        # its title's capitals, which the outline checks (upper_title), and starts with a letter
        re.compile(r"^\s*(?P<no>[ivxl1]{1,5}(?=\s*[.,])|[ivxl][ivxl1]{0,4}(?=\s+[a-z]))\s*[.,]?\s*"
                   r"(?P<rest>.*)$"),
        roman_value,
        first=(1, 2, 3),
        upper_title=True,
    ),
    MarkerKind(
        "decimal3",
        "heading",
        8,
        re.compile(r"^\s*(?P<no>[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2})\.?(?:\s+|$)(?P<rest>.*)$"),
        _decimal_last,
    ),
    MarkerKind(
        "decimal2",
        "heading",
        7,
        re.compile(r"^\s*(?P<no>[0-9]{1,2}\.[0-9]{1,2})\.?(?:\s+|$)(?P<rest>.*)$"),
        _decimal_last,
    ),
    MarkerKind(
        "arabic",
        "heading",
        6,
        re.compile(r"^\s*(?P<no>[0-9]{1,2})\s*[.,]\s*(?P<rest>(?![%/]).*)$"),
        _arabic,
    ),
    MarkerKind(
        "letter",
        "letter",
        9,
        re.compile(r"^\s*(?P<no>[a-zđ])\s*\)\s*(?P<rest>\S.*)$"),
        _letter,
    ),
    MarkerKind(
        "dash",
        "bullet",
        10,
        re.compile(r"^\s*(?P<no>[-–—])\s*(?P<rest>(?!-)\S.*)$"),
        _none,
        sequenced=False,
    ),
    MarkerKind(
        "dot",
        "bullet",
        10,
        re.compile(r"^\s*(?P<no>[•·▪●*])\s*(?P<rest>\S.*)$"),
        _none,
        sequenced=False,
    ),
    MarkerKind(
        "plus",
        "bullet",
        11,
        re.compile(r"^\s*(?P<no>\+)\s*(?P<rest>\S.*)$"),
        _none,
        sequenced=False,
    ),
)
# An unnumbered heading: a whole line in bold ("**Sở Y tế:**") or a Markdown "#" heading. It
# has no pattern of its own (the outline engine tells it from the line's markup) and sits where
# an Arabic heading would.
HEADING = MarkerKind("bold", "heading", 6, re.compile(r"(?!)"), _none, sequenced=False)

KINDS = {kind.name: kind for kind in (*GRAMMAR, HEADING)}
