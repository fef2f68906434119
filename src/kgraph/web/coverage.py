"""The auditor's matrix: ``/coverage?doc=`` (directive tasks × provinces, filters, CSV) and
``/coverage/cell?doc=&task=&province=`` (drill-down to the source sentences).

Reads the directive's stored coverage graph (``kgraph coverage`` or the build writes it), so a
page is one query however many plans carry the directive out; the web app never writes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from kgraph.analysis.coverage import (
    STATUS_LABELS,
    Matrix,
    Status,
    kept_matrix,
)
from kgraph.analysis.coverage_cells import cell_counts, cell_sources, stored_directives
from kgraph.ingest.text import fold
from kgraph.store.embedded import Repository
from kgraph.web.app import get_repository
from kgraph.web.pages import render

router = APIRouter()
Repo = Annotated[Repository, Depends(get_repository)]
Doc = Annotated[str, Query(min_length=1, max_length=100)]
GAPS = "gaps"
OTHERS_SHOWN = 2  # a cell quotes each other province's best-scored items, up to this many


def _matrix(repo: Repository, doc: str) -> Matrix:
    matrix = kept_matrix(repo, doc)
    if matrix is None:
        raise HTTPException(404, f"no stored coverage for {doc!r}: run "
                                 f"`kgraph coverage --doc {doc}` (or the build) first")
    return matrix


@router.get("/coverage", response_class=HTMLResponse, summary="Directive tasks × provinces")
def coverage_page(request: Request, repo: Repo,
                  doc: Annotated[str | None, Query(max_length=100)] = None,
                  province: Annotated[list[str] | None, Query(max_length=100)] = None,
                  status: Annotated[str | None, Query(
                      pattern="^(assigned|collective|unassigned|dropped|gaps)$")] = None,
                  q: Annotated[str | None, Query(max_length=200)] = None,
                  format: Annotated[str, Query(pattern="^(html|csv)$")] = "html",
                  ) -> Response:
    """Each cell: the lead body, or 'no plan task', or 'task without a responsible body'.
    Without ``doc``: the directives whose coverage is stored."""
    if not doc:
        return render(request, "coverage_index.html", directives=stored_directives(repo))
    matrix = _matrix(repo, doc)
    if format == "csv":
        name = matrix.directive.replace("/", "-")
        return Response(matrix.to_csv().encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="coverage-{name}.csv"'})
    shown_provinces = [p for p in matrix.provinces if not province or p in province]
    wanted = {Status(status)} if status and status != GAPS else (
        set(Status) - {Status.ASSIGNED} if status == GAPS else set(Status))
    needle = fold(q or "").strip()
    rows = []
    for task in matrix.tasks:
        if needle and needle not in fold(task.text):
            continue
        cells = [(p, matrix.cell(task.no, p)) for p in shown_provinces]
        if not any(cell.status in wanted for _, cell in cells):
            continue
        rows.append((task, cells))
    counts = {s: sum(1 for t in matrix.tasks for p in matrix.provinces
                     if matrix.cell(t.no, p).status == s) for s in Status}
    return render(request, "coverage.html", matrix=matrix, rows=rows,
                  provinces=shown_provinces, selected=set(province or []), status=status or "",
                  q=q or "", wanted=wanted, labels=STATUS_LABELS, counts=counts,
                  statuses=list(Status))


@router.get("/coverage/cell", response_class=HTMLResponse, summary="One cell, from the sources")
def cell_page(request: Request, repo: Repo, doc: Doc,
              task: Annotated[str, Query(min_length=1, max_length=20)],
              province: Annotated[str, Query(min_length=1, max_length=100)]) -> Response:
    """The directive task, the province's verdict, and every plan item restating the task
    (this province's first) quoted from the source file, with the duties carrying it out."""
    matrix = _matrix(repo, doc)
    found = next((t for t in matrix.tasks if t.no == task), None)
    if found is None or province not in matrix.provinces:
        raise HTTPException(404, f"no task {task!r} or province {province!r} in the matrix")
    counts = cell_counts(repo, matrix, task)
    sources = cell_sources(repo, matrix, task, [
        r for p, items in counts.items() for r in (items if p == province
                                                   else items[:OTHERS_SHOWN])])
    mine = [s for s in sources if s.province == province]
    others = [s for s in sources if s.province != province]
    more = {p: len(items) - OTHERS_SHOWN for p, items in counts.items()
            if p != province and len(items) > OTHERS_SHOWN}
    return render(request, "coverage_cell.html", matrix=matrix, task=found, province=province,
                  cell=matrix.cell(task, province), mine=mine, others=others, more=more,
                  shown=OTHERS_SHOWN, labels=STATUS_LABELS, statuses=Status)
