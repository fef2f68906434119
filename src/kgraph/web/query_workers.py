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
import faulthandler
import logging
import multiprocessing
import os
import signal
import time
from collections import defaultdict, deque
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
from kgraph.web import safety, sandbox
from kgraph.web.sandbox import SandboxStatus

if TYPE_CHECKING:
    from kgraph.store.remote import RemoteRepository

log = logging.getLogger("kgraph.web.workers")
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
    max_bytes: int = 32_000_000
    using: list[str] = field(default_factory=list)  # protocol using-graph-uri (updates)
    using_named: list[str] = field(default_factory=list)
    check: bool = True  # False only where a test proves that the sandbox holds on its own
    check_only: bool = False  # updates: check (and add USING) in a worker, apply elsewhere


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

    @classmethod
    def error(cls, status: int, message: str, headers: dict[str, str] | None = None) -> Outcome:
        return cls(status, message.encode("utf-8"), headers=headers or {})


class _Full(Exception):
    """Raised inside a serialiser once the answer has reached its cap."""


class CappedWriter:
    """A file-like sink for pyoxigraph's serialisers that stops them at a line or byte cap.

    The serialisers write as they go, so an answer of any size costs at most the cap in memory
    here (one value larger than the cap is still built by the engine, within the worker's
    memory limit)."""

    def __init__(self, max_bytes: int, max_lines: int | None = None) -> None:
        self.buffer = bytearray()
        self.max_bytes = max_bytes
        self.max_lines = max_lines
        self.lines = 0
        self.full = False

    def write(self, data: bytes) -> int:
        room = self.max_bytes + 1 - len(self.buffer)
        chunk = bytes(memoryview(data)[:room])
        self.buffer += chunk
        self.lines += chunk.count(b"\n")
        if len(self.buffer) > self.max_bytes or (
            self.max_lines is not None and self.lines > self.max_lines
        ):
            self.full = True
            raise _Full
        return len(data)

    def flush(self) -> None:
        """Serialisers may flush; nothing to do."""


def _capture(write: Callable[[CappedWriter], object], max_bytes: int,
             max_lines: int | None = None) -> CappedWriter:
    sink = CappedWriter(max_bytes, max_lines)
    try:
        write(sink)
    except _Full:
        pass
    except OSError as exc:  # pyoxigraph wraps a writer's exception when it flushes
        if not sink.full:
            raise
        del exc
    return sink


def _cut_lines(data: bytes, keep_lines: int, max_bytes: int) -> tuple[bytes, int]:
    """At most ``keep_lines`` complete lines and ``max_bytes`` bytes of ``data``."""
    end = 0
    count = 0
    while count < keep_lines:
        newline = data.find(b"\n", end)
        if newline < 0 or newline + 1 > max_bytes:
            break
        end = newline + 1
        count += 1
    return data[:end], count


