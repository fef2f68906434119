"""Directive coverage benchmark: the build's directive-coverage stage, old and new side by side.

Why: the auditor's matrix (directive tasks × provinces, each cell the lead body) is computed at
build time. The old way (:func:`kgraph.analysis.coverage.compute_directive_coverage`) reads
every plan carrying the directive out from the store and re-aligns them all, for each
directive and again after any change; the build now works from per-plan records the workers
keep and continues a kept alignment for a changed plan
(:mod:`kgraph.analysis.directive_index`). On one store, in one run, this prints:

* the lineage read (once per stage) and the records: read from the store and kept the first
  time (a store the old build wrote), else loaded as the workers kept them;
* per directive, the baseline (store reads + full alignment, ``store=False``) beside the new
  full computation from records, and whether their triples are identical;
* one changed plan (a task's wording, handed over as a worker would): the incremental step's
  time, the provinces rewritten and the quads written, against the baseline's time for the
  same directive;
* serving the stored matrix: ``/coverage?doc=...`` through the FastAPI app (``TestClient``).

Run: ``.venv/bin/python bench/bench_coverage.py --store DIR [--directives 2]`` on a built store
(``--plans N`` builds a corpus into a temporary store instead). Writes only into
``DIR/derived/documents`` (records and states, by content key) when ``--store`` is given:
use a copy of a shared store.

``--stage --old-src OLD/src [--rounds 2]``: the whole stage of a full build instead
(:mod:`coverage_stage_run`, every directive aligned again in forked processes, the graphs
bulk-written), old and new code alternating in fresh processes: wall and CPU seconds (workers
included) side by side, and whether the written coverage graphs (sorted N-Quads), the kept
states (file bytes) and the kept answers are the same.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import write_corpus
from kgraph.analysis import coverage as cov
from kgraph.analysis import directive_index as di
from kgraph.build import build
from kgraph.store.embedded import OxigraphRepository


def lines(graphs: dict[str, str]) -> set[str]:
    return {line for text in graphs.values() for line in text.splitlines()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=None, help="a built store (a copy)")
    parser.add_argument("--plans", type=int, default=200, help="without --store: build these")
    parser.add_argument("--directives", type=int, default=5,
                        help="directives timed the old way (each costs a full store read)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stage", action="store_true",
                        help="the whole stage, old and new side by side (needs --store)")
    parser.add_argument("--old-src", type=Path, default=None, help="the old code's src folder")
    parser.add_argument("--rounds", type=int, default=2, help="--stage: old/new pairs")
    args = parser.parse_args(argv)
    if args.stage:
        if args.store is None or args.old_src is None:
            parser.error("--stage needs --store and --old-src")
        return stage(args.store, args.old_src, args.rounds)
    with tempfile.TemporaryDirectory(prefix="kgraph-bench-coverage-") as tmp:
        path = args.store
        if path is None:
            path = Path(tmp) / "store"
            write_corpus(Path(tmp) / "corpus", args.plans)
            started = time.perf_counter()
            build([Path(tmp) / "corpus"], OxigraphRepository(path), validate=False)
            print(f"built {args.plans} plans in {time.perf_counter() - started:.1f} s")
        repo = OxigraphRepository(path, read_only=True)
        root = repo.root
        return run(repo, root, args)


def run(repo: OxigraphRepository, root: Path | None, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    lineage = di.Lineage.read(repo)
    groups = lineage.groups()
    print(f"lineage read: {time.perf_counter() - started:.2f} s — {len(lineage.plans)} source "
          f"documents, {len(groups)} directives carried out by "
          f"{sum(len(p) for p in groups.values())} plans")
    records = di.Records(repo, root, lineage)
    everything = [p for plans in groups.values() for p in plans]
    started = time.perf_counter()
    records.get(everything)
    first = time.perf_counter() - started
    print(f"records: {first:.2f} s ({records.read_from_store} read from the store and kept, "
          f"{len(everything) - records.read_from_store} loaded as kept)")
    if records.read_from_store:
        records = di.Records(repo, root, lineage)
        started = time.perf_counter()
        records.get(everything)
        print(f"records again, as the workers keep them: {time.perf_counter() - started:.2f} s")

    written: dict[str, str] = {}
    print(f"\n{'directive':<12}{'plans':>7}{'old s':>9}{'new s':>9}{'ratio':>8}  identical")
    old_times: dict[str, float] = {}
    total_new = 0.0
    for index, (number, plans) in enumerate(groups.items()):
        written.clear()
        started = time.perf_counter()
        report = di.update(repo, root, written.update, None, lineage=lineage,
                           only=[number])
        new = time.perf_counter() - started
        total_new += new
        if index >= args.directives:
            print(f"{number:<12}{len(plans):>7}{'-':>9}{new:>9.2f}{'':>8}  (not timed the old way)")
            continue
        started = time.perf_counter()
        result = cov.compute_directive_coverage(repo, number, store=False)
        old = time.perf_counter() - started
        old_times[number] = old
        assert result is not None and report.directives == [number]
        same = lines(written) - {""} == set(result.to_ntriples().splitlines())
        print(f"{number:<12}{len(plans):>7}{old:>9.2f}{new:>9.2f}{old / new:>7.1f}×  "
              f"{'yes' if same else 'NO'}")
    print(f"all {len(groups)} directives, new: {total_new:.2f} s")

    # one changed plan: a task of a plan of the first directive reworded, as a worker hands it
    number, plans = next(iter(groups.items()))
    found = cov.directive_of(repo, number)
    assert found is not None
    chosen = next(p for p in lineage.implementing(repo, found[0]) if p.chain)
    record = records.get([chosen.iri])[chosen.iri]
    tasks = list(record.tasks)
    tasks[-1] = replace(tasks[-1], text=tasks[-1].text + " và các nhiệm vụ khác có liên quan")
    handed = {chosen.iri: replace(record, tasks=tasks)}
    sha = lineage.plans[chosen.iri].sha256
    written.clear()
    started = time.perf_counter()
    report = di.update(repo, root, written.update, {chosen.iri: sha}, handed, lineage=lineage,
                       keep=False)  # the kept state stays the full alignment's
    step = time.perf_counter() - started
    quads = sum(text.count("\n") for text in written.values())
    kind = "incremental" if report.incremental else "FULL (no state kept)"
    print(f"\none changed plan ({chosen.number}, {chosen.province}) of {number}: {step:.2f} s "
          f"{kind}; {report.provinces_written} province graph(s) and the directive's rewritten, "
          f"{quads} quads (old way: {old_times.get(number, float('nan')):.2f} s, "
          f"every plan re-read and re-aligned)")

    from fastapi.testclient import TestClient

    from kgraph.web.app import create_app

    client = TestClient(create_app(repo))
    client.get("/coverage", params={"doc": number})
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        response = client.get("/coverage", params={"doc": number})
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    print(f"/coverage?doc={number} (stored matrix): median {statistics.median(times):.3f} s, "
          f"worst {max(times):.3f} s")
    return 0


class TreeSampler:
    """The peaks of a process tree's summed PSS and RSS, sampled every second while in the
    ``with`` block (:mod:`bench_build_memory`'s sampling)."""

    def __init__(self, pid: int, every: float = 1.0) -> None:
        import threading

        from bench_build_memory import Peaks

        self.pid, self.every = pid, every
        self.peaks = Peaks()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        from bench_build_memory import descendants, rollup

        while not self.done.wait(self.every):
            pids = descendants(self.pid)
            sizes = [rollup(pid) for pid in pids]
            self.peaks.add(sum(p for _, p in sizes), sum(r for r, _ in sizes),
                           max((r for r, _ in sizes), default=0.0), len(pids))

    def __enter__(self) -> TreeSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


def stage(store: Path, old_src: Path, rounds: int) -> int:
    """The stage old and new, alternating (old first in odd rounds), each in a fresh process."""
    import json
    import os
    import pickle
    import subprocess

    new_src = Path(__file__).resolve().parent.parent / "src"
    runner = Path(__file__).resolve().parent / "coverage_stage_run.py"
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for round_ in range(rounds):
        order = ["old", "new"] if round_ % 2 == 0 else ["new", "old"]
        for name in order:
            env = {**os.environ, "PYTHONPATH": str(old_src if name == "old" else new_src)}
            load = os.getloadavg()[0]
            process = subprocess.Popen([sys.executable, str(runner), str(store)], env=env,
                                       stdout=subprocess.PIPE, text=True)
            with TreeSampler(process.pid) as tree:  # the stage's process and its aligners,
                assert process.stdout is not None  # until the stage is done
                for line in process.stdout:
                    if line.strip() == "stage done":
                        break
            out = process.communicate()[0]
            if process.returncode != 0:
                raise subprocess.CalledProcessError(process.returncode, runner)
            run = json.loads(out.strip().splitlines()[-1])
            run["load"] = load
            runs[name].append(run)
            print(f"round {round_ + 1} {name}: wall {run['wall']:.1f} s, CPU {run['cpu']:.1f} s "
                  f"(load {load:.1f} at start), {run['quads']} quads, peak RSS "
                  f"{run.get('rss_mb', 0):.0f} MB (main process); process tree peak summed "
                  f"PSS {tree.peaks.pss:,.0f} MB, RSS {tree.peaks.rss:,.0f} MB", flush=True)
    old, new = runs["old"][-1], runs["new"][-1]
    medians = {name: (statistics.median(r["wall"] for r in found),
                      statistics.median(r["cpu"] for r in found)) for name, found in runs.items()}
    print(f"\n{'':<6}{'wall s':>10}{'CPU s':>10}   (median of {rounds})")
    for name, (wall, used) in medians.items():
        print(f"{name:<6}{wall:>10.1f}{used:>10.1f}")
    print(f"old/new: wall {medians['old'][0] / medians['new'][0]:.2f}×, "
          f"CPU {medians['old'][1] / medians['new'][1]:.2f}×")
    same_graphs = old["nquads"] == new["nquads"] and old["quads"] == new["quads"]
    same_states = old["states"] == new["states"] and bool(new["states"])
    same_answers = (pickle.loads(bytes.fromhex(old["answers"]))
                    == pickle.loads(bytes.fromhex(new["answers"])))
    print(f"same coverage graphs (sorted N-Quads, {new['quads']} quads): "
          f"{'yes' if same_graphs else 'NO'}; same kept states ({len(new['states'])} files): "
          f"{'yes' if same_states else 'NO'}; same kept answers: "
          f"{'yes' if same_answers else 'NO'}")
    return 0 if same_graphs and same_states and same_answers else 1


if __name__ == "__main__":
    sys.exit(main())
