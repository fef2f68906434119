"""The ingest pipeline: source files -> document model -> named graphs -> store (+ TriG files).

Everything is extracted and mapped before anything is written, so a bad file stops the build
with the store untouched; then all graphs go to the store in one transaction, and only after
that are the TriG files written (each through a temporary file, so none is half-written).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kgraph.analysis.validation import Validation, validate_graph
from kgraph.errors import SourceError
from kgraph.graph.mapping import DocumentGraph, document_graph
from kgraph.graph.vocab import ID
from kgraph.ingest.extract import extract_file
from kgraph.resources import CONTENT_DIGEST, digest_of, resource_graphs
from kgraph.store.embedded import Repository

SOURCE_SUFFIXES = (".txt", ".md")


@dataclass
class BuildReport:
    documents: list[DocumentGraph] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)
    ttl_files: list[Path] = field(default_factory=list)
    triples: int = 0
    # document IRI -> SHACL validation of its graph (reported, never blocking the build)
    validations: dict[str, Validation] = field(default_factory=dict)

    def violations(self) -> int:
        return sum(1 for v in self.validations.values() for r in v.results
                   if r.severity == "Violation")


def collect_sources(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest: the files given, and the plan files inside the folders given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in SOURCE_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise SourceError(path, "no such file or folder")
    return found


def map_sources(files: Sequence[Path]) -> list[DocumentGraph]:
    """Extract and map every file; two files stating the same document is an error."""
    graphs: list[DocumentGraph] = []
    seen: dict[str, Path] = {}
    for file in files:
        mapped = document_graph(extract_file(file))
        first = seen.setdefault(str(mapped.document), file)
        if first != file:
            raise SourceError(file, f"states the same document as {first.name} ({mapped.document})")
        graphs.append(mapped)
    return graphs


def ttl_name(mapped: DocumentGraph) -> str:
    return str(mapped.document).removeprefix(str(ID) + "doc/").replace("/", "_") + ".trig"


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_trig(graphs: Iterable[DocumentGraph], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for mapped in graphs:
        path = out / ttl_name(mapped)
        _write_atomically(path, mapped.to_trig())
        written.append(path)
    return written


def prepare(paths: Sequence[Path]) -> tuple[list[Path], list[DocumentGraph]]:
    """Read, extract and map every source; raises SourceError before anything is written."""
    files = collect_sources(paths)
    if not files:
        raise SourceError(", ".join(map(str, paths)), "no .txt or .md plan files found")
    return files, map_sources(files)


def stored_digests(repo: Repository) -> dict[str, str]:
    """Shipped graph -> the digest of the copy in the store."""
    rows = repo.query(f"SELECT ?g ?d WHERE {{ GRAPH ?g {{ ?g <{CONTENT_DIGEST}> ?d }} }}")
    return {r["g"] or "": r["d"] or "" for r in rows.records()}


def load(
    graphs: Sequence[DocumentGraph], repo: Repository, ttl_out: Path | None = None
) -> list[Path]:
    """Replace the documents' graphs (and the shipped ones) in one transaction, then write TriG.

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


def build(paths: Sequence[Path], repo: Repository, ttl_out: Path | None = None,
          *, validate: bool = True) -> BuildReport:
    """Ingest the given files and folders into the store; idempotent."""
    files, graphs = prepare(paths)
    report = BuildReport(documents=graphs, sources=files)
    report.ttl_files = load(graphs, repo, ttl_out)
    report.triples = sum(len(g.graph) for g in graphs)
    if validate:  # each document's graph on its own: small and fast (kgraph.analysis.validation)
        report.validations = {str(g.document): validate_graph(g.graph) for g in graphs}
    return report
