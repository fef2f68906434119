"""Audit benchmark: validation on ingest against a store of >= 1 M triples, and full validation.

Why: kgraph validates each document's graph on its own when it is ingested (pySHACL on a few
hundred triples) and runs cross-document rules as SPARQL on Oxigraph. That must stay fast when
the store is large, and the per-document design must not cost more than validating everything
as one rdflib graph with plain pySHACL. Measured in one run:

1. a synthetic corpus (``bench/corpus.py`` plan texts through the real extractor), cloned under
   fresh IRIs until the store holds ``--triples`` (default 1 M) triples;
2. ingest of one new plan: pySHACL on its graph + load + the cross-document conflict query for
   it on the full store (target: under 1 s);
3. full validation: kgraph's path (every document graph on its own; sequential time and, with
   ``--workers``, wall time of a process pool) against plain pySHACL on one rdflib graph holding
   the same documents. Plain pySHACL is capped at ``--subset`` documents (it grows worse than
   linearly); the ratio is measured on that same subset, and the output says so. Both sides run
   in one process with kgraph's SPARQL-parse cache installed (it helps plain pySHACL too) and
   with parsing excluded.

Run: ``.venv/bin/python bench/bench_audit.py [--unique 150] [--triples 1000000] [--subset 100]``.

With ``--store DIR`` (a *copy* of a built store: the bench writes next to it) it measures the
whole-corpus audit index instead, old code beside new in one run:

* the index computed from nothing (each step's wall time, file size, peak memory);
* ``kgraph audit --province P`` as a user runs it (a fresh process, median of ``--runs``), the
  new code and, with ``--old-src`` (a checkout of the code before, e.g. ``git archive``), the
  old one on the same store (``--old-timeout`` caps it);
* ``/audit`` pages and ``/api/audit`` through the app (first request, then warm p50/p99);
* with ``--changed-plan FILE`` (the source of a plan in the store): that plan re-built with one
  task changed, then the incremental index step, against the full computation (ratio), and
  checked equal to a full recompute with ``--check``.

``--reuse-findings`` measures a store built by other code without validating every document
again: the per-document findings the build kept are used whatever code fingerprint they were
kept under (said in the output).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pyshacl import validate as pyshacl_validate
from rdflib import Graph
from rdflib.namespace import SH

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus
from kgraph.analysis.audit import conflict_findings
from kgraph.analysis.validation import ontology_graph, shapes_graph, validate_graph
from kgraph.build import prepare
from kgraph.graph.mapping import DocumentGraph
from kgraph.graph.vocab import ELI, ID
from kgraph.resources import resource_graphs
from kgraph.store.embedded import OxigraphRepository

DOC = str(ID) + "doc/"
GRAPH = str(ID) + "graph/"


def clone(ntriples: str, index: int) -> str:
    """The same triples under fresh document and graph IRIs (a copy that merges with nothing)."""
    if index == 0:
        return ntriples
    return ntriples.replace(DOC, f"{DOC}c{index}-").replace(GRAPH, f"{GRAPH}c{index}-")


def clone_graph_name(name: str, index: int) -> str:
    return name if index == 0 else name.replace(GRAPH, f"{GRAPH}c{index}-")


def validate_ntriples(ntriples: str) -> tuple[int, float, float]:
    """Worker: parse and validate one document graph; (results, parse s, validate s)."""
    started = time.perf_counter()
    graph = Graph().parse(data=ntriples, format="turtle")  # n3() may triple-quote
    parsed = time.perf_counter()
    results = len(validate_graph(graph).results)
    return results, parsed - started, time.perf_counter() - parsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--unique", type=int, default=150, help="plans extracted from text")
    parser.add_argument("--triples", type=int, default=1_000_000, help="store size to reach")
    parser.add_argument("--subset", type=int, default=100, help="documents for plain pySHACL")
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store", type=Path, help="a copy of a built store: bench the index")
    parser.add_argument("--province", default="Gia Lai")
    parser.add_argument("--old-src", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--old-timeout", type=float, default=900.0)
    parser.add_argument("--changed-plan", type=Path, help="source file of a plan in the store")
    parser.add_argument("--reuse-findings", action="store_true")
    parser.add_argument("--check", action="store_true", help="incremental == full recompute")
    parser.add_argument("--api-audit", action="store_true", help="also /api/audit (explorer)")
    args = parser.parse_args(argv)
    if args.store is not None:
        store_mode(args)
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sources"
        files = write_corpus(folder, args.unique + 1)
        started = time.perf_counter()
        _, graphs = prepare(files)
        print(f"extracted {len(graphs)} synthetic plans in {time.perf_counter() - started:.1f} s "
              f"({statistics.mean(len(g.graph) for g in graphs):.0f} triples each)")
        new_plan, corpus = graphs[-1], graphs[:-1]
        texts = [(str(g.name), g.to_ntriples()) for g in corpus]
        documents: list[tuple[str, str]] = []
        repo = OxigraphRepository(Path(tmp) / "store")
        repo.replace_graphs(resource_graphs())
        index = 0
        started = time.perf_counter()
        while len(repo) < args.triples:
            batch = {clone_graph_name(n, index): clone(t, index) for n, t in texts}
            repo.replace_graphs(batch)
            documents.extend(batch.items())
            index += 1
        print(f"store: {len(repo):,} triples in {len(documents)} document graphs "
              f"({index} copies of the corpus), loaded in {time.perf_counter() - started:.1f} s")

        ingest_one(repo, new_plan, args.runs)
        full_validation(documents, args.subset, args.workers)


def ingest_one(repo: OxigraphRepository, plan: DocumentGraph, runs: int) -> None:
    """Validate, load and cross-check one new plan against the full store."""
    number = str(plan.graph.value(plan.document, ELI.id_local))
    times: dict[str, list[float]] = {"shacl": [], "load": [], "cross": [], "total": []}
    for _ in range(runs):
        t0 = time.perf_counter()
        validation = validate_graph(plan.graph)
        t1 = time.perf_counter()
        repo.replace_graphs({str(plan.name): plan.to_ntriples()})
        t2 = time.perf_counter()
        conflicts = conflict_findings(repo, number)
        t3 = time.perf_counter()
        for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
            times[key].append(value)
    median = {k: statistics.median(v) for k, v in times.items()}
    verdict = "OK" if median["total"] < 1.0 else "OVER 1 s"
    print(f"ingest of one new plan ({len(plan.graph)} triples, {number}), median of {runs}: "
          f"pySHACL {median['shacl'] * 1000:.0f} ms, load {median['load'] * 1000:.0f} ms, "
          f"cross-document query {median['cross'] * 1000:.0f} ms, "
          f"total {median['total'] * 1000:.0f} ms [{verdict}] "
          f"({len(validation.results)} SHACL results, {len(conflicts)} conflicts)")


def full_validation(documents: list[tuple[str, str]], subset: int, workers: int) -> None:
    """kgraph's per-document path on everything, and against plain pySHACL on a subset."""
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        outcomes = list(pool.map(validate_ntriples, (t for _, t in documents), chunksize=16))
    wall = time.perf_counter() - started
    parse = sum(p for _, p, _ in outcomes)
    check = sum(v for _, _, v in outcomes)
    print(f"kgraph full validation, {len(documents)} document graphs: {wall:.1f} s wall with "
          f"{workers} processes (summed per document: {parse:.1f} s parsing, {check:.1f} s "
          f"pySHACL; {sum(r for r, _, _ in outcomes)} results)")

    chosen = documents[:subset]
    parsed = [Graph().parse(data=t, format="turtle") for _, t in chosen]
    started = time.perf_counter()
    ours = [len(validate_graph(g).results) for g in parsed]
    kgraph_time = time.perf_counter() - started
    union = Graph()
    for graph in parsed:
        union += graph
    started = time.perf_counter()
    _conforms, report, _text = pyshacl_validate(
        union, shacl_graph=shapes_graph(), ont_graph=ontology_graph(), inference="none",
        allow_warnings=True)
    plain_time = time.perf_counter() - started
    plain_results = len(list(report.objects(None, SH.result))) if isinstance(report, Graph) else -1
    print(f"subset of {len(chosen)} documents ({len(union):,} triples; plain pySHACL capped "
          f"here, the full corpus would take too long): kgraph per-document "
          f"{kgraph_time:.1f} s sequential ({sum(ours)} results) vs plain pySHACL "
          f"on one rdflib graph {plain_time:.1f} s ({plain_results} results); "
          f"ratio plain/kgraph = {plain_time / kgraph_time:.2f} (parsing excluded on both sides)")


