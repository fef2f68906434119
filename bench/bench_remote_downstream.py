"""A document page's "downstream" plans (``kgraph.web.describe._downstream_plans``): old beside new.

The page lists the assignments of the first documents carrying the document out. When those
carrying it out directly are too few, the old code asked ``?plan kg:implements+ <doc>`` (the
engine's transitive evaluation; Virtuoso's ran out of its transitive memory from a national
directive at 20,000 plans); the new code walks the lineage a step a request and asks which
documents give assignments, a chunk at a time in IRI order.

``--listed N`` lists N documents instead of the page's ten: a national directive's few hundred
direct implementers then are "too few", the case of a document with few direct implementers
and a national reach (which the synthetic corpus has not: its provincial plans reach 118).

For each ``--iri`` and each code (``--old-src``, this tree), in a fresh process: the first call
(wall and CPU-s) and the median of ``--repeat`` more, over ``--url`` (Virtuoso) and, with
``--embedded``, over the embedded store; the plans found compared (old vs new, and remote vs
embedded). Printed with the load average.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_remote_downstream.py --url URL --old-src OLD/src
--iri IRI [--iri IRI] [--embedded STORE] [--repeat 5]`` (``KGRAPH_STORE_USER``/``PASSWORD`` set
for a server that asks them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, statistics, sys, time
from kgraph.store.embedded import open_repository
from kgraph.web import describe
store, iri, repeat, listed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if listed:
    describe.DOWNSTREAM_DOCUMENTS = listed
remote = store.startswith("http")
repo = open_repository(store) if remote else open_repository(store, read_only=True)
cpu, wall = time.process_time(), time.perf_counter()
plans = describe._downstream_plans(repo, iri)
first, first_cpu = time.perf_counter() - wall, time.process_time() - cpu
walls = []
for _ in range(repeat):
    wall = time.perf_counter()
    describe._downstream_plans(repo, iri)
    walls.append(time.perf_counter() - wall)
print(json.dumps({"first": first, "first_cpu": first_cpu, "warm": statistics.median(walls),
                  "plans": plans}))
"""


def measure(src: Path, store: str, iri: str, repeat: int, listed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="kgraph-downstream-") as cache:
        done = subprocess.run([sys.executable, "-c", CHILD, store, iri, str(repeat), str(listed)],
                              env={**os.environ, "PYTHONPATH": str(src), "KGRAPH_CACHE": cache},
                              capture_output=True, text=True, timeout=600)
    if done.returncode:
        return {"error": " ".join(done.stderr.split())[-200:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def cell(found: dict[str, object]) -> str:
    if "error" in found:
        return f"failed: {found['error'][:60]}"
    return (f"{found['first']:6.3f} s {found['first_cpu']:5.2f} CPU-s, warm "
            f"{found['warm']:6.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--iri", action="append", required=True)
    parser.add_argument("--embedded", help="an embedded store (read only)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--listed", type=int, default=0, help="documents the page lists "
                        "(default: the page's); more than a document's direct implementers "
                        "make a national directive the case of a document with few of them")
    args = parser.parse_args()
    codes = {"old": args.old_src.resolve(), "new": ROOT / "src"}
    stores = {"Virtuoso": args.url, **({"embedded": args.embedded} if args.embedded else {})}
    print(f"load {os.getloadavg()[0]:.2f}; old = {codes['old']}, new = {codes['new']}; "
          f"listed: {args.listed or 'the page'}")
    for iri in args.iri:
        found: dict[tuple[str, str], dict[str, object]] = {}
        for store_label, store in stores.items():
            for label, src in codes.items():
                found[(store_label, label)] = measure(src, store, iri, args.repeat, args.listed)
            old, new = found[(store_label, "old")], found[(store_label, "new")]
            plans = new.get("plans")
            ratio = (f"{old['first'] / new['first']:5.2f}×" if "first" in old and "first" in new
                     else "  -  ")
            same = "same plans" if old.get("plans") == plans else "plans DIFFER"
            count = f"{len(plans[0])} listed, more: {plans[1]}" if isinstance(plans, list) else ""
            print(f"{iri.rsplit('/doc/', 1)[-1]:32s} {store_label:9s} old {cell(old)} | new "
                  f"{cell(new)} | first old/new {ratio} | {same} ({count})", flush=True)
        if len(stores) > 1:
            same = found[("Virtuoso", "new")].get("plans") == found[("embedded", "new")].get(
                "plans")
            print(f"{'':32s} new over Virtuoso = new over the embedded store: "
                  f"{'yes' if same else 'NO'}")
    print(f"load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
