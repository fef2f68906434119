"""A store behind the SPARQL 1.1 Protocol (Oxigraph server, Fuseki, GraphDB, ...).

``open_repository("http://host:port")`` returns a :class:`RemoteRepository`, so the CLI and the
web app work unchanged over an external server. Writes replace whole named graphs in *one*
SPARQL UPDATE request, which servers apply as a single transaction (the same guarantee as the
embedded store). Without an update URL, the Graph Store Protocol is used instead (one PUT per
graph, which is not atomic across graphs).

kgraph queries expect the union of the named graphs as default graph. Oxigraph server does that
per request with the ``union-default-graph`` parameter, sent by default; other servers need the
equivalent server-side setting (e.g. Fuseki's ``tdb2:unionDefaultGraph``) and
``union_parameter=False``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox

from kgraph.errors import StoreError
from kgraph.store.embedded import QueryResult, replace_graphs_update, to_query_result

ACCEPT = (
    "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8"
)
RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "text/csv": ox.QueryResultsFormat.CSV,
}
GRAPH_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


def parse_response(content_type: str, body: bytes) -> Any:
    """A SPARQL protocol response as pyoxigraph objects (solutions, boolean or triples)."""
    media = content_type.split(";")[0].strip().lower()
    if media in RESULT_TYPES:
        return ox.parse_query_results(body, format=RESULT_TYPES[media])
    if media in GRAPH_TYPES:
        return [q.triple for q in ox.parse(body, format=GRAPH_TYPES[media])]
    raise StoreError(f"remote store answered with unsupported content type {content_type!r}")


class RemoteRepository:
    """Repository over HTTP: query, update and (optionally) Graph Store Protocol URLs."""

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        gsp_url: str | None = None,
        *,
        timeout: float = 60.0,
        union_parameter: bool = True,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self.timeout = timeout
        self.union_parameter = union_parameter

    @classmethod
    def from_url(cls, url: str) -> RemoteRepository:
        """A server root (``http://host:7878``) means Oxigraph's /query, /update and /store;
        any other URL is one SPARQL endpoint used for both queries and updates."""
        url = url.rstrip("/")
        if urlsplit(url).path in ("", "/"):
            return cls(f"{url}/query", f"{url}/update", f"{url}/store")
        return cls(url, url)

    def query_params(self) -> dict[str, str]:
        return {"union-default-graph": ""} if self.union_parameter else {}

    def raw_query(
        self, sparql: str, *, accept: str = ACCEPT, extra: list[tuple[str, str]] | None = None
    ) -> httpx.Response:
        """POST a query (form-encoded, as the protocol allows for any length)."""
        params: list[tuple[str, str]] = list(extra or [])
        if not any(k in ("default-graph-uri", "named-graph-uri") for k, _ in params):
            params += list(self.query_params().items())
        try:
            response = httpx.post(
                self.query_url, params=params, data={"query": sparql},
                headers={"Accept": accept}, timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise StoreError(f"remote store {self.query_url} unreachable: {exc}") from exc
        if response.status_code == 400:
            raise SyntaxError(response.text.strip())
        if response.status_code >= 300:
            raise StoreError(
                f"remote store {self.query_url} answered {response.status_code}: "
                f"{response.text.strip()[:300]}"
            )
        return response

    def query(self, sparql: str) -> QueryResult:
        response = self.raw_query(sparql)
        return to_query_result(
            parse_response(response.headers.get("content-type", ""), response.content)
        )

    def update(self, sparql: str) -> None:
        """Send one SPARQL UPDATE request (one transaction on the server)."""
        if self.update_url is None:
            raise StoreError("this remote store has no update URL")
        try:
            response = httpx.post(
                self.update_url, content=sparql.encode("utf-8"),
                headers={"Content-Type": "application/sparql-update"}, timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise StoreError(f"remote store {self.update_url} unreachable: {exc}") from exc
        if response.status_code >= 300:
            raise StoreError(
                f"remote update failed with {response.status_code}: {response.text.strip()[:300]}"
            )

    def replace_graphs(self, graphs: Mapping[str, str]) -> None:
        if not graphs:
            return
        if self.update_url is not None:
            self.update(replace_graphs_update(graphs))
            return
        if self.gsp_url is None:
            raise StoreError("this remote store has neither an update nor a graph store URL")
        for name, ntriples in graphs.items():
            response = httpx.put(
                self.gsp_url, params={"graph": name}, content=ntriples.encode("utf-8"),
                headers={"Content-Type": "application/n-triples"}, timeout=self.timeout,
            )
            if response.status_code >= 300:
                raise StoreError(f"graph store PUT <{name}> failed: {response.status_code}")

    def drop_graphs(self, names: Iterable[str]) -> None:
        update = " ;\n".join(f"DROP SILENT GRAPH <{n}>" for n in names)
        if update:
            self.update(update)

    def graph_names(self) -> list[str]:
        result = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(str(row[0]) for row in result.rows if row[0] is not None)

    def __len__(self) -> int:
        result = self.query(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
        )
        return int(result.rows[0][0]) if result.rows and result.rows[0][0] is not None else 0
