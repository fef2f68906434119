"""The build's store writes alone: the same N-Quads written the way ``kgraph build`` writes them
(``kgraph.build._Writer``: document by document, batches bulk-loaded by its loader thread into a
new on-disk store), by this tree and by an old checkout side by side, beside one pyoxigraph
``bulk_load`` of the whole file into an empty store (the baseline of issue 12's load rate).

Why: at 20,000 plans the main process's CPU while reading was mostly RocksDB merging the sorted
files each bulk load adds (compaction), which grows with the batch count and the store's size;
this isolates that cost from extraction. Each variant runs in its own process on a new store:
wall seconds, CPU seconds of the whole process (its RocksDB threads included), bytes written,
peak RSS, quads/s and ratios to the baseline; the load average is printed beside each.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_load.py --nquads FILE [--old-src DIR]`` or
``--store STORE`` (its current version dumped once to a temporary N-Quads file, graph by graph).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, os, resource, sys, time
mode, nquads, target = sys.argv[1], sys.argv[2], sys.argv[3]
import pyoxigraph as ox
units = []  # (graph, what the build's workers hand over for it: UTF-8 N-Quads or TriG block)
if mode != "bulk_load":
    import kgraph.build
    block = getattr(kgraph.build, "_document_block", None)  # a writer reading TriG blocks

    def unit(graph, lines):
        if block is None:
            units.append((graph, b"".join(lines), len(lines)))
        else:  # the graph's lines without its name, in its block (made before the clock)
            text = b"".join(l[:l.rindex(b" <", 0, -3)] + b" .\n" for l in lines).decode()
            units.append((graph, *block(text, graph, len(lines))))

    graph, lines = None, []
    with open(nquads, "rb") as handle:
        for line in handle:
            name = line[line.rindex(b" <", 0, -3) + 2:line.rindex(b">")].decode()
            if name != graph and lines:
                unit(graph, lines)
                lines = []
            graph = name
            lines.append(line)
    if lines:
        unit(graph, lines)
started = time.perf_counter()
store = ox.Store(target)
quads = 0
if mode == "bulk_load":
    store.bulk_load(path=nquads, format=ox.RdfFormat.N_QUADS)
    quads = len(store)
else:
    from kgraph.build import _Writer
    if os.environ.get("BATCH_QUADS"):
        kgraph.build.BATCH_QUADS = int(os.environ["BATCH_QUADS"])
    writer = _Writer(None, store, bulk=True)
    as_text = _Writer.add.__defaults__ == ("",)  # an old writer took str
    for graph, data, count in units:
        if as_text:
            writer.add({graph: ""}, data.decode())
        elif block is None:
            writer.add({graph: ""}, data)
        else:
            writer.add({graph: ""}, data, count)
    writer.flush()
    writer.close()
    quads = writer.loaded
store.flush()
threads = {}  # thread name -> CPU-s, read before the store closes (its threads end then)
tick = os.sysconf("SC_CLK_TCK")
for tid in os.listdir(f"/proc/{os.getpid()}/task"):
    with open(f"/proc/{os.getpid()}/task/{tid}/stat") as handle:
        stat = handle.read()
    name = stat[stat.index("(") + 1:stat.rindex(")")].split(":")[0]
    fields = stat[stat.rindex(")") + 2:].split()
    threads[name] = threads.get(name, 0) + (int(fields[11]) + int(fields[12])) / tick
del store
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
with open(f"/proc/{os.getpid()}/status") as status:  # not ru_maxrss: it keeps the forking
    peak = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])  # parent's
with open(f"/proc/{os.getpid()}/io") as io:
    written = dict(line.split(": ") for line in io.read().splitlines())["write_bytes"]
print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
                  "user": usage.ru_utime, "sys": usage.ru_stime, "quads": quads,
                  "rss_mb": peak / 1024, "written_mb": int(written) / 2**20,
                  "rocksdb_cpu": threads.get("rocksdb", 0)}))
"""


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def dump_store(store: Path, out: Path) -> None:
    """The current version of a kgraph store as N-Quads, graph by graph (gspo order)."""
    import pyoxigraph as ox

    from kgraph.store.embedded import StoreDirectory, open_read_only

    current = StoreDirectory(store).current()
    if current is None:
        raise SystemExit(f"no store at {store}")
    open_read_only(current).dump(output=str(out), format=ox.RdfFormat.N_QUADS)


