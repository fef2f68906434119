"""FastAPI application factory; the repository reaches handlers as a dependency.

Tests build the app over an in-memory repository; ``kgraph serve`` over the persistent store.

Every request passes :class:`Guard` first: a ``Host`` the server does not answer to gets 421
(DNS rebinding), a POST from a foreign ``Origin`` gets 403 unless CORS allows that origin
(cross-site form posts), and every response carries ``nosniff``, ``Referrer-Policy``, frame
protection and a Content-Security-Policy (pages that set their own, with a nonce, keep it).
FastAPI's ``/docs`` and ``/redoc`` are off: they load scripts from a CDN (``/openapi.json``
stays).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgraph.analysis.page_data import store_counts
from kgraph.store.embedded import Repository
from kgraph.web.query_workers import PoolLimits, QueryStopped, make_executor
from kgraph.web.settings import Settings

log = logging.getLogger("kgraph.web")


def get_repository(request: Request) -> Repository:
    """FastAPI dependency: the repository this app serves."""
    return request.app.state.repository


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# never part of an IRI (RFC 3987), so never part of a page's path; U+FFFD is what invalid UTF-8
# in a percent-encoded path decodes to (other characters no IRI holds are the pages' 404)
_CONTROL_IN_PATH = re.compile(r"[\x00-\x1f\x7f\ufffd]")


def allowed_hosts(settings: Settings) -> set[str]:
    """Host names this server answers to: configured, else the bound host and loopback names
    (and this machine's names when bound to every interface)."""
    if settings.allowed_hosts:
        return {h.lower() for h in settings.allowed_hosts}
    names = {settings.host.lower(), *LOOPBACK_NAMES}
    if settings.host in WILDCARD_HOSTS:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return names


def host_name(host: str) -> str:
    """``Host`` header without its port (``[::1]:8000`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class Guard:
    """ASGI middleware: Host allow-list, CSRF defence by Origin, security headers, access log.

    Written as plain ASGI (not ``BaseHTTPMiddleware``) so a client's disconnect still reaches
    the endpoint, which cancels the query."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.hosts = allowed_hosts(settings)
        self.any_host = "*" in self.hosts
        self.cors = set(settings.cors_origins)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        if _CONTROL_IN_PATH.search(scope.get("path", "")) or b"%00" in scope.get(
                "query_string", b""):
            return 400, "control characters and invalid UTF-8 are not allowed in the URL"
        client = scope.get("client")
        in_process = client is not None and client[0] == "testclient"  # no browser, no DNS
        host = _header(scope, b"host")
        if not self.any_host and not in_process and (
                host is None or host_name(host) not in self.hosts):
            return 421, (f"this server does not answer to the host {host!r}; start it with "
                         "--allowed-host NAME to serve that name")
        if scope["method"] in UNSAFE_METHODS:
            origin = _header(scope, b"origin")
            # same host and port is this site, whatever the scheme a TLS proxy in front adds
            foreign = origin is not None and (
                host is None or origin.partition("://")[2].lower() != host.lower())
            if foreign and origin not in self.cors and "*" not in self.cors:
                return 403, (f"cross-site request from {origin} refused (CORS does not "
                             "allow that origin)")
            if (_header(scope, b"sec-fetch-site") == "cross-site" and origin is None):
                return 403, "cross-site request refused"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
                if "content-security-policy" not in headers:
                    html = headers.get("content-type", "").startswith("text/html")
                    headers.append("Content-Security-Policy", DEFAULT_CSP if html else DATA_CSP)
            await send(message)

        refused = self.refusal(scope)
        if refused:
            response = PlainTextResponse(refused[1] + "\n", status_code=refused[0])
            await response(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)
        log.info("%s %s %d %.1fms", scope["method"], scope["path"], status,
                 (time.perf_counter() - started) * 1000)


def health(request: Request) -> dict[str, object]:
    """Status, store version, triple and named-graph counts: enough for a load balancer and a
    glance. Counts, not the graph names: at 20,000 plans the names were 2.6 MB per call (and a
    remote server could not list them in minutes); ``/sparql`` lists them for who needs them.

    Counting the quads of a store is a scan of all of them: the counts are kept per store
    version (:mod:`kgraph.store.derived`), so only the first call after a build pays for it (and
    a restarted server reads them back from disk)."""
    repository = get_repository(request)
    try:
        graphs, triples = store_counts(repository)
        version = health_version(repository)
    except Exception as exc:  # the store is down or unreachable: say so, with 200 from the app
        return {"status": "error", "error": str(exc), "version": None, "triples": None,
                "graphs": None}
    status = getattr(request.app.state.executor, "sandbox", None)
    sandbox = None if status is None else {
        "seccomp": status.seccomp, "network_namespace": status.netns,
        "problem": status.reason or None}
    return {"status": "ok", "version": version, "triples": triples, "graphs": len(graphs),
            "worker_sandbox": sandbox}


def health_version(repository: Repository) -> str:
    """The store version a reader sees (``v000003:0``: the version and the writes into it, or a
    remote store's token), without the store's folder or server address before it."""
    from kgraph.store.embedded import store_version

    return ":".join(store_version(repository).rsplit(":", 2)[-2:])


def query_stopped(request: Request, exc: Exception) -> PlainTextResponse:
    """A page's query stopped by the worker pool (timeout, overload): its status, e.g. 503
    with Retry-After, and the reason, as the endpoint answers it."""
    assert isinstance(exc, QueryStopped)
    return PlainTextResponse(f"{exc}\n", status_code=exc.status, headers=exc.headers)


def worker_count(settings: Settings) -> int:
    """Query worker processes: the configured number, else min(4, CPUs) but at least 2."""
    return settings.workers or max(2, min(4, os.cpu_count() or 2))


def pool_limits(settings: Settings) -> PoolLimits:
    return PoolLimits(
        workers=worker_count(settings), max_workers=settings.max_workers,
        queue=settings.queue, client_concurrency=settings.client_concurrency,
        client_slow=settings.client_slow, memory=settings.worker_memory,
        stream_after=settings.stream_after,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Threads for the workers' pipes; stop the query workers when the server shuts down.

    Each query hands its answer over through a thread (``asyncio.to_thread``): the default
    pool (CPUs + 4 threads) would queue 32 concurrent requests behind each other."""
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=64, thread_name_prefix="kgraph-pipes"))
    warmer = None
    if app.state.settings.warm:  # pages' per-version data computed before a reader asks
        from kgraph.web.warm import Warmer

        warmer = Warmer(app.state.repository).start()
    app.state.warmer = warmer
    yield
    if warmer is not None:
        warmer.close()
    app.state.executor.close()


def create_app(repository: Repository, settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="kgraph", version="0.1.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    app.state.repository = repository
    app.state.settings = settings = settings or Settings()
    from kgraph.web.sparql import router as sparql_router

    app.state.executor = make_executor(repository, worker_count(settings),
                                       pool_limits(settings))
    app.add_exception_handler(QueryStopped, query_stopped)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,  # never credentials, so "*" can never leak them
            allow_methods=["GET", "POST"],
            allow_headers=["Accept", "Content-Type", "Authorization"],
            expose_headers=["Server-Timing", "X-Kgraph-Truncated", "X-Kgraph-Truncated-By",
                            "X-Kgraph-Max-Rows", "X-Kgraph-Max-Bytes", "X-Kgraph-Streamed"],
        )
    app.include_router(sparql_router)
    app.add_api_route("/health", health, methods=["GET"], summary="Liveness and store size")
    from kgraph.web import pages  # imported here: routers depend on get_repository above

    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    app.include_router(pages.router)
    from kgraph.web.explore import router as explore_router

    app.include_router(explore_router)
    from kgraph.web.audit import router as audit_router

    app.include_router(audit_router)
    from kgraph.web.queries_api import router as queries_router

    app.include_router(queries_router)
    from kgraph.web.download import router as download_router

    app.include_router(download_router)
    from kgraph.web.ontology_doc import router as ontology_router

    app.include_router(ontology_router)
    app.include_router(__import__("kgraph.web.responsible", fromlist=["router"]).router)
    app.include_router(__import__("kgraph.web.coverage", fromlist=["router"]).router)
    app.include_router(__import__("kgraph.web.sources", fromlist=["router"]).router)
    app.add_middleware(Guard, settings=settings)  # outermost: runs before CORS and routing
    return app
