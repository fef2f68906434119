"""Whole-app benchmark: build the national synthetic corpus and time everything a user touches.

For each corpus size (``--plans 2000 20000``: 34 provinces, party, UBND, department and commune
plans of bench/corpus.py) it

* builds the corpus with ``kgraph build`` (a subprocess; wall time and peak RSS of the build and
  its worker processes), then re-builds after changing one plan;
* times the load side by side with the baseline: pyoxigraph's ``bulk_load`` of the same quads
  into an empty store (the store's own dump), quads per second each;
* serves the store with ``kgraph serve`` and times, warm, ``--runs`` requests to every HTML page,
  every ``/api/*`` route and every named query through ``/sparql`` (p50, p99);
* runs each named query in-process on a plain pyoxigraph store opened on the same data
  (the baseline: engine time without the app), and the CLI: ``kgraph audit --province``,
  ``kgraph raci``, ``kgraph viz``;

and prints one table per measure with each size side by side and the growth ratio from the
smallest to the largest size (the acceptance: a page's p50 grows less than 3x for 10x plans).

Run: ``.venv/bin/python bench/bench_app.py --plans 200 2000 [--runs 20] [--workdir DIR]``
(``--src OLD/src``: the same routes served by older code).
Heavy: 2,000 plans build in minutes on two cores; 20,000 in tens of minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from corpus import PlanSpec, generate_plans  # noqa: E402

KGRAPH = str(Path(sys.executable).parent / "kgraph")
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
TIME = shutil.which("time") or "/usr/bin/time"
ID_ORG = "https://w3id.org/kgraph/id/org/"
SLOW_S = 20.0  # routes slower than this (cold) are timed only three times


@dataclass
class Size:
    """Everything measured at one corpus size."""

    plans: int
    build_s: float = 0.0
    build_rss_mb: float = 0.0
    rebuild_s: float = 0.0
    load_quads: int = 0  # what the build wrote to the store, and in how long
    load_s: float = 0.0
    quads: int = 0
    bulk_load_s: float = 0.0
    routes: dict[str, list[float]] = field(default_factory=dict)  # route -> seconds
    answer_bytes: dict[str, int] = field(default_factory=dict)  # route -> bytes of its answer
    baseline: dict[str, float] = field(default_factory=dict)  # query -> median seconds
    cli: dict[str, float] = field(default_factory=dict)
    load: float = 0.0  # the machine's 1-minute load average when the pages had been timed
    server_rss_mb: tuple[float, float] = (0.0, 0.0)  # kgraph serve's RSS and peak after them


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed_run(args: list[str], timeout: float
              ) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall seconds and peak RSS (MB, the largest process of the tree) of one command."""
    started = time.perf_counter()
    done = subprocess.run([TIME, "-f", "%M", *args], env=ENV, capture_output=True, text=True,
                          timeout=timeout)
    wall = time.perf_counter() - started
    rss = 0.0
    for line in reversed(done.stderr.strip().splitlines()):
        if line.strip().isdigit():
            rss = int(line.strip()) / 1024
            break
    return wall, rss, done


def children_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def pick(plans: list[PlanSpec]) -> dict[str, str]:
    """Parameters a user would ask about, taken from the corpus itself."""
    ubnd = next(p for p in plans if p.kind == "ubnd" and p.province == "Gia Lai")
    leaf = next((p for p in plans if p.kind == "commune"), None) or next(
        p for p in plans if p.kind == "department")
    return {"directive": "28-CT/TW", "plan": ubnd.number, "leaf": leaf.number,
            "province": "Gia Lai", "agency": "Sở Y tế", "plan_province": ubnd.province,
            "leaf_province": leaf.province}


def named_queries(params: dict[str, str]) -> dict[str, str]:
    """Each named query's portable text, bound: what /sparql (the query editor) runs."""
    sys.path.insert(0, str(ROOT / "src"))
    from kgraph.analysis.queries import named_queries as all_queries

    values = query_values(params)
    return {name: query.render(values.get(name, {})) for name, query in all_queries().items()}


