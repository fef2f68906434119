"""A build worker's validation of each plan: the SHACL-SPARQL constraints in Python beside the
same constraints by their SPARQL text, alternately in one process, CPU ms a plan and the same
results.

Why: Oxigraph cannot prepare a query, so each document parsed the three constraint texts again
(with a regular expression compiled per row): 3.1 ms of a worker's 43 a plan. The constraints
the build ships are evaluated in Python (``shacl_compiled.NATIVE``); their SPARQL stays the
reference. Plans are extracted and mapped first (not timed), then validated the way
``kgraph.build.process_file`` does (a workspace, the document's index); the rounds alternate
SPARQL and Python after a warm-up, and every round's results must equal the SPARQL's.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_validation.py --sources FOLDER [--plans N]
[--rounds 3]`` (files ``*.txt``/``*.md`` of FOLDER in name order).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from kgraph.analysis.shacl_compiled import Workspace
from kgraph.analysis.validation import _compiled_shapes
from kgraph.graph.mapping import document_graph
from kgraph.ingest.extract import extract_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--plans", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    files = sorted(p for p in args.sources.iterdir() if p.suffix in {".txt", ".md"})
    mapped = [document_graph(extract_file(p)) for p in files[:args.plans]]
    engine = _compiled_shapes()
    constraints = [c for shape in engine.shapes for c in shape.sparql]
    native = {id(c): c.native for c in constraints}
    print(f"{len(mapped)} plans of {args.sources}; {len(constraints)} SPARQL constraints, "
          f"{sum(f is not None for f in native.values())} in Python")

    def run(python: bool) -> tuple[float, list[Any]]:
        for c in constraints:
            c.__dict__["native"] = native[id(c)] if python else None
        workspace = Workspace()
        workspace.RENEW_AFTER = 1  # as the build's workers (kgraph.build.WORKSPACE_RENEW)
        started, results = time.process_time(), []
        for m in mapped:
            workspace.load("".join(m.lines), m.index)
            results.append(engine.validate(m.triples, m.index, workspace))
        return time.process_time() - started, results

    run(True)
    reference = run(False)[1]
    best = {False: float("inf"), True: float("inf")}
    for _ in range(args.rounds):
        for python in (False, True):
            seconds, results = run(python)
            assert results == reference, "the Python constraints differ from the SPARQL"
            best[python] = min(best[python], seconds)
            print(f"  {'python' if python else 'sparql'}: {1000 * seconds / len(mapped):6.2f} "
                  f"ms a plan (load {os.getloadavg()[0]:.2f})")
    found = sum(len(r) for r in reference)
    print(f"best: SPARQL {1000 * best[False] / len(mapped):.2f}, Python "
          f"{1000 * best[True] / len(mapped):.2f} ms a plan (SPARQL/Python "
          f"{best[False] / best[True]:.2f}); same results ({found} in all)")


if __name__ == "__main__":
    main()
