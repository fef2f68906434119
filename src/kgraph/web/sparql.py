"""The SPARQL 1.1 Protocol endpoint at ``/sparql``.

* Query by GET (``?query=``), POST form (``query=``) or POST direct
  (``application/sparql-query``); ``default-graph-uri`` / ``named-graph-uri`` select the
  dataset, otherwise the default graph is the union of all named graphs.
* Result formats by content negotiation or ``format=`` (json, xml, csv, tsv for SELECT/ASK;
  turtle, ntriples, rdfxml, jsonld, trig, nquads for CONSTRUCT/DESCRIBE).
* ``GET /sparql`` without a query answers the Service Description.
* Update (form ``update=`` or ``application/sparql-update``) only when the server has a write
  token, and only with ``Authorization: Bearer <token>``.

Every request is bounded by ``max_body`` and handed to the executor of
:mod:`kgraph.web.query_workers`, whose sandboxed workers check it with :mod:`kgraph.web.safety`
(no SERVICE, LOAD or unknown graphs) inside the time budget, then evaluate it (timeout, row and
byte caps, admission control). Answers longer than ``stream_after`` are streamed
(:class:`StreamedAnswer`). A request the worker finds to be a named query's text with values
bound (the query page's "to editor") is answered from that query's kept answer, written as the
workers write answers (:mod:`kgraph.web.kept_requests`). A client that disconnects cancels its
request: the worker is killed. Updates run in an update worker under the same timeout, all or
nothing. Errors are plain text with the reason, e.g. the parser's position.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Awaitable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from kgraph.analysis.page_data import graph_names
from kgraph.analysis.queries import NamedQuery
from kgraph.store.embedded import Repository
from kgraph.web import kept_requests
from kgraph.web.query_workers import (
    Executor,
    Job,
    Outcome,
    Replay,
    Stream,
    StreamBroken,
    WorkerPool,
    written,
)
from kgraph.web.safety import UnsafeRequest
from kgraph.web.service_description import service_description
from kgraph.web.settings import Settings

router = APIRouter()
log = logging.getLogger("kgraph.web.sparql")

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


class ProtocolError(Exception):
    """A request the protocol itself rejects; carries the HTTP status."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def text_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(message + "\n", status_code=status, media_type="text/plain; charset=utf-8",
                    headers=headers)


