"""Explorer data, the explorer's API and ``kgraph viz`` on built stores (2,000 and 20,000 plans).

Why: the explorer used to load the whole store's lineage graph once per store version (33 s at
2,000 plans, ≈ 17 min and 3.9 GB at 20,000) and ``kgraph viz`` read it too. Now a lineage is
walked in the store from the asked node (:class:`kgraph.analysis.lineage.StoreWalk`) and the
per-version data is the search index and facets only (:meth:`LineageGraph.searchable`).

For each ``--store`` (built stores; a private copy: the per-version data is kept in its
``derived/`` folder), printed:

* the per-version explorer data: search index + facets (new), and with ``--whole`` the old
  whole-store lineage graph + index + facets, with the peak RSS growth of each;
* the explorer's routes in process (FastAPI TestClient, after the per-version data): p50 / p99
  ms over ``--runs`` of /api/facets, /api/search, /api/lineage (the directive down 1 and 2, a
  plan carrying it out down 8, an agency up 2), /api/node, /api/path;
* ``kgraph viz`` of the plan (down 8) and of the directive (down 2) in a fresh process, and
  with ``--whole`` the old way in process (whole graph, then the same drawing);
* with ``--whole``: same answers: every walk, subgraph and level from ``--sample`` starts, the
  search hits, the facets and the numbers' documents equal to the whole graph's;
* the load average next to each store, and the growth from the first store to the last.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_explore_data.py --store /tmp/x/store-2000
--store /tmp/x/store-20000 [--whole] [--runs 8] [--directive 28-CT/TW]``.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from kgraph.analysis.explore import build_network, render_html  # noqa: E402
from kgraph.analysis.lineage import LineageGraph, StoreWalk, find_document  # noqa: E402
from kgraph.analysis.search import LabelIndex  # noqa: E402
from kgraph.graph.vocab import sparql_prefixes  # noqa: E402
from kgraph.store.derived import keep_version_value  # noqa: E402
from kgraph.store.embedded import OxigraphRepository, query_records  # noqa: E402
from kgraph.web import explore  # noqa: E402
from kgraph.web.explore import (  # noqa: E402
    ExplorerData,
    facets_of,
    graph_neighbours,
    shortest_flow_path,
)

SEARCHES = ("so y te gia lai", "28 ct tw", "ke hoach ubnd")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def timed(action: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = action()
    return value, time.perf_counter() - started


def starts(repo: OxigraphRepository, directive: str) -> dict[str, str]:
    """The directive, the first plan (IRI order) carrying out a plan that carries it out, and
    the first agency (IRI order) that plan names."""
    root = find_document(repo, directive)
    if root is None:
        raise SystemExit(f"no document {directive} in the store")
    rows = query_records(repo, sparql_prefixes() + f"""
        SELECT DISTINCT ?p WHERE {{ ?x kg:implements <{root}> . ?p kg:implements ?x }}
        ORDER BY ?p LIMIT 1""")
    plan = rows[0]["p"] if rows else root
    walk = StoreWalk(repo)
    agencies = sorted(i for i in walk.walk(plan, "down", 8) if walk.nodes[i].kind == "agency")
    return {"directive": root, "plan": str(plan), "agency": agencies[0] if agencies else root}


def api_times(repo: OxigraphRepository, chosen: dict[str, str], runs: int
              ) -> dict[str, tuple[float, float, str]]:
    """p50 / p99 ms and the answer's size of each explorer route, in process."""
    from fastapi.testclient import TestClient

    from kgraph.web.app import create_app

    client = TestClient(create_app(repo))
    routes = {
        "/api/facets": ("/api/facets", {}),
        **{f"/api/search {q!r}": ("/api/search", {"q": q}) for q in SEARCHES},
        "/api/lineage directive 1": ("/api/lineage", {"iri": chosen["directive"], "depth": 1}),
        "/api/lineage directive 2": ("/api/lineage", {"iri": chosen["directive"], "depth": 2}),
        "/api/lineage plan 8": ("/api/lineage", {"iri": chosen["plan"], "depth": 8}),
        "/api/lineage agency up 2": ("/api/lineage", {"iri": chosen["agency"], "depth": 2,
                                                      "direction": "up"}),
        "/api/node agency": ("/api/node", {"iri": chosen["agency"]}),
        "/api/node plan": ("/api/node", {"iri": chosen["plan"]}),
        "/api/path agency-directive": ("/api/path", {"from": chosen["agency"],
                                                     "to": chosen["directive"]}),
    }
    client.get("/api/facets")  # the per-version data (timed above)
    found = {}
    for name, (path, params) in routes.items():
        times = []
        for _ in range(runs):
            explore._LINEAGE_ANSWERS.clear()  # the walk itself each time, not a kept answer
            started = time.perf_counter()
            response = client.get(path, params=params)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.status_code, response.text[:200])
        body = response.json()
        size = (f"{len(body['nodes'])} nodes" if isinstance(body, dict) and "nodes" in body
                else f"{len(body)} hits" if isinstance(body, list) else "")
        times.sort()
        found[name] = (statistics.median(times), times[min(len(times) - 1,
                                                           round(0.99 * (len(times) - 1)))], size)
        if path == "/api/lineage":  # asked again: the answer kept for this version
            started = time.perf_counter()
            client.get(path, params=params)
            found[name] = (*found[name][:2], f"{size}; asked again "
                           f"{(time.perf_counter() - started) * 1000:.1f} ms")
    return found


