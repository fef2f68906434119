"""The whole build's memory, old code beside this tree: ``kgraph build CORPUS`` into an empty
store, each side in a fresh process with its code first on the path.

Why: issue 12 gives the 20,000-plan build 4 GB. ``time -v`` reports the largest process only;
the build forks (two reading workers, two directive aligners, the audit index's processes)
and its process tree held 4.75-5.33 GB summed PSS at 20,000 plans (session 27) while its
largest process stayed under 4 GB. This samples, every ``--every`` seconds, every process of
the build's tree from ``/proc/PID/smaps_rollup``: the summed RSS and PSS (shared pages divided
among the processes mapping them: the tree's real footprint) and the largest process's RSS,
overall and per stage (the stage lines the build logs without a terminal). Printed per side:
wall, CPU-s (user + sys of the build and every process it waited for), the stages' seconds,
the load before and after; then the two stores' dumps compared (sha256 of ``kgraph dump -f
nquads``, quads counted).

Run: ``.venv/bin/python bench/bench_build_memory.py --corpus CORPUS --old-src OLD/src
[--workdir DIR] [--order old,new] [--keep] [--no-dump]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN_CLI = "import sys; from kgraph.cli import app; sys.argv[0] = 'kgraph'; app()"
# The build as ``kgraph build`` runs it, its progress logged every second from the start (the
# CLI logs only after 30 s): the stage lines tell the sampler which stage it is in.
RUN_BUILD = ("import sys; from kgraph.cli import app, progress; progress.LOG_EVERY = 1.0; "
             "progress.LOG_MIN_FILES = 0; sys.argv[0] = 'kgraph'; app()")
STAGE_LINE = re.compile(r"^\[\d\d:\d\d:\d\d\] (.+?): [\d.]+ s; now (.+)$")


@dataclass
class Peaks:
    """The largest values sampled (MB)."""

    pss: float = 0.0
    rss: float = 0.0
    largest: float = 0.0
    processes: int = 0

    def add(self, pss: float, rss: float, largest: float, processes: int) -> None:
        self.pss, self.rss = max(self.pss, pss), max(self.rss, rss)
        self.largest = max(self.largest, largest)
        self.processes = max(self.processes, processes)


@dataclass
class Side:
    name: str
    wall: float = 0.0
    cpu: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    overall: Peaks = field(default_factory=Peaks)
    stages: dict[str, Peaks] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    quads: int = 0
    digest: str = ""


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc/PID/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except (OSError, ValueError):
                continue
    return found


def rollup(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of one process in MB, (0, 0) if it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0, 0.0
    values = {}
    for line in text.splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0]) / 1024
    return values.get("Rss", 0.0), values.get("Pss", 0.0)


def run_side(name: str, src: Path, corpus: Path, store: Path, every: float) -> Side:
    side = Side(name)
    shutil.rmtree(store, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "200"}
    side.load = (os.getloadavg()[0], 0.0)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", RUN_BUILD, "build", str(corpus), "--store",
                                str(store)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    stage = ["reading files"]
    errors: list[str] = []
    done = threading.Event()

    def read_stages() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            errors.append(line)
            match = STAGE_LINE.match(line.strip())
            if match:
                stage[0] = match.group(2)

    def sample() -> None:
        while not done.wait(every):
            pss = rss = largest = 0.0
            pids = descendants(process.pid)
            for pid in pids:
                one_rss, one_pss = rollup(pid)
                rss, pss, largest = rss + one_rss, pss + one_pss, max(largest, one_rss)
            side.overall.add(pss, rss, largest, len(pids))
            side.stages.setdefault(stage[0], Peaks()).add(pss, rss, largest, len(pids))

    threads = [threading.Thread(target=read_stages, daemon=True),
               threading.Thread(target=sample, daemon=True)]
    for thread in threads:
        thread.start()
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    side.wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    for thread in threads:
        thread.join()
    side.cpu = usage.ru_utime + usage.ru_stime
    side.load = (side.load[0], os.getloadavg()[0])
    if process.returncode != 0:
        sys.exit(f"{name} failed ({process.returncode}):\n{''.join(errors)[-3000:]}")
    stages = next((line for line in out.splitlines() if "│ stages" in line), "")
    for part in stages.split("│")[2].split("·") if stages else []:
        match = re.match(r"\s*(.+?) ([\d.]+) s\s*$", part)
        if match:
            side.seconds[match.group(1)] = float(match.group(2))
    return side


def dump_digest(store: Path, src: Path) -> tuple[int, str]:
    """(quads, sha256) of ``kgraph dump -f nquads`` of the store."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    process = subprocess.Popen([sys.executable, "-c", RUN_CLI, "dump", "-f", "nquads",
                                "--store", str(store)], env=env, stdout=subprocess.PIPE)
    assert process.stdout is not None
    digest, lines = hashlib.sha256(), 0
    while chunk := process.stdout.read(1 << 20):
        digest.update(chunk)
        lines += chunk.count(b"\n")
    if process.wait() != 0:
        sys.exit(f"dump of {store} failed")
    return lines, digest.hexdigest()


