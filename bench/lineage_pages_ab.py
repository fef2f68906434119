"""Old and new ``/api/lineage`` side by side on one store: the same lineages, and their cost.

Serves the store twice with ``kgraph serve`` (this checkout's code and ``--old-src``) and asks
each server, over HTTP as a client would (gzip accepted, as httpx and browsers do), lineages
taken from the store: down from directives and plans, up from agencies. For each lineage it

* checks the answers: the old full answer (whole) against the new pages joined, page one
  then each ``next`` (the same node records and edges; the new order is walk order), and the
  compact forms against each other (the same rows and edges);
* times, warm, p50 of ``--runs`` interleaved requests: old full (whole), new first page (the
  default answer), new every page (following ``next``), new ``limit=6000`` (whole), old and
  new compact; and prints the ratios new / old beside the load average.

Run: ``PYTHONPATH=src .venv/bin/python bench/lineage_pages_ab.py --store COPY
[--old-src /work/wt/base/src] [--lineages 12] [--runs 10]`` (under the heavy lock: two servers
walk thousands of nodes). The servers write derived data next to the store: give a copy.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import bench_app  # noqa: E402

KGRAPH = str(Path(sys.executable).parent / "kgraph")
WHOLE = 6000  # the API's largest page: any lineage within the walk's bound in one answer


def serve(src: Path, store: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``kgraph serve`` of the code in ``src`` on ``store``, without the warm-up thread (its
    minutes of page data would run beside the timings; the answers timed are kept ones)."""
    return bench_app.serve(store, warm=False, env={**os.environ, "PYTHONPATH": str(src)})


