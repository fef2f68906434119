"""Load benchmark of the /sparql endpoint: embedded Oxigraph versus rdflib behind the same app.

Run ``python bench/bench_endpoint.py``. The store is filled with synthetic plans built with the
document factories of ``tests/factories.py`` (a UBND plan carrying out a Tỉnh ủy plan carrying
out 28-CT/TW) for each of the 34 provinces, ``--copies`` times. The app runs under uvicorn on
127.0.0.1 in this process; a *second process* (this script with ``--load``) fires a bounded load
with httpx/asyncio (``--requests`` at ``--concurrency``, stopped at ``--time-cap`` seconds) and
reports requests/s, p50, p99 and errors for a point lookup and for the ``implementers`` query.
The same is then measured with :class:`RdflibRepository` (rdflib's in-memory Dataset) as the
store, and the ratio printed. Nothing leaves 127.0.0.1.

Fairness (issue 9): ``--bombs N`` (default 4) repeats the point lookups while N other clients
(each from its own loopback address, 127.0.0.10...) resend a cartesian product, and prints that
run beside the one without bombs: errors on the lookups, p99 and the bombs' answers.
``--bombs-only`` skips the rdflib comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]

from rdflib import Dataset, URIRef  # noqa: E402
from rdflib.query import Result  # noqa: E402

from kgraph.store.embedded import QueryResult  # noqa: E402

ELI_DOC = "http://data.europa.eu/eli/ontology#LegalResource"
PROVINCES = [
    "An Giang", "Bắc Ninh", "Cà Mau", "Cần Thơ", "Cao Bằng", "Đà Nẵng", "Đắk Lắk", "Điện Biên",
    "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Nội", "Hà Tĩnh", "Hải Phòng",
    "Thành phố Hồ Chí Minh", "Huế", "Hưng Yên", "Khánh Hòa", "Lai Châu", "Lâm Đồng", "Lạng Sơn",
    "Lào Cai", "Nghệ An", "Ninh Bình", "Phú Thọ", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị",
    "Sơn La", "Tây Ninh", "Thái Nguyên", "Thanh Hóa", "Tuyên Quang", "Vĩnh Long",
]


class RdflibRepository:
    """rdflib's in-memory Dataset behind kgraph's Repository protocol (for comparison only)."""

    def __init__(self) -> None:
        self.dataset = Dataset(default_union=True)

    def query(self, sparql: str) -> QueryResult:
        result: Result = self.dataset.query(sparql)
        if result.type == "ASK":
            return QueryResult("ask", boolean=bool(result.askAnswer))
        if result.type == "SELECT":
            variables = [str(v) for v in result.vars or []]
            rows = [tuple(row) for row in result]  # type: ignore[arg-type]
            return QueryResult("select", variables=variables, rows=rows)  # type: ignore[arg-type]
        return QueryResult("graph", triples=list(result))  # type: ignore[arg-type]

    def replace_graphs(self, graphs: Mapping[str, str]) -> None:
        for name, ntriples in graphs.items():
            self.dataset.remove_graph(URIRef(name))
            if ntriples.strip():
                self.dataset.graph(URIRef(name)).parse(data=ntriples, format="nt")

    def drop_graphs(self, names: Iterable[str]) -> None:
        for name in names:
            self.dataset.remove_graph(URIRef(name))

    def graph_names(self) -> list[str]:
        return sorted(str(g.identifier) for g in self.dataset.graphs()
                      if isinstance(g.identifier, URIRef) and len(g)
                      and not str(g.identifier).startswith("urn:x-rdflib:"))

    def __len__(self) -> int:
        return sum(len(g) for g in self.dataset.graphs())


def synthetic_graphs(copies: int) -> dict[str, str]:
    """Named graphs (IRI -> N-Triples): ontology, reference data and 34 x copies plan pairs."""
    from factories import provincial_plan
    from kgraph.graph.mapping import document_graph
    from kgraph.resources import resource_graphs

    payload = resource_graphs()
    for copy, province in itertools.product(range(copies), PROVINCES):
        index = copy * len(PROVINCES) + PROVINCES.index(province)
        plan = provincial_plan(f"{1000 + index}/KH-UBND", province, f"{100 + index}-KH/TU",
                               date(2024, 1 + copy % 12, 10), date(2024, 1 + copy % 12, 20))
        mapped = document_graph(plan)
        payload[str(mapped.name)] = mapped.to_ntriples()
    return payload


def queries(repository: Any) -> dict[str, list[str]]:
    """The two workloads: point lookups over every plan, and ``implementers`` of 28-CT/TW."""
    from kgraph.analysis.queries import load_query

    plans = [str(r[0]) for r in repository.query(
        f"SELECT DISTINCT ?d WHERE {{ ?d a <{ELI_DOC}> }} ORDER BY ?d").rows]
    return {
        "point lookup": [f"SELECT ?p ?o WHERE {{ <{p}> ?p ?o }}" for p in plans],
        "implementers": [load_query("implementers").render({"doc": "28-CT/TW"})],
    }


BOMB = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h }"


async def fire(url: str, bodies: list[str], requests: int, concurrency: int,
               time_cap: float, bombs: int = 0) -> dict[str, float]:
    """Send up to ``requests`` queries at ``concurrency``; stop starting new ones at the cap.

    With ``bombs``, that many other clients resend :data:`BOMB` meanwhile."""
    import httpx

    bomb_statuses: list[int] = []
    finished = asyncio.Event()

    async def bomber(address: str) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        async with httpx.AsyncClient(transport=transport, timeout=300) as client:
            while not finished.is_set():
                try:
                    response = await client.post(url, data={"query": BOMB})
                    bomb_statuses.append(response.status_code)
                    if response.status_code == 503:
                        await asyncio.sleep(float(response.headers.get("retry-after", "0"))
                                            / 10)
                except httpx.HTTPError:
                    bomb_statuses.append(0)

    bombers = [asyncio.ensure_future(bomber(f"127.0.0.{10 + i}")) for i in range(bombs)]
    if bombs:
        await asyncio.sleep(2.0)  # let every bomb run past the fast budget first
    latencies: list[float] = []
    reasons: Counter[str] = Counter()
    errors = 0
    counter = itertools.count()
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while (n := next(counter)) < requests and time.perf_counter() - started < time_cap:
            sent = time.perf_counter()
            try:
                response = await client.post(url, data={"query": bodies[n % len(bodies)]})
                if response.status_code != 200:
                    errors += 1
                    reasons[f"{response.status_code} {response.text[:60].strip()}"] += 1
            except httpx.HTTPError as exc:
                errors += 1
                reasons[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - sent)

    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    finished.set()
    for task in bombers:
        task.cancel()
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {"requests": len(latencies), "errors": errors, "seconds": elapsed,
            "rps": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "bombs_sent": len(bomb_statuses),
            "bombs_503": sum(1 for status in bomb_statuses if status == 503),
            "error_reasons": dict(reasons)}  # type: ignore[dict-item]


def load_process(url: str, bodies: list[str], args: argparse.Namespace,
                 bombs: int = 0) -> dict[str, float]:
    """Run the load generator in a second process and read its JSON report."""
    payload = json.dumps({"url": url, "bodies": bodies, "requests": args.requests,
                          "concurrency": args.concurrency, "time_cap": args.time_cap,
                          "bombs": bombs})
    done = subprocess.run([sys.executable, __file__, "--load"], input=payload, text=True,
                          capture_output=True, check=True)
    return json.loads(done.stdout)


def measure(repository: Any, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Serve ``repository`` with the kgraph app and load it with each workload."""
    from conftest import LiveServer
    from kgraph.web.app import create_app
    from kgraph.web.settings import Settings

    settings = Settings(query_timeout=args.time_cap, workers=args.workers)
    results = {}
    with LiveServer(create_app(repository, settings)) as server:
        for name, bodies in queries(repository).items():
            results[name] = load_process(server.url + "/sparql", bodies, args)
    return results


