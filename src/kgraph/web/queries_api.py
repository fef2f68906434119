"""The named queries as a web API: ``GET /api/queries/{name}?doc=28-CT/TW&format=json|csv``.

Each ``queries/*.rq`` gets its own route with its parameters declared, so the OpenAPI schema
(``/docs``) documents every query. Values are normalised as the CLI does (``$doc`` is the NFC
text, ``$doc_key`` its lookup key), and on the embedded store they are bound with pyoxigraph's
``substitutions``: the query text is never edited, so no value can change what it means. A
remote store gets the CLI's escaped-literal binding (the SPARQL protocol has no bindings).
"""

from __future__ import annotations

import csv
import datetime
import inspect
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from rdflib import BNode, Literal, URIRef

from kgraph.analysis.queries import NamedQuery, named_queries
from kgraph.analysis.queries import run_named as run_as_cli
from kgraph.errors import QueryError
from kgraph.graph.vocab import ID, PREFIXES
from kgraph.ingest.text import nfc, slugify
from kgraph.store.embedded import QueryResult, Repository, store_version, to_query_result
from kgraph.web.app import get_repository

router = APIRouter(tags=["named queries"])
Repo = Annotated[Repository, Depends(get_repository)]
CSV_BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with a byte-order mark

# Queries in the order analysts reach for them; any other .rq file follows by name.
ORDER = ("implementers", "assignments", "agency", "lineage", "reporting", "conflicts",
         "audit_conflicts")
# Which values a parameter's autocomplete offers (kinds of /api/search hits).
SUGGESTS = {"doc": "document", "agency": "agency", "province": "province"}
XSD_BOOLEAN = PREFIXES["xsd"] + "boolean"
# Rows of one JSON page by default: a page costs its rows whatever the answer's size, so a
# bounded page keeps its cost as the corpus grows (at 20,000 plans a plan's assignments are 562
# rows, 66 at 2,000; a directive's coverage in one province 1,599, 179 at 2,000; 1,000-row
# pages of 12 columns took 40-90 ms and 2.2 MB each).
PAGE_ROWS = 100
MAX_PAGE_ROWS = 10_000
# Values of whole answers kept for their next pages (per process). At 20,000 plans a national
# directive's coverage is 674,000 values and every plan's reporting duties 660,000: with a
# million, those two alone evicted each other and every smaller answer, so a rotation of the
# app's pages recomputed them (a directive's assignments 0.34 s a request, `agency` 1 -> 74 ms).
KEPT_CELLS = 3_000_000
# CSV bodies of whole answers kept as the bytes a download sends (per process, least recently
# asked first out): at 20,000 plans writing a national directive's coverage as CSV (56,161
# rows, 31 MB) took 0.3 s of each download, from rows already kept. Answers of more values
# than KEPT_CSV_VALUES stream as they are written, kept by no one.
KEPT_CSV_BYTES = 160 * 2**20
KEPT_CSV_VALUES = 1_000_000
WORDS = {"vi": {"true": "có", "false": "không"}, "en": {"true": "yes", "false": "no"}}


@dataclass(frozen=True)
class QueryInfo:
    """What the query page's form needs about one named query."""

    name: str
    title: dict[str, str]
    description: dict[str, str]
    parameters: list[dict[str, Any]]


def ordered_queries() -> list[NamedQuery]:
    known = named_queries()
    rank = {name: i for i, name in enumerate(ORDER)}
    return [known[n] for n in sorted(known, key=lambda n: (rank.get(n, len(ORDER)), n))]


def _header(query: NamedQuery, key: str) -> str:
    """A ``# key: value`` comment line of the .rq file (e.g. ``mô tả``, the Vietnamese text)."""
    for line in query.text.splitlines():
        stripped = line.lstrip("# ").strip()
        if line.startswith("#") and stripped.lower().startswith(key + ":"):
            return stripped[len(key) + 1:].strip()
    return ""


