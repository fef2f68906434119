"""Scans: page images read by Debian's tesseract with its Vietnamese model, page by page.

A scan arrives as one image (PNG, JPEG, a multi-page TIFF), as numbered page images
(``scan-1.png``, ``scan-2.png``, ``scan-9.png``: one scan, pages 1, 2 and 9), or as a PDF whose
pages are images (see :mod:`kgraph.ingest.readers.pdf`, which hands such pages here).

Each page keeps tesseract's mean word confidence as provenance. Pages are read in parallel,
one tesseract process per core (each limited to one thread, the fastest split on a small
machine), with a progress bar on the terminal. A scan longer than ``max_ocr_pages()`` is read
up to that page, with a warning.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kgraph.errors import SourceError
from kgraph.ingest.readers.base import (
    LaidOutLine,
    PageAssembler,
    SourceText,
    join_lines,
    normalise,
    reflow_groups,
    without_page_number,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
LANGUAGE = "vie"
INSTALL_HINT = "install the Debian packages tesseract-ocr and tesseract-ocr-vie (scripts/setup)"
DPI = 300
_NUMBERED = re.compile(r"^(?P<stem>.*?)(?:^|[-_ ])(?P<number>\d{1,3})$")
_TOLERANCE = 0.025  # of the image width: how near the right margin a line must end to run on
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class OcrPage:
    number: int
    text: str
    confidence: float  # mean word confidence, 0-100 (0 when no word was read)
    runs_on: bool = False  # the page ends inside a paragraph that goes on overleaf
    line_confidences: tuple[float, ...] = ()  # one per line of ``text``


def max_ocr_pages() -> int:
    """Pages OCR reads from one file at most (KGRAPH_OCR_MAX_PAGES, default 100)."""
    return int(os.environ.get("KGRAPH_OCR_MAX_PAGES", "100"))


@cache
def tesseract_languages() -> frozenset[str]:
    """Installed tesseract models (empty when tesseract itself is missing)."""
    exe = shutil.which("tesseract")
    if exe is None:
        return frozenset()
    listing = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, check=False)
    return frozenset(line.strip() for line in listing.stdout.splitlines()[1:] if line.strip())


def ocr_available() -> bool:
    return LANGUAGE in tesseract_languages()


def require_ocr(path: Path) -> None:
    if not ocr_available():
        what = "tesseract's Vietnamese model" if tesseract_languages() else "tesseract"
        raise SourceError(path, f"is a scan and needs OCR, but {what} is missing: {INSTALL_HINT}")


def page_number(path: Path) -> tuple[str, int] | None:
    """('scan', 9) for 'scan-9.png': the scan a numbered page image belongs to, and its page."""
    match = _NUMBERED.match(path.stem)
    return (match["stem"], int(match["number"])) if match else None


def sibling_pages(path: Path) -> list[tuple[int, Path]]:
    """The numbered page images of the scan ``path`` belongs to, in page order."""
    own = page_number(path)
    if own is None:
        return [(1, path)]
    pages = []
    for other in path.parent.iterdir():
        numbered = page_number(other) if other.suffix.lower() in IMAGE_SUFFIXES else None
        if numbered is not None and numbered[0] == own[0]:
            pages.append((numbered[1], other))
    return sorted(pages)


def is_first_page(path: Path) -> bool:
    """A folder's numbered page images are one scan; its first page stands for it."""
    pages = sibling_pages(path)
    return pages[0][1] == path


def _tesseract(image: Path, number: int) -> OcrPage:
    """One page through the tesseract CLI; words, lines and confidences come from its TSV."""
    with tempfile.TemporaryDirectory(prefix="kgraph-ocr-") as tmp:
        base = Path(tmp) / "page"
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per process, pages in parallel
        done = subprocess.run(
            ["tesseract", str(image), str(base), "-l", LANGUAGE, "tsv"],
            capture_output=True, text=True, env=env, check=False,
        )
        if done.returncode != 0:
            message = (done.stderr.strip().splitlines() or ["failed"])[-1]
            raise SourceError(image, f"tesseract could not read page {number}: {message}")
        tsv = base.with_suffix(".tsv").read_text(encoding="utf-8")
    return _page_from_tsv(number, tsv)


