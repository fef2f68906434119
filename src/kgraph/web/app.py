"""FastAPI application factory; the repository reaches handlers as a dependency.

Tests build the app over an in-memory repository; ``kgraph serve`` over the persistent store.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from kgraph.store.embedded import Repository
from kgraph.web.settings import Settings

log = logging.getLogger("kgraph.web")


def get_repository(request: Request) -> Repository:
    """FastAPI dependency: the repository this app serves."""
    return request.app.state.repository


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def log_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                       ) -> Response:
    """One log line per request with its status and duration."""
    started = time.perf_counter()
    response = await call_next(request)
    log.info("%s %s %d %.1fms", request.method, request.url.path, response.status_code,
             (time.perf_counter() - started) * 1000)
    return response


def health(request: Request) -> dict[str, object]:
    """Status, triple count and named graphs: enough for a load balancer and a glance."""
    repository = get_repository(request)
    try:
        graphs = repository.graph_names()
        triples = len(repository)
    except Exception as exc:  # the store is down or unreachable: say so, with 200 from the app
        return {"status": "error", "error": str(exc), "triples": None, "graphs": []}
    return {"status": "ok", "triples": triples, "graphs": graphs}


def worker_count(settings: Settings) -> int:
    """Query worker processes: the configured number, else min(4, CPUs) but at least 2."""
    return settings.workers or max(2, min(4, os.cpu_count() or 2))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Stop the query workers when the server shuts down (graceful shutdown)."""
    yield
    app.state.executor.close()


def create_app(repository: Repository, settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="kgraph", version="0.1.0", lifespan=lifespan)
    app.state.repository = repository
    app.state.settings = settings = settings or Settings()
    from kgraph.web.query_workers import make_executor
    from kgraph.web.sparql import router as sparql_router

    app.state.executor = make_executor(repository, worker_count(settings))
    app.middleware("http")(log_requests)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,  # never credentials, so "*" can never leak them
            allow_methods=["GET", "POST"],
            allow_headers=["Accept", "Content-Type", "Authorization"],
            expose_headers=["Server-Timing", "X-Kgraph-Truncated", "X-Kgraph-Max-Rows"],
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
    app.include_router(__import__("kgraph.web.responsible", fromlist=["router"]).router)
    return app