def query_info(query: NamedQuery) -> QueryInfo:
    english, _, vietnamese = query.title.partition(" / ")
    return QueryInfo(
        name=query.name,
        title={"en": english or query.name, "vi": vietnamese or english or query.name},
        description={"en": query.description,
                     "vi": _header(query, "mô tả") or query.description},
        parameters=[
            {"name": p.name, "description": p.description, "required": p.required,
             "default": p.default, "example": query.examples.get(p.name, ""),
             "label_vi": _header(query, f"tham số {p.name}") or p.name,
             "suggest": SUGGESTS.get(p.name, "")}
            for p in query.parameters
        ],
    )


_SELECT = re.compile(r"\bSELECT\s+(?:(?:DISTINCT|REDUCED)\s+)?", re.IGNORECASE)
_PROJECTION_END = re.compile(r"\s*(?:\bWHERE\b|\{)", re.IGNORECASE)
_GROUP_BY = re.compile(r"\bGROUP\s+BY\s+", re.IGNORECASE)


def used_variables(query: NamedQuery) -> list[str]:
    """The parameter variables the query's text uses (``doc``, ``doc_key``, ...)."""
    names = set(re.findall(r"\$([A-Za-z_]\w*)", query.text))
    declared = [v for p in query.parameters for v in (p.name, p.name + "_key")]
    return [v for v in declared if v in names]


def projecting(text: str, variables: list[str]) -> str:
    """The query with ``variables`` added to every SELECT projection and GROUP BY.

    pyoxigraph substitutes a variable only where it is in scope (SEP-0007): at the top and in
    each subquery that projects it. Projecting a parameter everywhere lets one substitution
    reach the subqueries; only variable names are added, never a value.
    """
    if not variables:
        return text
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    extra = " ".join(f"?{v}" for v in variables) + " "
    out, position = [], 0
    for match in _SELECT.finditer(text):
        end = _PROJECTION_END.search(text, match.end())
        if end is None or text[match.end():end.start()].strip() == "*":
            continue
        out.append(text[position:end.start()])
        out.append(" " + extra.rstrip())
        position = end.start()
    out.append(text[position:])
    return _GROUP_BY.sub(lambda m: m.group(0) + extra, "".join(out))


def run_named(repository: Repository, query: NamedQuery, values: dict[str, str]) -> QueryResult:
    """Run ``query`` with ``values`` normalised as the CLI does; QueryError on a bad value.

    On the embedded store the values are bound with pyoxigraph's ``substitutions`` (the text
    never holds them); a remote store gets the CLI's escaped literals, and a query whose
    ``# python:`` header names a function is answered by it, as ``kgraph query`` does.
    """
    query.render(values)  # checks unknown and missing parameters
    native = getattr(repository, "native", None)
    if query.python or not isinstance(native, ox.Store):  # a walk in Python, or a remote store
        return run_as_cli(query, repository, values)
    query = query.for_repository(repository)  # the Oxigraph text of the query, when it has one
    variables = used_variables(query)
    substitutions: dict[ox.Variable, ox.Literal] = {}
    for param in query.parameters:
        value = values.get(param.name, param.default) or ""
        substitutions[ox.Variable(param.name)] = ox.Literal(nfc(value))
        substitutions[ox.Variable(param.name + "_key")] = ox.Literal(slugify(value))
    answer = to_query_result(native.query(
        projecting(query.text, variables), use_default_graph_as_union=True,
        substitutions={k: v for k, v in substitutions.items() if k.value in variables}))
    keep = [i for i, v in enumerate(answer.variables) if v not in variables]
    return QueryResult("select", variables=[answer.variables[i] for i in keep],
                       rows=[[row[i] for i in keep] for row in answer.rows])


