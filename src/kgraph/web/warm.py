"""Compute what the pages read once per store version before a reader asks for it.

The home listing, the ``/raci`` list, the reference graph's change events, the explorer's label
index, facets and flow index (embedded stores), the graph names and the quad count are each a
scan of the whole store (or of the reference graph), kept per store version
(:mod:`kgraph.store.derived`). Left to the first request, the first reader after a new version
waits for every scan that page needs (minutes at national scale). ``kgraph serve`` starts a
:class:`Warmer`: a background thread that computes them as soon as the server opens a version
and again whenever the version changes (an update through the endpoint). A request that
arrives during the computation waits for that one computation; it never starts a second.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable

from kgraph.store.embedded import Repository, store_version

log = logging.getLogger("kgraph.web.warm")


def page_data(repository: Repository) -> list[tuple[str, Callable[[], object]]]:
    """What the pages keep per store version (each kept once computed): those a build updates
    first, then the RACI list."""
    from kgraph.analysis.flow_index import embedded, flow_index
    from kgraph.analysis.page_data import explorer_for, home_listing, listing_search, store_counts
    from kgraph.analysis.succession import change_events
    from kgraph.web.pages import raci_listing

    computed: list[tuple[str, Callable[[], object]]] = [
        ("graph names and quad count", lambda: store_counts(repository)),
        ("home listing", lambda: home_listing(repository)),
        ("home search", lambda: listing_search(repository)),
        ("reference change events", lambda: change_events(repository)),
        ("explorer data", lambda: explorer_for(repository).index.prepare()),
        # a build does not update it (a scan of the whole store)
        ("RACI list", lambda: raci_listing(repository))]
    if embedded(repository):
        from kgraph.analysis import duties_answer

        computed.append(("every plan's reporting duties and deadlines",
                         lambda: duties_answer.warm(repository)))
        # last: /api/path walks the store until it is ready (what only one route reads waits
        # for what every page reads)
        computed.append(("explorer flow index", lambda: flow_index(repository)))
    return computed


def warm(repository: Repository, stop: threading.Event | None = None) -> list[str]:
    """Compute every page's per-version data of the current version; the names computed."""
    done = []
    for name, compute in page_data(repository):
        if stop is not None and stop.is_set():
            break
        started = time.perf_counter()
        try:
            compute()
        except Exception as exc:  # a page that cannot compute says so itself, when asked
            log.warning("warm-up: %s failed: %s", name, exc)
            continue
        log.info("warm-up: %s ready in %.1f s", name, time.perf_counter() - started)
        done.append(name)
    # The per-version data is many long-lived objects: left to the cyclic collector,
    # every full collection walks them all and stalls whichever request triggered it. They
    # live as long as their version: moved out of the collector's sight.
    gc.freeze()
    return done


class Warmer:
    """A daemon thread warming each store version the repository answers from."""

    def __init__(self, repository: Repository, interval: float = 5.0) -> None:
        self.repository = repository
        self.interval = interval
        self.stop = threading.Event()
        self.warmed: str | None = None  # the version last warmed
        self.thread = threading.Thread(target=self._run, name="kgraph-warm", daemon=True)

    def start(self) -> Warmer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                version = store_version(self.repository)
            except Exception as exc:  # a remote store that is down: try again later
                log.warning("warm-up: store version unknown: %s", exc)
                version = None
            if version is not None and version != self.warmed:
                warm(self.repository, self.stop)
                self.warmed = version
            self.stop.wait(self.interval)
