"""Running SPARQL with a real timeout: queries execute in forked worker processes.

pyoxigraph cannot interrupt a query that is running in a thread, so a runaway query would hold
a thread (and CPU) forever. Instead the server keeps a small pool of worker *processes*, forked
from the server with the 'fork' start method:

* an in-memory store is inherited copy-on-write, so the workers see the loaded data for free;
* an on-disk store is reopened by each worker with ``Store.read_only(path)`` (a RocksDB handle
  must not be used across ``fork``);
* any other :class:`~kgraph.store.embedded.Repository` (e.g. rdflib for the benchmark) is
  inherited and
  queried through its ``query()`` method.

A request borrows an idle worker, sends it a :class:`Job` over a pipe and waits at most the
query timeout. On timeout the worker is killed (SIGKILL frees its CPU and memory at once) and a
fresh one is forked in its place; the client gets 503. Other requests keep being served by the
other workers meanwhile. Waiting for a free worker counts against the same timeout.

Updates (only with a write token) run in an update worker too, under the same timeout, into
a new store version nobody reads yet; the version becomes current in one step and the query
workers of the old one are replaced (see :meth:`WorkerPool.update`).

Workers also serialise the results (:class:`Answer`): pyoxigraph writes them as TSV /
N-Triples (one row or triple per line, lossless), which are counted against ``max_rows`` and
rendered batch by batch in the negotiated format against ``max_bytes``. A short answer comes
back whole (a truncated one carries ``X-Kgraph-Truncated: true``); a long one is streamed
(:class:`StreamHead`, chunks, :class:`StreamTail`; server side :class:`Stream`).

Pages run their own SPARQL here too, through :func:`pooled_repository`.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import multiprocessing
import os
import pickle
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pyoxigraph as ox
from rdflib import Literal
from starlette.requests import Request

from kgraph.analysis.queries import NamedQuery
from kgraph.errors import StoreError
from kgraph.store.embedded import (
    OxigraphRepository,
    QueryResult,
    Repository,
    to_query_result,
)
from kgraph.web import kept_requests, safety, sandbox
from kgraph.web.sandbox import SandboxStatus
from kgraph.web.update_worker import check_update, die_with_parent, limit_memory

if TYPE_CHECKING:
    from kgraph.store.remote import RemoteRepository

log = logging.getLogger("kgraph.web.workers")
RF = ox.QueryResultsFormat
GF = ox.RdfFormat

UNPICKLE_IN_THREAD = 1_000_000  # bytes: a larger answer is unpickled off the event loop


@dataclass(frozen=True)
class ResultFormat:
    """A negotiated serialisation: its media type and pyoxigraph format."""

    name: str
    media_type: str
    native: Any  # ox.QueryResultsFormat or ox.RdfFormat


TABULAR = [
    ResultFormat("json", "application/sparql-results+json", RF.JSON),
    ResultFormat("xml", "application/sparql-results+xml", RF.XML),
    ResultFormat("csv", "text/csv", RF.CSV),
    ResultFormat("tsv", "text/tab-separated-values", RF.TSV),
]
GRAPH = [
    ResultFormat("turtle", "text/turtle", GF.TURTLE),
    ResultFormat("ntriples", "application/n-triples", GF.N_TRIPLES),
    ResultFormat("rdfxml", "application/rdf+xml", GF.RDF_XML),
    ResultFormat("jsonld", "application/ld+json", GF.JSON_LD),
    ResultFormat("trig", "application/trig", GF.TRIG),
    ResultFormat("nquads", "application/n-quads", GF.N_QUADS),
]
ALIASES = {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "srj": "json",
    "srx": "xml",
    "ttl": "turtle",
    "nt": "ntriples",
    "text/plain": "ntriples",
    "rdf": "rdfxml",
    "json-ld": "jsonld",
    "nq": "nquads",
    "text/n3": "turtle",
}
GRAPH_ALIASES = {
    "json": "jsonld",
    "xml": "rdfxml",
    "application/json": "jsonld",
    "application/xml": "rdfxml",
    "text/xml": "rdfxml",
}


class NotAcceptable(ValueError):
    """The client asked (via ``format``) for a serialisation this result kind does not have."""


def _lookup(name: str, graph: bool) -> ResultFormat | None:
    name = name.strip().lower()
    if graph:
        name = GRAPH_ALIASES.get(name, name)
    name = ALIASES.get(name, name)
    for fmt in GRAPH if graph else TABULAR:
        if name in (fmt.name, fmt.media_type):
            return fmt
    return None


def negotiate(graph: bool, accept: str | None, format_param: str | None) -> ResultFormat:
    """Pick the result format: the ``format`` parameter wins, then Accept, then the default."""
    choices = GRAPH if graph else TABULAR
    if format_param:
        found = _lookup(format_param, graph)
        if found is None:
            names = ", ".join(f.name for f in choices)
            raise NotAcceptable(
                f"format {format_param!r} is not available here; use one of {names}"
            )
        return found
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept or "").split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                with contextlib.suppress(ValueError):
                    quality = float(value)
        if media and quality > 0:
            ranked.append((-quality, position, media.lower()))
    for _, _, media in sorted(ranked):
        if media in ("*/*", "application/*", "text/*"):
            prefix = media.split("/")[0]
            matching = [f for f in choices if prefix == "*" or f.media_type.startswith(prefix)]
            if matching:
                return matching[0]
            continue
        found = _lookup(media, graph)
        if found is not None:
            return found
    return choices[0]


@dataclass
class Job:
    """One query or update, as sent to a worker."""

    text: str
    update: bool = False
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    has_from: bool = False
    base_iri: str | None = None
    accept: str | None = None
    format_param: str | None = None
    max_rows: int = 10_000
    max_bytes: int = 32_000_000
    using: list[str] = field(default_factory=list)  # protocol using-graph-uri (updates)
    using_named: list[str] = field(default_factory=list)
    check: bool = True  # False only where a test proves that the sandbox holds on its own
    internal: bool = False  # a page's own query: answered as a QueryResult, not serialised
    in_copy: bool = False  # in-memory updates: apply to the worker's copy, send it back
    stream_after: int | None = None  # answers longer than this are streamed (None: never)
    # named queries (their text as this store runs it) whose kept answer may stand for this
    # request's (kgraph.web.kept_requests): none when the protocol names the dataset
    kept: tuple[NamedQuery, ...] = ()


@dataclass
class Outcome:
    """What a worker answers: a serialised body or an error message with its HTTP status."""

    status: int
    body: bytes = b""
    media_type: str = "text/plain; charset=utf-8"
    truncated: bool = False
    rows: int | None = None
    seconds: float = 0.0
    truncated_by: str | None = None  # "rows" or "bytes"
    headers: dict[str, str] = field(default_factory=dict)
    result: QueryResult | None = None  # internal queries (Job.internal)
    graphs: list[str] | None = None  # in-memory updates: every named graph, empty ones too
    stream: Stream | Replay | None = None  # a streamed answer's body (server side)
    kept: tuple[str, dict[str, str]] | None = None  # the request is this named query's text
    # with these values (Job.kept): the server answers it from the query's kept answer

    @classmethod
    def error(cls, status: int, message: str, headers: dict[str, str] | None = None) -> Outcome:
        return cls(status, message.encode("utf-8"), headers=headers or {})


class _Full(Exception):
    """Raised inside a serialiser once the answer has reached a cap."""


# Formats with a comment syntax: a streamed answer cut at a cap ends with a comment saying so
COMMENTS: dict[str, tuple[bytes, bytes]] = {
    "xml": (b"<!-- ", b" -->\n"),
    "rdfxml": (b"\n<!-- ", b" -->\n"),
    "turtle": (b"# ", b"\n"),
    "trig": (b"# ", b"\n"),
    "ntriples": (b"# ", b"\n"),
    "nquads": (b"# ", b"\n"),
}
SEPARATORS = {"json": b",", "jsonld": b","}  # between the rows of two rendered batches
MARKER_ROOM = 256  # bytes kept free under the cap for the closing comment
CHUNK = 256 * 1024  # bytes per message of a streamed answer
BATCH = 64 * 1024  # bytes of TSV / N-Triples lines rendered at once


def truncation_marker(fmt_name: str, reason: str, detail: str = "") -> bytes:
    """The closing comment of a streamed answer that was cut (formats in :data:`COMMENTS`):
    ``kgraph: truncated-by=bytes; ...`` in the format's own comment syntax."""
    opening, closing = COMMENTS[fmt_name]
    why = {"rows": "the row cap", "bytes": "the answer's byte cap",
           "timeout": "the query timeout", "error": "a failure of the query worker"}[reason]
    text = f"kgraph: truncated-by={reason}; the answer was cut at {why}{detail}"
    return opening + text.replace("--", "- -").encode("utf-8") + closing


