"""``/api/audit`` without ``iri`` (the whole corpus's findings by node) on a built store, new code
beside old code in the same run.

The old route made the whole overlay on its first request (every finding of the index read,
every focus loaded through the explorer's walk: 369 s at 20,000 plans); the new one pages the
audit index's findings as ``/audit`` does. This times, through the app (TestClient, the store
opened read-only, its audit index already current), the first request and the warm p50/p99 of
a few pages and filters, then the first page with the old code (``--old-src``) in a fresh
process, stopped after ``--old-timeout`` seconds.

Run: ``.venv/bin/python bench/bench_api_audit.py --store /tmp/s18/store-2000
[--old-src /work/main/src] [--runs 20]`` (read-only: the store is not written).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_OLD = r"""
import sys, time
from pathlib import Path
from fastapi.testclient import TestClient
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app
with TestClient(create_app(OxigraphRepository(Path(sys.argv[1]), read_only=True))) as client:
    started = time.perf_counter()
    response = client.get("/api/audit")
    print(f"RESULT {time.perf_counter() - started:.3f} {response.status_code} "
          f"{len(response.content)}", flush=True)
"""


def old_first_page(src: Path, store: Path, timeout: float) -> str:
    env = {**os.environ, "PYTHONPATH": str(src)}
    try:
        done = subprocess.run([sys.executable, "-c", _OLD, str(store)], env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"stopped after {timeout:.0f} s"
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        return f"failed: {done.stderr[-500:]}"
    seconds, status, size = line.split()[1:]
    return f"{float(seconds) * 1000:.0f} ms ({status}, {int(size):,} bytes)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--province", default="Gia Lai")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--old-src", type=Path, default=None)
    parser.add_argument("--old-timeout", type=float, default=900.0)
    args = parser.parse_args(argv)

    from fastapi.testclient import TestClient

    from kgraph.analysis.audit_index import audit_index
    from kgraph.store.embedded import OxigraphRepository
    from kgraph.web.app import create_app

    repo = OxigraphRepository(args.store, read_only=True)
    started = time.perf_counter()
    index = audit_index(repo)
    total = index.page(0, 1).total
    print(f"audit index opened in {time.perf_counter() - started:.2f} s: {total:,} findings "
          f"(load {os.getloadavg()[0]:.1f})")
    deep = max(0, total - 2000)
    plan = index.documents[len(index.documents) // 2].number
    paths = ["/api/audit", "/api/audit?limit=100", f"/api/audit?offset={total // 2}",
             f"/api/audit?offset={deep}", f"/api/audit?province={args.province}",
             f"/api/audit?province={args.province}&rule=MissingPeerTask&offset=10000",
             "/api/audit?severity=Violation", f"/api/audit?doc={plan}"]
    new_first = 0.0
    with TestClient(create_app(repo)) as client:
        for path in paths:
            started = time.perf_counter()
            response = client.get(path)
            first = time.perf_counter() - started
            if path == "/api/audit":
                new_first = first
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - started)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            body = response.json()
            print(f"  {path}: {response.status_code}, {len(response.content):,} bytes, "
                  f"{len(body.get('flags', {}))} nodes of {body.get('total')} findings; first "
                  f"{first * 1000:.0f} ms, warm p50 {statistics.median(times) * 1000:.0f} ms, "
                  f"p99 {p99 * 1000:.0f} ms (load {os.getloadavg()[0]:.1f})", flush=True)
    if args.old_src is not None:
        found = old_first_page(args.old_src, args.store, args.old_timeout)
        print(f"old code ({args.old_src}) /api/audit, first request: {found}; new: "
              f"{new_first * 1000:.0f} ms (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
