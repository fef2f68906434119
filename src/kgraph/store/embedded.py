"""Storage behind one repository interface.

The embedded, persistent Oxigraph store is the default; tests swap in an in-memory one (the
same class with no path). Every write replaces whole named graphs inside one SPARQL update,
which Oxigraph applies as a single transaction: a build either lands completely or not at all.
Queries see the union of all named graphs as their default graph, so analysts need no GRAPH
clause unless they ask "who says so".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal as TypingLiteral
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from kgraph.errors import StoreError

ResultKind = TypingLiteral["select", "ask", "graph"]


@dataclass
class QueryResult:
    """Backend-neutral result: rows of rdflib terms (None where unbound), a boolean or triples."""

    kind: ResultKind
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Identifier | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[tuple[Identifier, Identifier, Identifier]] = field(default_factory=list)

    def records(self) -> list[dict[str, str | None]]:
        """Rows as plain dicts of strings (for JSON, CSV and tables)."""
        return [
            {v: (None if t is None else str(t)) for v, t in zip(self.variables, row, strict=True)}
            for row in self.rows
        ]


class Repository(Protocol):
    """What kgraph needs from a triple store."""

    def query(self, sparql: str) -> QueryResult: ...

    def replace_graphs(self, graphs: Mapping[str, str]) -> None:
        """Atomically replace each named graph (IRI -> N-Triples text)."""

    def drop_graphs(self, names: Iterable[str]) -> None: ...

    def graph_names(self) -> list[str]: ...

    def __len__(self) -> int: ...


def to_rdflib(term: object) -> Identifier | None:
    """Convert a pyoxigraph term to its rdflib twin."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unsupported term {term!r}")


def to_query_result(result: object) -> QueryResult:
    """A pyoxigraph answer (boolean, solutions or triples) as a backend-neutral result."""
    if isinstance(result, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = [tuple(to_rdflib(solution[v]) for v in variables) for solution in result]
        return QueryResult("select", variables=variables, rows=rows)
    triples = [
        (to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
        for t in result  # type: ignore[attr-defined]
    ]
    return QueryResult("graph", triples=triples)  # type: ignore[arg-type]


def replace_graphs_update(graphs: Mapping[str, str]) -> str:
    """One SPARQL update that drops and refills each graph (one transaction)."""
    parts = []
    for name, ntriples in graphs.items():
        parts.append(f"DROP SILENT GRAPH <{name}>")
        if ntriples.strip():
            parts.append(f"INSERT DATA {{ GRAPH <{name}> {{\n{ntriples}}} }}")
    return " ;\n".join(parts)


class OxigraphRepository:
    """Embedded Oxigraph store: persistent in a directory, or in memory when no path is given."""

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = path
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open store at {path}: {exc}") from exc

    @property
    def native(self) -> ox.Store:
        """The pyoxigraph store, for callers that stream results in its own formats."""
        return self._store

    def query(self, sparql: str) -> QueryResult:
        return to_query_result(self._store.query(sparql, use_default_graph_as_union=True))

    def replace_graphs(self, graphs: Mapping[str, str]) -> None:
        if graphs:
            self._store.update(replace_graphs_update(graphs))
            self._store.flush()

    def drop_graphs(self, names: Iterable[str]) -> None:
        update = " ;\n".join(f"DROP SILENT GRAPH <{n}>" for n in names)
        if update:
            self._store.update(update)

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def __len__(self) -> int:
        return len(self._store)


def open_repository(location: str | Path | None, *, read_only: bool = False) -> Repository:
    """Open the store a user names: a directory (embedded Oxigraph), an http(s) SPARQL
    endpoint (remote store) or None for memory."""
    if location is None:
        return OxigraphRepository(None)
    if str(location).startswith(("http://", "https://")):
        from kgraph.store.remote import RemoteRepository

        return RemoteRepository.from_url(str(location))
    return OxigraphRepository(Path(location), read_only=read_only)