@dataclass
class StreamHead:
    """First message of an answer too large to send whole: the body follows in ``bytes``
    messages, then a :class:`StreamTail`. ``decided``: the whole answer was serialised before
    the first byte (formats without comments), so ``truncated_by`` and ``rows`` are final and
    go into the headers; otherwise a cut is told by a closing comment and ``suffix`` is what
    closes the document if the worker dies mid-stream."""

    media_type: str
    fmt: str
    decided: bool
    truncated_by: str | None = None
    rows: int | None = None
    suffix: bytes = b""


@dataclass
class StreamTail:
    """Last message of a streamed answer: the worker closed the document itself."""

    rows: int
    truncated_by: str | None
    seconds: float = 0.0


def _common_prefix(a: bytes, b: bytes) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class Answer:
    """A file-like sink for pyoxigraph's line serialisers (TSV for solutions, N-Triples for
    triples) that renders the rows in the negotiated format batch by batch, with the row and
    byte caps, and sends them on as they are rendered.

    Rendering a batch gives a whole document; its rows are spliced between the document's
    fixed opening (``prefix``: JSON up to ``"bindings":[``, XML up to ``<results>``, the CSV
    header ...) and closing (``suffix``), so any number of batches makes one valid document,
    always cut at a whole row. An answer of at most ``stream_after`` bytes is returned whole
    (its truncation goes into the headers). A larger one is streamed through ``emit``: at once
    in formats that can end with a comment (XML, Turtle, N-Triples, ...: a cut is told there),
    otherwise only once it is complete in this worker (JSON, CSV, TSV, JSON-LD have no place
    for a flag after the first byte, so the flag must be known before it)."""

    def __init__(self, fmt: ResultFormat, tabular: bool, max_rows: int, max_bytes: int,
                 stream_after: float = float("inf"),
                 emit: Callable[[object], None] | None = None) -> None:
        self.fmt = fmt
        self.tabular = tabular
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.stream_after = stream_after
        self.emit = emit
        self.passthrough = fmt.native in (RF.TSV, GF.N_TRIPLES)
        self.can_mark = fmt.name in COMMENTS
        self.header: bytes | None = None if tabular else b""
        self.prefix: bytes | None = None
        self.suffix = b""
        self.partial = bytearray()
        self.rows = 0
        self.size = 0
        self.pieces: list[bytes] = []  # rendered, not yet sent
        self.opened = False
        self.streaming = False
        self.done = False
        self.truncated_by: str | None = None

    # -- the sink the serialiser writes into
    def write(self, data: bytes) -> int:
        if self.done:
            raise _Full
        room = self.max_bytes + 1 - len(self.partial)
        clipped = len(data) > room  # (one value of 400 MB comes in one write: never copied)
        self.partial += memoryview(data)[:room] if clipped else data
        if clipped or len(self.partial) >= BATCH:
            self._drain()
        if clipped or len(self.partial) > self.max_bytes:  # a row longer than the whole cap
            self._stop("bytes")
        if self.done:
            raise _Full
        return len(data)

    def flush(self) -> None:
        """Serialisers may flush; batches are rendered by size."""

    # -- rendering
    def _render(self, lines: bytes) -> bytes:
        if self.tabular:
            assert self.header is not None
            results = ox.parse_query_results(self.header + lines, format=RF.TSV)
            return results.serialize(format=self.fmt.native)
        parsed = ox.parse(lines, format=GF.N_TRIPLES)
        if self.fmt.native in (GF.TRIG, GF.N_QUADS):
            quads = [ox.Quad(q.subject, q.predicate, q.object) for q in parsed]
            return ox.serialize(quads, format=self.fmt.native)
        return ox.serialize([q.triple for q in parsed], format=self.fmt.native)

    def empty(self) -> bytes:
        """The document without rows."""
        if self.passthrough:
            return self.header or b""
        return self._render(b"")

    def _inner(self, lines: bytes) -> bytes:
        """The rows of ``lines`` as they appear inside the document."""
        if self.passthrough:
            if self.prefix is None:
                self.prefix = self.header or b""
            return lines
        doc = self._render(lines)
        if self.prefix is None:
            empty = self.empty()
            cut = _common_prefix(empty, doc)
            boundary = max(empty.rfind(b">", 0, cut), empty.rfind(b"[", 0, cut),
                           empty.rfind(b"\n", 0, cut))
            cut = boundary + 1 if boundary >= 0 else cut
            self.prefix, self.suffix = empty[:cut], empty[cut:]
        if not (doc.startswith(self.prefix) and doc.endswith(self.suffix)):
            raise ValueError(f"cannot splice {self.fmt.name} batches")
        return doc[len(self.prefix):len(doc) - len(self.suffix)]

    def _room(self) -> int:
        reserve = len(self.suffix) + (MARKER_ROOM if self.can_mark else 0)
        return self.max_bytes - reserve - self.size

    def _drain(self, final: bool = False) -> None:
        """Render the complete lines received so far (all of them when ``final``)."""
        end = len(self.partial) if final else self.partial.rfind(b"\n") + 1
        if end <= 0:
            return
        block = bytes(self.partial[:end])
        del self.partial[:end]
        if self.header is None:
            newline = block.find(b"\n")
            self.header, block = block[:newline + 1], block[newline + 1:]
        if len(block) > self.max_bytes:  # a write may bring one row longer than the cap
            start = 0
            while (newline := block.find(b"\n", start)) >= 0:
                if newline + 1 - start > self.max_bytes:
                    block = block[:start]
                    self._stop("bytes")
                    break
                start = newline + 1
        count = block.count(b"\n")
        if self.rows + count > self.max_rows:
            keep = self.max_rows - self.rows
            block = b"".join(block.splitlines(keepends=True)[:keep]) if keep else b""
            count = keep
            self._stop("rows")
        if count:
            self._add(block, count)

    def _add(self, block: bytes, count: int) -> None:
        inner = self._inner(block)
        separator = SEPARATORS.get(self.fmt.name, b"") if self.opened else b""
        opening = b"" if self.opened else (self.prefix or b"")
        if len(opening) + len(separator) + len(inner) <= self._room():
            self._put(opening + separator + inner)
            self.rows += count
            return
        lines = block.splitlines(keepends=True)
        fits, fails, best = 0, len(lines), b""
        while fails - fits > 1:  # the most rows of this batch that fit
            middle = (fits + fails) // 2
            candidate = self._inner(b"".join(lines[:middle]))
            if len(opening) + len(separator) + len(candidate) <= self._room():
                fits, best = middle, candidate
            else:
                fails = middle
        if fits:
            self._put(opening + separator + best)
            self.rows += fits
        self.done, self.truncated_by = True, "bytes"  # the binding cap, even past the row cap

    def _stop(self, reason: str) -> None:
        if not self.done:
            self.done = True
            self.truncated_by = reason

    # -- sending
    def _put(self, piece: bytes) -> None:
        self.opened = True
        self.size += len(piece)
        self.pieces.append(piece)
        if self.streaming:
            if sum(map(len, self.pieces)) >= CHUNK:
                self._send_pieces()
        elif self.emit is not None and self.can_mark and self.size > self.stream_after:
            self._start(decided=False)

    def _send_pieces(self, extra: bytes = b"") -> None:
        """Send what is rendered: whole pieces per message (each message ends at a row, so
        the server can close the document after any of them), about CHUNK bytes each."""
        assert self.emit is not None
        message: list[bytes] = []
        size = 0
        for piece in [*self.pieces, extra]:
            message.append(piece)
            size += len(piece)
            if size >= CHUNK:
                self.emit(b"".join(message))
                message, size = [], 0
        if size:
            self.emit(b"".join(message))
        self.pieces.clear()

    def _start(self, decided: bool) -> None:
        assert self.emit is not None
        self.emit(StreamHead(self.fmt.media_type, self.fmt.name, decided,
                             self.truncated_by if decided else None,
                             self.rows if decided else None, self.suffix))
        self.streaming = True

    def finish(self, started: float) -> Outcome | None:
        """After the serialiser returned (or stopped at a cap): the whole answer, or None
        when it went out as a stream (ended by a :class:`StreamTail`)."""
        if not self.done:
            self._drain(final=True)
        if not self.opened:
            body = self.empty()
            if len(body) > self.max_bytes:
                raise ValueError("the result's header alone is larger than the answer cap")
            self.pieces, self.suffix = [body], b""
        ending = self.suffix
        if self.streaming:
            if self.truncated_by:
                ending += truncation_marker(self.fmt.name, self.truncated_by,
                                            f" ({self.rows} rows sent)")
            self._send_pieces(ending)
            assert self.emit is not None
            self.emit(StreamTail(self.rows, self.truncated_by, time.perf_counter() - started))
            return None
        body = b"".join(self.pieces) + ending
        if self.emit is not None and len(body) > self.stream_after:
            self.pieces = [body[start:start + CHUNK] for start in range(0, len(body), CHUNK)]
            self._start(decided=True)
            self._send_pieces()
            self.emit(StreamTail(self.rows, self.truncated_by, time.perf_counter() - started))
            return None
        return Outcome(200, body, self.fmt.media_type, self.truncated_by is not None,
                       self.rows, truncated_by=self.truncated_by)


