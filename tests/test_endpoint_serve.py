"""``kgraph serve`` as users run it: a subprocess over an on-disk store, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import free_port
from factories import sample_documents
from kgraph.build import load
from kgraph.graph.mapping import document_graph
from kgraph.store.embedded import OxigraphRepository


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/health", timeout=1)
            return
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"kgraph serve did not start: {process.stdout.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.2)


def test_serve_an_on_disk_store_with_env_and_flags(tmp_path: Path) -> None:
    store = tmp_path / "store"
    repo = OxigraphRepository(store)
    load([document_graph(d) for d in sample_documents()], repo)
    expected = len(repo)
    del repo  # release the RocksDB lock for the server
    port = free_port()
    env = {**os.environ, "KGRAPH_MAX_ROWS": "4", "KGRAPH_WRITE_TOKEN": "", "KGRAPH_STORE": ""}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("kgraph")), "serve", "--store", str(store),
         "--port", str(port), "--query-timeout", "5", "--workers", "2",
         "--allowed-host", "kgraph.test", "--allowed-host", "127.0.0.1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        health = httpx.get(url + "/health").json()
        answer = httpx.get(url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
        update = httpx.post(url + "/sparql", data={"update": "CLEAR ALL"})
        sandboxed = httpx.get(url + "/health").json()["worker_sandbox"]
        named = httpx.get(url + "/health", headers={"Host": "kgraph.test:80"})
        rebound = httpx.get(url + "/health", headers={"Host": "localhost"})
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
    assert health["triples"] == expected
    assert len(answer.json()["results"]["bindings"]) == 4  # KGRAPH_MAX_ROWS from the env
    assert answer.headers["x-kgraph-truncated"] == "true"
    assert update.status_code == 403  # read-only without a write token
    assert sandboxed["seccomp"] is True and sandboxed["problem"] is None
    assert named.status_code == 200 and rebound.status_code == 421  # only --allowed-host
    # graceful: the lifespan ran (workers stopped); uvicorn then re-raises SIGTERM by design
    assert "Application shutdown complete" in output
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "read-only" in output