def _bounded(lines: bytes, header_lines: int, fmt: ResultFormat,
             render: Callable[[bytes, CappedWriter], object], max_bytes: int,
             ) -> tuple[bytes, int, bool]:
    """Render line-per-row data in the client's format with as many whole rows as fit
    (a bisection: the rendering of a row is longer than its line)."""
    total = lines.count(b"\n") - header_lines

    def attempt(rows: int) -> bytes | None:
        data, _ = _cut_lines(lines, header_lines + rows, len(lines))
        sink = _capture(lambda out: render(data, out), max_bytes)
        return None if sink.full else bytes(sink.buffer)

    body = attempt(total)
    if body is not None:
        return body, total, False
    fits, fails = 0, total
    best = attempt(0)
    if best is None:
        raise _Full
    while fails - fits > max(1, fails // 32):
        middle = (fits + fails) // 2
        body = attempt(middle)
        if body is None:
            fails = middle
        else:
            fits, best = middle, body
    return best, fits, True


def finalize_solutions(solutions: Any, fmt: ResultFormat, max_rows: int,
                       max_bytes: int = 32_000_000) -> Outcome:
    """Serialise SELECT solutions (pyoxigraph QuerySolutions) with the row and byte caps."""
    sink = _capture(lambda out: solutions.serialize(out, format=RF.TSV), max_bytes, 1 + max_rows)
    tsv, kept = _cut_lines(bytes(sink.buffer), 1 + max_rows, max_bytes)
    if kept == 0:
        raise ValueError("the result's header alone is larger than the answer cap")
    rows = kept - 1
    truncated_by = None
    if sink.full:
        truncated_by = "rows" if rows >= max_rows else "bytes"
    if fmt.native == RF.TSV:
        return Outcome(200, tsv, fmt.media_type, truncated_by is not None, rows,
                       truncated_by=truncated_by)

    def render(data: bytes, out: CappedWriter) -> None:
        ox.parse_query_results(data, format=RF.TSV).serialize(out, format=fmt.native)

    body, shown, smaller = _bounded(tsv, 1, fmt, render, max_bytes)
    if smaller:
        truncated_by = "bytes"
    return Outcome(200, body, fmt.media_type, truncated_by is not None, shown,
                   truncated_by=truncated_by)


def finalize_triples(triples: Any, fmt: ResultFormat, max_rows: int,
                     max_bytes: int = 32_000_000) -> Outcome:
    """Serialise CONSTRUCT/DESCRIBE triples (QueryTriples or an iterable) with both caps."""
    if hasattr(triples, "serialize"):
        sink = _capture(lambda out: triples.serialize(out, format=GF.N_TRIPLES), max_bytes,
                        max_rows)
    else:
        sink = _capture(lambda out: ox.serialize(triples, out, format=GF.N_TRIPLES), max_bytes,
                        max_rows)
    nt, rows = _cut_lines(bytes(sink.buffer), max_rows, max_bytes)
    truncated_by = None
    if sink.full:
        truncated_by = "rows" if rows >= max_rows else "bytes"
    if fmt.native == GF.N_TRIPLES:
        return Outcome(200, nt, fmt.media_type, truncated_by is not None, rows,
                       truncated_by=truncated_by)

    def render(data: bytes, out: CappedWriter) -> None:
        parsed = ox.parse(data, format=GF.N_TRIPLES)
        if fmt.native in (GF.TRIG, GF.N_QUADS):
            quads = (ox.Quad(q.subject, q.predicate, q.object) for q in parsed)
            ox.serialize(quads, out, format=fmt.native)
        else:
            ox.serialize((q.triple for q in parsed), out, format=fmt.native)

    body, shown, smaller = _bounded(nt, 0, fmt, render, max_bytes)
    if smaller:
        truncated_by = "bytes"
    return Outcome(200, body, fmt.media_type, truncated_by is not None, shown,
                   truncated_by=truncated_by)


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
            result, negotiate(False, job.accept, job.format_param), job.max_rows, job.max_bytes
        )
    return finalize_triples(result, negotiate(True, job.accept, job.format_param), job.max_rows,
                            job.max_bytes)


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


def _graph_names(engine: Any) -> set[str]:
    if isinstance(engine, ox.Store):
        return {g.value for g in engine.named_graphs() if isinstance(g, ox.NamedNode)}
    return set(engine.graph_names())


def prepare(engine: Any, job: Job, sandbox_status: SandboxStatus | None) -> None:
    """The safety check, run in the worker inside the time budget; raises UnsafeRequest.

    A worker that could not be sandboxed fails closed: it refuses any text that mentions
    SERVICE (or, for updates, LOAD) anywhere, even inside a string."""
    if sandbox_status is not None and not sandbox_status.isolated:
        words = safety.REMOTE_KEYWORDS if job.update else safety.QUERY_KEYWORDS
        folded = job.text.upper()
        for word in words:
            if word in folded:
                raise safety.UnsafeRequest(
                    f"this query worker has no network sandbox ({sandbox_status.reason}), so "
                    f"any request that mentions {word} is refused")
    if job.update:
        safety.check_update(job.text)
        if job.using or job.using_named:
            if safety.has_dataset_clause(job.text):
                raise safety.UnsafeRequest(
                    "using-graph-uri / using-named-graph-uri cannot be combined with USING or "
                    "WITH in the update")
            job.text = safety.add_using(job.text, job.using, job.using_named)
            safety.check_update(job.text)
        return
    job.has_from = safety.check_query(job.text, lambda: _graph_names(engine), job.default_graphs,
                                      job.named_graphs, job.base_iri)


