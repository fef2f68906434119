"""The build's reading stage alone, this tree beside an old checkout, CPU seconds per plan.

``kgraph.build.build(..., directive_coverage=False, keep_validations=False)`` (what ``kgraph
build`` asks: the report keeps no validation) of the same folder into a new on-disk store by
each code, in its own process, both at the same time (so both run under the same
machine load: on a shared machine CPU seconds are the steady measure, wall times are not).
Printed per code: wall seconds, CPU seconds of the main process (the bulk loads, Oxigraph's
and RocksDB's threads included) and of the extraction workers, each per plan, the collector's
passes in the main process, peak RSS, the load average; then the old/new ratios. With
``--same`` the two stores' sorted N-Quads are hashed and compared (the reading stage must
write the very same quads).

Why: at 20,000 plans the reading stage is most of the build (884.7 s of 19 min 27 s, session
19); the workers' CPU per plan (extraction, mapping, validation, the document's audit) and the
main process's (Oxigraph's bulk loader) decide it, since both cores are busy.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_reading.py --sources FOLDER
[--old-src /tmp/s20/code/src] [--plans N] [--same] [--serial]`` (``--plans`` takes the first N
files of FOLDER through a folder of hard links).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import gc, json, os, resource, sys, time
from pathlib import Path
folder, target = Path(sys.argv[1]), Path(sys.argv[2])
from kgraph.build import build
from kgraph.store.embedded import OxigraphRepository
passes = [0, 0.0]
started_at = [0.0]
def watch(phase, info):
    if phase == "start":
        started_at[0] = time.process_time()
    else:
        passes[0] += 1
        passes[1] += time.process_time() - started_at[0]
gc.callbacks.append(watch)
repo = OxigraphRepository(target)
before = resource.getrusage(resource.RUSAGE_SELF)
wall = time.perf_counter()
report = build([folder], repo, directive_coverage=False, keep_validations=False)  # as the CLI
wall = time.perf_counter() - wall
me = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "plans": len(report.documents), "failures": len(report.failures), "wall": wall,
    "main": me.ru_utime + me.ru_stime - before.ru_utime - before.ru_stime,
    "workers": workers.ru_utime + workers.ru_stime,
    "gc_passes": passes[0], "gc_seconds": passes[1], "peak_mb": me.ru_maxrss / 1024,
    "quads": report.load_quads, "load": os.getloadavg()[0]}))
"""

_DUMP = r"""
import hashlib, sys
from pathlib import Path
import pyoxigraph as ox
root = Path(sys.argv[1])
store = ox.Store.read_only(str(root / (root / "kgraph-current").read_text().strip()))
lines = sorted(str(q) for q in store  # the build's own record (times, paths) left out
               if not str(q.graph_name).endswith('graph/build>'))
print(len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest())
"""


def _folder(sources: Path, plans: int | None, work: Path) -> Path:
    if plans is None:
        return sources
    folder = work / f"sources-{plans}"
    folder.mkdir()
    for path in sorted(p for p in sources.iterdir() if p.suffix in {".txt", ".md"})[:plans]:
        os.link(path, folder / path.name)
    return folder


def _start(src: Path, folder: Path, target: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(src), "KGRAPH_STORE": str(target)}
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(folder), str(target)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str], label: str) -> dict[str, float]:
    out, err = process.communicate()
    if process.returncode:
        sys.exit(f"{label}: exit {process.returncode}\n{err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def _show(label: str, r: dict[str, float]) -> None:
    n = max(r["plans"], 1)
    print(f"{label:4s} {r['plans']:6.0f} plans  wall {r['wall']:7.1f} s  "
          f"main {r['main']:7.1f} CPU-s ({1000 * r['main'] / n:5.1f} ms/plan)  "
          f"workers {r['workers']:7.1f} CPU-s ({1000 * r['workers'] / n:5.1f} ms/plan)  "
          f"total {1000 * (r['main'] + r['workers']) / n:5.1f} ms/plan  "
          f"main gc {r['gc_passes']:.0f} passes {r['gc_seconds']:.2f} s  "
          f"peak {r['peak_mb']:.0f} MB  quads {r['quads']:.0f}  load {r['load']:.2f}")


def _digest(src: Path, store: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([sys.executable, "-c", _DUMP, str(store)], env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, default=Path("/tmp/s20/code/src"))
    parser.add_argument("--plans", type=int)
    parser.add_argument("--same", action="store_true", help="compare the stores' quads")
    parser.add_argument("--serial", action="store_true", help="one code after the other")
    args = parser.parse_args()
    new_src = Path(__file__).resolve().parent.parent / "src"
    work = Path(tempfile.mkdtemp(prefix="bench-reading-"))
    try:
        folder = _folder(args.sources, args.plans, work)
        print(f"reading stage of {folder} (new {new_src}, old {args.old_src}); "
              f"load {os.getloadavg()[0]:.2f}")
        if args.serial:
            old = _finish(_start(args.old_src, folder, work / "old"), "old")
            new = _finish(_start(new_src, folder, work / "new"), "new")
        else:
            running = (_start(args.old_src, folder, work / "old"),
                       _start(new_src, folder, work / "new"))
            old, new = _finish(running[0], "old"), _finish(running[1], "new")
        _show("old", old)
        _show("new", new)
        for part in ("main", "workers"):
            print(f"old/new {part} CPU: {old[part] / max(new[part], 1e-9):.2f}")
        total = (old["main"] + old["workers"]) / (new["main"] + new["workers"])
        print(f"old/new total CPU: {total:.2f}")
        if args.same:
            a, b = _digest(args.old_src, work / "old"), _digest(new_src, work / "new")
            print(f"quads old {a}\nquads new {b}\nsame quads: {a == b}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