def _serialise(answer: Answer, write: Callable[[Answer], object]) -> None:
    try:
        write(answer)
    except _Full:
        pass
    except OSError:  # pyoxigraph wraps a writer's exception when it flushes
        if not answer.done:
            raise


def finalize(result: Any, job: Job, emit: Callable[[object], None] | None = None,
             stream_after: float = float("inf")) -> Outcome | None:
    """Serialise any pyoxigraph result object in the format the client negotiated, with the
    row and byte caps; None when the answer was streamed through ``emit``."""
    started = time.perf_counter()
    if isinstance(result, bool):  # from a generic repository: QueryBoolean has no constructor
        answer = b'{"head":{},"boolean":true}' if result else b'{"head":{},"boolean":false}'
        result = ox.parse_query_results(answer, format=RF.JSON)
    if isinstance(result, ox.QueryBoolean):
        fmt = negotiate(False, job.accept, job.format_param)
        return Outcome(200, result.serialize(format=fmt.native), fmt.media_type)
    tabular = isinstance(result, ox.QuerySolutions)
    sink = Answer(negotiate(not tabular, job.accept, job.format_param), tabular, job.max_rows,
                  job.max_bytes, stream_after, emit)
    if tabular:
        _serialise(sink, lambda out: result.serialize(out, format=RF.TSV))
    elif hasattr(result, "serialize"):
        _serialise(sink, lambda out: result.serialize(out, format=GF.N_TRIPLES))
    else:
        _serialise(sink, lambda out: ox.serialize(result, out, format=GF.N_TRIPLES))
    return sink.finish(started)


def _n3(term: Any) -> str:
    text = term.n3()
    return text.replace("\t", "\\t") if isinstance(term, Literal) else text


def result_to_native(result: QueryResult) -> Any:
    """Turn a backend-neutral QueryResult (e.g. from rdflib) into pyoxigraph objects."""
    if result.kind == "ask":
        return bool(result.boolean)
    if result.kind == "select":
        lines = ["\t".join(f"?{v}" for v in result.variables)]
        lines += ["\t".join("" if t is None else _n3(t) for t in row) for row in result.rows]
        return ox.parse_query_results(("\n".join(lines) + "\n").encode(), format=RF.TSV)
    text = "".join(f"{_n3(s)} {_n3(p)} {_n3(o)} .\n" for s, p, o in result.triples)
    return [q.triple for q in ox.parse(text.encode(), format=GF.N_TRIPLES)]


