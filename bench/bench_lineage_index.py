"""The kept lineage's index made from a whole store's lineage, old code beside new.

A full build (and the first build after an upgrade) keeps the lineage it read in parts
(:func:`kgraph.analysis.directive_index._keep_index`): this times that step alone for two code
trees in the same run, on the same lineage (read from ``--store`` once per tree, untimed), and
prints what each keeps: the parts (how many, the largest, all together), the index (read by every
build) and, for each plan given by number (``--plan``), the parts a one-plan build of a plan
carrying out the same documents starts from (those holding the documents it names: what
:func:`~kgraph.analysis.directive_index._continued` reads first). Writes into a temporary folder
only; the store is opened read-only.

Run: ``.venv/bin/python bench/bench_lineage_index.py --store /tmp/kg-bench/store-20000
[--old-src /work/wt/base/src] [--plan 1183/QĐ-TTg ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_RUN = r"""
import json, os, pickle, sys, tempfile, time
from pathlib import Path
from kgraph.analysis import directive_index as di
from kgraph.store.embedded import OxigraphRepository
store, numbers = sys.argv[1], json.loads(sys.argv[2])
lineage = di.Lineage.read(OxigraphRepository(Path(store), read_only=True))
with tempfile.TemporaryDirectory() as folder:
    root = Path(folder)
    started, cpu = time.perf_counter(), time.process_time()
    index = di._keep_index(root, "directive-lineage-bench", lineage, False)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    files = root / "derived" / "documents"
    size = {key: (files / f"{key}.pickle").stat().st_size for key in index.parts.values()}
    by_number = {}
    for number in numbers:  # the parts holding the documents a plan carrying it out names
        named = {d for d, n in ((d, n) for t in lineage.targets.values() for d, n in t)
                 if n == number}
        parts = {p for d in named for p in index.holders.get(d, ())}
        by_number[number] = [len(parts), sum(size[index.parts[p]] for p in parts)]
    print("RESULT " + json.dumps({
        "wall": wall, "cpu": cpu, "load": os.getloadavg()[0], "parts": len(size),
        "largest": max(size.values()), "total": sum(size.values()),
        "index": (files / "directive-lineage-bench.pickle").stat().st_size,
        "plans": len(lineage.plans), "numbers": by_number}))
"""


def run(src: Path, store: Path, numbers: list[str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _RUN, str(store), json.dumps(numbers)],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(src)})
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--plan", action="append", default=[],
                        help="a number plans carry out (the parts naming it are printed)")
    args = parser.parse_args()
    print(f"store {args.store}; load {os.getloadavg()[0]:.2f}", flush=True)
    rows = {}
    for label, src in (("old", args.old_src), ("new", ROOT / "src")):
        rows[label] = row = run(src, args.store, args.plan)
        print(f"  {label}: {row['plans']} plans; index kept in {row['wall']:.2f} s wall, "
              f"{row['cpu']:.2f} CPU-s (load {row['load']:.1f}); {row['parts']} parts, the "
              f"largest {row['largest'] / 1e6:.2f} MB, {row['total'] / 1e6:.1f} MB in all; "
              f"index {row['index'] / 1e6:.2f} MB", flush=True)
        for number, (count, size) in row["numbers"].items():  # type: ignore[union-attr]
            print(f"      a plan carrying out {number}: starts from {count} part(s), "
                  f"{size / 1e6:.2f} MB")
    old, new = rows["old"], rows["new"]
    print(f"new/old: CPU {new['cpu'] / old['cpu']:.2f}x, parts in all "  # type: ignore[operator]
          f"{new['total'] / old['total']:.2f}x, index {new['index'] / old['index']:.2f}x, "  # type: ignore[operator]
          f"largest part {new['largest'] / old['largest']:.2f}x")  # type: ignore[operator]
    for number in args.plan:
        o, n = old["numbers"][number], new["numbers"][number]  # type: ignore[index]
        print(f"  {number}: read first {o[1] / 1e6:.2f} MB -> {n[1] / 1e6:.2f} MB "
              f"({n[1] / max(o[1], 1):.2f}x)")


if __name__ == "__main__":
    main()
