"""The ``kgraph`` command line: build the graph, query it, score the extractor.

Every command takes ``--store DIR`` (default: $KGRAPH_STORE, else the user's data folder).
Errors a user can fix are printed as one line on stderr, with exit code 2.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kgraph import paths
from kgraph.cli.common import (  # noqa: F401  (re-exported for the command modules)
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
    from kgraph.build import load, prepare

    if not sources:
        sources = [paths.default_sources()]
        ttl_out = ttl_out or paths.default_ttl_dir()
    _, graphs = prepare(sources)  # every file read before the store is even opened
    written = load(graphs, repository(store), ttl_out=ttl_out)
    for mapped in graphs:
        typer.echo(f"  {mapped.document}")
    triples = sum(len(g.graph) for g in graphs)
    typer.echo(
        f"built {len(graphs)} document graph(s), {triples} triples"
        + (f"; wrote {len(written)} file(s) to {ttl_out}" if ttl_out else "")
        + f"; store {store_location(store)}"
    )
    from kgraph.analysis.validation import validate_graph  # reported, never blocking: `audit` gates

    results = [r for g in graphs for r in validate_graph(g.graph).results]
    violations = sum(r.severity == "Violation" for r in results)
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