def engine_queries(params: dict[str, str]) -> dict[str, str]:
    """Each named query as the embedded store runs it (its Oxigraph text where it has one)."""
    sys.path.insert(0, str(ROOT / "src"))
    from kgraph.analysis.queries import named_queries as all_queries
    from kgraph.store.embedded import OxigraphRepository

    values = query_values(params)
    embedded = OxigraphRepository()
    return {name: query.for_repository(embedded).render(values.get(name, {}))
            for name, query in all_queries().items()}


def query_values(params: dict[str, str]) -> dict[str, dict[str, str]]:
    """The parameters a user of the corpus gives each named query."""
    return {"implementers": {"doc": params["directive"]},
              "lineage": {"doc": params["leaf"]},
              "assignments": {"doc": params["plan"]},
              "reporting": {"doc": params["plan"]},
              "conflicts": {"doc": params["directive"]},
              "agency": {"agency": params["agency"], "province": params["province"]},
              "audit_conflicts": {},
              "directive-coverage": {"doc": params["directive"]},
              "deadlines": {"doc": params["plan"], "date": "2026-01-01"},
              "responsible-today": {"doc": params["plan"], "date": "2026-01-01"}}


def routes(params: dict[str, str], iris: dict[str, str]) -> dict[str, str]:
    """Every HTML page and /api/* route, with parameters from the corpus."""
    plan_path = iris["plan"].split("/id/", 1)[1]
    directive_path = iris["directive"].split("/id/", 1)[1]
    q = quote
    return {
        "/ (home)": "/",
        "/query": "/query",
        "/explore": "/explore",
        "/id/<plan>": f"/id/{plan_path}",
        "/id/<plan> turtle": f"/id/{plan_path}?format=turtle",
        "/id/<directive>": f"/id/{directive_path}",
        "/audit": "/audit",
        "/audit?province": f"/audit?province={q(params['province'])}",
        "/audit?doc": f"/audit?doc={q(params['plan'])}",
        "/audit/raci?doc": f"/audit/raci?doc={q(params['plan'])}",
        "/raci": "/raci",
        "/coverage?doc": f"/coverage?doc={q(params['directive'])}",
        "/download": "/download",
        "/health": "/health",
        "/?q (home search)": f"/?q={q(params['province'])}&page=2",
        "/api/search": f"/api/search?q={q('so y te gia lai')}",
        "/api/facets": "/api/facets",
        # as the explorer asks them (compact: rows; older code ignores it and gives the full
        # answer, which that code's explorer asked), and the full answer of the API: its
        # default (a first page since session 32; older code: whole) and whole (``limit``,
        # which older code ignores)
        "/api/lineage down 8": f"/api/lineage?iri={q(iris['plan'])}&direction=down&depth=8"
                               "&compact=true",
        "/api/lineage up 8": f"/api/lineage?iri={q(iris['leaf'])}&direction=up&depth=8"
                             "&compact=true",
        "/api/lineage down 8 (full)": f"/api/lineage?iri={q(iris['plan'])}&direction=down"
                                      "&depth=8",
        "/api/lineage down 8 (whole)": f"/api/lineage?iri={q(iris['plan'])}"
                                      "&direction=down&depth=8&limit=6000",
        "/api/path": f"/api/path?from={q(iris['leaf'])}&to={q(iris['directive'])}",
        "/api/node": f"/api/node?iri={q(iris['plan'])}",
        "/api/audit": "/api/audit",
        "/api/audit?iri (explorer)": "/api/audit?" + "&".join(
            f"iri={q(iris[k])}" for k in ("plan", "leaf", "directive")),
        **{f"/api/queries/{name}": f"/api/queries/{name}?" + urlencode(values)
           for name, values in query_values(params).items()},
        "/api/queries/directive-coverage?province": "/api/queries/directive-coverage?"
        + urlencode({"doc": params["directive"], "province": params["province"]}),
        # rows 101-200: both sizes have them (407 rows at 2,000 plans, 4,120 at 20,000; rows
        # 1001-2000 were an empty page at 2,000, so its growth compared nothing with a page)
        "/api/queries/implementers page 2": "/api/queries/implementers?"
        + urlencode({"doc": params["directive"], "offset": 100, "limit": 100}),
        "/api/responsible": f"/api/responsible?doc={q(params['plan'])}&date=2026-01-01",
        "/api/deadlines?doc": f"/api/deadlines?doc={q(params['plan'])}&date=2026-01-01",
        # routes no run timed before session 36 (a route nobody times is a route that stalls)
        "/api/deadlines (every plan)": "/api/deadlines?date=2026-01-01",
        "/api/successor": f"/api/successor?body={q(iris['org'])}&date=2026-01-01",
        "/id/<org>": "/id/" + iris["org"].split("/id/", 1)[1],
        "/id/<most named body>": "/id/" + iris["named"].split("/id/", 1)[1],
        "/id/<province>": "/id/" + iris["province"].split("/id/", 1)[1],
        "/coverage (index)": "/coverage",
        "/coverage?doc csv": f"/coverage?doc={q(params['directive'])}&format=csv",
        "/coverage/cell": f"/coverage/cell?doc={q(params['directive'])}&task=1"
                          f"&province={q(params['province'])}",
        "/query?q (permalink)": "/query?" + urlencode({"q": "agency", "agency": params["agency"],
                                                       "province": params["province"]}),
        "/def": "/def",
        "/sparql (description)": "/sparql",
        "/sparql FROM <graph>": "/sparql?" + urlencode(
            {"query": f"SELECT (COUNT(*) AS ?n) FROM <{iris['graph']}> WHERE {{ ?s ?p ?o }}"}),
        "/openapi.json": "/openapi.json",
        "/api/queries": "/api/queries",
        "/api/queries/implementers sparql": "/api/queries/implementers?"
        + urlencode({"doc": params["directive"], "format": "sparql"}),
        "/api/queries/implementers csv": "/api/queries/implementers?"
        + urlencode({"doc": params["directive"], "format": "csv"}),
        "/api/queries/assignments csv": "/api/queries/assignments?"
        + urlencode({"doc": params["directive"], "format": "csv"}),
        "/api/queries/directive-coverage csv": "/api/queries/directive-coverage?"
        + urlencode({"doc": params["directive"], "format": "csv"}),
        "/api/queries/reporting (every plan)": "/api/queries/reporting",
        "/api/queries/deadlines (every plan)": "/api/queries/deadlines?date=2026-01-01",
    }


