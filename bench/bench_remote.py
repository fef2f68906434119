"""The synthetic corpus on Virtuoso beside the embedded store: load, named queries, audit, pages.

Printed, each beside a baseline measured in the same run:

* load: the quads of an embedded store (``--store``, read-only), written into a new Virtuoso
  database by Virtuoso's own bulk loader (``ld_dir`` + ``rdf_loader_run`` from an N-Quads dump)
  and the way ``kgraph build --store http://...`` writes
  (:meth:`kgraph.store.remote.RemoteRepository.replace_graphs`: on Virtuoso one Graph Store PUT
  per graph, UPDATE where it refuses one), in quads/s, beside pyoxigraph's ``bulk_load`` of the
  same quads in memory. ``--sample N`` writes only N graphs the kgraph way (at 20,000 plans the
  whole corpus over HTTP takes most of an hour): into the server the bulk loader filled, i.e.
  replacing documents of a full store, the way a re-build does;
* every named query with parameters taken from the corpus: median of ``--runs`` warm runs on
  Virtuoso (the portable text, ``queries/NAME.rq``) and on the embedded store (the portable text
  and the Oxigraph text, each in a child process stopped after ``--query-timeout`` s), the ratio,
  and whether the answers agree (as tests/test_external_stores.py compares them);
* ``--audit``: ``kgraph audit --province`` over Virtuoso and over ``--serve-store``;
* ``--pages``: ``kgraph serve --store URL`` and ``kgraph serve --store DIR`` (``--serve-store``,
  a copy of the embedded store the server may write its derived data into), every page and
  ``/api`` route of bench/bench_app.py, warm p50/p99, side by side.

Run: ``.venv/bin/python bench/bench_remote.py [--store DIR] [--runs 5] [--workdir DIR]
[--no-bulk]`` (2,000 plans, the whole corpus both ways), or at 20,000 plans
``--store S --plans 20000 --sample 2000 --nquads F --keep --audit --pages --serve-store COPY``;
``--url URL --virtuoso-dir DIR`` reuses a server a ``--keep`` run left loaded. Needs Debian's
virtuoso-opensource (``scripts/setup --dev``). The embedded store is only read.

``--json F`` also keeps what was measured in F (merged into what an earlier run of the same size
kept there, so a load run and a ``--url`` run of pages add up); ``--growth SMALL.json LARGE.json``
prints, from two such files, how each named query and page grows from one size to the other on
Virtuoso and on the embedded store.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import external_stores  # noqa: E402
import pyoxigraph as ox  # noqa: E402

from kgraph.analysis.queries import NamedQuery, named_queries, run_named  # noqa: E402
from kgraph.store.embedded import OxigraphRepository, StoreDirectory  # noqa: E402
from kgraph.store.remote import ChallengeAuth, RemoteRepository  # noqa: E402

DEFAULT_STORE = Path("/tmp/h12/bench2/store-2000")
KGRAPH = str(Path(sys.executable).parent / "kgraph")
RESULTS: dict[str, Any] = {}  # what --json keeps: section -> name -> figures


def record(section: str, name: str, value: Any) -> None:
    RESULTS.setdefault(section, {})[name] = value


def graphs_of(quads: Iterator[ox.Quad], limit: int | None = None) -> dict[str, str]:
    """Named graphs as N-Triples text (what a build hands to ``replace_graphs``); with
    ``limit``, the first ``limit`` graphs met (a store's dump lists each graph's quads together)."""
    out: dict[str, list[str]] = {}
    for quad in quads:
        if not isinstance(quad.graph_name, ox.NamedNode):
            continue
        name = quad.graph_name.value
        if name not in out:
            if limit is not None and len(out) == limit:
                break
            out[name] = []
        out[name].append(f"{quad.subject} {quad.predicate} {quad.object} .\n")
    return {name: "".join(lines) for name, lines in out.items()}


def _dump_part(store: str, out: str, part: int, parts: int) -> None:
    """Every ``parts``-th named graph by Oxigraph's own writer (N-Triples, each line given its
    graph: a literal's line breaks are escaped, so every `` .\\n`` ends a line)."""
    native = OxigraphRepository(Path(store), read_only=True).native
    names = sorted(g.value for g in native.named_graphs())[part::parts]
    with open(out, "wb") as handle:
        for name in names:
            lines = native.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(name))
            handle.write(lines.replace(b" .\n", f" <{name}> .\n".encode()))


