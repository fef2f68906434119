"""Where a one-plan build's CPU goes: ``kgraph build PLAN`` run for each plan given, one after the
other in one process (the first pays what a fresh process pays but its imports, which come
before; the next ones are a loaded process's), with
the CPU seconds of the one-plan path's functions printed per build (inclusive: a function called
inside another is counted in both).

Run on a private copy of a store (it writes into it): ``PYTHONPATH=src .venv/bin/python
bench/one_plan_parts.py --store COPY NEW1.txt [NEW2.txt ...]``. Timings only: the output is
checked by ``bench_one_plan.py``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import os
import sys
import time
from typing import Any

from kgraph import build as kbuild
from kgraph.analysis import alignment as al
from kgraph.analysis import audit_index as ai
from kgraph.analysis import coverage as cov
from kgraph.analysis import coverage_answer as answer
from kgraph.analysis import directive_index as di
from kgraph.store import derived

PARTS: list[tuple[Any, str]] = [
    (kbuild, "_directive_coverage"), (kbuild, "process_files"), (ai, "audit_index"),
    (di, "_directive"), (di, "kept_head"), (di, "_read_parts"), (di, "kept_lineage"),
    (di, "_continue"), (di.Lineage, "implementing"), (di.Lineage, "groups"),
    (di.Records, "get"), (di, "_keep_state"), (di, "_moved"), (di, "_outline"),
    (di, "keep_document_value"), (di, "_written_before"), (al.AlignmentState, "result"),
    (cov, "assemble"), (cov.DirectiveCoverage, "graphs"),
    (cov, "directive_of"), (kbuild._VersionView, "replace_graphs"),
    (answer.StageAnswers, "add"), (derived, "_read"),
    *((di, name) for name in ("_continued", "_keep_continued", "_keep_part", "_mentions",
                              "_reached", "_group_graphs", "_merged", "lineage_key")
      if hasattr(di, name)),
    (ai, "document_shas"), (ai._Update, "documents"), (ai._Update, "peers"),
    (ai._Update, "regroup"), (ai._Update, "own_findings"), (ai._Update, "conflicts"),
    (kbuild, "_sweep"), (kbuild, "_updated_index"), (kbuild, "_held_lines"),
    (kbuild, "_coverage_kept"), (kbuild, "_hold_lines"), (answer, "keep"),
    (kbuild, "_workspace"), (kbuild, "validate_document")]


def timed(spent: collections.Counter[str], calls: collections.Counter[str]) -> None:
    """Wrap each of :data:`PARTS` to add its CPU seconds and calls to the counters."""
    for owner, name in PARTS:
        real = getattr(owner, name)
        label = f"{getattr(owner, '__name__', owner)}.{name}"

        def spy(*args: Any, _real: Any = real, _label: str = label, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return _real(*args, **kwargs)
            finally:
                spent[_label] += time.process_time() - started
                calls[_label] += 1

        setattr(owner, name, functools.wraps(real)(spy))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="a private copy of a store")
    parser.add_argument("plans", nargs="+", help="plans not in the store, built in turn")
    args = parser.parse_args(argv)
    spent: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()
    timed(spent, calls)
    from kgraph.cli import app

    for plan in args.plans:
        spent.clear()
        calls.clear()
        started, cpu = time.perf_counter(), time.process_time()
        with contextlib.suppress(SystemExit):  # the command's exit code (findings: 2)
            app(["build", plan, "--store", args.store], standalone_mode=False)
        print(f"== {os.path.basename(plan)}: wall {time.perf_counter() - started:.2f} s, "
              f"CPU {time.process_time() - cpu:.2f} s, load {os.getloadavg()[0]:.1f}",
              file=sys.stderr)
        for label, seconds in spent.most_common():
            if seconds >= 0.005:
                print(f"   {seconds:6.3f} {calls[label]:5d} {label}", file=sys.stderr)


if __name__ == "__main__":
    main()