def viz_seconds(store: Path, number: str, depth: int) -> tuple[float, str]:
    """``kgraph viz`` in a fresh process (imports included), wall seconds and its message."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", "from kgraph.cli import app; app()", "viz", number, "--out",
             str(Path(folder) / "viz.html"), "--depth", str(depth), "--store", str(store)],
            capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
        seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"kgraph viz failed: {done.stderr.strip()[-500:]}")
    return seconds, done.stdout.strip()


def same_answers(repo: OxigraphRepository, whole: LineageGraph, sample: int) -> list[str]:
    """Differences between the store walk and the whole graph (empty: the same answers)."""
    differences = []
    searchable = LineageGraph.searchable(repo)
    if facets_of(searchable) != facets_of(whole):
        differences.append("facets")
    new, old = LabelIndex.from_lineage(searchable), LabelIndex.from_lineage(whole)
    for query in (*SEARCHES, "so", "ubnd", "2024", "chi thi"):
        if new.search(query, 100) != old.search(query, 100):
            differences.append(f"search {query!r}")
    by_kind: dict[str, list[str]] = {}
    for node in whole.nodes.values():
        by_kind.setdefault(node.kind, []).append(node.iri)
    chooser = random.Random(12)
    chosen = [iri for iris in by_kind.values()
              for iri in chooser.sample(sorted(iris), min(len(iris), sample))]
    walk = StoreWalk(repo)
    walk.load(chosen)
    differences += [f"node {i}" for i in chosen if walk.nodes.get(i) != whole.nodes[i]]
    for start in chosen:
        for direction, depth in (("down", 1), ("down", 8), ("up", 1), ("up", 8)):
            if whole.nodes[start].kind == "document" and depth == 8 and direction == "down":
                depth = 2  # a directive's whole reach is a national lineage
            walk = StoreWalk(repo)
            reached = walk.walk(start, direction, depth)  # type: ignore[arg-type]
            if reached != whole.walk(start, direction, depth):  # type: ignore[arg-type]
                differences.append(f"walk {start} {direction} {depth}")
                continue
            nodes, edges = walk.subgraph(reached)
            if (nodes, edges) != whole.subgraph(reached) or \
                    walk.levels(reached, edges) != whole.levels(reached, edges):
                differences.append(f"subgraph {start} {direction} {depth}")
    documents = sorted(by_kind.get("document", []))
    for source in sorted(by_kind.get("agency", []))[:: max(1, len(by_kind["agency"]) // 10)]:
        for target in documents[:: max(1, len(documents) // 10)]:
            if shortest_flow_path(StoreWalk(repo).neighbours, source, target) != \
                    shortest_flow_path(graph_neighbours(whole), source, target):
                differences.append(f"path {source} {target}")
    for iri in documents[:: max(1, len(documents) // 50)]:
        number = whole.nodes[iri].number
        if find_document(repo, number) != whole.find_document(number):
            differences.append(f"number {number}")
    print(f"  same answers checked: {len(chosen)} starts x 4 walks, facets, "
          f"{len(SEARCHES) + 4} searches, paths, numbers")
    return differences


def measure(store: Path, args: argparse.Namespace) -> dict[str, float]:
    repo = OxigraphRepository(store, read_only=True)
    print(f"\n== {store}: {len(repo):,} quads; load average {load()}")
    figures: dict[str, float] = {}
    before = peak_mb()
    # what the app keeps per version, computed (not read back), then kept for its routes
    data, seconds = timed(lambda: ExplorerData.of(repo))
    keep_version_value(repo, "explorer-index", data)
    figures["per-version data (new)"] = seconds
    print(f"  per-version data, new (search index + facets): {seconds:7.1f} s, "
          f"{len(data.index):,} entries, {len(data.facets.provinces)} provinces; peak RSS "
          f"+{peak_mb() - before:.0f} MB (load {load()})")
    chosen = starts(repo, args.directive)
    print(f"  directive {chosen['directive']}\n  plan {chosen['plan']}\n"
          f"  agency {chosen['agency']}")
    for name, (p50, p99, size) in api_times(repo, chosen, args.runs).items():
        figures[name] = p50
        print(f"  {name:>32}: p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  {size}")
    print(f"  (load {load()})")
    numbers = {key: StoreWalk(repo).node(chosen[key]).number  # type: ignore[union-attr]
               for key in ("plan", "directive")}
    for key, depth in (("plan", 8), ("directive", 2)):
        seconds, said = viz_seconds(store, numbers[key], depth)
        figures[f"kgraph viz {key} {depth}"] = seconds
        print(f"  kgraph viz {numbers[key]} --depth {depth} (fresh process): {seconds:6.1f} s: "
              f"{said} (load {load()})")
    if args.whole:
        before = peak_mb()
        whole, seconds = timed(lambda: LineageGraph.from_repository(repo))
        _, extra = timed(lambda: (LabelIndex.from_lineage(whole), facets_of(whole)))
        figures["per-version data (old)"] = seconds + extra
        print(f"  per-version data, old (whole lineage graph + index + facets): "
              f"{seconds + extra:7.1f} s, {len(whole.nodes):,} nodes; peak RSS "
              f"+{peak_mb() - before:.0f} MB (load {load()})")
        for key, depth in (("plan", 8), ("directive", 2)):
            _, drawn = timed(lambda k=key, d=depth: render_html(
                build_network(whole, chosen[k], "down", d), "x"))
            print(f"  old kgraph viz {key} --depth {depth} in process: whole graph "
                  f"{seconds:.1f} s + drawing {drawn:.1f} s")
        differences = same_answers(repo, whole, args.sample)
        verdict = "yes" if not differences else "NO: " + ", ".join(differences[:10])
        print(f"  same answers: {verdict}")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, action="append", required=True)
    parser.add_argument("--directive", default="28-CT/TW")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--sample", type=int, default=40, help="starts per node kind")
    parser.add_argument("--whole", action="store_true",
                        help="also the old whole-store lineage graph: time and same answers")
    args = parser.parse_args(argv)
    results = [measure(store, args) for store in args.store]
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"\ngrowth {args.store[0].name} -> {args.store[-1].name}:")
        for name, value in last.items():
            if name in first and first[name] > 0:
                print(f"  {name:>32}: {first[name]:9.1f} -> {value:9.1f}  "
                      f"x{value / first[name]:.1f}")


if __name__ == "__main__":
    main()