class _HeldGraphs:
    """Whether the engine holds a graph, asked of the store graph by graph: listing every
    named graph to check the one a FROM names scanned the store (0.3 s at 20,000 plans, on
    every such request). A remote store's list is read once, on the first question."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.listed: set[str] | None = None

    def __contains__(self, iri: object) -> bool:
        if isinstance(self.engine, ox.Store):
            try:
                return self.engine.contains_named_graph(ox.NamedNode(str(iri)))
            except ValueError:  # not an IRI: no graph of the store
                return False
        if self.listed is None:
            self.listed = set(self.engine.graph_names())
        return iri in self.listed


def takes_lateral(engine: Any) -> bool:
    """Whether the engine behind ``/sparql`` runs SEP-0006 ``LATERAL`` joins, so that the
    check lets them through: pyoxigraph does (the embedded store, and the named queries'
    Oxigraph texts); a remote store (Virtuoso has no LATERAL) or another repository says so
    with ``takes_lateral``, else it is sent SPARQL 1.1 only."""
    return isinstance(engine, ox.Store) or getattr(engine, "takes_lateral", False) is True


def prepare(engine: Any, job: Job, sandbox_status: SandboxStatus | None
            ) -> safety.Parsed | None:
    """The safety check, run in the worker inside the time budget; raises UnsafeRequest.
    Returns a query as it was read (None for an update).

    A worker that could not be sandboxed fails closed: it refuses any text that mentions
    SERVICE (or, for updates, LOAD) anywhere, even inside a string."""
    lateral = takes_lateral(engine)
    if job.update:
        job.text = check_update(job.text, job.using, job.using_named, sandbox_status, lateral)
        return None
    if sandbox_status is not None and not sandbox_status.isolated:
        folded = job.text.upper()
        for word in safety.QUERY_KEYWORDS:
            if word in folded:
                raise safety.UnsafeRequest(
                    f"this query worker has no network sandbox ({sandbox_status.reason}), so "
                    f"any request that mentions {word} is refused")
    parsed = safety.read_request(job.text, "query", job.base_iri, lateral)
    job.has_from = safety.check_dataset(parsed, lambda: _HeldGraphs(engine), job.default_graphs,
                                        job.named_graphs)
    return parsed


def kept_match(job: Job, parsed: safety.Parsed | None) -> Outcome | None:
    """After the checks: a request that is one of ``job.kept``'s texts with values bound is
    sent back to the server to be answered from the kept answer (never one with a dataset)."""
    if not job.kept or parsed is None or job.has_from or job.default_graphs or job.named_graphs:
        return None
    found = kept_requests.match(parsed, job.kept)
    return Outcome(200, kept=found) if found is not None else None


def execute(engine: Any, job: Job, sandbox_status: SandboxStatus | None = None,
            emit: Callable[[object], None] | None = None) -> Outcome | None:
    """Check a job, then evaluate it against a pyoxigraph store or a generic Repository.

    With ``emit`` (a worker's pipe) a long answer is streamed through it and None returned."""
    started = time.perf_counter()
    stream_after = float("inf") if emit is None or job.stream_after is None else job.stream_after
    try:
        parsed = prepare(engine, job, sandbox_status) if job.check else None
        matched = kept_match(job, parsed)
        if matched is not None:
            outcome = matched
        elif job.internal:
            outcome = Outcome(200, result=_internal_answer(engine, job))
        elif job.update and job.in_copy:
            outcome = apply_update(engine, job)
        elif isinstance(engine, ox.Store):
            if job.update:
                engine.update(job.text, base_iri=job.base_iri)
                outcome = Outcome(204)
            else:
                kwargs: dict[str, Any] = {"base_iri": job.base_iri}
                if job.default_graphs or job.named_graphs:
                    # protocol dataset: exactly the graphs named (SPARQL 1.1 Protocol 2.1.4)
                    kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
                    kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
                elif not job.has_from:
                    kwargs["use_default_graph_as_union"] = True
                outcome = finalize(engine.query(job.text, **kwargs), job, emit, stream_after)
        else:
            if job.update or job.default_graphs or job.named_graphs:
                return Outcome.error(400, "this store supports only plain queries")
            outcome = finalize(result_to_native(engine.query(job.text)), job, emit,
                               stream_after)
    except safety.UnsafeRequest as exc:
        return Outcome.error(400, f"refused: {exc}")
    except SyntaxError as exc:
        return Outcome.error(400, f"syntax error: {exc}")
    except NotAcceptable as exc:
        return Outcome.error(406, str(exc))
    except _Full:
        return Outcome.error(413, f"one row of the answer is larger than the {job.max_bytes}"
                                  " byte cap; select fewer or shorter values")
    except (ValueError, TypeError, LookupError) as exc:
        return Outcome.error(400, f"query error: {exc}")
    except Exception as exc:
        if _unknown_function(exc):
            return Outcome.error(400, f"query error: {exc}")
        return Outcome.error(500, f"evaluation failed: {type(exc).__name__}: {exc}")
    if outcome is not None:
        outcome.seconds = time.perf_counter() - started
    return outcome


def apply_update(engine: Any, job: Job) -> Outcome:
    """In memory: run an update in this worker's own copy-on-write copy of the store and send
    the whole result back as N-Quads (with every named graph, empty ones too). The served
    store is untouched until the server adopts the result, so a worker killed at the timeout
    changes nothing. (On disk the update runs in :mod:`kgraph.web.update_worker`.)"""
    if not isinstance(engine, ox.Store):
        return Outcome.error(400, "updates are not supported on this store")
    engine.update(job.text, base_iri=job.base_iri)
    graphs = [g.value for g in engine.named_graphs() if isinstance(g, ox.NamedNode)]
    return Outcome(204, engine.dump(format=GF.N_QUADS), graphs=graphs)


def _internal_answer(engine: Any, job: Job) -> QueryResult:
    """A page's query answered as the repository would answer it in the server process."""
    if isinstance(engine, ox.Store):
        return to_query_result(engine.query(job.text, base_iri=job.base_iri,
                                            use_default_graph_as_union=not job.has_from))
    return engine.query(job.text)


def _unknown_function(exc: Exception) -> bool:
    """pyoxigraph reports a call to a function it does not know as an evaluation error
    (``RuntimeError: The custom function <...> is not supported``): the client's mistake."""
    message = str(exc)
    return "custom function" in message and "is not supported" in message


# What a stopped query can do next (timeout, memory): the named queries' answers are kept per
# store version and paged, and their text for this store is one link away
NEXT_STEP = ("narrow it or add a LIMIT; a named query's answer is kept and paged at "
             "/api/queries/NAME (the text this store runs: /api/queries/NAME?format=sparql)")


def memory_budget(memory: int) -> str:
    """``the 2 GiB memory budget of a query worker`` (or no number when there is no limit)."""
    if memory <= 0:
        return "the memory a query worker may use"
    size = f"{memory / 1024**3:g} GiB" if memory >= 1024**3 else f"{memory / 1024**2:g} MiB"
    return f"the {size} memory budget of a query worker"


def _worker_main(conn: Connection, opener: Callable[[], Any], memory: int) -> None:
    """Worker loop: sandbox itself, open the engine, then answer jobs until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    faulthandler.disable()  # a worker aborted at its memory limit is reported as a 503
    die_with_parent()
    status = sandbox.install()
    if not status.isolated:
        log.warning("query worker %d has no network sandbox: %s; requests mentioning SERVICE "
                    "or LOAD are refused", multiprocessing.current_process().pid, status.reason)
    conn.send(status)
    engine = opener()
    limit_memory(memory)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            outcome = execute(engine, job, status, conn.send)
        except MemoryError:
            outcome = Outcome.error(503, f"query stopped: it needs more than "
                                         f"{memory_budget(memory)}; {NEXT_STEP}")
        if outcome is not None:  # None: streamed, ended by a StreamTail
            conn.send(outcome)


class UpdateProcess:
    """A fresh ``python -m kgraph.web.update_worker`` process (see that module: a forked
    RocksDB writer hangs) and the server's end of its socket."""

    def __init__(self, memory: int = 0) -> None:
        import kgraph

        parent, child = socket.socketpair()
        env = dict(os.environ)
        source = str(Path(kgraph.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kgraph.web.update_worker", str(child.fileno()),
             str(memory)], pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL)
        child.close()
        self.conn = Connection(parent.detach())

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.conn.close()


class Worker:
    """One forked process and the parent's end of its pipe."""

    def __init__(self, opener: Callable[[], Any], memory: int = 0, generation: int = 0) -> None:
        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, opener, memory),
                                       daemon=True)
        self.process.start()
        child.close()
        self.status: SandboxStatus | None = None
        self.niced = False
        self.generation = generation  # the store version it reads (WorkerPool.generation)
        # the same socket, for reading without a thread (Connection.recv blocks)
        self.sock = socket.socket(fileno=os.dup(self.conn.fileno()))

    def greet(self, timeout: float = 30) -> SandboxStatus:
        """The sandbox status the worker reports once it has started (blocking)."""
        if self.status is None:
            if not self.conn.poll(timeout):
                raise TimeoutError
            self.status = self.conn.recv()
        return self.status

    def call(self, job: Job, timeout: float) -> Outcome:
        """Send a job and wait for its answer (blocking; run in a thread)."""
        self.greet(timeout)
        self.conn.send(job)
        if not self.conn.poll(timeout):
            raise TimeoutError
        return self.conn.recv()

    def nice(self) -> None:
        """Lower this worker's CPU priority (a long query yields to short ones): nice 19 and,
        on Linux, SCHED_IDLE (CPU only when nothing else wants it; no privilege needed, and
        the worker is retired after its query, so it never needs to come back)."""
        pid = self.process.pid or 0
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, 19)
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        self.niced = True

    def reap(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)

    def kill(self) -> None:
        self.reap()
        self.conn.close()
        self.sock.close()


