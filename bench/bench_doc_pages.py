"""The document pages (``/id/<document>``) of a built store: old code beside this tree.

Each code runs in a fresh process on the store opened read-only (in process, FastAPI's test
client, as ``kgraph serve`` answers):

- **first visits**: ``describe`` of a seeded sample of documents (plans with a source, the
  documents they carry out, a province, an agency, a part, a property), each once, in one
  process: what a reader opening pages nobody opened yet waits for (CPU ms median and mean);
- **routes**: the page and the Turtle download of a plan and of a directive (bench_app's
  parameters): the first request, then the median CPU and wall ms of ``--runs`` warm ones.

The two codes alternate (``--rounds``) so that both see the same machine load; the load
average is printed with each. Then every page's content (the whole ``Description``: facts,
sources, links in, tables) is compared between the codes, and the pages' HTML of the routes
(nonces taken out). Run from the repository root::

    PYTHONPATH=src .venv/bin/python bench/bench_doc_pages.py --store STORE --plans 20000 \\
        --old-src /path/to/old/src [--pages 40] [--runs 7] [--rounds 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ID = "https://w3id.org/kgraph/id/"


def child(store: Path, plans_n: int, pages: int, runs: int, out: Path) -> None:
    """One code's measurements, written to ``out`` as JSON."""
    import warnings

    warnings.filterwarnings("ignore")
    sys.path.insert(1, str(ROOT / "bench"))
    from fastapi.testclient import TestClient

    import bench_app
    from corpus import generate_plans
    from kgraph.store.embedded import OxigraphRepository
    from kgraph.web import describe as D
    from kgraph.web.app import create_app

    repo = OxigraphRepository(store, read_only=True)
    native = repo.reader
    documents = sorted(s["d"].value for s in native.query(
        "SELECT DISTINCT ?d WHERE { ?d <https://w3id.org/kgraph/def#sourceFile> ?f }",
        use_default_graph_as_union=True))
    random.seed(7)
    iris = random.sample(documents, min(pages, len(documents)))
    cited = sorted({s["d"].value for s in native.query(
        "SELECT DISTINCT ?d WHERE { ?p <https://w3id.org/kgraph/def#implements> ?d } LIMIT 3000",
        use_default_graph_as_union=True)} - set(documents))
    iris += cited[:: max(1, len(cited) // 10)][:10]
    iris += [f"{ID}province/gia-lai", f"{ID}org/gia-lai/uy-ban-nhan-dan-tinh",
             iris[0] + "/assignment/1", "https://w3id.org/kgraph/def#implements"]
    contents, cpu = {}, []
    for k, iri in enumerate(iris):
        for lang in ("vi", "en") if k % 5 == 0 else ("vi",):
            started = time.process_time()
            description = D.describe(repo, iri, lang)
            cpu.append((time.process_time() - started) * 1000)
            contents[f"{iri} {lang}"] = (None if description is None
                                         else dataclasses.asdict(description))
    params = bench_app.pick(generate_plans(plans_n))
    named = bench_app.document_iris(store, params)
    routes = {"/id/<plan>": "/id/" + named["plan"].split("/id/", 1)[1],
              "/id/<directive>": "/id/" + named["directive"].split("/id/", 1)[1]}
    routes.update({f"{k} turtle": f"{v}?format=turtle" for k, v in list(routes.items())})
    client = TestClient(create_app(repo), base_url="http://localhost")
    timed, bodies = {}, {}
    for name, path in routes.items():
        started = time.perf_counter()
        response = client.get(path)
        first = (time.perf_counter() - started) * 1000
        cpus, walls = [], []
        for _ in range(runs):
            started, wall = time.process_time(), time.perf_counter()
            response = client.get(path)
            cpus.append((time.process_time() - started) * 1000)
            walls.append((time.perf_counter() - wall) * 1000)
        timed[name] = {"status": response.status_code, "first": first,
                       "cpu": statistics.median(cpus), "wall": statistics.median(walls)}
        bodies[name] = re.sub(r'nonce="[^"]*"|nonce-[A-Za-z0-9_-]+', "", response.text)
    out.write_text(json.dumps({"pages": contents, "cpu": cpu, "routes": timed,
                               "bodies": bodies}, ensure_ascii=False, default=str))


def run(src: Path, args: argparse.Namespace, out: Path) -> dict:
    """The child in a fresh process with ``src`` first on the path; its answer and load."""
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    load = os.getloadavg()[0]
    subprocess.run([sys.executable, __file__, "--child", str(out), "--store", str(args.store),
                    "--plans", str(args.plans), "--pages", str(args.pages),
                    "--runs", str(args.runs)], env=env, check=True)
    answer = json.loads(out.read_text())
    answer["load"] = (load, os.getloadavg()[0])
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--plans", type=int, required=True, help="the corpus size it holds")
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--pages", type=int, default=40, help="documents visited once")
    parser.add_argument("--runs", type=int, default=7, help="warm requests a route")
    parser.add_argument("--rounds", type=int, default=2, help="old, new alternations")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.store, args.plans, args.pages, args.runs, args.child)
        return
    codes = {"old": args.old_src.resolve(), "new": ROOT / "src"}
    answers: dict[str, list[dict]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory() as work:
        for round_no in range(args.rounds):
            for name, src in codes.items():
                answer = run(src, args, Path(work) / f"{name}-{round_no}.json")
                answers[name].append(answer)
                first = statistics.median(answer["cpu"])
                print(f"round {round_no + 1} {name}: load {answer['load'][0]:.1f}-"
                      f"{answer['load'][1]:.1f}, first visits CPU ms median {first:.0f} "
                      f"mean {statistics.mean(answer['cpu']):.0f} ({len(answer['cpu'])} pages)",
                      flush=True)
    print(f"\n{'route':28} {'old cpu':>8} {'new cpu':>8} {'old wall':>9} {'new wall':>9}"
          f" {'ratio':>6} {'old 1st':>8} {'new 1st':>8}")
    for route in answers["new"][0]["routes"]:
        def med(name: str, key: str, route: str = route) -> float:
            return statistics.median(a["routes"][route][key] for a in answers[name])
        ratio = med("old", "cpu") / max(med("new", "cpu"), 0.1)
        print(f"{route:28} {med('old', 'cpu'):8.1f} {med('new', 'cpu'):8.1f} "
              f"{med('old', 'wall'):9.1f} {med('new', 'wall'):9.1f} {ratio:6.2f} "
              f"{med('old', 'first'):8.0f} {med('new', 'first'):8.0f}")
    old_first = statistics.median(c for a in answers["old"] for c in a["cpu"])
    new_first = statistics.median(c for a in answers["new"] for c in a["cpu"])
    print(f"{'first visits (median)':28} {old_first:8.1f} {new_first:8.1f} "
          f"{'':9} {'':9} {old_first / max(new_first, 0.1):6.2f}")
    old, new = answers["old"][0], answers["new"][0]
    differ = [k for k in old["pages"] if old["pages"][k] != new["pages"].get(k)]
    print(f"\nsame content: {len(old['pages']) - len(differ)} of {len(old['pages'])} pages "
          f"identical" + (f"; differ: {differ[:5]}" if differ else ""))
    html = [k for k in old["bodies"] if old["bodies"][k] != new["bodies"][k]]
    print("routes' bodies identical" if not html else f"routes' bodies differ: {html}")


if __name__ == "__main__":
    main()
