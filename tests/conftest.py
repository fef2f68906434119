"""Shared fixtures: repositories (in memory), a live server on 127.0.0.1, a real browser.

Tests that need ../shared skip when it is absent. Browser tests skip when Debian's chromium is
absent, except under CI (CI=true), where .ci/run installs it and a skip would hide a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgraph.graph.mapping import document_graph
from kgraph.store.embedded import OxigraphRepository

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KGRAPH_SHARED", ROOT.parent / "shared"))
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("KGRAPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session", autouse=True)
def kgraph_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """KGRAPH_CACHE in a temporary folder: what kgraph derives from remote stores (kept in the
    user's cache folder otherwise) never lands in the cache of whoever runs the tests."""
    folder = tmp_path_factory.mktemp("kgraph-cache")
    before = os.environ.get("KGRAPH_CACHE")
    os.environ["KGRAPH_CACHE"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("KGRAPH_CACHE", None)
    else:
        os.environ["KGRAPH_CACHE"] = before


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture
def sample_repo() -> OxigraphRepository:
    """In-memory store with the hand-made documents of tests/factories.py plus ontology."""
    from factories import sample_documents
    from kgraph.resources import resource_graphs

    repo = OxigraphRepository()
    payload = resource_graphs()
    payload.update({str(g.name): g.to_ntriples() for g in map(document_graph, sample_documents())})
    repo.replace_graphs(payload)
    return repo


@pytest.fixture(scope="session")
def seed_repo() -> OxigraphRepository:
    """In-memory store built from the project's own sources (data/sources), as `kgraph build`."""
    from kgraph.build import build

    repo = OxigraphRepository()
    build([ROOT / "data" / "sources"], repo)
    return repo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """uvicorn serving an ASGI app on 127.0.0.1 in a background thread."""

    def __init__(self, app: object) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server() -> Iterator[type[LiveServer]]:
    """Factory: ``with live_server(app) as server: server.url``."""
    yield LiveServer


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; .ci/run should have installed it")
        pytest.skip(f"{CHROMIUM} is absent")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def artifacts() -> Path:
    """Folder for screenshots and other test artefacts."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
