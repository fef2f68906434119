"""Which plans carry out which directive, old code beside new: every directive group the same,
and what each walk costs.

Three places group plans by directive: ``Lineage.groups`` (the build's directive-coverage
stage; ``groups(plans)`` for a one-plan build), the sweep's list of directives (``kgraph sweep``,
``directive_index.live_keys``) and ``coverage.directive_groups`` (the audit's alignments, read
from the store). The lineage is read once from ``--store`` (read-only) and handed to a child
process per code tree (``--old-src``, this tree's ``src``), which answers each of them; the
parent compares every group, member for member, and prints the CPU milliseconds of each walk
(the best of ``--runs``) side by side. ``groups(plans)`` is asked for ``--sample`` plans drawn
with a fixed seed, one at a time.

Old code may list the sweep's directives with ``directive_index._directives`` (main 7e3b3b2);
the new code has one rule (``coverage.directive_members``): ``Lineage.members`` (the sweep lists
its keys) and ``Lineage.groups`` (the same, in order).

``--sweep DIR``: also ``kgraph sweep --dry-run`` of each code on its own copy of the store in DIR
(bench_one_plan's ``copy_store``; the new code's copy ``rekey``-ed and ``rekey_audit``-ed, so
that both find the same kept lineage, states and findings: this change moves both
fingerprints), ``--rounds`` times each, old and new in turn: wall and CPU seconds and the line
it prints (the same for both). Both trees should hold their bytecode (``python -m compileall``):
under PYTHONDONTWRITEBYTECODE a tree without it compiles every module in each process.

Run: ``python bench/bench_directive_groups.py --store /tmp/s31/c/store2k
--old-src /work/wt/base/src [--runs 5] [--rounds 2] [--sample 20] [--sweep DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
sys.path.insert(0, str(ROOT / "bench"))

from bench_one_plan import copy_store, fingerprint_of, rekey, rekey_audit  # noqa: E402

_READ = r"""
import pickle, sys, time
from pathlib import Path
from kgraph.analysis.directive_index import Lineage
from kgraph.store.embedded import OxigraphRepository
repo = OxigraphRepository(Path(sys.argv[1]), read_only=True)
started = time.process_time()
lineage = Lineage.read(repo)
with open(sys.argv[2], "wb") as out:
    pickle.dump(lineage, out)
print(f"lineage read in {time.process_time() - started:.1f} CPU-s: {len(lineage.plans)} plans",
      flush=True)
"""

_ANSWER = r"""
import json, pickle, sys, time
from pathlib import Path
from kgraph.analysis import coverage as cov, directive_index as di
from kgraph.store.embedded import OxigraphRepository
store, kept, sample, runs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])

def timed(call):
    times = []
    for _ in range(runs):
        with open(kept, "rb") as source:
            lineage = pickle.load(source)  # cached properties made afresh in each run
        started = time.process_time()
        value = call(lineage)
        times.append(time.process_time() - started)
    return value, times

out = {}
out["groups"], out["groups_ms"] = timed(lambda lineage: lineage.groups())
sweep = getattr(di, "_directives", None) or (lambda lineage: sorted(lineage.members()))
out["sweep"], out["sweep_ms"] = timed(sweep)
partial, total = {}, 0.0
total = [0.0] * runs
for plan in sample:
    partial[plan], times = timed(lambda lineage: lineage.groups([plan]))
    total = [a + b for a, b in zip(total, times)]
