"""The named queries' kept answers over Virtuoso after a build over it, old beside new.

``kgraph build SOURCES --store http://...`` keeps, in this machine's cache and under the version
token it wrote, the answers the embedded store's build keeps next to the store: the plans'
assignment facts (``assignments``) and the directive-coverage rows. This tree answers those
queries from them over a remote store; the old tree (``--old-src``) ran the ``assignments``
query, and read a directive's coverage rows from its coverage graphs (two queries, then kept per
version in its own cache).

What it does, each step printed with the load average:

* unless ``--url``: a new Virtuoso in ``--workdir`` and this tree's ``kgraph build SOURCES
  --store URL --no-validate`` into it (wall seconds and the build's stages, as it prints them);
  ``--keep`` leaves the server running and prints how to reuse it (``--url`` with its
  ``KGRAPH_STORE_*`` variables and ``--cache``, the build's cache folder);
* ``--keep-facts`` (with ``--url``, a server its bulk loader filled and kgraph stamped): the plans'
  assignment facts kept as the build's stage keeps them when the version before kept none (the
  first build over the server after the upgrade: every graph read over SPARQL), timed;
* for each case (``assignments`` of each ``--doc``, ``directive-coverage`` of each
  ``--coverage`` and of it in ``--province``): ``kgraph query NAME -f csv`` in fresh processes,
  alternated ``--repeat`` times: the old tree with an empty cache (a server's first request), the
  old tree with the cache it kept (its second), this tree with the build's cache. Median wall
  seconds, the children's CPU, the ratio old/new, and whether each CSV is the embedded store's
  (``--store``, the same sources built by the old tree: the reference), byte for byte.

Run (Virtuoso from ``scripts/setup --dev``; the build under the machine's lock)::

    PYTHONPATH=src .venv/bin/python bench/bench_remote_kept.py --sources CORPUS --store STORE \\
        --workdir W --old-src OLD/src --doc 28-CT/TW --doc 488/KH-UBND --coverage 28-CT/TW \\
        --province "Gia Lai" [--repeat 3] [--keep | --url URL --cache W/cache-new]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench"))

import external_stores  # noqa: E402

from bench_assignments_answer import load  # noqa: E402

KGRAPH = str(Path(sys.executable).parent / "kgraph")


def kgraph(src: Path, args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """One fresh ``kgraph`` process of the tree ``src``: wall, its CPU, its output."""
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run([KGRAPH, *args], capture_output=True, text=True, check=False,
                          env={**os.environ, **env, "PYTHONPATH": str(src)})
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode != 0:
        raise RuntimeError(f"kgraph {' '.join(args)}: {done.stderr[-2000:]}")
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    return wall, cpu, done.stdout


def build(args: argparse.Namespace, env: dict[str, str]) -> None:
    print(f"build of {args.sources} over {args.url} (load {load()})", flush=True)
    wall, cpu, out = kgraph(ROOT / "src", ["build", str(args.sources), "--store", args.url,
                                           "--no-validate"], env)
    print(out.rstrip())
    print(f"build: {wall:.1f} s, {cpu:.1f} CPU-s of kgraph (load {load()})", flush=True)


def keep_facts(args: argparse.Namespace, env: dict[str, str]) -> None:
    """The build's assignment-facts stage over the server, every graph read (in this process,
    into ``--cache``)."""
    os.environ.update({**env, "KGRAPH_CACHE": str(args.cache)})
    from kgraph.analysis import assignments_answer
    from kgraph.store.derived import kept_root
    from kgraph.store.embedded import open_repository

    repo = open_repository(args.url)
    print(f"the plans' assignment facts over {args.url} (load {load()})", flush=True)
    started, cpu = time.perf_counter(), time.process_time()
    kept = assignments_answer.keep(repo, kept_root(repo), None, None)
    assert kept is not None
    print(f"kept: {len(kept.plans):,} plans in {len(kept.parts)} parts, "
          f"{time.perf_counter() - started:.1f} s, {time.process_time() - cpu:.1f} CPU-s of "
          f"kgraph (load {load()})", flush=True)


def query_args(name: str, values: dict[str, str], store: str) -> list[str]:
    params = [a for key, value in values.items() for a in ("-p", f"{key}={value}")]
    return ["query", name, *params, "--store", store, "-f", "csv"]


def compare(args: argparse.Namespace, env: dict[str, str], name: str,
            values: dict[str, str]) -> None:
    """The case's CSV by the embedded store (the reference), then old cold, old warm and new
    over the server, alternated."""
    _, _, reference = kgraph(args.old_src, query_args(name, values, str(args.store)),
                             {"KGRAPH_CACHE": str(args.workdir / "cache-embedded")})
    cold = args.workdir / "cache-old-cold"
    warm = args.workdir / "cache-old-warm"
    runs: dict[str, list[tuple[float, float, bool]]] = {"old, empty cache": [],
                                                          "old, its cache": [], "new": []}
    failed: dict[str, str] = {}  # label -> the error of its first failed run (not run again)
    remote = query_args(name, values, args.url)
    with contextlib.suppress(RuntimeError):  # (a failure shows in the runs below)
        kgraph(args.old_src, remote, {**env, "KGRAPH_CACHE": str(warm)})  # what it keeps
    for _ in range(args.repeat):
        shutil.rmtree(cold, ignore_errors=True)
        for label, src, cache in (("old, empty cache", args.old_src, cold),
                                  ("old, its cache", args.old_src, warm),
                                  ("new", ROOT / "src", args.cache)):
            if label in failed:
                continue
            started = time.perf_counter()
            try:
                wall, cpu, out = kgraph(src, remote, {**env, "KGRAPH_CACHE": str(cache)})
            except RuntimeError as error:
                failed[label] = (f"failed after {time.perf_counter() - started:.1f} s: "
                                 + " ".join(str(error).split())[:160])
                continue
            runs[label].append((wall, cpu, out == reference))
    rows = reference.count("\n") - 1
    print(f"\n{name} {values} ({rows:,} rows; load {load()})")
    print(f"{'':18} {'wall s':>8} {'CPU-s':>7} {'old/new':>8}  same CSV as embedded")
    new = statistics.median(w for w, _, _ in runs["new"]) if runs["new"] else float("nan")
    for label, found in runs.items():
        if not found:
            print(f"{label:18} {failed[label]}")
            continue
        wall = statistics.median(w for w, _, _ in found)
        cpu = statistics.median(c for _, c, _ in found)
        same = all(s for _, _, s in found)
        print(f"{label:18} {wall:8.2f} {cpu:7.2f} {wall / new:8.2f}  {'yes' if same else 'NO'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, help="the corpus to build over the server")
    parser.add_argument("--store", type=Path, required=True,
                        help="the embedded store of the same sources (read-only: reference)")
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--url", help="a server a --keep run built (its KGRAPH_STORE_* set)")
    parser.add_argument("--cache", type=Path, help="with --url: the build's KGRAPH_CACHE")
    parser.add_argument("--buffers", type=int, default=100_000)
    parser.add_argument("--doc", action="append", default=[], help="assignments of DOC")
    parser.add_argument("--coverage", action="append", default=[],
                        help="directive-coverage of DOC (and in --province)")
    parser.add_argument("--province")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--keep-facts", action="store_true",
                        help="with --url: keep the facts as a first build's stage does")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    server = None
    env: dict[str, str] = {}
    if args.url is None:
        if args.sources is None:
            parser.error("--sources (to build) or --url")
        server = external_stores.start_virtuoso(args.workdir / "virtuoso", buffers=args.buffers)
        args.url, env = server.url, dict(server.env)
        args.cache = args.workdir / "cache-new"
        shutil.rmtree(args.cache, ignore_errors=True)
        build(args, {**env, "KGRAPH_CACHE": str(args.cache)})
    else:
        env = {k: v for k, v in os.environ.items() if k.startswith("KGRAPH_STORE_")}
        if args.cache is None:
            parser.error("--cache with --url")
        if args.keep_facts:
            keep_facts(args, env)
    try:
        cases = [("assignments", {"doc": doc}) for doc in args.doc]
        for doc in args.coverage:
            cases.append(("directive-coverage", {"doc": doc}))
            if args.province:
                cases.append(("directive-coverage", {"doc": doc, "province": args.province}))
        for name, values in cases:
            compare(args, env, name, values)
    finally:
        if server is not None and args.keep:
            print(f"\nkept: --url {server.url} --cache {args.cache} with "
                  + " ".join(f"{k}={v}" for k, v in server.env.items()))
        elif server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