def execute(engine: Any, job: Job, sandbox_status: SandboxStatus | None = None) -> Outcome:
    """Check a job, then evaluate it against a pyoxigraph store or a generic Repository."""
    started = time.perf_counter()
    try:
        if job.check:
            prepare(engine, job, sandbox_status)
        if job.check_only:
            return Outcome(200, job.text.encode("utf-8"))
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
    outcome.seconds = time.perf_counter() - started
    return outcome


def _unknown_function(exc: Exception) -> bool:
    """pyoxigraph reports a call to a function it does not know as an evaluation error
    (``RuntimeError: The custom function <...> is not supported``): the client's mistake."""
    message = str(exc)
    return "custom function" in message and "is not supported" in message


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the server dies, even by SIGKILL (no orphans holding
    the listening socket). Elsewhere the pipe's EOF on a clean exit is all there is."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def _address_space() -> int:
    """Bytes of address space this process has mapped now (VmSize)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_memory(extra: int) -> None:
    """RLIMIT_AS: what the fork inherited plus ``extra`` bytes; 0 = no limit."""
    if extra <= 0:
        return
    import resource

    limit = _address_space() + extra
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _worker_main(conn: Connection, opener: Callable[[], Any], memory: int) -> None:
    """Worker loop: sandbox itself, open the engine, then answer jobs until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    faulthandler.disable()  # a worker aborted at its memory limit is reported as a 503
    _die_with_parent()
    status = sandbox.install()
    if not status.isolated:
        log.warning("query worker %d has no network sandbox: %s; requests mentioning SERVICE "
                    "or LOAD are refused", multiprocessing.current_process().pid, status.reason)
    conn.send(status)
    engine = opener()
    _limit_memory(memory)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            outcome = execute(engine, job, status)
        except MemoryError:
            outcome = Outcome.error(503, "query stopped: it needs more memory than a query "
                                         "worker may use")
        conn.send(outcome)


class Worker:
    """One forked process and the parent's end of its pipe."""

    def __init__(self, opener: Callable[[], Any], memory: int = 0) -> None:
        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, opener, memory),
                                       daemon=True)
        self.process.start()
        child.close()
        self.status: SandboxStatus | None = None
        self.niced = False

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
        """Lower this worker's CPU priority (a long query yields to short ones)."""
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, self.process.pid or 0, 19)
        self.niced = True

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