class Answers:
    """Whole answers of named queries kept per store version, so that the next page (and the
    CSV of the same question) is a slice, not the query again: an answer ordered over the whole
    corpus is computed in full before its first row whatever the LIMIT. Least recently used
    answers go first once :data:`KEPT_CELLS` values are kept; a new store version is a new
    key."""

    def __init__(self, cells: int = KEPT_CELLS) -> None:
        self.cells = cells
        self.kept: OrderedDict[tuple[str, ...], QueryResult] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, ...], compute: Callable[[], QueryResult]) -> QueryResult:
        with self.lock:
            if key in self.kept:
                self.kept.move_to_end(key)
                return self.kept[key]
        result = compute()
        if result is None:  # nothing to keep (a kept answer this version does not have)
            return result
        with self.lock:
            self.kept[key] = result
            while len(self.kept) > 1 and sum(
                    len(r.rows) * len(r.variables) for r in self.kept.values()) > self.cells:
                self.kept.popitem(last=False)
        return result


ANSWERS = Answers()


class CsvBodies:
    """The CSV downloads of whole answers, kept as their bytes per store version and question
    (the answers are kept already, :class:`Answers`; writing them as CSV again was the cost of
    each download), at most :data:`KEPT_CSV_BYTES` of them."""

    def __init__(self, limit: int = KEPT_CSV_BYTES) -> None:
        self.limit = limit
        self.kept: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, ...], result: QueryResult) -> bytes:
        with self.lock:
            body = self.kept.get(key)
            if body is not None:
                self.kept.move_to_end(key)
                return body
        body = "".join(csv_chunks(result)).encode()
        with self.lock:
            self.kept[key] = body
            while len(self.kept) > 1 and sum(map(len, self.kept.values())) > self.limit:
                self.kept.popitem(last=False)
        return body


CSV_BODIES = CsvBodies()


def answer_key(repository: Repository, name: str, source: str,
               values: dict[str, str]) -> tuple[str, ...]:
    """Which whole answer a request asks: the store version, the query, where the answer comes
    from (the query or a kept answer), the day (an empty date means today) and the values."""
    return (store_version(repository), name, source, datetime.date.today().isoformat(),
            *(f"{k}={v}" for k, v in sorted(values.items())))


def csv_download(name: str, key: tuple[str, ...], result: QueryResult) -> Response:
    """A whole answer as a CSV attachment: its bytes kept for the next download, or streamed
    as written when the answer is too large to keep (:data:`KEPT_CSV_VALUES`)."""
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    media_type = "text/csv; charset=utf-8"
    if len(result.rows) * max(1, len(result.variables)) > KEPT_CSV_VALUES:
        return StreamingResponse(csv_chunks(result), media_type=media_type, headers=headers)
    return Response(CSV_BODIES.get(key, result), media_type=media_type, headers=headers)


def kept_answer(repository: Repository, query: NamedQuery,
                values: dict[str, str]) -> QueryResult:
    """:func:`run_named`, kept per store version, values and day (an empty date means today)."""
    key = answer_key(repository, query.name, "query", values)
    return ANSWERS.get(key, lambda: run_named(repository, query, values))


def kept_rows(repository: Repository, name: str, values: dict[str, str]) -> Any:
    """The answer the build kept for this store version (:mod:`kgraph.analysis.kept_answers`:
    ``directive-coverage``, ``assignments``, ``reporting``; a page is a slice of it, whatever
    the directive's size), kept in memory per version; None when the query answers.

    Over a remote store, what a build over it kept in this machine's cache for the store's
    version; else a directive-coverage's rows are read from its coverage graphs and kept per
    store version in this server's cache (the query's JSON answer for a national directive at
    20,000 plans, 56,200 rows, took Virtuoso 22 s to write)."""
    from kgraph.analysis import kept_answers

    if name not in kept_answers.KEPT:
        return None
    key = answer_key(repository, name, "kept", values)
    return ANSWERS.get(key, lambda: kept_answers.kept_answer(  # type: ignore[arg-type,return-value]
        repository, name, values))


