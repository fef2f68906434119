"""The auditor's pages: ``/audit`` (findings of every document or of ``?doc=``) and
``/audit/raci?doc=`` (tasks × agencies of a plan or a directive).

The web app only reads: the audit is computed once per store version
(:mod:`kgraph.analysis.audit_index`) and each request filters and pages it. Templates
autoescape, so plan text shows as text, never as markup.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse

from kgraph.analysis.audit import ROLE_LABELS, ROLE_MARK, all_rule_labels, raci
from kgraph.analysis.audit_index import audit_index, findings_csv
from kgraph.store.embedded import Repository
from kgraph.web.app import get_repository

router = APIRouter()
Repo = Annotated[Repository, Depends(get_repository)]


@router.get("/audit", response_class=HTMLResponse, summary="Auditor's report")
def audit_page(
    request: Request,
    repo: Repo,
    doc: Annotated[str | None, Query(max_length=100, description="a plan (number)")] = None,
    province: Annotated[str | None, Query(max_length=100)] = None,
    rule: Annotated[str | None, Query(max_length=100)] = None,
    severity: Annotated[str | None, Query(pattern="^(Violation|Warning|Info|)$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Annotated[str, Query(pattern="^(html|json|csv|turtle)$")] = "html",
) -> Response:
    """Findings (SHACL, cross-document rules, coverage) as HTML, JSON, CSV or Turtle.

    The audit of the whole store is computed once per store version (at build time for each
    document); this filters and pages it. JSON and HTML are paged, CSV and Turtle hold every
    finding the filters select.
    """
    index = audit_index(repo)
    filters = {"province": province or None, "plan": doc or None, "rule": rule or None,
               "severity": severity or None}
    if doc and not index.matching_documents(plan=doc):
        raise HTTPException(404, f"no source document numbered {doc!r}")
    if format == "csv":  # every finding selected, streamed a group at a time
        return StreamingResponse(findings_csv(index.iter_findings(**filters)),
                                 media_type="text/csv; charset=utf-8")
    if format == "turtle":
        return Response(index.report(**filters).to_turtle(), media_type="text/turtle")
    chosen = index.page((page - 1) * per_page, per_page, **filters)
    if format == "json":
        return Response(json.dumps({
            "documents": chosen.documents, "total": chosen.total, "page": page,
            "per_page": per_page,
            "counts": {"by_severity": chosen.by_severity(),
                       "by_rule": [{"rule": r, "severity": s, "count": n}
                                   for r, s, n in chosen.by_rule()]},
            "findings": [asdict(f) for f in chosen.findings],
        }, ensure_ascii=False), media_type="application/json")
    pages = max(1, -(-chosen.total // per_page))
    kept = {k: v for k, v in (("doc", doc), ("province", province), ("rule", rule),
                              ("severity", severity), ("lang", request.query_params.get("lang")))
            if v}
    links = {
        name: "/audit?" + urlencode({**kept, "page": target, "per_page": per_page})
        for name, target in (("previous", page - 1), ("next", page + 1)) if 1 <= target <= pages
    }
    pager = {"page": page, "pages": pages, "total": chosen.total, "links": links}
    from kgraph.web.pages import render  # the site's header, ?lang=en, CSP

    return render(request, "audit.html", report=chosen, findings=chosen.findings,
                  labels=all_rule_labels(), standalone=False, doc=doc or "",
                  province=province or "", severity=severity or "", pager=pager)


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