def dump_parts(store: Path, data: Path, parts: int) -> list[Path]:
    """The store's named graphs as N-Quads in ``parts`` files written by as many processes
    (``Store.dump`` is one thread; its cost is the term look-ups, see bench/bench_dump.py)."""
    context = multiprocessing.get_context("spawn")
    outs = [data / f"part{i}.nq" for i in range(parts)]
    children = [context.Process(target=_dump_part, args=(str(store), str(out), i, parts))
                for i, out in enumerate(outs)]
    for child in children:
        child.start()
    for child in children:
        child.join()
        if child.exitcode:
            raise RuntimeError(f"dump process failed ({child.exitcode})")
    return outs


def nquads_files(nquads: Path) -> list[Path]:
    """An N-Quads file, or every ``*.nq`` of a folder (a dump in parts)."""
    return sorted(nquads.glob("*.nq")) if nquads.is_dir() else [nquads]


def auth_of(env: dict[str, str]) -> ChallengeAuth:
    return ChallengeAuth(env["KGRAPH_STORE_USER"], env["KGRAPH_STORE_PASSWORD"])


def load_kgraph_way(repo: RemoteRepository, graphs: dict[str, str]) -> float:
    started = time.perf_counter()
    repo.replace_graphs(graphs)
    return time.perf_counter() - started


def bulk_load(server: external_stores.ExternalStore, data: Path) -> float:
    """Virtuoso's bulk loader on every N-Quads file of ``data`` (inside its DirsAllowed)."""
    port = int(server.env["KGRAPH_VIRTUOSO_SQL_PORT"])
    started = time.perf_counter()
    external_stores.isql(port, f"ld_dir('{data}', '*.nq', 'urn:kgraph:default'); "
                               "rdf_loader_run(); checkpoint;", timeout=4 * 3600)
    return time.perf_counter() - started


