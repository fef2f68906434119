"""Data derived from the store, computed once per store version and kept.

Pages need data that takes a scan of the whole store to compute (the lineage graph, the label
index, facets, the audit). Computed per request, a page costs seconds to minutes at national
scale; computed once per store version, it costs a dictionary lookup. The key is the store's
version token (:func:`kgraph.store.embedded.store_version`), so a new build is seen at once
and an old answer is never served for new data.

On disk the values are also pickled into ``<store>/derived/<version>/<name>.pickle`` (written
atomically, removed with their version), so a restarted server, a second worker or a CLI
command reuses them. Values that depend on one document only are kept by content key in
``<store>/derived/documents/`` and survive every build that leaves the document unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import os
import pickle
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from kgraph.store.embedded import OxigraphRepository, Repository, store_version

T = TypeVar("T")
DERIVED = "derived"
_memory: dict[tuple[str, str], Any] = {}
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()
_TOKEN = re.compile(r"[0-9a-f]{32}")  # a version token kgraph writes into a remote store


def _folder(repo: Repository, version: str | None = None) -> Path | None:
    """``<store>/derived/<version>`` for on-disk stores, ``<cache>/remote/<store-id>/<token>``
    for a remote store kgraph has written (its version token, ``version`` when the caller has
    it: a remote store's is a request), None otherwise."""
    if isinstance(repo, OxigraphRepository) and repo.root is not None and repo.path is not None:
        generation = getattr(repo, "_generation", 0)
        name = repo.path.name if repo.path != repo.root else "legacy"
        return repo.root / DERIVED / (f"{name}-{generation}" if generation else name)
    root = _remote_root(repo)
    if root is None:
        return None
    token = (version or store_version(repo)).removeprefix(
        f"{repo.query_url}:").removesuffix(":0")  # type: ignore[attr-defined]
    if not _TOKEN.fullmatch(token):
        # a store kgraph never wrote is versioned by its size, which another writer can leave
        # unchanged: what is derived from it is kept in memory only, never across runs
        return None
    return root / token


def _remote_root(repo: Repository) -> Path | None:
    """``$KGRAPH_CACHE/remote/<store-id>`` for a remote store: the server's host and port and a
    digest of its query URL (never its credentials, which the URL no longer holds)."""
    query_url = getattr(repo, "query_url", None)
    if not isinstance(query_url, str) or not query_url.startswith(("http://", "https://")):
        return None
    parts = urlsplit(query_url)
    host = re.sub(r"[^A-Za-z0-9.-]+", "-", parts.netloc) or "store"
    digest = hashlib.sha256(query_url.encode()).hexdigest()[:16]
    return _cache() / "remote" / f"{host}-{digest}"


def derived_root(repo: Repository) -> Path | None:
    """The folder data derived from a store is kept under, across its versions (the audit
    index): ``<store>/derived`` on disk, ``$KGRAPH_CACHE/remote/<store-id>`` for a remote store
    (its server is not ours to write files on), None in memory."""
    root = store_root(repo)
    if root is not None:
        return root / DERIVED
    return _remote_root(repo)


def kept_root(repo: Repository) -> Path | None:
    """The folder a build keeps values by content key under (``<folder>/derived/documents``:
    the named queries' kept answers): an on-disk store's root; for a remote store, its folder
    in this machine's cache (the server is not ours to write files on; which of those values a
    version uses is said by its version value, kept under the version token the build wrote);
    None in memory."""
    root = store_root(repo)
    return root if root is not None else _remote_root(repo)


def version_folders(repo: Repository) -> tuple[str, str] | None:
    """The folder names of the version an on-disk store reads now: its store version and its
    derived data (None in memory or remote)."""
    folder = _folder(repo)
    if folder is None or not isinstance(repo, OxigraphRepository) or repo.path is None:
        return None
    return repo.path.name, folder.name


def named_version_value(repo: Repository, folder: str, name: str) -> Any:
    """The value of ``name`` kept for another version (its derived folder's name), or None:
    from memory when this process holds it (a loaded process's last build computed it: at
    national scale re-reading its pickles took most of the next build's page-data stage), else
    from disk."""
    root = store_root(repo)
    if root is None:
        return None
    held = _memory.get((_folder_version(root, folder), name))
    if held is not None:
        return held
    return _read(root / DERIVED / folder / f"{name}.pickle")


def _folder_version(root: Path, folder: str) -> str:
    """The version token (:meth:`OxigraphRepository.version`) of an on-disk store's version
    whose derived data is kept in ``folder`` (the inverse of :func:`_folder`)."""
    token, _, generation = folder.partition("-")
    return f"{root}:{token}:{int(generation) if generation.isdigit() else 0}"


def has_named_version_value(repo: Repository, folder: str, name: str) -> bool:
    """Whether another version (its derived folder's name) kept a value ``name``."""
    root = store_root(repo)
    return root is not None and (root / DERIVED / folder / f"{name}.pickle").is_file()


def _lock(key: str) -> threading.Lock:
    with _guard:
        return _locks.setdefault(key, threading.Lock())


def _read(path: Path | str) -> Any:
    """The value pickled at ``path`` (None when absent or unreadable). The collector is off
    while it loads: a lineage or alignment state of a national store is millions of small
    objects, and the collections they trigger cost four times the unpickling itself
    (0.67 vs 0.17 CPU-s for the 20,000-plan lineage)."""
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError,
                             ImportError), open(path, "rb") as handle:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return pickle.load(handle)
        finally:
            if collecting:
                gc.enable()
    return None


