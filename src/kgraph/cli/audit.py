"""``kgraph audit`` and ``kgraph raci``: the auditor's report and the tasks × agencies matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgraph.analysis.audit import raci, run_audit
from kgraph.cli.common import StoreOption, app, console, repository, user_errors
from kgraph.errors import QueryError


@app.command()
@user_errors
def audit(
    doc: Annotated[str | None, typer.Option("--doc", help="Audit one document (number).")
                   ] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write audit-shacl.ttl, audit.json, audit.csv and audit.html here.")
    ] = None,
    store: StoreOption = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Also flag tasks whose body is gone on this date (yyyy-mm-dd) and whose "
                        "successor is ambiguous or missing.")] = None,
) -> None:
    """Check completeness and coverage; exit code 1 when there is a Violation."""
    if as_of:
        from kgraph.analysis.succession import parse_date

        as_of = parse_date(as_of).isoformat()
    report = run_audit(repository(store), doc, store_links=True, as_of=as_of)
    if doc and not report.documents:
        raise QueryError(f"no source document numbered {doc!r} in the store")
    console.print(report.summary(), markup=False, highlight=False, soft_wrap=True)
    if out is not None:
        for path in report.write(out):
            console.print(f"wrote {path}", markup=False, highlight=False)
    if report.violations:
        raise typer.Exit(1)

@app.command("raci")
@user_errors
def raci_command(
    doc: Annotated[str, typer.Option("--doc", help="A plan or a directive (number).")],
    out: Annotated[Path, typer.Option("--out", help="FILE.csv or FILE.html")],
    store: StoreOption = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Columns are the bodies holding each duty on this date (yyyy-mm-dd).")
    ] = None,
) -> None:
    """Tasks × agencies (L lead, R responsible, C coordinate, Đ requested), CSV or HTML."""
    if as_of:
        from kgraph.analysis.succession import parse_date

        as_of = parse_date(as_of).isoformat()
    matrix = raci(repository(store, read_only=True), doc, as_of)
    if not matrix.rows:
        raise QueryError(f"no plan numbered {doc!r} and no plan carrying it out")
    text = matrix.to_html() if out.suffix.lower() in (".html", ".htm") else matrix.to_csv()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}: {len(matrix.rows)} task(s) × {len(matrix.agencies)} "
                  "agencies", markup=False, highlight=False)
