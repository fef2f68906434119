"""First visits of document pages over a remote store (Virtuoso), old code beside this tree.

A page's first visit is what a reader of a fresh server waits for (later visits of the same store
version are kept, :class:`kgraph.web.describe.KeptPages`). Each visit runs in a fresh process
(``describe`` of the IRI, nothing kept), old and new alternately, ``--runs`` times; printed per
IRI and code: wall seconds, the process's CPU-s, the Virtuoso server's CPU-s (``--server-pid``
or the ``pid`` in ``--virtuoso-dir``/server.json), and per code whether the page's facts (each
property, value and how many graphs state it), its tables and links in are those of the other
code and of ``--embedded`` (a built store, read-only), where given.

A visit slower than ``--timeout`` is stopped (the process killed; Virtuoso may go on with the
query: set its ``MaxQueryExecutionTime``, or give ``--old-src`` a tree whose queries answer).

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_remote_page.py --url URL --virtuoso-dir DIR
--old-src OLD/src --iri IRI [--iri IRI] [--embedded STORE] [--runs 3] [--json F]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_remote import process_cpu as server_cpu

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time
from kgraph.store.embedded import open_repository
from kgraph.web.describe import describe
repo = open_repository(sys.argv[1], read_only=True) if not sys.argv[1].startswith("http") \
    else open_repository(sys.argv[1])
cpu, wall = time.process_time(), time.perf_counter()
page = describe(repo, sys.argv[2])
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
facts = sorted([f.prop.iri or f.prop.text, f.value.iri or f.value.text,
                len(f.sources) + f.more_sources] for f in page.facts)
tables = {name: [[None if t is None else t.iri or t.text for t in row] for row in table.rows]
          for name, table in page.tables.items()}
incoming = sorted([f.prop.iri or f.prop.text, f.value.iri or f.value.text]
                  for f in page.incoming)
print(json.dumps({"wall": wall, "cpu": cpu, "facts": facts, "tables": tables,
                  "incoming": incoming, "cut": page.incoming_cut}, ensure_ascii=False))
"""


def visit(src: Path, store: str, iri: str, env: dict[str, str], timeout: float,
          pid: int | None) -> dict[str, Any] | None:
    """One first visit in a fresh process; None when stopped after ``timeout`` s."""
    before = server_cpu(pid)
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, store, iri], capture_output=True,
                              text=True, timeout=timeout, env={**env, "PYTHONPATH": str(src)})
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    found = json.loads(done.stdout.strip().splitlines()[-1])
    found["process_wall"] = time.perf_counter() - started
    found["server_cpu"] = server_cpu(pid) - before
    return found


def digest(page: dict[str, Any], part: str) -> str:
    return hashlib.sha256(json.dumps(page[part], ensure_ascii=False).encode()).hexdigest()[:10]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--virtuoso-dir", type=Path, help="holds server.json (credentials)")
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--iri", action="append", required=True)
    parser.add_argument("--embedded", help="a built store with the same data (read-only)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    env = dict(os.environ)
    pid = args.server_pid
    if args.virtuoso_dir:
        info = json.loads((args.virtuoso_dir / "server.json").read_text())
        env.update({k: v for k, v in info.items() if k.startswith("KGRAPH_")})
        pid = pid or info.get("pid")
    codes = {"old": args.old_src, "new": ROOT / "src"}
    kept: dict[str, Any] = {}
    for iri in args.iri:
        print(f"{iri}: first visit over {args.url}, fresh process each (load "
              f"{os.getloadavg()[0]:.1f})", flush=True)
        pages: dict[str, dict[str, Any]] = {}
        for run in range(args.runs):
            for label, src in codes.items():
                page = visit(src, args.url, iri, env, args.timeout, pid)
                figures = kept.setdefault(iri, {}).setdefault(label, [])
                if page is None:
                    figures.append(None)
                    print(f"  run {run + 1} {label}: stopped after {args.timeout:.0f} s",
                          flush=True)
                    continue
                pages[label] = page
                figures.append({k: round(page[k], 3) for k in
                                ("wall", "cpu", "server_cpu", "process_wall")})
                print(f"  run {run + 1} {label}: describe {page['wall']:.2f} s wall, "
                      f"{page['cpu']:.2f} CPU-s, server {page['server_cpu']:.2f} CPU-s "
                      f"(process {page['process_wall']:.2f} s), load {os.getloadavg()[0]:.1f}",
                      flush=True)
        if args.embedded:
            pages["embedded"] = visit(codes["new"], args.embedded, iri, env, args.timeout, None) \
                or {}
        for part in ("facts", "tables", "incoming"):
            digests = {label: digest(page, part) for label, page in pages.items() if page}
            print(f"  {part}: " + ", ".join(f"{k} {v}" for k, v in digests.items()), flush=True)
            kept[iri][f"same_{part}"] = digests
    if args.json:
        args.json.write_text(json.dumps(kept, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