def _one(params: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise ProtocolError(400, f"more than one {name!r} parameter")
    return values[0] if values else None


def _all(params: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in params if k == name]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything above ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ProtocolError(413, f"request body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(413, f"request body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(body: bytes, charset: str | None) -> str:
    if charset and charset.lower().replace("-", "") != "utf8":
        raise ProtocolError(415, f"charset {charset} is not supported; send UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"request body is not UTF-8: {exc}") from exc


def content_type(request: Request) -> tuple[str | None, str | None]:
    """Media type and charset of the request body."""
    header = request.headers.get("content-type")
    if not header:
        return None, None
    media, *params = [p.strip() for p in header.split(";")]
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"')
    return media.lower(), charset


def check_token(request: Request, settings: Settings) -> None:
    """Updates need a configured write token and the matching bearer token."""
    if not settings.write_token:
        raise ProtocolError(403, "updates are disabled on this server (start it with "
                                 "--write-token to enable them)")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProtocolError(401, "updates need 'Authorization: Bearer <token>'",
                            {"WWW-Authenticate": 'Bearer realm="kgraph"'})
    if not hmac.compare_digest(token.strip().encode(), settings.write_token.encode()):
        raise ProtocolError(403, "wrong write token")


def endpoint_iri(request: Request) -> str:
    return str(request.url.replace(query="", fragment=""))


def known_graphs(request: Request) -> list[str]:
    """The store's named graphs (sorted), as kept for its version."""
    return graph_names(request.app.state.repository)


def client_key(request: Request) -> str:
    """Whom admission control counts a request against: the peer address."""
    return request.client.host if request.client else "local"


async def until_disconnected(request: Request) -> None:
    """Return once the client has gone away (its request body has been read already)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def cancelled_on_disconnect(request: Request, work: Awaitable[Outcome]) -> Outcome:
    """Run ``work``; if the client disconnects first, cancel it (the worker is killed)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(until_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        log.info("sparql request cancelled: the client disconnected")
        return Outcome.error(499, "client closed the request")
    return task.result()


class StreamedAnswer(StreamingResponse):
    """A streamed answer: the worker's chunks as they come. Whatever ends the response (its
    end, the client going away, an error) gives the worker back to the pool; an answer that
    cannot be finished after its headers said it was whole is broken off (no last chunk)."""

    def __init__(self, stream: Stream | Replay, prefix: bytes, **kwargs: Any) -> None:
        super().__init__(stream.chunks(prefix), **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except StreamBroken:
            return  # uvicorn closes the connection: the body is visibly incomplete
        finally:
            await self.body_iterator.aclose()  # type: ignore[attr-defined]


def answer(outcome: Outcome, started: float, settings: Settings, what: str) -> Response:
    total = (time.perf_counter() - started) * 1000
    headers = {
        "Server-Timing": f"query;dur={outcome.seconds * 1000:.1f}, total;dur={total:.1f}",
        **outcome.headers,
    }
    if outcome.truncated:
        headers["X-Kgraph-Truncated"] = "true"
        headers["X-Kgraph-Truncated-By"] = outcome.truncated_by or "rows"
    if outcome.truncated or outcome.stream is not None:
        headers["X-Kgraph-Max-Rows"] = str(settings.max_rows)
        headers["X-Kgraph-Max-Bytes"] = str(settings.max_result_bytes)
    log.info("sparql %s status=%d rows=%s query_ms=%.1f total_ms=%.1f%s", what, outcome.status,
             outcome.rows, outcome.seconds * 1000, total,
             " truncated" if outcome.truncated else " streamed" if outcome.stream else "")
    if outcome.status >= 400:
        return text_response(outcome.status, outcome.body.decode("utf-8", "replace"), headers)
    # Excel reads CSV as UTF-8 only after a byte-order mark
    bom = b"\xef\xbb\xbf" if outcome.media_type == "text/csv" else b""
    if outcome.stream is not None:
        if not outcome.stream.head.decided:  # a cut is told by a comment at the end
            headers["X-Kgraph-Streamed"] = "true"
        return StreamedAnswer(outcome.stream, bom, media_type=outcome.media_type,
                              headers=headers)
    return Response(bom + outcome.body, status_code=outcome.status,
                    media_type=outcome.media_type, headers=headers)


async def run_query(request: Request, params: list[tuple[str, str]], query: str,
                    started: float) -> Response:
    settings: Settings = request.app.state.settings
    executor: Executor = request.app.state.executor
    job = Job(
        query, default_graphs=_all(params, "default-graph-uri"),
        named_graphs=_all(params, "named-graph-uri"), base_iri=endpoint_iri(request),
        accept=request.headers.get("accept"), format_param=_one(params, "format"),
        max_rows=settings.max_rows, max_bytes=settings.max_result_bytes,
    )
    if isinstance(executor, WorkerPool) and not job.default_graphs and not job.named_graphs:
        # (a remote store's engine answers as before: its terms are its own)
        job.kept = kept_requests.texts(request.app.state.repository)
    outcome = await cancelled_on_disconnect(
        request, executor.run(job, settings.query_timeout, client_key(request)))
    if outcome.kept is not None:  # a named query's text: its kept answer, if it has one
        outcome = await from_kept(request, job, outcome.kept, started)
    return answer(outcome, started, settings, "query")


async def from_kept(request: Request, job: Job, found: tuple[str, dict[str, str]],
                    started: float) -> Outcome:
    """The kept answer of the named query the checked request is (its text with these
    values), written as the engine's answer would be; the engine's answer when this version
    kept none (the job is sent again, matched against nothing)."""
    settings: Settings = request.app.state.settings
    executor: Executor = request.app.state.executor
    name, values = found
    query = next(q for q in job.kept if q.name == name)
    assert isinstance(executor, WorkerPool)

    async def write() -> Outcome | None:
        async with executor.writers:
            return await asyncio.to_thread(kept_outcome, request.app.state.repository, query,
                                           values, job, executor.limits.stream_after)

    left = settings.query_timeout - (time.perf_counter() - started)
    try:
        outcome = await asyncio.wait_for(write(), max(0.01, left))
    except TimeoutError:
        return executor.timeout_reply(settings.query_timeout)
    if outcome is not None:
        outcome.headers["X-Kgraph-Kept-Answer"] = name
        return outcome
    job.kept = ()
    left = settings.query_timeout - (time.perf_counter() - started)
    return await cancelled_on_disconnect(
        request, executor.run(job, max(0.01, left), client_key(request)))


def kept_outcome(repository: Repository, query: NamedQuery, values: dict[str, str], job: Job,
                 stream_after: int) -> Outcome | None:
    """The named query's kept answer for ``values`` (kept per store version with the pages'
    ones, :func:`kgraph.web.queries_api.kept_rows`) as the endpoint writes an answer; None
    when none is kept or its variables are not the text's. Only the rows the row cap lets
    through (and one more, which flags the cut) are made into terms."""
    from kgraph.web.queries_api import kept_rows

    kept = kept_rows(repository, query.name, values)
    if kept is None or tuple(kept.variables) != kept_requests.variables(query):
        return None
    rows = kept.rows[:job.max_rows + 1]
    return written(kept_requests.solutions(query.name, kept.variables, rows), job, stream_after)


async def run_update(request: Request, params: list[tuple[str, str]], update: str,
                     started: float) -> Response:
    settings: Settings = request.app.state.settings
    check_token(request, settings)
    job = Job(update, update=True, base_iri=endpoint_iri(request),
              using=_all(params, "using-graph-uri"),
              using_named=_all(params, "using-named-graph-uri"))
    executor: Executor = request.app.state.executor
    outcome = await executor.update(job, settings.query_timeout, client_key(request))
    return answer(outcome, started, settings, "update")


async def handle(request: Request) -> Response:
    """Dispatch one protocol request (GET or POST) to query, update or description."""
    started = time.perf_counter()
    settings: Settings = request.app.state.settings
    params = parse_qsl(request.url.query, keep_blank_values=True)
    if request.method == "GET":
        if _all(params, "update"):
            raise ProtocolError(405, "updates must be sent with POST", {"Allow": "POST"})
        query = _one(params, "query")
        if query is None:
            graphs = await asyncio.to_thread(known_graphs, request)
            body, media = service_description(
                endpoint_iri(request), graphs, writable=bool(settings.write_token),
                accept=request.headers.get("accept"), format_param=_one(params, "format"),
            )
            return Response(body, media_type=media)
        return await run_query(request, params, query, started)
    media, charset = content_type(request)
    body = await read_body(request, settings.max_body)
    if media == FORM:
        form = parse_qsl(_decode(body, charset), keep_blank_values=True)
        queries, updates = _all(form, "query"), _all(form, "update")
        if len(queries) + len(updates) != 1:
            raise ProtocolError(400, "send exactly one 'query' or one 'update' parameter")
        merged = params + [(k, v) for k, v in form if k not in ("query", "update")]
        if queries:
            return await run_query(request, merged, queries[0], started)
        return await run_update(request, merged, updates[0], started)
    if _all(params, "query") or _all(params, "update"):
        raise ProtocolError(400, "with a direct POST the query or update is the body, "
                                 "not a URL parameter")
    if media == QUERY:
        return await run_query(request, params, _decode(body, charset), started)
    if media == UPDATE:
        return await run_update(request, params, _decode(body, charset), started)
    if media is None:
        raise ProtocolError(400, f"missing Content-Type; use {QUERY}, {UPDATE} or {FORM}")
    raise ProtocolError(415, f"unsupported Content-Type {media}; use {QUERY}, {UPDATE} or {FORM}")


@router.api_route("/sparql", methods=["GET", "POST"], include_in_schema=True,
                  summary="SPARQL 1.1 Protocol endpoint")
async def sparql(request: Request) -> Response:
    """SPARQL 1.1 Protocol: query, update (with a token) and service description."""
    try:
        return await handle(request)
    except ProtocolError as exc:
        return text_response(exc.status, str(exc), exc.headers)
    except UnsafeRequest as exc:
        return text_response(400, f"refused: {exc}")
