"""The auditor's pages: ``/audit`` (findings of every document or of ``?doc=``) and
``/audit/raci?doc=`` (tasks × agencies of a plan or a directive).

The web app only reads: coverage is computed for the page and not stored (``kgraph audit``
stores it). Templates autoescape, so plan text shows as text, never as markup.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from kgraph.analysis.audit import ROLE_LABELS, ROLE_MARK, all_rule_labels, raci, run_audit
from kgraph.store.embedded import Repository
from kgraph.web.app import get_repository

router = APIRouter()
Repo = Annotated[Repository, Depends(get_repository)]


@router.get("/audit", response_class=HTMLResponse, summary="Auditor's report")
def audit_page(request: Request, repo: Repo,
               doc: Annotated[str | None, Query(max_length=100)] = None,
               format: Annotated[str, Query(pattern="^(html|json|csv|turtle)$")] = "html",
               ) -> Response:
    """Findings (SHACL, cross-document rules, coverage) as HTML, JSON, CSV or Turtle."""
    report = run_audit(repo, doc or None)
    if doc and not report.documents:
        raise HTTPException(404, f"no source document numbered {doc!r}")
    if format == "json":
        return Response(report.to_json(), media_type="application/json")
    if format == "csv":
        return PlainTextResponse("\ufeff" + report.to_csv(), media_type="text/csv; charset=utf-8")
    if format == "turtle":
        return Response(report.to_turtle(), media_type="text/turtle")
    from kgraph.web.pages import render  # the site's header, ?lang=en, CSP

    return render(request, "audit.html", report=report, findings=report.sorted(),
                  labels=all_rule_labels(), standalone=False, doc=doc or "")


@router.get("/audit/raci", response_class=HTMLResponse, summary="Responsibility matrix")
def raci_page(request: Request, repo: Repo,
              doc: Annotated[str, Query(min_length=1, max_length=100)],
              format: Annotated[str, Query(pattern="^(html|csv)$")] = "html") -> Response:
    """Tasks × agencies of one plan or of the plans carrying out one directive."""
    matrix = raci(repo, doc)
    if not matrix.rows:
        raise HTTPException(404, f"no plan numbered {doc!r} and no plan carrying it out")
    if format == "csv":
        return PlainTextResponse("\ufeff" + matrix.to_csv(), media_type="text/csv; charset=utf-8")
    from kgraph.web.pages import render

    return render(request, "audit_raci.html", matrix=matrix, marks=ROLE_MARK, roles=ROLE_LABELS,
                  standalone=False, doc=doc)