def table(sides: dict[str, Side]) -> None:
    old, new = sides["old"], sides["new"]

    def row(label: str, a: float, b: float, unit: str = "") -> None:
        ratio = f"{a / b:.2f}x" if b else "-"
        print(f"| {label} | {a:,.1f}{unit} | {b:,.1f}{unit} | {ratio} |")

    print("\n| old / new | old | new | old/new |\n|---|---|---|---|")
    row("wall s", old.wall, new.wall)
    row("CPU-s (user + sys, children waited for)", old.cpu, new.cpu)
    row("peak summed PSS of the tree, MB", old.overall.pss, new.overall.pss)
    row("peak summed RSS of the tree, MB", old.overall.rss, new.overall.rss)
    row("largest process RSS, MB", old.overall.largest, new.overall.largest)
    for stage in [*old.seconds, *(s for s in new.seconds if s not in old.seconds)]:
        row(f"stage {stage}, s", old.seconds.get(stage, 0.0), new.seconds.get(stage, 0.0))
    print(f"| load before → after | {old.load[0]:.1f} → {old.load[1]:.1f} | "
          f"{new.load[0]:.1f} → {new.load[1]:.1f} | |")
    print("\nper stage (sampled): peak tree PSS / tree RSS / largest RSS, MB, processes")
    for stage in [*old.stages, *(s for s in new.stages if s not in old.stages)]:
        parts = []
        for side in (old, new):
            p = side.stages.get(stage)
            parts.append(f"{p.pss:,.0f} / {p.rss:,.0f} / {p.largest:,.0f} ({p.processes})"
                         if p else "-")
        print(f"  {stage}: old {parts[0]}; new {parts[1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/kgraph-build-memory"))
    parser.add_argument("--order", default="old,new")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--keep", action="store_true", help="keep the two stores")
    parser.add_argument("--no-dump", action="store_true", help="do not compare the dumps")
    args = parser.parse_args(argv)
    sources = {"old": args.old_src.resolve(), "new": ROOT / "src"}
    args.workdir.mkdir(parents=True, exist_ok=True)
    sides: dict[str, Side] = {}
    for name in args.order.split(","):
        store = args.workdir / f"store-{name}"
        side = sides[name] = run_side(name, sources[name], args.corpus, store, args.every)
        print(f"{name}: wall {side.wall:.1f} s, CPU-s {side.cpu:.1f}, peak tree PSS "
              f"{side.overall.pss:,.0f} MB, tree RSS {side.overall.rss:,.0f} MB, largest "
              f"{side.overall.largest:,.0f} MB; load {side.load[0]:.1f} -> {side.load[1]:.1f}; "
              f"stages {side.seconds}", flush=True)
        if not args.no_dump:
            side.quads, side.digest = dump_digest(store, ROOT / "src")
            print(f"{name}: dump {side.quads:,} quads, sha256 {side.digest[:16]}…", flush=True)
        if not args.keep:
            shutil.rmtree(store, ignore_errors=True)
    table(sides)
    if args.no_dump:
        return 0
    same = sides["old"].digest == sides["new"].digest
    print(f"\ndumps (N-Quads, {sides['new'].quads:,} quads): {'same' if same else 'DIFFERENT'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
