"""The stages of a whole build after reading: directive coverage, then the audit index, old code
one after the other against new code computing the index beside the coverage.

At 20,000 plans these stages took 137.7 + 2.6 + 106.2 s of a 15 min 42 s build, run one after
the other with a core often idle. This runs them, for two code trees in the same run (``--old-src``,
default the main checkout, and this tree's ``src``), each in a fresh process on its own hard-link
copy of ``--store`` (a built store: its reading stage is done, its sources kept by the build):
in a new store version, every directive aligned again (as a full build does) and its graphs
written, the version switched, then the audit index computed from nothing (old: after the
switch; new: :class:`kgraph.analysis.audit_index.IndexBeside` started before the coverage,
joined before the switch). Wall and CPU seconds (children included), load average before and
after, each stage; then the two index files compared table by table and the graphs the stage
wrote compared quad by quad.

Run: ``.venv/bin/python bench/bench_after_reading.py --store STORE [--old-src DIR]
[--workdir DIR] [--order old,new] [--keep]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

# One side, in a fresh process with that side's code first on the path.
_DRIVER = r"""
import json, os, resource, sys, time
from pathlib import Path
from kgraph import build as b
from kgraph.analysis import audit_index as ai
from kgraph.store.derived import version_value
from kgraph.store.embedded import OxigraphRepository

root, beside_wanted = Path(sys.argv[1]), sys.argv[2] == "beside"
load = [os.getloadavg()[0]]
started = time.perf_counter()
repo = OxigraphRepository(root)
shas = {s.graph: s.sha256 for s in version_value(repo, b.SOURCE_INDEX).values()}
seconds = {}
with repo.new_version() as store:
    writer = b._Writer(repo, store, bulk=True)
    beside = ai.IndexBeside(repo, store) if beside_wanted else None
    if beside is not None:
        beside.start()
    t = time.perf_counter()
    b._directive_coverage(b._VersionView(repo, store, writer), None, {}, (shas, shas))
    writer.flush()
    writer.close()
    seconds["directive coverage"] = time.perf_counter() - t
    if beside is not None:
        t = time.perf_counter()
        joined = beside.join()
        seconds["audit index wait"] = time.perf_counter() - t
        seconds["audit index beside"] = beside.seconds.get("wall", 0.0)
        if not joined:
            print("beside failed:", repr(beside.error), file=sys.stderr)
    written = sorted(writer.written)
    writer.store = store = None
t = time.perf_counter()
if beside is not None:
    beside.finish()
ai.audit_index(repo)
seconds["audit index"] = time.perf_counter() - t
seconds["total"] = time.perf_counter() - started
load.append(os.getloadavg()[0])
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
    resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
print("RESULT " + json.dumps({"seconds": seconds, "cpu": cpu, "load": load,
                              "peak_mb": own.ru_maxrss / 1024, "written": written}))
"""


def copy_store(source: Path, target: Path) -> None:
    """Hard links throughout (RocksDB files are immutable; derived values are replaced by
    rename), the lock file and the audit index removed (the index is computed from nothing)."""
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(["cp", "-al", str(source), str(target)], check=True)
    for path in (target / "derived").glob("audit.sqlite*"):
        path.unlink()
    lock = target / "kgraph.lock"
    lock.unlink(missing_ok=True)
    lock.touch()


def run_side(src: Path, store: Path, mode: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([PYTHON, "-c", _DRIVER, str(store), mode], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    if done.stderr.strip():
        print(done.stderr.strip()[-2000:], file=sys.stderr)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])  # type: ignore[no-any-return]


def index_tables(path: Path) -> dict[str, str]:
    """Table -> digest of its sorted rows (the version stamp left out)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        digests = {}
        for table in sorted(tables):
            where = " WHERE key != 'version'" if table == "meta" else ""
            rows = sorted(repr(r) for r in db.execute(f"SELECT * FROM {table}{where}"))
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
            digests[table] = f"{len(rows)} rows {digest}"
        return digests
    finally:
        db.close()


def graphs_digest(store: Path, graphs: list[str]) -> str:
    """Digest of the sorted N-Quads of these graphs in the store's current version."""
    import pyoxigraph as ox

    from kgraph.store.embedded import OxigraphRepository

    reader = OxigraphRepository(store, read_only=True).reader
    digest = hashlib.sha256()
    for name in graphs:
        text = reader.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(name))
        digest.update(name.encode() + b"\n" + b"\n".join(sorted(text.split(b"\n"))))
    return digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-after-reading"))
    parser.add_argument("--order", default="old,new")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    sides = {"old": (args.old_src, "sequential"), "new": (ROOT / "src", "beside")}
    results: dict[str, dict[str, Any]] = {}
    args.workdir.mkdir(parents=True, exist_ok=True)
    for side in args.order.split(","):
        copy = args.workdir / f"store-{side}"
        copy_store(args.store, copy)
        results[side] = found = run_side(sides[side][0], copy, sides[side][1])
        stages = " · ".join(f"{k} {v:.1f} s" for k, v in found["seconds"].items())
        print(f"{side}: wall {found['seconds']['total']:.1f} s, CPU {found['cpu']:.1f} s, "
              f"load {found['load'][0]:.1f} → {found['load'][1]:.1f}, peak "
              f"{found['peak_mb']:.0f} MB; {stages}", flush=True)
    if set(results) == {"old", "new"}:
        old, new = results["old"], results["new"]
        print(f"ratio old/new: wall {old['seconds']['total'] / new['seconds']['total']:.2f}, "
              f"CPU {old['cpu'] / new['cpu']:.2f}")
        tables = {side: index_tables(args.workdir / f"store-{side}" / "derived" / "audit.sqlite")
                  for side in results}
        for table in sorted(tables["old"]):
            same = "same" if tables["old"][table] == tables["new"].get(table) else "DIFFERENT"
            print(f"  audit.sqlite {table}: {tables['old'][table]} — {same}")
        graphs = sorted(set(old["written"]) | set(new["written"]))
        digests = {side: graphs_digest(args.workdir / f"store-{side}", graphs)
                   for side in results}
        print(f"  the {len(graphs)} graphs the stage wrote: "
              f"{'same' if digests['old'] == digests['new'] else 'DIFFERENT'} quads")
    if not args.keep:
        for side in results:
            shutil.rmtree(args.workdir / f"store-{side}", ignore_errors=True)


if __name__ == "__main__":
    main()