def kept_cell(name: str, variable: str, value: str | None, row: Sequence[str | None],
              lang: str) -> dict[str, str] | None:
    """A kept answer's value as :func:`cell` shows the query's term (made directly: a page's
    twelve thousand values)."""
    from kgraph.analysis.kept_answers import term

    found = term(name, variable, value, row)
    if found is None or value is None:
        return None
    if found["kind"] == "iri":
        return {"type": "iri", "value": value, "text": value, "href": local_page(value)}
    if "lang" in found:
        return {"type": "literal", "value": value, "text": value, "lang": found["lang"]}
    if "datatype" not in found:
        return {"type": "literal", "value": value, "text": value}
    datatype = found["datatype"]
    shown = WORDS[lang].get(value, value) if datatype == XSD_BOOLEAN else value
    return {"type": "literal", "value": value, "text": shown, "datatype": datatype}


def page_link(request: Request, offset: int, limit: int) -> str:
    """This request's path and parameters with another page's offset and length."""
    params = [(k, v) for k, v in request.query_params.multi_items()
              if k not in ("offset", "limit")]
    return f"{request.url.path}?{urlencode([*params, ('offset', offset), ('limit', limit)])}"


def local_page(iri: str) -> str:
    return "/id/" + iri[len(str(ID)):] if iri.startswith(str(ID)) else ""


