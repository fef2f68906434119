"""The graphs kgraph ships: its ontology and the reference list of agencies and provinces."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pyoxigraph
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


REFERENCE_LIST_FILES = ("agencies.ttl", "provinces.ttl")  # what the matcher reads


def turtle_folder_ntriples(folder: Path, names: tuple[str, ...] | None = None) -> str:
    """Canonical N-Triples of a folder of Turtle files without blank nodes, parsed by Oxigraph.

    The reference graph (every body of every province, the change events) is some 60,000 triples:
    rdflib takes seconds over it, Oxigraph's parser a fraction of one. ``names`` picks files.
    """
    lines: set[str] = set()
    for file in sorted(folder.glob("*.ttl")):
        if names is not None and file.name not in names:
            continue
        for triple in pyoxigraph.parse(path=str(file), format=pyoxigraph.RdfFormat.TURTLE):
            lines.add(f"{triple.subject} {triple.predicate} {triple.object} .")
    return "".join(f"{line}\n" for line in sorted(lines))


CONTENT_DIGEST = str(KG.contentDigest)


def with_digest(name: str, ntriples: str) -> str:
    """A shipped graph stating its own digest, so a build can skip reloading it unchanged."""
    digest = hashlib.sha256(ntriples.encode("utf-8")).hexdigest()[:32]
    return f'{ntriples}<{name}> <{CONTENT_DIGEST}> "{digest}" .\n'


def digest_of(ntriples: str) -> str | None:
    """The digest a shipped graph's N-Triples state (its last line), if any."""
    tail = ntriples.rstrip("\n").rsplit("\n", 1)[-1]
    if f"<{CONTENT_DIGEST}>" not in tail:
        return None
    return tail.rsplit('"', 2)[-2]


@functools.cache
def _resource_graphs() -> tuple[tuple[str, str], ...]:
    return (
        (ONTOLOGY_GRAPH, with_digest(ONTOLOGY_GRAPH,
                                     as_ntriples(turtle_folder(resource_dir("ontology"))))),
        (REFERENCE_GRAPH, with_digest(REFERENCE_GRAPH,
                                      turtle_folder_ntriples(resource_dir("reference")))),
    )


def resource_graphs(*, bodies: bool = True) -> dict[str, str]:
    """Ontology and reference graph, each in a named graph of its own (IRI -> N-Triples).

    ``bodies=False`` ships only the reference list (templates and provinces, no per-province
    bodies or change events): for engines too slow for the whole graph (the rdflib baseline).
    """
    if not bodies:
        lean = turtle_folder_ntriples(resource_dir("reference"), REFERENCE_LIST_FILES)
        return {ONTOLOGY_GRAPH: dict(_resource_graphs())[ONTOLOGY_GRAPH],
                REFERENCE_GRAPH: with_digest(REFERENCE_GRAPH, lean)}
    return dict(_resource_graphs())
