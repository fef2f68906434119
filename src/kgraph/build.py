"""The ingest pipeline: source files -> document model -> named graphs -> store (+ TriG files).

Built to scale to tens of thousands of plans on one machine:

* files are read, extracted, mapped and validated in worker processes (one per core) and
  stream back one document at a time, so memory does not grow with the corpus;
* on disk the graphs go into a *new store version* (a checkpoint of the current one), in
  batches through Oxigraph's bulk loader, and the version becomes current in one rename at the
  end (:class:`kgraph.store.embedded.StoreDirectory`): never half-written, and a failed build
  leaves the store as it was. In memory (tests) and on remote stores, one update;
* a file whose source text is unchanged since the last build (same SHA-256 in the store, same
  extractor) is not read again, and a TriG file is rewritten only when its text changes;
* a file that cannot be read is reported (one line each, at the end) and the others are
  loaded; ``strict`` stops at the first;
* replacing a document whose new graph loses most of the old one (tasks, assignments, duties)
  is refused unless ``replace``; a replaced version stays in the store
  (:mod:`kgraph.graph.revisions`, ``prov:wasRevisionOf``).
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import multiprocessing.pool
import os
import queue
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kgraph.analysis.validation import Validation, validate_document
from kgraph.errors import KgraphError, SourceError
from kgraph.graph import revisions
from kgraph.graph.mapping import DocumentGraph, document_graph
from kgraph.graph.vocab import ID, sparql_prefixes
from kgraph.ingest import readers
from kgraph.ingest.extract import extract_file
from kgraph.memory import release_before_forks, release_freed
from kgraph.reference.matching import Matcher
from kgraph.resources import CONTENT_DIGEST, digest_of, resource_graphs
from kgraph.store.derived import CHANGED_GRAPHS, Swept
from kgraph.store.embedded import (
    OxigraphRepository,
    Repository,
    compact,
    replace_graphs_update,
)

SOURCE_SUFFIXES = readers.SUFFIXES  # what a folder contributes: readers.is_supported
# Quads per bulk load: Oxigraph's bulk loader writes one set of sorted files (SST, one per
# index) per 1,000,000 quads it is given, and RocksDB merges each set into the store's first
# level, rewriting that level: a set per 200,000 quads made five times the merges (at 4,000
# plans 61 of the main process's 138 CPU-s; 10 GB written for a 1.5 GB store). A batch never
# exceeds it (a larger one would be split into a full set and a small one). ~250 MB of text,
# ~1 GB more inside the loader while it loads.
BATCH_QUADS = 1_000_000
# Quads per bulk load of the directive coverage's graphs: a directive's graphs came in one
# write (640,000-886,000 quads at 20,000 plans), its whole TriG text made, encoded and joined
# in the main process and then held by the loader while it loads, beside the forked aligners
# (the build's process tree peaked in this stage). In batches the main process holds a
# quarter of that at a time; the batches go one after the other, as the write did.
COVERAGE_BATCH = 250_000
FEW_FILES = 100  # up to this many sources, the store is asked about them alone
SMALL_BATCH = 20_000  # below it a transaction beats the bulk loader's fixed cost (SST files)
WORKSPACE_RENEW = 1  # plans' worth of lines a worker validates in one in-memory store (_workspace)
WORKER_GC_OLDER, WORKER_GC_FULL = 10, 100  # documents between a worker's older passes
QUEUED_BATCHES = 1  # batches waiting for the loader thread (memory stays bounded)
LOSS_RATIO = 0.5  # a new graph keeping fewer than half of the old parts is a lossy replacement
PART_TYPES = ("Task", "Assignment", "Duty")
BUILD_GRAPH = str(ID["graph/build"])
_PACKAGE = Path(__file__).resolve().parent


@dataclass
class DocumentSummary:
    """What the build keeps of one loaded document (the graph itself is in the store)."""

    document: str
    name: str
    number: str
    source: Path
    triples: int
    parts: dict[str, int]
    sha256: str = ""  # of the source text read


@dataclass
class FileResult:
    """One source file through extraction, mapping and validation (sent back by a worker)."""

    path: Path
    error: str = ""
    summary: DocumentSummary | None = None
    ntriples: str = ""
    # On disk: the document's and derived graphs' TriG blocks, ready to bulk-load, in UTF-8
    # (what the loader reads: the main process neither decodes them nor encodes them again)
    blocks: bytes = b""
    quads: int = 0  # triples in ``blocks`` (the main process does not count them again)
    sha256: str = ""
    validation: Validation | None = None
    findings: Counter[tuple[str, str]] = field(default_factory=Counter)  # (severity, rule)
    trig_pending: Path | None = None  # written next to its target, renamed after the commit
    derived: dict[str, str] = field(default_factory=dict)  # derived graphs (coverage) to load
    record: object | None = None  # directive coverage's PlanRecord, when no store keeps it


@dataclass
class BuildReport:
    documents: list[DocumentSummary] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)
    ttl_files: list[Path] = field(default_factory=list)
    triples: int = 0
    unchanged: list[Path] = field(default_factory=list)  # same source text, not re-read
    failures: list[str] = field(default_factory=list)  # one line each: "FILE: reason"
    revisions: list[str] = field(default_factory=list)  # replaced versions kept in the store
    # files now stating another document than the graph the store held from them, which
    # the build removed (no file of it states that document now), one line each
    moved: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # the graphs so removed (and pruned)
    # source files the store holds that no file of a folder build names (deleted, or built
    # from elsewhere): kept, unless the build prunes them (then in ``removed`` too)
    absent: list[str] = field(default_factory=list)
    # document IRI -> SHACL validation of its graph (reported, never blocking the build)
    validations: dict[str, Validation] = field(default_factory=dict)
    findings: Counter[tuple[str, str]] = field(default_factory=Counter)
    store_version: str = ""
    directives: list[str] = field(default_factory=list)  # directive coverage recomputed
    continued: list[str] = field(default_factory=list)  # of which continued from a kept state
    swept: Swept | None = None  # kept values no version asks for again, deleted after the switch
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each stage
    load_quads: int = 0  # quads written to the store (documents, derived and shipped graphs)
    load_seconds: float = 0.0  # time spent writing them

    def changed(self) -> bool:
        """Whether the build wrote a new store version's documents (loaded or removed)."""
        return bool(self.documents or self.removed)

    def violations(self) -> int:
        return sum(n for (severity, _), n in self.findings.items() if severity == "Violation")


class BuildObserver(Protocol):
    """Progress of a build (the CLI draws a progress bar from it)."""

    def started(self, total: int, unchanged: int) -> None: ...

    def file_done(self, result: FileResult) -> None: ...

    def stage(self, text: str) -> None: ...


class _Silent:
    def started(self, total: int, unchanged: int) -> None:
        pass

    def file_done(self, result: FileResult) -> None:
        pass

    def stage(self, text: str) -> None:
        pass


# ---------------------------------------------------------------------------- sources

def source_suffixes() -> tuple[str, ...]:
    """File suffixes read as plans (readers for other formats add theirs here)."""
    return SOURCE_SUFFIXES