def measure_bombs(repository: Any, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Point lookups without and with ``args.bombs`` clients resending a cartesian product."""
    from conftest import LiveServer
    from kgraph.web.app import create_app
    from kgraph.web.settings import Settings

    settings = Settings(query_timeout=args.bomb_timeout, workers=args.workers)
    bodies = queries(repository)["point lookup"]
    results = {}
    with LiveServer(create_app(repository, settings)) as server:
        url = server.url + "/sparql"
        results["point lookup"] = load_process(url, bodies, args)
        results[f"lookup + {args.bombs} bombs"] = load_process(url, bodies, args, args.bombs)
    return results


def report(backend: str, results: dict[str, dict[str, float]]) -> None:
    for name, r in results.items():
        print(f"{backend:9} {name:13} {r['requests']:6.0f} req in {r['seconds']:6.1f} s  "
              f"{r['rps']:8.1f} req/s  p50 {r['p50_ms']:8.1f} ms  p99 {r['p99_ms']:8.1f} ms  "
              f"errors {r['errors']:.0f}"
              + (f"  bombs sent {r['bombs_sent']:.0f} (503: {r['bombs_503']:.0f})"
                 if r.get("bombs_sent") else "")
              + (f"  {r['error_reasons']}" if r.get("error_reasons") else ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--time-cap", type=float, default=60.0,
                        help="seconds per workload before the generator stops")
    parser.add_argument("--copies", type=int, default=1, help="plan pairs per province")
    parser.add_argument("--workers", type=int, default=0, help="query worker processes")
    parser.add_argument("--bombs", type=int, default=4,
                        help="clients resending a cartesian product in the fairness run")
    parser.add_argument("--bomb-timeout", type=float, default=10.0,
                        help="query timeout of the server in the fairness run")
    parser.add_argument("--bombs-only", action="store_true",
                        help="only the fairness run (no rdflib comparison)")
    args = parser.parse_args(argv)
    if args.load:  # the second process: read the job on stdin, print the numbers
        job = json.load(sys.stdin)
        print(json.dumps(asyncio.run(fire(job["url"], job["bodies"], job["requests"],
                                          job["concurrency"], job["time_cap"],
                                          job.get("bombs", 0)))))
        return

    from kgraph.store.embedded import OxigraphRepository

    graphs = synthetic_graphs(args.copies)
    oxigraph = OxigraphRepository()
    oxigraph.replace_graphs(graphs)
    rdflib_repo = RdflibRepository()
    rdflib_repo.replace_graphs(graphs)
    print(f"store: {len(graphs)} graphs, {len(oxigraph)} triples; load: {args.requests} "
          f"requests at concurrency {args.concurrency}, cap {args.time_cap:g} s per workload")
    if args.bombs:
        report("oxigraph", measure_bombs(oxigraph, args))
    if args.bombs_only:
        return
    ox_results = measure(oxigraph, args)
    report("oxigraph", ox_results)
    rdf_results = measure(rdflib_repo, args)
    report("rdflib", rdf_results)
    for name in ox_results:
        ratio = ox_results[name]["rps"] / max(rdf_results[name]["rps"], 1e-9)
        print(f"ratio oxigraph/rdflib {name}: {ratio:.1f}x requests/s")


if __name__ == "__main__":
    main()
