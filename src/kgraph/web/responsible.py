"""Who holds a plan's tasks on a date, and where its deadlines stand: ``/api/responsible``,
``/api/deadlines``, ``/api/successor`` (JSON), answered by :mod:`kgraph.analysis.succession`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from kgraph.analysis.succession import deadlines, responsible_rows, successor, summary
from kgraph.errors import QueryError
from kgraph.store.embedded import Repository
from kgraph.web.app import get_repository
from kgraph.web.queries_api import page_link

router = APIRouter()

DocParam = Annotated[str, Query(description="Plan number as written (234/KH-UBND)", min_length=1)]
DateParam = Annotated[str, Query(description="The date asked about, yyyy-mm-dd (default today)")]


@router.get("/api/responsible", summary="Who holds each task of a plan on a date")
def api_responsible(repository: Annotated[Repository, Depends(get_repository)], doc: DocParam,
                    date: DateParam = "") -> dict[str, Any]:
    """Each assignment, duty and reporting duty: the body the plan named, the body holding it on
    the date, and the chain of changes between them with the date and legal basis of each step."""
    try:
        rows = responsible_rows(repository, doc, date)
    except QueryError as exc:
        raise HTTPException(status_code=400 if "date" in str(exc) else 404,
                            detail=str(exc)) from exc
    return {"doc": doc, "date": date or None, "count": len(rows),
            "ambiguous": sum(bool(r["ambiguous"]) for r in rows), "rows": rows}


DEADLINES_PAGE = 1000  # rows per page: every plan's dated duties are 20,000 at 20,000 plans
DEADLINES_MAX = 10_000


@router.get("/api/deadlines", summary="Dated duties: due, overdue or not yet due on a date")
def api_deadlines(request: Request, response: Response,
                  repository: Annotated[Repository, Depends(get_repository)],
                  doc: Annotated[str, Query(description="Plan number (default every plan)")] = "",
                  date: DateParam = "",
                  offset: Annotated[int, Query(ge=0, description="First row of the page")] = 0,
                  limit: Annotated[int, Query(ge=1, le=DEADLINES_MAX, description=(
                      f"Rows per page (default {DEADLINES_PAGE})"))] = DEADLINES_PAGE,
                  ) -> dict[str, Any]:
    """The rows in tracking order (overdue, due, not yet due, done), a page at a time;
    ``summary`` and ``total`` count every row, ``next`` (also a ``Link`` header) asks for the
    page after this one."""
    try:
        rows = deadlines(repository, doc, date)
    except QueryError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    following = page_link(request, offset + limit, limit) if offset + limit < len(rows) else None
    if following:
        response.headers["Link"] = f'<{following}>; rel="next"'
    return {"doc": doc or None, "date": date or None, "summary": summary(rows),
            "total": len(rows), "offset": offset, "limit": limit, "next": following,
            "rows": rows[offset:offset + limit]}


@router.get("/api/successor", summary="The body holding a body's tasks on a date")
def api_successor(repository: Annotated[Repository, Depends(get_repository)],
                  body: Annotated[str, Query(description="IRI of a body (id/org/...)",
                                             min_length=1)],
                  date: DateParam = "",
                  text: Annotated[str, Query(description="A task's words, to settle a split",
                                             max_length=2000)] = "") -> dict[str, Any]:
    """What the explorer shows next to a body a plan named: who holds its tasks now."""
    try:
        return successor(repository, body, date, text)
    except QueryError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
