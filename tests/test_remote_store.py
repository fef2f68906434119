"""RemoteRepository against a real Oxigraph server (the PyPI ``oxigraph`` binary).

The server is started on a free 127.0.0.1 port in a temporary directory, or taken from
``KGRAPH_TEST_REMOTE_URL`` when CI runs one. The sample documents are loaded as ``kgraph build``
loads them; the ``implementers`` named query then runs through the CLI and through the app,
both of which must answer exactly what the embedded store answers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from conftest import free_port
from factories import sample_documents
from kgraph.analysis.queries import load_query
from kgraph.build import load
from kgraph.cli import app as cli
from kgraph.errors import StoreError
from kgraph.graph.mapping import document_graph
from kgraph.store.embedded import OxigraphRepository, open_repository, store_version
from kgraph.store.remote import RemoteRepository
from kgraph.web.app import create_app
from kgraph.web.settings import Settings


def oxigraph_binary() -> str | None:
    beside = Path(sys.executable).with_name("oxigraph")
    return str(beside) if beside.exists() else shutil.which("oxigraph")


@pytest.fixture(scope="module")
def remote_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Root URL of an Oxigraph server holding the sample documents."""
    given = os.environ.get("KGRAPH_TEST_REMOTE_URL")
    process = None
    if given:
        url = given.rstrip("/")
    else:
        binary = oxigraph_binary()
        if binary is None:
            if os.environ.get("CI") == "true":
                pytest.fail("the oxigraph server binary is missing (pip install oxigraph)")
            pytest.skip("the oxigraph server binary is absent")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            [binary, "serve", "--location", str(tmp_path_factory.mktemp("oxigraph")),
             "--bind", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    pytest.fail("oxigraph server did not start")
                time.sleep(0.1)
    repo = open_repository(url)
    load([document_graph(d) for d in sample_documents()], repo)
    yield url
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


def implementers() -> str:
    return load_query("implementers").render({"doc": "28-CT/TW"})


def normalised(records: list[dict[str, str | None]]) -> list[str]:
    return sorted(json.dumps({k: v for k, v in r.items() if v is not None}, sort_keys=True)
                  for r in records)


def test_open_repository_returns_a_remote_store(remote_url: str,
                                                sample_repo: OxigraphRepository) -> None:
    repo = open_repository(remote_url)
    assert isinstance(repo, RemoteRepository)
    assert repo.query_url == remote_url + "/query"
    assert repo.graph_names() == sample_repo.graph_names()
    assert len(repo) == len(sample_repo)
    assert normalised(repo.query(implementers()).records()) == normalised(
        sample_repo.query(implementers()).records())


def test_replace_and_drop_graphs_remotely(remote_url: str) -> None:
    repo = RemoteRepository.from_url(remote_url)
    repo.replace_graphs({"urn:test:g": "<urn:a> <urn:b> \"one\" .\n"})
    size, version = len(repo), store_version(repo)
    repo.replace_graphs({"urn:test:g": "<urn:a> <urn:b> \"two\" .\n"})
    rows = repo.query("SELECT ?o WHERE { GRAPH <urn:test:g> { ?s ?p ?o } }").rows
    assert [str(r[0]) for r in rows] == ["two"]
    # same size, new content: data derived from the store (the explorer's) is not reused
    assert len(repo) == size and store_version(repo) != version
    assert store_version(RemoteRepository.from_url(remote_url)) == store_version(repo)
    repo.drop_graphs(["urn:test:g"])
    assert "urn:test:g" not in repo.graph_names()
    with pytest.raises(SyntaxError):
        repo.query("SELECT * WHERE {")


def test_cli_query_against_the_remote_store(remote_url: str,
                                            sample_repo: OxigraphRepository) -> None:
    result = CliRunner().invoke(cli, ["query", "implementers", "--param", "doc=28-CT/TW",
                                      "--store", remote_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    records = got if isinstance(got, list) else got.get("rows", got.get("results"))
    assert normalised(records) == normalised(sample_repo.query(implementers()).records())


def test_endpoint_proxies_to_the_remote_store_with_the_same_safety(
        remote_url: str, sample_repo: OxigraphRepository, live_server: type) -> None:
    repo = RemoteRepository.from_url(remote_url)
    with live_server(create_app(repo)) as server:
        url = server.url + "/sparql"
        answer = httpx.post(url, data={"query": implementers()})
        service = httpx.get(url, params={
            "query": f"SELECT * WHERE {{ SERVICE <{remote_url}/query> {{ ?s ?p ?o }} }}"})
        unknown = httpx.get(url, params={"query": "SELECT * FROM <urn:none> WHERE { ?s ?p ?o }"})
        broken = httpx.get(url, params={"query": "SELECT * WHERE {"})
        health = httpx.get(server.url + "/health").json()
    with live_server(create_app(repo, Settings(max_rows=3))) as server:
        capped = httpx.get(server.url + "/sparql",
                           params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert answer.status_code == 200, answer.text
    got = [{k: v["value"] for k, v in b.items()} for b in answer.json()["results"]["bindings"]]
    assert normalised(got) == normalised(sample_repo.query(implementers()).records())
    assert len(capped.json()["results"]["bindings"]) == 3
    assert capped.headers["x-kgraph-truncated"] == "true"
    assert service.status_code == 400 and unknown.status_code == 400
    assert broken.status_code == 400 and "1:" in broken.text
    assert health["status"] == "ok" and health["triples"] >= len(sample_repo)


def test_large_replacement_goes_through_staging_graphs(remote_url: str) -> None:
    """Past the request limit, graphs are written to staging graphs (here with Oxigraph's
    Graph Store Protocol) and switched over; a failure leaves the live graph as it was."""
    given = RemoteRepository.from_url(remote_url)
    repo = RemoteRepository(given.query_url, given.update_url, given.gsp_url,
                            max_update_bytes=1024)
    lines = "".join(f'<urn:big:s{i}> <urn:big:p> "giá trị {i}" .\n' for i in range(200))
    repo.replace_graphs({"urn:test:big": lines, "urn:test:empty": ""})
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:test:big> { ?s ?p ?o } }"
    assert int(repo.query(count).rows[0][0]) == 200
    with pytest.raises(StoreError):
        repo.replace_graphs({"urn:test:big": lines + "<urn:big:x> <urn:big:p> broken .\n"})
    assert int(repo.query(count).rows[0][0]) == 200
    assert not [g for g in repo.graph_names() if g.startswith("urn:kgraph:staging:")]
    repo.drop_graphs(["urn:test:big"])
