"""Foundation benchmark: build a synthetic corpus through the real pipeline, then time queries.

Why: the store choice (Oxigraph) and the pipeline shape (extract all, map all, one transaction)
must hold at the corpus sizes analysts will reach. This builds ``--plans`` generated plans with
:func:`kgraph.build.build` into a fresh on-disk Oxigraph store and prints

* ingest time per document (extract + map; median and total) and the store load rate, side by
  side with pyoxigraph's ``bulk_load`` of the same quads into an empty store, in the same run;
* how the extraction compares with the generator's own metadata (what it mis-parses, and why);
* the median time of the named queries ``implementers`` and ``assignments`` (28-CT/TW) on
  Oxigraph and on rdflib's in-memory ``Dataset(default_union=True)`` holding the same quads,
  measured in the same run; rdflib runs in a subprocess under a time limit, reported "> N s";
* the row counts of both engines, which must agree.

Run: ``.venv/bin/python bench/bench_build.py [--plans 2000] [--runs 5] [--timeout 120]``.

``--stages N`` instead times one document's way through the build, stage by stage, on N plans
(CPU per document), each stage beside the engine it replaced, measured in the same run:
pySHACL against the compiled shapes (and whether their results are identical), rdflib's
TriG writer against Oxigraph's (and whether the quads are the same).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kgraph.build as kbuild
from corpus import PlanSpec, generate_plans
from kgraph.analysis.queries import load_query
from kgraph.graph.mapping import DocumentGraph
from kgraph.ingest.model import PlanDocument
from kgraph.store.embedded import OxigraphRepository

QUERIES = {"implementers": {"doc": "28-CT/TW"}, "assignments": {"doc": "28-CT/TW"}}

# Each engine runs its queries in a child process, so a query can be stopped at a time limit
# and both engines are measured the same way. The child prints one JSON line per event.
_CHILD = r"""
import json, sys, time
engine, path, queries = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
started = time.perf_counter()
if engine == "oxigraph":
    import pyoxigraph as ox
    store = ox.Store.read_only(path)
    def run(sparql):
        return [[None if s[v] is None else s[v].value for v in r.variables]
                for r in [store.query(sparql, use_default_graph_as_union=True)] for s in r]
    size = len(store)
else:
    from rdflib import Dataset
    ds = Dataset(default_union=True)
    ds.parse(path, format="nquads")
    def run(sparql):
        return [[None if t is None else str(t) for t in row] for row in ds.query(sparql)]
    size = len(ds)
print(json.dumps({"load": time.perf_counter() - started, "quads": size}), flush=True)
for name, sparql, runs in queries:
    for i in range(runs):
        t = time.perf_counter()
        rows = run(sparql)
        event = {"query": name, "seconds": time.perf_counter() - t, "rows": len(rows)}
        if i == runs - 1:
            event["result"] = rows
        print(json.dumps(event, ensure_ascii=False), flush=True)
