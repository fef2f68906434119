"""A store behind the SPARQL 1.1 Protocol (Oxigraph server, Virtuoso, Jena Fuseki, GraphDB, ...).

``open_repository("http://host:port/...")`` returns a :class:`RemoteRepository`, so the CLI and
the web app work unchanged over an external server (``docs/production-store.md``).

Writes replace whole named graphs. A replacement that fits in one request
(:attr:`RemoteRepository.max_update_bytes`) is one SPARQL UPDATE, which servers apply as one
transaction. A larger one (a build, the 60,000-triple reference graph) would exceed what some
servers parse in one request (Virtuoso's SPARQL compiler runs out of memory near 1 MB), so it is
written in chunks into *staging* graphs nobody queries, and only then switched over the live
graphs in one final request (drop, copy, drop): readers see the old graphs or the new ones, and
a failure while staging leaves the live graphs as they were.

kgraph's queries expect the union of the named graphs as the default graph. Oxigraph server
does that per request with the ``union-default-graph`` parameter; Virtuoso does it by default
(its own system graphs are left out of the graph list, see :data:`VIRTUOSO_SYSTEM_GRAPHS`);
Fuseki needs ``tdb2:unionDefaultGraph true`` on its dataset. The server is recognised once, from
its ``Server`` header.

Credentials (Virtuoso's ``/sparql-auth``, a Fuseki behind a proxy, ...) come from the URL
(``http://user:password@host/...``) or from ``KGRAPH_STORE_USER`` and
``KGRAPH_STORE_PASSWORD``; HTTP Basic or Digest, whichever the server asks for.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import uuid
from collections.abc import Generator, Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox
from rdflib import XSD, Literal

from kgraph.errors import StoreError
from kgraph.store.embedded import (
    QueryResult,
    plain_values,
    replace_graphs_update,
    to_query_result,
)

ACCEPT = (
    "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8"
)
# CONSTRUCT and DESCRIBE ask for triples only: Virtuoso answers them in the first type a
# client accepts, and as sparql-results+json that is a table of ?s ?p ?o, not a graph.
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9"
_FORM = re.compile(
    r"^\s*(?:(?:PREFIX\s+[^\s:]*:\s*<[^>]*>|BASE\s*<[^>]*>|#[^\n]*|define\s+\S+\s+\S+)\s*)*"
    r"(\w+)", re.IGNORECASE)
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
# A query written one step a level (queries/README.md: each level a SELECT DISTINCT of the
# level inside it joined to one pattern) carries this comment. Virtuoso's optimiser flattens the
# levels and reorders them: for `implementers` of 28-CT/TW at 20,000 plans it started from every
# document number and read 400 million index entries in 10 s without an answer; asked to keep
# the written order, 0.16 s for the same levels. Other engines ignore the comment.
IN_ORDER = "# kgraph: steps in the order written"
VIRTUOSO_IN_ORDER = 'DEFINE sql:select-option "order"\n'
# Graphs a Virtuoso holds for itself (its RDF views, the LDP vocabulary, its service
# description): left out of the graph list and the size; KGRAPH_STORE_EXCLUDE_GRAPHS adds
# more (space-separated). kgraph's queries name kgraph's own terms, so these few thousand
# triples in Virtuoso's default union change no answer (tests/test_external_stores.py).
VIRTUOSO_SYSTEM_GRAPHS = (
    "http://www.openlinksw.com/schemas/virtrdf#",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/sparql",
)
# One request's SPARQL UPDATE text: Virtuoso's SPARQL compiler runs out of memory near 1 MB
# (error SP030), other servers take a whole build's graphs (fewer, larger transactions are
# much faster on Jena TDB2: some 0.1 s per write transaction).
VIRTUOSO_UPDATE_BYTES = 256 * 1024
VIRTUOSO_SWITCH_GRAPHS = 25  # graphs switched from staging per request on Virtuoso
MAX_UPDATE_BYTES = 64 * 1024 * 1024
STAGING = "urn:kgraph:staging:"  # prefix of the graphs a large replacement is written into
# One triple that changes with every write by kgraph: the store's version token (derived data,
# e.g. the explorer's lineage graph, is kept per version). Left out of the graph list and size.
VERSION_GRAPH = "urn:kgraph:store-version"


# A field of Virtuoso's CSV answer: a quoted string ("" for a quote inside, line breaks kept) or
# an unquoted value (empty when unbound), then the separator.
_CSV_FIELD = re.compile(r'(?:"([^"]*(?:""[^"]*)*)"|([^,"\n]*))(,|\n|\Z)')
# An unquoted value of Virtuoso's CSV that is what its JSON answer says (tested per datatype
# kgraph stores, tests/test_external_stores.py): a number (integer, decimal, double: the same
# digits) or a date or time (as stored: "Z" where JSON says "+00:00"). A stored xsd:boolean is
# written 1 or 0 too: see RemoteRepository.records.
CSV_EXACT = re.compile(
    r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
    r"|-?\d{4,}-\d\d-\d\d(?:T\d\d:\d\d:\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?")


def virtuoso_csv(text: str) -> tuple[list[str], list[list[tuple[str, bool]]]]:
    """Virtuoso's CSV answer: the variables and each row's (value, quoted) pairs. Virtuoso
    quotes every IRI and string (an empty string is ``""``), writes numbers, booleans (1, 0),
    dates and blank nodes unquoted, and an unbound value as nothing. ValueError when the text
    is not written so."""
    rows: list[list[tuple[str, bool]]] = []
    row: list[tuple[str, bool]] = []
    end, at = len(text), 0
    for match in _CSV_FIELD.finditer(text):
        if match.start() == end:
            break
        if match.start() != at:
            raise ValueError(f"not Virtuoso's CSV near {text[at:at + 40]!r}")
        at = match.end()
        quoted, plain, separator = match.groups()
        row.append((quoted.replace('""', '"'), True) if quoted is not None else (plain, False))
        if separator != ",":
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    header = rows.pop(0) if rows else []
    return [name for name, _ in header], rows


def accept_for(sparql: str) -> str:
    """The Accept header for a query: triples only for CONSTRUCT and DESCRIBE."""
    form = _FORM.match(sparql)
    graph = form is not None and form.group(1).upper() in ("CONSTRUCT", "DESCRIBE")
    return GRAPH_ACCEPT if graph else ACCEPT


def parse_response(content_type: str, body: bytes) -> Any:
    """A SPARQL protocol response as pyoxigraph objects (solutions, boolean or triples)."""
    media = content_type.split(";")[0].strip().lower()
    if media in RESULT_TYPES:
        return ox.parse_query_results(body, format=RESULT_TYPES[media])
    if media in GRAPH_TYPES:
        return [q.triple for q in ox.parse(body, format=GRAPH_TYPES[media])]
    raise StoreError(f"remote store answered with unsupported content type {content_type!r}")


class TypeGuessed(StoreError):
    """Virtuoso's Graph Store took N-Triples for another type (it sniffs, whatever the
    Content-Type says)."""


def canonical_booleans(result: QueryResult) -> QueryResult:
    """Stored xsd:boolean values in their canonical form: Virtuoso answers ``"1"`` and ``"0"``
    (valid lexical forms of the same values), and kgraph reads ``"true"``. (Booleans a query
    *computes* come back from Virtuoso as xsd:integer 1 and 0, which no client can tell from
    numbers: see docs/production-store.md.)"""
    def fix(term: Any) -> Any:
        if isinstance(term, Literal) and term.datatype == XSD.boolean and str(term) in ("0", "1"):
            return Literal("true" if str(term) == "1" else "false", datatype=XSD.boolean)
        return term

    if result.kind == "select":
        result.rows = [tuple(fix(t) for t in row) for row in result.rows]
    elif result.kind == "graph":
        result.triples = [(s, p, fix(o)) for s, p, o in result.triples]
    return result


class ChallengeAuth(httpx.Auth):
    """HTTP Basic or Digest, as the server's 401 challenge asks (Virtuoso: Digest)."""

    def __init__(self, user: str, password: str) -> None:
        self.basic = httpx.BasicAuth(user, password)
        self.digest = httpx.DigestAuth(user, password)
        self.scheme: str | None = None  # learnt from the first challenge

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.scheme == "basic":
            yield from self.basic.auth_flow(request)
            return
        if self.scheme == "digest":
            yield from self.digest.auth_flow(request)
            return
        response = yield request
        challenge = response.headers.get("www-authenticate", "").lower()
        if response.status_code != 401 or not challenge:
            return
        self.scheme = "digest" if "digest" in challenge else "basic"
        # Digest asks again for a fresh challenge (once per repository): simpler than
        # reaching into httpx's DigestAuth, and the nonce is then reused.
        yield from (self.digest if self.scheme == "digest" else self.basic).auth_flow(request)


