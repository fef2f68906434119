"""The whole dataset as one file: every named graph (documents, ontology, reference list).

``kgraph dump`` and ``/download/kgraph.trig`` use it. The embedded store writes its quads
directly (no row cap, no CONSTRUCT, named graphs kept); a remote store is read graph by graph
with ``CONSTRUCT ... WHERE { GRAPH <g> {...} }`` so that each triple stays in its graph.
"""

from __future__ import annotations

from typing import IO, Literal

import pyoxigraph as ox

from kgraph.errors import KgraphError
from kgraph.graph.vocab import PREFIXES
from kgraph.store.embedded import Repository

DumpFormat = Literal["trig", "nquads"]
FORMATS: dict[str, tuple[ox.RdfFormat, str]] = {  # name -> (pyoxigraph format, media type)
    "trig": (ox.RdfFormat.TRIG, "application/trig"),
    "nquads": (ox.RdfFormat.N_QUADS, "application/n-quads"),
}


def dump_dataset(repository: Repository, output: IO[bytes], format: str = "trig") -> None:
    """Write every quad of ``repository`` to ``output`` as TriG (with prefixes) or N-Quads."""
    if format not in FORMATS:
        raise KgraphError(f"unknown dump format {format!r}; use one of {', '.join(FORMATS)}")
    rdf_format = FORMATS[format][0]
    prefixes = dict(PREFIXES) if format == "trig" else None
    native = getattr(repository, "native", None)
    if isinstance(native, ox.Store):
        native.dump(output, rdf_format, prefixes=prefixes)
        return
    store = ox.Store()
    for name in repository.graph_names():
        graph = ox.NamedNode(name)
        answer = repository.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}")
        text = "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in answer.triples)
        store.load(text.encode("utf-8"), ox.RdfFormat.N_TRIPLES, to_graph=graph)
    store.dump(output, rdf_format, prefixes=prefixes)
