"""Storage behind one repository interface.

The embedded, persistent Oxigraph store is the default; tests swap in an in-memory one (the
same class with no path). On disk every write goes into a new store version that becomes
current in one rename (:class:`StoreDirectory`): a build either lands completely or not at
all, and readers never see half of it. In memory, a write is one SPARQL update (one
transaction).
Queries see the union of all named graphs as their default graph, so analysts need no GRAPH
clause unless they ask "who says so".
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal as TypingLiteral
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from kgraph.errors import StoreError

ResultKind = TypingLiteral["select", "ask", "graph"]


@dataclass
class QueryResult:
    """Backend-neutral result: rows of rdflib terms (None where unbound), a boolean or triples."""

    kind: ResultKind
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Identifier | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[tuple[Identifier, Identifier, Identifier]] = field(default_factory=list)

    def records(self) -> list[dict[str, str | None]]:
        """Rows as plain dicts of strings (for JSON, CSV and tables)."""
        return [
            {v: (None if t is None else str(t)) for v, t in zip(self.variables, row, strict=True)}
            for row in self.rows
        ]


class Repository(Protocol):
    """What kgraph needs from a triple store."""

    def query(self, sparql: str) -> QueryResult: ...

    def replace_graphs(self, graphs: Mapping[str, str]) -> None:
        """Atomically replace each named graph (IRI -> N-Triples text)."""

    def drop_graphs(self, names: Iterable[str]) -> None: ...

    def graph_names(self) -> list[str]: ...

    def __len__(self) -> int: ...


def to_rdflib(term: object) -> Identifier | None:
    """Convert a pyoxigraph term to its rdflib twin."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unsupported term {term!r}")


