"""Directive coverage benchmark: the auditor's matrix of 28-CT/TW over a synthetic corpus.

Why: the matrix (directive tasks × provinces, each cell the lead body) must be computed once at
build time and then served in under 1 s, however many plans carry the directive out. This
builds ``--plans`` generated plans (bench/corpus.py; at 2,000 plans, 400 carry out 28-CT/TW)
with :func:`kgraph.build.build` into a fresh on-disk Oxigraph store, then prints

* the build-time step: :func:`kgraph.analysis.coverage.compute_directive_coverage` (align every
  plan carrying the directive out against its outline, link the items to duties and bodies,
  store the derived graph), with the number of plans, directive tasks and provinces;
* serving, through the FastAPI app (``TestClient``, no network): ``/coverage?doc=28-CT/TW``
  (HTML), ``format=csv``, and the named query ``directive-coverage``; median and worst of
  ``--runs`` requests;
* the baseline measured in the same run: computing the matrix on request instead
  (``compute_directive_coverage(..., store=False)``), and the ratio to serving the stored one.

Run: ``.venv/bin/python bench/bench_coverage.py [--plans 2000] [--runs 5] [--store DIR]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fastapi.testclient import TestClient

from corpus import generate_plans, write_corpus
from kgraph.analysis import coverage as cov
from kgraph.analysis.queries import load_query
from kgraph.build import build
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app

DIRECTIVE = "28-CT/TW"
LIMIT = 1.0  # seconds: the matrix must be served faster


def timed(func, runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--store", type=Path, default=None,
                        help="keep the built store here; a store already there is reused "
                             "(the build is skipped)")
    args = parser.parse_args(argv)

    carrying = sum(1 for p in generate_plans(args.plans, args.seed)
                   if p.directive == DIRECTIVE)
    with tempfile.TemporaryDirectory(prefix="kgraph-bench-coverage-") as tmp:
        started = time.perf_counter()
        reused = args.store is not None and args.store.exists() and any(args.store.iterdir())
        repo = OxigraphRepository(args.store or Path(tmp) / "store")
        if not reused:
            folder = Path(tmp) / "corpus"
            write_corpus(folder, args.plans, args.seed)
            build([folder], repo, validate=False)
        build_s = time.perf_counter() - started

        started = time.perf_counter()
        result = cov.compute_directive_coverage(repo, DIRECTIVE)
        compute_s = time.perf_counter() - started
        assert result is not None, "no plan carries out the directive"
        cells = len(result.cells)
        print(f"corpus: {args.plans} plans, {carrying} generated for {DIRECTIVE}; "
              f"build {build_s:.1f} s{' (store reused)' if reused else ''}")
        print(f"build-time step compute_directive_coverage: {compute_s:.2f} s — "
              f"{len(result.plans)} plans aligned, {len(result.outline.tasks)} tasks "
              f"({'reconstructed' if result.outline.reconstructed else 'from the outline'}), "
              f"{len(result.provinces)} provinces, {cells} cells, "
              f"{len(result.outline.unaligned)} items unaligned")

        client = TestClient(create_app(repo))
        query = load_query("directive-coverage")

        def page() -> int:
            response = client.get("/coverage", params={"doc": DIRECTIVE})
            assert response.status_code == 200, response.text
            return len(response.content)

        def export() -> int:
            response = client.get("/coverage", params={"doc": DIRECTIVE, "format": "csv"})
            assert response.status_code == 200
            return len(response.content)

        def named() -> int:
            return len(repo.query(query.render({"doc": DIRECTIVE})).rows)

        first, _, _ = timed(page, 1)  # compiles the templates, warms the store's caches
        print(f"first request after start (templates compiled): {first:.3f} s")
        print(f"{'served':<34}{'median s':>10}{'worst s':>10}{'size':>10}")
        worst = 0.0
        for name, func in (("/coverage (HTML)", page), ("/coverage?format=csv", export),
                           ("query directive-coverage (rows)", named)):
            median, slowest, size = timed(func, args.runs)
            if name.startswith("/coverage"):
                worst = max(worst, slowest)
            print(f"{name:<34}{median:>10.3f}{slowest:>10.3f}{size:>10}")

        baseline, _, _ = timed(lambda: cov.compute_directive_coverage(repo, DIRECTIVE,
                                                                       store=False), 1)
        served, _, _ = timed(page, args.runs)
        print(f"baseline, matrix computed on request: {baseline:.2f} s; served from the "
              f"stored graph: {served:.3f} s; ratio {baseline / served:.0f}×")
        verdict = "OK" if worst < LIMIT else "TOO SLOW"
        print(f"worst page request {worst:.3f} s (limit {LIMIT:.0f} s): {verdict}")
        return 0 if worst < LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
