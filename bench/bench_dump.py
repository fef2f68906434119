"""`kgraph dump` on a store as a build leaves it beside the same store compacted, and the named
queries on both.

A build bulk-loads its batches; each load adds RocksDB files whose term-dictionary keys (hashes)
span the whole key space, so every term look-up searches each of them. This bench copies
``--store`` twice (hard links to its immutable ``.sst`` files, the rest copied: the store itself
is never written), compacts one copy the way a build now does (``OxigraphRepository.compact``,
in a child process: its CPU seconds and wall), then times in child processes:

* ``kgraph dump -f nquads`` of the copy as built, by ``--old-src`` (the code before) and by this
  tree (``--limit-seconds``: stopped after that many seconds, the rate taken from the lines
  written so far: at 20,000 plans the whole dump of an uncompacted store is half an hour);
* ``kgraph dump -f nquads`` of the compacted copy by this tree;

printing CPU-s, µs a quad and the ratio, and whether the files are the same bytes (sha256; a
dump stopped early is compared on its first lines). ``--queries`` also runs every named query
(its Oxigraph text, parameters from the store as bench_remote.py picks them) on both copies,
alternating, CPU ms (best of ``--runs``) and the rows of each.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_dump.py --store STORE --old-src OLD/src
--workdir W [--limit-seconds 300] [--queries]`` (W on the same file system as STORE).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from kgraph.store.embedded import POINTER, OxigraphRepository, StoreDirectory  # noqa: E402


def copy_store(store: Path, target: Path) -> Path:
    """The current version of ``store`` as a store folder of its own: ``.sst`` files hard-linked
    (RocksDB never changes one), every other file copied (a writer appends to or rewrites them)."""
    version = StoreDirectory(store).current()
    if version is None:
        raise SystemExit(f"{store}: no store version")
    shutil.rmtree(target, ignore_errors=True)
    (target / version.name).mkdir(parents=True)
    for path in version.iterdir():
        if path.suffix == ".sst":
            os.link(path, target / version.name / path.name)
        elif path.is_file():
            shutil.copy2(path, target / version.name / path.name)
    (target / POINTER).write_text(version.name + "\n", encoding="utf-8")
    return target


def run_measured(argv: list[str], src: Path, limit: float | None = None
                 ) -> tuple[float, float, bool]:
    """Wall and CPU seconds (the kernel's accounting of the reaped child, threads included) of
    a child process with ``src`` on its PYTHONPATH, and whether it finished: with ``limit`` it
    is stopped after that many seconds."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    before = os.times()
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, errors = child.communicate(timeout=limit)
        done = True
    except subprocess.TimeoutExpired:
        child.kill()
        _, errors = child.communicate()
        done = False
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system)
    if done and child.returncode:
        raise SystemExit(f"{argv}: failed\n{errors.decode(errors='replace')}")
    return wall, cpu, done


def lines_and_digest(path: Path, lines: int | None = None) -> tuple[int, str]:
    """Complete lines of ``path`` (or its first ``lines``) and their sha256."""
    digest, count = hashlib.sha256(), 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n") or (lines is not None and count == lines):
                break
            digest.update(line)
            count += 1
    return count, digest.hexdigest()


