"""Word (.docx) through python-docx: paragraphs and tables in body order, the page header,
and Word's automatic list numbers written out as text ("1.", "a)", "II.").

Plans number their sections and items with Word lists more often than by typing the numbers;
the extractor finds structure in those numbers, so they must come out as the reader sees them.
Tables are written cell by cell between "|" lines, the shape the portal text exports have.

A .docx carries no layout, so pages are known only where the file marks them (page breaks,
or the breaks Word recorded when it last laid the document out); otherwise no page is claimed.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from kgraph.errors import SourceError
from kgraph.ingest.readers.base import PageAssembler, SourceText

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
_BULLETS = "-+–•·*o▪■□◦"


def _roman(n: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out += letters * count
    return out


def _letters(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    """A list counter as Word shows it in the given numFmt."""
    return {
        "decimal": str(n), "decimalZero": f"{n:02d}",
        "lowerLetter": _letters(n), "upperLetter": _letters(n).upper(),
        "lowerRoman": _roman(n), "upperRoman": _roman(n).upper(), "none": "",
    }.get(fmt, str(n))


def _val(element, tag: str) -> str | None:
    child = element.find(W + tag) if element is not None else None
    return child.get(W + "val") if child is not None else None


@dataclass
class Numbering:
    """Counters of Word's automatic lists (numbering.xml), advanced paragraph by paragraph."""

    levels: dict[str, dict[int, tuple[int, str, str]]]  # numId -> ilvl -> (start, fmt, text)
    counters: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, document) -> Numbering:  # document: docx.Document
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return cls({})
        abstract = {}
        for node in root.findall(W + "abstractNum"):
            abstract[node.get(W + "abstractNumId")] = {
                int(lvl.get(W + "ilvl")): (int(_val(lvl, "start") or 1),
                                           _val(lvl, "numFmt") or "decimal",
                                           _val(lvl, "lvlText") or "")
                for lvl in node.findall(W + "lvl")
            }
        levels = {}
        for num in root.findall(W + "num"):
            lvls = dict(abstract.get(_val(num, "abstractNumId"), {}))
            for override in num.findall(W + "lvlOverride"):
                ilvl, start = int(override.get(W + "ilvl")), _val(override, "startOverride")
                if start is not None and ilvl in lvls:
                    lvls[ilvl] = (int(start), *lvls[ilvl][1:])
            levels[num.get(W + "numId")] = lvls
        return cls(levels)

    def label(self, num_id: str, ilvl: int) -> str:
        """The number Word shows before the next paragraph of list ``num_id`` at ``ilvl``."""
        lvls = self.levels.get(num_id)
        if not lvls or ilvl not in lvls or num_id == "0":
            return ""
        counters = self.counters.setdefault(num_id, [0] * 9)
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = 0
        for upper in range(ilvl + 1):  # an item at a level opens its parents once
            if counters[upper] == 0:
                counters[upper] = lvls.get(upper, (1, "", ""))[0] - (upper == ilvl)
        counters[ilvl] += 1
        _, fmt, text = lvls[ilvl]
        if fmt == "bullet":
            return text if text and text[0] in _BULLETS else "-"
        for level in range(9):
            if f"%{level + 1}" in text:
                value = format_number(counters[level], lvls.get(level, (1, "decimal", ""))[1])
                text = text.replace(f"%{level + 1}", value)
        return text


def _numbering_of(paragraph) -> tuple[str, int] | None:
    """(numId, ilvl) of a paragraph: its own numPr, else the one its style chain gives."""
    ppr = paragraph._p.pPr
    numpr = ppr.numPr if ppr is not None else None
    if numpr is not None and numpr.numId is not None:
        return str(numpr.numId.val), int(numpr.ilvl.val) if numpr.ilvl is not None else 0
    style = paragraph.style
    while style is not None:
        spr = style.element.pPr
        if spr is not None and spr.numPr is not None and spr.numPr.numId is not None:
            ilvl = spr.numPr.ilvl.val if spr.numPr.ilvl is not None else 0
            return str(spr.numPr.numId.val), int(ilvl)
        style = style.base_style
    return None


class _Writer:
    """Collects lines and the page breaks met between them."""

    def __init__(self, rendered_breaks: bool) -> None:
        self.rendered_breaks = rendered_breaks  # Word's own layout marks: trust only those
        self.pages: list[list[str]] = [[]]
        self.current = ""

    def run_text(self, paragraph_element) -> None:
        for node in paragraph_element.iter():
            tag = node.tag
            if tag == W + "t":
                self.current += node.text or ""
            elif tag == W + "tab":
                self.current += "\t"
            elif tag in (W + "br", W + "cr"):
                if node.get(W + "type") == "page":
                    if not self.rendered_breaks:
                        self.new_page()
                elif node.get(W + "type") != "column":
                    self.end_line()
            elif tag == W + "lastRenderedPageBreak" and self.rendered_breaks:
                self.new_page()

    def end_line(self) -> None:
        self.pages[-1].append(self.current)
        self.current = ""

    def new_page(self) -> None:
        if self.current:
            self.end_line()
        self.pages.append([])


def read(path: Path, data: bytes, *, format: str = "docx", media_type: str = MEDIA_TYPE
         ) -> SourceText:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SourceError(path, f"corrupt Word file ({exc})") from None
    body = document.element.body
    xml = body.xml
    rendered = "lastRenderedPageBreak" in xml
    explicit = 'w:type="page"' in xml or "pageBreakBefore" in xml
    numbering = Numbering.of(document)
    out = _Writer(rendered)

    def paragraph(p: Paragraph) -> None:
        ppr = p._p.pPr
        if not rendered and ppr is not None and ppr.pageBreakBefore is not None \
                and (out.pages[-1] or out.current):
            out.new_page()
        numbered = _numbering_of(p)
        label = numbering.label(*numbered) if numbered else ""
        out.current = f"{label} " if label else ""
        out.run_text(p._p)
        out.end_line()

    def table(t: Table) -> None:
        for row in t.rows:
            seen = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell repeats itself
                    continue
                seen.add(id(cell._tc))
                out.pages[-1].append("|")
                for child in cell.iter_inner_content():
                    (paragraph if isinstance(child, Paragraph) else table)(child)
            out.pages[-1].append("|")

    header = _header_lines(document)
    for child in document.iter_inner_content():
        (paragraph if isinstance(child, Paragraph) else table)(child)
    if out.current:
        out.end_line()
    assembler = PageAssembler()
    for number, lines in enumerate(out.pages, start=1):
        if number == 1:
            lines = header + lines
        assembler.add(number, "\n".join(lines))
    text = assembler.text()
    if not text.strip():
        raise SourceError(path, "Word file without text")
    pages = tuple(assembler.pages) if (rendered or explicit) and len(out.pages) > 1 else ()
    return SourceText(path, text, format, media_type, data, pages)


def _header_lines(document) -> list[str]:
    """The first section's page header, when it says more than a page number."""
    if not document.sections:
        return []
    header = document.sections[0].header
    if header.is_linked_to_previous:
        return []
    lines = [p.text.strip() for p in header.paragraphs if p.text.strip()]
    return [line for line in lines if not line.isdigit()]


def is_word_zip(data: bytes) -> bool | None:
    """True for a ZIP holding a Word body (word/document.xml), False for some other ZIP
    archive (renamed .docx), None when the bytes are no readable ZIP at all."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return None