def in_graph_name_order(nquads: Path, out: Path) -> None:
    """The lines regrouped graph by graph in the order of the graphs' names, as a build meets
    its documents (file order). A dump comes in the order of the graphs' hashes: batches of
    such lines cover disjoint key ranges of the graph-first indexes, which RocksDB takes in
    without merging, and the benchmark would miss most of a build's compaction."""
    graphs: dict[bytes, list[bytes]] = {}
    with open(nquads, "rb") as handle:
        for line in handle:
            graphs.setdefault(line[line.rindex(b" <", 0, -3):], []).append(line)
    with open(out, "wb") as handle:
        for name in sorted(graphs):
            handle.writelines(graphs.pop(name))


def run(mode: str, src: Path | None, nquads: Path, work: Path, batch: int = 0
        ) -> dict[str, float]:
    target = Path(tempfile.mkdtemp(dir=work, prefix=f"{mode}-"))
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    env.pop("BATCH_QUADS", None)
    if batch:
        env["BATCH_QUADS"] = str(batch)
    load = load_average()
    try:
        child = subprocess.run([sys.executable, "-c", _CHILD, mode, str(nquads), str(target)],
                               env=env, capture_output=True, text=True)
        if child.returncode:
            raise SystemExit(f"{mode} failed ({child.returncode}):\n{child.stderr[-3000:]}")
        out = child.stdout
        size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    finally:
        shutil.rmtree(target, ignore_errors=True)
    result = json.loads(out.strip().splitlines()[-1])
    result["store_mb"] = size / 2**20
    result["load"] = load  # type: ignore[assignment]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--nquads", type=Path, help="N-Quads grouped by graph")
    source.add_argument("--store", type=Path, help="a kgraph store to dump first")
    parser.add_argument("--old-src", type=Path, default=None,
                        help="an old checkout's src folder, written the same way beside")
    parser.add_argument("--new-src", type=Path,
                        default=Path(__file__).resolve().parent.parent / "src")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=1, help="rounds of all variants")
    parser.add_argument("--batch", type=int, action="append", default=[],
                        help="also write with this tree and this BATCH_QUADS (repeatable)")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-load-", dir=args.workdir))
    try:
        nquads = args.nquads
        if nquads is None:
            nquads = work / "store.nq"
            started = time.perf_counter()
            dump_store(args.store, nquads)
            print(f"dumped {args.store} in {time.perf_counter() - started:.1f} s "
                  f"({nquads.stat().st_size / 2**20:.0f} MB)", flush=True)
        ordered = work / "ordered.nq"
        in_graph_name_order(nquads, ordered)
        nquads = ordered
        variants: list[tuple[str, str, Path | None, int]] = []
        if not args.no_baseline:
            variants.append(("pyoxigraph bulk_load (baseline)", "bulk_load", None, 0))
        if args.old_src is not None:
            variants.append(("kgraph build writer, old", "writer", args.old_src, 0))
        variants.append(("kgraph build writer, new", "writer", args.new_src, 0))
        variants.extend((f"new writer, batches of {n:,}", "writer", args.new_src, n)
                        for n in args.batch)
        results: dict[str, list[dict[str, float]]] = {v[0]: [] for v in variants}
        for _ in range(args.runs):
            for name, mode, src, batch in variants:
                results[name].append(run(mode, src, nquads, work, batch))
                r = results[name][-1]
                print(f"  {name}: {r['seconds']:.1f} s, {r['cpu']:.1f} CPU-s (load {r['load']})",
                      flush=True)
        base = min(r["cpu"] for r in results[variants[0][0]])
        base_wall = min(r["seconds"] for r in results[variants[0][0]])
        print(f"\n(ratios to the first line)\n{'variant':34s} {'quads':>10s} {'wall s':>8s} "
              f"{'CPU-s':>8s} {'user':>7s} {'sys':>6s} {'RocksDB':>7s} {'quads/s':>9s} "
              f"{'written MB':>10s} {'store MB':>9s} {'RSS MB':>7s} {'CPU/base':>8s} "
              f"{'rate/base':>9s}  load")
        for name, runs in results.items():
            r = min(runs, key=lambda x: x["cpu"])
            rate = r["quads"] / r["seconds"]
            print(f"{name:34s} {int(r['quads']):10d} {r['seconds']:8.1f} {r['cpu']:8.1f} "
                  f"{r['user']:7.1f} {r['sys']:6.1f} {r['rocksdb_cpu']:7.1f} {rate:9.0f} "
                  f"{r['written_mb']:10.0f} "
                  f"{r['store_mb']:9.0f} {r['rss_mb']:7.0f} {r['cpu'] / base:8.2f} "
                  f"{base_wall / r['seconds']:9.2f}  {r['load']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