def document_iris(store: Path, params: dict[str, str]) -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "src"))
    from kgraph.graph.iris import number_key
    from kgraph.ingest.text import slugify
    from kgraph.store.embedded import OxigraphRepository

    repo = OxigraphRepository(store, read_only=True)
    found = {}
    for key in ("plan", "leaf", "directive"):
        rows = repo.query(f'SELECT DISTINCT ?d WHERE {{ ?d <https://w3id.org/kgraph/def#numberKey> '
                          f'"{number_key(params[key])}" }}').rows
        # a number is shared by the plans of several provinces at scale: the one of the
        # province the corpus gave it, whatever the store's order
        home = f"/doc/{slugify(params.get(key + '_province') or '')}/"
        found[key] = sorted((home not in str(r[0]), str(r[0])) for r in rows)[0][1]
    # a body of the asked province, its province, and the body the most assignments name
    kg = "https://w3id.org/kgraph/def#"
    found["province"] = str(repo.query(
        f'SELECT ?p WHERE {{ ?p <http://www.w3.org/2004/02/skos/core#prefLabel> '
        f'"{params["province"]}"@vi ; a <{kg}Province> }} LIMIT 1').rows[0][0])
    found["org"] = str(repo.query(
        f'SELECT ?o WHERE {{ ?a <{kg}addressee> ?o ; <{kg}partOf> <{found["plan"]}> . '
        f'?o <http://www.w3.org/2004/02/skos/core#prefLabel> ?l '
        f'FILTER(STRSTARTS(STR(?o), "{ID_ORG}")) }} ORDER BY ?o LIMIT 1').rows[0][0])
    found["graph"] = str(repo.query(
        f'SELECT ?g WHERE {{ GRAPH ?g {{ <{found["plan"]}> ?p ?o }} }} ORDER BY ?g LIMIT 1'
    ).rows[0][0])
    found["named"] = str(repo.query(
        f'SELECT ?o (COUNT(*) AS ?n) WHERE {{ ?a <{kg}addressee> ?o }} GROUP BY ?o '
        f'ORDER BY DESC(?n) ?o LIMIT 1').rows[0][0])
    return found