out["partial"], out["partial_ms"] = partial, total
repo = OxigraphRepository(Path(store), read_only=True)
started = time.process_time()
out["directive_groups"] = cov.directive_groups(repo)
out["directive_groups_ms"] = [time.process_time() - started]
print(json.dumps(out))
"""


def answers(src: Path, store: Path, kept: Path, sample: list[str], runs: int) -> dict:
    """One code tree's answers and times, in its own process."""
    done = subprocess.run([PYTHON, "-c", _ANSWER, str(store), str(kept), json.dumps(sample),
                           str(runs)], check=True, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(src)})
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def sweeps(args: argparse.Namespace) -> None:
    """``kgraph sweep --dry-run`` of each code on its own copy, old and new in turn."""
    trees = {"old": args.old_src, "new": ROOT / "src"}
    copies = {label: args.sweep / f"store-{label}" for label in trees}
    try:
        for copy in copies.values():
            copy_store(args.store, copy)
        rekey(copies["new"], fingerprint_of(args.old_src), fingerprint_of(ROOT / "src"),
              ROOT / "src")
        audit = [fingerprint_of(src, "audit_index", "audit_fingerprint")
                 for src in (args.old_src, ROOT / "src")]
        rekey_audit(copies["new"], *audit)
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in trees}
        said: dict[str, set[str]] = {label: set() for label in trees}
        for round_ in range(args.rounds):
            for label in (["old", "new"] if round_ % 2 == 0 else ["new", "old"]):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                done = subprocess.run(
                    [PYTHON, "-c", "from kgraph.cli import app; app()", "sweep", "--dry-run",
                     "--store", str(copies[label])], check=True, capture_output=True, text=True,
                    env={**os.environ, "PYTHONPATH": str(trees[label])})
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                times[label].append((time.perf_counter() - started, cpu))
                said[label].add(done.stdout.strip().split(", in ")[0])
        print(f"kgraph sweep --dry-run, {args.rounds} runs each (load "
              f"{os.getloadavg()[0]:.2f}):")
        for label in trees:
            walls = sorted(w for w, _ in times[label])
            cpus = sorted(c for _, c in times[label])
            print(f"  {label}: wall best {walls[0]:.2f} s median {walls[len(walls) // 2]:.2f}, "
                  f"CPU best {cpus[0]:.2f} s median {cpus[len(cpus) // 2]:.2f}; {said[label]}")
        print(f"  same output: {said['old'] == said['new'] and len(said['new']) == 1}")
    finally:
        for copy in copies.values():
            shutil.rmtree(copy, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, default=Path("/work/wt/base/src"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sweep", type=Path, help="time kgraph sweep --dry-run in copies here")
    parser.add_argument("--sweep-only", action="store_true", help="only --sweep")
    args = parser.parse_args(argv)
    if args.sweep_only:
        sweeps(args)
        return
    with tempfile.TemporaryDirectory() as work:
        kept = Path(work) / "lineage.pickle"
        subprocess.run([PYTHON, "-c", _READ, str(args.store), str(kept)], check=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
        with kept.open("rb") as source:
            plans = sorted(pickle.load(source).plans)
        sample = random.Random(0).sample(plans, min(args.sample, len(plans)))
        started = time.perf_counter()
        old: dict = {}
        new: dict = {}
        for round_ in range(args.rounds):  # old and new in turn, the first one alternating
            trees = [(old, args.old_src), (new, ROOT / "src")]
            for found, src in trees[::-1] if round_ % 2 else trees:
                answer = answers(src, args.store, kept, sample, args.runs)
                for key, value in answer.items():
                    if key.endswith("_ms"):
                        found.setdefault(key, []).extend(value)
                    else:
                        found[key] = value
        wall = time.perf_counter() - started
    sizes = {d: len(m) for d, m in new["groups"].items()}
    print(f"{len(sizes)} directive groups, {sum(sizes.values())} memberships, largest "
          f"{max(sizes.values(), default=0)} plans; {len(sample)} sampled plans "
          f"({wall:.1f} s wall, load {os.getloadavg()[0]:.2f})")
    print(f"{f'CPU ms, {args.rounds}x{args.runs} runs: best | median':38} {'old':>15} "
          f"{'new':>15} {'old/new':>11}  same")
    for name, label in (("groups", "Lineage.groups() (build, full)"),
                        ("sweep", "sweep's directives (live_keys)"),
                        ("partial", f"groups([plan]) x{len(sample)} (one-plan build)"),
                        ("directive_groups", "coverage.directive_groups (store)")):
        a, b = (sorted(t * 1000 for t in code[f"{name}_ms"]) for code in (old, new))
        a, b = [a[0], a[len(a) // 2]], [b[0], b[len(b) // 2]]
        ratios = " | ".join(f"{x / y:.2f}" if y else "-" for x, y in zip(a, b, strict=True))
        print(f"{label:38} {a[0]:7.2f} | {a[1]:5.1f} {b[0]:7.2f} | {b[1]:5.1f} {ratios:>11}  "
              f"{old[name] == new[name]}")
    print(f"sweep's directives = keys of groups(): {new['sweep'] == list(new['groups'])}")
    if any(old[n] != new[n] for n in ("groups", "sweep", "partial", "directive_groups")):
        raise SystemExit("answers differ")
    if args.sweep:
        sweeps(args)


if __name__ == "__main__":
    main()
