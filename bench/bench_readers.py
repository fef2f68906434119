"""Readers benchmark: pages per second for a text-layer PDF, a Word file and OCR (scans),
beside the plain-text path, measured in the same run on the same plan (seed 004 of
../shared/fixtures), reading alone and reading + extraction.

    .venv/bin/python bench/bench_readers.py [--runs 3] [--compare]

The plain-text file has no pages; it is counted with the page count of the same plan's PDF so
that pages/s compare like with like. ``--compare`` measures the PDF libraries the PDF reader
chose between (pypdf, pdfplumber, PyMuPDF, PDFium) on the seed 004 PDF: time, NFC, whether
"28-CT/TW" comes out whole, and similarity to the clean text.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KGRAPH_SHARED", ROOT.parent / "shared"))
FIXTURES = SHARED / "fixtures"
SEED = ROOT / "data" / "sources" / "004_d5d135182c80a159.txt"
sys.path.insert(0, str(ROOT / "src"))

from kgraph.ingest.extract import extract_document, extract_file  # noqa: E402
from kgraph.ingest.readers import read_source, scan  # noqa: E402


def timed(action: Callable[[], object], runs: int) -> float:
    """Median seconds of ``runs`` calls (after one warm-up call)."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def formats() -> list[tuple[str, Path, int, int]]:
    """(label, file, pages, runs divisor): OCR runs once, it is slow."""
    pdf_pages = len(read_source(FIXTURES / "seed004.pdf").pages)
    rows = [("plain text (baseline)", SEED, pdf_pages, 1),
            ("PDF, text layer", FIXTURES / "seed004.pdf", pdf_pages, 1),
            ("Word (.docx)", FIXTURES / "seed004.docx", pdf_pages, 1)]
    if scan.ocr_available():
        first = sorted((FIXTURES / "scan").glob("*.png"))[0]  # stands for its sibling pages
        rows.append((f"scan, OCR ({os.cpu_count()} cores)", first,
                     len(scan.sibling_pages(first)), 0))
    else:
        print(f"OCR skipped: {scan.INSTALL_HINT}")
    return rows


def readers_table(runs: int) -> None:
    print(f"{'format':34} {'pages':>5} {'read s':>8} {'read pages/s':>12} "
          f"{'read+extract s':>14} {'pages/s':>8} {'x plain text':>12}")
    baseline = None
    for label, path, pages, divisor in formats():
        n = runs if divisor else 1
        read = timed(lambda p=path: read_source(p), n) if divisor else None
        if read is None:  # OCR: one timed run, then extraction of what it read
            started = time.perf_counter()
            source = read_source(path)
            read = time.perf_counter() - started
            started = time.perf_counter()
            extract_document(source.text, path.name)
            full = read + time.perf_counter() - started
        else:
            full = timed(lambda p=path: extract_file(p), n)
        rate = pages / full
        baseline = baseline or rate
        print(f"{label:34} {pages:5d} {read:8.3f} {pages / read:12.1f} {full:14.3f} "
              f"{rate:8.2f} {rate / baseline:12.3f}")


def compare_pdf_libraries(runs: int) -> None:
    """The PDF reader's choice, measured: each library's text of the seed 004 PDF."""
    pdf = FIXTURES / "seed004.pdf"
    clean = re.sub(r"\s+", " ", SEED.read_text(encoding="utf-8")).strip()

    def pypdf_text() -> str:
        import pypdf

        return "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)

    def pdfplumber_text() -> str:
        import pdfplumber

        with pdfplumber.open(pdf) as document:
            return "\n".join(p.extract_text() for p in document.pages)

    def pymupdf_text() -> str:
        import pymupdf

        with pymupdf.open(pdf) as document:
            return "\n".join(p.get_text() for p in document)

    def pdfium_text() -> str:
        import pypdfium2

        document = pypdfium2.PdfDocument(pdf)
        return "\n".join(page.get_textpage().get_text_range() for page in document)

    def kgraph_reader() -> str:
        return read_source(pdf).text

    print(f"\n{'library':28} {'ms':>8} {'NFC':>5} {'28-CT/TW whole':>15} {'similarity':>11} "
          f"{'lines':>6}")
    for name, extract in [("pypdf", pypdf_text), ("pdfplumber", pdfplumber_text),
                          ("PyMuPDF (AGPL)", pymupdf_text), ("PDFium (pypdfium2)", pdfium_text),
                          ("kgraph PDF reader (PDFium+reflow)", kgraph_reader)]:
        try:
            text = extract()
        except ImportError:
            print(f"{name:28} not installed")
            continue
        seconds = timed(extract, runs)
        nfc = text == unicodedata.normalize("NFC", text)
        whole = "chỉ thị số 28-CT/TW và" in text.replace("Chỉ", "chỉ")
        folded = re.sub(r"\s+", " ", text).strip()
        similarity = difflib.SequenceMatcher(None, clean, folded, autojunk=False).ratio()
        print(f"{name:28} {seconds * 1000:8.1f} {nfc!s:>5} {whole!s:>15} {similarity:11.5f} "
              f"{len(text.splitlines()):6d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="compare the PDF libraries")
    args = parser.parse_args()
    if not FIXTURES.exists():
        sys.exit(f"{FIXTURES} is absent")
    readers_table(args.runs)
    if args.compare:
        compare_pdf_libraries(args.runs)


if __name__ == "__main__":
    main()