def serve(store: Path | str, warm: bool = True, env: dict[str, str] | None = None,
          tries: int = 600, query_timeout: float = 600) -> tuple[subprocess.Popen[bytes], str]:
    """``kgraph serve`` of ``store`` (a folder or a remote store's URL) on a free port, once
    ``/health`` answers; ``env`` picks the code (its PYTHONPATH) and the server's settings."""
    port = free_port()
    server = subprocess.Popen(
        [KGRAPH, "serve", "--store", str(store), "--port", str(port), "--log-level", "warning",
         "--query-timeout", f"{query_timeout:g}", *([] if warm else ["--no-warm"])],
        env=ENV if env is None else env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(tries):
        try:
            if httpx.get(url + "/health", timeout=5).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"kgraph serve --store {store} did not start")


def measure_routes(url: str, paths: dict[str, str], queries: dict[str, str], runs: int,
                   timeout: float, answer_bytes: dict[str, int] | None = None
                   ) -> dict[str, list[float]]:
    """Warm timings: one untimed request each, then ``runs`` timed rounds, interleaved;
    ``answer_bytes`` gets each route's answer size (does the answer itself grow?)."""
    targets = {name: ("GET", path, None) for name, path in paths.items()}
    targets.update({f"sparql {name}": ("POST", "/sparql", text) for name, text in
                    queries.items()})
    times: dict[str, list[float]] = {name: [] for name in targets}
    with httpx.Client(base_url=url, timeout=timeout) as client:
        def call(method: str, path: str, body: str | None) -> int:
            if body is None:
                response = client.get(path)
            else:
                response = client.post(path, data={"query": body},
                                       headers={"Accept": "application/sparql-results+json"})
            if response.status_code >= 400:
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
            return len(response.content)

        for name, target in list(targets.items()):  # warm-up (first computation per version)
            started = time.perf_counter()
            try:
                size = call(*target)
                if answer_bytes is not None:
                    answer_bytes[name] = size
            except (RuntimeError, httpx.HTTPError) as exc:  # e.g. no coverage in an old store
                print(f"    first {name}: FAILED, not timed: {exc}", flush=True)
                del targets[name], times[name]
                continue
            times[name].append(time.perf_counter() - started)
            print(f"    first {name}: {times[name][0]:.3f} s", flush=True)
        order = list(targets)
        slow = {name for name in order if times[name][0] > SLOW_S}
        for round_no in range(runs):
            random.shuffle(order)
            for name in order:
                if name in slow and round_no >= 2:
                    continue  # a route taking minutes is timed three times, not ``runs``
                started = time.perf_counter()
                call(*targets[name])
                times[name].append(time.perf_counter() - started)
    return times


