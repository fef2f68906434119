"""Every named query at the command line, whole process, old code beside new, on one store.

Why: issue 12 asks every named query under 1 s as a user runs it (``kgraph query NAME -f csv``,
a fresh process: start, imports, the answer, the CSV written). At 20,000 plans a national
directive's coverage is 56,000 rows and 24 MB of CSV, and process start is a third of the wall.
Each case runs ``--runs`` times per code, the two codes in turn (same machine load), each in a
fresh process with its PYTHONPATH; printed per case: median wall and CPU seconds (user + system
of the process) of old and new, the ratio new / old, the rows, and whether the two CSVs are the
same bytes (md5). The load average is printed before and after. The store is opened read-only
by both codes (point it at a copy if either code may keep derived values there).

Run: ``python bench/bench_query_cli.py --store COPY --old-src OLD/src [--runs 3] [--only NAME]``
(``--plan`` / ``--leaf`` / ``--province`` change the asked values; the defaults are the synthetic
corpus's).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KGRAPH = str(Path(sys.executable).parent / "kgraph")


def cases(directive: str, plan: str, province: str, agency: str) -> list[tuple[str, list[str]]]:
    """The named queries and values a user asks (the sweep of the integrator's runs)."""
    return [
        ("implementers", [f"doc={directive}"]),
        ("assignments", [f"doc={directive}"]),
        ("assignments", [f"doc={plan}"]),
        ("directive-coverage", [f"doc={directive}"]),
        ("directive-coverage", [f"doc={directive}", f"province={province}"]),
        ("lineage", [f"doc={plan}"]),
        ("agency", [f"agency={agency}"]),
        ("agency", [f"agency={agency}", f"province={province}"]),
        ("conflicts", [f"doc={directive}"]),
        ("conflicts", []),
        ("audit_conflicts", []),
        ("deadlines", [f"doc={plan}", "date=2026-01-01"]),
        ("deadlines", ["date=2026-01-01"]),
        ("reporting", [f"doc={plan}"]),
        ("reporting", []),
        ("responsible-today", [f"doc={plan}", "date=2026-01-01"]),
    ]


def run(src: Path, store: Path, name: str, values: list[str]) -> tuple[float, float, str, int]:
    """Wall and CPU seconds of one ``kgraph query`` process, its CSV's md5 and row count."""
    env = dict(os.environ, PYTHONPATH=str(src))
    args = [KGRAPH, "query", name, *[x for v in values for x in ("-p", v)], "-f", "csv",
            "--store", str(store)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{name} {values}: {done.stderr.decode()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, hashlib.md5(done.stdout).hexdigest(), done.stdout.count(b"\n") - 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", action="append", default=[], help="query names")
    parser.add_argument("--directive", default="28-CT/TW")
    parser.add_argument("--plan", default="488/KH-UBND")
    parser.add_argument("--province", default="Gia Lai")
    parser.add_argument("--agency", default="Sở Y tế")
    args = parser.parse_args(argv)
    trees = {"old": args.old_src.resolve(), "new": ROOT / "src"}
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}", flush=True)
    print(f"{'query':<58} {'old wall':>8} {'new wall':>8} {'new/old':>7} {'old cpu':>7} "
          f"{'new cpu':>7} {'rows':>6} same")
    for name, values in cases(args.directive, args.plan, args.province, args.agency):
        if args.only and name not in args.only:
            continue
        got: dict[str, list[tuple[float, float, str, int]]] = {"old": [], "new": []}
        for _ in range(args.runs):
            for code, src in trees.items():
                got[code].append(run(src, args.store, name, values))
        wall = {c: statistics.median(r[0] for r in got[c]) for c in got}
        cpu = {c: statistics.median(r[1] for r in got[c]) for c in got}
        same = {r[2] for r in got["old"]} == {r[2] for r in got["new"]}
        label = f"{name} {' '.join(values)}"
        print(f"{label:<58} {wall['old']:8.2f} {wall['new']:8.2f} "
              f"{wall['new'] / wall['old']:7.2f} {cpu['old']:7.2f} {cpu['new']:7.2f} "
              f"{got['new'][0][3]:>6} {'same' if same else 'DIFFERENT'}", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
