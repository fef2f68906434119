"""The ``kgraph`` command line: build the graph, query it, score the extractor.

Every command takes ``--store DIR`` (default: $KGRAPH_STORE, else the user's data folder).
Errors a user can fix are printed as one line on stderr, with exit code 2.
Heavy libraries (pyoxigraph, rdflib, pyshacl, pyvis, fastapi) are imported inside the commands
that need them, so ``kgraph --help`` stays fast (bench/bench_cli.py measures it).
"""

from __future__ import annotations

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
) -> None:
    """Extract the plans, write their graphs and load them (with ontology and reference data)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from kgraph.analysis.validation import validate_graph
    from kgraph.build import collect_sources, load, map_sources
    from kgraph.errors import SourceError

    if not sources:
        sources = [paths.default_sources()]
        ttl_out = ttl_out or paths.default_ttl_dir()
    files = collect_sources(sources)
    if not files:
        raise SourceError(", ".join(map(str, sources)), "no .txt or .md plan files found")
    progress = Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=errors, transient=True)

    class Counted(list):  # files handed to map_sources, counted as it reads each one
        def __iter__(self):  # type: ignore[no-untyped-def]
            for item in super().__iter__():
                yield item
                progress.advance(reading)

    with progress:
        reading = progress.add_task("files read", total=len(files))
        graphs = map_sources(Counted(files))  # every file read before the store is even opened
        loading = progress.add_task("graphs loaded", total=len(graphs))
        written = load(graphs, repository(store), ttl_out=ttl_out)
        progress.update(loading, completed=len(graphs))
        checking = progress.add_task("validation", total=len(graphs))
        results = []
        for mapped in graphs:  # reported, never blocking: `kgraph audit` gates
            results.extend(validate_graph(mapped.graph).results)
            progress.advance(checking)
    for mapped in graphs:
        typer.echo(f"  {mapped.document}")
    triples = sum(len(g.graph) for g in graphs)
    violations = sum(r.severity == "Violation" for r in results)
    typer.echo(
        f"built {len(graphs)} document graph(s), {triples} triples"
        + (f"; wrote {len(written)} file(s) to {ttl_out}" if ttl_out else "")
        + f"; store {store_location(store)}"
    )
    summary = Table(title="kgraph build", show_header=False)
    for name, value in (("source files", len(files)), ("document graphs", len(graphs)),
                        ("triples", triples), ("TriG files written", len(written)),
                        ("SHACL violations", violations),
                        ("other findings", len(results) - violations),
                        ("store", store_location(store))):
        summary.add_row(name, str(value))
    console.print(summary)
    typer.echo(f"validation: {violations} violation(s), {len(results) - violations} other "
               "finding(s); details: kgraph audit")


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
    from kgraph.analysis.queries import load_query, parse_params, run_named, to_csv, to_json

    named = load_query(name)
    result = run_named(named, repository(store, read_only=True), parse_params(param or []))
    if output is OutputFormat.json:
        sys.stdout.write(to_json(result) + "\n")
    elif output is OutputFormat.csv:
        sys.stdout.write(to_csv(result))
    else:
        print_table(named.title or named.name, result)


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
from kgraph.cli import audit, coverage, serve, viz  # noqa: E402, F401
