"""Who-holds-it-today benchmark: the reference graph's build and load, and ``responsible-today``
over the synthetic corpus (targets: reference graph built and loaded under 5 s; the answer for one
plan under 1 s on 2,000 plans).

Printed, each with a baseline measured in the same run:

* reference graph: Turtle -> N-Triples with Oxigraph's parser (what ``kgraph`` does) against
  rdflib's (the former way), loading it into an in-memory store, and the matcher built from it;
* ``responsible-today`` (the walk of :mod:`kgraph.analysis.succession`) for ``--sample`` UBND
  plans of the corpus on ``--date``, against the ``assignments`` named query of the same plan,
  and its SPARQL view (``queries/responsible-today.rq``) for one plan;
* ``deadlines`` of every plan on the date.

Run: ``.venv/bin/python bench/bench_responsible.py [--plans 2000] [--sample 20] [--store DIR]``
(``--store`` keeps the corpus on disk and reuses it: building 2,000 plans takes minutes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from corpus import generate_plans, write_corpus  # noqa: E402
from kgraph.analysis.queries import load_query  # noqa: E402
from kgraph.analysis.succession import deadlines, responsible_rows  # noqa: E402
from kgraph.build import load, prepare  # noqa: E402
from kgraph.paths import resource_dir  # noqa: E402
from kgraph.reference.matching import Matcher  # noqa: E402
from kgraph.resources import (  # noqa: E402
    _resource_graphs,
    as_ntriples,
    resource_graphs,
    turtle_folder,
    turtle_folder_ntriples,
)
from kgraph.store.embedded import OxigraphRepository  # noqa: E402

T = TypeVar("T")


def timed(func: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    started = time.perf_counter()
    value = func(*args, **kwargs)
    return value, time.perf_counter() - started


def reference_graph() -> None:
    folder = resource_dir("reference")
    ox_text, ox_time = timed(turtle_folder_ntriples, folder)
    _, rdflib_time = timed(lambda: as_ntriples(turtle_folder(folder)))
    _resource_graphs.cache_clear()
    payload, build_time = timed(resource_graphs)
    _, load_time = timed(OxigraphRepository().replace_graphs, payload)
    _, matcher_time = timed(Matcher)
    print(f"reference graph: {ox_text.count(chr(10))} triples")
    print(f"  Turtle -> N-Triples: Oxigraph {ox_time:.2f} s, rdflib {rdflib_time:.2f} s "
          f"(ratio {rdflib_time / ox_time:.1f}x)")
    total = build_time + load_time + matcher_time
    print(f"  build {build_time:.2f} s + load (memory) {load_time:.2f} s + matcher "
          f"{matcher_time:.2f} s = {total:.2f} s (target < 5 s): "
          f"{'ok' if total < 5 else 'SLOW'}")


def corpus_store(n_plans: int, store: Path | None) -> tuple[OxigraphRepository, list[str]]:
    """The corpus in a store: in memory, or in ``store`` (kept, and reused when it is there)."""
    plans = [p.number for p in generate_plans(n_plans) if p.kind == "ubnd"]
    if store is not None and (store / "done").exists():
        repo = OxigraphRepository(store)
        print(f"corpus: reused {store}, {len(repo)} quads")
        return repo, plans
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        write_corpus(Path(tmp), n_plans)
        _, graphs = prepare([Path(tmp)])
        repo = OxigraphRepository(store)
        load(graphs, repo)
        print(f"corpus: {len(graphs)} plans, {len(repo)} quads, built in "
              f"{time.perf_counter() - started:.1f} s")
    if store is not None:
        (store / "done").write_text(str(n_plans), encoding="utf-8")
    return repo, plans


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--date", default="2026-01-01")
    parser.add_argument("--store", type=Path, help="keep the corpus store here (reused if built)")
    args = parser.parse_args(argv)

    reference_graph()
    repo, plans = corpus_store(args.plans, args.store)
    sample = plans[:: max(1, len(plans) // args.sample)][: args.sample]
    assignments = load_query("assignments")
    walk_times, base_times, rows, moved = [], [], 0, 0
    for number in sample:
        answer, seconds = timed(responsible_rows, repo, number, args.date)
        _, base = timed(repo.query, assignments.render({"doc": number}))
        walk_times.append(seconds)
        base_times.append(base)
        rows += len(answer)
        moved += sum(r["status"] == "succeeded" for r in answer)
    walk, base = statistics.median(walk_times), statistics.median(base_times)
    print(f"responsible-today on {args.date}, {len(sample)} UBND plans ({rows} rows, {moved} "
          f"moved to a successor):")
    print(f"  median {walk * 1000:.0f} ms, max {max(walk_times) * 1000:.0f} ms "
          f"(target < 1000 ms: {'ok' if max(walk_times) < 1 else 'SLOW'}); "
          f"assignments query median {base * 1000:.0f} ms (ratio {walk / base:.1f}x)")
    view = load_query("responsible-today")
    result, sparql_time = timed(repo.query, view.render({"doc": sample[0], "date": args.date}))
    print(f"  SPARQL view (queries/responsible-today.rq), one plan: {sparql_time * 1000:.0f} ms, "
          f"{len(result.rows)} candidate steps")
    due, due_time = timed(deadlines, repo, None, args.date)
    buckets = {s: sum(r["status"] == s for r in due) for s in ("overdue", "due", "not yet due")}
    print(f"deadlines of every plan on {args.date}: {len(due)} duties in "
          f"{due_time * 1000:.0f} ms {buckets}")


if __name__ == "__main__":
    main()
