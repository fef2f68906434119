"""SPARQL updates over HTTP with the write token obey the query timeout, all or nothing: a
timed-out update changes nothing (on disk no version is left behind), a normal one is seen by
every worker afterwards, and queries keep answering while an update runs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app
from kgraph.web.settings import Settings

TOKEN = "update-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
# a cartesian product feeding an INSERT: about 30 s, far past a 2 s timeout
SLOW = ("INSERT { GRAPH <urn:graph:slow> { ?a <urn:slow> ?n } } WHERE { { SELECT ?a "
        "(COUNT(*) AS ?n) WHERE { GRAPH ?g { ?a <urn:p> ?b . ?c <urn:p> ?d . ?e <urn:p> ?f } }"
        " GROUP BY ?a } }")
FAST = "INSERT DATA { GRAPH <urn:graph:new> { <urn:new> <urn:p> 1 } }"


def filled(repo: OxigraphRepository, size: int = 400) -> OxigraphRepository:
    repo.replace_graphs({"urn:graph:u": "".join(f"<urn:s{i}> <urn:p> {i} .\n"
                                                for i in range(size))})
    return repo


def count(url: str) -> int:
    answer = httpx.get(url, params={"query": COUNT}, timeout=30)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def update(url: str, text: str) -> httpx.Response:
    return httpx.post(url, content=text, timeout=60,
                      headers={**AUTH, "Content-Type": "application/sparql-update"})


@pytest.mark.parametrize("on_disk", [True, False], ids=["on-disk", "in-memory"])
def test_an_update_past_the_timeout_changes_nothing(tmp_path: Path, live_server: type,
                                                     on_disk: bool) -> None:
    repo = filled(OxigraphRepository(tmp_path / "store" if on_disk else None))
    before_versions = repo.directory.versions() if on_disk else []
    before_version = repo.version()
    settings = Settings(write_token=TOKEN, query_timeout=2, workers=2)
    with live_server(create_app(repo, settings)) as server:
        url = server.url + "/sparql"
        before = count(url)
        started = time.monotonic()
        slow = update(url, SLOW)
        took = time.monotonic() - started
        after = count(url)
    assert slow.status_code == 503
    assert "timeout" in slow.text and "nothing was changed" in slow.text
    assert slow.headers["retry-after"]
    assert took < 10  # stopped at the 2 s timeout, not run to its end
    assert after == before == 400
    assert repo.version() == before_version
    if on_disk:
        assert repo.directory.versions() == before_versions  # the unfinished one was deleted


@pytest.mark.parametrize("on_disk", [True, False], ids=["on-disk", "in-memory"])
def test_an_update_is_seen_by_every_worker_and_kept(tmp_path: Path, live_server: type,
                                                     on_disk: bool) -> None:
    repo = filled(OxigraphRepository(tmp_path / "store" if on_disk else None))
    settings = Settings(write_token=TOKEN, query_timeout=20, workers=2, max_workers=4)
    with live_server(create_app(repo, settings)) as server:
        url = server.url + "/sparql"
        assert count(url) == 400
        health = httpx.get(server.url + "/health").json()
        done = update(url, FAST)
        # concurrent queries take every worker the pool has: each one must see the update
        counts: list[int] = []
        threads = [threading.Thread(target=lambda: counts.append(count(url)))
                   for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        updated = httpx.get(server.url + "/health").json()
        graphs = {r["g"]["value"] for r in httpx.get(url, params={
            "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"},
            headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]}
        refused = httpx.post(url, data={"update": "LOAD <http://127.0.0.1:9/x>"},
                             headers=AUTH)
        bad = update(url, "INSERT DATA { <urn:a> <urn:b> }")
    assert done.status_code == 204, done.text
    assert counts == [401] * 12
    assert "urn:graph:new" in graphs
    assert updated["graphs"] == health["graphs"] + 1  # /health counts the new version's graphs
    assert updated["version"] != health["version"]
    assert refused.status_code == 400 and "LOAD" in refused.text
    assert bad.status_code == 400 and "error at 1:" in bad.text
    assert len(repo) == 401 and repo.query(
        "ASK { GRAPH <urn:graph:new> { <urn:new> <urn:p> 1 } }").boolean
    if on_disk:  # durable: a new version, current on disk
        del repo
        reopened = OxigraphRepository(tmp_path / "store", read_only=True)
        assert len(reopened) == 401


def test_queries_keep_answering_while_an_update_runs(tmp_path: Path,
                                                     live_server: type) -> None:
    repo = filled(OxigraphRepository(tmp_path / "store"))
    settings = Settings(write_token=TOKEN, query_timeout=3, workers=2)
    with live_server(create_app(repo, settings)) as server:
        url = server.url + "/sparql"
        count(url)  # fork the pool
        result: dict[str, httpx.Response] = {}
        writer = threading.Thread(target=lambda: result.update(slow=update(url, SLOW)))
        writer.start()
        time.sleep(0.5)
        times = []
        for _ in range(10):
            started = time.monotonic()
            assert count(url) == 400
            times.append(time.monotonic() - started)
        writer.join()
    assert result["slow"].status_code == 503
    assert max(times) < 1.5  # not held behind the update
