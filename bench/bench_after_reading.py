"""The stages of a whole build after reading, old code beside this tree: the directive coverage,
the last batch and the switch, the audit index from nothing.

Why: at 20,000 plans these stages took 210 + 3 + 193 s of a 20 min 44 s build (session 26),
one after the other, each leaving a core idle for long stretches. A tree whose ``kgraph.build``
has ``_audit_beside`` (session 27's hcov branch: the audit index from nothing in a process of its
own on a checkpoint of the version being written, beside the coverage; not merged, for the
memory of the overlap, bench/README.md) is run that way; any other computes the index after the
switch, as ``kgraph build`` does.

Each side runs in a fresh process with its code first on the path (``--old-src``; this tree's
``src``), on its own hard-link copy of ``--store`` (a built store; its audit index removed
from the copy, as a build into a new store has none): in a new store version, every directive
aligned again and its graphs written (as a full build does), the last batch, the switch, then
the audit index (``audit_index``, which finds the beside one current). Printed per side: wall
of each stage and in all, CPU seconds with every child process, load before and after, peak
RSS of the main process and the largest sum of RSS of the process and all its descendants
(sampled every 0.5 s); old/new ratios; then the two index files compared table by table, row
ids included, and the graphs the coverage wrote compared (sorted N-Quads' digest).

Run: ``.venv/bin/python bench/bench_after_reading.py --store STORE --old-src OLD/src
[--workdir DIR] [--order old,new] [--rounds 1] [--keep] [--skip-quads]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# One side, in a fresh process with that side's code first on the path.
_DRIVER = r"""
import hashlib, json, os, resource, sys, time
from pathlib import Path
from kgraph import build as b
from kgraph.analysis import audit_index as ai
from kgraph.store.derived import version_value
from kgraph.store.embedded import OxigraphRepository

root, quads_wanted = Path(sys.argv[1]), sys.argv[2] == "quads"
load = [os.getloadavg()[0]]
started = time.perf_counter()
repo = OxigraphRepository(root)
shas = {s.graph: s.sha256 for s in version_value(repo, b.SOURCE_INDEX).values()}
seconds, beside = {}, None
with repo.new_version() as store:
    writer = b._Writer(repo, store, bulk=True)
    t = time.perf_counter()
    if hasattr(b, "_audit_beside"):  # this tree: as ``kgraph build`` with the audit does
        last = b._last_batch(repo)
        beside = b._audit_beside(repo, store, last)
    else:
        last = None
    view = b._VersionView(repo, store, writer)
    b._directive_coverage(view, None, {}, (shas, shas))
    del view
    seconds["directive coverage"] = time.perf_counter() - t
    t = time.perf_counter()
    writer.add(last if last is not None else {**(
        {} if b.stored_shipped_digest(repo) == b.shipped_sources_digest()
        else b.changed_resource_graphs(repo)), b.BUILD_GRAPH: b.build_graph()})
    writer.flush()
    writer.close()
    written = sorted(writer.written)
    writer.store = store = None
seconds["last batch and switch"] = time.perf_counter() - t
if beside is not None:
    t = time.perf_counter()
    finished = beside.finish()
    seconds["audit index beside (waited)"] = time.perf_counter() - t
    if not finished:
        print("beside failed:", beside.error, file=sys.stderr)
    seconds.update({f"beside {k}": v for k, v in beside.seconds.items()})
t = time.perf_counter()
ai.audit_index(repo).close()
seconds["audit index"] = time.perf_counter() - t
seconds["total"] = time.perf_counter() - started
load.append(os.getloadavg()[0])
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
    resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
digest, count = "", 0
if quads_wanted:  # the coverage graphs the stage wrote, as the new version holds them
    import pyoxigraph as ox
    lines = []
    for name in written:
        if "/graph/directive-coverage/" in name:
            lines.extend(str(q) for q in repo.reader.quads_for_pattern(
                None, None, None, ox.NamedNode(name)))
    lines.sort()
    count, digest = len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()
print("RESULT " + json.dumps({"seconds": seconds, "cpu": cpu, "load": load,
                              "peak_mb": own.ru_maxrss / 1024, "quads": count,
                              "digest": digest}))
"""


def copy_store(source: Path, target: Path) -> None:
    """A private hard-link copy: version files linked (RocksDB never rewrites a file), derived
    data and the lock copied; the audit index removed (a new store's build has none)."""
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["cp", "-al", str(source), str(target)], check=True)
    for name in ("derived", "kgraph.lock"):
        path = target / name
        if path.is_dir():
            shutil.rmtree(path)
            shutil.copytree(source / name, path)
        elif path.exists():
            path.unlink()
            shutil.copy2(source / name, path)
    for path in (target / "derived").glob("audit.sqlite*"):
        path.unlink()


def tree_rss(pid: int) -> float:
    """MB resident in process ``pid`` and all its descendants."""
    import psutil

    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total / 2**20
    except psutil.Error:
        return 0.0


