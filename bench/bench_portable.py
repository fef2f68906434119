"""The portable texts of the named queries (``queries/NAME.rq``) against those at a git revision.

The portable SPARQL 1.1 text is what /sparql's editor shows and what a remote store (Virtuoso,
Jena) runs; the embedded store runs ``queries/oxigraph/NAME.rq``. This runs, on a built store
(read-only, in process, plain pyoxigraph with the union default graph), each case's portable
text as written at ``--baseline-ref`` beside the portable text now, with the parameters a user of
the synthetic corpus would give (:func:`bench_queries.cases`), and prints for each: rows, whether
the answers are the same (multisets of rows; columns made by GROUP_CONCAT as sets of values), and
wall and CPU seconds of each with the CPU ratio. A text slower than ``SLOW_S`` runs once.
``--oxigraph`` also checks the answer against the Oxigraph text (what the embedded store gives).

Run: ``.venv/bin/python bench/bench_portable.py --store /tmp/copy-of-store-20000 --plans 20000
--baseline-ref 20cf896 --only implementers --only responsible-today``
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from bench_app import pick  # noqa: E402
from bench_queries import baseline_queries, cases  # noqa: E402
from corpus import generate_plans  # noqa: E402
from kgraph.analysis.queries import named_queries  # noqa: E402
from kgraph.store.embedded import OxigraphRepository, StoreDirectory  # noqa: E402

SLOW_S = 5.0  # a text slower than this (wall) is run once


def concatenated(text: str) -> dict[str, str]:
    """Output variable -> separator of each GROUP_CONCAT (its order is the engine's)."""
    pattern = (r'GROUP_CONCAT\s*\(\s*(?:DISTINCT\s+)?\?\w+\s*;\s*separator\s*=\s*"([^"]*)"\s*\)'
               r"\s*AS\s+\?(\w+)")
    return {m.group(2): m.group(1) for m in re.finditer(pattern, text, re.IGNORECASE)}


def run(store: ox.Store, text: str, runs: int
        ) -> tuple[float, float, Counter[tuple[str, ...]]]:
    """Median wall and CPU seconds of ``runs`` evaluations (read whole), and the answer."""
    walls, cpus, answer = [], [], Counter()
    concat = concatenated(text)
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        result = store.query(text, use_default_graph_as_union=True)
        names = [v.value for v in result.variables]  # type: ignore[union-attr]
        rows = [tuple("" if t is None else str(t) for t in row) for row in result]
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - started)
        answer = Counter(
            tuple(concat[n].join(sorted(v.split(concat[n]))) if n in concat else v
                  for n, v in zip(names, row, strict=True)) for row in rows)
        if walls[-1] > SLOW_S:
            break
    return statistics.median(walls), statistics.median(cpus), answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a built store (read-only)")
    parser.add_argument("--plans", type=int, required=True, help="size of its bench corpus")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline-ref", required=True,
                        help="the portable texts at this git revision (e.g. 20cf896)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", action="append", default=[],
                        help="a case or a query name to run (repeatable)")
    parser.add_argument("--oxigraph", action="store_true",
                        help="also check the answer against the Oxigraph text")
    parser.add_argument("--skip-old", action="append", default=[],
                        help="a case or query whose old text is not run (minutes at 20,000 "
                             "plans); its answer is checked against the Oxigraph text only")
    args = parser.parse_args(argv)
    params = pick(generate_plans(args.plans, args.seed))
    version = StoreDirectory(args.store).current()
    store = ox.Store.read_only(str(version or args.store))
    now = named_queries()
    before = baseline_queries(args.baseline_ref)
    print(f"store {args.store} ({args.plans} plans), baseline {args.baseline_ref}, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{'case':<30} {'rows':>6} {'answer':>6} {'old wall':>9} {'old cpu':>8} "
          f"{'new wall':>9} {'new cpu':>8} {'cpu ratio':>9}" + ("  oxigraph" * args.oxigraph))
    differing = 0
    for case, (name, values) in cases(params).items():
        if args.only and case not in args.only and name not in args.only:
            continue
        if name not in before or name not in now:
            continue
        skip = case in args.skip_old or name in args.skip_old
        new_wall, new_cpu, new = run(store, now[name].render(values), args.runs)
        if skip:
            same = True
            line = (f"{case:<30} {sum(new.values()):>6} {'-':>6} {'not run':>9} {'':>8} "
                    f"{new_wall:>9.2f} {new_cpu:>8.2f} {'-':>9}")
        else:
            old_wall, old_cpu, old = run(store, before[name].render(values), args.runs)
            same = old == new
            line = (f"{case:<30} {sum(new.values()):>6} {'same' if same else 'DIFF':>6} "
                    f"{old_wall:>9.2f} {old_cpu:>8.2f} {new_wall:>9.2f} {new_cpu:>8.2f} "
                    f"{old_cpu / max(new_cpu, 1e-6):>9.1f}")
        if (args.oxigraph or skip) and now[name].oxigraph:
            engine = now[name].for_repository(OxigraphRepository()).render(values)
            _, _, embedded = run(store, engine, 1)
            same = same and embedded == new
            line += f"  {'same' if embedded == new else 'DIFF'}"
        differing += not same
        print(line + f"  (load {os.getloadavg()[0]:.1f})", flush=True)
    print(f"\n{differing} case(s) with a different answer")


if __name__ == "__main__":
    main()