# ---------------------------------------------------------------------------- index on a store

_PATCH = """
import sys
from kgraph.analysis import audit_index
fingerprint = {fingerprint!r}
if fingerprint:
    audit_index.audit_fingerprint = lambda: fingerprint
from kgraph.cli import app
sys.argv = ["kgraph", *sys.argv[1:]]
app()
"""


_INDEX = """
import json, resource, sys, time
from pathlib import Path
from kgraph.analysis import audit_index
fingerprint = {fingerprint!r}
if fingerprint:
    audit_index.audit_fingerprint = lambda: fingerprint
from kgraph.store.embedded import OxigraphRepository
repo = OxigraphRepository(Path(sys.argv[1]), read_only=True)
started, cpu = time.perf_counter(), time.process_time()
index = audit_index.compute_index(repo, Path(sys.argv[2]))
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"wall": time.perf_counter() - started,
                  "cpu": time.process_time() - cpu + children.ru_utime + children.ru_stime,
                  "steps": index.seconds, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "children_rss": children.ru_maxrss}}))
"""


def index_from_nothing(src: Path | None, fingerprint: str, store: Path, target: Path,
                       timeout: float) -> dict[str, object] | None:
    """The whole index computed by the code in ``src`` (None: this checkout) in a fresh
    process: wall and CPU seconds (its worker processes included), steps, peak RSS (KB)."""
    import json
    import subprocess

    for path in target.parent.glob(f"{target.name}*"):
        path.unlink()
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    try:
        done = subprocess.run([sys.executable, "-c", _INDEX.format(fingerprint=fingerprint),
                               str(store), str(target)], env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode:
        raise SystemExit(f"index computation failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def describe(name: str, run: dict[str, object] | None) -> str:
    if run is None:
        return f"  {name}: stopped (timeout)"
    steps = run["steps"]
    assert isinstance(steps, dict)
    times = ", ".join(f"{k} {v:.1f}" for k, v in steps.items())
    return (f"  {name}: {run['wall']:.1f} s wall, {run['cpu']:.1f} CPU-s (workers included), "
            f"peak RSS {int(run['rss']) / 1024:.0f} MB (a worker "
            f"{int(run['children_rss']) / 1024:.0f} MB); cumulative steps (s): {times}")


_GAP_ROWS = ("SELECT p.iri, g.directive, q.iri, t.iri, g.best FROM {0}.gaps g "
             "JOIN {0}.documents p ON p.id = g.plan JOIN {0}.documents q ON q.id = g.peer "
             "JOIN {0}.tasks t ON t.id = g.task")
_FINDING_ROWS = "SELECT * FROM {0}.findings"
_GROUP_ROWS = "SELECT * FROM {0}.groups"


def same_index(old: Path, new: Path) -> str:
    """Whether two index files hold the same findings: peer gaps (by IRIs, not row ids), the
    other findings and the counts per (document, rule, severity), compared in SQLite both
    ways. Pages are sorted by a total order on the findings, so the same rows make the same
    pages in the same order."""
    import sqlite3

    db = sqlite3.connect(f"file:{new}?mode=ro", uri=True)
    db.execute("ATTACH DATABASE ? AS old", (f"file:{old}?mode=ro",))
    parts = []
    for name, query in (("peer gaps", _GAP_ROWS), ("other findings", _FINDING_ROWS),
                        ("counts", _GROUP_ROWS)):
        total = db.execute(f"SELECT COUNT(*) FROM ({query.format('main')})").fetchone()[0]
        only_new = db.execute(f"SELECT COUNT(*) FROM ({query.format('main')} EXCEPT "
                              f"{query.format('old')})").fetchone()[0]
        only_old = db.execute(f"SELECT COUNT(*) FROM ({query.format('old')} EXCEPT "
                              f"{query.format('main')})").fetchone()[0]
        parts.append(f"{name} {total:,}: {only_old} only in old, {only_new} only in new")
    db.close()
    return "; ".join(parts)


def kept_fingerprint(store: Path) -> str:
    """The code fingerprint most per-document findings next to the store were kept under."""
    from collections import Counter

    names = Counter(p.name.split("-")[1]
                    for p in (store / "derived" / "documents").glob("audit-*.pickle"))
    return names.most_common(1)[0][0] if names else ""


def run_cli(src: Path | None, fingerprint: str, args: list[str], timeout: float
            ) -> tuple[float, int, str, int]:
    """``kgraph ARGS`` in a fresh process: (wall s, peak RSS KB, first line, exit code)."""
    import subprocess

    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    started = time.perf_counter()
    try:
        done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-c",
                               _PATCH.format(fingerprint=fingerprint), *args],
                              env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return float("inf"), 0, f"(stopped after {timeout:.0f} s)", -1
    wall = time.perf_counter() - started
    rss = int(done.stderr.strip().splitlines()[-1]) if done.stderr.strip() else 0
    return wall, rss, (done.stdout.splitlines() or [""])[0][:100], done.returncode


def timed_pages(app_repo: object, paths: list[str], runs: int) -> None:
    from fastapi.testclient import TestClient

    from kgraph.web.app import create_app

    with TestClient(create_app(app_repo)) as client:  # type: ignore[arg-type]
        for path in paths:
            started = time.perf_counter()
            response = client.get(path)
            first = time.perf_counter() - started
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - started)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(f"  {path}: {response.status_code}, {len(response.content):,} bytes; first "
                  f"{first * 1000:.0f} ms, warm p50 {statistics.median(times) * 1000:.0f} ms, "
                  f"p99 {p99 * 1000:.0f} ms")