def credentials_from(url: str) -> tuple[str, httpx.Auth | None]:
    """The URL without its user:password part, and an auth for them (or for
    KGRAPH_STORE_USER / KGRAPH_STORE_PASSWORD)."""
    parts = urlsplit(url)
    user, password = parts.username, parts.password
    if user is not None:
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    else:
        user = os.environ.get("KGRAPH_STORE_USER") or None
        password = os.environ.get("KGRAPH_STORE_PASSWORD")
    if user is None:
        return url, None
    return url, ChallengeAuth(unquote(user), unquote(password or ""))


class RemoteRepository:
    """Repository over HTTP: query, update and (optionally) Graph Store Protocol URLs."""

    # sent SPARQL 1.1 only: Virtuoso has no LATERAL, so /sparql refuses it for a remote
    # store and the named queries run their portable texts there
    takes_lateral = False

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        gsp_url: str | None = None,
        *,
        timeout: float = 60.0,
        union_parameter: bool | None = None,
        auth: httpx.Auth | None = None,
        max_update_bytes: int | None = None,
        exclude_graphs: Iterable[str] = (),
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self.timeout = timeout
        self.auth = auth
        limit = os.environ.get("KGRAPH_STORE_UPDATE_BYTES")
        self._max_update_bytes = int(limit) if limit else max_update_bytes
        self._union_parameter = union_parameter
        self._exclude = tuple(exclude_graphs) + tuple(
            os.environ.get("KGRAPH_STORE_EXCLUDE_GRAPHS", "").split())
        self._server: str | None = None  # the Server header, once known
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> RemoteRepository:
        """A server root (``http://host:7878``) means Oxigraph's /query, /update and /store;
        any other URL is one SPARQL endpoint used for both queries and updates
        (``KGRAPH_STORE_UPDATE_URL`` names another one for updates)."""
        url, auth = credentials_from(url.rstrip("/"))
        timeout = float(os.environ.get("KGRAPH_STORE_TIMEOUT", "60"))
        update = os.environ.get("KGRAPH_STORE_UPDATE_URL") or None
        if urlsplit(url).path in ("", "/"):
            return cls(f"{url}/query", update or f"{url}/update", f"{url}/store",
                       auth=auth, timeout=timeout)
        return cls(url, update or url, auth=auth, timeout=timeout)

    # ------------------------------------------------------------------ the server

    @property
    def client(self) -> httpx.Client:
        """One connection pool per repository (keep-alive; Digest nonces reused)."""
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(auth=self.auth, timeout=self.timeout)
            return self._client

    @property
    def server(self) -> str:
        """The server's ``Server`` header (asked once with ``ASK {}``), lower-cased."""
        if self._server is None:
            try:
                response = self.client.post(self.query_url, data={"query": "ASK {}"},
                                            headers={"Accept": ACCEPT})
            except httpx.HTTPError as exc:
                raise StoreError(f"remote store {self.query_url} unreachable: {exc}") from exc
            self._server = response.headers.get("server", "").lower()
        return self._server

    @property
    def is_virtuoso(self) -> bool:
        return self.server.startswith("virtuoso")

    @property
    def union_parameter(self) -> bool:
        """Send Oxigraph's ``union-default-graph``: to Oxigraph and to servers not recognised
        (which ignore it); Virtuoso and Jena/Fuseki set the union on the server side."""
        if self._union_parameter is None:
            self._union_parameter = not (self.is_virtuoso or "jena" in self.server)
        return self._union_parameter

    @property
    def excluded_graphs(self) -> tuple[str, ...]:
        """Graphs the server holds for itself, left out of every answer."""
        return (VIRTUOSO_SYSTEM_GRAPHS if self.is_virtuoso else ()) + self._exclude

    @property
    def max_update_bytes(self) -> int:
        """The largest SPARQL UPDATE sent in one request (larger replacements are staged)."""
        if self._max_update_bytes is None:
            self._max_update_bytes = (VIRTUOSO_UPDATE_BYTES if self.is_virtuoso
                                      else MAX_UPDATE_BYTES)
        return self._max_update_bytes

    def prepare(self, sparql: str) -> str:
        """The query as sent: unchanged (Virtuoso's ``define input:*-graph-exclude`` pragmas
        would hide its system graphs, but 7.2.5 then answers ``GRAPH <iri>`` wrongly), but for
        a query marked :data:`IN_ORDER`, which Virtuoso is asked to join in the order written."""
        if self.is_virtuoso and IN_ORDER in sparql and sparql.lstrip()[:6].upper() != "DEFINE":
            return VIRTUOSO_IN_ORDER + sparql
        return sparql

    def query_params(self) -> dict[str, str]:
        return {"union-default-graph": ""} if self.union_parameter else {}

    # ------------------------------------------------------------------ queries

    def raw_query(
        self, sparql: str, *, accept: str = ACCEPT, extra: list[tuple[str, str]] | None = None
    ) -> httpx.Response:
        """POST a query (form-encoded, as the protocol allows for any length)."""
        params: list[tuple[str, str]] = list(extra or [])
        if not any(k in ("default-graph-uri", "named-graph-uri") for k, _ in params):
            params += list(self.query_params().items())
        try:
            response = self.client.post(
                self.query_url, params=params, data={"query": self.prepare(sparql)},
                headers={"Accept": accept},
            )
        except httpx.HTTPError as exc:
            raise StoreError(f"remote store {self.query_url} unreachable: {exc}") from exc
        if response.status_code == 400 or (
                response.status_code == 500 and self.is_virtuoso
                and "SPARQL compiler" in response.text):
            raise SyntaxError(response.text.strip())
        if response.status_code >= 300:
            raise StoreError(
                f"remote store {self.query_url} answered {response.status_code}: "
                f"{response.text.strip()[:300]}"
            )
        if "x-sql-state" in response.headers:  # Virtuoso's "anytime" answer: cut short
            raise StoreError(
                f"remote store {self.query_url} answered only part of the query "
                f"({response.headers['x-sql-state']}: {response.headers.get('x-sql-message', '')}"
                "); raise its MaxQueryExecutionTime")
        return response

    def query(self, sparql: str) -> QueryResult:
        response = self.raw_query(sparql, accept=accept_for(sparql))
        return canonical_booleans(to_query_result(
            parse_response(response.headers.get("content-type", ""), response.content)
        ))

    def plain_rows(self, sparql: str) -> tuple[list[str], list[tuple[str | None, ...]]]:
        """A SELECT answer as plain values (a term's lexical form or IRI), None for an unbound
        value *or an empty string*: for callers that know each column's kind of term (on
        Virtuoso a boolean is 1 or 0 here).

        Virtuoso is asked for CSV (:func:`virtuoso_csv`): its JSON writer escapes every
        non-ASCII character and took 1.6-2.1 s for the 8.7 MB of a directive's coverage at
        2,000 plans where its CSV (the same values, 3.1 MB) took 0.3 s. Other servers answer
        as :meth:`query`."""
        if self.is_virtuoso:
            try:
                variables, rows = virtuoso_csv(self._csv(sparql))
            except ValueError:
                pass
            else:
                return variables, [tuple(v or None for v, _ in row) for row in rows]
        result = self.query(sparql)
        return result.variables, plain_values(result)

    def records(self, sparql: str) -> list[dict[str, str | None]]:
        """``query(sparql).records()`` (each value's string, None where unbound), from
        Virtuoso's CSV in one request: its JSON writer escapes every non-ASCII character (the
        explorer's agents at 20,000 plans: 35 MB of JSON in 8.5 s, 20 MB of CSV in 1.9 s).

        CSV quotes every IRI and string and writes numbers and dates unquoted, each as the
        JSON answer's value (:data:`CSV_EXACT`), but for a *stored* ``xsd:boolean``, which it
        writes 1 or 0 like an integer: a query read here selects a stored boolean as
        ``STR(?b)`` ("true" or "false" on every store, quoted). (A boolean the query computes
        is the integer 1 or 0 in Virtuoso's JSON too.) Any other unquoted value (a blank
        node) makes it ask for the JSON answer."""
        form = _FORM.match(sparql)
        if not self.is_virtuoso or form is None or form.group(1).upper() != "SELECT":
            return self.query(sparql).records()
        try:
            variables, rows = virtuoso_csv(self._csv(sparql))
        except ValueError:
            return self.query(sparql).records()
        if any(not quoted and value and not CSV_EXACT.fullmatch(value)
               for row in rows for value, quoted in row):
            return self.query(sparql).records()
        return [{name: value if quoted or value else None
                 for name, (value, quoted) in zip(variables, row, strict=True)}
                for row in rows]

    def _csv(self, sparql: str) -> str:
        response = self.raw_query(sparql, accept="text/csv")
        if response.headers.get("content-type", "").split(";")[0].strip() != "text/csv":
            raise StoreError(f"remote store {self.query_url} answered "
                             f"{response.headers.get('content-type')!r} to a CSV request")
        return response.content.decode("utf-8")

    # ------------------------------------------------------------------ updates

    def update(self, sparql: str) -> None:
        """Send one SPARQL UPDATE request (one transaction on the server)."""
        if self.update_url is None:
            raise StoreError("this remote store has no update URL")
        try:
            response = self.client.post(
                self.update_url, content=sparql.encode("utf-8"),
                headers={"Content-Type": "application/sparql-update"},
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
            whole = replace_graphs_update(graphs)
            if len(whole.encode("utf-8")) <= self.max_update_bytes:
                self.update(whole)
            else:
                self._replace_staged(graphs)
        elif self.gsp_url is None:
            raise StoreError("this remote store has neither an update nor a graph store URL")
        else:
            for name, ntriples in graphs.items():
                self._put(self.gsp_url, name, ntriples)
        self.stamp()

    def stamp(self) -> None:
        """A new version token, written *after* the data (what was derived from the new data
        under the old token is recomputed; the reverse would keep old answers). Also to be
        called once after the server's own bulk loader filled the store: without a token the
        version is the store's size, one COUNT over every quad per page request."""
        triple = (f'<{VERSION_GRAPH}> <http://purl.org/dc/terms/identifier> '
                  f'"{uuid.uuid4().hex}" .\n')
        if self.update_url is not None:
            self.update(f"DROP SILENT GRAPH <{VERSION_GRAPH}> ;\n"
                        f"INSERT DATA {{ GRAPH <{VERSION_GRAPH}> {{ {triple}}} }}")
        elif self.gsp_url is not None:
            self._put(self.gsp_url, VERSION_GRAPH, triple)

    def stamped(self) -> bool:
        """Whether kgraph wrote a version token (not so on a server its own loader filled)."""
        rows = self.query(f"SELECT ?v WHERE {{ GRAPH <{VERSION_GRAPH}> {{ ?s ?p ?v }} }}").rows
        return bool(rows) and rows[0][0] is not None

    def version(self) -> str:
        """What changes whenever kgraph writes (the key of data derived from the store, e.g. the
        explorer's lineage): the token of :data:`VERSION_GRAPH`, or the size for a store
        kgraph never wrote. One small query."""
        rows = self.query(f"SELECT ?v WHERE {{ GRAPH <{VERSION_GRAPH}> {{ ?s ?p ?v }} }}").rows
        token = str(rows[0][0]) if rows and rows[0][0] is not None else f"size-{len(self)}"
        return f"{self.query_url}:{token}:0"

    def _put(self, store: str, name: str, ntriples: str) -> None:
        """Replace one graph with the Graph Store Protocol (HTTP PUT of N-Triples)."""
        try:
            response = self.client.put(
                store, params={"graph": name}, content=ntriples.encode("utf-8"),
                headers={"Content-Type": "application/n-triples"},
            )
        except httpx.HTTPError as exc:
            raise StoreError(f"remote store {store} unreachable: {exc}") from exc
        if response.status_code >= 300:
            text = " ".join(re.sub(r"<[^>]*>", " ", response.text).split())
            error = (TypeGuessed if "unsupported type" in text else StoreError)
            raise error(f"graph store PUT <{name}> failed with {response.status_code}: "
                        f"{text[:300]}")

    @property
    def staging_store_url(self) -> str | None:
        """Where staging graphs are written with the Graph Store Protocol, if anywhere: on
        Virtuoso its ``/sparql-graph-crud(-auth)`` beside the SPARQL endpoint (its bulk parser:
        some 10x the rate of INSERT DATA requests, which it must compile), else the store's
        own Graph Store URL."""
        if self.is_virtuoso and self.update_url is not None:
            root, _, endpoint = self.update_url.rpartition("/")
            secure = endpoint.endswith("-auth")
            return f"{root}/sparql-graph-crud{'-auth' if secure else ''}"
        return self.gsp_url

    def _replace_staged(self, graphs: Mapping[str, str]) -> None:
        """Write the graphs into staging graphs (requests packed up to ``max_update_bytes``),
        then switch them over the live ones; on failure the staging graphs are dropped.

        The switch is one request unless it is itself larger than ``max_update_bytes``: then a
        failure part-way leaves the graphs already switched new and the others as they were,
        and running the build again finishes it. On Virtuoso, more than 25 graphs are replaced
        one request each (see :meth:`_replace_one`)."""
        store = self.staging_store_url
        if self.is_virtuoso and store is not None and len(graphs) > VIRTUOSO_SWITCH_GRAPHS:
            # The switch could not be one request anyway: each graph is replaced by its own
            # request instead (a PUT, or staging + MOVE), which is what the switch would
            # guarantee per graph, without copying every graph twice (3x faster).
            for name, ntriples in graphs.items():
                self._replace_one(store, name, ntriples)
            return
        run = uuid.uuid4().hex
        staged = {name: f"{STAGING}{run}:{index}"
                  for index, (name, text) in enumerate(graphs.items()) if text.strip()}
        try:
            if store is not None:  # the Graph Store Protocol: the server's own parser
                for name, graph in staged.items():
                    try:
                        self._put(store, graph, graphs[name])
                    except TypeGuessed:
                        # Virtuoso guesses the type of what it is sent and takes a graph
                        # whose first lines hold a long text for "text/plain": UPDATE then
                        for body in self._packed([(graph, graphs[name])]):
                            self.update(f"INSERT DATA {{\n{body}}}")
            else:
                for body in self._packed((staged[n], t) for n, t in graphs.items()
                                         if n in staged):
                    self.update(f"INSERT DATA {{\n{body}}}")
        except BaseException:
            self._drop_quietly(staged.values())
            raise
        # MOVE spelt out: Jena 4.5 refuses MOVE from a graph made in an earlier request
        # ("Invalid source target for operation"), and every server runs these three; Virtuoso
        # moves 4x faster than it copies, so there MOVE it is.
        switch = []
        for name in graphs:
            steps = [f"DROP SILENT GRAPH <{name}>"]
            if name in staged and self.is_virtuoso:
                steps = [f"MOVE SILENT GRAPH <{staged[name]}> TO GRAPH <{name}>"]
            elif name in staged:
                steps += [f"INSERT {{ GRAPH <{name}> {{ ?s ?p ?o }} }} "
                          f"WHERE {{ GRAPH <{staged[name]}> {{ ?s ?p ?o }} }}",
                          f"DROP SILENT GRAPH <{staged[name]}>"]
            switch.append(" ;\n".join(steps))
        try:
            for request in self._batched(switch):
                self.update(request)
        except BaseException:
            self._drop_quietly(staged.values())
            raise

    def _replace_one(self, store: str, name: str, ntriples: str) -> None:
        """One graph replaced in one request: a Graph Store PUT, or (when Virtuoso takes it
        for text) staged with UPDATE requests and moved over in one."""
        if not ntriples.strip():
            self.update(f"DROP SILENT GRAPH <{name}>")
            return
        try:
            self._put(store, name, ntriples)
            return
        except TypeGuessed:
            pass
        staging = f"{STAGING}{uuid.uuid4().hex}:0"
        try:
            for body in self._packed([(staging, ntriples)]):
                self.update(f"INSERT DATA {{\n{body}}}")
            self.update(f"MOVE SILENT GRAPH <{staging}> TO GRAPH <{name}>")
        except BaseException:
            self._drop_quietly([staging])
            raise

    def _batched(self, statements: Iterable[str]) -> Iterable[str]:
        """Update statements joined into requests of at most ``max_update_bytes`` (and, on
        Virtuoso, :data:`VIRTUOSO_SWITCH_GRAPHS` graphs: its SQL compiler refuses more
        ``INSERT ... WHERE`` in one request, "SQ156 Query too large")."""
        limit = VIRTUOSO_SWITCH_GRAPHS if self.is_virtuoso else None
        batch: list[str] = []
        size = 0
        for statement in statements:
            length = len(statement.encode("utf-8")) + 3
            if batch and (size + length > self.max_update_bytes
                          or (limit is not None and len(batch) >= limit)):
                yield " ;\n".join(batch)
                batch, size = [], 0
            batch.append(statement)
            size += length
        if batch:
            yield " ;\n".join(batch)

    def _packed(self, graphs: Iterable[tuple[str, str]]) -> Iterable[str]:
        """``GRAPH <g> { ... }`` blocks of N-Triples lines, packed into request bodies of at
        most ``max_update_bytes`` (a line is never cut; small graphs share a request).

        A blank node label names one node within one request only, so a graph's lines with
        blank nodes all go into one block, whatever its size."""
        budget = max(self.max_update_bytes - 200, 1)
        body: list[str] = []
        size = 0

        def block(graph: str, lines: list[str]) -> str:
            return f"GRAPH <{graph}> {{\n{''.join(lines)}}}\n"

        for graph, ntriples in graphs:
            lines: list[str] = []
            blank: list[str] = []
            overhead = len(graph) + 16
            for line in ntriples.splitlines(keepends=True):
                line = line if line.endswith("\n") else line + "\n"
                if "_:" in line:
                    blank.append(line)
                    continue
                length = len(line.encode("utf-8"))
                if size + overhead + length > budget and (lines or body):
                    if lines:
                        body.append(block(graph, lines))
                    yield "".join(body)
                    body, lines, size = [], [], 0
                lines.append(line)
                size += length
            if lines:
                body.append(block(graph, lines))
                size += overhead
            if blank:
                if body:
                    yield "".join(body)
                    body, size = [], 0
                yield block(graph, blank)
        if body:
            yield "".join(body)

    def _drop_quietly(self, names: Iterable[str]) -> None:
        # the original error matters more; leftover staging graphs are named as such
        with contextlib.suppress(StoreError):
            self.drop_graphs(names)

    def drop_graphs(self, names: Iterable[str]) -> None:
        update = " ;\n".join(f"DROP SILENT GRAPH <{n}>" for n in names)
        if update:
            self.update(update)
            self.stamp()

    # ------------------------------------------------------------------ what it holds

    def graph_names(self) -> list[str]:
        """The named graphs (kgraph's own, not the server's). ``GROUP BY ?g`` rather than
        ``SELECT DISTINCT ?g``: Virtuoso answers the grouping from its graph index, but the
        DISTINCT by reading every quad (6 M quads: over 300 s against 2.5 s)."""
        result = self.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        excluded = {*self.excluded_graphs, VERSION_GRAPH}
        return sorted(
            str(row[0]) for row in result.rows
            if row[0] is not None and str(row[0]) not in excluded
            and not str(row[0]).startswith(STAGING)
        )

    def __len__(self) -> int:
        excluded = ", ".join(f"<{g}>" for g in (*self.excluded_graphs, VERSION_GRAPH))
        keep = f"FILTER(?g NOT IN ({excluded}))"
        result = self.query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {keep} }}"
        )
        return int(result.rows[0][0]) if result.rows and result.rows[0][0] is not None else 0

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