def cell(term: object, lang: str) -> dict[str, str] | None:
    """One value as the page shows it: plain text (booleans as words), link for our IRIs."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        return {"type": "iri", "value": str(term), "text": str(term), "href": local_page(str(term))}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term), "text": str(term)}
    assert isinstance(term, Literal)
    value = str(term)
    shown = value
    if term.datatype is not None and str(term.datatype) == XSD_BOOLEAN:
        shown = WORDS[lang].get(value, value)
    out = {"type": "literal", "value": value, "text": shown}
    if term.language:
        out["lang"] = term.language
    if term.datatype is not None:
        out["datatype"] = str(term.datatype)
    return out


CSV_CHUNK_ROWS = 2000


def csv_chunks(result: QueryResult) -> Iterator[str]:
    """CSV with a byte-order mark: plain values, one header row of variable names; written
    a few thousand rows at a time (a whole-corpus answer streams). The rows go to the writer
    as they are (None an empty field, a term its text: ``queries.write_csv``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow(result.variables)
    for start in range(0, len(result.rows), CSV_CHUNK_ROWS):
        writer.writerows(result.rows[start:start + CSV_CHUNK_ROWS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


def answer(request: Request, repository: Repository, query: NamedQuery,
           values: dict[str, str | None], format: str, lang: str,
           offset: int = 0, limit: int | None = None) -> Response:
    """The answer as CSV (every row) or as one JSON page of ``limit`` rows from ``offset``
    (:data:`PAGE_ROWS` by default), with the total and the links to the pages around it."""
    limit = limit or PAGE_ROWS
    given = {k: v for k, v in values.items() if v is not None}
    if format == "sparql":
        # the query as the editor shows it, values as escaped literals: the text this store
        # runs (the Oxigraph text on the embedded store, which /sparql accepts there; the
        # portable one on a remote store), so that the editor gives this answer at its cost
        try:
            return Response(query.for_repository(repository).render(given),
                            media_type="application/sparql-query")
        except QueryError as exc:
            raise HTTPException(400, str(exc)) from None
    try:
        kept = kept_rows(repository, query.name, given)
    except QueryError as exc:
        raise HTTPException(400, str(exc)) from None
    if kept is not None:
        return kept_page(request, repository, query, given, kept, format, lang, offset, limit)
    try:
        result = kept_answer(repository, query, given)
    except QueryError as exc:
        raise HTTPException(400, str(exc)) from None
    if result.kind != "select":
        raise HTTPException(500, f"{query.name} is not a SELECT query")
    if format == "csv":
        return csv_download(query.name, answer_key(repository, query.name, "query", given),
                            result)
    page = [{v: cell(t, lang) for v, t in zip(result.variables, row, strict=True)}
            for row in result.rows[offset:offset + limit]]
    return json_page(request, query, given, result.variables, page, len(result.rows), offset,
                     limit)


def json_page(request: Request, query: NamedQuery, given: dict[str, str], variables: list[str],
              rows: list[dict[str, Any]], total: int, offset: int, limit: int) -> Response:
    """One JSON page of an answer: its rows, the total and the links to the pages around."""
    body = {
        "query": query.name,
        "parameters": {p.name: given.get(p.name, p.default) for p in query.parameters},
        "variables": variables,
        "rows": rows,
        "count": len(rows),  # rows on this page
        "total": total,  # rows of the whole answer (CSV: all of them)
        "offset": offset,
        "limit": limit,
        "next": page_link(request, offset + limit, limit) if offset + limit < total else None,
        "previous": (page_link(request, max(0, offset - limit), limit)
                     if offset > 0 else None),
    }
    return JSONResponse(body)


def kept_page(request: Request, repository: Repository, query: NamedQuery,
              given: dict[str, str], kept: Any, format: str, lang: str, offset: int,
              limit: int) -> Response:
    """:func:`answer` from a kept answer: the same CSV and JSON, only the page's rows decoded
    and shown (a directive's 56,200 rows at 20,000 plans)."""
    variables = list(kept.variables)
    width = len(variables)
    if format == "csv":
        rows = QueryResult("select", variables=variables, rows=[row[:width] for row in kept.rows])
        return csv_download(query.name, answer_key(repository, query.name, "kept", given), rows)
    page = [{v: kept_cell(query.name, v, t, row, lang)
             for v, t in zip(variables, row[:width], strict=True)}
            for row in kept.rows[offset:offset + limit]]
    return json_page(request, query, given, variables, page, len(kept.rows), offset, limit)


def _endpoint(query: NamedQuery) -> Any:
    """A route function whose signature declares ``query``'s parameters (for OpenAPI)."""

    def endpoint(request: Request, repository: Repo, **kwargs: Any) -> Response:
        format = kwargs.pop("format")
        lang = kwargs.pop("lang")
        offset = kwargs.pop("offset")
        limit = kwargs.pop("limit")
        return answer(request, repository, query, kwargs, format, lang, offset, limit)

    params = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter("repository", inspect.Parameter.KEYWORD_ONLY, annotation=Repo),
    ]
    for p in query.parameters:
        example = query.examples.get(p.name)
        params.append(inspect.Parameter(
            p.name, inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[str | None, Query(
                max_length=500, description=p.description,
                examples=[example] if example else None)],
            default=None))
    params.append(inspect.Parameter(
        "format", inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[str, Query(
            pattern="^(json|csv|sparql)$",
            description="json (default), csv (UTF-8 with BOM, for Excel) or sparql (the "
                        "query text this store runs, with the values bound, as the editor "
                        "shows it: with LATERAL joins on the embedded store)")],
        default="json"))
    params.append(inspect.Parameter(
        "offset", inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[int, Query(ge=0, description="JSON: first row of the page (0)")],
        default=0))
    params.append(inspect.Parameter(
        "limit", inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[int | None, Query(
            ge=1, le=MAX_PAGE_ROWS,
            description=f"JSON: rows per page ({PAGE_ROWS}); CSV has every row")],
        default=None))
    params.append(inspect.Parameter(
        "lang", inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[str, Query(pattern="^(vi|en)$",
                                        description="language of displayed words (booleans)")],
        default="vi"))
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = f"query_{query.name}"
    return endpoint


@router.get("/api/queries", summary="The named queries and their parameters")
def list_queries() -> list[dict[str, Any]]:
    """Every named query in the order analysts use them (implementers first)."""
    return [query_info(q).__dict__ for q in ordered_queries()]


for _query in ordered_queries():
    info = query_info(_query)
    router.add_api_route(
        f"/api/queries/{_query.name}", _endpoint(_query), methods=["GET"],
        summary=f"{info.title['en']} / {info.title['vi']}",
        description=_query.description + "\n\nParameters are written as people write them "
        "(28-CT/TW, Sở Y tế, so y te); they are normalised as `kgraph query` does.",
        response_class=JSONResponse,
    )


@router.get("/api/queries/{name}", include_in_schema=False)
def unknown_query(name: str) -> Response:
    known = ", ".join(q.name for q in ordered_queries())
    raise HTTPException(404, f"no named query {name!r}; known: {known}")