def server_rss(pid: int) -> tuple[float, float]:
    """The server process's resident memory now and at its peak (MB; Linux /proc)."""
    found = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def baseline_queries(store: Path, queries: dict[str, str], runs: int) -> dict[str, float]:
    """The same named queries on plain pyoxigraph (read-only, same data), in-process."""
    sys.path.insert(0, str(ROOT / "src"))
    from kgraph.store.embedded import StoreDirectory

    engine = ox.Store.read_only(str(StoreDirectory(store).current()))
    medians = {}
    for name, text in queries.items():
        samples = []
        for _ in range(max(3, runs // 4)):
            started = time.perf_counter()
            result = engine.query(text, use_default_graph_as_union=True)
            for _ in result:  # consume the answer
                pass
            samples.append(time.perf_counter() - started)
        medians[name] = statistics.median(samples)
    return medians


def bulk_load_baseline(store: Path, work: Path) -> tuple[int, float]:
    """Quads of the built store, loaded again with pyoxigraph's bulk loader into an empty one."""
    sys.path.insert(0, str(ROOT / "src"))
    from kgraph.store.embedded import StoreDirectory

    dump = work / "dump.nq"
    source = ox.Store.read_only(str(StoreDirectory(store).current()))
    source.dump(output=str(dump), format=ox.RdfFormat.N_QUADS)
    with open(dump, "rb") as handle:
        quads = sum(1 for _ in handle)
    target = work / "bulk"
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    ox.Store(str(target)).bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    elapsed = time.perf_counter() - started
    shutil.rmtree(target, ignore_errors=True)
    dump.unlink()
    return quads, elapsed


def given_stores(pairs: list[str]) -> dict[int, Path]:
    """``--store 20000=/path/store`` (repeatable): time the pages of a store built elsewhere
    for that size (no build timings). The server writes derived data next to the store:
    point it at a copy (``cp -a``) of a store others read."""
    stores = {}
    for pair in pairs:
        size, sep, path = pair.partition("=")
        if not sep or not size.isdigit() or not Path(path).is_dir():
            raise SystemExit(f"--store {pair!r}: expected PLANS=DIRECTORY of a built store")
        stores[int(size)] = Path(path)
    return stores


def run_size(plans_n: int, work: Path, runs: int, timeout: float, seed: int,
             reuse: bool = False, skip: tuple[str, ...] = (),
             stores: dict[int, Path] | None = None, warm: bool = True,
             only: tuple[str, ...] = ()) -> Size:
    size = Size(plans_n)
    folder = work / f"corpus-{plans_n}"
    store = work / f"store-{plans_n}"
    plans = generate_plans(plans_n, seed)
    if stores and plans_n in stores:
        print(f"[{plans_n} plans] timing the store at {stores[plans_n]} (no build timings)",
              flush=True)
        return measure(size, plans, stores[plans_n], work, runs, timeout, skip, warm, only)
    if reuse and store.is_dir():
        print(f"[{plans_n} plans] reusing {store} (no build timings)", flush=True)
        return measure(size, plans, store, work, runs, timeout, skip, warm, only)
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for spec in plans:
        (folder / spec.file_name).write_text(spec.text, encoding="utf-8")
    print(f"[{plans_n} plans] kgraph build ...", flush=True)
    size.build_s, size.build_rss_mb, done = timed_run(
        [KGRAPH, "build", str(folder), "--store", str(store)], timeout)
    print("\n".join(done.stdout.strip().splitlines()[-16:]), flush=True)
    if done.returncode not in (0, 2):
        raise RuntimeError(done.stderr[-2000:])
    writes = re.search(r"store writes\s*│\s*(\d+) quads in ([\d.]+) s", done.stdout)
    if writes:
        size.load_quads, size.load_s = int(writes.group(1)), float(writes.group(2))
    changed = folder / plans[-1].file_name
    changed.write_text(changed.read_text(encoding="utf-8").replace(
        "I. MỤC ĐÍCH, YÊU CẦU", "I. MỤC ĐÍCH, YÊU CẦU CHUNG", 1), encoding="utf-8")
    size.rebuild_s, _, done = timed_run([KGRAPH, "build", str(folder), "--store", str(store)],
                                        timeout)
    print(f"[{plans_n} plans] re-build after one changed plan: {size.rebuild_s:.1f} s",
          flush=True)
    size.quads, size.bulk_load_s = bulk_load_baseline(store, work)
    return measure(size, plans, store, work, runs, timeout, skip, warm, only)


def measure(size: Size, plans: list[PlanSpec], store: Path, work: Path, runs: int,
            timeout: float, skip: tuple[str, ...], warm: bool = True,
            only: tuple[str, ...] = ()) -> Size:
    plans_n = size.plans
    params = pick(plans)
    def wanted(name: str) -> bool:
        return name not in skip and (not only or name.startswith(only))

    queries = {name: text for name, text in named_queries(params).items()
               if wanted(f"sparql {name}") and "sparql" not in skip}
    iris = document_iris(store, params)
    size.baseline = baseline_queries(store, engine_queries(params), runs)
    server, url = serve(store, warm)
    try:
        print(f"[{plans_n} plans] timing pages, API and named queries ...", flush=True)
        chosen = {k: v for k, v in routes(params, iris).items() if wanted(k)}
        size.routes = measure_routes(url, chosen, queries, runs, timeout, size.answer_bytes)
        size.server_rss_mb = server_rss(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    out = work / f"out-{plans_n}"
    out.mkdir(exist_ok=True)
    size.load = os.getloadavg()[0]
    for name, args in {
        "kgraph audit --province": ["audit", "--province", params["province"], "--limit", "0"],
        "kgraph raci": ["raci", "--doc", params["plan"], "--out", str(out / "raci.html")],
        "kgraph viz": ["viz", params["plan"], "--out", str(out / "viz.html")],
        "kgraph query implementers": ["query", "implementers", "-p",
                                      f"doc={params['directive']}", "-f", "csv"],
    }.items():
        if not wanted(name):
            continue
        wall, _, done = timed_run([KGRAPH, *args, "--store", str(store)], timeout)
        if done.returncode not in (0, 1):
            print(f"    {name} failed: {done.stderr.strip()[-300:]}", flush=True)
        size.cli[name] = wall
    return size


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples[1:] or samples)  # the first (cold) request is reported apart
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(sizes: list[Size]) -> None:
    first, last = sizes[0], sizes[-1]
    growth = f"x{last.plans // max(1, first.plans)} plans"
    heads = " | ".join(f"{s.plans:>7} plans" for s in sizes)
    print(f"\n## build ({heads} | growth {growth})")
    for label, get in (("build wall s", lambda s: s.build_s),
                       ("build peak RSS MB", lambda s: s.build_rss_mb),
                       ("re-build after 1 changed plan s", lambda s: s.rebuild_s),
                       ("quads", lambda s: float(s.quads)),
                       ("baseline bulk_load s", lambda s: s.bulk_load_s),
                       ("baseline bulk_load quads/s", lambda s: s.quads / max(s.bulk_load_s, 1e-9)),
                       ("build: quads written", lambda s: float(s.load_quads)),
                       ("build: writing s", lambda s: s.load_s),
                       ("build: write quads/s", lambda s: s.load_quads / max(s.load_s, 1e-9)),
                       ("build write rate / bulk_load rate",
                        lambda s: (s.load_quads / max(s.load_s, 1e-9))
                        / max(s.quads / max(s.bulk_load_s, 1e-9), 1e-9)),
                       ("build quads/s (whole build)", lambda s: s.quads / max(s.build_s, 1e-9))):
        values = [get(s) for s in sizes]
        ratio = values[-1] / values[0] if values[0] else float("nan")
        print(f"{label:<34} " + " | ".join(f"{v:>13.2f}" for v in values) + f" | {ratio:6.2f}")
    print("\nload average (1 min) after timing the pages: "
          + " | ".join(f"{s.plans} plans {s.load:.1f}" for s in sizes))
    print("kgraph serve RSS / peak RSS MB after the pages: "
          + " | ".join(f"{s.plans} plans {s.server_rss_mb[0]:.0f} / {s.server_rss_mb[1]:.0f}"
                       for s in sizes))
    print(f"\n## pages, API, /sparql: first (cold) s and warm p50 / p99 ms ({heads} | p50 growth)")
    for name in dict.fromkeys(r for s in sizes for r in s.routes):
        cells = []
        for s in sizes:
            samples = s.routes.get(name, [])
            cells.append(f"{samples[0]:6.2f}s {p(samples, .5) * 1000:7.1f} "
                         f"{p(samples, .99) * 1000:7.1f}" if samples else "-")
        ratio = (p(last.routes[name], .5) / p(first.routes[name], .5)
                 if last.routes.get(name) and first.routes.get(name)
                 and p(first.routes[name], .5) else float("nan"))
        print(f"{name:<28} " + " | ".join(cells) + f" | {ratio:6.2f}")
    print(f"\n## answer bytes of each route, a warm response ({heads} | growth): where the "
          f"answer itself grows, so does its cost")
    for name in dict.fromkeys(r for s in sizes for r in s.answer_bytes):
        values = [s.answer_bytes.get(name) for s in sizes]
        ratio = (values[-1] / values[0] if values[0] and values[-1] is not None
                 else float("nan"))
        print(f"{name:<28} " + " | ".join(f"{v:>13}" if v is not None else f"{'-':>13}"
                                          for v in values) + f" | {ratio:6.2f}")
    print(f"\n## named queries on plain pyoxigraph (baseline, in-process median ms; the text the "
          f"embedded store runs; app = the portable text through /sparql) ({heads})")
    for name in first.baseline:
        values = [s.baseline.get(name, float("nan")) * 1000 for s in sizes]
        served = [p(s.routes.get(f"sparql {name}", [0.0]), .5) * 1000 for s in sizes]
        print(f"{name:<28} " + " | ".join(f"{v:8.1f} (app {a:8.1f})" for v, a in
                                           zip(values, served, strict=True))
              + f" | {values[-1] / values[0] if values[0] else float('nan'):6.2f}")
    print(f"\n## command line, wall s ({heads})")
    for name in first.cli:
        values = [s.cli.get(name, float("nan")) for s in sizes]
        print(f"{name:<28} " + " | ".join(f"{v:8.2f}" for v in values)
              + f" | {values[-1] / values[0] if values[0] else float('nan'):6.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--runs", type=int, default=20, help="timed requests per route")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true",
                        help="time pages on the stores already in --workdir (no build)")
    parser.add_argument("--skip", action="append", default=[],
                        help="a route or command not to time (repeatable), e.g. '/ (home)', "
                             "'kgraph audit --province', 'sparql NAME' (a named query's "
                             "portable text through /sparql) or 'sparql' (all of them)")
    parser.add_argument("--store", action="append", default=[], metavar="PLANS=DIR",
                        help="time an existing store for a size (no build), e.g. "
                             "20000=/tmp/copy-of-store-20000 (repeatable)")
    parser.add_argument("--no-warm", action="store_true",
                        help="serve without the warm-up thread (the first request of each "
                             "page computes its data: e.g. a store without explorer data)")
    parser.add_argument("--only", action="append", default=[],
                        help="time only the routes and commands whose name starts with this "
                             "(repeatable), e.g. '/id/' or '/api/queries'")
    parser.add_argument("--src", type=Path, default=None,
                        help="time the kgraph of this source tree (e.g. the previous code's "
                             "src: its routes answer what its explorer asked) instead of this "
                             "checkout's")
    args = parser.parse_args(argv)
    if args.src is not None:
        ENV["PYTHONPATH"] = str(args.src.resolve())
    stores = given_stores(args.store)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="kgraph-bench-app-"))
    work.mkdir(parents=True, exist_ok=True)
    sizes = []
    for n in sorted(args.plans):
        sizes.append(run_size(n, work, args.runs, args.timeout, args.seed, args.reuse,
                              tuple(args.skip), stores, not args.no_warm, tuple(args.only)))
        report(sizes)  # printed as each size ends: a long run still leaves its numbers



if __name__ == "__main__":
    main()