def dump_command(store: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", "from kgraph.cli import app; app()", "dump", "-f", "nquads",
            "-o", str(out), "--store", str(store)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="read only (copied)")
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--limit-seconds", type=float,
                        help="stop each dump of the uncompacted copy after this many seconds")
    parser.add_argument("--old-only", action="store_true",
                        help="dump the uncompacted copy by the old code only (the same dump "
                             "code: this tree changes the store, not the writing)")
    parser.add_argument("--queries", action="store_true")
    parser.add_argument("--queries-only", action="store_true",
                        help="only the queries, on the copies a --keep run left in --workdir")
    parser.add_argument("--plans", type=int,
                        help="the bench corpus's size: its parameters (bench_app.pick) instead "
                             "of a query of the store (too big a read at 20,000 plans)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the copies and dumps")
    args = parser.parse_args()
    new_src = ROOT / "src"
    if args.queries_only:
        compare_queries(args.workdir / "as-built", args.workdir / "compacted", args.runs,
                        args.plans)
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    raw = copy_store(args.store, args.workdir / "as-built")
    packed = copy_store(args.store, args.workdir / "compacted")
    quads = len(OxigraphRepository(raw, read_only=True).native)
    print(f"store {args.store}: {quads:,} quads; load {os.getloadavg()[0]:.1f}", flush=True)

    wall, cpu, _ = run_measured([sys.executable, "-c", "import sys; from pathlib import Path; "
                                 "from kgraph.store.embedded import OxigraphRepository; "
                                 "OxigraphRepository(Path(sys.argv[1])).compact()", str(packed)],
                                new_src)
    print(f"compaction (OxigraphRepository.compact, new version): {wall:.1f} s, {cpu:.1f} CPU-s; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)

    runs = [("as built, old code", raw, args.old_src, args.limit_seconds),
            ("as built, this tree", raw, new_src, args.limit_seconds),
            ("compacted, this tree", packed, new_src, None)]
    if args.old_only:
        del runs[1]
    results = []
    print(f"\nkgraph dump -f nquads ({quads:,} quads)")
    print(f"  {'store, code':24s} {'wall s':>8s} {'CPU-s':>8s} {'quads':>12s} {'µs/quad':>8s}"
          f" {'load':>5s}")
    for label, store, src, limit in runs:
        out = args.workdir / f"{label.replace(', ', '-').replace(' ', '-')}.nq"
        wall, cpu, done = run_measured(dump_command(store, out), src, limit)
        lines, _ = lines_and_digest(out)
        results.append((label, out, lines, cpu, done))
        print(f"  {label:24s} {wall:8.1f} {cpu:8.1f} {lines:12,} {cpu / max(lines, 1) * 1e6:8.2f}"
              f" {os.getloadavg()[0]:5.1f}{'' if done else '  (stopped)'}", flush=True)
    base = results[0][3] / max(results[0][2], 1)
    for label, _, lines, cpu, _ in results[1:]:
        print(f"  {label}: {base / (cpu / max(lines, 1)):.2f}x the old code's CPU a quad")
    common = min(lines for _, _, lines, _, _ in results)
    digests = {label: lines_and_digest(out, common)[1] for label, out, _, _, _ in results}
    complete = all(done for *_, done in results)
    print(f"  same bytes ({'whole files' if complete else f'first {common:,} lines'}): "
          f"{'yes' if len(set(digests.values())) == 1 else 'NO'} "
          f"(sha256 {next(iter(digests.values()))[:16]}...)", flush=True)
    if args.queries:
        compare_queries(raw, packed, args.runs, args.plans)
    if not args.keep:
        for _, out, *_ in results:
            out.unlink(missing_ok=True)
        shutil.rmtree(raw, ignore_errors=True)
        shutil.rmtree(packed, ignore_errors=True)
    return 0


def compare_queries(raw: Path, packed: Path, runs: int, plans: int | None) -> None:
    """Every named query's Oxigraph text on the store as built and compacted: CPU ms, rows."""
    from bench_remote import corpus_params, values_for
    from kgraph.analysis.queries import named_queries

    stores = {"as built": OxigraphRepository(raw, read_only=True),
              "compacted": OxigraphRepository(packed, read_only=True)}
    params = corpus_params(stores["as built"], plans)
    print(f"\nnamed queries, Oxigraph text, CPU ms (best of {runs}), load "
          f"{os.getloadavg()[0]:.1f}; parameters {params}")
    print(f"  {'query':20s} {'as built':>10s} {'compacted':>10s} {'ratio':>6s}  rows")
    for name, query in sorted(named_queries().items()):
        text = query.for_repository(stores["as built"]).render(
            values_for(name, [p.name for p in query.parameters], params))
        cpu: dict[str, list[float]] = {}
        rows: dict[str, list[str]] = {}
        for _ in range(runs):
            for label, repo in stores.items():
                started = time.process_time()
                answer = repo.query(text)
                cpu.setdefault(label, []).append(time.process_time() - started)
                rows[label] = sorted(map(repr, answer.rows))
        a, b = min(cpu["as built"]), min(cpu["compacted"])
        same = "same" if rows["as built"] == rows["compacted"] else "DIFFERENT"
        print(f"  {name:20s} {a * 1000:10.1f} {b * 1000:10.1f} {a / max(b, 1e-6):6.2f}  "
              f"{len(rows['as built'])} {same}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
