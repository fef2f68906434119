"""The ``kgraph`` command line: build the graph, query it, score the extractor.

Every command takes ``--store DIR`` (default: $KGRAPH_STORE, else the user's data folder).
Errors a user can fix are printed as one line on stderr, with exit code 2.
Heavy libraries (pyoxigraph, rdflib, pyshacl, pyvis, fastapi) are imported inside the commands
that need them, so ``kgraph --help`` stays fast (bench/bench_cli.py measures it).
"""

from __future__ import annotations

import functools
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kgraph import paths
from kgraph.cli.common import (
    StoreOption,
    app,
    console,
    errors,
    repository,
    store_location,
    user_errors,
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command()
@user_errors
def build(
    sources: Annotated[
        list[Path] | None, typer.Argument(help="Plan files or folders (default: data/sources).")
    ] = None,
    store: StoreOption = None,
    ttl_out: Annotated[
        Path | None,
        typer.Option(help="Write one TriG file per document here (default: data/ttl for the "
                     "project's own sources, none otherwise)."),
    ] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Stop at the first file that cannot be loaded (store unchanged).")
    ] = False,
    replace: Annotated[bool, typer.Option(
        "--replace", help="Replace a document even when the new text loses most of it "
                          "(the previous version stays in the store: kgraph revisions).")
    ] = False,
    wait: Annotated[bool, typer.Option(
        "--wait", help="Wait for a server or another build holding the store.")] = False,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", help="Extraction processes (default: one per core).")] = None,
    validate: Annotated[bool, typer.Option(
        "--validate/--no-validate", help="SHACL-validate each document (reported, not "
                                         "blocking).")] = True,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Building folders: remove the documents of sources the store holds "
                        "that no file in them names (deleted files; plans built from "
                        "elsewhere too).")] = False,
) -> None:
    """Extract the plans, write their graphs and load them (with ontology and reference data).

    Files that cannot be read are reported at the end, one line each, and the others are
    loaded (exit code 2); the store changes in one step when the build ends.
    """
    if not sources:
        sources = [paths.default_sources()]
        ttl_out = ttl_out or paths.default_ttl_dir()
    from kgraph.memory import collector_paused

    with collector_paused(all(p.is_file() for p in sources) and len(sources) <= FEW_PLANS,
                          settle=True):
        _build(sources, store, ttl_out, strict=strict, replace=replace, wait=wait, jobs=jobs,
               validate=validate, prune=prune)


def _build(sources: list[Path], store: str | None, ttl_out: Path | None, *, strict: bool,
           replace: bool, wait: bool, jobs: int | None, validate: bool,
           prune: bool = False) -> None:
    from kgraph.build import build as run_build
    from kgraph.cli.progress import BuildProgress, print_summary

    repo = repository(store)
    with BuildProgress(errors) as progress:  # the bar on stderr, the summary on stdout
        report = run_build(sources, repo, ttl_out, validate=validate, strict=strict,
                           replace=replace, wait=wait, jobs=jobs, keep_validations=False,
                           observer=progress, prune=prune)
        if validate and report.changed():  # the audit of this version, once, now
            import time

            from kgraph.analysis.audit_index import audit_index

            progress.stage("auditing across documents")
            started = time.perf_counter()
            audit_index(repo)
            report.seconds["audit index"] = time.perf_counter() - started
        if report.changed():  # the pages' data of this version, from the last one's
            import time

            from kgraph.analysis.versions import updatable

            if updatable(repo):  # (page_data imported only then)
                from kgraph.analysis.page_data import update

                progress.stage("updating the pages' data")
                started = time.perf_counter()
                update(repo)
                report.seconds["page data"] = time.perf_counter() - started
        progress.stage("done")

    print_summary(console, report, store_location(store), ttl_out)
    _no_collection_at_exit()
    for line in report.moved:
        errors.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)
    if report.absent:
        pruned = [g for g in report.removed if not any(g in line for line in report.moved)]
        errors.print(f"{'removed' if prune else 'note'}: {len(report.absent)} source(s) the "
                     f"store holds are not in the folder(s) built (deleted, or built from "
                     f"elsewhere: {', '.join(report.absent[:3])}"
                     f"{', …' if len(report.absent) > 3 else ''}); "
                     + (f"their {len(pruned)} graph(s) removed" if prune
                        else "their graphs stay (--prune removes them)"),
                     markup=False, highlight=False, soft_wrap=True)
    for line in report.failures:
        errors.print(f"error: {line}", markup=False, highlight=False, soft_wrap=True)
    if report.failures:
        raise typer.Exit(2)


# Plan files given one by one, up to this many: a user's small build, run with Python's cycle
# collector off (kgraph.memory.collector_paused). A fresh process building one plan allocates
# some millions of objects (imports, extraction, the kept lineage and states), and the
# collections they trigger walked them again and again (140 young and one full collection,
# 0.05-0.1 CPU-s of a one-plan build at 2,000 plans) to free the few cycles such a build
# leaves, which the process gives back when it ends; on again after the command, with what the
# build kept moved to the oldest generation (``settle``: no young collection walks it then).
FEW_PLANS = 10


@functools.cache
def _no_collection_at_exit() -> None:
    """When this process ends, Python's finalization runs a cycle collection over every object
    still held: after a one-plan build of a national store (its lineage and kept states are
    millions of objects) a tenth of a CPU-second the user waits for, for memory the process
    gives back anyway. Frozen then (:func:`gc.freeze`, at exit only: a process building one
    plan after another collects as before)."""
    import atexit
    import gc

    atexit.register(gc.freeze)