def pyoxigraph_bulk_seconds(graphs: dict[str, str]) -> float:
    """pyoxigraph's ``bulk_load`` of the same quads into an empty in-memory store."""
    text = "".join(f"{line[:-2]} <{name}> .\n" for name, triples in graphs.items()
                   for line in triples.splitlines(keepends=True))
    memory = ox.Store()
    started, cpu = time.perf_counter(), time.process_time()
    memory.bulk_load(text, ox.RdfFormat.N_QUADS)
    seconds = time.perf_counter() - started
    print(f"pyoxigraph bulk_load: {seconds:.1f} s, {time.process_time() - cpu:.1f} CPU-s, load "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    return seconds


# ------------------------------------------------------------------------- named queries

def corpus_params(repo: OxigraphRepository, plans: int | None) -> dict[str, str]:
    """What a user would ask about: with ``plans``, the parameters bench/bench_app.py picks from
    the generated corpus; otherwise taken from the store (28-CT/TW, a Gia Lai UBND plan carrying
    it out, a plan two steps below it, Sở Y tế, 1 January 2026)."""
    if plans:
        from bench_app import pick
        from corpus import generate_plans

        return {**pick(generate_plans(plans)), "date": "2026-01-01"}
    prefixes = ("PREFIX kg: <https://w3id.org/kgraph/def#> "
                "PREFIX eli: <http://data.europa.eu/eli/ontology#> "
                "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> ")
    plan = repo.query(prefixes + """SELECT ?n ?province WHERE { ?d kg:province ?p ;
        eli:id_local ?n ; kg:implements ?up . ?p skos:prefLabel ?province
        FILTER(CONTAINS(?n, "KH-UBND")) } ORDER BY (?province != "Gia Lai") ?n LIMIT 1""").rows
    leaf = repo.query(prefixes + """SELECT ?n WHERE { ?d eli:id_local ?n ;
        kg:implements/kg:implements ?up } ORDER BY ?n LIMIT 1""").rows
    return {"directive": "28-CT/TW", "plan": str(plan[0][0]) if plan else "",
            "leaf": str(leaf[0][0]) if leaf else "", "agency": "Sở Y tế",
            "province": str(plan[0][1]) if plan else "Gia Lai", "date": "2026-01-01"}


DIRECTIVE_QUERIES = {"implementers", "conflicts", "directive-coverage"}


def values_for(name: str, declared: list[str], params: dict[str, str]) -> dict[str, str]:
    doc = params["directive"] if name in DIRECTIVE_QUERIES else (
        params["leaf"] if name == "lineage" else params["plan"])
    given = {"doc": doc, "date": params["date"], "agency": params["agency"],
             "province": params["province"]}
    return {k: v for k, v in given.items() if k in declared}


def timed(func: Any, runs: int, slow_s: float = 10.0) -> tuple[float, Any]:
    """Median seconds of ``runs`` warm runs after one untimed run (whose answer is returned);
    a query slower than ``slow_s`` is timed once."""
    started = time.perf_counter()
    result = func()
    first = time.perf_counter() - started
    if first > slow_s:
        return first, result
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _embedded_child(store: str, text: str, runs: int, out: Any) -> None:
    repo = OxigraphRepository(Path(store), read_only=True)
    seconds, result = timed(lambda: repo.query(text), runs)
    out.put((seconds, json.loads(json.dumps(result.records()))))


def embedded_query(store: Path, text: str, runs: int, timeout: float
                   ) -> tuple[float | None, Any]:
    """(median seconds, records) of a query on the embedded store, in a child process stopped
    after ``timeout`` s (None then): a query the engine runs for minutes cannot be interrupted
    in-process."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    child = context.Process(target=_embedded_child, args=(str(store), text, runs, out))
    child.start()
    try:
        seconds, records = out.get(timeout=timeout)
    except Exception:  # queue.Empty: over time
        child.kill()
        child.join()
        return None, None
    child.join()
    return seconds, records


def answers(records: Any, text: str) -> Any:
    from test_external_stores import canonical, concat_columns

    return canonical(records, concat_columns(text))


def compare_listing(remote: RemoteRepository, timeout: float) -> None:
    """The named graphs listed as ``SELECT DISTINCT ?g`` (the text before) and as ``GROUP BY
    ?g`` (what :meth:`RemoteRepository.graph_names` sends): seconds and the same graphs."""
    print(f"\ngraph listing on Virtuoso (one run each, over {timeout:.0f} s: stopped; "
          f"load {os.getloadavg()[0]:.1f})")
    found = []
    pattern = "WHERE { GRAPH ?g { ?s ?p ?o } }"
    for label, text in (("SELECT DISTINCT ?g", f"SELECT DISTINCT ?g {pattern}"),
                        ("GROUP BY ?g", f"SELECT ?g {pattern} GROUP BY ?g")):
        started = time.perf_counter()
        try:
            rows = remote.query(text).rows
            found.append({str(r[0]) for r in rows})
            print(f"  {label:20s} {time.perf_counter() - started:8.2f} s  {len(rows):,} graphs",
                  flush=True)
        except Exception as exc:  # a time-out is a result here
            found.append(None)
            print(f"  {label:20s} failed after {time.perf_counter() - started:.1f} s: "
                  f"{str(exc)[:80]}", flush=True)
    if None not in found:
        print(f"  same graphs: {'yes' if found[0] == found[1] else 'NO'}")


def limited_query(remote: RemoteRepository, text: str, seconds: float) -> Any:
    """A query Virtuoso itself stops after ``seconds`` (its "anytime" ``timeout`` parameter: the
    cut answer is refused, :class:`StoreError`; measured with the server's
    ``MaxQueryExecutionTime = 60``). A query the client merely gives up on keeps running in the
    server when ``MaxQueryExecutionTime = 0`` and slows every later request."""
    from kgraph.store.remote import (
        accept_for,
        canonical_booleans,
        parse_response,
        to_query_result,
    )

    response = remote.raw_query(text, accept=accept_for(text),
                                extra=[("timeout", str(int(seconds * 1000)))])
    return canonical_booleans(to_query_result(
        parse_response(response.headers.get("content-type", ""), response.content)))


def compare_portable_ref(remote: RemoteRepository, name: str, old: NamedQuery,
                         query: NamedQuery, values: dict[str, str], runs: int, ref: str,
                         old_timeout: float) -> None:
    """The portable text as written at ``ref`` beside this tree's on Virtuoso: median ms and
    whether they answer the same (an old text cut after ``old_timeout`` s: no answer)."""
    old_text, new_text = old.render(values), query.render(values)
    figures: dict[str, Any] = {"ref": ref, "old_timeout": old_timeout}
    started = time.perf_counter()
    try:
        old_s, old_far = timed(lambda: limited_query(remote, old_text, old_timeout), runs)
        figures["old"] = old_s
    except Exception as exc:  # cut by the server, or an error: no answer
        old_far = None
        figures["old"] = None
        figures["old_error"] = f"after {time.perf_counter() - started:.1f} s: {str(exc)[:120]}"
    new_s, new_far = timed(lambda: remote.query(new_text), runs)
    same = "-" if old_far is None else "yes" if (
        answers(json.loads(json.dumps(old_far.records())), query.text)
        == answers(json.loads(json.dumps(new_far.records())), query.text)) else "NO"
    figures.update(new=new_s, rows=len(new_far.rows), same=same)
    record("portable_ref", name, figures)
    before = (f"{figures['old'] * 1000:.1f} ms" if figures["old"] is not None
              else f"no answer ({figures['old_error']})")
    print(f"  {name:20s} Virtuoso, portable text at {ref}: {before}, now {new_s * 1000:.1f} ms "
          f"({len(new_far.rows)} rows, same answers: {same})", flush=True)


def compare_queries(store: Path, remote: RemoteRepository, params: dict[str, str], runs: int,
                    timeout: float, only: list[str] | None = None, portable_ref: str = "",
                    old_timeout: float = 60.0) -> None:
    embedded = OxigraphRepository()  # only to choose each query's Oxigraph text
    before = {}
    if portable_ref:
        from bench_queries import baseline_queries

        before = baseline_queries(portable_ref)
    print(f"\nnamed queries (median of {runs} warm runs, ms; over {timeout:.0f} s: stopped; "
          f"load {os.getloadavg()[0]:.1f})")
    print(f"  parameters: {params}")
    print("  (Virtuoso: a query with a `# python:` header through it, as `kgraph query` runs it)")
    print(f"  {'query':20s} {'Virtuoso':>9s} {'emb. port.':>10s} {'emb. oxi.':>10s}"
          f" {'V/port':>7s} {'V/oxi':>7s}  rows  same")
    for name, query in sorted(named_queries().items()):
        if only and name not in only:
            continue
        values = values_for(name, [p.name for p in query.parameters], params)
        old = before.get(name)
        if old is not None and old.text != query.text:
            compare_portable_ref(remote, name, old, query, values, runs, portable_ref,
                                 old_timeout)
        portable = query.render(values)
        engine: NamedQuery = query.for_repository(embedded)
        started = time.perf_counter()
        try:  # what a user gets: a query with a ``# python:`` header answers through it
            if query.python:  # (audit_conflicts: one request a candidate on a remote store)
                remote_s, far = timed(lambda v=values, q=query: run_named(q, remote, v), runs)
            else:
                remote_s, far = timed(lambda t=portable: remote.query(t), runs)
            far_records = json.loads(json.dumps(far.records()))
        except Exception as exc:  # a server error or time-out is a result here
            remote_s, far_records = None, None
            print(f"  {name:20s} Virtuoso error after {time.perf_counter() - started:.1f} s:"
                  f" {str(exc)[:80]}")
        port_s, local = embedded_query(store, portable, runs, timeout)
        oxi_s, oxi_local = (port_s, local) if engine.text == query.text else embedded_query(
            store, engine.render(values), runs, timeout)
        reference = oxi_local if oxi_local is not None else local

        def ms(seconds: float | None) -> str:
            return f"{seconds * 1000:.1f}" if seconds is not None else "stopped"

        def ratio(a: float | None, b: float | None) -> str:
            return f"{a / b:.2f}" if a is not None and b else "-"

        agree = ("-" if reference is None or far_records is None else
                 "yes" if answers(reference, query.text) == answers(far_records, query.text)
                 else "NO")
        rows = len(reference) if reference is not None else -1
        record("queries", name, {"virtuoso": remote_s, "portable": port_s, "oxigraph": oxi_s,
                                 "rows": rows, "same": agree,
                                 "load": round(os.getloadavg()[0], 1)})
        print(f"  {name:20s} {ms(remote_s):>9s} {ms(port_s):>10s} {ms(oxi_s):>10s}"
              f" {ratio(remote_s, port_s):>7s} {ratio(remote_s, oxi_s):>7s}  {rows:4d}  {agree}",
              flush=True)


# ------------------------------------------------------------------------- audit and pages

def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + sys) a running process has used: the Virtuoso server's share of a
    command over it, which the client's own CPU does not show."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_seconds(args: list[str], env: dict[str, str], timeout: float,
                server_pid: int | None = None) -> str:
    """Wall seconds, the command's CPU seconds (with its children) and the server's."""
    started, cpu, server = time.perf_counter(), children_cpu(), process_cpu(server_pid)
    try:
        done = subprocess.run([KGRAPH, *args], env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return (f"stopped after {timeout:.0f} s (server {process_cpu(server_pid) - server:.0f}"
                f" CPU-s, load {os.getloadavg()[0]:.1f})")
    seconds = time.perf_counter() - started
    lines = len(done.stdout.splitlines())
    used = f", {children_cpu() - cpu:.1f} CPU-s" + (
        f" + server {process_cpu(server_pid) - server:.1f} CPU-s" if server_pid else "")
    return (f"{seconds:.1f} s{used}, load {os.getloadavg()[0]:.1f}, exit {done.returncode}, "
            f"{lines} lines") + (
        f" ({done.stderr.strip().splitlines()[-1][:100]})" if done.returncode > 1 and
        done.stderr.strip() else "")


def serve(store: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """``kgraph serve --store STORE`` with ``env`` (a remote store's first start computes its
    page data: minutes at 20,000 plans)."""
    from bench_app import serve as serve_app

    return serve_app(store, env=env, tries=1500)


def compare_pages(stores: dict[str, tuple[str, dict[str, str]]], paths: dict[str, str],
                  runs: int, timeout: float, server_pid: int | None = None) -> None:
    """Every route on each store; the CPU seconds of ``kgraph serve`` (start-up with its
    per-version data, then the requests) and of the Virtuoso server (``server_pid``)."""
    from bench_app import measure_routes, p

    measured: dict[str, dict[str, list[float]]] = {}
    for label, (store, env) in stores.items():
        print(f"\n  serving {label}: kgraph serve --store {store}", flush=True)
        started, virtuoso = time.perf_counter(), process_cpu(server_pid)
        server, url = serve(store, env)
        up, up_cpu = time.perf_counter() - started, process_cpu(server.pid)
        print(f"  /health answered after {up:.1f} s ({up_cpu:.1f} CPU-s in kgraph serve, "
              f"Virtuoso {process_cpu(server_pid) - virtuoso:.1f}; load "
              f"{os.getloadavg()[0]:.1f})", flush=True)
        try:
            measured[label] = measure_routes(url, paths, {}, runs, timeout)
            print(f"  routes timed: kgraph serve {process_cpu(server.pid) - up_cpu:.1f} CPU-s, "
                  f"Virtuoso {process_cpu(server_pid) - virtuoso:.1f} CPU-s since start; load "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=60)
    labels = list(stores)
    print(f"\npages (warm, {runs} runs, ms): " + "  ".join(
        f"{label} p50 / p99 / first" for label in labels) + "   p50 ratio")
    for route in paths:
        cells, p50s = [], []
        for label in labels:
            samples = measured[label].get(route)
            if not samples:
                cells.append(f"{'failed':>24s}")
                p50s.append(None)
                continue
            p50s.append(p(samples, 0.5))  # (p leaves the first, cold, request out)
            cells.append(f"{p(samples, 0.5) * 1000:8.0f} {p(samples, 0.99) * 1000:7.0f}"
                         f" {samples[0] * 1000:8.0f}")
        ratio = f"{p50s[0] / p50s[1]:.2f}" if None not in p50s[:2] and p50s[1] else "-"
        record("pages", route, {label: measured[label].get(route) for label in labels})
        print(f"  {route:32s} " + " ".join(cells) + f"   {ratio}", flush=True)


# ------------------------------------------------------------------------- main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--no-bulk", action="store_true", help="skip Virtuoso's bulk loader")
    parser.add_argument("--plans", type=int, help="size of the bench corpus (its parameters)")
    parser.add_argument("--nquads", type=Path, help="the store's N-Quads dump (made if absent)")
    parser.add_argument("--dump-jobs", type=int, default=1,
                        help="processes writing the N-Quads dump (graphs split among them)")
    parser.add_argument("--sample", type=int, help="graphs written the kgraph way")
    parser.add_argument("--buffers", type=int, default=200_000, help="Virtuoso's 8 KB buffers")
    parser.add_argument("--url", help="a Virtuoso already loaded (with --virtuoso-dir)")
    parser.add_argument("--virtuoso-dir", type=Path)
    parser.add_argument("--keep", action="store_true", help="leave the loaded Virtuoso running")
    parser.add_argument("--no-queries", action="store_true")
    parser.add_argument("--query-timeout", type=float, default=300.0)
    parser.add_argument("--audit", action="store_true")
    parser.add_argument("--audit-timeout", type=float, default=900.0)
    parser.add_argument("--pages", action="store_true")
    parser.add_argument("--skip-route", action="append", default=[],
                        help="leave out the pages whose name contains this (repeatable)")
    parser.add_argument("--only", action="append", default=[],
                        help="a named query to run (repeatable; default every one)")
    parser.add_argument("--portable-ref", default="",
                        help="also run each portable text as written at this git revision on "
                             "Virtuoso (old text beside new, same answers; kept in --json)")
    parser.add_argument("--old-timeout", type=float, default=60.0,
                        help="seconds after which Virtuoso stops a --portable-ref text")
    parser.add_argument("--listing", action="store_true",
                        help="the graph listing on Virtuoso: SELECT DISTINCT ?g (before) beside "
                             "GROUP BY ?g (RemoteRepository.graph_names)")
    parser.add_argument("--serve-store", type=Path,
                        help="a writable copy of --store for kgraph serve/audit (derived data)")
    parser.add_argument("--json", type=Path, help="keep the figures in this file (merged)")
    parser.add_argument("--growth", type=Path, nargs=2, metavar=("SMALL", "LARGE"),
                        help="print the growth between two --json files and stop")
    args = parser.parse_args()
    if args.growth:
        growth(*args.growth)
        return 0
    if reason := external_stores.virtuoso_missing():
        print(f"bench_remote: {reason}", file=sys.stderr)
        return 1
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kgraph-bench-remote-"))
    workdir.mkdir(parents=True, exist_ok=True)
    embedded = OxigraphRepository(args.store, read_only=True)
    version = StoreDirectory(args.store).current() or args.store
    print(f"embedded store {args.store} ({version.name}): {len(embedded.native):,} quads, "
          f"{len(embedded.graph_names()):,} graphs", flush=True)

    server = None
    nquads = args.nquads
    if args.url:
        info = json.loads((args.virtuoso_dir / "server.json").read_text())
        env = {k: v for k, v in info.items() if k.startswith("KGRAPH_")}
        url = args.url
        server_pid = info.get("pid")
        args.server_pid = server_pid
    else:
        data = workdir / "virtuoso" / "data"
        data.mkdir(parents=True, exist_ok=True)
        nquads = args.nquads or (data if args.dump_jobs > 1 else data / "all.nq")
        if not any(path.exists() for path in nquads_files(nquads)):
            started, cpu = time.perf_counter(), children_cpu()
            if args.dump_jobs > 1:
                dump_parts(args.store, nquads, args.dump_jobs)
            else:
                embedded.native.dump(str(nquads), ox.RdfFormat.N_QUADS)
            size = sum(f.stat().st_size for f in nquads_files(nquads)) / 1e9
            print(f"N-Quads dump ({args.dump_jobs} processes): "
                  f"{time.perf_counter() - started:.1f} s, {children_cpu() - cpu:.1f} CPU-s "
                  f"of the children, {size:.2f} GB, load {os.getloadavg()[0]:.1f}", flush=True)
        for path in nquads_files(nquads):
            if path.parent != data and not (data / path.name).exists():
                (data / path.name).symlink_to(path.resolve())
        server = external_stores.start_virtuoso(workdir / "virtuoso", buffers=args.buffers)
        env = server.env
        url = server.url
        (workdir / "virtuoso" / "server.json").write_text(json.dumps(
            {"url": url, "pid": server.process.pid, **env}))
        print(f"Virtuoso started in {server.started_seconds:.1f} s: {url}", flush=True)
        server_pid = server.process.pid
    remote = RemoteRepository(url, url, auth=auth_of(env), timeout=args.query_timeout)
    try:
        if server is not None or (args.sample and nquads):
            run_loads(args, server, remote, workdir, nquads)
        params = corpus_params(embedded, args.plans)
        if args.listing:
            compare_listing(remote, args.query_timeout)
        if not args.no_queries:
            compare_queries(args.store, remote, params, args.runs, args.query_timeout,
                            args.only, args.portable_ref, args.old_timeout)
        serve_store = str(args.serve_store or args.store)
        local_env = {**os.environ, "PYTHONPATH": str(ROOT / "src"),
                     "KGRAPH_STORE": serve_store}
        remote_env = {**local_env, **env, "KGRAPH_STORE": url,
                      "KGRAPH_STORE_TIMEOUT": str(args.query_timeout)}
        if args.audit:
            audit = ["audit", "--province", params["province"]]
            print(f"\nkgraph audit --province {params['province']!r}")
            remote_audit = cli_seconds([*audit, '--store', url], remote_env, args.audit_timeout,
                                       server_pid)
            print(f"  Virtuoso: {remote_audit}", flush=True)
            embedded_audit = cli_seconds([*audit, '--store', serve_store], local_env,
                                         args.audit_timeout)
            print(f"  embedded: {embedded_audit}", flush=True)
            record("audit", params["province"], {"Virtuoso": remote_audit,
                                                 "embedded": embedded_audit})
        if args.pages:
            from bench_app import document_iris, routes

            paths = {name: path for name, path in
                     routes(params, document_iris(args.store, params)).items()
                     if not any(skip in name for skip in args.skip_route)}
            compare_pages({"Virtuoso": (url, remote_env), "embedded": (serve_store, local_env)},
                          paths, args.runs, args.query_timeout, server_pid)
        record("run", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), {
            "store": str(args.store), "quads": len(embedded.native), "plans": args.plans,
            "buffers": args.buffers, "load": round(os.getloadavg()[0], 1)})
    finally:
        if args.json:
            kept = json.loads(args.json.read_text()) if args.json.exists() else {}
            for section, figures in RESULTS.items():
                kept.setdefault(section, {}).update(figures)
            args.json.write_text(json.dumps(kept, indent=1, ensure_ascii=False))
        if server is not None and not args.keep:
            server.stop()
        elif server is not None:
            print(f"\nVirtuoso left running (pid {server.process.pid}): --url {url} "
                  f"--virtuoso-dir {workdir / 'virtuoso'}")
    return 0


def growth(small: Path, large: Path) -> None:
    """Each named query's and page's time at two sizes and the ratio, per store."""
    a, b = json.loads(small.read_text()), json.loads(large.read_text())

    def plans(kept: dict[str, Any]) -> str:
        runs = list(kept.get("run", {}).values())
        return f"{runs[-1]['plans']:,} plans" if runs and runs[-1].get("plans") else "?"

    def ms(seconds: float | None) -> str:
        return f"{seconds * 1000:10.1f}" if seconds is not None else f"{'-':>10s}"

    def ratio(x: float | None, y: float | None) -> str:
        return f"{y / x:6.2f}" if x and y is not None else f"{'-':>6s}"

    print(f"named queries, median ms: {plans(a)} -> {plans(b)}")
    for store in ("virtuoso", "portable", "oxigraph"):
        print(f"  {store}")
        for name in sorted(set(a.get("queries", {})) | set(b.get("queries", {}))):
            x = a.get("queries", {}).get(name, {}).get(store)
            y = b.get("queries", {}).get(name, {}).get(store)
            print(f"    {name:24s} {ms(x)} {ms(y)} {ratio(x, y)}")
    from bench_app import p

    print(f"pages, warm p50 ms: {plans(a)} -> {plans(b)}")
    for route in b.get("pages", {}):
        cells = []
        for label in ("Virtuoso", "embedded"):
            x = (a.get("pages", {}).get(route) or {}).get(label)
            y = (b.get("pages", {}).get(route) or {}).get(label)
            px, py = (p(x, 0.5) if x else None), (p(y, 0.5) if y else None)
            cells.append(f"{ms(px)} {ms(py)} {ratio(px, py)}")
        print(f"  {route:42s} " + "   ".join(cells))


def stamp_version(remote: RemoteRepository) -> None:
    """After the server's own loader: a version token, as kgraph's writes leave (without one
    every page request counts the store to key its derived data)."""
    started = time.perf_counter()
    remote.version()
    counted = time.perf_counter() - started
    remote.stamp()
    started = time.perf_counter()
    remote.version()
    print(f"store version without a token (a COUNT of every quad): {counted * 1000:.0f} ms; "
          f"with the token kgraph writes: {(time.perf_counter() - started) * 1000:.0f} ms",
          flush=True)


def run_loads(args: argparse.Namespace, server: external_stores.ExternalStore | None,
              remote: RemoteRepository, workdir: Path, nquads: Path) -> None:
    """The loads, side by side: pyoxigraph bulk_load (memory), Virtuoso ld_dir, kgraph."""
    started = time.perf_counter()
    quads = (quad for path in nquads_files(nquads)
             for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    graphs = graphs_of(quads, args.sample)
    sample_quads = sum(text.count("\n") for text in graphs.values())
    print(f"{len(graphs):,} graphs ({sample_quads:,} quads) read as N-Triples: "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    ox_seconds = pyoxigraph_bulk_seconds(graphs)
    rows = [("pyoxigraph bulk_load (memory)", ox_seconds, sample_quads)]
    if args.sample is None and server is not None:  # all of it the kgraph way, empty server
        fresh = external_stores.start_virtuoso(workdir / "virtuoso-kgraph", buffers=args.buffers)
        try:
            repo = RemoteRepository(fresh.url, fresh.url, auth=auth_of(fresh.env))
            rows.append(("kgraph replace_graphs (empty)", load_kgraph_way(repo, graphs),
                         len(repo)))
        finally:
            fresh.stop()
    if server is not None and not args.no_bulk:
        pid = server.process.pid
        cpu = process_cpu(pid)
        seconds = bulk_load(server, workdir / "virtuoso" / "data")
        print(f"Virtuoso's bulk loader: {seconds:.1f} s, {process_cpu(pid) - cpu:.1f}"
              f" CPU-s of the server, load {os.getloadavg()[0]:.1f}", flush=True)
        rows.append(("Virtuoso ld_dir (everything)", seconds, len(remote)))
        stamp_version(remote)
    if args.sample is not None:
        pid = server.process.pid if server is not None else getattr(args, "server_pid", None)
        cpu, own = process_cpu(pid), time.process_time()
        seconds = load_kgraph_way(remote, graphs)
        print(f"kgraph replace_graphs: {seconds:.1f} s, {time.process_time() - own:.1f} CPU-s in "
              f"kgraph + {process_cpu(pid) - cpu:.1f} of the server, load "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        rows.append((f"kgraph replace_graphs ({len(graphs):,} graphs, full server)",
                     seconds, sample_quads))
    print("\nload                                              seconds    quads      quads/s"
          "  vs pyoxigraph bulk_load")
    base = sample_quads / ox_seconds
    for label, seconds, quads in rows:
        record("load", label, {"seconds": seconds, "quads": quads,
                               "load": round(os.getloadavg()[0], 1)})
        print(f"  {label:48s} {seconds:8.1f} {quads:11,} {quads / seconds:10,.0f}"
              f"  {quads / seconds / base:.2f}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
