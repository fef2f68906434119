"""The outline of an administrative document: a tree of its numbered divisions, any depth.

The tree is built from whatever numbering the text uses (Phần/Chương, Điều, Roman, Arabic,
decimal, letters, bullets: the grammar in :mod:`kgraph.ingest.numbering`), not from an expected
layout. A line opens a division when it starts with a marker of the grammar and its number
fits: it follows on the list of its kind still open (I, II, III; 1, 2; a, b), or starts a new
one. What makes OCR-damaged numerals ("I1.", "111.", "l.", "9,") safe to accept is the same
check that keeps a wrapped "2045. Xây dựng ..." from opening heading 2045. Where a marker sits
in the tree follows the kinds already open (a kind seen before closes everything opened after
it), and for a kind not open yet its usual rank.

Tolerated: Roman numbering that starts at II or prints a numeral twice; a number alone on its
line with its title on the next; a heading that runs on into its first sentence; Markdown
markup (dropped from each line's clean text, the line keeping its offsets into the raw text);
page numbers and rules; site banners before the document and chrome after it; appendices
("Phụ lục") and their tables after the signature. Every node keeps its number, title, text
and character span.

:func:`parse` also gives the older flat view (header, Roman sections, closing) that the
metadata, reference and reporting readers use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from kgraph.ingest.model import Division, Span
from kgraph.ingest.numbering import GRAMMAR, HEADING, KINDS, MarkerKind, roman_value, to_roman
from kgraph.ingest.text import FOLD_TABLE, TEXTS_KEPT, aligned_fold, nfc

__all__ = [
    "Block",
    "Layout",
    "Line",
    "Section",
    "item_count",
    "items_of",
    "parse",
    "roman_value",
    "split_lines",
    "strip_markup",
    "to_roman",
]

_MD_MARKUP = re.compile(r"\*\*|(?<!\w)\*|\*(?!\w)|^\s*\|\s*|\s*\|\s*$|^#+\s+")
_RULE = re.compile(r"^[-_=|*\s]*$")
_PAGE_NUMBER = re.compile(r"^[-–\s]*\d{1,3}[-–\s]*$")
# The end of the body: a "Nơi nhận" line, or a "KT./TM." signature anywhere in a line (its "kt" /
# "tm" first, the word boundary looked behind after it: found by the fast scan for "k" / "t").
_RECIPIENTS_LINE = re.compile(r"\s*(?:noi\s*nh|noinh)")
_SIGNED_FOR = re.compile(
    r"(?:k(?<!\wk)t|t(?<!\wt)m)\s*\.\s*(?:chu tich|uy ban|thu tuong|giam doc|bo truong)"
)
_TERMINAL = re.compile(r"[.;:!?…]\W*$")
# A bullet naming one of a numbered series: "- Phụ lục số 01:", "- Biểu 2:".
_SERIES_ITEM = re.compile(r"^\s*[-+•*]\s*(?P<name>[a-z][a-z ]{1,30}?)\s*(?P<no>[0-9]{1,3})\s*:")
_UNFINISHED = re.compile(
    r"(?:,|\bva|\bvoi|-|/|\bcac|\bcua|\blien hiep|\buy ban|\bhoi dong|\bban|\bso)\W*$"
)


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
    in_table: bool = False  # a cell of a table written one cell per run of lines between "|"

    def span(self, raw: str) -> Span:
        return Span(raw[self.start : self.end], self.start, self.end, self.number)


@dataclass
class Block:
    """A node of the outline: a numbered division, lettered point, bullet or paragraph.

    ``lines`` are the node's own lines (its marker line, title and running text); the
    divisions under it are ``children``. ``kind`` is the category the readers use ("section",
    "heading", "letter", "bullet", "para"); ``marker`` the grammar kind ("roman", "decimal2").
    """

    kind: str
    no: str
    lines: list[Line]
    title_lines: int = 0  # for headings: how many lines form the title
    children: list[Block] = field(default_factory=list)
    marker: str = "para"
    value: int = 0
    label: str = ""  # the number the document means (a Roman numeral printed twice: the next)
    heading_text: str | None = None  # title without its number, when it is not whole lines
    parent: Block | None = field(default=None, repr=False, compare=False)
    # text and title as last made, with the line and title-line counts they were made from:
    # the builder only appends lines and counts title lines up, the readers ask many times
    _made: dict[str, tuple[int, int, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _spans: dict[int, tuple[str, Span]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _child_keys: dict[int, str] | None = field(default=None, init=False, repr=False, compare=False)
    _key: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def text(self) -> str:
        made = self._made.get("text")
        if made is not None and made[0] == len(self.lines):
            return made[2]
        text = nfc(" ".join([line.text for line in self.lines]))
        self._made["text"] = (len(self.lines), 0, text)
        return text

    @property
    def title(self) -> str:
        made = self._made.get("title")
        if made is not None and made[0] == len(self.lines) and made[1] == self.title_lines:
            return made[2]
        title = nfc(" ".join([line.text for line in self.lines[: max(self.title_lines, 1)]]))
        self._made["title"] = (len(self.lines), self.title_lines, title)
        return title

    @property
    def body(self) -> str:
        return nfc(" ".join(line.text for line in self.lines[self.title_lines :]))

    @property
    def name(self) -> str:
        """The title without its number ("Sở Y tế:" for "1. Sở Y tế:")."""
        if self.heading_text is not None:
            return self.heading_text
        title = self.title
        made = self._made.get("name")
        if made is not None and made[0] == len(self.lines) and made[1] == self.title_lines:
            return made[2]
        spec = KINDS.get(self.marker)
        if spec is None or self.kind in {"bullet", "para"}:
            name = title
        else:
            m = spec.pattern.match(marker_key(title))
            name = nfc(title[m.start("rest") :]) if m else title
            damaged = _DAMAGED_ARABIC.match(title) if not m and spec is ARABIC else None
            if damaged:  # "A. Sở Tư pháp" read as heading 4
                name = nfc(title[damaged.end() :])
        self._made["name"] = (len(self.lines), self.title_lines, name)
        return name

    def span(self, raw: str) -> Span:
        made = self._spans.get(len(self.lines))
        if made is not None and made[0] is raw:
            return made[1]
        first, last = self.lines[0], self.lines[-1]
        span = Span(raw[first.start : last.end], first.start, last.end, first.number)
        self._spans[len(self.lines)] = (raw, span)  # a frozen value: shared by its readers
        return span

    def extent(self, raw: str) -> Span:
        """The node with everything under it."""
        last = self
        while last.children:
            last = last.children[-1]
        first, end = self.lines[0], last.lines[-1]
        return Span(raw[first.start : end.end], first.start, end.end, first.number)

    @property
    def path(self) -> str:
        """Numbers from the top of the body down to this node ("IV.1", "1.2.a")."""
        parts = []
        node: Block | None = self
        while node is not None and node.kind != "root":
            if node.kind != "para":
                parts.append(node.label or node.no)
            node = node.parent
        return ".".join(reversed(parts))

    @property
    def key(self) -> str:
        """Unique, stable name of the node in its document ("IV.1.a", "II.3.b2", "PL1").

        Computed once per node (the tree is complete when anything asks: :func:`parse` has
        returned): asked for every task, duty and division, it walked up to the root each
        time (4 ms a plan). Kept by hand: functools.cached_property takes a lock per node."""
        key = self._key
        if key is None:
            own = self._own_key()
            parent = self.parent
            key = own if parent is None or parent.kind == "root" else f"{parent.key}.{own}"
            self._key = key
        return key

    def _own_key(self) -> str:
        parent = self.parent
        if parent is None:
            return _own_keys([self])[id(self)]
        if parent._child_keys is None:  # all siblings at once: one pass, not one each
            parent._child_keys = _own_keys(parent.children)
        return parent._child_keys[id(self)]

    def walk(self) -> Iterator[Block]:
        for child in self.children:
            yield child
            yield from child.walk()


def _own_keys(siblings: list[Block]) -> dict[int, str]:
    """Each sibling's own key (by id): its number, or its kind's prefix and rank, "~2" and on
    for a number its list repeats. A rank counts the siblings before it that meet the same
    test (the same printed appendix; the same kind and marker; the same number and marker)."""
    out: dict[int, str] = {}
    appendices: dict[str, int] = {}
    kinds: dict[tuple[str, str], int] = {}
    numbers: dict[tuple[str, str], int] = {}
    for node in siblings:
        printed = re.search(r"\s([0-9ivxl]{1,4})$", node.no) if node.marker == "appendix" else None
        kind, number = (node.kind, node.marker), (node.label or node.no, node.marker)
        if printed:  # "Phụ lục II", "Phụ lục số 03": PLII, PL03
            own, rank = f"PL{printed.group(1).upper()}", appendices.get(node.no, 0)
            out[id(node)] = own if rank == 0 else f"{own}~{rank + 1}"
        elif node.kind in {"bullet", "para"} or node.marker in {"appendix", "bold", "attached"}:
            prefix = {"bullet": "b", "para": "t"}.get(node.kind, "PL")
            prefix = {"bold": "h", "attached": "KT"}.get(node.marker, prefix)
            out[id(node)] = f"{prefix}{kinds.get(kind, 0) + 1}"
        else:
            rank = numbers.get(number, 0)
            out[id(node)] = number[0] if rank == 0 else f"{number[0]}~{rank + 1}"
        if node.marker == "appendix":
            appendices[node.no] = appendices.get(node.no, 0) + 1
        kinds[kind] = kinds.get(kind, 0) + 1
        numbers[number] = numbers.get(number, 0) + 1
    return out


@dataclass
class Section:
    """A top-level division of the body (a Roman section; "body" when there is none)."""

    no: str
    title: str
    line: Line
    blocks: list[Block] = field(default_factory=list)  # headings, or items when none
    node: Block | None = None

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
    outline: Block | None = None  # the body's tree
    appendices: list[Block] = field(default_factory=list)

    @property
    def last_line(self) -> Line | None:
        """The last content line of the text, wherever it stands."""
        if self.closing:
            return self.closing[-1]
        if self.outline is not None:
            nodes = [self.outline, *self.outline.walk()]
            lines = [line for node in nodes for line in node.lines]
            if lines:
                return max(lines, key=lambda line: line.start)
        return self.header[-1] if self.header else None


@lru_cache(maxsize=TEXTS_KEPT)
def strip_markup(text: str) -> str:
    """Drop Markdown bold/italic markers and table pipes, keep the words (kept per text: a
    plan's lines are cleaned about four times each)."""
    if "*" not in text and "|" not in text and "#" not in text:
        return text.strip()  # every markup pattern needs one of them
    return _MD_MARKUP.sub("", _MD_MARKUP.sub("", text)).strip()


# "Nhiệm vụ và giải pháp chủ yếu 2.1. Tiếp tục rà soát ...": a short heading title running on
# into its first decimal item (crawler text that lost the line break).
_RUN_ON_ITEM = re.compile(r"^([^.;:!?]{3,100}?)\s+(\d{1,2}\.1\.)\s+(?=[A-ZĐÂĂÊÔƠƯ])")


# A Roman section's heading run on after the last sentence of the text before it, the line
# break lost to OCR ("... cho doanh nghiệp. II. MỤC TIÊU, NHIỆM VỤ ..."): a sentence's end, a
# numeral in capitals and its dot, then at least two words in capitals.
_RUN_ON_SECTION = re.compile(r"[.;:!?]\s+([IVX][IVXl1]{0,3}\s*\.\s+)(?=\S+\s+\S)")


def _run_on_section(text: str) -> int:
    """Where a Roman section heading run on into the line starts (offset in text), else -1."""
    for m in _RUN_ON_SECTION.finditer(text):
        if len(_upper_prefix(text[m.end(1) :]).split()) >= 2:
            return m.start(1)
    return -1


def split_lines(raw: str) -> list[Line]:
    """Content lines with offsets; blank lines, rules and page numbers are dropped, a short
    title running on into its first decimal item is cut before the item, and a line running
    on into a Roman section's heading before the heading."""
    out: list[Line] = []
    for line in _physical_lines(raw):
        m = _RUN_ON_ITEM.match(line.text) if ".1." in line.text else None  # what it needs
        at = raw.find(m.group(2), line.start, line.end) if m else -1
        section = _run_on_section(line.text) if ". " in line.text else -1
        if section > 0 and raw[line.start : line.end] == line.text:  # no markup to map
            out += [Line(line.text[:section].rstrip(), line.start, line.start + section,
                         line.number, line.blank_before, line.bold_open, False, line.in_table),
                    Line(line.text[section:], line.start + section, line.end, line.number)]
        elif m and len(m.group(1).split()) <= 12 and not _match(line) and at > line.start:
            head = Line(strip_markup(raw[line.start : at]), line.start, at, line.number,
                        line.blank_before, line.bold_open, False, line.in_table)
            item = Line(strip_markup(raw[at : line.end]), at, line.end, line.number, False,
                        False, line.bold_close)
            out += [head, item]
        else:
            out.append(line)
    return out


def _physical_lines(raw: str) -> list[Line]:
    lines: list[Line] = []
    offset, blank, cell = 0, False, False
    for number, physical in enumerate(raw.splitlines(keepends=True), start=1):
        start, end = offset, offset + len(physical.rstrip("\r\n"))
        offset += len(physical)
        clean = strip_markup(physical)
        if physical.strip() == "|":
            cell, blank = True, True  # the next line opens a table cell
            continue
        if not clean or _RULE.match(clean) or _PAGE_NUMBER.match(clean):
            blank = True
            continue
        stripped = physical.strip().strip("|").strip()
        lines.append(
            Line(
                clean,
                start,
                end,
                number,
                blank,
                stripped.startswith("**"),
                stripped.endswith("**"),
                cell,
            )
        )
        blank = cell = False
    return lines


def _mostly_upper(text: str) -> bool:
    letters = list(filter(str.isalpha, text))  # filter and map: the loops run in C
    return bool(letters) and sum(map(str.isupper, letters)) / len(letters) >= 0.6


def _upper_prefix(text: str) -> str:
    """The capitalised words a heading starts with ("BỐI CẢNH, TÌNH HÌNH CHUNG Năm 2023 ...")."""
    words = text.split()
    n = 0
    while n < len(words) and (not any(c.isalpha() for c in words[n]) or _mostly_upper(words[n])):
        n += 1
    letters = sum(c.isalpha() for w in words[:n] for c in w)
    if n < 2 or letters < 6:
        return ""
    if n < len(words) and words[n].lstrip("(")[:1].isupper() and len(words[n - 1]) > 1:
        return " ".join(words[:n]).rstrip(" ,:")
    return " ".join(words[:n]) if n == len(words) else ""


@dataclass
class _Marker:
    spec: MarkerKind
    no: str
    value: int
    rest: str
    rest_at: int  # offset of the rest in the line's clean text


@lru_cache(maxsize=TEXTS_KEPT)
def marker_key(text: str) -> str:
    """Folded text, one character per input character, digits kept as written ("5.S¢Y tế");
    kept per text (a plan asks ten times for each line's key)."""
    return text.translate(FOLD_TABLE)


def _match(line: Line) -> list[_Marker]:
    """Every reading of the line's start as a marker, in the grammar's order (fresh objects:
    the builder corrects a misread value in place)."""
    return [_Marker(*reading) for reading in _readings(line.text)]


@lru_cache(maxsize=TEXTS_KEPT)
def _readings(text: str) -> tuple[tuple[MarkerKind, str, int, str, int], ...]:
    """The markers a line's text reads as (kept per text: the outline asks up to five times
    for each line, through every pattern of the grammar)."""
    folded = marker_key(text)
    out = []
    for spec in GRAMMAR:
        m = spec.pattern.match(folded)
        if not m:
            continue
        no = m.group("no")
        if spec.name == "letter" and text.lstrip()[:1] in "đĐ":
            no = "đ"
        if spec.name in {"dash", "dot", "plus"}:
            no = text.lstrip()[:1]
        value = spec.value(no)
        if spec.name == "roman" and not value:
            continue
        out.append((spec, no, value, text[m.start("rest") :].strip(), m.start("rest")))
    return tuple(out)


class _Builder:
    """Builds the tree line by line, keeping the divisions still open on a stack."""

    def __init__(self, lines: list[Line], root: Block) -> None:
        self.lines = lines
        self.stack: list[Block] = [root]
        self.in_title = False
        self.prev: Line | None = None
        self._next_roman: list[int] | None = None  # made when a line may have lost its numeral

    def run(self) -> Block:
        for i, line in enumerate(self.lines):
            nxt = self.lines[i + 1] if i + 1 < len(self.lines) else None
            marker = next((m for m in _match(line) if self._accept(m, line, nxt)), None)
            if marker is None:
                marker = self._misread_number(line) or self._lost_numeral(i, line)
            if marker is None and self._unnumbered_heading(line):
                marker = _Marker(HEADING, "", 0, line.text, 0)
            if marker is not None:
                self._open(marker, line, nxt)
            else:
                self._continue(line)
            self.prev = line
        return self.stack[0]

    # -- deciding whether a marker opens a division ---------------------------------------
    def _open_of(self, spec: MarkerKind) -> Block | None:
        for node in reversed(self.stack[1:]):
            if node.marker == spec.name:
                return node
        return None

    def _wrapped(self, line: Line) -> bool:
        """The line goes on with the sentence the previous line left open."""
        prev = self.prev
        return (
            prev is not None
            and not line.blank_before
            and not self.in_title
            and not _TERMINAL.search(prev.text)
            and not (prev.bold_close and line.bold_open)
        )

    def _next_in_list(self, line: Line) -> bool:
        """A bullet naming the next of a numbered series the bullet above named ("- Phụ lục số
        02: ..." under "- Phụ lục số 01: ..."): a list of them, not a sentence wrapped."""
        if self.prev is None:
            return False
        this = _SERIES_ITEM.match(aligned_fold(line.text[:80]))
        above = _SERIES_ITEM.match(aligned_fold(self.prev.text[:80]))
        return bool(this and above and this["name"] == above["name"]
                    and int(this["no"]) == int(above["no"]) + 1)

    def _accept(self, marker: _Marker, line: Line, nxt: Line | None) -> bool:
        spec = marker.spec
        if spec.upper_title and not self._upper_titled(marker, nxt):
            return False
        if spec.category == "bullet":  # a labelled line ("- Cơ quan chủ trì: ...") never wraps
            return (not self._wrapped(line) or bool(_LABEL.match(aligned_fold(marker.rest[:120])))
                    or self._next_in_list(line))
        if not spec.sequenced:
            return True
        sibling = self._open_of(spec)
        if sibling is None:
            if marker.value not in spec.first:
                return False
            return not (spec.category == "letter" and self._wrapped(line))
        last = sibling.value
        if marker.value == last + 1:
            return True
        if spec.name == "roman" and _misread(marker.no, last + 1):
            marker.value = last + 1  # "Vv." for "V.": a letter doubled by the OCR
            return True
        if spec.name == "roman" and marker.value in {last, last + 2}:
            return True  # a numeral printed twice, or one lost to OCR
        if spec.name != "roman" and marker.value in spec.first and not self._wrapped(line):
            return True  # a new list under a parent the text did not number
        return spec.category == "letter" and marker.value == last + 2  # a) b) c) d) e): no đ

    def _misread_number(self, line: Line) -> _Marker | None:
        """A heading whose number the OCR read as a look-alike letter ("A." for "4.", "l." for
        "1.") or whose dot it lost ("3 Sở Y tế"): taken only as the next number of the Arabic
        list still open, on a line that starts a sentence, its title opening with a capital."""
        m = _DAMAGED_ARABIC.match(line.text)
        sibling = self._open_of(ARABIC) if m else None
        if m is None or sibling is None or self._wrapped(line) or line.in_table:
            return None
        if m.group("no").isdigit() and m.group("dot"):
            return None  # a plain number: the grammar has read it already
        value = int(m.group("no").translate(_DIGIT_LOOKALIKES))
        if value != sibling.value + 1:
            return None
        return _Marker(ARABIC, str(value), value, line.text[m.end() :].strip(), m.end())

    def _lost_numeral(self, i: int, line: Line) -> _Marker | None:
        """A Roman section whose numeral the OCR lost: a line in capitals, starting a
        sentence, between section N and a section N + 2 that follows (II, [capitals], IV)."""
        if not line.text[:2].isupper():
            return None  # (most lines: one test)
        sibling = self._open_of(ROMAN)
        if (sibling is None or self.in_title or self._wrapped(line) or line.in_table
                or len(line.text.split()) < 3 or not _mostly_upper(line.text)
                or sum(map(str.isalpha, line.text)) < 12):
            return None
        if self._next_roman is None:
            self._next_roman = _next_roman_values(self.lines)
        if self._next_roman[i] != sibling.value + 2:
            return None
        return _Marker(ROMAN, to_roman(sibling.value + 1), sibling.value + 1, line.text, 0)

    def _unnumbered_heading(self, line: Line) -> bool:
        """A short line wholly in bold (or a "#" heading) that closes no sentence, inside a
        division and not continuing a title: a heading without a number."""
        if len(self.stack) < 2 or not (line.bold_open and line.bold_close) or line.in_table:
            return False
        if self.in_title and self._continues_title(self.stack[-1], line):
            return False
        text = line.text.rstrip(" *")
        words = text.split()
        return 0 < len(words) <= 16 and not re.search(r"[.;,]$", text) and not _match(line)

    def _upper_titled(self, marker: _Marker, nxt: Line | None) -> bool:
        if marker.rest:
            return _mostly_upper(marker.rest) or bool(_upper_prefix(marker.rest))
        return nxt is not None and _mostly_upper(nxt.text) and not _match(nxt)

    # -- placing nodes ----------------------------------------------------------------------
    def _open(self, marker: _Marker, line: Line, nxt: Line | None) -> None:
        spec = marker.spec
        sibling = self._open_of(spec)
        if sibling is not None:
            del self.stack[self.stack.index(sibling) :]
        else:
            while len(self.stack) > 1 and _rank(self.stack[-1]) >= spec.rank:
                self.stack.pop()
        parent = self.stack[-1]
        no = to_roman(marker.value) if spec.name == "roman" else marker.no
        node = Block(
            kind={"division": "section"}.get(spec.category, spec.category),
            no=no,
            lines=[line],
            title_lines=1,
            marker=spec.name,
            value=marker.value,
            parent=parent,
        )
        if spec.name == "roman":
            previous = [c for c in parent.children if c.marker == "roman"]
            last = roman_value(previous[-1].label) if previous else 0
            node.label = to_roman(marker.value if marker.value > last else last + 1)
        if spec.upper_title and marker.rest and not _mostly_upper(marker.rest):
            node.heading_text = _upper_prefix(marker.rest)  # a heading run on into its text
        parent.children.append(node)
        self.stack.append(node)
        heading_like = spec.category in {"division", "heading"}
        self.in_title = heading_like and (not marker.rest or not _TERMINAL.search(line.text))
        if spec.upper_title and marker.rest and not _mostly_upper(marker.rest):
            self.in_title = False

    def _continue(self, line: Line) -> None:
        top = self.stack[-1]
        if top.kind == "root":
            para = Block("para", "", [line], parent=top)
            top.children.append(para)
            self.stack.append(para)
            self.in_title = False
            return
        if self.in_title and self._continues_title(top, line):
            top.title_lines += 1
            if top.heading_text is None and _upper_kind(top):
                self.in_title = _mostly_upper(line.text) and not _TERMINAL.search(line.text)
            else:
                self.in_title = not _TERMINAL.search(line.text)
        else:
            self.in_title = False
        top.lines.append(line)

    def _continues_title(self, top: Block, line: Line) -> bool:
        """A title runs on over hard wraps, and over a blank line between two bold blocks."""
        if _upper_kind(top) and top.heading_text is None:
            return _mostly_upper(line.text) or (len(top.lines) == 1 and not top.name.strip())
        if not line.blank_before:
            return True
        prev = self.prev
        if prev is None:
            return False
        if prev.bold_close and line.bold_open:
            return True
        # a blank line (a page break) inside a name: "... Hội Liên hiệp" / "Phụ nữ Thành phố"
        return bool(_UNFINISHED.search(marker_key(prev.text))) and line.text[:1].isupper()


ARABIC, ROMAN = KINDS["arabic"], KINDS["roman"]
# An Arabic heading number as an OCR may give it back: a digit read as a look-alike capital
# ("A" for 4, "S" for 5, "O" for 0, "B" for 8, "I" or "l" for 1), or its dot lost before the
# title's capital.
_DAMAGED_ARABIC = re.compile(
    r"^\s*(?P<no>[0-9AISOBl]{1,2})(?:\s*(?P<dot>[.,])\s*|\s+)(?=[A-ZĐÂĂÊÔƠƯÁÀẢÃẠÉÈẺẼẸÍÌỈĨỊÓÒỎÕỌÚÙỦŨỤÝ])"
)
_DIGIT_LOOKALIKES = str.maketrans("AISOBl", "415081")


def _next_roman_values(lines: list[Line]) -> list[int]:
    """For each line, the value of the next line after it that reads as a Roman section with
    a title in capitals (0 if none): where a line in capitals may stand for a lost numeral."""
    out = [0] * len(lines)
    following = 0
    for i in range(len(lines) - 1, -1, -1):
        out[i] = following
        for spec, _, value, rest, _ in _readings(lines[i].text):
            if spec is ROMAN and value and (_mostly_upper(rest) or _upper_prefix(rest)):
                following = value
                break
    return out


def _misread(numeral: str, wanted: int) -> bool:
    """A Roman numeral with one letter too many reads as the wanted one ("Vv" -> V)."""
    return any(
        roman_value(numeral[:i] + numeral[i + 1 :]) == wanted for i in range(len(numeral))
    )


def _rank(node: Block) -> int:
    spec = KINDS.get(node.marker)
    return spec.rank if spec else 99  # a paragraph closes before anything


def _upper_kind(node: Block) -> bool:
    spec = KINDS.get(node.marker)
    return bool(spec and spec.upper_title)


def _is_end(line: Line) -> bool:
    """A "Nơi nhận" line or a "KT./TM. CHỦ TỊCH" signature block closes the body."""
    key = marker_key(line.text)
    if "nh" not in key and "." not in key:
        return False  # cheap test first: folding with OCR repair is the costly part
    folded = aligned_fold(line.text)
    return bool(_RECIPIENTS_LINE.match(folded) or _SIGNED_FOR.search(folded))


def _body_start(lines: list[Line]) -> int | None:
    """Index of the first line that opens a top-level division of the body."""
    fallback = None
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        builder = _Builder([], Block("root", "", []))
        for marker in _match(line):
            spec = marker.spec
            if spec.name in {"part", "chapter", "subchapter"} and builder._upper_titled(
                marker, nxt
            ):
                return i
            if spec.name == "roman" and marker.value in spec.first:
                if builder._upper_titled(marker, nxt):
                    return i
            elif (
                fallback is None
                and spec.name in {"article", "arabic"}
                and marker.value in spec.first[:1]
            ):
                fallback = i
    return fallback


_ADDRESSED = re.compile(r"^\W*kinh\s*g\S{1,2}i\b")
_OWN_NUMBER = re.compile(r"^\W*s\S{0,2}\s*(?:hieu)?\s*[:.]\s*\d")


def _text_start(lines: list[Line]) -> int | None:
    """Where an unnumbered body starts (a letter, a short Chỉ thị): after the "Kính gửi" list,
    else after the header's number, date and title lines, at the first full sentence."""
    keys = [marker_key(line.text) for line in lines]
    addressed = next((i for i, k in enumerate(keys) if _ADDRESSED.match(k)), None)
    if addressed is not None:
        i = addressed + 1
        while i < len(lines) and any(m.spec.category == "bullet" for m in _match(lines[i])):
            i += 1
        return i if i < len(lines) else None
    numbered = next((i for i, k in enumerate(keys) if _OWN_NUMBER.match(k)), None)
    if numbered is None:
        return None
    for i in range(numbered + 1, len(lines)):
        text = lines[i].text
        if len(text.split()) >= 8 and not _mostly_upper(text) and "tháng" not in text[:40]:
            return i
    return None


_ATTACHED_TITLES = ("ke hoach", "chuong trinh", "de an", "phuong an", "quy che", "quy dinh")


def _attached_start(lines: list[Line], end: int) -> int | None:
    """The title line of a document issued with this one and printed after its signature
    ("KẾ HOẠCH ..." then "(Ban hành kèm theo Quyết định số ...)")."""
    for i in range(end, min(len(lines), end + 40)):
        text = lines[i].text
        if not _mostly_upper(text) or not marker_key(text).startswith(_ATTACHED_TITLES):
            continue
        if any("kem theo" in marker_key(line.text) for line in lines[i + 1 : i + 7]):
            return i
    return None


def _sections(root: Block) -> list[Section]:
    """The Roman divisions of the body (under a Phần or an Điều too), else the body itself."""
    nodes = [n for n in root.walk() if n.marker == "roman" and not _under(n, {"roman", "appendix"})]
    labels = [n.label or n.no for n in nodes]
    return [
        Section(  # Roman numbering restarting in each Phần: the section is named by its path
            label if labels.count(label) == 1 else node.path,
            node.name,
            node.lines[0],
            node.children,
            node,
        )
        for node, label in zip(nodes, labels, strict=True)
    ]


def _under(node: Block, markers: set[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.marker in markers:
            return True
        parent = parent.parent
    return False


def parse(raw: str) -> Layout:
    """The document's outline, and the flat view: header, top-level sections, closing."""
    lines = split_lines(raw)
    start = _body_start(lines)
    if start is None:
        start = _text_start(lines)
    if start is None:
        return Layout(raw, lines, [], [], False, Block("root", "", [], marker="root"))
    end = next((i for i in range(start, len(lines)) if _is_end(lines[i])), None)
    body = lines[start:end] if end is not None else lines[start:]
    root = _Builder(body, Block("root", "", [], marker="root")).run()
    closing = lines[end:] if end is not None else []
    appendices = [c for c in root.children if c.marker == "appendix"]
    if closing:
        tail = _Builder(closing, Block("root", "", [], marker="root")).run()
        kept = [c for c in tail.children if c.marker == "appendix"]
        if not kept:
            _unlink(tail)  # read for its appendices only: none, nothing holds it (see release)
        appendices += kept
    sections = _sections(root)
    attached = _attached_start(lines, end) if end is not None and not sections else None
    if attached is not None:  # a Quyết định's own Điều, then the plan it issues, unnumbered
        stop = next((i for i in range(attached + 1, len(lines)) if _is_end(lines[i])), None)
        part = lines[attached:stop] if stop is not None else lines[attached:]
        node = Block("section", "", [part[0]], title_lines=1, marker="attached", parent=root)
        node.heading_text = nfc(part[0].text)
        root.children.append(_Builder(part[1:], node).run())
    if not sections:
        first = next((c for c in root.children if c.kind != "para"), None)
        top = [c for c in root.children if c.marker != "appendix"]
        line = first.lines[0] if first else body[0]
        sections = [Section("body", "", line, top, root)]
    return Layout(raw, lines[:start], sections, closing, end is not None, root, appendices)


def release(layout: Layout) -> None:
    """Break the tree's links up (``parent``) once nothing reads the layout again: the tree
    is then freed by reference counting as soon as its last reader lets it go. Left linked,
    each plan's few hundred blocks, lines and their dicts waited for the cyclic collector,
    which a build's worker runs between documents (0.2 ms a plan walking them)."""
    # the trees the layout reaches: the body's, and the closing part's an appendix hangs in
    roots = [layout.outline, *(a.parent for a in layout.appendices), *layout.appendices,
             *(s.node for s in layout.sections)]
    for root in roots:
        if root is not None:
            _unlink(root)


def _unlink(root: Block) -> None:
    for node in [root, *root.walk()]:  # walks the children: the links up are not needed
        node.parent = None


def divisions(layout: Layout) -> list[Division]:
    """The body's outline and the appendices, as model objects."""
    raw = layout.raw

    def convert(node: Block) -> Division:
        return Division(
            key=node.key,
            kind=node.marker,
            number=node.label or node.no,
            title=node.name if node.kind not in {"bullet", "para"} else "",
            text=node.text,
            span=node.span(raw),
            children=[convert(c) for c in node.children],
        )

    top = list(layout.outline.children) if layout.outline is not None else []
    top += [a for a in layout.appendices if not any(a is t for t in top)]  # by identity
    return [convert(node) for node in top]


def items_of(block: Block) -> list[Block]:
    """Items under a heading: lettered points if any, else bullets (labelled lines excluded)."""
    letters = [c for c in block.children if c.kind == "letter"]
    if letters:
        return letters
    return [c for c in block.children if c.kind == "bullet" and not is_labelled(c)]


def leaves(block: Block) -> list[Block]:
    """The items of a heading; sub-headings (2.1, 2.2 ...) stand for their own items."""
    items = items_of(block)
    if items:
        return items
    subs = [c for c in block.children if c.kind == "heading"]
    return [leaf for sub in subs for leaf in (items_of(sub) or [sub])]


def item_count(block: Block) -> int:
    """Items under a heading; running text with no items counts 1 (the gold's convention)."""
    return len(items_of(block)) or 1


# "- Cơ quan chủ trì: Sở Y tế", "- Thời gian thực hiện: năm 2025": a task's metadata, not a task.
_LABEL = re.compile(
    r"^\W*(?:(?:co quan|don vi|cac don vi|cac co quan)\s*(?:chu tri|phoi hop|thuc hien)"
    r"|(?:chu tri|phoi hop)(?=\s*:)|thoi (?:gian|han)|san pham|ket qua|noi dung(?=\s*:)"
    r"|nhiem vu(?=\s*:)|kinh phi(?=\s*:)|nguon kinh phi)[^:]{0,40}:"
)


def is_labelled(block: Block) -> bool:
    """A bullet that only states a task's lead, partners, deadline or product."""
    return bool(_LABEL.match(aligned_fold(block.lines[0].text[:120])))
