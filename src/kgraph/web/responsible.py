"""Who holds a plan's tasks on a date, and where its deadlines stand: ``/api/responsible``,
``/api/deadlines``, ``/api/successor`` (JSON), answered by :mod:`kgraph.analysis.succession`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from kgraph.analysis.succession import deadlines, responsible_rows, successor, summary
from kgraph.errors import QueryError
from kgraph.store.embedded import Repository
from kgraph.web.app import get_repository

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


@router.get("/api/deadlines", summary="Dated duties: due, overdue or not yet due on a date")
def api_deadlines(repository: Annotated[Repository, Depends(get_repository)],
                  doc: Annotated[str, Query(description="Plan number (default every plan)")] = "",
                  date: DateParam = "") -> dict[str, Any]:
    try:
        rows = deadlines(repository, doc, date)
    except QueryError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return {"doc": doc or None, "date": date or None, "summary": summary(rows), "rows": rows}


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