def chosen_lineages(store: Path, count: int, seed: int, given: list[str]
                    ) -> list[dict[str, Any]]:
    """Lineages a user opens: ``given`` IRIs down 8 and up 8, each directive down 8, plans
    down 8 and 2, agencies up 8, drawn with ``seed`` from the store's documents and the
    organisations plans address."""
    sys.path.insert(0, str(ROOT / "src"))
    from kgraph.store.embedded import OxigraphRepository

    repo = OxigraphRepository(store, read_only=True)
    eli, kg = "http://data.europa.eu/eli/ontology#", "https://w3id.org/kgraph/def#"
    documents = sorted(str(r[0]) for r in repo.query(
        f"SELECT DISTINCT ?d WHERE {{ ?d a <{eli}LegalResource> }}").rows)
    directives = [d for d in documents if "/doc/vn/" in d]
    plans = [d for d in documents if "/doc/vn/" not in d]
    agencies = sorted(str(r[0]) for r in repo.query(
        f"SELECT DISTINCT ?a WHERE {{ ?x <{kg}addressee> ?a . "
        f"?a a <http://www.w3.org/ns/org#Organization> }}").rows)
    rng = random.Random(seed)
    picked = [{"iri": i, "direction": d, "depth": 8} for i in given for d in ("down", "up")]
    picked += [{"iri": d, "direction": "down", "depth": 8} for d in directives]
    picked += [{"iri": d, "direction": "down", "depth": depth}
               for d in rng.sample(plans, min(count, len(plans))) for depth in (8, 2)]
    picked += [{"iri": a, "direction": "up", "depth": 8}
               for a in rng.sample(agencies, min(count // 2, len(agencies)))]
    return picked


def records(answer: dict[str, Any]) -> tuple[list[str], list[tuple[str, ...]]]:
    """A full answer's nodes and edges, each as sorted JSON-able text (order aside)."""
    import json

    nodes = sorted(json.dumps(n, sort_keys=True, ensure_ascii=False) for n in answer["nodes"])
    edges = sorted((e["source"], e["target"], e["rel"], e["label"]) for e in answer["edges"])
    return nodes, edges


def table_records(table: dict[str, Any]) -> tuple[list[tuple], list[tuple[str, str, str]]]:
    """A compact answer's rows (``document`` as an IRI) and edges, sorted."""
    ids = [row[0] for row in table["nodes"]]
    rows = sorted(tuple(ids[c] if name == "document" and isinstance(c, int) else
                        tuple(c) if isinstance(c, list) else c
                        for name, c in zip(table["columns"], row, strict=True))
                  for row in table["nodes"])
    return rows, sorted((ids[s], ids[t], rel) for s, t, rel in table["edges"])


def pages(client: httpx.Client, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Every page of a new full answer (page one, then each ``next``) and the bytes read."""
    answer = client.get("/api/lineage", params=params)
    answer.raise_for_status()
    found, size = [answer.json()], len(answer.content)
    while found[-1]["next"]:
        answer = client.get(found[-1]["next"])
        answer.raise_for_status()
        found.append(answer.json())
        size += len(answer.content)
    return found, size


def follow(client: httpx.Client, params: dict[str, Any]) -> int:
    """Every page of a new full answer by its ``Link: rel="next"`` headers, as a client that
    reads the pages' bodies only after (the bytes read)."""
    answer = client.get("/api/lineage", params=params)
    size = len(answer.content)
    while "next" in answer.links:
        answer = client.get(answer.links["next"]["url"])
        size += len(answer.content)
    return size


def joined(found: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nodes": [n for page in found for n in page["nodes"]],
            "edges": [e for page in found for e in page["edges"]]}


def timed(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """p50 seconds of each call, ``runs`` interleaved rounds after one untimed call each."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()
    order = list(calls)
    for _ in range(runs):
        random.shuffle(order)
        for name in order:
            started = time.perf_counter()
            calls[name]()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a copy of a built store")
    parser.add_argument("--old-src", type=Path, default=Path("/work/wt/base/src"))
    parser.add_argument("--lineages", type=int, default=12, help="plans drawn (and half as "
                                                                   "many agencies)")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iri", action="append", default=[],
                        help="a node whose lineage is asked down 8 and up 8 (repeatable)")
    args = parser.parse_args(argv)
    lineages = chosen_lineages(args.store, args.lineages, args.seed, args.iri)
    servers = [serve(ROOT / "src", args.store), serve(args.old_src, args.store)]
    try:
        new = httpx.Client(base_url=servers[0][1], timeout=600)
        old = httpx.Client(base_url=servers[1][1], timeout=600)
        print(f"{len(lineages)} lineages, load {os.getloadavg()[0]:.1f}", flush=True)
        print(f"{'lineage':<58} {'nodes':>6} {'pages':>5} {'same':>5} | p50 ms: old full / "
              f"new page 1 / new all pages / new limit={WHOLE} / old compact / new compact"
              f" | KB old full / new page 1")
        ratios: dict[str, list[float]] = {"page 1": [], "all pages": [], "whole": [],
                                          "compact": []}
        differ = 0
        for params in lineages:
            whole_old = old.get("/api/lineage", params=params)
            if whole_old.status_code == 404:  # a document cited but not in the store: no node
                assert new.get("/api/lineage", params=params).status_code == 404, params
                continue
            whole_old.raise_for_status()
            found, _ = pages(new, params)
            table_old = old.get("/api/lineage", params={**params, "compact": "true"}).json()
            table_new = new.get("/api/lineage", params={**params, "compact": "true"}).json()
            same = (records(whole_old.json()) == records(joined(found))
                    and whole_old.json().get("cut_at") == found[0].get("cut_at")
                    and table_records(table_old) == table_records(table_new))
            differ += not same
            first = new.get("/api/lineage", params=params)
            p50 = timed({
                "old full": lambda p=params: old.get("/api/lineage", params=p).content,
                "new page 1": lambda p=params: new.get("/api/lineage", params=p).content,
                "new all pages": lambda p=params: follow(new, p),
                "new whole": lambda p=params: new.get(
                    "/api/lineage", params={**p, "limit": WHOLE}).content,
                "old compact": lambda p=params: old.get(
                    "/api/lineage", params={**p, "compact": "true"}).content,
                "new compact": lambda p=params: new.get(
                    "/api/lineage", params={**p, "compact": "true"}).content,
            }, args.runs)
            ratios["page 1"].append(p50["new page 1"] / p50["old full"])
            ratios["all pages"].append(p50["new all pages"] / p50["old full"])
            ratios["whole"].append(p50["new whole"] / p50["old full"])
            ratios["compact"].append(p50["new compact"] / p50["old compact"])
            name = f"{params['iri'].split('/id/', 1)[-1]} {params['direction']} {params['depth']}"
            print(f"{name[:58]:<58} {found[0]['total_nodes']:>6} {len(found):>5} "
                  f"{'yes' if same else 'NO':>5} | "
                  + " / ".join(f"{p50[k] * 1000:.1f}" for k in p50)
                  + f" | {len(whole_old.content) // 1024} / {len(first.content) // 1024}",
                  flush=True)
        print(f"\nanswers differing: {differ} of {len(ratios['compact'])} lineages; load "
              f"{os.getloadavg()[0]:.1f}")
        print("median ratio new / old (p50): " + ", ".join(
            f"{k} {statistics.median(v):.2f}" for k, v in ratios.items()))
    finally:
        for server, _ in servers:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
