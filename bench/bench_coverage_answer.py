"""The whole-directive ``directive-coverage`` answer: the query against the answer the build keeps.

Why: at 20,000 plans one directive's answer is 56,200 rows and the query takes 20-40 s for its
first page, however it is written (docs/coverage.md §5). The directive-coverage stage now keeps
the rows per province and store version (:mod:`kgraph.analysis.coverage_answer`) and
``/api/queries/directive-coverage`` pages through them. On one store, in one run, this prints
per directive, through the FastAPI app (``TestClient``):

* the baseline: the route's first page when no answer is kept (the query, then kept in
  memory for the next pages, as before);
* the kept answer: first page in a process that has not read it yet, a later page, the last
  page, and the whole CSV; the ratio of the first pages;
* whether the rows are the query's, in its order (a cell's lead bodies compared as a set: the
  engine's GROUP_CONCAT order is its own; the kept answer lists them by name), and how many
  rows have the very same lead text.

The stage is run first on the store as it is (``directive_index.update``, every directive, its
graphs not written: the store keeps the graphs the build wrote, and the comparison with the
query checks the kept rows against them), and its answers kept for the store's version.

Run: ``.venv/bin/python bench/bench_coverage_answer.py --store COPY [--directives N]`` on a
hard-link copy of a built store (writes into ``COPY/derived``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from kgraph.analysis import coverage_answer
from kgraph.analysis import directive_index as di
from kgraph.analysis.queries import named_queries
from kgraph.store import derived
from kgraph.store.embedded import OxigraphRepository
from kgraph.web import queries_api
from kgraph.web.app import create_app

ROUTE = "/api/queries/directive-coverage"


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def comparable(variables: list[str], row: tuple[object, ...]) -> tuple[str, ...]:
    values = []
    for variable, term in zip(variables, row, strict=False):
        text = "" if term is None else str(term)
        values.append("; ".join(sorted(text.split("; "))) if variable == "lead" else text)
    return tuple(values)


def timed(client: TestClient, params: dict[str, object]) -> tuple[float, object]:
    started = time.perf_counter()
    response = client.get(ROUTE, params=params)
    assert response.status_code == 200, response.text
    return time.perf_counter() - started, response


def forget_kept(repo: OxigraphRepository) -> None:
    """As a process that has not read the kept answer yet (only its disk files remain)."""
    queries_api.ANSWERS.kept.clear()
    derived.forget(repo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a copy of a built store")
    parser.add_argument("--directives", type=int, default=5,
                        help="directives compared with the query (each costs the query)")
    parser.add_argument("--only", action="append", default=None,
                        help="the stage for these directives only (numbers; repeatable)")
    parser.add_argument("--jobs", default="1,2",
                        help="the stage's processes, each count timed in turn (e.g. 1,2)")
    args = parser.parse_args(argv)
    repo = OxigraphRepository(args.store, read_only=True)
    root = repo.root
    started = time.perf_counter()
    lineage = di.Lineage.read(repo)
    print(f"lineage read: {time.perf_counter() - started:.1f} s (load {load()})")
    seen: dict[int, dict[str, str]] = {}
    for jobs in (int(j) for j in args.jobs.split(",")):
        written: dict[str, str] = {}
        started, cpu = time.perf_counter(), time.process_time()
        report = di.update(repo, root, written.update, None, lineage=lineage, keep=False,
                           jobs=jobs, only=args.only)
        stage = time.perf_counter() - started
        children = sum(os.times()[2:4])
        print(f"directive-coverage stage, {jobs} process(es): {stage:.1f} s wall, "
              f"{time.process_time() - cpu:.1f} CPU-s here (children so far {children:.1f}) "
              f"(load {load()}): {', '.join(report.directives)}, "
              f"{sum(t.count(chr(10)) for t in written.values())} triples")
        seen[jobs] = written
    if len(seen) > 1:
        first, *others = seen.values()
        print("graphs identical whatever the processes: "
              f"{'yes' if all(o == first for o in others) else 'NO'}")
    seen.clear()
    coverage_answer.keep(repo, root, None, report.answers)
    numbers = report.directives[:args.directives]
    query = named_queries()["directive-coverage"]
    original = queries_api.kept_rows
    print(f"\n{'directive':<11}{'rows':>7}{'query 1st s':>12}{'kept 1st s':>11}{'ratio':>8}"
          f"{'page 2 s':>9}{'last s':>8}{'CSV s':>8}  same rows, order  same lead text  load")
    with TestClient(create_app(repo)) as client:
        for number in numbers:
            forget_kept(repo)
            queries_api.kept_rows = lambda *a, **k: None  # the baseline: the query
            try:
                baseline, response = timed(client, {"doc": number})
            finally:
                queries_api.kept_rows = original
            total = response.json()["total"]
            forget_kept(repo)
            first, response = timed(client, {"doc": number})
            assert response.json()["total"] == total
            second, _ = timed(client, {"doc": number, "offset": 1000})
            last, _ = timed(client, {"doc": number, "offset": max(0, total - 1000)})
            csv_seconds, _ = timed(client, {"doc": number, "format": "csv"})
            kept = queries_api.kept_rows(repo, "directive-coverage", {"doc": number})
            answer = queries_api.kept_answer(repo, query, {"doc": number})  # the baseline's
            ours = [comparable(list(kept.variables), row) for row in kept.rows]
            theirs = [comparable(answer.variables, row) for row in answer.rows]
            exact = sum(1 for a, b in zip(kept.rows, answer.rows, strict=False)
                        if (a[8] or "") == ("" if b[8] is None else str(b[8])))
            same = "yes" if ours == theirs else (
                "same set, OTHER ORDER" if sorted(ours) == sorted(theirs) else "NO")
            print(f"{number:<11}{total:>7}{baseline:>12.2f}{first:>11.3f}"
                  f"{baseline / first:>7.0f}×{second:>9.3f}{last:>8.3f}{csv_seconds:>8.2f}  "
                  f"{same:<17} {exact}/{len(ours):<13} {load()}")
            for province in ("Gia Lai",):
                forget_kept(repo)
                one, response = timed(client, {"doc": number, "province": province})
                print(f"{'':<11}province={province}: kept first page {one:.3f} s, "
                      f"{response.json()['total']} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
