"""Every plan's deadlines and reporting duties at national size, old code beside new.

The named queries and ``/api/deadlines`` take a plan, or none: then every plan's rows (20,000
dated duties and 50,730 reporting duties at 20,000 plans). Printed, for ``--old-src`` and this
tree, each on the same store (``kgraph serve`` on a copy the servers may write derived data
into), with the ratio old / new:

* the facts the new build keeps per plan (:mod:`kgraph.analysis.duties_answer`), kept first
  for the copy's version as a full build keeps them (its stage's wall and CPU s; the old code
  reads none);
* the command line: ``kgraph query deadlines`` and ``kgraph query reporting`` without a plan
  (wall s of the whole process, CSV to a pipe) and the md5 of their output: the first request
  after a build (nothing made from the facts yet), then the median of three fresh processes
  (the first of them included: what the ones before it kept is read again);
* the API: ``/api/deadlines`` and ``/api/queries/reporting`` (CSV) without a plan, the first
  request of a fresh server started without its warm-up (after a build: nothing kept) and the
  median of ``--runs`` warm ones (s), and the rows or bytes one carries.

What is made once per version (``derived/*/every-deadline*.pickle``,
``derived/*/reporting-answer-*.pickle``) is removed before each first request.

With ``--new PLAN`` (twice ``--first-runs`` plans), **first after a one-plan build**: each code
on its own copy of ``--store`` (``bench_one_plan.copy_store``) whose version has both answers
made (as a store in use has them), ``--first-runs`` times: ``kgraph build PLAN`` (wall s), then
``kgraph query reporting`` and ``deadlines`` (every plan, CSV) in fresh processes, the first
after the build and then again (warm); then as many times a build and a fresh server
(``--no-warm``) whose first ``/api/queries/reporting`` and ``/api/queries/deadlines`` (CSV) are
timed. Medians printed, old / new, and the md5s of every answer, with the queries' own (the
``reporting`` query run by the engine, every plan's dated parts read by the deadlines' query)
on the new copy's version of the last command-line run.

With ``--chain N`` (N ≥ 2; ``--new`` N plans), **first after N one-plan builds nobody asked
between**: each code, ``--first-runs`` times, on a fresh copy of ``--store`` (whose version has
both answers, as a full build leaves it): ``kgraph build`` of each plan in turn (no query
between), then the first ``kgraph query reporting`` and ``deadlines`` (every plan, CSV), in fresh
processes; then again on another fresh copy, the N builds and a fresh server (``--no-warm``)
whose first ``/api/queries/reporting`` and ``/api/queries/deadlines`` (CSV) are timed. Medians,
old / new, the md5s of every answer and the queries' own on the new code's last version.

Run: ``python bench/bench_national_lists.py --store COPY --old-src OLD/src [--runs 5]
[--new A.txt --new B.txt ... --first-runs 3 --workdir DIR] [--skip-lists]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import KGRAPH, serve

ROOT = Path(__file__).resolve().parents[1]
DATE = "2026-01-01"


def forget(store: Path) -> None:
    """The store as a build leaves it: nothing made from its facts yet."""
    for pattern in ("every-deadline*.pickle", "reporting-answer-*.pickle"):
        for kept in store.glob(f"derived/*/{pattern}"):
            kept.unlink()


KEEP = """import resource, sys, time
from pathlib import Path
from kgraph.analysis import duties_answer, plan_parts
from kgraph.store.derived import store_root
from kgraph.store.embedded import OxigraphRepository
repo = OxigraphRepository(Path(sys.argv[1]), read_only=True)
started, cpu = time.perf_counter(), time.process_time()
kept = plan_parts.keep(duties_answer.FAMILY, repo, store_root(repo), None, None)
print(f"{time.perf_counter() - started:.2f} {time.process_time() - cpu:.2f} {len(kept.plans)}")
"""


def keep_facts(store: Path) -> tuple[float, float, int]:
    """The duties' facts of the store's version, kept as a full build of the new code keeps
    them: wall and CPU s, plans."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", KEEP, str(store)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def cli(src: Path, store: Path, name: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    out = subprocess.run(
        [KGRAPH, "query", name, *(["-p", f"date={DATE}"] if name == "deadlines" else []),
         "--store", str(store), "-f", "csv"], env=env, check=True, capture_output=True,
        stdin=subprocess.DEVNULL)
    return time.perf_counter() - started, hashlib.md5(out.stdout).hexdigest()[:10]


def api(src: Path, store: Path, runs: int) -> dict[str, tuple[float, float, int]]:
    """Each route's first request of a fresh server (nothing kept) and its warm median (s),
    and the rows (deadlines) or bytes (reporting's CSV) one answer carries."""
    forget(store)
    server, url = serve(store, warm=False, env={**os.environ, "PYTHONPATH": str(src)})
    routes = {"/api/deadlines": {"date": DATE},
              "/api/queries/reporting": {"format": "csv"}}
    found = {}
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            for path, params in routes.items():
                def get(path: str = path, params: dict[str, str] = params) -> tuple[float, int]:
                    started = time.perf_counter()
                    response = client.get(path, params=params)
                    response.raise_for_status()
                    size = (len(response.json()["rows"]) if path == "/api/deadlines"
                            else len(response.content))
                    return time.perf_counter() - started, size

                first, size = get()
                warm = statistics.median(get()[0] for _ in range(runs))
                found[path] = (first, warm, size)
        return found
    finally:
        server.kill()
        server.wait()


QUERIED = """import hashlib, sys
from pathlib import Path
from kgraph.analysis import queries, succession
from kgraph.analysis.queries import named_queries, to_csv
from kgraph.store.embedded import OxigraphRepository, query_records
repo = OxigraphRepository(Path(sys.argv[1]), read_only=True)
reporting = to_csv(queries.run_named(named_queries()["reporting"], repo, {"doc": ""}))
records = query_records(repo, succession.PREFIXES + succession._EVERY_DEADLINE)
rows = succession._deadline_rows(records, succession.parse_date(sys.argv[2]),
                                 succession.DUE_WINDOW_DAYS)
deadlines = to_csv(succession.as_query_result(rows, succession.DEADLINE_COLUMNS))
for text in (reporting, deadlines):
    print(hashlib.md5(text.encode("utf-8")).hexdigest()[:10])
"""


def queried(store: Path) -> tuple[str, str]:
    """The md5s of the queries' own CSVs (every plan's reporting duties, deadlines on DATE)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", QUERIED, str(store), DATE], env=env,
                         check=True, capture_output=True, text=True).stdout.split()
    return out[0], out[1]


def build(src: Path, store: Path, plan: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    subprocess.run([KGRAPH, "build", str(plan), "--store", str(store)], env=env, check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def first_api(src: Path, store: Path, found: dict[str, list[tuple[float, str]]]) -> None:
    """A fresh server (``--no-warm``): its first ``/api/queries/reporting`` and ``deadlines``
    (CSV), wall s and md5, into ``found``."""
    server, url = serve(store, warm=False, env={**os.environ, "PYTHONPATH": str(src)})
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            for name in ("reporting", "deadlines"):
                params = {"format": "csv", **({"date": DATE} if name == "deadlines" else {})}
                started = time.perf_counter()
                response = client.get(f"/api/queries/{name}", params=params)
                response.raise_for_status()
                found.setdefault(f"api {name} first", []).append(
                    (time.perf_counter() - started,
                     hashlib.md5(response.content).hexdigest()[:10]))
    finally:
        server.kill()
        server.wait()


def first_after_builds(src: Path, store: Path, plans: list[Path], runs: int, query: bool
                       ) -> dict[str, list[tuple[float, str]]]:
    """Each measure's (wall s, md5 or "") per run, on ``store`` (a copy for this code); with
    ``query``, the md5s of the queries' own answers on the version of the last command-line
    run."""
    found: dict[str, list[tuple[float, str]]] = {}
    names = ("reporting", "deadlines")
    for name in names:  # the version before has its answers, as a store in use has them
        cli(src, store, name)
    for plan in plans[:runs]:
        found.setdefault("build", []).append((build(src, store, plan), ""))
        for when in ("first", "warm"):
            for name in names:
                found.setdefault(f"cli {name} {when}", []).append(cli(src, store, name))
    if query:
        print("the queries' own md5s after the last build above (reporting, deadlines): "
              + ", ".join(queried(store)))
    for plan in plans[runs:2 * runs]:
        build(src, store, plan)
        first_api(src, store, found)
    return found


def first_after_chain(src: Path, args: argparse.Namespace, copy: Path, query: bool,
                      found: dict[str, list[tuple[float, str]]]) -> None:
    """One run of each measure (wall s, md5 or "") into ``found``: ``--chain`` one-plan builds
    nobody asked between (each timed) before each first ask, on a fresh copy of ``--store``
    each time (with ``query``: the md5s of the queries' own answers on the version of the
    command-line asks)."""
    from bench_one_plan import copy_store

    plans = args.new[:args.chain]
    copy_store(args.store, copy)
    for i, plan in enumerate(plans):
        found.setdefault(f"build {i + 1} of {len(plans)}", []).append((build(src, copy, plan), ""))
    for name in ("reporting", "deadlines"):
        found.setdefault(f"cli {name} first", []).append(cli(src, copy, name))
    if query:
        print("the queries' own md5s after the builds above (reporting, deadlines): "
              + ", ".join(queried(copy)), flush=True)
    copy_store(args.store, copy)
    for plan in plans:
        build(src, copy, plan)
    first_api(src, copy, found)
    shutil.rmtree(copy)


def first_table(args: argparse.Namespace, trees: dict[str, Path]) -> None:
    from bench_one_plan import copy_store

    runs = args.first_runs
    wanted = args.chain if args.chain > 1 else 2 * runs
    if len(args.new) < wanted:
        raise SystemExit(f"--new: {wanted} plans wanted")
    found: dict[str, dict[str, list[tuple[float, str]]]] = {tree: {} for tree in trees}
    if args.chain > 1:  # the codes in turn, the order swapped every run
        for run in range(runs):
            for tree, src in list(trees.items())[::1 if run % 2 == 0 else -1]:
                first_after_chain(src, args, args.workdir / f"lists-{tree}",
                                  tree == "new" and run == runs - 1, found[tree])
    for tree, src in trees.items() if args.chain <= 1 else ():
        copy = args.workdir / f"lists-{tree}"
        copy_store(args.store, copy)
        found[tree] = first_after_builds(src, copy, args.new, runs, tree == "new")
        if not args.keep:
            shutil.rmtree(copy)
    after = (f"{args.chain} one-plan builds nobody asked between" if args.chain > 1
             else "a one-plan build")
    print(f"load {os.getloadavg()[0]:.2f}; first after {after}, median of {runs}")
    print("| measure | old | new | old/new | md5s old / new |\n|---|---|---|---|---|")
    for measure in found["new"]:
        old = [t for t, _ in found["old"][measure]]
        new = [t for t, _ in found["new"][measure]]
        o, n = statistics.median(old), statistics.median(new)
        md5s = (f"{sorted({m for _, m in found['old'][measure]})} / "
                f"{sorted({m for _, m in found['new'][measure]})}"
                if not measure.startswith("build") else "")
        print(f"| {measure}, s (runs {', '.join(f'{t:.2f}' for t in new)}) | {o:.2f} | "
              f"{n:.2f} | {o / n:.1f}× | {md5s} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--new", type=Path, action="append", default=[])
    parser.add_argument("--first-runs", type=int, default=3)
    parser.add_argument("--chain", type=int, default=1,
                        help="one-plan builds nobody asks between before the first ask")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-lists", action="store_true",
                        help="only the first requests after one-plan builds")
    args = parser.parse_args()
    trees = {"old": args.old_src, "new": ROOT / "src"}
    print(f"load {os.getloadavg()[0]:.2f}; store {args.store}")
    if args.new:
        first_table(args, trees)
    if args.skip_lists:
        return
    wall, cpu, plans = keep_facts(args.store)
    print(f"duties' facts kept for the copy's version (new code, a full build's stage): "
          f"{wall:.2f} s wall, {cpu:.2f} CPU-s, {plans} plans")
    print("| measure | old | new | old/new |\n|---|---|---|---|")
    for name in ("deadlines", "reporting"):
        found = []
        for src in trees.values():
            forget(args.store)
            runs = [cli(src, args.store, name) for _ in range(3)]
            found.append((runs[0], statistics.median(t for t, _ in runs),
                          {md5 for _, md5 in runs}))
        (old_first, _), old_median, old_all = found[0]
        (new_first, _), new_median, new_all = found[1]
        same = ("same output" if old_all == new_all and len(old_all) == 1
                else f"output {sorted(old_all)} / {sorted(new_all)}")
        print(f"| kgraph query {name} (every plan), first after a build, s; {same} | "
              f"{old_first:.2f} | {new_first:.2f} | {old_first / new_first:.1f}× |")
        print(f"| kgraph query {name} (every plan), median of 3 fresh processes, s | "
              f"{old_median:.2f} | {new_median:.2f} | {old_median / new_median:.1f}× |")
    old_api, new_api = (api(src, args.store, args.runs) for src in trees.values())
    for path in old_api:
        (o_first, o_warm, o_size), (n_first, n_warm, n_size) = old_api[path], new_api[path]
        print(f"| {path} (every plan), first s | {o_first:.2f} | {n_first:.2f} | "
              f"{o_first / n_first:.1f}× |")
        print(f"| {path} (every plan), warm p50 s | {o_warm:.3f} | {n_warm:.3f} | "
              f"{o_warm / n_warm:.1f}× |")
        print(f"| {path}: {'rows' if path == '/api/deadlines' else 'bytes'} in one answer | "
              f"{o_size} | {n_size} | |")
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
