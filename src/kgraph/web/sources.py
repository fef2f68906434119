"""The originals behind the graph: "page N of FILE" for a statement, and the file itself.

A PDF, Word file, scan or saved HTML page travels in its document's graph (``kg:content`` on
the ``kg:SourceFile``), so the store serves it back at ``/source/{id}`` with its own media
type, and a statement's page links to ``/source/{id}#page=N`` (the page's position in the
served file, which for page images bound together may differ from the number it carries).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import PlainTextResponse

from kgraph.graph.vocab import ID, KG, sparql_prefixes
from kgraph.store.embedded import Repository
from kgraph.web.app import get_repository

router = APIRouter()
Repo = Annotated[Repository, Depends(get_repository)]
_KEY = re.compile(r"^[0-9a-f]{16}$")
_WORDS = {"vi": ("trang", "của tệp", "độ tin cậy OCR", "Mở tệp gốc"),
          "en": ("page", "of", "OCR confidence", "Open the original")}


@dataclass(frozen=True)
class SourcePage:
    """Where a statement stands in the original: page number, file, link, OCR confidence."""

    number: int
    file: str
    href: str | None  # None when the original is not kept (plain text sources)
    confidence: float | None = None
    lang: str = "vi"

    @property
    def text(self) -> str:
        page, of = _WORDS.get(self.lang, _WORDS["vi"])[:2]
        return f"{page} {self.number} {of} {self.file}"

    @property
    def confidence_text(self) -> str | None:
        if self.confidence is None:
            return None
        return f"{_WORDS.get(self.lang, _WORDS['vi'])[2]} {self.confidence:.0f}%"


def source_page(repository: Repository, iri: str, lang: str = "vi") -> SourcePage | None:
    """The page of the original a part of a plan (task, duty, ...) comes from, if known."""
    rows = repository.query(sparql_prefixes() + f"""
        SELECT ?n ?name ?file ?stored ?index ?confidence WHERE {{
          <{iri}> kg:sourcePage ?n ; kg:partOf ?doc .
          ?doc kg:sourceFile ?file . ?file dcterms:title ?name .
          OPTIONAL {{ ?file dcterms:format ?stored }}
          OPTIONAL {{ ?page kg:pageOf ?file ; kg:pageNumber ?n ; kg:pageIndex ?index }}
          OPTIONAL {{ <{iri}> kg:ocrConfidence ?confidence }}
        }} LIMIT 1""").rows
    if not rows:
        return None
    number, name, file, stored, index, confidence = rows[0]
    href = None
    if stored is not None:
        href = f"/source/{str(file).rsplit('/', 1)[-1]}#page={int(index or number)}"
    return SourcePage(int(number), str(name), href,
                      float(confidence) if confidence is not None else None, lang)


@dataclass(frozen=True)
class Original:
    """A link to the original file (or one of its pages) from its own linked-data page."""

    href: str
    text: str


def original_link(repository: Repository, iri: str, lang: str = "vi") -> Original | None:
    """For a kg:SourceFile kept in the store, or one of its kg:SourcePage: where to open it."""
    rows = repository.query(sparql_prefixes() + f"""
        SELECT ?file ?index WHERE {{
          {{ BIND(<{iri}> AS ?file) ?file a kg:SourceFile ; dcterms:format ?format }}
          UNION
          {{ <{iri}> kg:pageOf ?file ; kg:pageIndex ?index . ?file dcterms:format ?format }}
        }} LIMIT 1""").rows
    if not rows:
        return None
    file, index = rows[0]
    href = f"/source/{str(file).rsplit('/', 1)[-1]}" + (f"#page={int(index)}" if index else "")
    return Original(href, _WORDS.get(lang, _WORDS["vi"])[3])


@router.get("/source/{key}", summary="The original file (PDF, Word, scan, HTML) a graph came from")
def original(key: str, repository: Repo) -> Response:
    if not _KEY.match(key):
        return PlainTextResponse("404 Not Found: no such source file", status_code=404)
    rows = repository.query(sparql_prefixes() + f"""
        SELECT ?content ?format ?name WHERE {{
          <{ID}source/{key}> <{KG.content}> ?content ; dcterms:format ?format ;
                             dcterms:title ?name .
        }} LIMIT 1""").rows
    if not rows:
        return PlainTextResponse("404 Not Found: no original kept for this source",
                                 status_code=404)
    content, media_type, name = (str(v) for v in rows[0])
    safe_name = re.sub(r"[^\w.\- ]", "_", name, flags=re.ASCII)
    headers = {"Content-Disposition": f'inline; filename="{safe_name}"',
               "X-Content-Type-Options": "nosniff"}
    if media_type.startswith("text/html"):
        headers["Content-Security-Policy"] = "sandbox"  # a saved portal page runs no script
    return Response(base64.b64decode(content), media_type=media_type, headers=headers)
