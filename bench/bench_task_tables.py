"""Task tables read by their layout: what the new reader finds and what it costs, against the
old reader in the same run.

Why: a task table is now also read when a reader or OCR left it one cell per line, when its
rows wrap or its cells come between tabs; the line-per-cell scan looks at every line of every
plan, so its cost on plans with no table matters as much as what it finds in those with one.
The old ``tasks.py`` (``--old-src``) is loaded beside the new one in the same process (the
rest of the extractor is shared), and both read the same texts in alternation.

Run: ``python bench/bench_task_tables.py --old-src /work/wt/base36/src [--corpus DIR]
[--limit N] [--damage-seeds 0,1,2]``; prints per reader the table tasks found, with a lead,
with coordinators, the time, the new/old ratio and the load average.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

from kgraph.ingest import tasks as new_tasks
from kgraph.ingest.text import normalise_controls
from kgraph.reference.matching import default_matcher


def _old(src: Path):
    spec = importlib.util.spec_from_file_location("old_tasks", src / "kgraph/ingest/tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/kg-bench/corpus-2000"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--damage-seeds", default="",
                        help="read copies damaged by bench/ocr_damage.py at these seeds (0,1,2)")
    args = parser.parse_args()
    old = _old(args.old_src)
    matcher = default_matcher()
    files = sorted(args.corpus.glob("*.txt"))[: args.limit or None]
    texts = [normalise_controls(f.read_text(encoding="utf-8")) for f in files]
    if args.damage_seeds:  # simulated English-only OCR of the same plans
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from ocr_damage import damage, load_model

        model = load_model()
        seeds = [int(s) for s in args.damage_seeds.split(",")]
        texts = [normalise_controls(damage(t, model, seed)) for t in texts for seed in seeds]
    readers = {"old": old.table_tasks, "new": new_tasks.table_tasks}
    spent = dict.fromkeys(readers, 0.0)
    found = {name: [0, 0, 0, 0] for name in readers}  # tasks, lead, coordinators, plans
    kept = 0  # rows the old reader found that the new one finds alike
    for text in texts:
        got = {}
        for name, read in readers.items():
            best = float("inf")
            for _ in range(args.runs):
                start = time.perf_counter()
                rows = read(text, matcher, None)
                best = min(best, time.perf_counter() - start)
            spent[name] += best
            got[name] = rows
            f = found[name]
            f[0] += len(rows)
            f[1] += sum(bool(t.lead) for t in rows)
            f[2] += sum(bool(t.coordinators) for t in rows)
            f[3] += bool(rows)
        new_rows = {(t.no, t.text, t.deadline, tuple(m.raw for m in t.lead)) for t in got["new"]}
        kept += sum((t.no, t.text, t.deadline, tuple(m.raw for m in t.lead)) in new_rows
                    for t in got["old"])
    damaged = f", damaged at seeds {args.damage_seeds}" if args.damage_seeds else ""
    print(f"corpus {args.corpus}{damaged} ({len(texts)} texts), best of {args.runs}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'reader':8}{'plans':>7}{'tasks':>8}{'lead':>8}{'coord':>8}{'seconds':>10}")
    for name in readers:
        f = found[name]
        print(f"{name:8}{f[3]:>7}{f[0]:>8}{f[1]:>8}{f[2]:>8}{spent[name]:>10.3f}")
    print(f"time new/old {spent['new'] / spent['old']:.2f}; rows of the old reader the new one "
          f"reads alike (number, text, deadline, lead): {kept}/{found['old'][0]}")


if __name__ == "__main__":
    sys.exit(main())
