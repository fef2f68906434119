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

The load generator (``RawClient``) speaks HTTP/1.1 over asyncio streams: with httpx the
generator itself used 4.7 ms of CPU per request against the server's 1.3 ms on this 2-core
machine, and its own queueing made the tail latency (``--client httpx`` to compare). Each
workload is preceded by ``--warmup`` uncounted requests (the pool forks its workers on first
use); each line shows the generator's CPU per request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

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


class RawClient:
    """One keep-alive HTTP/1.1 connection over asyncio streams: POST a form, read the answer.

    The load generator shares the 2 cores with the server: httpx spent 4.7 ms of CPU per
    request (3.7 times the server's 1.3 ms, measured), so its own queueing, not the server,
    made the tail latency. This client costs a fraction of that; ``--client httpx`` keeps the
    old one for comparison."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, form: dict[str, str]) -> tuple[int, bytes]:
        body = urlencode(form).encode()
        request = (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                   "Content-Type: application/x-www-form-urlencoded\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in lines[1:] if line)}
            if "content-length" in headers:
                content = await self.reader.readexactly(int(headers["content-length"]))
            else:  # chunked (streamed answers)
                chunks = []
                while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                    chunks.append(await self.reader.readexactly(size))
                    await self.reader.readexactly(2)
                await self.reader.readexactly(2)
                content = b"".join(chunks)
            if headers.get("connection") == "close":
                await self.close()
            return status, content
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await self.close()
            raise

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def fire(url: str, bodies: list[str], requests: int, concurrency: int,
               time_cap: float, bombs: int = 0, client_kind: str = "raw",
               warmup: int = 0) -> dict[str, float]:
    """Send up to ``requests`` queries at ``concurrency``; stop starting new ones at the cap.

    With ``bombs``, that many other clients resend :data:`BOMB` meanwhile; ``warmup``
    requests go first, uncounted."""
    import httpx

    bomb_statuses: list[int] = []
    bombs_started = 0
    finished = asyncio.Event()

    async def bomber(address: str) -> None:
        nonlocal bombs_started
        transport = httpx.AsyncHTTPTransport(local_address=address)
        async with httpx.AsyncClient(transport=transport, timeout=300) as client:
            while not finished.is_set():
                bombs_started += 1
                try:
                    response = await client.post(url, data={"query": BOMB})
                    bomb_statuses.append(response.status_code)
                    if response.status_code == 503:
                        await asyncio.sleep(float(response.headers.get("retry-after", "0"))
                                            / 10)
                except httpx.HTTPError:
                    bomb_statuses.append(0)

    if warmup:  # fork the pool's workers and fill caches: the numbers are steady state
        await fire(url, bodies, warmup, concurrency, time_cap, 0, client_kind, 0)
    bombers = [asyncio.ensure_future(bomber(f"127.0.0.{10 + i}")) for i in range(bombs)]
    if bombs:
        await asyncio.sleep(2.0)  # let every bomb run past the fast budget first
    latencies: list[float] = []
    reasons: Counter[str] = Counter()
    errors = 0
    counter = itertools.count()
    started = time.perf_counter()

    async def send(client: Any, body: str) -> tuple[int, str]:
        if isinstance(client, RawClient):
            status, content = await client.post({"query": body})
            return status, content[:60].decode("utf-8", "replace")
        response = await client.post(url, data={"query": body})
        return response.status_code, response.text[:60]

    async def client_loop(client: Any) -> None:
        nonlocal errors
        while (n := next(counter)) < requests and time.perf_counter() - started < time_cap:
            sent = time.perf_counter()
            try:
                status, text = await send(client, bodies[n % len(bodies)])
                if status != 200:
                    errors += 1
                    reasons[f"{status} {text.strip()}"] += 1
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError) as exc:
                errors += 1
                reasons[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - sent)

    if client_kind == "httpx":
        limits = httpx.Limits(max_connections=concurrency,
                              max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=120) as client:
            await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    else:
        raw = [RawClient(url) for _ in range(concurrency)]
        await asyncio.gather(*(client_loop(client) for client in raw))
        for client in raw:
            await client.close()
    elapsed = time.perf_counter() - started
    finished.set()
    for task in bombers:
        task.cancel()
    latencies.sort()
    cpu = time.process_time()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {"requests": len(latencies), "errors": errors, "seconds": elapsed,
            "rps": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "bombs_sent": bombs_started,
            "bombs_answered": len(bomb_statuses),
            "bombs_503": sum(1 for status in bomb_statuses if status == 503),
            "client_cpu_ms": cpu * 1000 / max(1, len(latencies)),
            "error_reasons": dict(reasons)}  # type: ignore[dict-item]


def load_process(url: str, bodies: list[str], args: argparse.Namespace,
                 bombs: int = 0) -> dict[str, float]:
    """Run the load generator in a second process and read its JSON report."""
    payload = json.dumps({"url": url, "bodies": bodies, "requests": args.requests,
                          "concurrency": args.concurrency, "time_cap": args.time_cap,
                          "bombs": bombs, "client": args.client, "warmup": args.warmup})
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
              f"errors {r['errors']:.0f}  client cpu {r.get('client_cpu_ms', 0):.2f} ms/req"
              + (f"  bombs sent {r['bombs_sent']:.0f}, answered {r['bombs_answered']:.0f} "
                 f"(503: {r['bombs_503']:.0f})"
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
    parser.add_argument("--warmup", type=int, default=200,
                        help="requests sent before each measured workload (not counted)")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw",
                        help="load generator: lean HTTP/1.1 over asyncio streams, or httpx")
    parser.add_argument("--bombs-only", action="store_true",
                        help="only the fairness run (no rdflib comparison)")
    args = parser.parse_args(argv)
    if args.load:  # the second process: read the job on stdin, print the numbers
        job = json.load(sys.stdin)
        print(json.dumps(asyncio.run(fire(job["url"], job["bodies"], job["requests"],
                                          job["concurrency"], job["time_cap"],
                                          job.get("bombs", 0), job.get("client", "raw"),
                                          job.get("warmup", 0)))))
        return

    from kgraph.store.embedded import OxigraphRepository

    graphs = synthetic_graphs(args.copies)
    oxigraph = OxigraphRepository()
    oxigraph.replace_graphs(graphs)
    rdflib_repo = RdflibRepository()
    rdflib_repo.replace_graphs(graphs)
    print(f"store: {len(graphs)} graphs, {len(oxigraph)} triples; load: {args.requests} "
          f"requests at concurrency {args.concurrency}, cap {args.time_cap:g} s per workload, "
          f"client {args.client}, load average {os.getloadavg()[0]:.1f}")
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
