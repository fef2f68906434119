"""Ten more real plans of varied genres and layouts (../shared/real, gold real2.json): none is
refused, assignments are read by content, and their OCR-damaged copies hold up."""

import os
from pathlib import Path

import pytest

from kgraph.ingest.evaluation import evaluate, format_report

SHARED = Path(os.environ.get("KGRAPH_SHARED", Path(__file__).resolve().parents[2] / "shared"))
REAL = SHARED / "real"
GOLD = SHARED / "gold" / "real2.json"

pytestmark = pytest.mark.skipif(
    not (REAL.is_dir() and GOLD.is_file()), reason="../shared/real is not available"
)


def test_every_genre_is_read_and_assignments_are_found_by_content():
    report = evaluate(GOLD, REAL)
    print(format_report(report))
    assert report.errors == []  # no Công văn, Quyết định or crawler text is refused
    assert report.agencies.rate >= 0.9
    assert report.request.rate >= 0.9
    assert report.kind.rate >= 0.9


@pytest.mark.skipif(not (REAL / "ocr").is_dir(), reason="no OCR copies")
def test_ocr_damaged_copies_keep_their_outline_and_bodies():
    report = evaluate(GOLD, REAL / "ocr")  # gold entries without an OCR copy are misses ...
    scored = [d for d in report.documents if not d.error]  # ... so score the four copies
    print(format_report(report))
    assert len(scored) == len(list((REAL / "ocr").glob("*.txt")))
    hits = sum(d.agencies.hits for d in scored)
    total = sum(d.agencies.total for d in scored)
    assert sum(d.metadata.hits for d in scored) == sum(d.metadata.total for d in scored)
    assert hits / total >= 0.8
