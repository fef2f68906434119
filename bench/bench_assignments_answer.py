"""``kgraph query assignments`` from the build's kept facts, beside the query, in one run.

Issue 12 asks every named query under 1 s at 20,000 plans; ``assignments`` of a national
directive took the query 2.9 CPU-s (4.1 s wall at the command line). This tree answers it from
the plans' assignment facts the build keeps and the names the store states
(:mod:`kgraph.analysis.assignments_answer`). Two measurements, old code beside new:

* **the command line, fresh processes**: for each ``--doc``, ``kgraph query assignments -p
  doc=D -f csv`` by the old tree (``--old-src``: the query) and by this one (the kept facts),
  alternated ``--repeat`` times, median wall and CPU seconds, their ratio, and whether the CSV
  is this tree's query's (byte for byte) and the old tree's (the same rows; the old query left
  rows alike in plan, item and agency in the engine's grouping order: counted);
* **the API's first request** in a fresh server process (first page, then the CSV), old and new;
* **every document carried out by others** (``--all``): in one process, this tree's query
  and its kept answer for each, same CSV or not, and the seconds of both.

The store must keep the facts (a store this tree built). ``--facts-copy DIR``: a hard-link
copy of ``--store`` (its ``derived/`` copied) given the facts first, as the first build after
the upgrade keeps them (every graph read).

Run: ``.venv/bin/python bench/bench_assignments_answer.py --store STORE --doc 28-CT/TW
--doc 488/KH-UBND [--old-src /work/wt/base/src] [--facts-copy /tmp/x] [--all] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cli(src: Path, store: Path, doc: str) -> tuple[float, float, str]:
    """One fresh ``kgraph query assignments``: wall, CPU (the child's), its CSV."""
    before = os.times()
    started = time.perf_counter()
    command = [str(Path(sys.executable).parent / "kgraph"), "query", "assignments", "-p",
               f"doc={doc}", "--store", str(store), "-f", "csv"]
    done = subprocess.run(command,
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(src)})
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    return wall, cpu, done.stdout


# The API's first request for a document in a fresh server process (its first page, then the
# CSV): seconds of each, printed as JSON.
_API = r"""
import json, sys, time
from pathlib import Path
from fastapi.testclient import TestClient
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app
repo = OxigraphRepository(Path(sys.argv[1]), read_only=True)
with TestClient(create_app(repo)) as client:
    times = []
    for params in ({"doc": sys.argv[2]}, {"doc": sys.argv[2], "format": "csv"}):
        started = time.perf_counter()
        response = client.get("/api/queries/assignments", params=params)
        assert response.status_code == 200
        times.append(time.perf_counter() - started)
print(json.dumps(times))
"""


def api(src: Path, store: Path, doc: str) -> list[float]:
    done = subprocess.run([sys.executable, "-c", _API, str(store), doc], capture_output=True,
                          text=True, check=True, env={**os.environ, "PYTHONPATH": str(src)})
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def compare_api(args: argparse.Namespace, store: Path) -> None:
    print(f"\n{'doc':<15}{'old 1st page':>13}{'new 1st page':>13}{'ratio':>7}{'old CSV':>8}"
          f"{'new CSV':>8}  (/api/queries/assignments, a fresh server each, seconds)  load")
    for doc in args.doc:
        old = api(args.old_src, store, doc)
        new = api(ROOT / "src", store, doc)
        print(f"{doc:<15}{old[0]:>13.3f}{new[0]:>13.3f}{old[0] / new[0]:>6.1f}×{old[1]:>8.3f}"
              f"{new[1]:>8.3f}  {load()}")


def ties(text: str) -> int:
    """Rows whose plan, item and agency (the old ORDER BY) another row shares."""
    rows = list(csv.reader(io.StringIO(text)))[1:]
    keys = [(r[1], r[0], r[2], r[3]) for r in rows]
    return len(keys) - len(set(keys))