@app.command()
@user_errors
def revisions(
    doc: Annotated[str | None, typer.Option("--doc", help="Only this document (number).")
                   ] = None,
    show: Annotated[str | None, typer.Option(
        "--show", help="Print the N-Triples of this revision (IRI).")] = None,
    store: StoreOption = None,
) -> None:
    """Earlier versions of documents, kept when a new source replaced them."""
    from rich.table import Table

    from kgraph.errors import QueryError
    from kgraph.graph.iris import number_key
    from kgraph.graph.revisions import list_revisions, revision_ntriples

    repo = repository(store, read_only=True)
    if show:
        text = revision_ntriples(repo, show)
        if not text:
            raise QueryError(f"no revision {show!r} in the store")
        sys.stdout.write(text)
        return
    found = list_revisions(repo, number_key(doc) if doc else None)
    table = Table(title="kgraph revisions")
    for column in ("document", "replaced", "source sha256", "triples", "revision"):
        table.add_column(column, overflow="fold")
    for rev in found:
        table.add_row(rev.number, rev.replaced, rev.sha256[:16], str(rev.triples), rev.iri)
    console.print(table)
    console.print(f"{len(found)} revision(s)")


@app.command()
@user_errors
def query(
    name: Annotated[str, typer.Argument(help="Named query (`kgraph queries`) or .rq file.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="key=value, repeatable.")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
    store: StoreOption = None,
) -> None:
    """Run a named SPARQL query with parameters."""
    from kgraph.analysis.queries import load_query, parse_params, run_named, to_json, write_csv

    named = load_query(name)
    repo, values = repository(store, read_only=True), parse_params(param or [])
    named.render(values)  # the parameters checked, whether the kept answer or the query answers
    result = kept_result(repo, name, values) or run_named(named, repo, values, plain=True)
    if output is OutputFormat.json:
        sys.stdout.write(to_json(result) + "\n")
    elif output is OutputFormat.csv:
        write_csv(result, sys.stdout)
    else:
        print_table(named.title or named.name, result)


def kept_result(repo: Any, name: str, values: dict[str, str]) -> Any:
    """The answer the build kept for a query that has one (:mod:`kgraph.analysis.kept_answers`:
    ``directive-coverage``, ``assignments``; a national directive's tens of thousands of rows
    at 20,000 plans, seconds by the query), as the query's result (its rows' values as text,
    as :func:`to_csv` and the table print them); None otherwise."""
    from kgraph.analysis.kept_answers import kept_answer
    from kgraph.store.embedded import QueryResult

    answer = kept_answer(repo, name, values)
    if answer is None:
        return None
    width = len(answer.variables)
    return QueryResult("select", variables=list(answer.variables),
                       rows=[row[:width] for row in answer.rows])


def print_table(title: str, result: Any) -> None:
    if result.kind != "select":
        console.print(result.boolean if result.kind == "ask" else result.triples)
        return
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for variable in result.variables:
        table.add_column(variable, overflow="fold")
    for record in result.records():
        table.add_row(*[value or "" for value in record.values()])
    console.print(table)
    console.print(f"{len(result.rows)} row(s)")


@app.command("keep")
@user_errors
def keep(store: StoreOption = None) -> None:
    """Keep the named queries' answers (the plans' facts, the directive coverage) for a store
    no build wrote.

    For a server its own bulk loader filled from ``kgraph dump``: stamped with a version token
    if it has none, every graph's facts and every directive's coverage rows read once, kept in
    this machine's cache as a first build over it keeps them (the next write is a new version,
    for which a build keeps them again). Run again, it finds them kept and does nothing."""
    from kgraph.build import keep_answers

    for line in keep_answers(repository(store)):
        console.print(line, markup=False, highlight=False)


@app.command("queries")
def list_queries() -> None:
    """List the named queries and their parameters."""
    from kgraph.analysis.queries import named_queries

    for named in named_queries().values():
        console.print(f"[bold]{named.name}[/bold]  {named.title}")
        console.print(f"    {named.description}", markup=False, highlight=False)
        for p in named.parameters:
            flag = "required" if p.required else f"default {p.default!r}"
            line = f"    --param {p.name}=...  {p.description} [{flag}]"
            console.print(line, markup=False)


class DumpFormat(StrEnum):
    trig = "trig"
    nquads = "nquads"


@app.command("dump")
@user_errors
def dump(
    output: Annotated[DumpFormat, typer.Option("--format", "-f", help="trig or nquads.")]
    = DumpFormat.trig,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default: "
                                             "standard output).")] = None,
    store: StoreOption = None,
) -> None:
    """Write the whole dataset, every named graph, as TriG or N-Quads."""
    from kgraph.store.dump import dump_dataset

    repo = repository(store, read_only=True)
    if out is None:
        dump_dataset(repo, sys.stdout.buffer, output.value)
        sys.stdout.buffer.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        dump_dataset(repo, handle, output.value)
    errors.print(f"wrote {out} ({len(repo)} quads, {len(repo.graph_names())} named graphs)",
                 markup=False, highlight=False)


@app.command("eval")
@user_errors
def evaluate(
    gold: Annotated[Path, typer.Option(help="Gold annotation (JSON).")] = Path(
        "tests/fixtures/gold_seeds.json"
    ),
    sources: Annotated[Path, typer.Option(help="Folder of the annotated plans.")] = Path(
        "data/sources"
    ),
) -> None:
    """Score the extractor against a gold annotation."""
    from kgraph.ingest.evaluation import evaluate as run_eval
    from kgraph.ingest.evaluation import format_report

    sys.stdout.write(format_report(run_eval(gold, sources)) + "\n")


# The other commands register themselves on ``app`` when their module is imported.
from kgraph.cli import audit, coverage, serve, sweep, viz  # noqa: E402, F401