def collect_sources(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest: the files given, and the plan files inside the folders given."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():  # in name order: one folder's paths differ by their names only, and
            # comparing their names is 12x cheaper than comparing paths (60 ms at 20,000 files)
            found.extend(sorted((p for p in path.iterdir() if readers.is_supported(p)),
                                key=_name))
        elif path.is_file():
            found.append(path)
        else:
            raise SourceError(path, "no such file or folder")
    return found


def _name(path: Path) -> str:
    return path.name


def text_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, as the readers hash a source; '' if unreadable."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


@functools.cache
def extractor_fingerprint() -> str:
    """Changes whenever the code or reference data that make a graph change: a build re-reads
    every file then, however unchanged the sources are."""
    from kgraph.paths import resource_dir
    from kgraph.reference.matching import COMMUNES_BEFORE_TABLE, COMMUNES_TABLE

    digest = hashlib.sha256()
    files = [*(p for stage in ("ingest", "graph", "reference")
               for p in sorted((_PACKAGE / stage).rglob("*.py"))),
             *sorted(resource_dir("reference").glob("*.ttl")),
             *(resource_dir("reference") / "tables" / name  # the matcher reads them
               for name in (COMMUNES_TABLE, COMMUNES_BEFORE_TABLE)),
             *sorted(resource_dir("ontology").glob("*.ttl"))]
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------------------- one file

def ttl_name(mapped: DocumentGraph) -> str:
    return str(mapped.document).removeprefix(str(ID) + "doc/").replace("/", "_") + ".trig"


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_trig(graphs: Iterable[DocumentGraph], out: Path) -> list[Path]:
    """TriG of each graph (rewritten only when its text changed)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for mapped in graphs:
        path = out / ttl_name(mapped)
        text = mapped.to_trig()
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            _write_atomically(path, text)
        written.append(path)
    return written


def part_counts(mapped: DocumentGraph) -> dict[str, int]:
    from rdflib.namespace import RDF

    from kgraph.graph.vocab import KG

    return {t: len(set(mapped.index.subjects(RDF.type, KG[t]))) for t in PART_TYPES}


@functools.cache
def _workspace() -> object:
    """This process's in-memory store for one document at a time (ontology loaded once).

    Made at a process's first document, when the code, ontology and reference tables are
    loaded: they are frozen out of the collector then (``gc.freeze``), so its full passes walk
    a document's objects, not those hundreds of thousands again (a worker freezes again at
    the end of its first document: :func:`_settled`)."""
    import gc

    from kgraph.analysis.shacl_compiled import Workspace

    workspace = Workspace()
    # Oxigraph's memory store keeps what was removed from it and each clear and load walks
    # that (whole plans: 7 ms a document at 50, 4 ms at 10; a fresh store's ontology costs
    # 1.6 ms). Counted in whole plans' worth of lines, each load at least a hundredth: the
    # build's workers load only the ~25 lines the SPARQL constraints can match, so a fresh
    # store every 100 documents (at 10, every 1,000: 0.7 ms a plan to clear and load, 0.4 at
    # 100). Set here: the workspace's module is in the audit fingerprint.
    workspace.RENEW_AFTER = WORKSPACE_RENEW
    gc.freeze()
    return workspace


@functools.cache
def _matcher() -> Matcher:
    """The reference list's matcher (:class:`kgraph.reference.matching.Matcher`), kept ready
    (:mod:`kgraph.prepared`): made from the agencies' and provinces' Turtle by rdflib's parser,
    a twentieth of a CPU-second every one-plan ``kgraph build`` paid at start, against a
    millisecond to read back. Kept under the extractor's fingerprint (the reference data and
    every module of ``ingest``, ``graph`` and ``reference``, so ``match_key`` too) and
    rdflib's version: any change that could change it makes a new one."""
    import rdflib

    from kgraph.prepared import prepared

    return prepared("matcher", Matcher, extractor_fingerprint(), rdflib.__version__)


_in_worker = False  # set by _worker_started in the build's worker processes


@functools.cache
def _settled() -> None:
    """Once a worker has handled its first document, everything it loaded for it (the modules
    and tables the extraction, mapping and audit import in the middle of that document, after
    the workspace's freeze) is frozen out of the collector too: unfrozen, its full passes
    walked them again and again (8 % of a worker's CPU when the audit still imported
    scikit-learn and SciPy). Not in the main process of a small build: its full collection
    would cost a one-plan build a tenth of a second."""
    import gc

    if _in_worker:
        gc.collect()  # the first document's garbage is not frozen with the rest
        gc.freeze()


def process_file(path: Path, validate: bool, ttl_out: Path | None,
                 store_root: Path | None = None, keep_validation: bool = True) -> FileResult:
    """Read, extract, map and validate one file; every failure becomes a one-line error.

    With validation, the document's audit findings are computed here too and kept next to the
    store (:mod:`kgraph.analysis.audit_index`): the audit never validates this version again.
    ``keep_validation``: whether the result carries the validation's results (a build whose
    report keeps none, the CLI's, need not send them to the main process: their rdflib terms
    are made again there, 0.1 ms a plan); the findings' counts are sent either way.
    """
    result = FileResult(path)
    try:
        doc = extract_file(path, _matcher())
        mapped = document_graph(doc)
    except KgraphError as exc:
        result.error = str(exc)
        return result
    except Exception as exc:  # a bug must cost one file, not the build
        result.error = f"{path}: cannot be processed ({type(exc).__name__}: {exc})"
        return result
    number = doc.ident.number or ""
    result.sha256 = doc.source_sha256
    # on disk the text only feeds the workspace (parsed if ever a query needs it): not sorted
    result.ntriples = ("".join(mapped.lines) if store_root is not None and mapped.lines
                       else mapped.to_ntriples())
    result.summary = DocumentSummary(str(mapped.document), str(mapped.name), number, path,
                                     len(mapped), part_counts(mapped), doc.source_sha256)
    if validate:
        from kgraph.analysis.audit import SourceDocument
        from kgraph.analysis.audit_index import audit_document, keep_document_audit
        from kgraph.analysis.coverage import coverage_graph_iri
        from kgraph.analysis.shacl_compiled import Workspace

        workspace = _workspace()
        assert isinstance(workspace, Workspace)
        source = SourceDocument(str(mapped.document), str(mapped.name), number)
        workspace.load(result.ntriples, mapped.index)  # parsed only if a query needs it
        validation = validate_document(mapped.triples, mapped.index, workspace)
        findings, coverage = audit_document(source, mapped.triples, mapped.index,
                                            result.ntriples, validation, workspace)
        keep_document_audit(store_root, source, doc.source_sha256, findings, coverage)
        result.findings = Counter((r.severity, r.rule) for r in validation.results)
        result.derived[coverage_graph_iri(source.iri)] = coverage.to_ntriples()
        result.validation = validation.without_report() if keep_validation else None
        # the workspace holds nothing once the audit is done: the plan's text and index were
        # most of what a worker's collector walked between documents (see _collect); done here,
        # not in the workspace's module, which is in the audit fingerprint
        workspace.load("")
    _keep_record(result, mapped, number, store_root, coverage if validate else None)
    if store_root is not None:  # on disk: the main process bulk-loads these lines as they are
        written = len(mapped.lines) or None  # the text is the mapper's lines (above)
        parts = [_document_block(result.ntriples, str(mapped.name), written),
                 *(_document_block(text, graph) for graph, text in result.derived.items())]
        result.blocks = b"".join(text for text, _ in parts)
        result.quads = sum(n for _, n in parts)
        result.ntriples = ""
        result.derived = dict.fromkeys(result.derived, "")
    if ttl_out is not None:
        target = ttl_out / ttl_name(mapped)
        text = mapped.to_trig()
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            fd, tmp = tempfile.mkstemp(dir=ttl_out, prefix=f".{target.name}.", suffix=".pending")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            result.trig_pending = Path(tmp)
    _settled()
    return result


def _keep_record(result: FileResult, mapped: object, number: str, store_root: Path | None,
                 coverage: object | None) -> None:
    """The document's record for the directive coverage, kept by content key next to the
    store (:mod:`kgraph.analysis.directive_index`), or handed back for a store in memory."""
    from kgraph.analysis.coverage import plan_record
    from kgraph.analysis.directive_index import record_key
    from kgraph.store.derived import keep_document_value

    record = plan_record(str(mapped.document), number, mapped.index,  # type: ignore[attr-defined]
                         coverage)  # type: ignore[arg-type]
    if store_root is not None:
        keep_document_value(store_root, record_key(str(mapped.name),  # type: ignore[attr-defined]
                                                   result.sha256), record)
    else:
        result.record = record


def _worker_started() -> None:
    """Marks a worker process (:func:`_settled`); its collector runs between documents only
    (:func:`_process_star`), not by allocation counts: a pass in the middle of a plan walked
    the tens of thousands of objects the plan still holds, which reference counting frees
    anyway at its end (1.7 ms a plan, 23 young passes per 200 plans at 10,000 net
    allocations); what it must find between documents is the few hundred objects in cycles
    the extraction leaves (its outline's blocks and lines)."""
    import gc

    global _in_worker, _documents
    _in_worker = True
    _documents = 0
    gc.disable()


_documents = 0  # documents a worker has handled (its collector's rhythm)


def _collect() -> None:
    """A worker's collector pass between two documents: the young objects each time, the
    older generations every ``WORKER_GC_OLDER`` and ``WORKER_GC_FULL`` documents."""
    import gc

    global _documents
    _documents += 1
    gc.collect(2 if _documents % WORKER_GC_FULL == 0
               else 1 if _documents % WORKER_GC_OLDER == 0 else 0)