def engine_opener(repository: Repository) -> Callable[[], Any]:
    """How a worker reaches the data, evaluated in the worker right after the fork: the
    in-memory store as inherited, or the current on-disk version reopened read-only (a
    RocksDB handle must not cross a fork). The server process itself never opens the store
    for writing: updates write new versions in update workers."""
    if isinstance(repository, OxigraphRepository):
        if repository.root is None:
            return lambda: repository.native
        return lambda: ox.Store.read_only(str(repository.path))
    return lambda: repository


async def _read_exactly(sock: socket.socket, size: int, deadline: float) -> bytearray:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        try:
            count = sock.recv_into(view[got:], size - got, socket.MSG_DONTWAIT)
        except BlockingIOError:
            if not await _readable(sock, deadline - time.monotonic()):
                raise TimeoutError from None
            continue
        if count == 0:
            raise EOFError
        got += count
    return buffer


async def _receive(worker: Worker, deadline: float) -> Any:
    """One message from a worker (``Connection.recv`` framing), read on the event loop: no
    thread hop for the small answers most queries are; a large message is read as it
    arrives and unpickled in a thread."""
    header = await _read_exactly(worker.sock, 4, deadline)
    (size,) = struct.unpack("!i", header)
    if size == -1:
        (size,) = struct.unpack("!Q", await _read_exactly(worker.sock, 8, deadline))
    payload = await _read_exactly(worker.sock, size, deadline)
    if size > UNPICKLE_IN_THREAD:
        return await asyncio.to_thread(pickle.loads, payload)
    return pickle.loads(payload)


class StreamBroken(Exception):
    """A streamed answer whose headers promised it whole could not be finished (timeout, dead
    worker): the connection is closed without the last chunk, so the client sees a broken
    body rather than a short one."""


class Stream:
    """The rest of a streamed answer, read from its worker as the client takes it.

    The worker stays the request's until the stream ends; the query timeout still holds (a
    watchdog kills the worker at the deadline even while the client is not reading). An
    answer cut short by the timeout or a dead worker is closed with the format's suffix and a
    ``truncated-by`` comment, or, when its headers already said it was whole, broken off."""

    def __init__(self, pool: WorkerPool, worker: Worker, client: str, slow: bool,
                 head: StreamHead, deadline: float) -> None:
        self.pool = pool
        self.worker = worker
        self.client = client
        self.slow = slow
        self.head = head
        self.deadline = deadline
        self.finished = False
        self.killed = False
        loop = asyncio.get_running_loop()
        self.watchdog = loop.call_at(loop.time() + max(0.0, deadline - time.monotonic()) + 1,
                                     self.stop)

    def stop(self) -> None:
        """The deadline passed while the client was not reading: free the worker now (the
        pipe stays open until the response ends: it may still hold what the worker sent)."""
        if not self.finished:
            self.killed = True
            self.finish(False, close=False)

    def finish(self, healthy: bool, close: bool = True) -> None:
        if not self.finished:
            self.finished = True
            self.watchdog.cancel()
            self.pool._done(self.worker, self.client, self.slow, healthy, close)
        if close and self.killed:
            self.worker.conn.close()
            self.worker.sock.close()

    async def chunks(self, prefix: bytes = b"") -> AsyncIterator[bytes]:
        healthy = False
        reason = "error"
        try:
            if prefix:
                yield prefix
            while True:
                if self.finished:  # the watchdog took the worker back
                    reason = "timeout"
                    break
                try:
                    message = await _receive(self.worker, self.deadline)
                except TimeoutError:
                    reason = "timeout"
                    break
                except (EOFError, OSError):
                    break
                if isinstance(message, bytes):
                    yield message
                elif isinstance(message, StreamTail):
                    healthy = True
                    return
                else:  # an error the worker met mid-stream
                    log.warning("streamed answer ended by an error: %s", message)
                    break
            log.info("streamed answer cut: %s", reason)
            if self.head.decided:
                raise StreamBroken(reason)
            yield self.head.suffix + truncation_marker(self.head.fmt, reason)
        finally:
            self.finish(healthy)


