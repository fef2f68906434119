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


def test_serve_with_a_write_token_updates_within_the_timeout(tmp_path: Path) -> None:
    """``kgraph serve --write-token``: an update past ``--query-timeout`` is stopped and
    changes nothing; a normal one lands as a new store version, kept after the server
    stops; a build meanwhile is refused (one writer)."""
    store = tmp_path / "store"
    repo = OxigraphRepository(store)
    repo.replace_graphs({"urn:graph:u": "".join(f"<urn:s{i}> <urn:p> {i} .\n"
                                                for i in range(400))})
    del repo
    port = free_port()
    env = {**os.environ, "KGRAPH_STORE": ""}
    kgraph = str(Path(sys.executable).with_name("kgraph"))
    process = subprocess.Popen(
        [kgraph, "serve", "--store", str(store), "--port", str(port), "--query-timeout", "6",
         "--workers", "2", "--write-token", "s3cret"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": "Bearer s3cret", "Content-Type": "application/sparql-update"}
    count = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    slow = ("INSERT { GRAPH <urn:graph:slow> { ?a <urn:slow> ?n } } WHERE { { SELECT ?a "
            "(COUNT(*) AS ?n) WHERE { GRAPH ?g { ?a <urn:p> ?b . ?c <urn:p> ?d . "
            "?e <urn:p> ?f } } GROUP BY ?a } }")
    try:
        wait_until_up(url, process)
        stopped = httpx.post(url + "/sparql", content=slow, headers=auth, timeout=60)
        unchanged = httpx.get(url + "/sparql", params=count).json()
        done = httpx.post(url + "/sparql", headers=auth, timeout=60,
                          content="INSERT DATA { GRAPH <urn:graph:u> { <urn:n> <urn:p> 1 } }")
        changed = httpx.get(url + "/sparql", params=count).json()
        build = subprocess.run([kgraph, "build", "--store", str(store), "data/sources"],
                               capture_output=True, text=True, env=env, timeout=120,
                               cwd=Path(__file__).resolve().parents[1])
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
    assert stopped.status_code == 503 and "nothing was changed" in stopped.text, output
    assert unchanged["results"]["bindings"][0]["n"]["value"] == "400"
    assert done.status_code == 204, done.text
    assert changed["results"]["bindings"][0]["n"]["value"] == "401"
    assert build.returncode != 0 and "in use" in build.stderr  # the served store is held
    assert len(OxigraphRepository(store, read_only=True)) == 401