def timed_csv(app_repo: object, province: str, head: int = 1 << 20) -> None:
    """``/audit?format=csv`` streamed: a province's whole selection, and the first ``head``
    bytes of every finding's (the whole corpus is a download of minutes at national scale)."""
    from fastapi.testclient import TestClient

    from kgraph.web.app import create_app

    with TestClient(create_app(app_repo)) as client:  # type: ignore[arg-type]
        client.get("/audit?per_page=1")  # the index opened, as for a warm server
        for path, limit in ((f"/audit?format=csv&province={province}", None),
                            ("/audit?format=csv", head)):
            started = time.perf_counter()
            first, size, rows = 0.0, 0, 0
            with client.stream("GET", path) as response:
                for chunk in response.iter_bytes():
                    first = first or time.perf_counter() - started
                    size += len(chunk)
                    rows += chunk.count(b"\n")
                    if limit is not None and size >= limit:
                        break
            whole = time.perf_counter() - started
            what = "whole selection" if limit is None else f"first {size / 1e6:.1f} MB"
            print(f"  {path}: {response.status_code}, first bytes {first * 1000:.0f} ms, "
                  f"{what} {whole:.2f} s (≈ {rows:,} lines, {size / 1e6:.1f} MB); "
                  f"load {os.getloadavg()[0]:.1f}")


