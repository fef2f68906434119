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

Updates (only with a write token) run in the server process against the primary store while
the pool holds *all* workers (so no query sees a half-applied update); afterwards every worker
is replaced by a new fork so the workers see the new data.

Workers also serialise the results with pyoxigraph's native serialisers and apply the row cap:
results are first written as TSV / N-Triples (one row or triple per line, lossless), counted
and cut at ``max_rows``, then re-parsed and written in the negotiated format. A truncated answer
carries ``X-Kgraph-Truncated: true``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pyoxigraph as ox
from rdflib import Literal

from kgraph.errors import StoreError
from kgraph.store.embedded import OxigraphRepository, QueryResult, Repository

if TYPE_CHECKING:
    from kgraph.store.remote import RemoteRepository

RF = ox.QueryResultsFormat
GF = ox.RdfFormat


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


@dataclass
class Outcome:
    """What a worker answers: a serialised body or an error message with its HTTP status."""

    status: int
    body: bytes = b""
    media_type: str = "text/plain; charset=utf-8"
    truncated: bool = False
    rows: int | None = None
    seconds: float = 0.0

    @classmethod
    def error(cls, status: int, message: str) -> Outcome:
        return cls(status, message.encode("utf-8"))


def _cut(data: bytes, header_lines: int, max_rows: int) -> tuple[bytes, int, bool]:
    """Keep the first ``max_rows`` lines after the header; report the count and truncation."""
    rows = data.count(b"\n") - header_lines
    if rows <= max_rows:
        return data, rows, False
    end = -1
    for _ in range(header_lines + max_rows):
        end = data.index(b"\n", end + 1)
    return data[: end + 1], max_rows, True


def finalize_solutions(solutions: Any, fmt: ResultFormat, max_rows: int) -> Outcome:
    """Serialise SELECT solutions (pyoxigraph QuerySolutions) with the row cap."""
    tsv = solutions.serialize(format=RF.TSV)
    tsv, rows, truncated = _cut(tsv, 1, max_rows)
    if fmt.native == RF.TSV:
        body = tsv
    else:
        body = ox.parse_query_results(tsv, format=RF.TSV).serialize(format=fmt.native)
    return Outcome(200, body, fmt.media_type, truncated, rows)


def finalize_triples(triples: Any, fmt: ResultFormat, max_rows: int) -> Outcome:
    """Serialise CONSTRUCT/DESCRIBE triples (QueryTriples or an iterable) with the row cap."""
    if hasattr(triples, "serialize"):
        nt = triples.serialize(format=GF.N_TRIPLES)
    else:
        nt = ox.serialize(triples, format=GF.N_TRIPLES)
    nt, rows, truncated = _cut(nt, 0, max_rows)
    if fmt.native == GF.N_TRIPLES:
        body = nt
    else:
        parsed = ox.parse(nt, format=GF.N_TRIPLES)
        if fmt.native in (GF.TRIG, GF.N_QUADS):
            parsed = (ox.Quad(q.subject, q.predicate, q.object) for q in parsed)
        else:
            parsed = (q.triple for q in parsed)
        body = ox.serialize(parsed, format=fmt.native) or b""
    return Outcome(200, body, fmt.media_type, truncated, rows)


def finalize(result: Any, job: Job) -> Outcome:
    """Serialise any pyoxigraph result object in the format the client negotiated."""
    if isinstance(result, bool):  # from a generic repository: QueryBoolean has no constructor
        answer = b'{"head":{},"boolean":true}' if result else b'{"head":{},"boolean":false}'
        result = ox.parse_query_results(answer, format=RF.JSON)
    if isinstance(result, ox.QueryBoolean):
        fmt = negotiate(False, job.accept, job.format_param)
        return Outcome(200, result.serialize(format=fmt.native), fmt.media_type)
    if isinstance(result, ox.QuerySolutions):
        return finalize_solutions(
            result, negotiate(False, job.accept, job.format_param), job.max_rows
        )
    return finalize_triples(result, negotiate(True, job.accept, job.format_param), job.max_rows)


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


def execute(engine: Any, job: Job) -> Outcome:
    """Evaluate a job against a pyoxigraph store or a generic Repository."""
    started = time.perf_counter()
    try:
        if isinstance(engine, ox.Store):
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
                outcome = finalize(engine.query(job.text, **kwargs), job)
        else:
            if job.update or job.default_graphs or job.named_graphs:
                return Outcome.error(400, "this store supports only plain queries")
            outcome = finalize(result_to_native(engine.query(job.text)), job)
    except SyntaxError as exc:
        return Outcome.error(400, f"syntax error: {exc}")
    except NotAcceptable as exc:
        return Outcome.error(406, str(exc))
    except (ValueError, TypeError) as exc:
        return Outcome.error(400, f"query error: {exc}")
    except Exception as exc:
        return Outcome.error(500, f"evaluation failed: {type(exc).__name__}: {exc}")
    outcome.seconds = time.perf_counter() - started
    return outcome


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the server dies, even by SIGKILL (no orphans holding
    the listening socket). Elsewhere the pipe's EOF on a clean exit is all there is."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def _worker_main(conn: Connection, opener: Callable[[], Any]) -> None:
    """Worker loop: open the engine, then answer jobs until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    engine = opener()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(execute(engine, job))


class Worker:
    """One forked process and the parent's end of its pipe."""

    def __init__(self, opener: Callable[[], Any]) -> None:
        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, opener), daemon=True)
        self.process.start()
        child.close()

    def call(self, job: Job, timeout: float) -> Outcome:
        """Send a job and wait for its answer (blocking; run in a thread)."""
        self.conn.send(job)
        if not self.conn.poll(timeout):
            raise TimeoutError
        return self.conn.recv()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


