"""The graphs kgraph ships: its ontology and the reference list of agencies and provinces."""

from __future__ import annotations

import functools
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import SKOS

from kgraph.graph.vocab import ID, KG
from kgraph.paths import resource_dir

ONTOLOGY_GRAPH = str(ID["graph/ontology"])
REFERENCE_GRAPH = str(ID["graph/reference"])


def turtle_folder(folder: Path) -> Graph:
    graph = Graph()
    for file in sorted(folder.glob("*.ttl")):
        graph.parse(file, format="turtle")
    return graph


@functools.cache
def shipped_doctypes() -> frozenset[str]:
    """IRIs of the document-type concepts the ontology ships (labelled there, once)."""
    graph = Graph().parse(resource_dir("ontology") / "doctypes.ttl", format="turtle")
    return frozenset(str(s) for s in graph.subjects(SKOS.inScheme, KG.DocumentTypes))


def as_ntriples(graph: Graph) -> str:
    """Canonical N-Triples (escaped, one triple a line, lines sorted: diff-able, deterministic).

    Lines are split at "\n" only: N-Triples ends each triple with it and escapes it inside
    literals, but leaves form feed, U+0085, U+2028 and U+2029 as they are, and
    ``str.splitlines()`` would cut a literal at each of them.
    """
    lines = graph.serialize(format="nt", encoding="utf-8").decode("utf-8").split("\n")
    return "".join(f"{line}\n" for line in sorted(filter(None, lines)))


def resource_graphs() -> dict[str, str]:
    """Ontology and reference list, each in a named graph of its own (IRI -> N-Triples)."""
    return {
        ONTOLOGY_GRAPH: as_ntriples(turtle_folder(resource_dir("ontology"))),
        REFERENCE_GRAPH: as_ntriples(turtle_folder(resource_dir("reference"))),
    }
