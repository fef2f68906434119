"""The explorer's node details and paths (``/api/node``, ``/api/path``): old code beside this tree.

Each code runs in a fresh process on the store opened read-only (in process, FastAPI's test
client, as ``kgraph serve`` answers): a seeded sample of nodes (plans with a source, documents
they carry out, agencies, assignments, tasks, a province, an IRI naming nothing) asked twice
each, and ``--paths`` paths (bench_app's leaf plan to 28-CT/TW, then pairs of the sample); CPU
ms of the first and of the second request, the load average. Then the answers (status,
content type, body) are compared byte for byte between the codes. Run from the repository
root::

    PYTHONPATH=src .venv/bin/python bench/bench_explorer_answers.py --store STORE \\
        --old-src /path/to/old/src [--paths 0] [--rounds 2]

A path between nodes no flow relation joins walks the whole lineage both ways: at 20,000 plans
minutes; ``--paths 0`` asks only bench_app's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
KG = "https://w3id.org/kgraph/def#"
ID = "https://w3id.org/kgraph/id/"
BENCH_PATH = (ID + "doc/an-giang/19665-kh-ubnd/2025", ID + "doc/vn/28-ct-tw/2023")


def child(store: Path, paths_n: int, out: Path) -> None:
    """One code's answers and CPU ms, written to ``out`` as JSON."""
    import warnings

    warnings.filterwarnings("ignore")
    from fastapi.testclient import TestClient

    from kgraph.store.embedded import OxigraphRepository
    from kgraph.web.app import create_app

    repo = OxigraphRepository(store, read_only=True)
    native = repo.reader

    def sample(query: str, k: int) -> list[str]:
        found = sorted({s[0].value for s in native.query(query, use_default_graph_as_union=True)})
        random.seed(5)
        return random.sample(found, min(k, len(found)))

    iris = (sample(f"SELECT DISTINCT ?d WHERE {{ ?d <{KG}sourceFile> ?f }}", 12)
            + sample(f"SELECT DISTINCT ?d WHERE {{ ?p <{KG}implements> ?d }} LIMIT 2000", 6)
            + sample(f"SELECT DISTINCT ?a WHERE {{ ?x <{KG}addressee> ?a }} LIMIT 3000", 6)
            + sample(f"SELECT DISTINCT ?a WHERE {{ ?d <{KG}hasAssignment> ?a }} LIMIT 3000", 4)
            + sample(f"SELECT DISTINCT ?a WHERE {{ ?d <{KG}hasTask> ?a }} LIMIT 3000", 4)
            + [ID + "province/gia-lai", ID + "nothing"])
    asked = [f"/api/node?iri={quote(i)}" for i in iris]
    pairs = [BENCH_PATH, *zip(iris[:12], iris[12:18] * 2, strict=False)][:1 + paths_n]
    asked += [f"/api/path?from={quote(a)}&to={quote(b)}" for a, b in pairs]
    client = TestClient(create_app(repo), base_url="http://localhost")
    answers, first, second = {}, [], []
    for path in asked:
        started = time.process_time()
        response = client.get(path)
        first.append((time.process_time() - started) * 1000)
        started = time.process_time()
        again = client.get(path)
        second.append((time.process_time() - started) * 1000)
        answers[path] = [response.status_code, response.headers.get("content-type"),
                         response.text, again.text == response.text]
    out.write_text(json.dumps({"answers": answers, "first": first, "second": second},
                              ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--paths", type=int, default=0, help="paths between sampled nodes")
    parser.add_argument("--rounds", type=int, default=2, help="old, new alternations")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.store, args.paths, args.child)
        return
    codes = {"old": args.old_src.resolve(), "new": ROOT / "src"}
    found: dict[str, list[dict]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory() as work:
        for round_no in range(args.rounds):
            for name, src in codes.items():
                out = Path(work) / f"{name}-{round_no}.json"
                load = os.getloadavg()[0]
                subprocess.run([sys.executable, __file__, "--child", str(out), "--store",
                                str(args.store), "--paths", str(args.paths)],
                               env={**os.environ, "PYTHONPATH": str(src)}, check=True)
                answer = json.loads(out.read_text())
                found[name].append(answer)
                print(f"round {round_no + 1} {name}: load {load:.1f}-{os.getloadavg()[0]:.1f}, "
                      f"{len(answer['first'])} requests, CPU ms median first "
                      f"{statistics.median(answer['first']):.1f}, again "
                      f"{statistics.median(answer['second']):.1f}", flush=True)
    for key in ("first", "second"):
        old = statistics.median(c for a in found["old"] for c in a[key])
        new = statistics.median(c for a in found["new"] for c in a[key])
        print(f"{'asked ' + ('again' if key == 'second' else 'first'):14} old {old:7.1f} "
              f"new {new:7.1f} CPU ms (median), old/new {old / max(new, 0.01):.2f}")
    old, new = found["old"][0]["answers"], found["new"][0]["answers"]
    differ = [k for k in old if old[k][:3] != new[k][:3]]
    size = sum(len(v[2]) for v in old.values())
    print(f"same answers: {len(old) - len(differ)} of {len(old)} identical ({size:,} characters)"
          + (f"; differ: {differ[:3]}" if differ else ""))


if __name__ == "__main__":
    main()