class Replay:
    """A streamed answer written whole in the server process (a kept answer's: see
    :func:`written`): the messages a worker would have sent, replayed."""

    def __init__(self, head: StreamHead, pieces: list[bytes]) -> None:
        self.head = head
        self.pieces = pieces

    async def chunks(self, prefix: bytes = b"") -> AsyncIterator[bytes]:
        if prefix:
            yield prefix
        for piece in self.pieces:
            yield piece


def written(result: Any, job: Job, stream_after: int) -> Outcome:
    """An answer made in this process serialised as a worker serialises the engine's
    (:func:`finalize`: the negotiated format, the row and byte caps), and streamed as a
    worker streams it when it is longer than ``stream_after``."""
    started = time.perf_counter()
    messages: list[object] = []
    outcome = finalize(result, job, messages.append, stream_after)
    if outcome is None:  # streamed: a head, the body's pieces, a tail
        head = messages[0]
        assert isinstance(head, StreamHead)
        pieces = [m for m in messages if isinstance(m, bytes)]
        outcome = Outcome(200, media_type=head.media_type,
                          truncated=head.truncated_by is not None, rows=head.rows,
                          truncated_by=head.truncated_by, stream=Replay(head, pieces))
    outcome.seconds = time.perf_counter() - started
    return outcome


async def _readable(conn: Connection | socket.socket, timeout: float) -> bool:
    """Wait (without a thread) until the worker has written to its pipe, or time out."""
    if isinstance(conn, Connection) and conn.poll(0):
        return True
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    fd = conn.fileno()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(True))
    try:
        done, _ = await asyncio.wait({ready}, timeout=max(0.0, timeout))
        return bool(done)
    finally:
        loop.remove_reader(fd)
        os.set_blocking(fd, True)  # uvloop makes a watched descriptor non-blocking
        if not ready.done():
            ready.cancel()


@dataclass
class PoolLimits:
    """Admission control of the worker pool (see :class:`WorkerPool`)."""

    workers: int = 2
    max_workers: int = 0  # 0 = 3 x workers
    queue: int = 128  # requests waiting for a worker; more get 503 + Retry-After
    client_concurrency: int = 64  # requests of one client in flight; more get 503
    client_slow: int = 1  # long-running queries one client may have at once
    fast_budget: float = 0.5  # seconds after which a query counts as long-running
    penalty: float = 10.0  # a client's queries start niced this long after a long one
    memory: int = 2 * 1024**3  # address space a worker may add to what it inherits
    retry_after: int = 2
    stream_after: int = 1_000_000  # answers longer than this are streamed

    @property
    def process_cap(self) -> int:
        return self.max_workers or 3 * self.workers

    @property
    def slow_slots(self) -> int:
        return max(1, self.process_cap - self.workers)


