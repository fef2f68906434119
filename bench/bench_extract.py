"""Extraction speed: median time to read one plan into its document model.

Why: the issue asks for extraction under ~50 ms per typical plan. Machines differ and are
shared, so next to the absolute figures this prints a ratio against a baseline measured in the
same run: one pass of the text normalisation every reader starts with (lines split, markup
stripped, each line folded). The ratio says how much the extractor costs beyond reading.

Corpus: data/sources (the five seeds) and, when present, ../shared/real (real plans of every
genre) and its OCR copies. Run: ``.venv/bin/python bench/bench_extract.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from kgraph.ingest.extract import extract_document
from kgraph.ingest.outline import split_lines
from kgraph.ingest.text import aligned_fold
from kgraph.reference.matching import default_matcher

ROOT = Path(__file__).resolve().parents[1]


def corpus() -> list[Path]:
    files = sorted((ROOT / "data" / "sources").glob("*.txt"))
    shared = Path(os.environ.get("KGRAPH_SHARED", ROOT.parent / "shared")) / "real"
    if shared.is_dir():
        files += sorted(shared.glob("*.txt")) + sorted((shared / "ocr").glob("*.txt"))
    return files


def _time(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    matcher = default_matcher()
    rows = []
    for path in corpus():
        text = path.read_text(encoding="utf-8")
        extract_document(text, path.name, matcher)  # warm the caches once

        def baseline(text: str = text) -> None:
            for line in split_lines(text):
                aligned_fold(line.text)

        def extract(text: str = text, name: str = path.name) -> None:
            extract_document(text, name, matcher)

        rows.append((path.name, _time(extract, args.runs), _time(baseline, args.runs)))
    print(f"{'file':<40} {'extract ms':>10} {'read ms':>8} {'ratio':>6}")
    for name, ms, base in rows:
        print(f"{name[:40]:<40} {ms:>10.1f} {base:>8.1f} {ms / base:>6.1f}")
    med, med_base = statistics.median(r[1] for r in rows), statistics.median(r[2] for r in rows)
    print(f"{'median':<40} {med:>10.1f} {med_base:>8.1f} {med / med_base:>6.1f}")


if __name__ == "__main__":
    main()
