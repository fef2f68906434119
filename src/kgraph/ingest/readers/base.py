"""What every reader returns: NFC text plus where each character stood in the original.

A reader turns one file (a PDF, a Word file, page images, saved HTML, plain text) into a
:class:`SourceText`. Extraction works on ``text`` only; the page map lets the graph say on
which page of the signed original a statement stands, and, for scans, how sure the OCR was
of the lines it stands on.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

# Mean word confidence (tesseract, 0-100) below which an OCR page is flagged for review.
LOW_OCR_CONFIDENCE = 80.0


@dataclass(frozen=True)
class Page:
    """One page of the original and the characters of ``SourceText.text`` it holds.

    ``number`` is the page as the original counts it (a scan of pages 1, 2 and 9 keeps 9);
    ``index`` is its 1-based position in the file served back to a browser (``#page=index``).
    ``confidence`` is tesseract's mean word confidence (0-100) when the page was read by OCR.
    """

    number: int
    start: int
    end: int
    index: int
    confidence: float | None = None
    line_confidences: tuple[float, ...] = ()  # OCR: one per line of the page's text

    @property
    def ocr(self) -> bool:
        return self.confidence is not None

    @property
    def needs_review(self) -> bool:
        """Read by OCR with low confidence (a blank page, with nothing read, is not)."""
        return (self.confidence is not None and self.confidence < LOW_OCR_CONFIDENCE
                and self.end > self.start)


@dataclass(frozen=True)
class Location:
    """Where a character offset stands: page of the original and line on that page (1-based)."""

    page: Page
    line: int


@dataclass
class SourceText:
    """A file as text: NFC ``text``, its pages, and the original bytes for serving it back.

    ``pages`` is empty when the format has no pages (plain text, HTML, a Word file without
    page breaks): then no page is claimed rather than a wrong one.
    """

    path: Path
    text: str
    format: str  # text | pdf | docx | doc | image | html
    media_type: str  # of the original file, for serving it back
    original: bytes
    pages: tuple[Page, ...] = ()
    warnings: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.original).hexdigest()

    @property
    def ocr(self) -> bool:
        return any(p.ocr for p in self.pages)

    def page_at(self, offset: int) -> Page | None:
        """The page holding character ``offset`` (None when the format has no pages)."""
        if not self.pages:
            return None
        starts = [p.start for p in self.pages]
        return self.pages[max(0, bisect.bisect_right(starts, offset) - 1)]

    def confidence_of(self, start: int, end: int) -> float | None:
        """OCR confidence of the lines a span covers on its first page (None without OCR)."""
        page = self.page_at(start)
        if page is None or page.confidence is None:
            return None
        if not page.line_confidences:
            return page.confidence
        first = self.text.count("\n", page.start, max(page.start, start)) + 1
        last = self.text.count("\n", page.start, max(page.start, min(end, page.end))) + 1
        values = page.line_confidences[first - 1 : last]
        return round(sum(values) / len(values), 1) if values else page.confidence

    def locate(self, offset: int) -> Location | None:
        page = self.page_at(offset)
        if page is None:
            return None
        return Location(page, self.text.count("\n", page.start, max(page.start, offset)) + 1)


@dataclass(frozen=True)
class LaidOutLine:
    """A line as a page lays it out: its text, where its first character starts and where its
    last one ends (x)."""

    text: str
    right: float
    left: float = 0.0
    key: object = None  # the reader's own handle on the line (OCR: block, paragraph, line)


def without_page_number(lines: list[LaidOutLine], number: int) -> list[LaidOutLine]:
    """A page's lines without its printed page number ("2", "- 2 -", "Trang 2") at the top or
    bottom: layout, not text, and it would cut a paragraph running on from the page before."""
    printed = re.compile(rf"^\W*(?:trang\s*)?{number}\W*$", re.IGNORECASE)
    kept = [line for line in lines if line.text.strip()]
    if kept and printed.match(kept[0].text.strip()):
        kept = kept[1:]
    if kept and printed.match(kept[-1].text.strip()):
        kept = kept[:-1]
    return kept


def reflow_groups(lines: list[LaidOutLine], tolerance: float) -> tuple[list[list[int]], bool]:
    """Undo the wrapping of justified text: a line that reaches the right margin goes on in the
    next line, unless that line is indented (administrative documents indent the first line of
    every paragraph and item, Nghị định 30/2020/NĐ-CP). Returns the groups of input lines that
    make each output line, and whether the last one reaches the margin (so the paragraph runs
    on to the next page)."""
    if not lines:
        return [], False
    margin = max(line.right for line in lines)
    body_left = min((line.left for line in lines if line.text.strip()), default=0.0)
    groups: list[list[int]] = []
    joining = False
    for i, line in enumerate(lines):
        text = line.text.strip()
        if joining and groups and text and line.left <= body_left + tolerance:
            groups[-1].append(i)
        else:
            groups.append([i])
        joining = bool(text) and line.right >= margin - tolerance
    return groups, joining


def reflow(lines: list[LaidOutLine], tolerance: float) -> tuple[list[str], bool]:
    """The reflowed lines' text (see :func:`reflow_groups`).

    Vietnamese never breaks a word at a line end, so a line ending in a hyphen right after a
    letter or digit ("28-" then "CT/TW") was cut inside a token and joins without a space; a
    spaced dash ("Lao động -" then "Thương binh") is a dash and keeps its space.
    """
    groups, runs_on = reflow_groups(lines, tolerance)
    return [join_lines([lines[i].text for i in group]) for group in groups], runs_on


def join_lines(parts: list[str]) -> str:
    out = ""
    for part in (p.strip() for p in parts):
        glue = "" if not out or re.search(r"\w-$", out) else " "
        out = out + glue + part
    return out


class Reader(Protocol):
    """What every reader module offers: ``read(path, data) -> SourceText``; a file it cannot
    read raises a one-line :class:`~kgraph.errors.SourceError` and leaves nothing behind."""

    def __call__(self, path: Path, data: bytes, /) -> SourceText: ...


class PageAssembler:
    """Joins page texts into one NFC text, remembering where each page starts and ends."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pages: list[Page] = []
        self.length = 0

    def add(self, number: int, text: str, confidence: float | None = None,
            *, runs_on: bool = False, line_confidences: tuple[float, ...] = ()) -> None:
        """Append a page; ``runs_on``: the previous page ended inside a paragraph."""
        text = normalise(text)
        if self.parts:
            self.parts.append(" " if runs_on else "\n")
            self.length += 1
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        index = len(self.pages) + 1
        self.pages.append(Page(number, start, self.length, index, confidence, line_confidences))

    def text(self) -> str:
        return "".join(self.parts)


def normalise(text: str) -> str:
    """NFC, Unix line ends, no trailing blanks and no control characters except new lines.

    Line breaks are kept as the original has them (the extractor reads wrapped lines), and
    nothing else is rewritten: a source is never silently fixed.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = unicodedata.normalize("NFC", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