def to_query_result(result: object) -> QueryResult:
    """A pyoxigraph answer (boolean, solutions or triples) as a backend-neutral result."""
    if isinstance(result, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = [tuple(to_rdflib(solution[v]) for v in variables) for solution in result]
        return QueryResult("select", variables=variables, rows=rows)
    triples = [
        (to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
        for t in result  # type: ignore[attr-defined]
    ]
    return QueryResult("graph", triples=triples)  # type: ignore[arg-type]


def plain_result(result: object) -> QueryResult:
    """A pyoxigraph answer with each SELECT value as its plain string (a term's value: what
    :meth:`QueryResult.records`, the CSV and the table print) instead of an rdflib term, for a
    caller that only prints it: making 400,000 rdflib terms took 3 of the 7 s of every plan's
    reporting duties at 20,000 plans."""
    if not isinstance(result, ox.QuerySolutions):
        return to_query_result(result)
    width = range(len(result.variables))
    rows = [tuple(None if (term := solution[i]) is None else term.value for i in width)
            for solution in result]
    return QueryResult("select", variables=[v.value for v in result.variables],
                       rows=rows)  # type: ignore[arg-type]


def solution_records(result: object) -> list[dict[str, str | None]]:
    """A pyoxigraph SELECT answer as :meth:`QueryResult.records` gives it (the same strings:
    a term's value), without making rdflib terms first: reading a corpus-wide answer costs
    a third as much."""
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError("not a SELECT answer")
    plain = plain_result(result)
    return [dict(zip(plain.variables, row, strict=True)) for row in plain.rows]


def query_records(repo: object, sparql: str) -> list[dict[str, str | None]]:
    """``repo.query(sparql).records()``, fast when the repository has a ``records`` method."""
    records = getattr(repo, "records", None)
    if callable(records):
        return records(sparql)  # type: ignore[no-any-return]
    return repo.query(sparql).records()  # type: ignore[attr-defined,no-any-return]


def plain_values(result: QueryResult) -> list[tuple[str | None, ...]]:
    """Each row's values as plain strings (a term's lexical form or IRI), None for an unbound
    value or an empty string: what Virtuoso's CSV says of them, so both answers compare."""
    return [tuple(None if t is None or str(t) == "" else str(t) for t in row)
            for row in result.rows]


def plain_rows(repo: object, sparql: str) -> list[tuple[str | None, ...]]:
    """:func:`plain_values` of a SELECT answer, as compactly as the repository gives them
    (a remote store's ``plain_rows``: Virtuoso's CSV)."""
    plain = getattr(repo, "plain_rows", None)
    if callable(plain):
        return plain(sparql)[1]  # type: ignore[no-any-return]
    return plain_values(repo.query(sparql))  # type: ignore[attr-defined]


# What an IRI written ``<...>`` in a query cannot hold (SPARQL's IRIREF): a store may still hold
# such an IRI (a server's own bulk load takes it), which a query must then not name.
_UNWRITABLE_IRI = re.compile(r'[\s<>"{}|^`\\]')


def writable_iri(iri: str) -> bool:
    """Whether a query can name the IRI between ``<>``."""
    return not _UNWRITABLE_IRI.search(iri)


def replace_graphs_update(graphs: Mapping[str, str]) -> str:
    """One SPARQL update that drops and refills each graph (one transaction)."""
    parts = []
    for name, ntriples in graphs.items():
        parts.append(f"DROP SILENT GRAPH <{name}>")
        if ntriples.strip():
            parts.append(f"INSERT DATA {{ GRAPH <{name}> {{\n{ntriples}}} }}")
    return " ;\n".join(parts)


_DECIMAL = re.compile(
    r'"([-+]?[0-9]*\.?[0-9]*)"\^\^<http://www\.w3\.org/2001/XMLSchema#decimal> \.$')


def as_stored(line: str) -> str:
    """An N-Triples line as the store gives it back (Oxigraph keeps decimals canonical:
    "0.350" is read back as "0.35"); a line it misjudges is only deleted and inserted again."""
    if not line.endswith("#decimal> ."):
        return line
    found = _DECIMAL.search(line)
    if found is None:
        return line
    try:
        value = format(Decimal(found.group(1)).normalize(), "f")
    except ArithmeticError:
        return line
    value = "0" if value in ("-0", "+0") else value
    return f"{line[:found.start(1)]}{value}{line[found.end(1):]}"


# The last text :func:`stored_lines` read and its lines: a build's directive coverage asks for
# the lines of a province's graph twice (what the version held before, then the difference to
# write), the same text object each time (28,000 lines at 20,000 plans: 13 ms a reading).
_last_lines: tuple[str, dict[str, str]] | None = None


def stored_lines(ntriples: str) -> dict[str, str]:
    """Each triple line of an N-Triples text (graphs written from strings, no blank nodes) as
    the store's dump of it would give it back -> the line as written. Callers read the mapping
    and never change it: the same text asked for again gets the same one."""
    global _last_lines
    last = _last_lines
    if last is not None and last[0] is ntriples:
        return last[1]
    found = {(as_stored(line) if line.endswith("#decimal> .") else line): line
             for line in ntriples.split("\n") if line.endswith(" .")}
    _last_lines = (ntriples, found)
    return found


POINTER = "kgraph-current"  # names the version folder queries read
LOCK = "kgraph.lock"  # shared while a server holds the store, exclusive while a build writes
KEEP_VERSIONS = 2  # the current version and the one before it


class StoreBusy(StoreError):
    """Another process holds the store (a server reading it, or a build writing it)."""


class StoreDirectory:
    """A store folder of numbered versions (``v000001`` ...) and a pointer to the current one.

    A write never touches the version readers use: it starts from a checkpoint of the current
    version (RocksDB hard links: milliseconds, whatever the size), fills it (bulk loads are
    fine, nobody sees it yet) and then swaps the pointer file with one ``rename``. A crash leaves
    the old version current; a failed build deletes its unfinished version. A folder written
    before versions existed (RocksDB files at its top) is read as it is and becomes the base
    of the first new version.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._held: str | None = None  # "shared" | "exclusive" while this object holds the lock

    @property
    def pointer(self) -> Path:
        return self.root / POINTER

    def token(self) -> str:
        """What changes whenever the current version does (cheap: one small file read)."""
        try:
            return self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return "legacy" if (self.root / "CURRENT").exists() else ""

    def current(self) -> Path | None:
        """The folder of the current version (the root itself for a pre-version store)."""
        token = self.token()
        if token == "legacy":
            return self.root
        return self.root / token if token else None

    def versions(self) -> list[Path]:
        return sorted(p for p in self.root.glob("v[0-9]*") if p.is_dir())

    def next_version(self) -> Path:
        numbers = [int(p.name[1:]) for p in self.versions() if p.name[1:].isdigit()]
        return self.root / f"v{max(numbers, default=0) + 1:06d}"

    def commit(self, version: Path) -> None:
        """Make ``version`` current with one atomic rename, then drop versions beyond the last
        :data:`KEEP_VERSIONS`."""
        tmp = self.root / f".{POINTER}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(version.name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.pointer)
        self.prune()

    def prune(self) -> None:
        """Drop versions beyond the last :data:`KEEP_VERSIONS`: renamed away at once (nobody
        opens them again), their files deleted by a thread (a version's folder takes a fifth of
        a second to delete: most of a one-plan build's switch otherwise). A deletion cut short
        by the process ending is finished by the next prune."""
        keep = {p.name for p in self.versions()[-KEEP_VERSIONS:]}
        current = self.current()
        for version in self.versions():
            if version.name not in keep and version != current:
                with contextlib.suppress(OSError):
                    version.rename(self.root / f"{STALE}{version.name}")
        from kgraph.store.derived import prune

        prune(self.root, keep | {"legacy"})
        stale = list(self.root.glob(f"{STALE}*"))
        if stale:
            threading.Thread(target=_delete, args=(stale,), name="kgraph-prune").start()

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool, wait: bool = False) -> Iterator[None]:
        """Hold the store's lock: shared by a server, exclusive by a writer.

        Without ``wait`` a writer that finds the store held gets :class:`StoreBusy` at once.
        """
        if self._held == "exclusive" or (self._held and not exclusive):
            yield  # already held by this object (a build's writes inside its own lock)
            return
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / LOCK, "a+")  # noqa: SIM115 (held for the whole block)
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            try:
                fcntl.flock(handle, mode if wait else mode | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreBusy(
                    f"store {self.root} is in use ("
                    + ("a server is reading it: stop `kgraph serve` or pass --wait"
                       if exclusive else "a build is writing it")
                    + ")") from None
            self._held = "exclusive" if exclusive else "shared"
            yield
        finally:
            self._held = None
            handle.close()


STALE = ".stale-"  # a pruned version's folder while its files are deleted


def _delete(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def compact(store: ox.Store) -> None:
    """Merge a store version's files into one sorted run per index (RocksDB's full compaction).

    Each bulk load adds its own files, and the term dictionary's keys are hashes, so every one
    of them spans the whole key space: a version left as the build's loads wrote it makes each
    term look-up (every answer, every quad of a dump) search them all. Measured at 2,000 plans
    (bench/bench_dump.py): the N-Quads dump 16.7 -> 4.3 CPU-µs a quad and the named queries
    1.3-2.3x cheaper, for 5 CPU-s of compaction. Same quads, same dump bytes.
    """
    store.optimize()


def open_read_only(version: Path, attempts: int = 5) -> ox.Store:
    """Open a version read-only; a writer that just closed it may still be swapping files
    (RocksDB reports a missing SST), so a failed open is retried a few times."""
    for attempt in range(attempts):
        try:
            return ox.Store.read_only(str(version))
        except (OSError, RuntimeError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


class OxigraphRepository:
    """Embedded Oxigraph store: persistent in a directory, or in memory when no path is given.

    On disk, every write makes a new store version (:class:`StoreDirectory`); ``path`` is the
    folder of the version this object reads, ``root`` the folder the user named.
    """

    # pyoxigraph runs SEP-0006 LATERAL joins: /sparql accepts them here, and the named
    # queries' Oxigraph texts are what this store runs (NamedQuery.for_repository)
    takes_lateral = True

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.root = path
        self.read_only = read_only
        self._generation = 0  # in-memory stores: counts writes
        self._writable = not read_only
        self.path: Path | None = None
        try:
            if path is None:
                self._store = ox.Store()
            else:
                self.directory = StoreDirectory(path)
                current = self.directory.current()
                if current is None and read_only:
                    raise OSError(f"no store at {path}")
                if current is None:  # a new store: an empty first version
                    path.mkdir(parents=True, exist_ok=True)
                    current = self.directory.next_version()
                    ox.Store(str(current)).flush()
                    self.directory.commit(current)
                # Read-only until an in-place write needs more (:attr:`native`): builds write
                # new versions and never need the current one open for writing.
                self._store = open_read_only(current)
                self._writable = False
                self.path = current
                self._token = self.directory.token()
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"cannot open store at {path}: {exc}") from exc

    @property
    def reader(self) -> ox.Store:
        """The pyoxigraph store as it is open now (read-only on disk), for callers that look
        statements up by pattern in its indexes."""
        return self._store

    @property
    def native(self) -> ox.Store:
        """The pyoxigraph store, for callers that stream results in its own formats or write
        in place (a server with a write token): opened for writing on first use then."""
        if not self._writable and not self.read_only and self.path is not None:
            self._store = ox.Store(str(self.path))
            self._writable = True
        return self._store

    def version(self) -> str:
        """Identifies the data this object answers from (cache key of derived data)."""
        if self.root is None:
            return f"memory-{id(self._store)}-{self._generation}"
        return f"{self.root}:{self._token}:{self._generation}"

    def mark_changed(self) -> None:
        """Record a write made to the current version in place (a SPARQL UPDATE by a server
        with a write token), so data derived from the old content is not reused."""
        self._generation += 1

    def adopt_version(self, version: Path) -> None:
        """Make current a version another process filled from this one (a server's update
        worker, under its timeout): one rename, as :meth:`new_version` does, then read it."""
        if self.root is None or self.read_only:
            raise StoreError(f"store {self.root} cannot take a new version here")
        self.directory.commit(version)
        self._store = open_read_only(version)
        self._writable = False
        self.path = version
        self._token = self.directory.token()
        self._generation = 0

    def adopt_store(self, store: ox.Store) -> None:
        """In memory: answer from ``store`` from now on (the whole store replaced at once)."""
        if self.root is not None:
            raise StoreError(f"store {self.root} is on disk: adopt a version instead")
        self._store = store
        self._generation += 1

    def query(self, sparql: str) -> QueryResult:
        return to_query_result(self._store.query(sparql, use_default_graph_as_union=True))

    def plain(self, sparql: str) -> QueryResult:
        """``query(sparql)`` with plain strings for values (:func:`plain_result`)."""
        return plain_result(self._store.query(sparql, use_default_graph_as_union=True))

    def records(self, sparql: str) -> list[dict[str, str | None]]:
        """``query(sparql).records()`` of a SELECT, read straight from Oxigraph's terms."""
        return solution_records(self._store.query(sparql, use_default_graph_as_union=True))

    @contextlib.contextmanager
    def new_version(self, *, wait: bool = False) -> Iterator[ox.Store]:
        """A writable copy of the current version; current when the block ends without error,
        deleted when it raises. In memory, the store itself (callers write in one update)."""
        if self.root is None:
            yield self._store
            self._generation += 1
            return
        if self.read_only:
            raise StoreError(f"store {self.root} is open read-only")
        with self.directory.locked(exclusive=True, wait=wait):
            target = self.directory.next_version()
            store: ox.Store | None = None
            try:
                if self._writable:
                    self._store.flush()
                self._store.backup(str(target))
                store = ox.Store(str(target))
                yield store
                store.flush()
                store = None  # closed (callers drop theirs inside the block): its background
                # compactions end here, before a read-only handle opens the version; a writer
                # still alive then deletes files that handle needs (seen under load)
            except BaseException:
                store = None  # a traceback kept by the caller must not keep the version open
                gc.collect()  # nor a reference cycle (a loader thread's exception and frames)
                shutil.rmtree(target, ignore_errors=True)
                raise
            self.directory.commit(target)
            self._store = open_read_only(target)  # what this object does next is read
            self._writable = False
            self.path = target
            self._token = self.directory.token()
            self._generation = 0

    def compact(self) -> None:
        """A new version holding the same quads compacted (:func:`compact`); readers of the
        current one are not disturbed, and the old one is pruned as after any write."""
        if self.root is None:
            return  # in memory: nothing on disk to merge
        with self.new_version() as store:
            compact(store)
            del store  # closed before the version becomes current (see new_version)

    def replace_graphs(self, graphs: Mapping[str, str]) -> None:
        if graphs:
            with self.new_version() as store:
                store.update(replace_graphs_update(graphs))
                del store  # closed before the version becomes current (see new_version)

    def drop_graphs(self, names: Iterable[str]) -> None:
        update = " ;\n".join(f"DROP SILENT GRAPH <{n}>" for n in names)
        if update:
            with self.new_version() as store:
                store.update(update)
                del store  # closed before the version becomes current (see new_version)

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def __len__(self) -> int:
        return len(self._store)


def store_version(repo: Repository) -> str:
    """The repository's version token, or its size where it has none (remote stores)."""
    version = getattr(repo, "version", None)
    return version() if callable(version) else f"size-{len(repo)}"


def open_repository(location: str | Path | None, *, read_only: bool = False) -> Repository:
    """Open the store a user names: a directory (embedded Oxigraph), an http(s) SPARQL
    endpoint (remote store) or None for memory."""
    if location is None:
        return OxigraphRepository(None)
    if str(location).startswith(("http://", "https://")):
        from kgraph.store.remote import RemoteRepository

        return RemoteRepository.from_url(str(location))
    return OxigraphRepository(Path(location), read_only=read_only)
