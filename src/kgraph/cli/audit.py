"""``kgraph audit`` and ``kgraph raci``: the auditor's report and the tasks × agencies matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgraph.cli.common import StoreOption, app, console, repository, user_errors
from kgraph.errors import QueryError


@app.command()
@user_errors
def audit(
    doc: Annotated[str | None, typer.Option("--doc", help="Audit one document (number).")
                   ] = None,
    province: Annotated[str | None, typer.Option(
        "--province", help="Only the documents of this province (diacritics optional).")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule.")] = None,
    severity: Annotated[str | None, typer.Option(
        "--severity", help="Only Violation, Warning or Info.")] = None,
    limit: Annotated[int, typer.Option(
        "--limit", help="Findings printed in full (counts always cover all).")] = 200,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write audit-shacl.ttl, audit.json, audit.csv and audit.html here.")
    ] = None,
    store: StoreOption = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Also flag tasks whose body is gone on this date (yyyy-mm-dd) and whose "
                        "successor is ambiguous or missing.")] = None,
) -> None:
    """Check completeness and coverage; exit code 1 when there is a Violation.

    The audit of the whole store is computed once per store version (mostly by `kgraph
    build`) and kept next to the store; the options filter it, and only the findings printed
    are read. ``--as-of`` adds the succession findings of that date for the documents
    selected; ``--out`` writes every finding selected.
    """
    from kgraph.analysis.audit_index import audit_index

    repo = repository(store, read_only=True)
    index = audit_index(repo)
    if doc and not index.matching_documents(plan=doc):
        report = directive_report(repository(store), doc)  # a directive: its coverage gaps
    else:
        if province and not index.matching_documents(province=province):
            raise QueryError(f"no source document of the province {province!r} in the store")
        filters = {"province": province, "plan": doc, "rule": rule, "severity": severity}
        if out is None and not as_of:  # what is printed only: counts and the first findings
            page = index.page(0, limit, **filters)
            console.print(page.summary(), markup=False, highlight=False, soft_wrap=True)
            if page.counts.get("Violation"):
                raise typer.Exit(1)
            return
        report = index.report(**filters)
    if as_of:
        from kgraph.analysis.audit import AuditReport, succession_findings
        from kgraph.analysis.audit_index import findings_graph
        from kgraph.analysis.succession import parse_date

        dated = [f for f in succession_findings(repo, report.documents,
                                                parse_date(as_of).isoformat())
                 if (not rule or f.rule == rule)
                 and (not severity or f.severity.lower() == severity.lower())]
        findings = [*report.findings, *dated]
        report = AuditReport(findings, report.documents, findings_graph(findings))
    console.print(report.summary(limit=limit), markup=False, highlight=False, soft_wrap=True)
    if out is not None:
        for path in report.write(out):
            console.print(f"wrote {path}", markup=False, highlight=False)
    if report.violations:
        raise typer.Exit(1)


def directive_report(repo, doc: str):  # type: ignore[no-untyped-def]
    """The audit of a document that is no source but is carried out by plans in the store (a
    directive): its tasks dropped, unassigned or given only to collectives, province by
    province. A number that is neither is a user error."""
    from kgraph.analysis.audit import run_audit

    report = run_audit(repo, doc, store_links=True)
    if not report.documents:
        raise QueryError(f"no source document numbered {doc!r} in the store, and no plan "
                         "carrying it out")
    return report


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
    from kgraph.analysis.audit import raci

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