"""
RunTimes = dict[str, list[float] | str]  # seconds per run, or "> N s" when stopped


@dataclass
class Timings:
    """Per-document extract+map times and the store write time, taken inside build()."""

    per_doc: list[float] = field(default_factory=list)
    load: float = 0.0
    docs: dict[str, PlanDocument] = field(default_factory=dict)


class TimedRepository(OxigraphRepository):
    """The real repository, timing the one transaction that writes the build."""

    def __init__(self, path: Path, timings: Timings) -> None:
        super().__init__(path)
        self.timings = timings

    def replace_graphs(self, graphs: Mapping[str, str]) -> None:
        started = time.perf_counter()
        super().replace_graphs(graphs)
        self.timings.load += time.perf_counter() - started


def timed_build(folder: Path, store: Path) -> tuple[TimedRepository, kbuild.BuildReport, Timings]:
    """kgraph.build.build() with its extract and map steps timed per document."""
    timings = Timings()
    extract, mapper = kbuild.extract_file, kbuild.document_graph
    pending: dict[str, float] = {}

    def timed_extract(path: Path) -> PlanDocument:
        started = time.perf_counter()
        doc = extract(path)
        pending["t"] = time.perf_counter() - started
        timings.docs[path.name] = doc
        return doc

    def timed_map(doc: PlanDocument) -> DocumentGraph:
        started = time.perf_counter()
        graph = mapper(doc)
        timings.per_doc.append(pending.pop("t") + time.perf_counter() - started)
        return graph

    repo = TimedRepository(store, timings)
    kbuild.extract_file, kbuild.document_graph = timed_extract, timed_map  # type: ignore[assignment]
    try:
        report = kbuild.build([folder], repo, jobs=1)  # in this process: timed per document
    finally:
        kbuild.extract_file, kbuild.document_graph = extract, mapper  # type: ignore[assignment]
    return repo, report, timings


def extraction_check(plans: list[PlanSpec], docs: dict[str, PlanDocument]) -> list[str]:
    """Where the extracted identity or lineage differs from what the generator wrote."""
    problems: Counter[str] = Counter()
    examples: dict[str, str] = {}

    def note(key: str, example: str) -> None:
        problems[key] += 1
        examples.setdefault(key, example)

    for spec in plans:
        doc = docs[spec.file_name]
        ident = doc.ident
        if ident.number != spec.number:
            note(f"{spec.kind}: number", f"{spec.number} read as {ident.number}")
        if ident.date != spec.date:
            note(f"{spec.kind}: date", f"{spec.number} {spec.date} read as {ident.date}")
        if ident.province != spec.province:
            note(f"{spec.kind}: province", f"{spec.number} ({spec.province}) read as "
                                           f"{ident.province!r}")
        issuer = ident.issuer.canonical if ident.issuer else None
        if not issuer or not issuer.startswith(spec.issuer.split(" tỉnh")[0][:12]):
            note(f"{spec.kind}: issuer", f"{spec.number} by {spec.issuer} read as {issuer!r}")
        implemented = {r.target.number for r in doc.references if r.relation.value == "implements"}
        if spec.parent not in implemented:
            note(f"{spec.kind}: implements", f"{spec.number} should carry out {spec.parent}; "
                                             f"read {sorted(n or '?' for n in implemented)}")
        for line in doc.stated_lineage:
            if line.subject == spec.directive:
                note(f"{spec.kind}: reversed stated lineage",
                     f"{spec.number} states {line.subject} implements {line.object}")
        for ref in doc.references:
            if ref.target.number == spec.directive and ref.target.date is None:
                note(f"{spec.kind}: directive cited without its date",
                     f"{spec.number} cites {spec.directive} with no date (IRI without year)")
    return [f"{n:5d} × {key}  e.g. {examples[key]}" for key, n in sorted(problems.items())]


@dataclass
class EngineRun:
    """What one engine did with the queries: load time, run times, row counts, last rows."""

    load: float | None = None
    times: RunTimes = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    results: dict[str, list[list[str | None]]] = field(default_factory=dict)


def engine_times(engine: str, source: Path, queries: list[tuple[str, str]], runs: int,
                 timeout: float) -> EngineRun:
    """Run each query ``runs`` times on one engine in a child; a run over ``timeout`` stops it."""
    out = EngineRun()
    todo = list(queries)
    while todo:
        payload = json.dumps([(name, sparql, runs) for name, sparql in todo])
        child = subprocess.Popen([sys.executable, "-c", _CHILD, engine, str(source), payload],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        deadline = time.monotonic() + max(900.0, timeout)  # the load gets its own budget
        while todo:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([child.stdout], [], [], max(0.0, remaining))
            if not ready:
                name = todo.pop(0)[0]
                out.times[name] = f"> {timeout:g} s"
                break
            line = child.stdout.readline()
            if not line:
                todo = []
                break
            event = json.loads(line)
            if "load" in event:
                out.load = event["load"]
            else:
                name = event["query"]
                done = out.times.setdefault(name, [])
                assert isinstance(done, list)
                done.append(event["seconds"])
                out.rows[name] = event["rows"]
                if "result" in event:
                    out.results[name] = event["result"]
                    todo = [q for q in todo if q[0] != name]
            deadline = time.monotonic() + timeout
        child.kill()
        child.wait()
    return out


def lineage_check(variables: list[str], rows: list[list[str | None]],
                  plans: list[PlanSpec]) -> list[str]:
    """Does implementers(28-CT/TW) return every plan carrying it out, at its shortest depth?"""
    found: dict[tuple[str, str | None], set[int]] = {}
    for row in rows:
        record = dict(zip(variables, row, strict=True))
        key = (record["number"] or "", record["province"])
        found.setdefault(key, set()).add(int(record["depth"] or 0))
    expected = [p for p in plans if p.directive == "28-CT/TW"]
    returned = {number for number, _ in found}
    missing = [p for p in expected if p.number not in returned]
    wrong = [p for p in expected if (p.number, p.province) in found
             and min(found[(p.number, p.province)]) != p.depth]
    extra = sum(len(d) - 1 for d in found.values())
    return [
        f"plans carrying out 28-CT/TW: {len(expected)} generated, {len(expected) - len(missing)}"
        f" returned, {len(missing)} missing, {len(wrong)} at a wrong shortest depth",
        f"rows: {len(rows)}; plans returned at more than one depth: "
        f"{sum(1 for d in found.values() if len(d) > 1)} ({extra} extra depth values)",
    ]


def stage_times(plans: list[PlanSpec], work: Path) -> None:
    """CPU per document of each build stage, the old engine beside the new one."""
    from rdflib import Dataset, Graph
    from rdflib.namespace import NamespaceManager

    from kgraph.analysis.audit import SourceDocument
    from kgraph.analysis.audit_index import audit_document
    from kgraph.analysis.shacl_compiled import Workspace
    from kgraph.analysis.validation import validate_document, validate_graph
    from kgraph.graph.mapping import document_graph
    from kgraph.graph.vocab import PREFIXES
    from kgraph.ingest.extract import extract_file

    folder = work / "stages"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for spec in plans:
        files.append(folder / spec.file_name)
        files[-1].write_text(spec.text, encoding="utf-8")
    cpu: dict[str, float] = Counter()
    same_results = same_quads = 0
    workspace = Workspace()

    def timed(name: str, work: object) -> object:
        started = time.process_time()
        value = work()  # type: ignore[operator]
        cpu[name] += time.process_time() - started
        return value

    for file in files:
        doc = timed("extract", lambda f=file: extract_file(f))
        mapped = timed("map", lambda d=doc: document_graph(d))
        ntriples = timed("N-Triples", mapped.to_ntriples)
        graph = timed("rdflib Graph (old mapping output)", lambda m=mapped: m.graph)
        reference = timed("SHACL: pySHACL", lambda g=graph: validate_graph(g))
        workspace.load(ntriples)
        compiled = timed("SHACL: compiled shapes", lambda m=mapped: validate_document(
            m.triples, m.index, workspace))
        same_results += compiled.results == reference.results
        source = SourceDocument(str(mapped.document), str(mapped.name), doc.ident.number or "")
        timed("audit findings + coverage", lambda m=mapped, s=source, t=ntriples, v=compiled:
              audit_document(s, m.triples, m.index, t, v, workspace))

        def rdflib_trig(m: object = mapped) -> str:
            dataset = Dataset()
            dataset.namespace_manager = NamespaceManager(Graph())
            for prefix, ns in PREFIXES.items():
                dataset.bind(prefix, ns)
            named = dataset.graph(m.name)  # type: ignore[attr-defined]
            for triple in sorted(m.triples):  # type: ignore[attr-defined]
                named.add(triple)
            return dataset.serialize(format="trig")

        old_trig = timed("TriG: rdflib", rdflib_trig)
        new_trig = timed("TriG: Oxigraph", mapped.to_trig)
        same_quads += (set(Dataset().parse(data=old_trig, format="trig").quads())
                       == set(Dataset().parse(data=new_trig, format="trig").quads()))
    n = len(files)
    print(f"CPU per document over {n} plans (ms):")
    for name, seconds in cpu.items():
        print(f"  {name:<36}{seconds / n * 1e3:>9.1f}")
    for old, new in (("SHACL: pySHACL", "SHACL: compiled shapes"),
                     ("TriG: rdflib", "TriG: Oxigraph")):
        print(f"  {old} / {new}: {cpu[old] / max(cpu[new], 1e-9):.1f}×")
    print(f"identical SHACL results: {same_results}/{n}; identical TriG quads: {same_quads}/{n}")
    build = ("extract", "map", "N-Triples", "SHACL: compiled shapes", "audit findings + coverage")
    print(f"the build's work per document now: {sum(cpu[k] for k in build) / n * 1e3:.1f} ms "
          f"CPU (+ TriG {cpu['TriG: Oxigraph'] / n * 1e3:.1f} ms when written)")


def bulk_load_time(nquads: Path, folder: Path) -> tuple[int, float]:
    """Quads and seconds of pyoxigraph's ``bulk_load`` of an N-Quads file into an empty store
    on disk, flushed and closed (the baseline of the build's own store writes)."""
    store = ox.Store(str(folder))
    started = time.perf_counter()
    store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    store.flush()
    quads = len(store)
    del store
    return quads, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (median)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds one rdflib query run may take before it is stopped")
    parser.add_argument("--preamble-gap", action="store_true", default=None,
                        help="always a blank line between trích yếu and preamble (seeds "
                             "000-003 layout); default mixes it with seed 004's layout")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep corpus and store here (default: a temporary folder)")
    parser.add_argument("--stages", type=int, default=0, metavar="N",
                        help="time each build stage on N plans (old and new engines) and stop")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kgraph-bench-") as tmp:
        work = args.workdir or Path(tmp)
        if args.stages:
            stage_times(generate_plans(args.stages, args.seed), work)
            return
        corpus, store = work / "corpus", work / "store"
        started = time.perf_counter()
        plans = generate_plans(args.plans, args.seed, preamble_gap=args.preamble_gap)
        corpus.mkdir(parents=True, exist_ok=True)
        for spec in plans:
            (corpus / spec.file_name).write_text(spec.text, encoding="utf-8")
        layout = "always a blank line" if args.preamble_gap else "mixed"
        kinds = dict(Counter(p.kind for p in plans))
        print(f"corpus: {len(plans)} plans ({layout} before the preamble), {kinds}, "
              f"{sum(len(p.text) for p in plans) / 1e6:.1f} MB, written in "
              f"{time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        repo, report, timings = timed_build(corpus, store)
        total = time.perf_counter() - started
        timings.load = timings.load or report.load_seconds  # bulk loads into a new version
        quads = len(repo)
        print(f"build(): {len(report.documents)} documents in {total:.1f} s; "
              f"extract+map per document: median {statistics.median(timings.per_doc) * 1e3:.1f} ms,"
              f" total {sum(timings.per_doc):.1f} s")
        print(f"store load: {quads} quads in {timings.load:.2f} s = "
              f"{quads / timings.load:,.0f} quads/s; document triples {report.triples}")

        print("extraction vs generator metadata (what the extractor reads differently):")
        for line in extraction_check(plans, timings.docs) or ["  none"]:
            print("  " + line)

        rendered = {name: load_query(name).render(params) for name, params in QUERIES.items()}
        nquads = work / "dump.nq"
        repo.native.dump(str(nquads), ox.RdfFormat.N_QUADS)
        bulk_quads, bulk_seconds = bulk_load_time(nquads, work / "bulk-store")
        build_rate = report.load_quads / max(report.load_seconds, 1e-9)
        bulk_rate = bulk_quads / max(bulk_seconds, 1e-9)
        print(f"store writes, side by side: the build {report.load_quads:,} quads in "
              f"{report.load_seconds:.2f} s = {build_rate:,.0f} quads/s; pyoxigraph bulk_load "
              f"of the same {bulk_quads:,} quads into an empty store {bulk_seconds:.2f} s = "
              f"{bulk_rate:,.0f} quads/s; ratio {build_rate / bulk_rate:.2f} (target >= 0.5); "
              f"load average {os.getloadavg()[0]:.1f}")
        version = repo.path or store  # the version folder the child opens read-only
        del repo
        gc.collect()
        print(f"queries: {args.runs} runs each, one child process per engine, time limit "
              f"{args.timeout:g} s per run ...", flush=True)
        ox_run = engine_times("oxigraph", version, list(rendered.items()), args.runs,
                              args.timeout)
        rd_run = engine_times("rdflib", nquads, list(rendered.items()), args.runs, args.timeout)
        print(f"open/load before querying: oxigraph {ox_run.load or 0:.2f} s, "
              f"rdflib Dataset {rd_run.load or 0:.1f} s")
        select = re.search(r"^SELECT DISTINCT (.*)$", load_query("implementers").text, re.M)
        assert select is not None
        variables = select.group(1).replace("?", "").split()
        for engine, run in (("Oxigraph", ox_run), ("rdflib", rd_run)):
            if "implementers" in run.results:
                print(f"lineage check, implementers(28-CT/TW) on {engine}:")
                for line in lineage_check(variables, run.results["implementers"], plans):
                    print("  " + line)

        print()
        print(f"{'query (28-CT/TW)':<18}{'oxigraph':>12}{'rdflib':>12}{'ratio':>9}"
              f"{'rows ox':>9}{'rows rdflib':>13}  agree")
        for name in rendered:
            cells, medians = [], []
            for run in (ox_run, rd_run):
                value = run.times.get(name, "n/a")
                if isinstance(value, list):
                    medians.append(statistics.median(value))
                    cells.append(f"{medians[-1] * 1e3:.1f} ms")
                else:
                    medians.append(float(value.split()[1]) if value.startswith(">") else None)
                    cells.append(value)
            ox_t, rd_t = medians
            if ox_t is None or rd_t is None or not isinstance(ox_run.times.get(name), list):
                ratio = "n/a"
            else:
                ratio = f"{'> ' if not isinstance(rd_run.times.get(name), list) else ''}" \
                        f"{rd_t / ox_t:.1f}×"
            ox_rows, rd_rows = ox_run.rows.get(name), rd_run.rows.get(name)
            complete = isinstance(ox_run.times.get(name), list) and isinstance(
                rd_run.times.get(name), list)
            agree = ("yes" if ox_rows == rd_rows else "NO") if complete else "?"
            print(f"{name:<18}{cells[0]:>12}{cells[1]:>12}{ratio:>9}"
                  f"{'-' if ox_rows is None else ox_rows:>9}"
                  f"{'-' if rd_rows is None else rd_rows:>13}  {agree}")
        print(f"({args.runs} runs each, median; {len(plans)} plans, {quads} quads, "
              f"Python {sys.version.split()[0]}, pyoxigraph {ox.__version__}, "
              f"{os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