def _process_star(args: tuple[Path, bool, Path | None, Path | None, bool]) -> FileResult:
    if _in_worker:
        _collect()  # the last document's result is freed by now (sent back)
    return process_file(*args)


def process_files(files: Sequence[Path], validate: bool, ttl_out: Path | None,
                  jobs: int | None = None, store_root: Path | None = None,
                  keep_validations: bool = True) -> Iterator[FileResult]:
    """Results in file order, computed by ``jobs`` processes (default: one per core)."""
    jobs = jobs or os.cpu_count() or 1
    tasks = [(f, validate, ttl_out, store_root, keep_validations) for f in files]
    if jobs <= 1 or len(files) < 8:
        yield from map(_process_star, tasks)
        return
    context = multiprocessing.get_context("fork")
    with _Pool(min(jobs, len(files)), initializer=_worker_started, context=context) as pool:
        _widen_results_pipe(pool)
        yield from pool.imap(_process_star, tasks, chunksize=2)


RESULTS_PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged process


def _widen_results_pipe(pool: multiprocessing.pool.Pool) -> None:
    """The pool's result pipe made to hold a whole result (a plan's ~220 KB of TriG) instead
    of 64 KB: a worker writes it in one call instead of waiting for the main process to read
    each 64 KB, and the main process reads it in one or two calls (each read of a larger
    message allocated a buffer of the whole size again)."""
    import contextlib
    import fcntl

    writer = getattr(getattr(pool, "_outqueue", None), "_writer", None)
    setting = getattr(fcntl, "F_SETPIPE_SZ", None)
    if writer is None or setting is None:  # another CPython's pool, or not Linux
        return
    with contextlib.suppress(OSError, ValueError):
        fcntl.fcntl(writer.fileno(), setting, RESULTS_PIPE_BYTES)


class _Pool(multiprocessing.pool.Pool):
    """CPython's pool, whose worker-handling thread does not wake up for results.

    That thread only starts workers again and notices the pool closing; it waited on the result
    pipe too, so while a worker's result (a plan's ~360 KB) was still being read it woke up
    again and again: 2 ms of the main process's CPU a plan, on the core the workers share."""

    def _get_sentinels(self) -> list[Any]:
        notifier = getattr(getattr(self, "_change_notifier", None), "_reader", None)
        if notifier is None:  # another CPython's pool: its own sentinels, as before
            return super()._get_sentinels()  # type: ignore[misc, no-any-return]
        return [notifier]


# ---------------------------------------------------------------------------- the store side

@dataclass  # (not frozen: a frozen dataclass is made 3x slower, and the index reads 20,000)
class Stored:
    """A source document already in the store: its graph and source text hash, and the file's
    size, modification and change times when it was hashed (-1: unknown). The change time
    cannot be set back by a user (``touch -r``), so an edit keeping size and mtime is seen."""

    graph: str
    sha256: str
    size: int = -1
    mtime_ns: int = -1
    ctime_ns: int = -1

    def same_file(self, stat: os.stat_result | None) -> bool:
        """Whether a file with this ``stat`` is the one hashed (then it need not be read)."""
        return (stat is not None and self.size == stat.st_size
                and self.mtime_ns == stat.st_mtime_ns and self.ctime_ns == stat.st_ctime_ns)


