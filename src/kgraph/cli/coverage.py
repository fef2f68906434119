"""``kgraph coverage``: every task of a directive, in every province: who leads it, where it was
dropped. Computes and stores the directive's coverage graph, prints the matrix, writes a CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgraph.cli.common import StoreOption, app, console, repository, user_errors
from kgraph.errors import QueryError

PLAIN = {"markup": False, "highlight": False, "soft_wrap": True}


@app.command("coverage")
@user_errors
def coverage_command(
    doc: Annotated[str | None, typer.Option(
        "--doc", help="The directive (number); default: every directive several plans carry out.")
    ] = None,
    csv_out: Annotated[Path | None, typer.Option(
        "--csv", help="Write the matrix here (CSV, UTF-8 with BOM).")] = None,
    store: StoreOption = None,
) -> None:
    """Align the plans carrying out a directive; store tasks × provinces with lead bodies."""
    from kgraph.analysis import directive_index as di  # scikit-learn and rdflib: when it runs
    from kgraph.analysis.coverage import (
        STATUS_LABELS,
        Status,
        compute_directive_coverage,
        directive_graph_iri,
        directive_of,
        read_matrix,
    )
    from kgraph.store.embedded import OxigraphRepository

    repo = repository(store)
    lineage = di.Lineage.read(repo)
    groups = lineage.groups()
    directives = [doc] if doc else list(groups)
    if not directives:
        raise QueryError("no directive is carried out by two or more source plans in the store")
    root = repo.root if isinstance(repo, OxigraphRepository) else None
    for directive in directives:
        found = directive_of(repo, directive)
        # a full re-alignment of every plan, from their records; the build continues from it
        done = found is not None and di.update(repo, root, repo.replace_graphs, None,
                                               lineage=lineage, only=[found[1]]).directives
        if not done and compute_directive_coverage(repo, directive) is None:
            raise QueryError(f"no document numbered {directive!r} is carried out by a source "
                             "plan in the store")
        matrix = read_matrix(repo, directive)
        assert matrix is not None  # just stored
        kind = ("reconstructed from the plans carrying it out" if matrix.reconstructed
                else "from its own outline")
        console.print(f"{matrix.directive}: {len(matrix.tasks)} task(s) ({kind}) × "
                      f"{len(matrix.provinces)} province(s): {', '.join(matrix.provinces)}; "
                      f"stored in {directive_graph_iri(matrix.directive_iri)} and one graph "
                      "per province", **PLAIN)
        for task in matrix.tasks:
            console.print(f"  {task.no:>3}. {_short(task.text, 90)} "
                          f"(confidence {task.confidence:.2f})", **PLAIN)
            for province in matrix.provinces:
                cell = matrix.cell(task.no, province)
                what = ("; ".join(cell.leads) if cell.status == Status.ASSIGNED
                        else STATUS_LABELS[cell.status][1])
                console.print(f"         {province}: {what}", **PLAIN)
        gaps = matrix.gaps()
        console.print(f"  gaps: {len(gaps)} of {len(matrix.tasks) * len(matrix.provinces)} "
                      "cell(s)", **PLAIN)
        if csv_out is not None:
            path = csv_out if len(directives) == 1 else csv_out.with_name(
                f"{csv_out.stem}-{directive.replace('/', '-')}{csv_out.suffix}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(matrix.to_csv(), encoding="utf-8")
            console.print(f"wrote {path}", **PLAIN)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
