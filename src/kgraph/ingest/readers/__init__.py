"""Readers: a file as people receive it (text, PDF, Word, scan, saved HTML) -> SourceText.

The reader is chosen by what the file holds (its first bytes), not by its name: a .docx that
is really some other ZIP, or a PDF named .txt, is recognised as what it is. Every reader
returns NFC text plus a map from character offsets to the pages of the original
(:class:`~kgraph.ingest.readers.base.SourceText`), so extraction stays one code path and
provenance reaches the page.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kgraph.errors import SourceError
from kgraph.ingest.readers import html, legacy_word, pdf, scan, text, word
from kgraph.ingest.readers.base import Location, Page, Reader, SourceText

__all__ = ["MAX_FILE_BYTES", "MAX_TEXT_BYTES", "SUFFIXES", "Location", "Page", "Reader",
           "SourceText", "detect", "is_supported", "read_source"]

MAX_TEXT_BYTES = 5_000_000  # text and HTML: the longest real plan is ~200 KB
MAX_FILE_BYTES = 200_000_000  # PDFs, Word files, scans (a 100-page scan at 300 dpi is ~50 MB)
# Suffixes `kgraph build` collects from a folder; the content decides how each is read.
SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".doc", ".html", ".htm", *scan.IMAGE_SUFFIXES)
log = logging.getLogger("kgraph.ingest.readers")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
_WORD_STREAM = "WordDocument".encode("utf-16-le")


def detect(path: Path, data: bytes) -> str:
    """The format of a file by its content: pdf, docx, doc, image, html or text."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        kind = word.is_word_zip(data)
        if kind:
            return "docx"
        if kind is False:
            raise SourceError(path, "a ZIP archive without a Word body (word/document.xml), "
                                    "not a .docx")
        # no readable ZIP: a corrupt .docx or a binary file, said as such by the text reader
        if path.suffix.lower() == ".docx":
            raise SourceError(path, "corrupt Word file (not a readable ZIP archive)")
    if data.startswith(_OLE2):
        if _WORD_STREAM in data:
            return "doc"
        raise SourceError(path, "an old Office file that is not a Word document")
    if data.startswith(_IMAGES):
        return "image"
    if html.looks_like_html(data):
        return "html"
    return "text"


_READERS: dict[str, Reader] = {
    "pdf": pdf.read, "docx": word.read, "doc": legacy_word.read, "image": scan.read,
    "html": html.read, "text": text.read,
}


def read_source(path: Path) -> SourceText:
    """Read one file with the reader its content calls for; one-line SourceError otherwise."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SourceError(path, _too_large(size, MAX_FILE_BYTES))
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(path, f"cannot read ({exc.strerror})") from None
    if not data.strip():
        raise SourceError(path, "empty file")
    kind = detect(path, data)
    if kind in ("text", "html") and size > MAX_TEXT_BYTES:
        raise SourceError(path, _too_large(size, MAX_TEXT_BYTES))
    source = _READERS[kind](path, data)
    for warning in source.warnings:  # one line each on stderr, the build goes on
        log.warning("%s: %s", path, warning)
    return source


def _too_large(size: int, limit: int) -> str:
    return f"{size} bytes: larger than a plan can be (limit {limit})"


def is_supported(path: Path) -> bool:
    """Whether `kgraph build` reads this file of a folder: a known suffix, and for numbered
    page images (scan-1.png, scan-2.png) only the first page, which stands for the scan."""
    path = Path(path)
    if path.name.startswith(".") or path.suffix.lower() not in SUFFIXES:
        return False
    return path.suffix.lower() not in scan.IMAGE_SUFFIXES or scan.is_first_page(path)
