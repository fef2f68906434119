"""FastAPI application factory; the repository reaches handlers as a dependency.

Tests build the app over an in-memory repository; ``kgraph serve`` over the persistent store.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from kgraph.store import Repository
from kgraph.web.settings import Settings


def get_repository(request: Request) -> Repository:
    """FastAPI dependency: the repository this app serves."""
    return request.app.state.repository


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def create_app(repository: Repository, settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="kgraph", version="0.1.0")
    app.state.repository = repository
    app.state.settings = settings or Settings()
    from kgraph.web import pages  # imported here: routers depend on get_repository above

    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    app.include_router(pages.router)
    return app
