"""Document layout (Nghị định 30/2020/NĐ-CP): header, preamble, Roman sections, headings, items.

Works on clean and OCR-damaged text and on Markdown conversions alike: Markdown markup is
dropped from each line's *clean* text while the line keeps its offsets into the raw text;
page-number lines and rules are skipped; hard-wrapped lines are joined into the block they
continue. Section and heading numbers must follow in sequence (I, II, III ... and 1, 2, 3 ...),
which is what makes OCR-damaged numerals ("I1.", "111.", "9,") safe to accept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kgraph.ingest.model import Span
from kgraph.ingest.text import aligned_fold, nfc

_MD_MARKUP = re.compile(r"\*\*|(?<!\w)\*|\*(?!\w)|^\s*\|\s*|\s*\|\s*$|^#+\s+")
_RULE = re.compile(r"^[-_=|*\s]*$")
_PAGE_NUMBER = re.compile(r"^[-–\s]*\d{1,3}[-–\s]*$")
_ROMAN = re.compile(r"^\s*([IVXLl1]{1,5})\s*[.,]\s*(\S.*)$")
_NUMBERED = re.compile(r"^\s*(\d{1,2})\s*[.,]\s*(.*)$")
_LETTER = re.compile(r"^\s*([a-zđ])\s*\)\s*(\S.*)$")
_BULLET = re.compile(r"^\s*[-+•–—]\s*(?=\S)(?!-)(.*)$")
_END_OF_BODY = re.compile(
    r"^\s*(noi\s*nh|noinh)|\b(kt|tm)\s*\.\s*(chu tich|uy ban|thu tuong|giam doc)"
)
_TERMINAL = re.compile(r"[.;:!?…]\W*$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50}


@dataclass
class Line:
    """One physical line: clean text (markup dropped) and where its raw text stands."""

    text: str
    start: int
    end: int
    number: int
    blank_before: bool = False
    bold_open: bool = False  # Markdown: the raw line starts inside **bold**
    bold_close: bool = False  # ... and ends closing it

    def span(self, raw: str) -> Span:
        return Span(raw[self.start : self.end], self.start, self.end, self.number)


@dataclass
class Block:
    """A numbered heading, lettered item, bullet or paragraph with the lines it covers."""

    kind: str  # "heading" | "letter" | "bullet" | "para"
    no: str
    lines: list[Line]
    title_lines: int = 0  # for headings: how many lines form the title
    children: list[Block] = field(default_factory=list)

    @property
    def text(self) -> str:
        return nfc(" ".join(line.text for line in self.lines))

    @property
    def title(self) -> str:
        return nfc(" ".join(line.text for line in self.lines[: max(self.title_lines, 1)]))

    @property
    def body(self) -> str:
        return nfc(" ".join(line.text for line in self.lines[self.title_lines :]))

    def span(self, raw: str) -> Span:
        first, last = self.lines[0], self.lines[-1]
        return Span(raw[first.start : last.end], first.start, last.end, first.number)


@dataclass
class Section:
    """A Roman-numbered section of the body."""

    no: str
    title: str
    line: Line
    blocks: list[Block] = field(default_factory=list)  # headings, or items when none

    @property
    def headings(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "heading"]


@dataclass
class Layout:
    raw: str
    header: list[Line]
    sections: list[Section]
    closing: list[Line]
    ended: bool  # a signature / "Nơi nhận" block closes the body


def strip_markup(text: str) -> str:
    """Drop Markdown bold/italic markers and table pipes, keep the words."""
    return _MD_MARKUP.sub("", _MD_MARKUP.sub("", text)).strip()


def split_lines(raw: str) -> list[Line]:
    """Content lines with offsets; blank lines, rules and page numbers are dropped."""
    lines: list[Line] = []
    offset, blank = 0, False
    for number, physical in enumerate(raw.splitlines(keepends=True), start=1):
        start, end = offset, offset + len(physical.rstrip("\r\n"))
        offset += len(physical)
        clean = strip_markup(physical)
        if not clean or _RULE.match(clean) or _PAGE_NUMBER.match(clean):
            blank = True
            continue
        stripped = physical.strip().strip("|").strip()
        lines.append(
            Line(
                clean, start, end, number, blank, stripped.startswith("**"), stripped.endswith("**")
            )
        )
        blank = False
    return lines


def roman_value(numeral: str) -> int:
    """Value of a Roman numeral, OCR digits 1/l read as I ("I1" -> 2, "1V" -> 4)."""
    letters = numeral.upper().replace("1", "I").replace("L", "I")
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


def _mostly_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) >= 0.6


def _roman_heading(line: Line, expected: int) -> str | None:
    m = _ROMAN.match(line.text)
    if not m or roman_value(m.group(1)) != expected or not _mostly_upper(m.group(2)):
        return None
    return to_roman(expected)


def _is_end(line: Line) -> bool:
    return bool(_END_OF_BODY.search(aligned_fold(line.text)))


def parse(raw: str) -> Layout:
    """Split a plan into header, Roman sections and closing lines."""
    lines = split_lines(raw)
    header: list[Line] = []
    sections: list[Section] = []
    closing: list[Line] = []
    ended = False
    for line in lines:
        if ended:
            closing.append(line)
            continue
        if sections and _is_end(line):
            ended = True
            closing.append(line)
            continue
        roman = _roman_heading(line, len(sections) + 1)
        if roman:
            sections.append(Section(roman, _ROMAN.match(line.text).group(2), line))
        elif sections:
            sections[-1].blocks.append(Block("para", "", [line]))  # grouped below
        else:
            header.append(line)
    for section in sections:
        _extend_section_title(section)
        section.blocks = _structure(section.blocks)
    return Layout(raw, header, sections, closing, ended)


def _extend_section_title(section: Section) -> None:
    """A section title split over two lines ("I. MỤC ĐÍCH," / "YÊU CẦU") is one title."""
    while section.blocks and not section.blocks[0].lines[0].blank_before:
        nxt = section.blocks[0].lines[0]
        if not _mostly_upper(nxt.text) or _NUMBERED.match(nxt.text):
            break
        section.title = f"{section.title} {nxt.text}"
        section.blocks.pop(0)


def _classify(line: Line, prev: Line | None, prev_is_title: bool, expected_no: int) -> tuple:
    """What a line starts: ("heading", no) / ("letter", x) / ("bullet", "-") / None."""
    m = _NUMBERED.match(line.text)
    if m and int(m.group(1)) == expected_no and m.group(2)[:1] not in {"%", "/"}:
        return ("heading", m.group(1))
    m = _LETTER.match(line.text)
    if m:
        return ("letter", m.group(1))
    m = _BULLET.match(line.text)
    if m:
        continues = (
            prev is not None
            and not line.blank_before
            and not prev_is_title
            and not _TERMINAL.search(prev.text)
        )
        return None if continues else ("bullet", line.text.lstrip()[0])
    return None


def _continues_title(line: Line, prev: Line | None) -> bool:
    """A title runs on over hard wraps, and over a blank line between two bold blocks."""
    if not line.blank_before:
        return True
    return prev is not None and prev.bold_close and line.bold_open


def _structure(flat: list[Block]) -> list[Block]:
    """Group a section's lines into numbered headings with their lettered/bulleted items."""
    lines = [b.lines[0] for b in flat]
    out: list[Block] = []
    heading: Block | None = None
    current: Block | None = None
    in_title = False
    prev: Line | None = None
    for line in lines:
        expected = len([b for b in out if b.kind == "heading"]) + 1
        kind = _classify(line, prev, in_title, expected)
        if kind and kind[0] == "heading":
            heading = Block("heading", kind[1], [line], title_lines=1)
            out.append(heading)
            current, in_title = heading, not _TERMINAL.search(line.text)
        elif kind:
            current = Block(kind[0], kind[1], [line])
            (heading.children if heading else out).append(current)
            in_title = False
        else:
            if in_title and heading is not None and _continues_title(line, prev):
                heading.title_lines += 1
                in_title = not _TERMINAL.search(line.text)
            else:
                in_title = False
            if current is None:
                current = Block("para", "", [line])
                out.append(current)
            else:
                current.lines.append(line)
        prev = line
    return out


def items_of(block: Block) -> list[Block]:
    """Top-level items under a heading: lettered items if any, else bullets."""
    letters = [c for c in block.children if c.kind == "letter"]
    if letters:
        return letters
    return [c for c in block.children if c.kind == "bullet"]


def item_count(block: Block) -> int:
    """Items under a heading; running text with no items counts 1 (the gold's convention)."""
    return len(items_of(block)) or 1