def store_mode(args: argparse.Namespace) -> None:
    from kgraph.analysis import audit_index as ai

    store: Path = args.store
    fingerprint = kept_fingerprint(store) if args.reuse_findings else ""
    if fingerprint:
        ai.audit_fingerprint = lambda: fingerprint  # type: ignore[assignment]
        print(f"per-document findings reused as kept (code fingerprint {fingerprint})")
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    repo = OxigraphRepository(store, read_only=True)
    target = ai.index_file(repo)
    assert target is not None
    old_src = args.old_src
    if old_src is not None and (old_src / "src" / "kgraph").is_dir():
        old_src = old_src / "src"  # a checkout (git archive) rather than its src folder
    print(f"index from nothing, each in a fresh process (load {os.getloadavg()[0]:.1f}):")
    run = index_from_nothing(None, fingerprint, store, target, args.old_timeout)
    assert run is not None
    full = float(run["wall"])  # type: ignore[arg-type]
    print(describe("new", run) + f"; {target.stat().st_size / 1e6:.0f} MB; "
          f"load {os.getloadavg()[0]:.1f}")
    if args.old_src is not None:
        old_target = target.with_name("audit-old.sqlite")
        old = index_from_nothing(old_src, fingerprint, store, old_target,
                                 args.old_timeout)
        print(describe(f"old ({args.old_src})", old) + f"; load {os.getloadavg()[0]:.1f}")
        if old is not None:
            print(f"  old/new: wall {float(old['wall']) / full:.1f}x, CPU "  # type: ignore[arg-type]
                  f"{float(old['cpu']) / float(run['cpu']):.1f}x")  # type: ignore[arg-type]
            print(f"  same index: {same_index(old_target, target)}")
        for path in old_target.parent.glob(f"{old_target.name}*"):
            path.unlink()
    index = ai.audit_index(repo)
    started = time.perf_counter()
    page = index.page(0, 200, province=args.province)
    print(f"in process: page of {args.province} {1000 * (time.perf_counter() - started):.0f} ms "
          f"({page.total} findings, {len(page.documents)} documents, {page.counts})")

    command = ["audit", "--province", args.province, "--store", str(store)]
    new = [run_cli(None, fingerprint, command, args.old_timeout) for _ in range(args.runs)]
    new_wall = statistics.median(w for w, _, _, _ in new)
    print(f"kgraph audit --province {args.province!r}, new: median {new_wall:.2f} s of "
          f"{args.runs}, peak RSS {max(r for _, r, _, _ in new) / 1024:.0f} MB, exit "
          f"{new[0][3]}: {new[0][2]}")
    if args.old_src is not None:
        wall, rss, line, code = run_cli(old_src, fingerprint, command, args.old_timeout)
        ratio = f"{wall / new_wall:.1f}x" if wall != float("inf") else "n/a"
        print(f"kgraph audit --province {args.province!r}, old ({args.old_src}): {wall:.2f} s, "
              f"peak RSS {rss / 1024:.0f} MB, exit {code}: {line}  -> old/new {ratio}")

    some = index.page(0, 1).findings
    pages = ["/audit", f"/audit?province={args.province}", "/audit?format=json&per_page=100",
             f"/audit?format=json&province={args.province}&page=20",
             "/audit?format=json&severity=Info&page=500",
             "/audit?format=json&rule=MissingPeerTask&page=1000",
             f"/audit?doc={index.documents[len(index.documents) // 2].number}"]
    if some and args.api_audit:  # its first request builds the explorer's data
        pages.append(f"/api/audit?iri={some[0].focus}")
    print(f"pages (load {os.getloadavg()[0]:.1f}):")
    timed_pages(OxigraphRepository(store, read_only=True), pages, max(args.runs, 20))
    timed_csv(OxigraphRepository(store, read_only=True), args.province)

    if args.changed_plan is not None:
        from kgraph.build import build

        with tempfile.TemporaryDirectory() as tmp:
            changed = Path(tmp) / args.changed_plan.name
            text = args.changed_plan.read_text(encoding="utf-8")
            lines = text.splitlines()
            first = next(i for i, line in enumerate(lines) if line.startswith("a) "))
            lines[first] = "a) Lưu trữ hồ sơ điện tử của lễ hội truyền thống."
            changed.write_text("\n".join(lines) + "\n", encoding="utf-8")
            started = time.perf_counter()
            report = build([changed], OxigraphRepository(store), directive_coverage=False)
            print(f"re-build of one changed plan (directive coverage off): "
                  f"{time.perf_counter() - started:.1f} s, {len(report.documents)} document")
        repo = OxigraphRepository(store, read_only=True)
        started, cpu = time.perf_counter(), time.process_time()
        updated = ai.audit_index(repo)
        step = time.perf_counter() - started
        print(f"incremental index step: {step:.2f} s ({time.process_time() - cpu:.2f} CPU-s) vs "
              f"{full:.1f} s from nothing (full/incremental {full / step:.0f}x); "
              f"load {os.getloadavg()[0]:.1f}")
        started = time.perf_counter()
        ai.compute_index(repo, target).close()  # nothing changed since: the cost of looking
        print(f"index step when nothing changed: {time.perf_counter() - started:.2f} s")
        if args.check:
            started = time.perf_counter()
            whole = ai.compute_index(repo)
            same = updated.findings == whole.findings
            print(f"full recompute {time.perf_counter() - started:.1f} s; incremental == full: "
                  f"{same}")


if __name__ == "__main__":
    main()
