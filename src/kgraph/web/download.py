"""Data to take away: the ``/download`` page, and the whole dataset as one file.

``/download/kgraph.trig`` and ``/download/kgraph.nq`` hold every named graph (each document's
graph, the ontology, the reference list) exactly as the store holds them, with no row cap:
loading the file into an empty store gives the same quads (``kgraph dump`` writes the same).
"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from kgraph.store.dump import FORMATS, dump_dataset
from kgraph.store.embedded import Repository
from kgraph.web.app import get_repository

router = APIRouter(tags=["download"])
Repo = Annotated[Repository, Depends(get_repository)]
FILES = {"kgraph.trig": "trig", "kgraph.nq": "nquads"}


@router.get("/download", response_class=HTMLResponse, include_in_schema=False)
def download_page(request: Request, repository: Repo) -> Response:
    """What can be downloaded, with sizes people can judge before clicking."""
    from kgraph.web.pages import language, render
    from kgraph.web.queries_api import ordered_queries, query_info

    lang = language(request)
    queries = []
    for query in ordered_queries():
        info = query_info(query)
        if any(p["required"] and not p["example"] for p in info.parameters):
            continue
        values = {p["name"]: p["example"] for p in info.parameters if p["example"]}
        queries.append({"name": query.name, "title": info.title[lang], "values": values})
    from kgraph.analysis.page_data import store_counts  # kept per store version, as /health's

    graphs, quads = store_counts(repository)
    return render(request, "download.html", quads=quads, graphs=len(graphs), queries=queries)


def _dataset(repository: Repository, format: str, filename: str) -> Response:
    buffer = io.BytesIO()
    dump_dataset(repository, buffer, format)
    return Response(buffer.getvalue(), media_type=f"{FORMATS[format][1]}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/download/kgraph.trig", summary="Every named graph as TriG")
def download_trig(repository: Repo) -> Response:
    """The whole dataset (documents, ontology, reference list), one named graph each."""
    return _dataset(repository, "trig", "kgraph.trig")


@router.get("/download/kgraph.nq", summary="Every named graph as N-Quads")
def download_nquads(repository: Repo) -> Response:
    """The whole dataset as N-Quads (one quad per line: easy to split and to diff)."""
    return _dataset(repository, "nquads", "kgraph.nq")
