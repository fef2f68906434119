"""A new plan built in a fresh process by two code trees, interleaved (new, old, old, new, ...),
each on its own flushed copy of the store: the CPU-s of each run and the medians. Between separate
``bench_one_plan.py`` runs the fresh row moves by a tenth of a second with the machine's load;
alternating the two codes inside one run lets a change of that size show.

Run: ``PYTHONPATH=src .venv/bin/python bench/one_plan_ab.py --store STORE --new PLAN.txt
[--old-src /work/main/src] [--rounds 4] [--workdir DIR]`` (under the heavy lock).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_one_plan import ROOT, copy_store


def fresh_cpu(src: Path, store: Path, plan: Path) -> tuple[float, float]:
    """``kgraph build PLAN`` in a new process (as ``bench_one_plan.fresh``): CPU-s, wall s."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from kgraph.cli import app; app()", "build",
                    str(plan), "--store", str(store)], capture_output=True, check=False,
                   env={**os.environ, "PYTHONPATH": str(src)})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="store to copy (read-only)")
    parser.add_argument("--new", type=Path, required=True, help="a plan not in the store")
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="kgraph-ab-"))
    work.mkdir(parents=True, exist_ok=True)
    trees = [("new", ROOT / "src"), ("old", args.old_src)]
    found: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in trees}
    try:
        for round_ in range(args.rounds):
            for label, src in trees if round_ % 2 == 0 else trees[::-1]:
                copy_store(args.store, work / "store")
                cpu, wall = fresh_cpu(src, work / "store", args.new)
                found[label].append((cpu, wall))
                print(f"{label} {cpu:.3f} CPU-s {wall:.2f} s wall, load "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {label: statistics.median(c for c, _ in runs) for label, runs in found.items()}
    for label, runs in found.items():
        print(f"{label}: median {medians[label]:.3f} CPU-s, "
              f"{statistics.median(w for _, w in runs):.2f} s wall ({len(runs)} runs)")
    print(f"old/new CPU: {medians['old'] / medians['new']:.2f}×")


if __name__ == "__main__":
    main()