def run_side(name: str, src: Path, store: Path, quads: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    process = subprocess.Popen([sys.executable, "-c", _DRIVER, str(store),
                                "quads" if quads else "-"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"{name} failed ({process.returncode}):\n{err[-3000:]}")
    if err.strip():
        print(f"[{name} stderr] {err.strip()[-2000:]}", file=sys.stderr)
    result = json.loads(next(line for line in out.splitlines()
                             if line.startswith("RESULT "))[len("RESULT "):])
    result["tree_peak_mb"] = peak[0]
    return result


def compare_index(old: Path, new: Path) -> bool:
    """Every table but meta, row ids included, both ways; the schemas and indexes."""
    db = sqlite3.connect(f"file:{new}?mode=ro", uri=True)
    db.execute("ATTACH DATABASE ? AS old", (f"file:{old}?mode=ro",))
    same = True
    tables = [r[0] for r in db.execute("SELECT name FROM main.sqlite_master "
                                       "WHERE type = 'table' AND name != 'meta'")]
    parts = []
    for table in tables:
        rows = db.execute(f"SELECT COUNT(*) FROM main.{table}").fetchone()[0]
        only_new = db.execute(f"SELECT COUNT(*) FROM (SELECT rowid, * FROM main.{table} "
                              f"EXCEPT SELECT rowid, * FROM old.{table})").fetchone()[0]
        only_old = db.execute(f"SELECT COUNT(*) FROM (SELECT rowid, * FROM old.{table} "
                              f"EXCEPT SELECT rowid, * FROM main.{table})").fetchone()[0]
        same = same and only_new == 0 and only_old == 0
        parts.append(f"{table} {rows:,} ({only_old}/{only_new})")
    schemas = [sorted(db.execute(f"SELECT type, name, sql FROM {s}.sqlite_master"))
               for s in ("main", "old")]
    metas = [dict(db.execute(f"SELECT key, value FROM {s}.meta WHERE key != 'version'"))
             for s in ("main", "old")]
    db.close()
    same = same and schemas[0] == schemas[1] and metas[0] == metas[1]
    print("index tables, rows (only in old/only in new): " + ", ".join(parts))
    print(f"schemas and indexes equal: {schemas[0] == schemas[1]}; meta (version aside) "
          f"equal: {metas[0] == metas[1]}")
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a built store (not written)")
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/kgraph-after-reading"))
    parser.add_argument("--order", default="old,new")
    parser.add_argument("--rounds", type=int, default=1, help="pairs, the order swapped")
    parser.add_argument("--keep", action="store_true", help="keep the copies")
    parser.add_argument("--skip-quads", action="store_true",
                        help="do not compare the coverage graphs (a minute at 20,000 plans)")
    args = parser.parse_args(argv)
    sources = {"old": args.old_src.resolve(), "new": ROOT / "src"}
    order = args.order.split(",")
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    args.workdir.mkdir(parents=True, exist_ok=True)
    ok = True
    for round_ in range(args.rounds):
        sides = order if round_ % 2 == 0 else order[::-1]
        for name in sides:
            copy = args.workdir / f"store-{name}"
            copy_store(args.store, copy)
            result = run_side(name, sources[name], copy, not args.skip_quads)
            runs[name].append(result)
            stages = ", ".join(f"{k} {v:.1f}" for k, v in result["seconds"].items())
            print(f"round {round_ + 1} {name}: {stages}; CPU-s {result['cpu']:.1f} (children "
                  f"included); load {result['load'][0]:.1f} -> {result['load'][1]:.1f}; peak "
                  f"RSS main {result['peak_mb']:.0f} MB, process tree {result['tree_peak_mb']:.0f}"
                  f" MB", flush=True)
        last = {name: runs[name][-1] for name in ("old", "new")}
        if not args.skip_quads:
            same_quads = (last["old"]["digest"] == last["new"]["digest"]
                          and last["old"]["quads"] == last["new"]["quads"])
            print(f"coverage graphs (sorted N-Quads, {last['new']['quads']:,} quads): "
                  f"{'same' if same_quads else 'DIFFERENT'}")
            ok = ok and same_quads
        same = compare_index(args.workdir / "store-old" / "derived" / "audit.sqlite",
                             args.workdir / "store-new" / "derived" / "audit.sqlite")
        print(f"audit index files: {'same' if same else 'DIFFERENT'}", flush=True)
        ok = ok and same
    for key in ("total", "directive coverage"):
        old = sorted(r["seconds"][key] for r in runs["old"])
        new = sorted(r["seconds"][key] for r in runs["new"])
        print(f"{key}: old {old[len(old) // 2]:.1f} s, new {new[len(new) // 2]:.1f} s, "
              f"old/new {old[len(old) // 2] / new[len(new) // 2]:.2f}x (medians)")
    cpu = {n: sorted(r["cpu"] for r in runs[n])[len(runs[n]) // 2] for n in runs}
    print(f"CPU-s: old {cpu['old']:.1f}, new {cpu['new']:.1f}, old/new "
          f"{cpu['old'] / cpu['new']:.2f}x (medians)")
    if not args.keep:
        for name in ("old", "new"):
            shutil.rmtree(args.workdir / f"store-{name}", ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
