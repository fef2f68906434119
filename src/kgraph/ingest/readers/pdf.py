"""PDF: the text layer page by page (PDFium), and OCR for the pages that are only images.

Library choice (measured on the seed 004 PDF, ``bench/bench_readers.py --compare``): pypdf,
pdfplumber, PyMuPDF and PDFium (pypdfium2) all return NFC Vietnamese in reading order and all
keep the line break inside "28-\\nCT/TW" as the file has it (the extractor reads wrapped
lines). PDFium is several times faster than the others, renders image-only pages for OCR
with the same library, and is Apache/BSD licensed (PyMuPDF is AGPL); so PDFium it is.

Lines of justified text are joined back into paragraphs (:func:`~.base.reflow`): the layout's
line breaks are not the document's, and a wrapped "Lao động\n- Thương binh" would otherwise
read as a bullet.

A page counts as having a usable text layer when it holds at least ``MIN_LETTERS`` letters;
only pages without one, and that carry an image, are sent to OCR: a born-digital PDF never
starts tesseract.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kgraph.errors import SourceError
from kgraph.ingest.readers import scan
from kgraph.ingest.readers.base import (
    LaidOutLine,
    PageAssembler,
    SourceText,
    reflow,
    without_page_number,
)

MEDIA_TYPE = "application/pdf"
MIN_LETTERS = 20
_TOLERANCE = 0.02  # of the page width: how near the right margin a line must end to run on
_LETTER = re.compile(r"[^\W\d_]")


def _open(path: Path, data: bytes):  # -> pypdfium2.PdfDocument
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise SourceError(path, "password-protected PDF: save an unprotected copy") from None
        reason = str(exc).removeprefix("Failed to load document ").strip("(). ")
        raise SourceError(path, f"corrupt or unreadable PDF ({reason})") from None


def _has_image(page) -> bool:  # page: pypdfium2.PdfPage
    import pypdfium2.raw as pdfium_c

    return next(iter(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)),
                None) is not None


def read(path: Path, data: bytes) -> SourceText:
    document = _open(path, data)
    try:
        count = len(document)
        width = document[0].get_width() if count else 0
        if count == 0:
            raise SourceError(path, "PDF without pages")
        layer: dict[int, list[LaidOutLine]] = {}
        scanned: list[int] = []
        for index in range(count):
            page = document[index]
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            if len(_LETTER.findall(text)) >= MIN_LETTERS or not _has_image(page):
                layer[index + 1] = _lines(textpage, text)
            else:
                scanned.append(index + 1)
        warnings: list[str] = []
        ocr_pages: dict[int, scan.OcrPage] = {}
        if scanned:
            allowed = scan.capped(path, len(scanned), warnings)
            if allowed < len(scanned):  # stop the text at the last page read: no hole in it
                layer = {n: t for n, t in layer.items() if n < scanned[allowed]}
                scanned = scanned[:allowed]
            scan.require_ocr(path)
            with tempfile.TemporaryDirectory(prefix="kgraph-pdf-") as tmp:
                pages = scan.ocr(path, _render(document, scanned, Path(tmp)), len(scanned))
            ocr_pages = {p.number: p for p in pages}
            scan.check_text(path, pages)
            warnings.extend(scan.review_warnings(pages))
    finally:
        document.close()
    assembler = PageAssembler()
    runs_on = False
    for number in sorted(layer.keys() | ocr_pages.keys()):
        if number in ocr_pages:
            ocr_page = ocr_pages[number]
            assembler.add(number, ocr_page.text, ocr_page.confidence, runs_on=runs_on,
                          line_confidences=ocr_page.line_confidences)
            runs_on = ocr_page.runs_on
        else:
            lines, ends_inside = reflow(without_page_number(layer[number], number),
                                        _TOLERANCE * width)
            assembler.add(number, "\n".join(lines), runs_on=runs_on)
            runs_on = ends_inside
    if not assembler.text().strip():
        raise SourceError(path, "PDF without text (no text layer and no page images)")
    return SourceText(path, assembler.text(), "pdf", MEDIA_TYPE, data, tuple(assembler.pages),
                      warnings)


def _lines(textpage, text: str) -> list[LaidOutLine]:  # textpage: pypdfium2.PdfTextPage
    """The text layer's lines with the x where each starts and ends (PDFium's character
    boxes; PDFium counts the line breaks it generates as characters, so indices align)."""
    lines, start = [], 0
    for match in re.finditer(r"\r\n|\n|\r", text + "\n"):
        end = match.start()
        right = textpage.get_charbox(end - 1)[2] if end > start else 0.0
        first = start + len(text[start:end]) - len(text[start:end].lstrip())
        left = textpage.get_charbox(first)[0] if first < end else 0.0
        lines.append(LaidOutLine(text[start:end], right, left))
        start = match.end()
    return lines


def _render(document, numbers: list[int], folder: Path) -> Iterator[tuple[int, Path]]:
    """Render pages to grey PNGs at the OCR resolution, one at a time (PDFium is not
    thread-safe, so rendering stays on this thread while tesseract runs on the others)."""
    for number in numbers:
        image = document[number - 1].render(scale=scan.DPI / 72, grayscale=True).to_pil()
        file = folder / f"{number:04d}.png"
        image.save(file)
        yield number, file