def _page_from_tsv(number: int, tsv: str) -> OcrPage:
    """Lines of words in tesseract's reading order, joined back into paragraphs by reflow,
    each with the mean confidence of its words."""
    words: dict[tuple[str, str, str], list[tuple[str, float]]] = {}
    rights: dict[tuple[str, str, str], float] = {}
    lefts: dict[tuple[str, str, str], float] = {}
    width = 0.0
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row["level"] == "1":
            width = float(row["width"])
        word = (row.get("text") or "").strip()
        if row["level"] != "5" or not word:
            continue
        key = (row["block_num"], row["par_num"], row["line_num"])
        words.setdefault(key, []).append((word, float(row["conf"])))
        rights[key] = max(rights.get(key, 0.0), float(row["left"]) + float(row["width"]))
        lefts.setdefault(key, float(row["left"]))
    laid_out = [LaidOutLine(" ".join(w for w, _ in words[k]), rights[k], lefts[k], k)
                for k in words]
    laid_out = without_page_number(laid_out, number)
    keys = [line.key for line in laid_out]
    groups, runs_on = reflow_groups(laid_out, _TOLERANCE * width)
    lines, confidences = [], []
    for group in groups:
        lines.append(join_lines([laid_out[i].text for i in group]))
        scores = [c for i in group for _, c in words[keys[i]] if c >= 0]
        confidences.append(round(sum(scores) / len(scores), 1) if scores else 0.0)
    scores = [c for k in keys for _, c in words[k] if c >= 0]
    mean = sum(scores) / len(scores) if scores else 0.0
    return OcrPage(number, normalise("\n".join(lines)), round(mean, 1), runs_on,
                   tuple(confidences))


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[], None]]:
    """A rich progress bar (pages done, time left) on stderr; silent inside another live view."""
    from rich.console import Console
    from rich.errors import LiveError
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(TextColumn("OCR {task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    try:
        progress.start()
    except LiveError:  # the caller already shows a live display (e.g. the build's own bar)
        yield lambda: None
        return
    task = progress.add_task(label, total=total)
    try:
        yield lambda: progress.advance(task)
    finally:
        progress.stop()


def ocr(source: Path, pages: Iterable[tuple[int, Path]], total: int) -> list[OcrPage]:
    """OCR page images (rendered lazily by ``pages``) on every core; results in page order."""
    require_ocr(source)
    workers = max(1, min(os.cpu_count() or 1, total))
    with ThreadPoolExecutor(workers) as pool, _progress(source.name, total) as advance:
        futures: list[Future[OcrPage]] = []
        for number, image in pages:
            future = pool.submit(_tesseract, image, number)
            future.add_done_callback(lambda _: advance())
            futures.append(future)
        results = [f.result() for f in futures]
    return results


def capped(source: Path, count: int, warnings: list[str]) -> int:
    """How many of ``count`` scanned pages to read, warning when the cap cuts the scan."""
    limit = max_ocr_pages()
    if count > limit:
        warnings.append(f"scan has {count} pages; OCR read the first {limit} only "
                        "(KGRAPH_OCR_MAX_PAGES raises the limit)")
        return limit
    return count


def check_text(source: Path, pages: list[OcrPage]) -> None:
    if sum(len(_LETTER.findall(p.text)) for p in pages) < 20:
        raise SourceError(source, "OCR found no text (a blank image or not a document page)")


def review_warnings(pages: Iterable[OcrPage]) -> list[str]:
    from kgraph.ingest.readers.base import LOW_OCR_CONFIDENCE

    return [f"page {p.number} read by OCR with low confidence ({p.confidence:.0f}%): review it"
            for p in pages if p.text.strip() and p.confidence < LOW_OCR_CONFIDENCE]


def read(path: Path, data: bytes) -> SourceText:
    """A page image, its numbered sibling pages, or a multi-page TIFF: OCR page by page."""
    from PIL import Image, UnidentifiedImageError

    files = sibling_pages(path)
    warnings: list[str] = []
    frames: list[tuple[int, Image.Image]] = []
    try:
        counts = []
        for _, file in files:
            with Image.open(file) as image:
                counts.append(getattr(image, "n_frames", 1))
        limit = capped(path, sum(counts), warnings)  # decode no page beyond the cap
        for (number, file), frame_count in zip(files, counts, strict=True):
            with Image.open(file) as image:
                for frame in range(min(frame_count, limit - len(frames))):
                    image.seek(frame)  # a multi-page TIFF: pages 1..n
                    page = number if frame_count == 1 else frame + 1
                    frames.append((page, image.convert("L")))
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError) as exc:
        raise SourceError(path, f"not a readable image ({exc})") from None
    require_ocr(path)
    with tempfile.TemporaryDirectory(prefix="kgraph-scan-") as tmp:
        def rendered() -> Iterator[tuple[int, Path]]:
            for position, (number, image) in enumerate(frames):
                file = Path(tmp) / f"{position:04d}.png"
                image.save(file)
                yield number, file

        pages = ocr(path, rendered(), len(frames))
    check_text(path, pages)
    assembler = PageAssembler()
    runs_on = False
    for page in pages:
        assembler.add(page.number, page.text, page.confidence, runs_on=runs_on,
                      line_confidences=page.line_confidences)
        runs_on = page.runs_on
    warnings.extend(review_warnings(pages))
    original, media_type = _original(data, files, [image for _, image in frames])
    return SourceText(path, assembler.text(), "image", media_type, original,
                      tuple(assembler.pages), warnings)


def _original(data: bytes, files: list[tuple[int, Path]], images: list) -> tuple[bytes, str]:
    """What a browser is served: a PNG or JPEG page as it is; page images bound together, or a
    TIFF (which browsers do not show), as one PDF of the pages read."""
    if len(files) == 1 and data.startswith(b"\x89PNG"):
        return data, "image/png"
    if len(files) == 1 and data.startswith(b"\xff\xd8\xff"):
        return data, "image/jpeg"
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=DPI)
    return buffer.getvalue(), "application/pdf"
