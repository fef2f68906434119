"""The benchmark's pieces: rdflib behind the same app (generic worker path) and the load loop."""

from __future__ import annotations

import asyncio
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import ROOT
from factories import sample_documents
from kgraph.analysis.queries import load_query
from kgraph.graph.mapping import document_graph
from kgraph.resources import resource_graphs
from kgraph.store.embedded import OxigraphRepository

sys.path.insert(0, str(ROOT / "bench"))
from bench_endpoint import RdflibRepository, fire, synthetic_graphs
from kgraph.web.app import create_app


@pytest.fixture
def rdflib_repo() -> RdflibRepository:
    repo = RdflibRepository()
    payload = resource_graphs(bodies=False)  # rdflib is too slow for every body of the state
    payload.update({str(g.name): g.to_ntriples() for g in map(document_graph, sample_documents())})
    repo.replace_graphs(payload)
    return repo


def canonical(records: list[dict[str, str | None]]) -> list[str]:
    return sorted(json.dumps({k: v for k, v in r.items() if v is not None}, sort_keys=True)
                  for r in records)


def test_rdflib_repository_answers_like_oxigraph(rdflib_repo: RdflibRepository,
                                                 sample_repo: OxigraphRepository) -> None:
    sparql = load_query("implementers").render({"doc": "28-CT/TW"})
    assert canonical(rdflib_repo.query(sparql).records()) == canonical(
        sample_repo.query(sparql).records())
    assert rdflib_repo.graph_names() == sample_repo.graph_names()
    assert rdflib_repo.query("ASK { ?s ?p ?o }").boolean is True
    rdflib_repo.drop_graphs(rdflib_repo.graph_names())
    assert len(rdflib_repo) == 0


def test_rdflib_behind_the_endpoint_and_the_load_loop(rdflib_repo: RdflibRepository,
                                                      sample_repo: OxigraphRepository,
                                                      live_server: type) -> None:
    sparql = load_query("implementers").render({"doc": "28-CT/TW"})
    with live_server(create_app(rdflib_repo)) as server:
        url = server.url + "/sparql"
        answer = httpx.post(url, data={"query": sparql}, timeout=60)  # rdflib: slow when loaded
        construct = httpx.get(url, timeout=60, params={
            "query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 5", "format": "nt"})
        dataset = httpx.get(url, timeout=60, params={
            "query": "ASK {}", "default-graph-uri": rdflib_repo.graph_names()[0]})
        load = fire(url, ["ASK { ?s ?p ?o }", "SELECT * { ?s ?p ?o } LIMIT 1"],
                    requests=40, concurrency=4, time_cap=30)
        # in a thread of its own: browser tests may leave an event loop on this one
        with ThreadPoolExecutor(1) as pool:
            numbers = pool.submit(asyncio.run, load).result()
    got = [{k: v["value"] for k, v in b.items()} for b in answer.json()["results"]["bindings"]]
    assert canonical(got) == canonical(sample_repo.query(sparql).records())
    assert len(construct.text.strip().splitlines()) == 5
    assert dataset.status_code == 400  # dataset selection needs the Oxigraph engine
    assert numbers["requests"] == 40 and numbers["errors"] == 0, numbers.get("error_reasons")
    assert 0 < numbers["p50_ms"] <= numbers["p99_ms"]


def test_synthetic_graphs_cover_every_province() -> None:
    graphs = synthetic_graphs(1)
    plan_graphs = [g for g in graphs if "/graph/" in g and "-kh-ubnd/" in g]
    assert len(plan_graphs) == 34
