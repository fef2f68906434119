"""Audit benchmark: validation on ingest against a store of >= 1 M triples, and full validation.

Why: kgraph validates each document's graph on its own when it is ingested (pySHACL on a few
hundred triples) and runs cross-document rules as SPARQL on Oxigraph. That must stay fast when
the store is large, and the per-document design must not cost more than validating everything
as one rdflib graph with plain pySHACL. Measured in one run:

1. a synthetic corpus (``bench/corpus.py`` plan texts through the real extractor), cloned under
   fresh IRIs until the store holds ``--triples`` (default 1 M) triples;
2. ingest of one new plan: pySHACL on its graph + load + the cross-document conflict query for
   it on the full store (target: under 1 s);
3. full validation: kgraph's path (every document graph on its own; sequential time and, with
   ``--workers``, wall time of a process pool) against plain pySHACL on one rdflib graph holding
   the same documents. Plain pySHACL is capped at ``--subset`` documents (it grows worse than
   linearly); the ratio is measured on that same subset, and the output says so. Both sides run
   in one process with kgraph's SPARQL-parse cache installed (it helps plain pySHACL too) and
   with parsing excluded.

Run: ``.venv/bin/python bench/bench_audit.py [--unique 150] [--triples 1000000] [--subset 100]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pyshacl import validate as pyshacl_validate
from rdflib import Graph
from rdflib.namespace import SH

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus
from kgraph.analysis.audit import conflict_findings
from kgraph.analysis.validation import ontology_graph, shapes_graph, validate_graph
from kgraph.build import prepare
from kgraph.graph.mapping import DocumentGraph
from kgraph.graph.vocab import ELI, ID
from kgraph.resources import resource_graphs
from kgraph.store.embedded import OxigraphRepository

DOC = str(ID) + "doc/"
GRAPH = str(ID) + "graph/"


def clone(ntriples: str, index: int) -> str:
    """The same triples under fresh document and graph IRIs (a copy that merges with nothing)."""
    if index == 0:
        return ntriples
    return ntriples.replace(DOC, f"{DOC}c{index}-").replace(GRAPH, f"{GRAPH}c{index}-")


def clone_graph_name(name: str, index: int) -> str:
    return name if index == 0 else name.replace(GRAPH, f"{GRAPH}c{index}-")


def validate_ntriples(ntriples: str) -> tuple[int, float, float]:
    """Worker: parse and validate one document graph; (results, parse s, validate s)."""
    started = time.perf_counter()
    graph = Graph().parse(data=ntriples, format="turtle")  # n3() may triple-quote
    parsed = time.perf_counter()
    results = len(validate_graph(graph).results)
    return results, parsed - started, time.perf_counter() - parsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--unique", type=int, default=150, help="plans extracted from text")
    parser.add_argument("--triples", type=int, default=1_000_000, help="store size to reach")
    parser.add_argument("--subset", type=int, default=100, help="documents for plain pySHACL")
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sources"
        files = write_corpus(folder, args.unique + 1)
        started = time.perf_counter()
        _, graphs = prepare(files)
        print(f"extracted {len(graphs)} synthetic plans in {time.perf_counter() - started:.1f} s "
              f"({statistics.mean(len(g.graph) for g in graphs):.0f} triples each)")
        new_plan, corpus = graphs[-1], graphs[:-1]
        texts = [(str(g.name), g.to_ntriples()) for g in corpus]
        documents: list[tuple[str, str]] = []
        repo = OxigraphRepository(Path(tmp) / "store")
        repo.replace_graphs(resource_graphs())
        index = 0
        started = time.perf_counter()
        while len(repo) < args.triples:
            batch = {clone_graph_name(n, index): clone(t, index) for n, t in texts}
            repo.replace_graphs(batch)
            documents.extend(batch.items())
            index += 1
        print(f"store: {len(repo):,} triples in {len(documents)} document graphs "
              f"({index} copies of the corpus), loaded in {time.perf_counter() - started:.1f} s")

        ingest_one(repo, new_plan, args.runs)
        full_validation(documents, args.subset, args.workers)


def ingest_one(repo: OxigraphRepository, plan: DocumentGraph, runs: int) -> None:
    """Validate, load and cross-check one new plan against the full store."""
    number = str(plan.graph.value(plan.document, ELI.id_local))
    times: dict[str, list[float]] = {"shacl": [], "load": [], "cross": [], "total": []}
    for _ in range(runs):
        t0 = time.perf_counter()
        validation = validate_graph(plan.graph)
        t1 = time.perf_counter()
        repo.replace_graphs({str(plan.name): plan.to_ntriples()})
        t2 = time.perf_counter()
        conflicts = conflict_findings(repo, number)
        t3 = time.perf_counter()
        for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
            times[key].append(value)
    median = {k: statistics.median(v) for k, v in times.items()}
    verdict = "OK" if median["total"] < 1.0 else "OVER 1 s"
    print(f"ingest of one new plan ({len(plan.graph)} triples, {number}), median of {runs}: "
          f"pySHACL {median['shacl'] * 1000:.0f} ms, load {median['load'] * 1000:.0f} ms, "
          f"cross-document query {median['cross'] * 1000:.0f} ms, "
          f"total {median['total'] * 1000:.0f} ms [{verdict}] "
          f"({len(validation.results)} SHACL results, {len(conflicts)} conflicts)")


def full_validation(documents: list[tuple[str, str]], subset: int, workers: int) -> None:
    """kgraph's per-document path on everything, and against plain pySHACL on a subset."""
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        outcomes = list(pool.map(validate_ntriples, (t for _, t in documents), chunksize=16))
    wall = time.perf_counter() - started
    parse = sum(p for _, p, _ in outcomes)
    check = sum(v for _, _, v in outcomes)
    print(f"kgraph full validation, {len(documents)} document graphs: {wall:.1f} s wall with "
          f"{workers} processes (summed per document: {parse:.1f} s parsing, {check:.1f} s "
          f"pySHACL; {sum(r for r, _, _ in outcomes)} results)")

    chosen = documents[:subset]
    parsed = [Graph().parse(data=t, format="turtle") for _, t in chosen]
    started = time.perf_counter()
    ours = [len(validate_graph(g).results) for g in parsed]
    kgraph_time = time.perf_counter() - started
    union = Graph()
    for graph in parsed:
        union += graph
    started = time.perf_counter()
    _conforms, report, _text = pyshacl_validate(
        union, shacl_graph=shapes_graph(), ont_graph=ontology_graph(), inference="none",
        allow_warnings=True)
    plain_time = time.perf_counter() - started
    plain_results = len(list(report.objects(None, SH.result))) if isinstance(report, Graph) else -1
    print(f"subset of {len(chosen)} documents ({len(union):,} triples; plain pySHACL capped "
          f"here, the full corpus would take too long): kgraph per-document "
          f"{kgraph_time:.1f} s sequential ({sum(ours)} results) vs plain pySHACL "
          f"on one rdflib graph {plain_time:.1f} s ({plain_results} results); "
          f"ratio plain/kgraph = {plain_time / kgraph_time:.2f} (parsing excluded on both sides)")


if __name__ == "__main__":
    main()
