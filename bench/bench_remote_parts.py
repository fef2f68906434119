"""The explorer's plan parts (``lineage._PARTS``, 82,824 rows at 2,000 plans) read from a remote
store by ``RemoteRepository.records``, with the kgraph of each ``--src`` tree in turn (old and new):
the requests it sent (on Virtuoso: CSV, and JSON when the CSV was not taken as exact), wall and
CPU seconds in kgraph, and a digest of the sorted records (the same answer).

Run: ``python bench/bench_remote_parts.py --url URL --src /work/wt/base/src --src src [--runs 2]
[--rounds 2]`` with ``KGRAPH_STORE_USER`` / ``KGRAPH_STORE_PASSWORD`` set (bench_remote.py's
``--keep`` prints them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

PYTHON = sys.executable

_READ = r"""
import hashlib, json, sys, time
from kgraph.analysis import lineage
from kgraph.analysis.coverage import sparql_prefixes
from kgraph.store.remote import RemoteRepository
repo = RemoteRepository.from_url(sys.argv[1])
assert repo.server  # the server recognised before timing
sent = []
raw_query = repo.raw_query
def counted(sparql, **options):
    sent.append(options.get("accept", "").split(",")[0])
    return raw_query(sparql, **options)
repo.raw_query = counted
runs = []
for _ in range(int(sys.argv[2])):
    sent.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    rows = repo.records(sparql_prefixes() + lineage._PARTS)
    runs.append([time.perf_counter() - wall, time.process_time() - cpu, list(sent)])
lines = sorted(json.dumps(row, sort_keys=True, ensure_ascii=False) for row in rows)
print(json.dumps({"rows": len(rows), "runs": runs,
                  "digest": hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--src", type=Path, action="append", required=True)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for round_ in range(args.rounds):
        for src in args.src if round_ % 2 == 0 else args.src[::-1]:
            done = subprocess.run([PYTHON, "-c", _READ, args.url, str(args.runs)], check=True,
                                  capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": str(src.resolve())})
            answer = json.loads(done.stdout.splitlines()[-1])
            runs = "; ".join(f"{wall:.1f} s, {cpu:.1f} CPU-s, {'+'.join(sent)}"
                             for wall, cpu, sent in answer["runs"])
            print(f"{src}: {answer['rows']} rows, digest {answer['digest']}: {runs} "
                  f"(load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