async def _readable(conn: Connection, timeout: float) -> bool:
    """Wait (without a thread) until the worker has written to its pipe, or time out."""
    if conn.poll(0):
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
        self.opener, self.primary = engine_opener(repository)
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
        self._busy = 0
        self._started = False
        self._updating = False
        self._condition: asyncio.Condition | None = None
        self.sandbox: SandboxStatus | None = None

    def _spawn(self) -> Worker:
        worker = Worker(self.opener, self.limits.memory)
        self._all.add(worker)
        return worker

    def _retire(self, worker: Worker) -> None:
        """SIGKILL now; reap the process in a thread (tearing down a large worker takes a
        while, and the event loop must not wait for it)."""
        self._all.discard(worker)
        if worker.process.is_alive():
            worker.process.kill()
        try:
            asyncio.get_running_loop().run_in_executor(None, worker.kill)
        except RuntimeError:  # no event loop (shutdown): reap here
            worker.kill()

    def _busy_reply(self, why: str) -> Outcome:
        return Outcome.error(503, f"{why}; retry in {self.limits.retry_after} s",
                             {"Retry-After": str(self.limits.retry_after)})

    @property
    def condition(self) -> asyncio.Condition:
        if self._condition is None:
            self._condition = asyncio.Condition()
        return self._condition

    async def _acquire(self, client: str, deadline: float) -> Worker | Outcome:
        if self._updating:
            async with self.condition:
                await self.condition.wait_for(lambda: not self._updating)
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

    def _release(self, worker: Worker, healthy: bool) -> None:
        if not healthy or worker.niced:
            self._retire(worker)
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

    async def run(self, job: Job, timeout: float, client: str = "local") -> Outcome:
        """Evaluate a job in a worker: 503 on timeout or overload, worker killed on cancel."""
        deadline = time.monotonic() + timeout
        if self._in_flight[client] >= self.limits.client_concurrency:
            return self._busy_reply(
                f"this client already has {self._in_flight[client]} requests in flight")
        self._in_flight[client] += 1
        try:
            got = await self._acquire(client, deadline)
            if isinstance(got, Outcome):
                return got
            return await self._evaluate(got, job, client, deadline, timeout)
        finally:
            self._in_flight[client] -= 1
            if not self._in_flight[client]:
                del self._in_flight[client]

    async def _evaluate(self, worker: Worker, job: Job, client: str, deadline: float,
                        timeout: float) -> Outcome:
        self._busy += 1
        slow = False
        healthy = False
        try:
            if worker.status is None:
                await _readable(worker.conn, max(0.01, deadline - time.monotonic()))
                worker.greet(0.01)
                self.sandbox = worker.status
            recent = self._last_slow.get(client)
            if recent is not None and time.monotonic() - recent < self.limits.penalty:
                worker.nice()  # this client's last query ran long: start this one niced
            if len(job.text) < 16_384:  # fits the pipe's buffer: the send cannot block
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
                return Outcome.error(
                    503, f"query stopped after the {timeout:g} s timeout; narrow it or add a "
                         "LIMIT", {"Retry-After": str(self.limits.retry_after)})
            try:
                outcome: Outcome = await asyncio.to_thread(worker.conn.recv)
            except (EOFError, OSError):
                return Outcome.error(503, "query stopped: the query worker died (most likely "
                                          "it went past its memory limit)")
            healthy = True
            return outcome
        except (EOFError, OSError, BrokenPipeError, TimeoutError) as exc:
            return Outcome.error(500, f"query worker failed: {type(exc).__name__}")
        finally:
            self._busy -= 1
            if slow:
                self._slow[client] -= 1
                self._slow_total -= 1
                if not self._slow[client]:
                    del self._slow[client]
            self._release(worker, healthy)
            if self._busy == 0 and self._updating:
                async with self.condition:
                    self.condition.notify_all()

    async def update(self, job: Job, timeout: float = 30.0, client: str = "local") -> Outcome:
        """Check the update in a worker (timeout), apply it to the primary store, re-fork.

        The check and the ``USING`` rewrite run in a sandboxed worker under the timeout; the
        update itself runs in the server process, which holds the only writable store handle,
        while no query runs (so no query sees a half-applied update)."""
        if self.primary is None:
            return Outcome.error(400, "updates are not supported on this store")
        checked = await self.run(Job(job.text, update=True, using=job.using,
                                     using_named=job.using_named, check_only=True),
                                 timeout, client)
        if checked.status != 200:
            return checked
        job.text = checked.body.decode("utf-8")
        job.check = False
        async with self.condition:
            await self.condition.wait_for(lambda: not self._updating)
            self._updating = True
        try:
            async with self.condition:
                await self.condition.wait_for(lambda: self._busy == 0)
            outcome = await asyncio.to_thread(execute, self.primary, job)
            if outcome.status < 300 and hasattr(self.primary, "flush"):
                await asyncio.to_thread(self.primary.flush)
            if outcome.status < 300 and hasattr(self.repository, "mark_changed"):
                self.repository.mark_changed()  # derived data of the old content is stale
        finally:
            for worker in list(self._idle):
                self._retire(worker)
            self._idle.clear()
            async with self.condition:
                self._updating = False
                self.condition.notify_all()
        return outcome

    def close(self) -> None:
        """Kill every worker (server shutdown)."""
        for worker in list(self._all):
            self._retire(worker)
        self._idle.clear()


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