def engine_opener(repository: Repository) -> tuple[Callable[[], Any], ox.Store | None]:
    """How a worker reaches the data, and the primary pyoxigraph store updates go to (if any)."""
    if isinstance(repository, OxigraphRepository):
        store = repository.native
        path = repository.path
        if path is None:
            return (lambda: store), store
        location = str(Path(path))
        return (lambda: ox.Store.read_only(location)), store
    return (lambda: repository), None


class WorkerPool:
    """A fixed number of query worker processes with kill-and-replace on timeout."""

    def __init__(self, repository: Repository, size: int) -> None:
        self.opener, self.primary = engine_opener(repository)
        self.repository = repository
        self.size = max(1, size)
        self._idle: asyncio.Queue[Worker] | None = None
        self._all: set[Worker] = set()
        self._start_lock = asyncio.Lock()

    def _spawn(self) -> Worker:
        worker = Worker(self.opener)
        self._all.add(worker)
        return worker

    def _retire(self, worker: Worker) -> None:
        self._all.discard(worker)
        worker.kill()

    async def _ensure(self) -> asyncio.Queue[Worker]:
        async with self._start_lock:
            if self._idle is None:
                idle: asyncio.Queue[Worker] = asyncio.Queue()
                for _ in range(self.size):
                    idle.put_nowait(self._spawn())
                self._idle = idle
        return self._idle

    async def run(self, job: Job, timeout: float) -> Outcome:
        """Evaluate a query in a worker; 503 when it (or the wait for a worker) times out."""
        idle = await self._ensure()
        deadline = time.monotonic() + timeout
        try:
            worker = await asyncio.wait_for(idle.get(), timeout)
        except TimeoutError:
            return Outcome.error(503, f"all query workers are busy; gave up after {timeout:g} s")
        remaining = max(0.01, deadline - time.monotonic())
        try:
            outcome = await asyncio.to_thread(worker.call, job, remaining)
        except TimeoutError:
            self._retire(worker)
            worker = self._spawn()
            outcome = Outcome.error(
                503, f"query stopped after the {timeout:g} s timeout; narrow it or add a LIMIT"
            )
        except (EOFError, OSError, BrokenPipeError) as exc:
            self._retire(worker)
            worker = self._spawn()
            outcome = Outcome.error(500, f"query worker failed: {type(exc).__name__}")
        finally:
            idle.put_nowait(worker)
        return outcome

    async def update(self, job: Job) -> Outcome:
        """Apply an update to the primary store, then re-fork every worker to see it."""
        if self.primary is None:
            return Outcome.error(400, "updates are not supported on this store")
        idle = await self._ensure()
        held = [await idle.get() for _ in range(self.size)]
        try:
            outcome = await asyncio.to_thread(execute, self.primary, job)
            if outcome.status < 300 and hasattr(self.primary, "flush"):
                await asyncio.to_thread(self.primary.flush)
            if outcome.status < 300 and hasattr(self.repository, "mark_changed"):
                self.repository.mark_changed()  # derived data of the old content is stale
        finally:
            for worker in held:
                self._retire(worker)
            for _ in held:
                idle.put_nowait(self._spawn())
        return outcome

    def close(self) -> None:
        """Kill every worker (server shutdown)."""
        for worker in list(self._all):
            self._retire(worker)
        self._idle = None


class RemoteExecutor:
    """Queries forwarded to a remote SPARQL endpoint, with the same checks, cap and formats.

    The timeout bounds the HTTP exchange; closing the connection is all a client can do to
    stop a remote query (configure the server's own timeout too, e.g. ``oxigraph serve
    --timeout-s``).
    """

    def __init__(self, repository: RemoteRepository) -> None:
        self.repository = repository

    async def run(self, job: Job, timeout: float) -> Outcome:
        from kgraph.store.remote import ACCEPT, parse_response

        remote = self.repository
        params: list[tuple[str, str]] = [("default-graph-uri", g) for g in job.default_graphs]
        params += [("named-graph-uri", g) for g in job.named_graphs]
        if not params and not job.has_from:
            params += list(remote.query_params().items())
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=timeout) as client:
                response = await client.post(
                    remote.query_url, params=params, data={"query": job.text},
                    headers={"Accept": ACCEPT},
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

    async def update(self, job: Job) -> Outcome:
        try:
            await asyncio.to_thread(self.repository.update, job.text)
        except StoreError as exc:
            return Outcome.error(400, str(exc))
        return Outcome(204)

    def close(self) -> None:
        """Nothing to release: each request uses its own HTTP client."""


Executor = WorkerPool | RemoteExecutor


def make_executor(repository: Repository, workers: int) -> Executor:
    """Worker processes for local stores, an HTTP forwarder for remote ones."""
    from kgraph.store.remote import RemoteRepository

    if isinstance(repository, RemoteRepository):
        return RemoteExecutor(repository)
    return WorkerPool(repository, workers)
