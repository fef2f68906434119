"""``kgraph serve``: the web app and SPARQL endpoint over the repository, with uvicorn.

Flags override ``KGRAPH_*`` environment variables (see :class:`kgraph.web.settings.Settings`).
Without ``--write-token`` the embedded store is opened read-only and updates are refused; with
it the server still only reads its current version: each update runs in an update worker that
writes a new version, made current in one step (:mod:`kgraph.web.update_worker`). While
served, the store's lock is held, so a build waits or stops with one line (one writer).
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from kgraph import paths
from kgraph.cli.common import app


@app.command("serve")
def serve(
    store: Annotated[str | None, typer.Option(
        "--store", help="Store directory or http(s) SPARQL endpoint "
                        "(default: $KGRAPH_STORE or the user data folder).")] = None,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    query_timeout: Annotated[float | None, typer.Option(
        help="Seconds before a query is stopped with 503 (default 30).")] = None,
    max_rows: Annotated[int | None, typer.Option(
        help="Rows per answer; longer results are cut and flagged (default 10000).")] = None,
    max_body: Annotated[int | None, typer.Option(
        help="Largest request body in bytes; larger gets 413 (default 1000000).")] = None,
    cors_origin: Annotated[list[str] | None, typer.Option(
        help="Allow this browser origin (repeatable; default: no CORS).")] = None,
    write_token: Annotated[str | None, typer.Option(
        help="Enable SPARQL UPDATE for 'Authorization: Bearer <token>' "
             "(or $KGRAPH_WRITE_TOKEN).")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Query worker processes (default min(4, CPUs), at least 2).")] = None,
    max_workers: Annotated[int | None, typer.Option(
        help="Worker processes in all, long queries included (default 3 x workers).")] = None,
    max_result_bytes: Annotated[int | None, typer.Option(
        help="Bytes per answer; longer answers are cut and flagged (default 32000000).")] = None,
    stream_after: Annotated[int | None, typer.Option(
        help="Answers longer than this many bytes are streamed (default 1000000).")] = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        help="Host name clients may use (repeatable; default: the bound host and loopback "
             "names; '*' for any).")] = None,
    queue: Annotated[int | None, typer.Option(
        help="Requests that may wait for a worker; more get 503 (default 128).")] = None,
    worker_memory: Annotated[int | None, typer.Option(
        help="Bytes of address space a worker may add (default 2 GiB; 0 = no limit).")] = None,
    warm: Annotated[bool, typer.Option(
        help="Compute the pages' per-version data (home and RACI lists, explorer) in the "
             "background at start and after each new version.")] = True,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "info",
) -> None:
    """Serve the web pages and the SPARQL endpoint (/sparql) over the store."""
    import uvicorn

    from kgraph.errors import KgraphError
    from kgraph.store.embedded import open_repository
    from kgraph.web.app import create_app
    from kgraph.web.settings import Settings

    overrides = {
        "store": store, "host": host, "port": port, "query_timeout": query_timeout,
        "max_rows": max_rows, "max_body": max_body, "cors_origins": cors_origin or None,
        "write_token": write_token, "workers": workers, "max_workers": max_workers,
        "max_result_bytes": max_result_bytes, "allowed_hosts": allowed_host or None,
        "queue": queue, "worker_memory": worker_memory, "stream_after": stream_after,
        "warm": warm,
    }
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    location = settings.store or str(paths.default_store_dir())
    try:
        repository = open_repository(location, read_only=not settings.write_token)
    except KgraphError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    typer.echo(f"kgraph: serving {location} on http://{settings.host}:{settings.port}/sparql "
               f"({'read-write with token' if settings.write_token else 'read-only'})", err=True)
    from contextlib import nullcontext

    from kgraph.store.embedded import OxigraphRepository

    # One store version at a time: while served, the store is held and a build waits or stops
    # with a clear line, so no worker ever answers from a version the others do not see.
    held = (repository.directory.locked(exclusive=False)
            if isinstance(repository, OxigraphRepository) and repository.root is not None
            else nullcontext())
    try:
        with held:
            uvicorn.run(create_app(repository, settings), host=settings.host,
                        port=settings.port, log_level=log_level.lower(),
                        timeout_graceful_shutdown=10)
    except KgraphError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