class WorkerPool:
    """Query worker processes with admission control, fair scheduling and kill-on-timeout.

    * a request takes an idle worker, else a new one is forked up to ``process_cap``, else it
      waits in a bounded queue (full queue: 503 with Retry-After);
    * a query still running after ``fast_budget`` is *long-running*: its worker is reniced to
      19 so short queries keep the CPU, and at most ``slow_slots`` long-running queries (at
      most ``client_slow`` per client while other clients wait or run long queries too) run at
      once, so at least ``workers`` processes stay free
      for short queries whatever the bombs; a long query beyond either cap is stopped (503,
      Retry-After);
    * a client whose query ran long recently starts its next ones niced;
    * a worker that ran a long query is retired after it (fresh memory, normal priority);
    * the timeout kills the worker (SIGKILL frees CPU and memory at once); so does the
      cancellation of the request (the client went away).
    """

    def __init__(self, repository: Repository, size: int,
                 limits: PoolLimits | None = None) -> None:
        self.opener = engine_opener(repository)
        self.repository = repository
        self.limits = limits or PoolLimits(workers=max(1, size))
        self.size = max(1, self.limits.workers)
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._waiters: deque[tuple[str, asyncio.Future[Worker]]] = deque()
        self._in_flight: dict[str, int] = defaultdict(int)
        self._slow: dict[str, int] = defaultdict(int)
        self._slow_total = 0
        self._last_slow: dict[str, float] = {}
        self._busy: set[Worker] = set()
        self._started = False
        self.generation = 0  # counts the store versions adopted by updates
        self._update_lock: asyncio.Lock | None = None
        self._spare: UpdateProcess | None = None  # started ahead: an update does not wait
        # kept answers written in the server process at once (kgraph.web.kept_requests): as
        # many as the pool's workers, so that many clients asking cannot hold its threads
        self.writers = asyncio.Semaphore(self.size)
        self.sandbox: SandboxStatus | None = None

    def _spawn(self) -> Worker:
        worker = Worker(self.opener, self.limits.memory, self.generation)
        self._all.add(worker)
        return worker

    def _retire(self, worker: Worker, close: bool = True) -> None:
        """SIGKILL now; reap the process in a thread (tearing down a large worker takes a
        while, and the event loop must not wait for it). ``close=False`` leaves the pipe
        open for a stream still reading what the worker sent."""
        self._all.discard(worker)
        if worker.process.is_alive():
            worker.process.kill()
        reap = worker.kill if close else worker.reap
        try:
            asyncio.get_running_loop().run_in_executor(None, reap)
        except RuntimeError:  # no event loop (shutdown): reap here
            reap()

    def timeout_reply(self, timeout: float) -> Outcome:
        return Outcome.error(
            503, f"query stopped after the {timeout:g} s timeout (the time budget of one "
                 f"request on this server); {NEXT_STEP}",
            {"Retry-After": str(self.limits.retry_after)})

    def _busy_reply(self, why: str) -> Outcome:
        return Outcome.error(503, f"{why}; retry in {self.limits.retry_after} s",
                             {"Retry-After": str(self.limits.retry_after)})

    async def _acquire(self, client: str, deadline: float) -> Worker | Outcome:
        if not self._started:  # fork the base pool on first use
            self._started = True
            self._idle += [self._spawn() for _ in range(self.size - len(self._all))]
        if self._idle:
            return self._idle.pop()
        if len(self._all) < self.limits.process_cap:
            return self._spawn()
        if len(self._waiters) >= self.limits.queue:
            return self._busy_reply(f"{len(self._waiters)} requests are already waiting")
        waiter: asyncio.Future[Worker] = asyncio.get_running_loop().create_future()
        entry = (client, waiter)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(waiter, max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return self._busy_reply("all query workers stayed busy until the timeout")
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result(), healthy=True)
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    def _release(self, worker: Worker, healthy: bool, close: bool = True) -> None:
        if not healthy or worker.niced or worker.generation != self.generation:
            self._retire(worker, close)
            if len(self._all) >= self.size and not self._waiters:
                return
            worker = self._spawn()
        while self._waiters:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def _mark_slow(self, worker: Worker, client: str) -> str | None:
        """Count a query as long-running; the reason to stop it if a cap is reached."""
        worker.nice()
        self._last_slow[client] = time.monotonic()
        contended = bool(self._waiters) or any(
            count for other, count in self._slow.items() if other != client)
        if self._slow[client] >= self.limits.client_slow and contended:
            return (f"this client already has {self._slow[client]} long-running "
                    "queries; send the next one when it has finished")
        if self._slow_total >= self.limits.slow_slots:
            return f"the server is already running {self._slow_total} long queries"
        self._slow[client] += 1
        self._slow_total += 1
        return None

    async def run(self, job: Job, timeout: float, client: str = "local",
                  budget: float | None = None) -> Outcome:
        """Evaluate a job in a worker: 503 on timeout or overload, worker killed on cancel.
        ``budget``: the request's whole time budget, when ``timeout`` is what is left of it
        (a page's queries): the one a timeout's message names."""
        deadline = time.monotonic() + timeout
        if self._in_flight[client] >= self.limits.client_concurrency:
            return self._busy_reply(
                f"this client already has {self._in_flight[client]} requests in flight")
        self._in_flight[client] += 1
        try:
            got = await self._acquire(client, deadline)
            if isinstance(got, Outcome):
                return got
            return await self._evaluate(got, job, client, deadline,
                                        timeout if budget is None else budget)
        finally:
            self._in_flight[client] -= 1
            if not self._in_flight[client]:
                del self._in_flight[client]

    async def _evaluate(self, worker: Worker, job: Job, client: str, deadline: float,
                        timeout: float) -> Outcome:
        self._busy.add(worker)
        slow = False
        healthy = False
        handed_over = False
        try:
            if worker.status is None:
                await _readable(worker.conn, max(0.01, deadline - time.monotonic()))
                worker.greet(0.01)
                self.sandbox = worker.status
            recent = self._last_slow.get(client)
            if recent is not None and time.monotonic() - recent < self.limits.penalty:
                worker.nice()  # this client's last query ran long: start this one niced
            if job.stream_after is None and not job.internal:
                job.stream_after = self.limits.stream_after
            if len(job.text) + sum(len(q.text) for q in job.kept) < 16_384:
                # fits the pipe's buffer: the send cannot block
                worker.conn.send(job)
            else:
                await asyncio.to_thread(worker.conn.send, job)
            budget = min(self.limits.fast_budget, max(0.0, deadline - time.monotonic()))
            ready = await _readable(worker.conn, budget)
            if not ready and time.monotonic() < deadline:
                stop = self._mark_slow(worker, client)
                if stop:
                    return self._busy_reply(f"query stopped: {stop}")
                slow = True
            if not ready:
                ready = await _readable(worker.conn, deadline - time.monotonic())
            if not ready:
                return self.timeout_reply(timeout)
            try:
                message = await _receive(worker, deadline)
            except TimeoutError:
                return self.timeout_reply(timeout)
            except (EOFError, OSError):
                return Outcome.error(503, "query stopped: the query worker died (most likely "
                                          f"past {memory_budget(self.limits.memory)}); "
                                          f"{NEXT_STEP}")
            if isinstance(message, StreamHead):
                handed_over = True
                stream = Stream(self, worker, client, slow, message, deadline)
                return Outcome(200, media_type=message.media_type,
                               truncated=message.truncated_by is not None, rows=message.rows,
                               truncated_by=message.truncated_by, stream=stream)
            healthy = True
            return message
        except (EOFError, OSError, BrokenPipeError, TimeoutError) as exc:
            return Outcome.error(500, f"query worker failed: {type(exc).__name__}")
        finally:
            if not handed_over:
                self._done(worker, client, slow, healthy)

    def _done(self, worker: Worker, client: str, slow: bool, healthy: bool,
              close: bool = True) -> None:
        """A job's worker is free again (or retired when it is not healthy)."""
        self._busy.discard(worker)
        if slow:
            self._slow[client] -= 1
            self._slow_total -= 1
            if not self._slow[client]:
                del self._slow[client]
        self._release(worker, healthy, close)

    async def update(self, job: Job, timeout: float = 30.0, client: str = "local") -> Outcome:
        """Apply an update within the timeout, all or nothing, without stopping queries.

        One update at a time runs in a fresh sandboxed *update worker* (check, ``USING``
        rewrite and the update itself, all under the timeout) that writes where nobody reads:
        a new store version on disk (:func:`apply_update`), or its own copy of an in-memory
        store. Queries keep answering from the current version meanwhile. Past the timeout
        the worker is killed and its version deleted: nothing changed. Done in time, the
        version is made current with one rename (the server process reopens it read-only)
        and every query worker of the old version is retired, so every query started after
        the answer sees the update and no worker keeps the old data."""
        repository = self.repository
        if not isinstance(repository, OxigraphRepository) or repository.read_only:
            return Outcome.error(400, "updates are not supported on this store")
        deadline = time.monotonic() + timeout
        if self._update_lock is None:
            self._update_lock = asyncio.Lock()
        try:
            await asyncio.wait_for(self._update_lock.acquire(), timeout)
        except TimeoutError:
            return self._busy_reply("another update kept the store busy until the timeout")
        target: Path | None = None
        worker: Worker | UpdateProcess | None = None
        stopped = Outcome.error(
            503, f"update stopped after the {timeout:g} s timeout; nothing was changed",
            {"Retry-After": str(self.limits.retry_after)})
        try:
            if repository.root is not None:
                target = repository.directory.next_version()
                worker, self._spare = self._spare or UpdateProcess(self.limits.memory), None
                worker.conn.send({"text": job.text, "base_iri": job.base_iri,
                                  "using": job.using, "using_named": job.using_named,
                                  "source": str(repository.path), "target": str(target)})
            else:
                worker = Worker(self.opener, self.limits.memory, self.generation)
                job.in_copy = True
                worker.conn.send(job)
            if not await _readable(worker.conn, deadline - time.monotonic()):
                return stopped
            worker.conn.recv()  # the sandbox status, sent first
            if not await _readable(worker.conn, deadline - time.monotonic()):
                return stopped
            try:
                reply = await asyncio.to_thread(worker.conn.recv)
            except (EOFError, OSError):
                return Outcome.error(503, "update stopped: its worker died (most likely it "
                                          "went past its memory limit); nothing was changed")
            outcome = reply if isinstance(reply, Outcome) else Outcome.error(*reply[:2])
            if outcome.status >= 300:
                return outcome
            if target is not None:
                outcome.seconds = reply[2]
                # a query still reading a version older than the current one would lose its
                # files when old versions are pruned: let it finish first
                previous = self.generation
                while (any(w.generation < previous for w in self._busy)
                       and time.monotonic() < deadline):
                    await asyncio.sleep(0.05)
                if any(w.generation < previous for w in self._busy):
                    return self._busy_reply("queries on an older store version ran until "
                                            "the timeout; nothing was changed")
                await asyncio.to_thread(repository.adopt_version, target)
                target = None  # current now: not deleted below
            else:
                store = ox.Store()
                await asyncio.to_thread(store.bulk_load, outcome.body, format=GF.N_QUADS)
                for graph in outcome.graphs or []:
                    store.add_graph(ox.NamedNode(graph))
                repository.adopt_store(store)
            self.generation += 1  # workers of the old data are retired, idle ones now
            for idle in self._idle:
                self._retire(idle)
            self._idle.clear()
            return Outcome(204, seconds=outcome.seconds)
        finally:
            if worker is not None:
                await asyncio.to_thread(worker.kill)
            if target is not None:
                await asyncio.to_thread(shutil.rmtree, target, True)
            if repository.root is not None and self._spare is None:
                # the next update's process starts now (Python, pyoxigraph and the SPARQL
                # parser's tables take about a second of wall time on a loaded machine)
                self._spare = UpdateProcess(self.limits.memory)
            self._update_lock.release()

    def close(self) -> None:
        """Kill every worker (server shutdown)."""
        for worker in list(self._all):
            self._retire(worker)
        self._idle.clear()
        if self._spare is not None:
            self._spare.kill()
            self._spare = None


