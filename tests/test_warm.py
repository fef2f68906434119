"""The pages' per-version data is computed before a reader asks (``kgraph serve``'s warm-up)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from kgraph.analysis import page_data
from kgraph.graph.vocab import ID
from kgraph.store.embedded import store_version
from kgraph.web import pages
from kgraph.web.app import create_app
from kgraph.web.settings import Settings
from kgraph.web.warm import Warmer


def wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def counting(monkeypatch, module, name: str) -> list[int]:
    calls = [0]
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_served_app_computes_listings_and_explorer_before_the_first_request(
        sample_repo, monkeypatch) -> None:
    listings = counting(monkeypatch, page_data, "document_listing")
    with TestClient(create_app(sample_repo, Settings(warm=True))) as client:
        warmer = client.app.state.warmer
        assert wait_for(lambda: warmer.warmed == store_version(sample_repo))
        assert listings[0] == 1  # computed by the warm-up, with no request yet
        home = client.get("/")
        facets = client.get("/api/facets").json()
        search = client.get("/api/search", params={"q": "gia lai"}).json()
    assert home.status_code == 200 and "2509/KH-UBND" in home.text
    assert "Gia Lai" in facets["provinces"] and search
    assert listings[0] == 1  # the requests read what the warm-up kept


def test_apps_built_without_the_flag_do_not_warm(sample_repo) -> None:
    with TestClient(create_app(sample_repo)) as client:
        assert client.app.state.warmer is None


def test_a_new_store_version_is_warmed_again(sample_repo, monkeypatch) -> None:
    listings = counting(monkeypatch, page_data, "document_listing")
    warmer = Warmer(sample_repo, interval=0.05).start()
    try:
        assert wait_for(lambda: warmer.warmed == store_version(sample_repo))
        first = warmer.warmed
        sample_repo.replace_graphs({str(ID["graph/extra"]): f"<{ID}x> <{ID}p> \"v\" .\n"})
        assert wait_for(lambda: warmer.warmed not in (None, first))
        assert warmer.warmed == store_version(sample_repo)
    finally:
        warmer.close()
    assert listings[0] == 2  # once per version
    graphs = pages.derived(sample_repo, "graph-names", lambda: pytest.fail("not warmed"))
    assert str(ID["graph/extra"]) in graphs  # the new version's names, kept by the warm-up
