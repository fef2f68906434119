"""One run of the build's directive-coverage stage over a built store, as a full build into an
empty version runs it (``build._directive_coverage``: every directive aligned again, the graphs
handed to the build's bulk writers, its queries answered by the built store, its writes going
into a new empty store): run by ``bench_coverage.py --stage`` under the old or the new code's
``PYTHONPATH``.

Prints one JSON line: wall and CPU seconds (this process and its forked workers), the sorted
N-Quads' digest of the written coverage graphs, each kept state's file digest and the kept
answers (pickled, hex). Writes only into ``STORE/derived/documents`` (states, answers, the
lineage): use a copy of a shared store."""

from __future__ import annotations

import hashlib
import json
import pickle
import resource
import sys
import tempfile
import time
from pathlib import Path

STAGE_DONE = "stage done"


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(store: Path) -> None:
    import pyoxigraph as ox

    from kgraph import build
    from kgraph.analysis import directive_index as di
    from kgraph.store.embedded import OxigraphRepository, query_records

    class View(build._VersionView):  # the built store answers, the new one is written
        def query(self, sparql: str) -> object:
            return self.repo.query(sparql)

        def records(self, sparql: str) -> list[dict[str, str | None]]:
            return query_records(self.repo, sparql)

    repo = OxigraphRepository(store, read_only=True)
    documents = store / "derived" / "documents"
    with tempfile.TemporaryDirectory(prefix="kgraph-coverage-stage-") as tmp:
        target = ox.Store(tmp)
        writer = build._Writer(repo, target, bulk=True)
        view = View(repo, target, writer)
        started, used, since = time.perf_counter(), cpu(), time.time()
        _, report = build._directive_coverage(view, None, {}, ({}, {"bench": str(since)}))
        writer.flush()
        wall, used = time.perf_counter() - started, cpu() - used
        print(STAGE_DONE, flush=True)  # what follows (the graphs read and sorted) is not the stage
        writer.close()
        lines = sorted(quad.__str__() for quad in target)
        del target
    states = {path.name.split("-", 3)[3]: hashlib.sha256(path.read_bytes()).hexdigest()
              for path in documents.glob(f"directive-state-{di.fingerprint()}-*.pickle")
              if path.stat().st_mtime >= since}
    print(json.dumps({
        "wall": wall, "cpu": used, "directives": report.directives,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "quads": len(lines),
        "nquads": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
        "states": states,
        "answers": pickle.dumps(report.answers.directives).hex(),
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
