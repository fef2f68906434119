"""The peer comparison's kernel on a store's real chunks of plan pairs, old code beside new.

Why: the audit index from nothing compares every plan with up to 33 peers (hundreds of
thousands of pairs at 20,000 plans), most of its CPU. On a shared machine the stage's wall
and even its CPU seconds move with the load; this measures only the kernel, in one process,
old and new alternately on the same pairs, so the ratio holds whatever the load.

The pairs are the first chunks ``compute_index`` gives its workers (``--chunks``, taken in
one process and not compared; nothing is written next to the store but a scratch index in
``--workdir``). For each pair both sides compute the score matrix and its row and column
maxima; the new scores are checked within 1e-12 of the old (their last bits may differ:
the gaps are settled from the reference kernel, ``audit_index._pair_gaps``).

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_peer_kernel.py --store COPY
--old-src CHECKOUT/src [--chunks 6] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any


class _Enough(Exception):
    pass


def chunks(store: Path, count: int, workdir: Path) -> list[Any]:
    """The first ``count`` jobs the index computation hands its workers (in this process)."""
    from kgraph.analysis import audit_index as ai
    from kgraph.store.embedded import OxigraphRepository

    jobs: list[Any] = []

    def keep(job: Any) -> list[Any]:
        jobs.append(job)
        if len(jobs) >= count:
            raise _Enough
        return []

    real, ai._compare = ai._compare, keep  # type: ignore[assignment]
    parallel, ai.PARALLEL_PAIRS = ai.PARALLEL_PAIRS, 1 << 60
    try:
        ai.compute_index(OxigraphRepository(store, read_only=True), workdir / "scratch.sqlite")
    except _Enough:
        pass
    finally:
        ai._compare, ai.PARALLEL_PAIRS = real, parallel  # type: ignore[assignment]
    return jobs


def old_kernel(old_src: Path) -> Any:
    """``similarity_of`` as the old checkout defines it, on this tree's term rows."""
    from kgraph.analysis import audit_index as ai

    text = (old_src / "kgraph" / "analysis" / "audit_index.py").read_text(encoding="utf-8")
    names = dict(vars(ai))
    exec(text[text.index("def similarity_of("):text.index("PARALLEL_PAIRS")], names)
    return names["similarity_of"]


def main() -> None:
    import numpy as np

    from kgraph.analysis import audit_index as ai

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a copy of a built store")
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--chunks", type=int, default=6)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as work:
        jobs = chunks(args.store, args.chunks, Path(work))
    pairs = []
    for root, texts, units in jobs:
        rows = {iri: ai._rows_of(root, value) for iri, value in texts.items()}
        size = 1 + max((int(r.terms[-1]) for r in rows.values() if len(r.terms)), default=0)
        slot = np.full(size, -1, dtype=np.int64)
        pairs.extend((rows[b], rows[a], slot) for (a, b), _ in units
                     if rows[a].n and rows[b].n)
    kernels = {"old": old_kernel(args.old_src), "new": ai.similarity_of}
    worst = max(float(np.abs(kernels["old"](x, y, s) - kernels["new"](x, y, s)).max())
                for x, y, s in pairs)
    print(f"{len(pairs):,} pairs of {len(jobs)} chunks; largest difference {worst:.2g}")
    seconds: dict[str, list[float]] = {name: [] for name in kernels}
    for _ in range(args.runs):
        for name, kernel in kernels.items():
            started = time.process_time()
            for left, right, slot in pairs:
                scores = kernel(left, right, slot)
                scores.max(axis=1)
                scores.max(axis=0)
            seconds[name].append(time.process_time() - started)
            print(f"  {name}: {seconds[name][-1]:.2f} CPU-s, "
                  f"{seconds[name][-1] / len(pairs) * 1e6:.0f} us a pair "
                  f"(load {os.getloadavg()[0]:.1f})")
    old, new = min(seconds["old"]), min(seconds["new"])
    print(f"best of {args.runs}: old {old:.2f} CPU-s, new {new:.2f} CPU-s, old/new {old / new:.2f}")


if __name__ == "__main__":
    main()
