"""Query workers: they do not outlive the server (even killed with SIGKILL), and pages run their
SPARQL in them through ``pooled_repository`` under the timeout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Annotated

from fastapi import Depends

from conftest import ROOT
from kgraph.store.embedded import Repository
from kgraph.web.query_workers import pooled_repository

Pooled = Annotated[Repository, Depends(pooled_repository)]

SERVER = r'''
import asyncio
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.query_workers import Job, WorkerPool

async def main() -> None:
    pool = WorkerPool(OxigraphRepository(), 2)
    await pool.run(Job("ASK {}"), 5)
    print(" ".join(str(w.process.pid) for w in pool._all), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
'''


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return "\tZ" not in next(line for line in status if line.startswith("State:"))
    except FileNotFoundError:
        return False


def test_workers_die_with_a_killed_server() -> None:
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    assert server.stdout is not None
    workers = [int(pid) for pid in server.stdout.readline().split()]
    assert len(workers) == 2 and all(running(pid) for pid in workers)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    deadline = time.monotonic() + 5
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in workers if running(pid)]
    for pid in survivors:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


BOMB = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h }"


def page_app(size: int = 300, timeout: float = 2.0) -> tuple[object, object]:
    """An app with two probe pages that query through :func:`pooled_repository`, as the
    web pages do (one sync route, run in a thread; one async)."""
    from kgraph.store.embedded import OxigraphRepository
    from kgraph.web.app import create_app
    from kgraph.web.query_workers import PooledRepository
    from kgraph.web.settings import Settings

    repo = OxigraphRepository()
    repo.replace_graphs({"urn:graph:pages": "".join(f"<urn:s{i}> <urn:p> {i} .\n"
                                                    for i in range(size))})
    app = create_app(repo, Settings(workers=2, query_timeout=timeout))
    def count(repository: Pooled, query: str) -> dict[str, object]:
        rows = repository.query(query).rows
        return {"rows": [[str(t) for t in row] for row in rows],
                "pooled": isinstance(repository, PooledRepository)}

    async def acount(repository: Pooled, query: str) -> dict[str, object]:
        assert isinstance(repository, PooledRepository)
        return {"rows": len((await repository.aquery(query)).rows)}

    app.add_api_route("/probe", count)
    app.add_api_route("/aprobe", acount)
    return app, repo


def test_a_page_query_runs_in_the_pool_with_the_timeout(live_server: type) -> None:
    import httpx

    app, repo = page_app()
    lookup = "SELECT ?o WHERE { <urn:s7> <urn:p> ?o }"
    with live_server(app) as server:
        answer = httpx.get(server.url + "/probe", params={"query": lookup}).json()
        asynchronous = httpx.get(server.url + "/aprobe", params={"query": lookup}).json()
        started = time.monotonic()
        stopped = httpx.get(server.url + "/probe", params={"query": BOMB}, timeout=30)
        took = time.monotonic() - started
        refused = httpx.get(server.url + "/probe", params={
            "query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"})
        workers = {w.process.pid for w in app.state.executor._all}  # type: ignore[attr-defined]
        after = httpx.get(server.url + "/probe", params={"query": lookup}).json()
    assert answer == {"rows": [["7"]], "pooled": True}
    assert [[str(t) for t in row] for row in repo.query(lookup).rows] == answer["rows"]
    assert asynchronous == {"rows": 1}
    assert stopped.status_code == 503 and "timeout" in stopped.text
    # the budget it ran out of, and where the named queries' kept answers are
    assert "2 s timeout (the time budget of one request" in stopped.text
    assert "/api/queries/NAME" in stopped.text
    assert stopped.headers["retry-after"] == "2"
    assert took < 10  # stopped at the 2 s timeout, not run to its end
    assert refused.status_code == 400 and "SERVICE" in refused.text
    assert os.getpid() not in workers
    assert after["rows"] == [["7"]]