class RemoteExecutor:
    """Queries forwarded to a remote SPARQL endpoint, with the same checks, cap and formats.

    The timeout bounds the HTTP exchange; closing the connection is all a client can do to
    stop a remote query (configure the server's own timeout too, e.g. ``oxigraph serve
    --timeout-s``).
    """

    def __init__(self, repository: RemoteRepository) -> None:
        self.repository = repository

    async def _check(self, job: Job, timeout: float) -> Outcome | None:
        """The same safety check as the workers run (linear, so a thread is bounded)."""
        try:
            await asyncio.wait_for(asyncio.to_thread(prepare, self.repository, job, None),
                                   timeout)
        except safety.UnsafeRequest as exc:
            return Outcome.error(400, f"refused: {exc}")
        except TimeoutError:
            return Outcome.error(503, f"request not checked within the {timeout:g} s timeout")
        return None

    async def run(self, job: Job, timeout: float, client: str = "local") -> Outcome:
        from kgraph.store.remote import accept_for, parse_response

        if job.check and (refused := await self._check(job, timeout)):
            return refused
        remote = self.repository
        params: list[tuple[str, str]] = [("default-graph-uri", g) for g in job.default_graphs]
        params += [("named-graph-uri", g) for g in job.named_graphs]
        if not params and not job.has_from:
            params += list(remote.query_params().items())
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=timeout, auth=remote.auth) as client:
                response = await client.post(
                    remote.query_url, params=params, data={"query": job.text},
                    headers={"Accept": accept_for(job.text)},
                )
        except httpx.TimeoutException:
            return Outcome.error(503, f"remote query stopped after the {timeout:g} s timeout")
        except httpx.HTTPError as exc:
            return Outcome.error(502, f"remote store unreachable: {exc}")
        if response.status_code >= 300:
            status = 400 if response.status_code == 400 else 502
            return Outcome.error(status, f"remote store: {response.text.strip()[:2000]}")
        try:
            outcome = await asyncio.to_thread(
                lambda: finalize(
                    parse_response(response.headers.get("content-type", ""), response.content),
                    job,
                )
            )
        except NotAcceptable as exc:
            return Outcome.error(406, str(exc))
        except (StoreError, SyntaxError, ValueError) as exc:
            return Outcome.error(502, f"remote store answer unreadable: {exc}")
        outcome.seconds = time.perf_counter() - started
        return outcome

    async def update(self, job: Job, timeout: float = 30.0, client: str = "local") -> Outcome:
        if job.check and (refused := await self._check(job, timeout)):
            return refused
        try:
            await asyncio.to_thread(self.repository.update, job.text)
        except StoreError as exc:
            return Outcome.error(400, str(exc))
        return Outcome(204)

    def close(self) -> None:
        """Nothing to release: each request uses its own HTTP client."""


Executor = WorkerPool | RemoteExecutor


def make_executor(repository: Repository, workers: int,
                  limits: PoolLimits | None = None) -> Executor:
    """Worker processes for local stores, an HTTP forwarder for remote ones."""
    from kgraph.store.remote import RemoteRepository

    if isinstance(repository, RemoteRepository):
        return RemoteExecutor(repository)
    return WorkerPool(repository, workers, limits)


class QueryStopped(StoreError):
    """A page's query that the pool refused or stopped: timeout, overload, a dead worker or
    a refused text. The app answers it with :attr:`status` (503 with ``Retry-After`` for
    timeout and overload) and the message, like the endpoint would."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.body.decode("utf-8", "replace").strip())
        self.status = outcome.status
        self.headers = outcome.headers


class PooledRepository:
    """A :class:`~kgraph.store.embedded.Repository` whose ``query`` runs in the sandboxed
    worker pool, under one deadline for every query of the request that made it.

    Pages build their SPARQL from user input (an IRI in the path, a search box); running it
    here gives it what ``/sparql`` has: the safety check, no network, the timeout (the worker
    is killed, not waited for), the memory limit and admission control per client. Get one
    with the dependency :func:`pooled_repository`; ``query`` blocks (call it from a sync route,
    which FastAPI runs in a thread), ``aquery`` is the same for async code. A query the pool
    stops raises :class:`QueryStopped`. Everything else (``graph_names``, ``version``, ...) is
    the served repository's own."""

    def __init__(self, repository: Repository, pool: WorkerPool,
                 loop: asyncio.AbstractEventLoop, timeout: float,
                 client: str = "internal") -> None:
        self.repository = repository
        self.pool = pool
        self.loop = loop
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.client = client

    async def aquery(self, sparql: str) -> QueryResult:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise QueryStopped(self.pool.timeout_reply(self.timeout))
        outcome = await self.pool.run(Job(sparql, internal=True), remaining, self.client,
                                      self.timeout)
        if outcome.result is None:
            raise QueryStopped(outcome)
        return outcome.result

    def query(self, sparql: str) -> QueryResult:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            raise RuntimeError("PooledRepository.query blocks: use 'await aquery(...)' on the "
                               "event loop")
        return asyncio.run_coroutine_threadsafe(self.aquery(sparql), self.loop).result()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repository, name)

    def __len__(self) -> int:
        return len(self.repository)


async def pooled_repository(request: Request) -> Repository:
    """FastAPI dependency: the served repository, with queries in the worker pool under the
    server's query timeout (one deadline per request); a remote store as it is (its HTTP
    exchange has its own timeout)."""
    app = request.app
    executor = app.state.executor
    if not isinstance(executor, WorkerPool):
        return app.state.repository
    client = request.client.host if request.client else "local"
    return PooledRepository(  # type: ignore[return-value]
        app.state.repository, executor, asyncio.get_running_loop(),
        app.state.settings.query_timeout, client)
