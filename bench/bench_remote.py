"""The synthetic corpus on Virtuoso beside the embedded store: load and named queries.

Printed, each beside a baseline measured in the same run:

* load: every graph of an embedded store (``--store``, default the 2,000-plan bench store)
  written into a new Virtuoso database the way ``kgraph build --store http://...`` writes
  (:meth:`kgraph.store.remote.RemoteRepository.replace_graphs`: on Virtuoso one Graph Store
  PUT per graph, UPDATE where it refuses one), in quads/s, beside Virtuoso's own bulk loader
  (``ld_dir`` + ``rdf_loader_run`` from an N-Quads file, into a second fresh database) and
  pyoxigraph's ``bulk_load`` of the same quads;
* every named query with parameters taken from the corpus: median of ``--runs`` warm runs on the
  embedded store and on Virtuoso, the ratio, and whether the answers agree (as
  tests/test_external_stores.py compares them).

Run: ``.venv/bin/python bench/bench_remote.py [--store DIR] [--runs 5] [--workdir DIR]
[--no-bulk]``. Needs Debian's virtuoso-opensource (``scripts/setup --dev``). The embedded
store is only read.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))

import external_stores  # noqa: E402
import pyoxigraph as ox  # noqa: E402

from kgraph.analysis.queries import named_queries, run_named  # noqa: E402
from kgraph.store.embedded import OxigraphRepository  # noqa: E402
from kgraph.store.remote import RemoteRepository  # noqa: E402

DEFAULT_STORE = Path("/tmp/h12/bench2/store-2000")


def graphs_of(store: ox.Store) -> dict[str, str]:
    """Every named graph as N-Triples text (what a build hands to ``replace_graphs``)."""
    out: dict[str, list[str]] = {}
    for quad in store:
        if isinstance(quad.graph_name, ox.NamedNode):
            out.setdefault(quad.graph_name.value, []).append(
                f"{quad.subject} {quad.predicate} {quad.object} .\n")
    return {name: "".join(lines) for name, lines in out.items()}


def load_kgraph_way(url: str, env: dict[str, str], graphs: dict[str, str]) -> float:
    repo = RemoteRepository(url, url, auth=external_stores_auth(env))
    started = time.perf_counter()
    repo.replace_graphs(graphs)
    return time.perf_counter() - started


def external_stores_auth(env: dict[str, str]) -> Any:
    from kgraph.store.remote import ChallengeAuth

    return ChallengeAuth(env["KGRAPH_STORE_USER"], env["KGRAPH_STORE_PASSWORD"])


def load_bulk_way(directory: Path, store: ox.Store) -> tuple[float, int]:
    """A second Virtuoso loading the same quads with its bulk loader (ld_dir)."""
    data = directory / "data"
    data.mkdir(parents=True)
    nquads = data / "all.nq"
    store.dump(str(nquads), ox.RdfFormat.N_QUADS)
    server = external_stores.start_virtuoso(directory)  # DirsAllowed: its own folder
    try:
        port = int(server.env["KGRAPH_VIRTUOSO_SQL_PORT"])
        started = time.perf_counter()
        external_stores.isql(port, f"ld_dir('{data}', '*.nq', 'urn:kgraph:default'); "
                                   "rdf_loader_run(); checkpoint;", timeout=3600)
        seconds = time.perf_counter() - started
        repo = RemoteRepository(server.url, None, auth=external_stores_auth(server.env))
        return seconds, len(repo)
    finally:
        server.stop()


DIRECTIVE_QUERIES = {"implementers", "conflicts", "directive-coverage"}


def corpus_params(repo: OxigraphRepository) -> dict[str, str]:
    """What a user would ask about, taken from the store: 28-CT/TW, a Gia Lai UBND plan
    carrying it out, a plan two steps below it, Sở Y tế in Gia Lai, 1 January 2026."""
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


def values_for(name: str, declared: list[str], params: dict[str, str]) -> dict[str, str]:
    doc = params["directive"] if name in DIRECTIVE_QUERIES else (
        params["leaf"] if name == "lineage" else params["plan"])
    given = {"doc": doc, "date": params["date"], "agency": params["agency"],
             "province": params["province"]}
    return {k: v for k, v in given.items() if k in declared}


def median_ms(func: Any, runs: int) -> tuple[float, Any]:
    result = func()  # warm-up (and the answer compared)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, result


def answers(result: Any, text: str) -> Any:
    from test_external_stores import canonical, concat_columns

    return canonical(json.loads(json.dumps(result.records())), concat_columns(text))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--no-bulk", action="store_true", help="skip Virtuoso's bulk loader")
    args = parser.parse_args()
    if reason := external_stores.virtuoso_missing():
        print(f"bench_remote: {reason}", file=sys.stderr)
        return 1
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="kgraph-bench-remote-"))
    embedded = OxigraphRepository(args.store, read_only=True)
    native = embedded.native
    quads = len(native)
    print(f"embedded store {args.store}: {quads:,} quads, {len(embedded.graph_names()):,} graphs")

    started = time.perf_counter()
    graphs = graphs_of(native)
    print(f"graphs as N-Triples: {time.perf_counter() - started:.1f} s")
    memory = ox.Store()
    started = time.perf_counter()
    memory.bulk_load("".join(f"{q} .\n" for q in native), ox.RdfFormat.N_QUADS)
    ox_seconds = time.perf_counter() - started
    del memory

    server = external_stores.start_virtuoso(workdir / "virtuoso", buffers=200_000)
    print(f"Virtuoso started in {server.started_seconds:.1f} s: {server.url}")
    try:
        load_seconds = load_kgraph_way(server.url, server.env, graphs)
        repo = RemoteRepository(server.url, server.url, auth=external_stores_auth(server.env))
        loaded = len(repo)
        print("\nload                          seconds   quads/s    vs pyoxigraph bulk_load")
        print(f"  pyoxigraph bulk_load (mem)  {ox_seconds:8.1f}  {quads / ox_seconds:9,.0f}"
              "    1.00")
        print(f"  kgraph replace_graphs      {load_seconds:8.1f}  {loaded / load_seconds:9,.0f}"
              f"    {ox_seconds / load_seconds:.2f}   ({loaded:,} quads in the server)")
        if not args.no_bulk:
            bulk_seconds, bulk_quads = load_bulk_way(workdir / "bulk", native)
            print(f"  Virtuoso ld_dir bulk loader {bulk_seconds:8.1f}  "
                  f"{bulk_quads / bulk_seconds:9,.0f}    {ox_seconds / bulk_seconds:.2f}")

        print(f"\nnamed queries (median of {args.runs} warm runs, ms)")
        print(f"  {'query':22s} {'embedded':>9s} {'Virtuoso':>9s} {'ratio':>7s}  rows  same")
        params = corpus_params(embedded)
        print(f"  parameters from the corpus: {params}")
        for name, query in sorted(named_queries().items()):
            values = values_for(name, [p.name for p in query.parameters], params)
            local_ms, local = median_ms(lambda q=query, v=values: run_named(q, embedded, v),
                                        args.runs)
            try:
                remote_ms, far = median_ms(lambda q=query, v=values: run_named(q, repo, v),
                                           args.runs)
            except Exception as exc:  # a server error is a result here
                print(f"  {name:22s} {local_ms:9.1f}  error: {str(exc)[:80]}")
                continue
            agree = answers(local, query.text) == answers(far, query.text)
            print(f"  {name:22s} {local_ms:9.1f} {remote_ms:9.1f} {remote_ms / local_ms:7.2f}"
                  f"  {len(local.rows):4d}  {'yes' if agree else 'NO'}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