def _write(path: Path, value: Any, pickled: bytes | None = None) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as handle:
            if pickled is not None:
                handle.write(pickled)
            else:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)


def derived(repo: Repository, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per store version (memory, then disk); concurrent callers wait for
    the first one instead of computing it again."""
    version = store_version(repo)
    key = (version, name)
    if key in _memory:
        return _memory[key]
    with _lock(name):
        if key in _memory:
            return _memory[key]
        value = _on_disk(repo, name, compute, version)
        for old in [k for k in _memory if k[1] == name]:  # one version per name in memory
            del _memory[old]
        _memory[key] = value
        return value


def derived_on_disk(repo: Repository, name: str, compute: Callable[[], T]) -> T:
    """As :func:`derived`, but held in memory by the caller only (values asked for one by one,
    many per version, each read again from disk when the caller let it go)."""
    with _lock(name):
        return _on_disk(repo, name, compute)


def _on_disk(repo: Repository, name: str, compute: Callable[[], T],
             version: str | None = None) -> T:
    """The value kept on disk for this version, else ``compute()`` kept there (the caller
    holds the name's lock)."""
    folder = _folder(repo, version)
    value = _read(folder / f"{name}.pickle") if folder is not None else None
    if value is None:
        value = compute()
        if folder is not None:
            _write(folder / f"{name}.pickle", value)
            _prune_remote(folder)
    return value


REMOTE_VERSIONS_KEPT = 2  # a remote store's current version and the one before it


def _prune_remote(folder: Path) -> None:
    """Remove the cached data of a remote store's older versions (nobody prunes them as a build
    prunes an on-disk store's): the newest :data:`REMOTE_VERSIONS_KEPT` folders stay."""
    if folder.parent.parent.name != "remote" or folder.parent.parent.parent != _cache():
        return
    with contextlib.suppress(OSError):
        versions = sorted((p for p in folder.parent.iterdir()  # (not kept_root's folder)
                           if p.is_dir() and p != folder and _TOKEN.fullmatch(p.name)),
                          key=lambda p: p.stat().st_mtime, reverse=True)
        for old in versions[REMOTE_VERSIONS_KEPT - 1:]:
            shutil.rmtree(old, ignore_errors=True)


def _cache() -> Path:
    from kgraph.paths import cache_dir

    return cache_dir()


def previous_value(repo: Repository, name: str) -> Any:
    """The value of ``name`` kept for the newest other version of an on-disk store (what an
    incremental computation starts from), or None."""
    folder = _folder(repo)
    if folder is None:
        return None
    candidates = sorted((p for p in folder.parent.glob(f"*/{name}.pickle")
                         if p.parent != folder and p.parent.name != "documents"),
                        key=lambda p: p.stat().st_mtime, reverse=True)
    for path in candidates:
        value = _read(path)
        if value is not None:
            return value
    return None


def forget(repo: Repository) -> None:
    """Drop what is kept in memory for this repository's current version (tests, updates)."""
    version = store_version(repo)
    for key in [k for k in _memory if k[0] == version]:
        del _memory[key]


def document_value(repo: Repository | Path | None, key: str) -> Any:
    """A value kept for one document of an on-disk store by content key (None when absent)."""
    root = store_root(repo)  # joined as text: a record is read for each of thousands of plans
    return (_read(os.path.join(root, DERIVED, "documents", f"{key}.pickle"))
            if root is not None else None)


def has_document_value(repo: Repository | Path | None, key: str) -> bool:
    """Whether a value is kept for ``key`` next to an on-disk store (without reading it)."""
    root = store_root(repo)
    return root is not None and os.path.exists(
        os.path.join(root, DERIVED, "documents", f"{key}.pickle"))


def keep_document_value(repo: Repository | Path | None, key: str, value: Any) -> None:
    """Keep a value for one document next to an on-disk store (in memory there is no need:
    the whole index is kept per version)."""
    root = store_root(repo)
    if root is not None:
        _write(root / DERIVED / "documents" / f"{key}.pickle", value)


def keep_document_pickle(repo: Repository | Path | None, key: str, pickled: bytes) -> None:
    """:func:`keep_document_value` of a value pickled already (a value kept by the digest of
    its pickle is pickled once, not twice)."""
    root = store_root(repo)
    if root is not None:
        _write(root / DERIVED / "documents" / f"{key}.pickle", None, pickled)


def drop_document_value(repo: Repository | Path | None, key: str) -> None:
    """Remove a value kept by :func:`keep_document_value` (one a newer value replaces)."""
    root = store_root(repo)
    if root is not None:
        (root / DERIVED / "documents" / f"{key}.pickle").unlink(missing_ok=True)


@functools.lru_cache(maxsize=200_000)
def graph_digest(graph: str) -> str:
    """The part of a per-document value's key that names its graph (16 hex digits of the
    SHA-256 of its IRI), remembered: a sweep names every graph of a national store, twice."""
    return hashlib.sha256(graph.encode("utf-8")).hexdigest()[:16]


@dataclass
class Swept:
    """What a sweep of the kept document values did: values deleted and their bytes, values
    kept, and its wall time."""

    values: int = 0
    bytes: int = 0
    kept: int = 0
    seconds: float = 0.0

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6


TEMPORARY_AGE = 24 * 3600  # a temporary file this old was left by a write that never ended


def sweep_document_values(repo: Repository | Path | None,
                          dead: Callable[[list[str]], Iterable[str]],
                          *, dry_run: bool = False) -> Swept:
    """Delete the values kept by :func:`keep_document_value` that ``dead`` names (given every
    kept key, it says which nobody will ask for again), and temporary files of writes cut
    short a day ago or more. Nothing else deletes a value whose key nobody asks for again (a
    document's older text, a fingerprint the code moved away from), so without a sweep
    ``derived/documents`` only grows. The caller holds the store's exclusive lock: no writer
    is between its temporary file and its rename. ``dry_run``: count only."""
    started = time.perf_counter()
    swept = Swept()
    root = store_root(repo)
    if root is None:
        return swept
    folder = os.path.join(root, DERIVED, "documents")
    try:
        names = os.listdir(folder)  # one listing: 60,000 names at 20,000 plans
    except OSError:
        return swept
    now = time.time()
    for name in names:
        if name.startswith("."):
            with contextlib.suppress(OSError):
                found = os.stat(os.path.join(folder, name))
                if now - found.st_mtime >= TEMPORARY_AGE:
                    _delete(os.path.join(folder, name), found.st_size, swept, dry_run)
    kept = [name[:-7] for name in names if name.endswith(".pickle") and name[0] != "."]
    gone = set(dead(kept)) & set(kept)
    for key in sorted(gone):
        path = os.path.join(folder, f"{key}.pickle")
        with contextlib.suppress(OSError):
            _delete(path, os.stat(path).st_size, swept, dry_run)
    swept.kept = len(kept) - len(gone)
    swept.seconds = time.perf_counter() - started
    return swept


def _delete(path: str, size: int, swept: Swept, dry_run: bool) -> None:
    if not dry_run:
        os.unlink(path)
    swept.values += 1
    swept.bytes += size


def store_root(repo: Repository | Path | None) -> Path | None:
    """The folder derived data is kept under: an on-disk store's root (or the given folder);
    None for a store in memory or a remote one (values then live in memory only)."""
    if isinstance(repo, Path):
        return repo
    if isinstance(repo, OxigraphRepository) and repo.root is not None:
        return repo.root
    return None


def prune(root: Path, keep: set[str]) -> None:
    """Remove derived data of versions that no longer exist."""
    folder = root / DERIVED
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name != "documents" and entry.name.split("-")[0] not in keep:
            shutil.rmtree(entry, ignore_errors=True)


# Kept per store version a build made: {"base": the version it started from, "derived": its
# folder of derived values, "graphs": every graph it replaced}. What is derived per version (page
# data, the audit index) is updated from the base's for those graphs only.
CHANGED_GRAPHS = "changed-graphs"


def version_value(repo: Repository, name: str) -> Any:
    """The value of ``name`` kept for the repository's current version, or None (never
    computed here: for data a writer keeps up to date, such as the build's source index)."""
    key = (store_version(repo), name)
    if key in _memory:
        return _memory[key]
    folder = _folder(repo, key[0])
    return _read(folder / f"{name}.pickle") if folder is not None else None


def has_version_value(repo: Repository, name: str) -> bool:
    """Whether the value ``name`` of the repository's current version is computed already (held
    in memory, or kept on disk), without reading it."""
    return (store_version(repo), name) in _memory or kept_file(repo, name) is not None


def kept_file(repo: Repository, name: str) -> Path | None:
    """The file the value ``name`` of the repository's current version is kept in, when it is
    on disk (not read: an every-plan answer is tens of thousands of rows)."""
    folder = _folder(repo)
    path = folder / f"{name}.pickle" if folder is not None else None
    return path if path is not None and path.is_file() else None


def link_version_value(repo: Repository, source: Path, name: str) -> None:
    """Keep the value kept in ``source`` (another version's file) as ``name`` of the
    repository's current version: a hard link (a copy where the file system has none), so
    that it outlives the version it was kept for."""
    folder = _folder(repo)
    if folder is None:
        return
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.pickle.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, folder / f"{name}.pickle")


def memory_value(repo: Repository, name: str) -> Any:
    """The value of ``name`` for the repository's current version if this process holds it
    already (never read from disk nor computed: for callers that can do without it)."""
    return _memory.get((store_version(repo), name))


def keep_version_value(repo: Repository, name: str, value: Any) -> None:
    """Keep ``value`` as ``name`` of the repository's current version (disk and memory)."""
    folder = _folder(repo)
    if folder is not None:
        _write(folder / f"{name}.pickle", value)
        _prune_remote(folder)
    for old in [k for k in _memory if k[1] == name]:
        del _memory[old]
    _memory[(store_version(repo), name)] = value
