"""The audit index's update step after a small build, old code beside new in one run.

Why: after ``kgraph build NEW.txt …`` the audit index of the version before is brought up to
date in place; what that step costs (and whether it takes the lookup path or works every
cohort out again) decides the audit stage of every small build at national scale.

Give it a store that has just been built (``--store``, a *copy*: nothing is written into it
but kept per-document values) and the index file of its version before (``--previous``, a copy
of ``<store>/derived/audit.sqlite`` taken before that build). Each run copies ``--previous``
into ``--workdir`` and brings it up to date in a fresh process (``compute_index``), the new code
(this tree) and the old one (``--old-src``) alternately, ``--runs`` times each: wall and CPU
seconds with the load average, the steps, whether every cohort was worked out again, ratios of
the medians. Then the two updated files are compared (peer gaps by IRIs, other findings,
counts, peer lists and cohorts by IRIs).

Run: ``.venv/bin/python bench/bench_audit_update.py --store COPY --previous OLD.sqlite
--old-src CHECKOUT/src --workdir DIR [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_audit import same_index

_STEP = r"""
import json, os, shutil, sys, time
from pathlib import Path
import kgraph.analysis.audit_index as ai
from kgraph.store.embedded import open_repository
store, previous, target = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
for path in target.parent.glob(target.name + "*"):
    path.unlink()
shutil.copy(previous, target)
with open(target, "rb") as copied:  # the copy on disk first: else the update's checkpoint
    os.fsync(copied.fileno())  # (its fsync) writes the whole copy and is timed with it
repo = open_repository(store, read_only=True)
worked_out = []
real = ai.cohort_groups
ai.cohort_groups = lambda *args: worked_out.append(1) or real(*args)
started, cpu = time.perf_counter(), time.process_time()
index = ai.compute_index(repo, target)
print(json.dumps({"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                  "every cohort": bool(worked_out), "steps": index.seconds}))
"""


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def step(src: Path, store: Path, previous: Path, target: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", _STEP, str(store), str(previous), str(target)],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"update failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def by_iris(path: Path) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    """Peer lists and cohorts with row ids turned into IRIs."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    iris = dict(db.execute("SELECT id, iri FROM documents"))
    peer_sets = {(iris[plan], directive, tuple(iris[int(p)] for p in peers.split(",") if p))
                 for plan, directive, peers in db.execute("SELECT * FROM peer_sets")}
    cohorts = {(*row[:3], iris[row[3]], *row[4:]) for row in db.execute("SELECT * FROM cohorts")}
    db.close()
    return peer_sets, cohorts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--previous", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    new_src = Path(__file__).resolve().parents[1] / "src"
    runs: dict[str, list[dict[str, object]]] = {"old": [], "new": []}
    for _ in range(args.runs):
        for name, src in (("old", args.old_src), ("new", new_src)):
            before = load()
            run = step(src, args.store, args.previous, args.workdir / f"{name}.sqlite")
            runs[name].append(run)
            steps = ", ".join(f"{k} {v:.2f}" for k, v in run["steps"].items())  # type: ignore[union-attr]
            print(f"{name}: {run['wall']:.2f} s wall, {run['cpu']:.2f} CPU-s, every cohort "
                  f"worked out: {run['every cohort']} (load {before}); cumulative steps: {steps}",
                  flush=True)
    medians = {name: (statistics.median(float(r["wall"]) for r in rs),  # type: ignore[arg-type]
                      statistics.median(float(r["cpu"]) for r in rs))  # type: ignore[arg-type]
               for name, rs in runs.items()}
    (old_wall, old_cpu), (new_wall, new_cpu) = medians["old"], medians["new"]
    print(f"median old {old_wall:.2f} s / {old_cpu:.2f} CPU-s, new {new_wall:.2f} s / "
          f"{new_cpu:.2f} CPU-s: {old_wall / new_wall:.2f}x wall, {old_cpu / new_cpu:.2f}x CPU")
    old_file, new_file = args.workdir / "old.sqlite", args.workdir / "new.sqlite"
    print("same index:", same_index(old_file, new_file))
    old_rows, new_rows = by_iris(old_file), by_iris(new_file)
    print(f"peer lists {len(new_rows[0]):,}: {'equal' if old_rows[0] == new_rows[0] else 'DIFFER'}"
          f"; cohorts {len(new_rows[1]):,}: {'equal' if old_rows[1] == new_rows[1] else 'DIFFER'}")


if __name__ == "__main__":
    main()
