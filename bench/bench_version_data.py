"""The pages' per-version data after a small build: updated from the last version's, or
computed from the whole store, side by side, with the same answers checked.

At national scale the data the pages keep per store version (the home listing and its search,
the explorer's label index and facets, the graph names and quad count, the reference change
events) took minutes to compute from the whole store (20,000 plans: home listing 24 s,
explorer data 75-84 s), so the first ``/`` and ``/api/facets`` after a build waited for them.
A build now records which graphs it replaced and ``kgraph build`` updates the data from the
version it started from (:mod:`kgraph.analysis.versions`, stage "page data").

For each plan given (``--new``, added one at a time with ``kgraph build PLAN --store COPY`` in
a fresh process), this prints the stage's seconds as the build printed them, then recomputes
every value from the whole new version in this process (timed: the baseline) and checks that
the kept value equals it: listing, explorer nodes, facets, search hits for a few queries,
graph names, quad count, change events. The first build must start from a version whose
data was computed (``--prepare`` computes it from the whole store first, timed).

Run: ``.venv/bin/python bench/bench_version_data.py --store /tmp/s20/store-2000 --new A.txt
--new B.txt [--prepare] [--workdir DIR] [--keep]`` (the store is copied: hard links for RocksDB
files, a real copy of ``derived/``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ("ubnd", "so y te", "gia lai", "28 ct tw", "ke hoach ubnd", "tinh uy", "bo chinh tri")


def copy_store(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, copy_function=os.link,
                    ignore=shutil.ignore_patterns("derived", "kgraph.lock"))
    if (source / "derived").is_dir():
        shutil.copytree(source / "derived", target / "derived")


def timed(compute: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = compute()
    return value, time.perf_counter() - started


def prepare(store: Path) -> None:
    """Compute every value of the current version from the whole store (kept on disk; what
    an older code kept is dropped first)."""
    from kgraph.store.derived import version_folders
    from kgraph.store.embedded import OxigraphRepository
    from kgraph.web.warm import page_data

    repo = OxigraphRepository(store, read_only=True)
    folders = version_folders(repo)
    for name in ("graph-names", "triple-count", "home-listing", "home-search-index",
                 "change-events", "explorer-index"):
        if folders is not None:
            (store / "derived" / folders[1] / f"{name}.pickle").unlink(missing_ok=True)
    for name, compute in page_data(repo):
        if name == "RACI list":
            continue
        _, seconds = timed(compute)
        print(f"  prepare {name}: {seconds:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)


def check(store: Path) -> bool:
    """Each kept value of the current version against the same value from the whole store."""
    from kgraph.analysis.succession import _change_events
    from kgraph.store.derived import version_value
    from kgraph.store.embedded import OxigraphRepository
    from kgraph.web.explore import ExplorerData
    from kgraph.web.pages import ListingSearch, document_listing

    repo = OxigraphRepository(store, read_only=True)
    same = True

    def compare(name: str, kept: Any, whole: Any, seconds: float) -> None:
        nonlocal same
        equal = kept == whole
        same &= equal
        print(f"  {name}: whole store {seconds:.2f} s; kept = whole: {'yes' if equal else 'NO'}",
              flush=True)

    listing, seconds = timed(lambda: document_listing(repo))
    compare("home listing", version_value(repo, "home-listing"), listing, seconds)
    search, whole = version_value(repo, "home-search-index"), ListingSearch.of(listing)
    asked = [("", ""), ("gia-lai", "gia lai"), ("kh-ubnd", "kh-ubnd"), ("k", "k"),
             ("28-ct-tw", "28-ct/tw"), ("ha-noi", "hà nội"), ("zzq", "zzq")]
    compare("home search", [search.rows(*q) for q in asked] if search else None,
            [whole.rows(*q) for q in asked], 0.0)
    explorer, seconds = timed(lambda: ExplorerData.of(repo))
    kept = version_value(repo, "explorer-index")
    compare("explorer nodes", getattr(kept, "nodes", None), explorer.nodes, seconds)
    compare("facets", getattr(kept, "facets", None), explorer.facets, 0.0)
    hits = {q: explorer.index.search(q, 50) for q in QUERIES}
    compare("search hits", {q: kept.index.search(q, 50) for q in QUERIES} if kept else None,
            hits, 0.0)
    names, seconds = timed(repo.graph_names)
    compare("graph names", version_value(repo, "graph-names"), names, seconds)
    count, seconds = timed(lambda: len(repo))
    compare("quad count", version_value(repo, "triple-count"), count, seconds)
    events, seconds = timed(lambda: _change_events(repo))
    compare("change events", version_value(repo, "change-events"), events, seconds)
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--new", type=Path, action="append", required=True)
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-version-data"))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--in-place", action="store_true",
                        help="build into --store itself (a copy made before)")
    args = parser.parse_args()
    copy = args.store if args.in_place else args.workdir / "store"
    if not args.in_place:
        copy_store(args.store, copy)
    try:
        if args.prepare:
            prepare(copy)
        same = True
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "400"}
        for plan in args.new:
            load = os.getloadavg()[0]
            started = time.perf_counter()
            done = subprocess.run([str(Path(sys.executable).parent / "kgraph"), "build", str(plan),
                                   "--store", str(copy)], env=env, capture_output=True,
                                  text=True)
            wall = time.perf_counter() - started
            stages = re.search(r"stages\s+(.*)", done.stdout)
            print(f"{plan.name}: kgraph build {wall:.1f} s (load {load:.1f}), exit "
                  f"{done.returncode}; {stages.group(1).strip() if stages else done.stderr[-300:]}",
                  flush=True)
            same &= check(copy)
        print(f"same answers: {'yes' if same else 'NO'}")
    finally:
        if not args.keep and not args.in_place:
            shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
