"""Every plan's deadlines and reporting duties at national size, old code beside new.

The named queries and ``/api/deadlines`` take a plan, or none: then every plan's rows (20,000
dated duties and 50,730 reporting duties at 20,000 plans). Printed, for ``--old-src`` and this
tree, each on the same store (``kgraph serve`` on a copy the servers may write derived data
into), with the ratio old / new:

* the command line: ``kgraph query deadlines`` and ``kgraph query reporting`` without a plan
  (wall s of the whole process, CSV to a pipe) and the md5 of their output; deadlines twice:
  as the first request after a build, then with the facts the first one kept;
* the API: ``/api/deadlines`` without a plan, the first request of a fresh server (after a
  build: nothing kept) and the median of ``--runs`` warm ones (s), and the rows one carries.

Kept facts (``derived/*/every-deadline.pickle``) are removed before each first request.

Run: ``python bench/bench_national_lists.py --store COPY --old-src OLD/src [--runs 5]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import KGRAPH, serve

ROOT = Path(__file__).resolve().parents[1]
DATE = "2026-01-01"


def forget(store: Path) -> None:
    """The store as a build leaves it: no deadline facts kept yet."""
    for kept in store.glob("derived/*/every-deadline.pickle"):
        kept.unlink()


def cli(src: Path, store: Path, name: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    out = subprocess.run(
        [KGRAPH, "query", name, *(["-p", f"date={DATE}"] if name == "deadlines" else []),
         "--store", str(store), "-f", "csv"], env=env, check=True, capture_output=True,
        stdin=subprocess.DEVNULL)
    return time.perf_counter() - started, hashlib.md5(out.stdout).hexdigest()[:10]


def api(src: Path, store: Path, runs: int) -> tuple[float, float, int]:
    forget(store)
    server, url = serve(store, env={**os.environ, "PYTHONPATH": str(src)})
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            def get() -> tuple[float, int]:
                started = time.perf_counter()
                response = client.get("/api/deadlines", params={"date": DATE})
                response.raise_for_status()
                return time.perf_counter() - started, len(response.json()["rows"])

            first, rows = get()
            warm = statistics.median(get()[0] for _ in range(runs))
            return first, warm, rows
    finally:
        server.kill()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    trees = {"old": args.old_src, "new": ROOT / "src"}
    print(f"load {os.getloadavg()[0]:.2f}; store {args.store}")
    print("| measure | old | new | old/new |\n|---|---|---|---|")
    for name, label in (("deadlines", "first"), ("deadlines", "again"), ("reporting", "")):
        found = []
        for src in trees.values():
            if label == "first":
                forget(args.store)
            found.append(cli(src, args.store, name))
        (old, old_md5), (new, new_md5) = found
        same = "same output" if old_md5 == new_md5 else f"output {old_md5} / {new_md5}"
        print(f"| kgraph query {name} (every plan{', ' + label if label else ''}), s; {same} | "
              f"{old:.2f} | {new:.2f} | {old / new:.1f}× |")
    (o_first, o_warm, o_rows), (n_first, n_warm, n_rows) = (
        api(src, args.store, args.runs) for src in trees.values())
    print(f"| /api/deadlines (every plan), first s | {o_first:.2f} | {n_first:.2f} | "
          f"{o_first / n_first:.1f}× |")
    print(f"| /api/deadlines (every plan), warm p50 s | {o_warm:.3f} | {n_warm:.3f} | "
          f"{o_warm / n_warm:.1f}× |")
    print(f"| rows in one answer | {o_rows} | {n_rows} | |")
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
