"""One run of the build's directive-coverage stage over a built store, as a full build into an
empty version runs it (every directive aligned again, the graphs handed to a bulk writer):
run by ``bench_coverage.py --stage`` under the old or the new code's ``PYTHONPATH``.

Prints one JSON line: wall and CPU seconds (this process and its forked workers), the sorted
N-Quads' digest of the written coverage graphs, each kept state's file digest and the kept
answers (pickled, hex). Writes only into ``STORE/derived/documents`` (states, answers, the
lineage): use a copy of a shared store."""

from __future__ import annotations

import gc
import hashlib
import json
import pickle
import resource
import sys
import tempfile
import time
from pathlib import Path


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(store: Path) -> None:
    import pyoxigraph as ox

    from kgraph.analysis import directive_index as di
    from kgraph.build import _Writer
    from kgraph.store.embedded import OxigraphRepository

    repo = OxigraphRepository(store, read_only=True)
    documents = store / "derived" / "documents"
    with tempfile.TemporaryDirectory(prefix="kgraph-coverage-stage-") as tmp:
        target = ox.Store(tmp)
        writer = _Writer(repo, target, bulk=True)

        def write(graphs: dict[str, str]) -> None:  # the build's view: more than 4 graphs
            writer.add(graphs)
            writer.flush()

        gc.disable()  # as build._directive_coverage does
        started, used, since = time.perf_counter(), cpu(), time.time()
        report = di.update(repo, store, write, None, sources=({}, {"bench": str(since)}))
        wall, used = time.perf_counter() - started, cpu() - used
        gc.enable()
        writer.close()
        lines = sorted(quad.__str__() for quad in target)
        del target
    states = {path.name.split("-", 3)[3]: hashlib.sha256(path.read_bytes()).hexdigest()
              for path in documents.glob(f"directive-state-{di.fingerprint()}-*.pickle")
              if path.stat().st_mtime >= since}
    print(json.dumps({
        "wall": wall, "cpu": used, "directives": report.directives,
        "quads": len(lines),
        "nquads": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
        "states": states,
        "answers": pickle.dumps(report.answers.directives).hex(),
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
