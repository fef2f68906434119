"""The graphs kgraph ships: its ontology and the reference list of agencies and provinces."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from kgraph.paths import resource_dir
from kgraph.vocab import ID

ONTOLOGY_GRAPH = str(ID["graph/ontology"])
REFERENCE_GRAPH = str(ID["graph/reference"])


def turtle_folder(folder: Path) -> Graph:
    graph = Graph()
    for file in sorted(folder.glob("*.ttl")):
        graph.parse(file, format="turtle")
    return graph


def as_ntriples(graph: Graph) -> str:
    """Canonical N-Triples (escaped, one triple a line, lines sorted: diff-able, deterministic)."""
    lines = graph.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines()
    return "".join(f"{line}\n" for line in sorted(filter(None, lines)))


def resource_graphs() -> dict[str, str]:
    """Ontology and reference list, each in a named graph of its own (IRI -> N-Triples)."""
    return {
        ONTOLOGY_GRAPH: as_ntriples(turtle_folder(resource_dir("ontology"))),
        REFERENCE_GRAPH: as_ntriples(turtle_folder(resource_dir("reference"))),
    }