class SourceIndex(dict[str, Stored]):
    """The build's source index of a store version: source file name -> :class:`Stored`. Kept
    pickled as two lists (names, and rows of plain values), not as one pickled object a
    source: at 20,000 sources that cost a one-plan build 0.14 CPU-s to read the index and
    write it back, 0.05 now. Read back as the same dictionary (a mapping to ``Stored``)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_source_index, ([*self], [(s.graph, s.sha256, s.size, s.mtime_ns, s.ctime_ns)
                                          for s in self.values()]))


def _source_index(names: list[str], rows: list[tuple[str, str, int, int, int]]
                  ) -> SourceIndex:
    return SourceIndex(zip(names, (Stored(*row) for row in rows), strict=True))


SOURCE_INDEX = "build-sources"  # per store version: source file name -> Stored (a build's)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def stored_sources(repo: Repository, names: Sequence[str] | None = None) -> dict[str, Stored]:
    """Source file name -> what the store holds for it (only for ``names`` when given: one
    plan added to a national store reads one row, not one per plan)."""
    import pyoxigraph as ox

    values = ("VALUES ?name { " + " ".join(str(ox.Literal(n)) for n in names) + " }"
              if names is not None else "")
    rows = repo.query(sparql_prefixes() + f"""
        SELECT ?g ?name ?sha WHERE {{ {values} GRAPH ?g {{
          ?doc kg:sourceFile ?file . ?file dcterms:title ?name ; kg:sha256 ?sha }} }}""").records()
    return {r["name"] or "": Stored(r["g"] or "", r["sha"] or "") for r in rows}


def _any_source(repo: Repository) -> bool:
    """Whether the store holds any source document (one index lookup)."""
    return bool(repo.query(sparql_prefixes() + """
        ASK { GRAPH ?g { ?doc kg:sourceFile ?file } }""").boolean)


def stored_graph_source(repo: Repository, graph: str) -> Stored | None:
    """What the store holds in one document graph (its source text hash), if anything."""
    rows = repo.query(sparql_prefixes() + f"""
        SELECT ?sha WHERE {{ GRAPH <{graph}> {{ ?doc kg:sourceFile ?file .
          ?file kg:sha256 ?sha }} }} LIMIT 1""").records()
    return Stored(graph, rows[0]["sha"] or "") if rows else None


class _StoredGraphs(dict[str, Stored]):
    """Graph name -> what the store holds in it. Read whole for a large build; for a few files
    (``repo`` given) a graph not among their rows (a renamed file) is looked up on first use."""

    def __init__(self, stored: dict[str, Stored], repo: Repository | None = None) -> None:
        super().__init__((s.graph, s) for s in stored.values())
        self.repo = repo
        self.missing: set[str] = set()

    def get(self, graph: str, default: Stored | None = None) -> Stored | None:  # type: ignore[override]
        if graph not in self and self.repo is not None and graph not in self.missing:
            found = stored_graph_source(self.repo, graph)
            if found is None:
                self.missing.add(graph)
            else:
                self[graph] = found
        return super().get(graph, default)


def stored_fingerprint(repo: Repository) -> str:
    rows = repo.query(f"""SELECT ?v WHERE {{ GRAPH <{BUILD_GRAPH}> {{
        <{BUILD_GRAPH}> <http://purl.org/dc/terms/hasVersion> ?v }} }}""").rows
    return str(rows[0][0]) if rows else ""


def stored_shipped_digest(repo: Repository) -> str:
    """The :func:`shipped_sources_digest` of the last build (the build graph states it)."""
    rows = repo.query(f"""SELECT ?d WHERE {{ GRAPH <{BUILD_GRAPH}> {{
        <{BUILD_GRAPH}> <{CONTENT_DIGEST}> ?d }} }}""").rows
    return str(rows[0][0]) if rows else ""


@functools.cache
def shipped_sources_digest() -> str:
    """Changes whenever a shipped graph (ontology, reference data) could: their files and the
    code that makes graphs of them. Equal to the stored one, the build skips re-reading 60,000
    reference triples to compare digests (seconds of a one-plan build)."""
    from kgraph import resources
    from kgraph.paths import resource_dir

    digest = hashlib.sha256(Path(resources.__file__).read_bytes())
    for file in [*sorted(resource_dir("ontology").glob("*.ttl")),
                 *sorted(resource_dir("reference").glob("*.ttl"))]:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:32]


def build_graph() -> str:
    return (f"<{BUILD_GRAPH}> <http://purl.org/dc/terms/hasVersion> "
            f"\"{extractor_fingerprint()}\" .\n"
            f"<{BUILD_GRAPH}> <{CONTENT_DIGEST}> \"{shipped_sources_digest()}\" .\n")


def stored_parts(repo: Repository, graph: str) -> dict[str, int]:
    rows = repo.query(sparql_prefixes() + f"""
        SELECT ?type (COUNT(DISTINCT ?x) AS ?n) WHERE {{ GRAPH <{graph}> {{
          VALUES ?type {{ {" ".join(f"kg:{t}" for t in PART_TYPES)} }} ?x a ?type }} }}
        GROUP BY ?type""").records()
    counts = {t: 0 for t in PART_TYPES}
    for row in rows:
        counts[(row["type"] or "").rsplit("#", 1)[-1]] = int(row["n"] or 0)
    return counts


def lossy_replacement(old: dict[str, int], new: dict[str, int]) -> str:
    """Why replacing a graph with ``old`` parts by one with ``new`` parts loses most of the
    document ('' when it does not)."""
    before, after = sum(old.values()), sum(new.values())
    if before == 0 or after >= before * LOSS_RATIO:
        return ""
    plural = {"Task": "tasks", "Assignment": "assignments", "Duty": "duties"}
    changes = ", ".join(f"{plural[t]} {old[t]} → {new.get(t, 0)}" for t in PART_TYPES
                        if old[t] != new.get(t, 0))
    return changes


def _to_trig(ntriples: str, graph: str) -> tuple[str, int]:
    """The lines of one graph's N-Triples as a TriG block of ``graph`` (other lines dropped),
    with its number of triples.

    Batches go to the loader as TriG, not N-Quads: a graph's lines are written once inside
    its block, where N-Quads repeated the graph's name on each (a quarter of a plan's bytes:
    a worker's replace of every line end, 0.4 ms a plan, and that much more to send to the
    main process); Oxigraph parses either at the same speed."""
    head = "<" + graph + "> {\n"
    lines = ntriples.count("\n")
    if ntriples.endswith("\n") and lines == ntriples.count(" .\n"):
        return "".join((head, ntriples, "}\n")), lines  # every line is a triple, as it is
    kept = [line for line in ntriples.split("\n") if line.endswith(" .")]
    return "".join((head, *(line + "\n" for line in kept), "}\n")), len(kept)


def _document_block(ntriples: str, graph: str, triples: int | None = None
                    ) -> tuple[bytes, int]:
    """:func:`_to_trig` in UTF-8, with its number of triples (what a worker sends).

    ``triples``: how many lines ending in " .\n" the text is made of, when the caller wrote
    it so (the mapper's lines): then only the line breaks are counted to check that no other
    is in the text (the count of every line end cost 0.2 ms a plan)."""
    if triples is not None and ntriples.endswith("\n"):
        data = ntriples.encode()
        if data.count(b"\n") == triples:
            return b"".join((b"<", graph.encode(), b"> {\n", data, b"}\n")), triples
    text, lines = _to_trig(ntriples, graph)
    return text.encode(), lines


class _Writer:
    """Where a build's graphs go: batches bulk-loaded into a new store version (on disk) by a
    loader thread beside the main one (pyoxigraph releases the GIL while it loads, and most of a
    load is waiting on the disk), or one update at the end (memory, remote)."""

    def __init__(self, repo: Repository, store: object | None, *, bulk: bool) -> None:
        self.repo = repo
        self.store = store  # pyoxigraph store (new version, or in memory), or None: remote
        self.bulk = bulk
        self.pending: dict[str, str] = {}
        self.lines: list[bytes] = []  # TriG blocks of the pending graphs (bulk), UTF-8
        self.quads = 0
        self.loaded = 0  # quads written so far
        self.seconds = 0.0  # spent writing them (drop + load)
        self._jobs: queue.Queue[tuple[list[str], bytes, int] | None] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.written: set[str] = set()  # every graph replaced (what the new version changed)

    def add(self, graphs: dict[str, str], blocks: bytes = b"", quads: int | None = None
            ) -> None:
        """Graphs to write (name -> N-Triples); on disk, ``blocks`` may carry the TriG blocks
        (:func:`_document_block`, ``quads`` triples) of those whose text is left empty (a
        worker made them ready to load)."""
        self.written.update(graphs)
        if self.bulk and any(name in self.pending for name in graphs):
            self._send()  # a graph written twice: the later text replaces the earlier
        if self.bulk:
            more = [_to_trig(t, g) for g, t in graphs.items() if t]
            text = (b"".join((blocks, *(block.encode() for block, _ in more))) if more
                    else blocks)
            count = (blocks.count(b" .\n") if quads is None else quads) + sum(
                n for _, n in more)
            if self.quads + count > BATCH_QUADS:
                self._send()  # full: these graphs start the next batch
            self.pending.update(graphs)
            self.lines.append(text)
            self.quads += count
            if self.quads >= BATCH_QUADS:
                self._send()
        else:
            self.pending.update(graphs)
            self.quads += sum(text.count("\n") for text in graphs.values())

    def flush(self) -> None:
        """Write everything added so far; returns when the store holds it."""
        import pyoxigraph as ox

        if self.bulk:
            self._send()
            if self._jobs is not None:
                self._jobs.join()
            self._raise()
            return
        if not self.pending:
            return
        started = time.perf_counter()
        self.loaded += self.quads
        if self.store is None:
            self.repo.replace_graphs(self.pending)
        elif not isinstance(self.store, ox.Store):
            raise TypeError(self.store)
        else:
            self.store.update(replace_graphs_update(self.pending))  # memory: one transaction
        self.pending = {}
        self.quads = 0
        self.seconds += time.perf_counter() - started

    def send(self) -> None:
        """Hand what was added so far to the loader as one batch (on disk), without waiting
        for it to be loaded; in memory or remote, nothing (written at :meth:`flush`)."""
        if self.bulk:
            self._send()

    def close(self) -> None:
        """Stop the loader thread (after :meth:`flush`, or on failure: pending batches are
        dropped with the version)."""
        if self._thread is not None and self._jobs is not None:
            self._jobs.put(None)
            self._thread.join()
        self._thread = self._jobs = None

    def _send(self) -> None:
        self._raise()
        if not self.pending:
            return
        batch = (list(self.pending), b"".join(self.lines), self.quads)
        self.loaded += self.quads
        self.pending, self.lines, self.quads = {}, [], 0
        if self._jobs is None:
            self._jobs = queue.Queue(QUEUED_BATCHES)
            self._thread = threading.Thread(target=self._load, name="kgraph-loader",
                                             daemon=True)
            self._thread.start()
        self._jobs.put(batch)  # waits while the loader is behind: memory stays bounded

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _load(self) -> None:
        import pyoxigraph as ox

        assert self._jobs is not None
        jobs = self._jobs
        while True:
            job = jobs.get()
            store = None
            try:
                if job is None:
                    return
                if self._error is not None:
                    continue  # after a failure the version is dropped: skip the rest
                names, text, quads = job
                store = self.store
                if not isinstance(store, ox.Store):
                    raise TypeError(store)
                started = time.perf_counter()
                for name in names:  # a new graph has nothing to drop (most of a full build)
                    node = ox.NamedNode(name)
                    if store.contains_named_graph(node):
                        store.remove_graph(node)
                # lenient: IRIs not checked again (2-3 ms a plan); every line is kgraph's own
                # writing (the workers' mapping, shipped graphs, snapshots read from the store)
                if len(names) <= FEW_FILES * 2 and quads < SMALL_BATCH:
                    store.load(text, ox.RdfFormat.TRIG, lenient=True)  # no SST files
                else:
                    store.bulk_load(text, ox.RdfFormat.TRIG, lenient=True)
                    # the batch's text and the loader's buffers are freed now: handed back,
                    # not held by the allocator for the rest of the build
                    job = text = None
                    release_freed()
                self.seconds += time.perf_counter() - started
            except BaseException as exc:  # re-raised in the main thread at its next call
                store = None  # the traceback keeps this frame: it must not keep the version
                self._error = exc
            finally:
                store = None
                jobs.task_done()


# ---------------------------------------------------------------------------- the build

def build(paths: Sequence[Path], repo: Repository, ttl_out: Path | None = None, *,
          validate: bool = True, strict: bool = False, replace: bool = False,
          wait: bool = False, jobs: int | None = None, keep_validations: bool = True,
          directive_coverage: bool = True, observer: BuildObserver | None = None,
          prune: bool = False) -> BuildReport:
    """Ingest the given files and folders into the store; idempotent.

    Raises :class:`SourceError` when no file could be loaded, or at the first failure with
    ``strict`` (the store unchanged in both cases); otherwise failures are in the report.
    With ``directive_coverage``, the coverage of each directive a loaded plan carries out
    (:func:`kgraph.analysis.coverage.compute_directive_coverage`) is recomputed in the same
    store version. ``prune``: the documents of sources the store holds that no file of
    this build names (only when every path given is a folder) are removed too.
    """
    observer = observer or _Silent()
    files = collect_sources(paths)
    if not files:
        raise SourceError(", ".join(map(str, paths)), "no .txt or .md plan files found")
    report = BuildReport(sources=files)
    if ttl_out is not None:
        ttl_out.mkdir(parents=True, exist_ok=True)
    on_disk = isinstance(repo, OxigraphRepository) and repo.root is not None
    if on_disk:
        with repo.directory.locked(exclusive=True, wait=wait):  # fail fast when served
            _build(files, repo, ttl_out, report, validate=validate, strict=strict,
                   replace=replace, jobs=jobs, keep_validations=keep_validations,
                   directive_coverage=directive_coverage, observer=observer, on_disk=True,
                   folders=_folders(paths), prune=prune)
            if report.changed():  # a new version is current: sweep what none asks for
                _sweep(repo, report, observer)
    else:
        _build(files, repo, ttl_out, report, validate=validate, strict=strict, replace=replace,
               jobs=jobs, keep_validations=keep_validations,
               directive_coverage=directive_coverage, observer=observer, on_disk=False,
               folders=_folders(paths), prune=prune)
    version = getattr(repo, "version", None)
    report.store_version = version() if callable(version) else ""
    return report


def _build(files: list[Path], repo: Repository, ttl_out: Path | None, report: BuildReport, *,
           validate: bool, strict: bool, replace: bool, jobs: int | None,
           keep_validations: bool, directive_coverage: bool, observer: BuildObserver,
           on_disk: bool, folders: bool = False, prune: bool = False) -> None:
    from kgraph.store.derived import keep_version_value, version_folders, version_value

    release_before_forks()  # the workers and aligners forked below start without freed pages
    # What the store holds for the sources: the index the last build kept for this version
    # (a dictionary read), else the store's rows for the given files (few) or for all.
    index = version_value(repo, SOURCE_INDEX) if on_disk else None
    few = len(files) <= FEW_FILES
    if index is not None:
        stored = index
    else:
        stored = stored_sources(repo, [f.name for f in files] if few else None)
    fingerprint = stored_fingerprint(repo)
    complete = (index is not None or not few  # ``stored`` has every source of the store
                or (not fingerprint and not _any_source(repo)))
    by_graph = _StoredGraphs(stored, None if complete else repo)
    same_extractor = fingerprint == extractor_fingerprint()
    todo: list[Path] = []
    stats: dict[str, Stored] = {}  # file name -> what to keep for it once loaded or checked
    for file in files:
        known = stored.get(file.name)
        stat = _stat(file)
        if known is not None and known.sha256 and known.same_file(stat):
            sha = known.sha256  # the same file as last time: not read again
        else:
            sha = text_sha256(file) if known is not None and known.sha256 else ""
        if stat is not None:
            stats[file.name] = Stored("", sha, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        unchanged = same_extractor and known is not None and known.sha256 and known.sha256 == sha
        trig_missing = ttl_out is not None and not _trig_exists(ttl_out, known)
        if unchanged and not trig_missing:
            report.unchanged.append(file)
        else:
            todo.append(file)
    absent: dict[str, str] = {}  # graph -> text hash, of sources no file of the build names
    if folders and complete:
        named = {f.name for f in files}
        absent = {s.graph: s.sha256 for n, s in stored.items() if n not in named and s.graph}
        report.absent = sorted(n for n in stored if n not in named and stored[n].graph)
    observer.started(len(files), len(report.unchanged))
    if (not todo and not (prune and absent) and same_extractor
            and stored_shipped_digest(repo) == shipped_sources_digest()):
        if on_disk and complete:  # remember the files' sizes and times: the next check is cheap
            keep_version_value(repo, SOURCE_INDEX, _updated_index(stored, [], stats))
        return  # nothing to write: the current version stays (no copy, no switch, no reload)
    started = time.perf_counter()
    pending_trig: list[tuple[Path, Path]] = []
    seen: dict[str, Path] = {}
    changed: dict[str, str | None] = {}  # document -> its previous version's text hash
    loaded: dict[str, str] = {}  # graph -> text hash of the documents loaded
    moved: list[tuple[Path, DocumentSummary, str]] = []  # file, its document, its graph before
    records: dict[str, object] = {}  # directive coverage's records, for a store in memory
    stage: tuple[Any, Any] | None = None  # answers kept before, the coverage stage's report
    writer: _Writer | None = None
    base = version_folders(repo) if on_disk else None  # the version this build starts from
    held = _held_lines(repo, base)  # before the copy (which writes to the version's info log)
    base_kept = _coverage_kept(repo, base)  # directives whose graphs kept states give
    facts_before = _assignment_facts(repo)  # the current version's, before the switch
    # every plan's answers the newest version kept, and what is dirty since, kept for the new
    # version once current, so that its first ask remakes those plans' rows only (read now:
    # the version before is pruned at the switch)
    from kgraph.analysis import duties_answer

    carried = duties_answer.carry(repo) if on_disk else None
    answers_before = _coverage_answers(repo)  # (a remote store's: before its first write)
    lines: dict[str, set[str]] | None = None  # graph -> lines the coverage wrote by difference
    coverage_kept: frozenset[str] = frozenset()
    try:
        context = repo.new_version() if on_disk else _no_version(repo)  # type: ignore[attr-defined]
        with context as store:
            writer = _Writer(repo, store, bulk=on_disk)
            root = repo.root if isinstance(repo, OxigraphRepository) else None
            for result in process_files(todo, validate, ttl_out, jobs, root, keep_validations):
                error = result.error or _check(result, seen, by_graph, repo, replace)
                if error:
                    _discard(result)
                    result.error = error
                    report.failures.append(error)
                    observer.file_done(result)
                    if strict:
                        raise _Failure(error)
                    continue
                assert result.summary is not None
                earlier = stored.get(result.path.name)
                if earlier is not None and earlier.graph not in ("", result.summary.name):
                    moved.append((result.path, result.summary, earlier.graph))
                graphs = {result.summary.name: result.ntriples, **result.derived}
                old = by_graph.get(result.summary.name)
                if old is not None and old.sha256 != result.sha256 and old.graph:
                    kept = revisions.snapshot(repo, old.graph, result.summary.document)
                    if kept:
                        graphs.update(kept)
                        report.revisions.append(f"{result.summary.number} ({old.sha256[:12]})")
                writer.add(graphs, result.blocks, result.quads)
                changed[result.summary.document] = (old.sha256 or None) if old else None
                loaded[result.summary.name] = result.sha256
                if result.record is not None:
                    records[result.summary.document] = result.record
                report.documents.append(result.summary)
                report.triples += result.summary.triples
                report.findings.update(result.findings)
                if keep_validations and result.validation is not None:
                    report.validations[result.summary.document] = result.validation
                if result.trig_pending is not None and ttl_out is not None:
                    pending_trig.append((result.trig_pending, ttl_out / _trig_target(result)))
                elif ttl_out is not None:
                    report.ttl_files.append(ttl_out / _trig_target(result))
                result.ntriples = ""
                observer.file_done(result)
            if not report.documents and report.failures and not (prune and absent):
                raise _Failure(*report.failures)
            gone = _gone(moved, loaded, stored)
            report.absent = [n for n in report.absent if stored[n].graph not in loaded]
            if prune:  # (a renamed file's graph is the new name's now)
                gone.update({g: sha for g, sha in absent.items() if g not in loaded})
            report.moved = [
                f"{path}: now states {summary.number} <{summary.name}>; the graph it stated "
                f"before, <{graph}>, is removed from the store"
                for path, summary, graph in moved if graph in gone]
            gone_lineage = _remove(repo, writer, gone, changed)
            report.removed = sorted(gone)
            report.seconds["files"] = time.perf_counter() - started
            coverage_kept = frozenset() if report.changed() else base_kept  # (else below)
            if report.changed() and directive_coverage:
                observer.stage("directive coverage")
                started = time.perf_counter()
                writer.flush()  # the queries below read the documents just written
                before = {s.graph: s.sha256 for s in by_graph.values()}
                after = {g: sha for g, sha in {**before, **loaded}.items() if g not in gone}
                others = bool(report.unchanged) or _holds_others(repo, by_graph, loaded,
                                                                 complete)
                view = _VersionView(repo, store, writer, held, base_kept)
                stage = _directive_coverage(view, changed if others else None, records,
                                            (before, after), answers_before, gone_lineage)
                coverage_kept = base_kept | set(stage[1].whole)  # and those written whole
                lines = view.lines
                del view  # holds the version's writable store, closed before the switch
                report.directives = stage[1].directives
                report.continued = stage[1].incremental
                report.seconds["directive coverage"] = time.perf_counter() - started
            started = time.perf_counter()
            observer.stage("loading the last batch, ontology and reference data")
            shipped = ({} if stored_shipped_digest(repo) == shipped_sources_digest()
                       else changed_resource_graphs(repo))
            writer.add({**shipped, BUILD_GRAPH: build_graph()})
            writer.flush()
            writer.close()
            report.load_quads, report.load_seconds = writer.loaded, writer.seconds
            if on_disk and len(report.documents) > FEW_FILES:  # many bulk loads: merge their
                observer.stage("compacting the new store version")  # files (see compact)
                compacting = time.perf_counter()
                compact(store)
                report.seconds["compaction"] = time.perf_counter() - compacting
            observer.stage("switching to the new store version")
            writer.store = store = None  # the new version closes before it becomes current
        report.seconds["last batch and switch"] = (  # the compaction is its own stage
            time.perf_counter() - started - report.seconds.get("compaction", 0.0))
    except BaseException:
        if writer is not None:
            writer.close()
            writer.store = None  # the failed version's store is closed, not kept by a traceback
        store = None
        for tmp, _ in pending_trig:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in pending_trig:  # only once the store holds the graphs
        os.replace(tmp, target)
        report.ttl_files.append(target)
    if ttl_out is not None:  # the removed graphs' TriG files go with them
        for graph in report.removed:
            (ttl_out / _graph_trig_name(graph)).unlink(missing_ok=True)
    if on_disk and complete:
        keep_version_value(repo, SOURCE_INDEX, _updated_index(stored, report.documents, stats,
                                                              set(report.removed)))
    if lines is not None and writer is not None:
        _hold_lines(repo, held, lines, writer.written)
        _keep_coverage_kept(repo, coverage_kept)
    if base is not None and writer is not None:  # what per-version page data is updated from
        keep_version_value(repo, CHANGED_GRAPHS, {"base": base[0], "derived": base[1],
                                                  "graphs": sorted(writer.written)})
    if stage is not None:  # the named query's answer, kept for the version now current
        from kgraph.analysis import coverage_answer
        from kgraph.store.derived import kept_root

        coverage_answer.keep(repo, kept_root(repo), stage[0], stage[1].answers)
    if carried is not None and writer is not None:  # every plan's answers last kept, carried
        carried()
    if writer is not None:  # the plans' facts, kept for the version now current
        _keep_assignment_facts(repo, report, observer, facts_before, writer.written)


def _coverage_answers(repo: Repository) -> object:
    """The directive-coverage answers kept for the current version (:mod:`kgraph.analysis.
    coverage_answer`), read before the build writes: a remote store's version changes with
    each of its writes, so after the first one it would be another version's (none)."""
    from kgraph.analysis import coverage_answer

    return coverage_answer.previous(repo)


def _assignment_facts(repo: Repository) -> dict[str, object]:
    """The facts each family kept for the current version (:mod:`kgraph.analysis.
    plan_parts`), read before the build's switch."""
    from kgraph.analysis.kept_answers import fact_families

    return {family.name: family.previous(repo) for family, _ in fact_families()}


def keep_answers(repo: Repository) -> list[str]:
    """Keep what a first build over the store keeps for the named queries' answers, for its
    current version: each family's plan facts, every graph read, and each directive's
    ``directive-coverage`` rows, read from the coverage graphs the store holds. For a store no
    kgraph build wrote here (a server its own bulk loader filled from ``kgraph dump``), whose
    named queries would otherwise read them from the store at every answer. A remote store
    without a version token is stamped first: what is kept for a version without one (its
    size) lives in the process only. What the version has kept already is left as it is, so a
    second run does nothing. One line a thing done or found done."""
    from kgraph.analysis import coverage_answer, plan_parts
    from kgraph.analysis.kept_answers import fact_families
    from kgraph.store.derived import kept_root

    done: list[str] = []
    stamped = getattr(repo, "stamped", None)
    if callable(stamped) and not stamped():
        repo.stamp()  # type: ignore[attr-defined]
        done.append("stamped the store with a version token")
    for family, stage in fact_families():
        if family.previous(repo) is not None:
            done.append(f"the plans' {stage}: kept already for this version")
            continue
        started = time.perf_counter()
        kept = plan_parts.keep(family, repo, kept_root(repo), None, None)
        seconds = time.perf_counter() - started
        done.append(f"kept the plans' {stage}: {len(kept.plans)} plans, {seconds:.1f} s"
                    if kept is not None else
                    f"the plans' {stage}: not kept (this store's answers are its queries')")
    started = time.perf_counter()
    directives = coverage_answer.keep_stored(repo)
    seconds = time.perf_counter() - started
    done.append("the directive coverage: kept already for this version" if directives is None
                else f"kept the directive coverage of {directives} directives: {seconds:.1f} s")
    return done


def _keep_assignment_facts(repo: Repository, report: BuildReport, observer: BuildObserver,
                           before: dict[str, object], written: set[str]) -> None:
    """Keep the new version's facts of each family: the version before's, with the graphs
    this build wrote read again; every graph read when the version before kept none, or when
    the build wrote most of them (a full build: one read is cheaper than thousands of VALUES)."""
    from kgraph.analysis import plan_parts
    from kgraph.analysis.kept_answers import fact_families
    from kgraph.store.derived import kept_root

    wholes: set[str] = set()
    for family, stage in fact_families():
        observer.stage(f"keeping the plans' {stage}")
        started = time.perf_counter()
        kept = before.get(family.name)
        kept = kept if isinstance(kept, plan_parts.KeptFacts) else None
        whole = kept is None or len(written) > max(FEW_FILES, len(kept.plans) // 2)
        plan_parts.keep(family, repo, kept_root(repo), kept, None if whole else written)
        report.seconds[stage] = time.perf_counter() - started
        if whole:
            wholes.add(family.name)
    from kgraph.analysis import duties_answer

    if (duties_answer.FAMILY.name in wholes and isinstance(repo, OxigraphRepository)
            and repo.root is not None):
        # Every plan's lists made now, once (2.5 s of a 20,000-plan build): the answers of
        # the next versions are made from them on first ask, the plans a build changed made
        # again (:mod:`kgraph.analysis.duties_answer`), not whole (1.8 s each on first ask)
        observer.stage("making every plan's reporting duties and deadlines")
        started = time.perf_counter()
        duties_answer.warm(repo)
        report.seconds["every plan's lists"] = time.perf_counter() - started


def _sweep(repo: Repository, report: BuildReport, observer: BuildObserver) -> None:
    """Delete the kept derived values that neither the version now current nor the one
    before it asks for, when due (:func:`kgraph.analysis.sweep.after_build`), into the
    report (a file it cannot delete stays)."""
    from kgraph.analysis.sweep import after_build

    observer.stage("sweeping kept values nobody reads again")
    started = time.perf_counter()
    report.swept = after_build(repo, len(report.documents) + len(report.removed))
    report.seconds["sweep"] = time.perf_counter() - started


def _holds_others(repo: Repository, by_graph: dict[str, Stored], loaded: dict[str, str],
                  complete: bool) -> bool:
    """Whether the store held source documents this build did not read again: then the
    directive coverage is continued for the documents read (one new plan into a national
    store), and re-aligned only when every document was read (a first or a full build)."""
    if complete:
        return any(graph not in loaded for graph in by_graph)
    listed = ", ".join(f"<{graph}>" for graph in loaded)
    return bool(repo.query(sparql_prefixes() + f"""
        ASK {{ GRAPH ?g {{ ?doc kg:sourceFile ?file }} FILTER (?g NOT IN ({listed})) }}"""
                           ).boolean)


def _updated_index(stored: dict[str, Stored], loaded: list[DocumentSummary],
                   stats: dict[str, Stored], removed: set[str] = frozenset()  # type: ignore[assignment]
                   ) -> SourceIndex:
    """The source index after a build: the loaded documents' files replace what their graphs
    held (a renamed file's old name goes), the sources of ``removed`` graphs go, every file
    checked keeps its size and time."""
    index = SourceIndex(stored)
    graphs = {d.name for d in loaded} | removed
    for name in [n for n, s in index.items() if s.graph in graphs]:
        del index[name]
    for summary in loaded:
        stat = stats.get(summary.source.name)
        index[summary.source.name] = Stored(
            summary.name, summary.sha256, *((stat.size, stat.mtime_ns, stat.ctime_ns) if stat
                                            else ()))
    for name, stat in stats.items():
        known = index.get(name)
        if known is not None and stat.sha256 and known.sha256 == stat.sha256:
            index[name] = Stored(known.graph, known.sha256, stat.size, stat.mtime_ns,
                                 stat.ctime_ns)
    return index


class _VersionView:
    """The store version a build is writing, as a repository: queries see what the build
    wrote so far, replacements go through the build's writer (no extra version)."""

    def __init__(self, repo: Repository, store: object | None, writer: _Writer,
                 known: dict[str, set[str]] | None = None,
                 kept: frozenset[str] = frozenset()) -> None:
        self.repo = repo
        self.kept = kept  # directives whose graphs in the base are those kept states give
        self.store = store
        self.writer = writer
        # graph -> its lines in the version this one was copied from (held, or computed by the
        # coverage stage from the state it continues: a copy, the held dict stays as it is)
        self.known = dict(known or {})
        self.lines: dict[str, set[str]] = {}  # graph -> its lines as written by difference

    def query(self, sparql: str) -> object:
        from kgraph.store.embedded import to_query_result

        if self.store is None:  # remote: the writer has written everything already
            return self.repo.query(sparql)
        return to_query_result(self.store.query(  # type: ignore[attr-defined]
            sparql, use_default_graph_as_union=True))

    def records(self, sparql: str) -> list[dict[str, str | None]]:
        from kgraph.store.embedded import query_records, solution_records

        if self.store is None:
            return query_records(self.repo, sparql)
        return solution_records(self.store.query(  # type: ignore[attr-defined]
            sparql, use_default_graph_as_union=True))

    def replace_graphs(self, graphs: dict[str, str]) -> None:
        """Each graph replaced: one the version holds already, by its differing triples only
        (a one-plan build rewrites its province's coverage graph, 27,000 triples at 20,000
        plans, of which a few hundred change); a new or emptied one through the writer."""
        import pyoxigraph as ox

        self.writer.written.update(graphs)  # replaced either way (the version's record)
        for name in graphs:  # rewritten: the lines written before are no guide now
            self.lines.pop(name, None)
        if isinstance(self.store, ox.Store) and len(graphs) <= DIFFERENCE_GRAPHS:
            self.writer.flush()  # the difference is taken against what the version holds
            graphs = dict(graphs)
            update, written = replace_by_difference(self.store, graphs, known=self.known,
                                                    lines=self.lines)
            for name in written:
                del graphs[name]
            if update:
                started = time.perf_counter()
                self.store.update(update)
                self.writer.seconds += time.perf_counter() - started
        for batch in coverage_batches(graphs):
            self.writer.add(batch)
            self.writer.send()  # each batch loaded on its own (COVERAGE_BATCH)
        self.writer.flush()


# Per store root: the identity of the version this process made current last and the lines of
# the graphs it holds that a build of this process wrote by difference (a process building one
# plan after another reads none of them back). Held only while the version's files are exactly
# as they were when it became current: anything that wrote into it since changed them.
_LINES: dict[str, tuple[tuple[tuple[str, int], ...], dict[str, set[str]]]] = {}


def _version_files(repo: Repository) -> tuple[tuple[str, int], ...] | None:
    """The current version's files (name, size), or None (in memory, unreadable): a write into
    it grows its write-ahead log or adds files (a reopened database starts a new log); not its
    info log, which RocksDB writes to when it copies a version, nor times, which closing and
    reopening it touch."""
    path = getattr(repo, "path", None)
    if not isinstance(repo, OxigraphRepository) or path is None:
        return None
    try:
        return tuple(sorted((e.name, e.stat().st_size)
                            for e in os.scandir(path) if not e.name.startswith("LOG")))
    except OSError:
        return None


def _held_lines(repo: Repository, base: tuple[str, str] | None) -> dict[str, set[str]]:
    """The lines this process holds for graphs of the version a build starts from."""
    root = getattr(repo, "root", None)
    held = _LINES.get(str(root)) if base is not None and root is not None else None
    if held is None or held[0] != _version_files(repo):
        return {}
    return held[1]


COVERAGE_KEPT = "coverage-kept"  # per version: coverage code digest, its files, directives


def _coverage_kept(repo: Repository, base: tuple[str, str] | None) -> frozenset[str]:
    """The directives (IRIs) whose coverage graphs in the version a build starts from are
    those the kept states of this code give: a build of this code wrote them whole or went on
    from graphs so marked, and nothing wrote into the version since (its files as they were).
    The coverage stage then makes a province's graph as the store holds it from the kept
    state and the new one, instead of reading 27,000 triples back."""
    from kgraph.analysis.directive_index import fingerprint
    from kgraph.store.derived import named_version_value

    if base is None:
        return frozenset()
    found = named_version_value(repo, base[1], COVERAGE_KEPT)
    if (not isinstance(found, tuple) or len(found) != 3 or found[0] != fingerprint()
            or found[1] is None or found[1] != _version_files(repo)):
        return frozenset()
    return frozenset(found[2])


def _keep_coverage_kept(repo: Repository, directives: frozenset[str]) -> None:
    """Mark the version now current as :func:`_coverage_kept` finds it."""
    from kgraph.analysis.directive_index import fingerprint
    from kgraph.store.derived import keep_version_value

    files = _version_files(repo) if directives else None
    if files is not None:
        keep_version_value(repo, COVERAGE_KEPT, (fingerprint(), files, directives))


def _hold_lines(repo: Repository, known: dict[str, set[str]], lines: dict[str, set[str]],
                written: set[str]) -> None:
    """Hold the lines of the graphs the new current version has as this build wrote them by
    difference (``lines``), and those of the base version's (``known``) it did not write."""
    root = getattr(repo, "root", None)
    files = _version_files(repo)
    if root is None or files is None:
        return
    kept = dict(list(lines.items())[:HELD_GRAPHS])  # this build's first, then earlier ones
    for name, held in known.items():
        if len(kept) >= HELD_GRAPHS:
            break
        if name not in written:
            kept[name] = held
    _LINES[str(root)] = (files, kept)


HELD_GRAPHS = 8  # graphs whose lines a process holds at most (27,000 lines each at 20,000 plans)


# Graphs of one write replaced by difference at most: a one-plan build writes its province's and
# the directive's; a directive aligned again writes all its provinces, most of them changed
# (tasks renumbered) or unchanged, and reading them back costs more than the plain load.
DIFFERENCE_GRAPHS = 4
def replace_by_difference(store: Any, graphs: dict[str, str], *,
                          known: dict[str, set[str]] | None = None,
                          lines: dict[str, set[str]] | None = None) -> tuple[str, list[str]]:
    """One SPARQL update deleting and inserting only the triples by which each graph the store
    holds differs from its new N-Triples text, and the graphs it covers; the others (new,
    emptied, or rewritten for the most part) are left to a plain replacement.

    ``known``: graph -> the lines the store holds for it (what an earlier build of this process
    wrote, :func:`_held_lines`), taken instead of reading the graph back (a province's coverage
    graph at 20,000 plans: 27,000 triples, 0.45 CPU-s); ``lines`` receives each graph's lines
    as written here."""
    import pyoxigraph as ox

    from kgraph.store.embedded import stored_lines

    parts: list[str] = []
    written: list[str] = []
    for name, text in graphs.items():
        node = ox.NamedNode(name)
        if not text.strip() or not store.contains_named_graph(node):
            continue
        held = (known or {}).get(name)
        if held is not None:
            old = held  # not changed here: the sets below are new ones
            if "_:" in text:
                continue
        else:
            stored = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=node).decode("utf-8")
            if "_:" in text or "_:" in stored:
                continue  # blank nodes (or text like them): no identity across reads
            old = set(stored.split("\n"))  # as N-Triples lines, written by the engine
            old.discard("")
        new = stored_lines(text)
        gone = old.difference(new)
        added = [line for key, line in new.items() if key not in old]
        if len(gone) + len(added) > len(old) // 2:
            continue  # most of it rewritten: dropping and loading it is cheaper
        written.append(name)
        if lines is not None:
            lines[name] = set(new)  # the graph's triples, one line each, as the store keeps them
        if gone:
            parts.append(f"DELETE DATA {{ GRAPH <{name}> {{\n{chr(10).join(sorted(gone))}\n}} }}")
        if added:
            parts.append(f"INSERT DATA {{ GRAPH <{name}> {{\n{chr(10).join(added)}\n}} }}")
    return " ;\n".join(parts), written


def coverage_batches(graphs: dict[str, str], limit: int | None = None
                     ) -> Iterator[dict[str, str]]:
    """The graphs in order, in groups of at most ``limit`` triples (lines; default
    :data:`COVERAGE_BATCH`, read when called); a graph larger than that is a group of its
    own, a graph is never split."""
    limit = COVERAGE_BATCH if limit is None else limit
    batch: dict[str, str] = {}
    count = 0
    for name, text in graphs.items():
        lines = text.count("\n")
        if batch and count + lines > limit:
            yield batch
            batch, count = {}, 0
        batch[name] = text
        count += lines
    if batch:
        yield batch


def _directive_coverage(view: _VersionView, changed: dict[str, str | None] | None,
                        records: dict[str, object],
                        sources: tuple[dict[str, str], dict[str, str]],
                        before: object, gone: object | None = None) -> tuple[Any, Any]:
    """Recompute the coverage of every directive several plans carry out (``changed`` None), or
    of those the ``changed`` documents carry out, directly or through others, from the records
    the workers kept (:mod:`kgraph.analysis.directive_index`; incremental where it can).
    Returns the named query's answers kept for the current version (``before``, read before
    the build wrote) and the stage's report."""
    import gc

    from kgraph.analysis import directive_index

    root = view.repo.root if isinstance(view.repo, OxigraphRepository) else None
    release_before_forks()  # the aligners are forked without the reading stage's freed pages
    # The collector stays off for the stage: at national scale it reads a lineage and an
    # alignment state of millions of small objects, and every full collection the stage's
    # allocations trigger walks them all (seconds of a one-plan build at 20,000 plans). What
    # the stage frees is freed by reference counting; its few cycles wait for the next pass.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return before, directive_index.update(
            view, root, view.replace_graphs, changed, records,  # type: ignore[arg-type]
            sources=sources, gone=gone)  # type: ignore[arg-type]
    finally:
        if collecting:
            gc.enable()


class _Failure(SourceError):
    """A build stopped by failure lines that already name their files (one line each)."""

    def __init__(self, *lines: str) -> None:
        source, _, message = lines[0].partition(": ")
        super().__init__(source, message)
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return self.args[0]


class _no_version:
    """Stand-in for ``new_version`` on stores without versions: writes at flush."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def __enter__(self) -> object | None:
        if isinstance(self.repo, OxigraphRepository):
            return self.repo.native
        return None

    def __exit__(self, *exc: object) -> None:
        if isinstance(self.repo, OxigraphRepository) and exc[0] is None:
            self.repo._generation += 1


def _trig_target(result: FileResult) -> str:
    assert result.summary is not None
    return str(result.summary.document).removeprefix(str(ID) + "doc/").replace("/", "_") + ".trig"


def _folders(paths: Sequence[Path]) -> bool:
    """Whether every path given to a build is a folder (then a source the store holds that
    none of its files names is one deleted from them, or built from elsewhere)."""
    return bool(paths) and all(Path(p).is_dir() for p in paths)


def _graph_trig_name(graph: str) -> str:
    """The TriG file the build writes for a document graph (:func:`ttl_name`)."""
    return graph.removeprefix(str(ID) + "graph/").replace("/", "_") + ".trig"


def _trig_exists(ttl_out: Path, known: Stored | None) -> bool:
    if known is None:
        return False
    return (ttl_out / _graph_trig_name(known.graph)).is_file()


def _gone(moved: list[tuple[Path, DocumentSummary, str]], loaded: dict[str, str],
          stored: dict[str, Stored]) -> dict[str, str]:
    """The graphs the moved files stated before that this build removes (graph -> the hash
    of the text that made it): those no file of this build states now and no other source
    of the store made (the store records one source per graph; kept if it records another)."""
    if not moved:
        return {}
    sources = Counter(s.graph for s in stored.values())
    return {graph: stored[path.name].sha256 for path, _, graph in moved
            if graph not in loaded and sources[graph] == 1}


def _remove(repo: Repository, writer: _Writer, gone: dict[str, str],
            changed: dict[str, str | None]) -> object | None:
    """Drop the ``gone`` graphs with what their document's graph made beside it (its
    coverage, its revisions), in the version the build writes; their documents join
    ``changed`` with their last hash (the indexes updated per graph drop them). Returns their
    lineage as the store holds them now (read before anything is written), for the directive
    coverage they leave."""
    if not gone:
        return None
    from kgraph.analysis.coverage import coverage_graph_iri
    from kgraph.analysis.directive_index import Lineage

    lineage = Lineage.read(repo, sorted(gone))
    for graph, sha in gone.items():  # (graph_iri inverted: not in kgraph.graph, whose code
        # is in the extractor's fingerprint, so that no store re-reads every plan for it)
        document = graph.replace(str(ID) + "graph/", str(ID) + "doc/", 1)
        writer.add(dict.fromkeys([graph, coverage_graph_iri(document),
                                  revisions.revisions_graph_iri(graph)], ""))
        changed[document] = sha or None
    return lineage


def _discard(result: FileResult) -> None:
    if result.trig_pending is not None:
        result.trig_pending.unlink(missing_ok=True)


def _check(result: FileResult, seen: dict[str, Path], stored: dict[str, Stored],
           repo: Repository, replace: bool) -> str:
    """A failure line when this document cannot go in: stated twice, or a lossy replacement
    (``stored``: graph name -> what the store holds in it)."""
    assert result.summary is not None
    first = seen.setdefault(result.summary.document, result.path)
    if first != result.path:
        return (f"{result.path}: states the same document as {first.name} "
                f"({result.summary.document})")
    if replace:
        return ""
    old = stored.get(result.summary.name)
    if old is None or old.sha256 == result.sha256:
        return ""
    lost = lossy_replacement(stored_parts(repo, old.graph), result.summary.parts)
    if not lost:
        return ""
    return (f"{result.path}: refused to replace {result.summary.number}: the new text loses "
            f"most of it ({lost}); the store keeps the current version (pass --replace to "
            "replace it anyway)")


# ---------------------------------------------------------------------------- compatibility

def map_sources(files: Sequence[Path]) -> list[DocumentGraph]:
    """Extract and map every file in this process; two files stating one document is an error.

    (Small inputs and tests; :func:`build` streams instead.)"""
    graphs: list[DocumentGraph] = []
    seen: dict[str, Path] = {}
    for file in files:
        mapped = document_graph(extract_file(file))
        first = seen.setdefault(str(mapped.document), file)
        if first != file:
            raise SourceError(file, f"states the same document as {first.name} ({mapped.document})")
        graphs.append(mapped)
    return graphs


def prepare(paths: Sequence[Path]) -> tuple[list[Path], list[DocumentGraph]]:
    """Read, extract and map every source; raises SourceError before anything is written."""
    files = collect_sources(paths)
    if not files:
        suffixes = " ".join(readers.SUFFIXES)
        raise SourceError(", ".join(map(str, paths)), f"no plan files found ({suffixes})")
    return files, map_sources(files)


def stored_digests(repo: Repository) -> dict[str, str]:
    """Shipped graph -> the digest of the copy in the store."""
    rows = repo.query(f"SELECT ?g ?d WHERE {{ GRAPH ?g {{ ?g <{CONTENT_DIGEST}> ?d }} }}")
    return {r["g"] or "": r["d"] or "" for r in rows.records()}


def changed_resource_graphs(repo: Repository) -> dict[str, str]:
    """The shipped graphs whose digest differs from the store's copy (all on a new store)."""
    payload = resource_graphs()
    for name, digest in stored_digests(repo).items():
        if name in payload and digest_of(payload[name]) == digest:
            del payload[name]
    return payload


def load(
    graphs: Sequence[DocumentGraph], repo: Repository, ttl_out: Path | None = None
) -> list[Path]:
    """Replace the documents' graphs (and the shipped ones) in one write, then write TriG.

    A shipped graph (ontology, reference graph of some 60,000 triples) whose digest the store
    already holds is left as it is: rewriting it unchanged costs seconds on a disk store.
    """
    payload = resource_graphs()
    for name, digest in stored_digests(repo).items():
        if name in payload and digest_of(payload[name]) == digest:
            del payload[name]
    payload.update({str(g.name): g.to_ntriples() for g in graphs})
    repo.replace_graphs(payload)
    return write_trig(graphs, ttl_out) if ttl_out is not None else []
