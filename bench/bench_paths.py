"""The explorer's path between two nodes (``/api/path``): the old walk in the store beside this
tree's flow index, answers compared byte for byte.

A first process of this tree computes the store version's flow index (or reads the one kept
next to the store) and picks the pairs, seeded: bench_app's pair (a commune plan to 28-CT/TW),
``--pairs`` pairs of random nodes (documents, agents, plan parts) a flow chain joins, ``--apart``
pairs in two components (the old code walks the smaller one whole before it answers 404: minutes
at 20,000 plans) and a province (no flow relation). Then each code, in fresh processes alternated
``--rounds`` times, opens the store read-only with the explorer's data ready (and, new, the flow
index: what the server's warm-up leaves), and asks every pair once through FastAPI's test client:
CPU ms of each first request. Answers (status, content type, body) are compared between the
codes. Run from the repository root::

    PYTHONPATH=src .venv/bin/python bench/bench_paths.py --store STORE \\
        --old-src /path/to/old/src [--pairs 40] [--apart 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
ID = "https://w3id.org/kgraph/id/"
BENCH_PATH = (ID + "doc/an-giang/19665-kh-ubnd/2025", ID + "doc/vn/28-ct-tw/2023")


def pick(store: Path, pairs_n: int, apart_n: int, out: Path) -> None:
    """This tree: the flow index (its cost) and the pairs, grouped."""
    import numpy as np

    from kgraph.analysis.flow_index import flow_index
    from kgraph.analysis.page_data import explorer_for
    from kgraph.store.derived import has_version_value
    from kgraph.store.embedded import OxigraphRepository

    repo = OxigraphRepository(store, read_only=True)
    explorer_for(repo)
    kept = has_version_value(repo, "flow-index")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    index = flow_index(repo)
    cpu = time.process_time() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    terms = index.terms()
    numbers = np.flatnonzero((index.kinds > 0) & (index.kinds < 8)).tolist()  # no provinces
    nodes = [terms[n] for n in numbers]
    random.seed(7)
    joined: list[tuple[str, str]] = []
    while len(joined) < pairs_n:
        a, b = random.sample(numbers, 2)
        if index.components[a] == index.components[b] and index.path(terms[a], terms[b]):
            joined.append((terms[a], terms[b]))
    # apart: a node of the largest component other than the main one, and one of the main one
    # (the old walk exhausts the smaller component before it answers)
    sizes = np.bincount(index.components)
    main_component, *others = np.argsort(-sizes)
    of = {c: [terms[n] for n in numbers if index.components[n] == c]
          for c in [main_component, *others[:apart_n]]}
    apart = [(random.choice(of[c]), random.choice(of[main_component]))
             for c in others[:apart_n] if sizes[c] > 1]
    groups = {"bench_app's pair": [BENCH_PATH], "joined": joined, "apart": apart,
              "province": [(ID + "province/gia-lai", BENCH_PATH[1])]}
    print(f"components: {len(sizes):,}, the main one {sizes[main_component]:,} nodes, "
          f"the next ones {', '.join(str(sizes[c]) for c in others[:apart_n])}", flush=True)
    lengths = {f"{a} {b}": len(index.path(a, b) or []) for group in groups.values()
               for a, b in group if index.number(a) is not None and index.number(b) is not None}
    out.write_text(json.dumps({"groups": groups, "kept": kept, "cpu": cpu, "grown_mb": grown,
                               "nodes": len(nodes), "terms": len(terms),
                               "statements": len(index.statements), "lengths": lengths}))


def child(store: Path, pairs: Path, out: Path) -> None:
    """One code's answers and CPU ms of each first request, written to ``out`` as JSON."""
    import warnings

    warnings.filterwarnings("ignore")
    from fastapi.testclient import TestClient

    from kgraph.analysis.page_data import explorer_for
    from kgraph.store.embedded import OxigraphRepository
    from kgraph.web.app import create_app

    repo = OxigraphRepository(store, read_only=True)
    assert explorer_for(repo).nodes  # what the warm-up and the process's first walk leave
    loaded = 0.0
    try:
        from kgraph.analysis.flow_index import ready_index
    except ImportError:  # the old code
        pass
    else:
        started = time.process_time()
        assert ready_index(repo) is not None, "no flow index kept: run the picking step first"
        loaded = time.process_time() - started
    client = TestClient(create_app(repo), base_url="http://localhost")
    groups = json.loads(pairs.read_text())["groups"]
    found: dict[str, dict[str, list]] = {}
    for group, asked in groups.items():
        for a, b in asked:
            path = f"/api/path?from={quote(a)}&to={quote(b)}"
            started = time.process_time()
            response = client.get(path)
            cpu = (time.process_time() - started) * 1000
            found.setdefault(group, {})[path] = [cpu, response.status_code,
                                                 response.headers.get("content-type"),
                                                 response.text]
    out.write_text(json.dumps({"found": found, "loaded": loaded}, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--pairs", type=int, default=40, help="pairs a flow chain joins")
    parser.add_argument("--apart", type=int, default=2, help="pairs in two components")
    parser.add_argument("--rounds", type=int, default=2, help="old, new alternations")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pick", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--asked", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pick:
        pick(args.store, args.pairs, args.apart, args.pick)
        return
    if args.child:
        child(args.store, args.asked, args.child)
        return
    codes = {"old": args.old_src.resolve(), "new": ROOT / "src"}
    found: dict[str, list[dict]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory() as work:
        asked = Path(work) / "pairs.json"
        load = os.getloadavg()[0]
        subprocess.run([sys.executable, __file__, "--pick", str(asked), "--store",
                        str(args.store), "--pairs", str(args.pairs), "--apart", str(args.apart)],
                       env={**os.environ, "PYTHONPATH": str(codes["new"])}, check=True)
        picked = json.loads(asked.read_text())
        print(f"flow index ({'read from disk' if picked['kept'] else 'computed whole'}): "
              f"{picked['cpu']:.2f} CPU-s, +{picked['grown_mb']:.0f} MB peak RSS, "
              f"{picked['nodes']:,} nodes, {picked['terms']:,} IRIs, "
              f"{picked['statements']:,} flow statements; load {load:.1f}", flush=True)
        for round_no in range(args.rounds):
            for name, src in codes.items():
                out = Path(work) / f"{name}-{round_no}.json"
                load = os.getloadavg()[0]
                subprocess.run([sys.executable, __file__, "--child", str(out), "--asked",
                                str(asked), "--store", str(args.store)],
                               env={**os.environ, "PYTHONPATH": str(src)}, check=True)
                answer = json.loads(out.read_text())
                found[name].append(answer)
                print(f"round {round_no + 1} {name}: load {load:.1f}-{os.getloadavg()[0]:.1f}"
                      + (f", index read in {answer['loaded']:.2f} CPU-s" if name == "new"
                         else ""), flush=True)
    print(f"{'first request, CPU ms':28} {'old median':>10} {'new median':>10} "
          f"{'old max':>9} {'new max':>9} {'old/new':>8}")
    for group in picked["groups"]:
        old = [a["found"][group][p][0] for a in found["old"] for p in a["found"].get(group, {})]
        new = [a["found"][group][p][0] for a in found["new"] for p in a["found"].get(group, {})]
        if not old:
            continue
        lengths = [picked["lengths"].get(f"{a} {b}", 0) for a, b in picked["groups"][group]]
        label = f"{group} ({len(lengths)}, {min(lengths)}-{max(lengths)} nodes)"
        print(f"{label:28} {statistics.median(old):10.1f} {statistics.median(new):10.1f} "
              f"{max(old):9.1f} {max(new):9.1f} "
              f"{statistics.median(old) / max(statistics.median(new), 0.01):8.1f}")
    same = total = size = 0
    for round_no in range(args.rounds):
        for group, answers in found["old"][round_no]["found"].items():
            for path, (_, *answer) in answers.items():
                total += 1
                size += len(answer[2])
                same += found["new"][round_no]["found"][group][path][1:] == answer
    print(f"same answers: {same} of {total} identical ({size:,} characters)")


if __name__ == "__main__":
    main()