def with_facts(store: Path, target: Path) -> Path:
    from bench_one_plan import copy_store
    from kgraph.analysis import assignments_answer
    from kgraph.store.derived import store_root
    from kgraph.store.embedded import OxigraphRepository

    copy_store(store, target)
    repo = OxigraphRepository(target)
    started = time.perf_counter()
    kept = assignments_answer.keep(repo, store_root(repo), None, None)
    assert kept is not None
    print(f"facts kept for {len(kept.plans)} plans in {len(kept.parts)} parts: "
          f"{time.perf_counter() - started:.1f} s (load {load()})")
    return target


def compare_cli(args: argparse.Namespace, store: Path) -> None:
    from kgraph.analysis.queries import named_queries, run_named, to_csv
    from kgraph.store.embedded import OxigraphRepository

    repo = OxigraphRepository(store, read_only=True)
    query = named_queries()["assignments"]
    print(f"\n{'doc':<15}{'rows':>7}{'old wall':>9}{'new wall':>9}{'ratio':>7}{'old CPU':>8}"
          f"{'new CPU':>8}  same CSV as this tree's query / as the old query's rows  load")
    for doc in args.doc:
        old: list[tuple[float, float]] = []
        new: list[tuple[float, float]] = []
        for _ in range(args.repeat):  # alternated: a change of load touches both
            wall, cpu, old_csv = cli(args.old_src, store, doc)
            old.append((wall, cpu))
            wall, cpu, new_csv = cli(ROOT / "src", store, doc)
            new.append((wall, cpu))
        queried = to_csv(run_named(query, repo, {"doc": doc}))
        same = "yes" if new_csv == queried else "NO"
        same_old = ("yes" if new_csv == old_csv else
                    f"same rows, {ties(old_csv)} rows tie on the old keys" if sorted(
                        new_csv.splitlines()) == sorted(old_csv.splitlines()) else "NO")
        old_wall = statistics.median(w for w, _ in old)
        new_wall = statistics.median(w for w, _ in new)
        print(f"{doc:<15}{new_csv.count(chr(10)) - 1:>7}{old_wall:>9.2f}{new_wall:>9.2f}"
              f"{old_wall / new_wall:>6.1f}×{statistics.median(c for _, c in old):>8.2f}"
              f"{statistics.median(c for _, c in new):>8.2f}  {same} / {same_old}  {load()}")


def compare_all(store: Path) -> None:
    from kgraph.analysis.queries import named_queries, run_named, to_csv
    from kgraph.cli import kept_result
    from kgraph.store.embedded import OxigraphRepository

    repo = OxigraphRepository(store, read_only=True)
    query = named_queries()["assignments"]
    docs = sorted({str(row[0]) for row in repo.query(
        """PREFIX kg: <https://w3id.org/kgraph/def#>
        PREFIX eli: <http://data.europa.eu/eli/ontology#>
        SELECT DISTINCT ?n WHERE { ?p kg:implements ?d . ?d eli:id_local ?n }""").rows})
    queried = kept = 0.0
    different: list[str] = []
    rows = 0
    for doc in docs:
        started = time.perf_counter()
        expected = to_csv(run_named(query, repo, {"doc": doc}))
        middle = time.perf_counter()
        found = kept_result(repo, "assignments", {"doc": doc})
        ended = time.perf_counter()
        queried += middle - started
        kept += ended - middle
        rows += expected.count("\n") - 1
        if found is None or to_csv(found) != expected:
            different.append(doc)
    print(f"\nevery document carried out by others: {len(docs)} documents, {rows} rows; "
          f"same CSV: {len(docs) - len(different)}/{len(docs)} {different[:5]}; query "
          f"{queried:.1f} s, kept {kept:.1f} s in one process ({queried / kept:.1f}×) "
          f"(load {load()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--doc", action="append", default=[])
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--facts-copy", type=Path, default=None)
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"bench_assignments_answer: store {args.store}, old {args.old_src}, load {load()}")
    store = with_facts(args.store, args.facts_copy) if args.facts_copy else args.store
    if args.doc:
        compare_cli(args, store)
        compare_api(args, store)
    if args.all:
        compare_all(store)


if __name__ == "__main__":
    main()
