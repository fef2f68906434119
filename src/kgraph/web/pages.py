"""Human pages: the query page (YASGUI over /sparql) and a page for every minted IRI.

``https://w3id.org/kgraph/id/X`` dereferences at ``/id/X``: HTML for browsers, Turtle, JSON-LD,
N-Triples, TriG or N-Quads by ``Accept`` or ``?format=``. Pages are Vietnamese first,
English with ``?lang=en``. Every value from the graph comes from documents we do not control,
so templates autoescape, and a Content-Security-Policy allows only this server and the page's
own nonce'd script: a title holding markup shows as text and can never run.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import URL

from kgraph.analysis.page_data import (  # noqa: F401  (the pages' names for them)
    Listed,
    ListingSearch,
    document_listing,
    home_listing,
    listed_documents,
    listing_search,
    search_rows,
)
from kgraph.graph.vocab import PREFIXES, sparql_prefixes
from kgraph.ingest.text import nfc, slugify
from kgraph.store.derived import derived
from kgraph.store.embedded import Repository, query_records
from kgraph.web.app import get_repository
from kgraph.web.describe import (
    KEPT_PAGES,
    LANGUAGES,
    Description,
    display_title,
    exists,
    iri_for_path,
    kept_description,
    local_path,
    resource_dataset,
    resource_graph,
)

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

router = APIRouter()
Repo = Annotated[Repository, Depends(get_repository)]
environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# |tojson keeps Vietnamese as UTF-8 (it still escapes <, >, & and ' for the HTML around it).
environment.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}

# format name -> (media type, rdflib serializer); "html" is the page itself.
FORMATS: dict[str, tuple[str, str]] = {
    "html": ("text/html", ""),
    "turtle": ("text/turtle", "turtle"),
    "jsonld": ("application/ld+json", "json-ld"),
    "ntriples": ("application/n-triples", "nt"),
    "trig": ("application/trig", "trig"),
    "nquads": ("application/n-quads", "nquads"),
}
FORMAT_ALIASES = {
    "html": "html", "ttl": "turtle", "turtle": "turtle", "jsonld": "jsonld",
    "json-ld": "jsonld", "json": "jsonld", "nt": "ntriples", "ntriples": "ntriples",
    "n-triples": "ntriples", "trig": "trig", "nq": "nquads", "nquads": "nquads",
    "n-quads": "nquads",
}
MEDIA_TYPES = {
    "text/html": "html", "application/xhtml+xml": "html", "text/*": "html", "*/*": "html",
    "text/turtle": "turtle", "application/x-turtle": "turtle",
    "application/ld+json": "jsonld", "application/json": "jsonld",
    "application/n-triples": "ntriples", "application/trig": "trig",
    "application/n-quads": "nquads", "application/*": "turtle",
}

UI: dict[str, dict[str, str]] = {
    "vi": {
        "site": "kgraph – đồ thị văn bản và trách nhiệm", "query": "Truy vấn",
        "documents": "Văn bản", "other_lang": "English", "type": "Loại",
        "properties": "Thuộc tính", "property": "Thuộc tính", "value": "Giá trị",
        "stated_by": "Nguồn nêu", "incoming": "Liên kết đến", "from": "Từ",
        "quote": "Văn bản gốc", "in_document": "trong văn bản", "line": "dòng",
        "lineage_up": "Văn bản được thực hiện (ngược lên)",
        "lineage_down": "Văn bản thực hiện (xuôi xuống)",
        "assignments": "Phân công nhiệm vụ",
        "downstream_assignments": "Phân công trong các văn bản trực tiếp thực hiện văn bản này",
        "all_rows": "{n} dòng đầu; xem tất cả trong trang truy vấn →",
        "more_sources": "và {n} nguồn khác", "incoming_cut": "{n} liên kết đầu tiên.",
        "none": "Không có.", "download": "Tải về", "not_found": "Không tìm thấy",
        "not_found_text": "Đồ thị không có tài nguyên này:", "number": "Số hiệu",
        "province": "Tỉnh, thành phố", "title": "Trích yếu", "source": "Có tệp nguồn",
        "query_intro": "Các truy vấn mẫu nằm ở các thẻ; bấm ▶ để chạy trên điểm cuối",
        "yes": "có", "no": "không", "iri": "IRI",
        "nav_explore": "Khám phá", "nav_audit": "Kiểm tra", "nav_raci": "RACI",
        "nav_query": "Truy vấn", "nav_download": "Tải về", "search": "Tìm",
        "search_placeholder": "Số hiệu, trích yếu, tỉnh… (có hoặc không dấu)",
        "showing": "Văn bản {first}–{last} trên {total}", "previous": "← Trang trước",
        "next": "Trang sau →", "no_match": "Không có văn bản nào khớp với",
        "raci_title": "Ma trận trách nhiệm (RACI)",
        "raci_intro": "Chọn một kế hoạch hoặc một chỉ thị: ma trận nhiệm vụ × cơ quan của nó "
                      "(với chỉ thị: của các kế hoạch thực hiện nó).",
        "download_title": "Tải dữ liệu về",
        "download_intro": "Toàn bộ đồ thị, mọi đồ thị có tên (mỗi văn bản, bản thể học, danh "
                          "mục cơ quan):",
        "quads": "bộ bốn", "graphs": "đồ thị có tên", "csv_note": "CSV mở được bằng Excel "
        "(UTF-8 có BOM).", "query_csv": "Kết quả các truy vấn mẫu (CSV)",
        "audit_csv": "Kết quả kiểm tra (CSV, JSON, Turtle)", "ontology": "Bản thể học kg:",
        "def_title": "Từ vựng kgraph (kg:)", "classes": "Lớp", "object-properties":
        "Thuộc tính quan hệ", "datatype-properties": "Thuộc tính giá trị",
        "other-properties": "Thuộc tính khác", "subclass_of": "Thuộc", "domain": "Miền",
        "range": "Giá trị", "turtle": "Tải Turtle", "raw_ocr": "Xem văn bản OCR gốc",
        "restored": "Tên cơ quan và số hiệu văn bản đã được khôi phục theo danh mục.",
    },
    "en": {
        "site": "kgraph – documents and responsibilities", "query": "Query",
        "documents": "Documents", "other_lang": "Tiếng Việt", "type": "Type",
        "properties": "Properties", "property": "Property", "value": "Value",
        "stated_by": "Stated by", "incoming": "Links to this", "from": "From",
        "quote": "Source text", "in_document": "in document", "line": "line",
        "lineage_up": "Documents it carries out (upwards)",
        "lineage_down": "Documents carrying it out (downwards)",
        "assignments": "Assignments",
        "downstream_assignments": "Assignments in the documents carrying this one out directly",
        "all_rows": "First {n} rows; all of them on the query page →",
        "more_sources": "and {n} more", "incoming_cut": "The first {n} links.",
        "none": "None.", "download": "Download", "not_found": "Not found",
        "not_found_text": "The graph holds nothing about", "number": "Number",
        "province": "Province", "title": "Title", "source": "Has source file",
        "query_intro": "Example queries are in the tabs; press ▶ to run them on the endpoint",
        "yes": "yes", "no": "no", "iri": "IRI",
        "nav_explore": "Explore", "nav_audit": "Audit", "nav_raci": "RACI",
        "nav_query": "Query", "nav_download": "Download", "search": "Search",
        "search_placeholder": "Number, title, province… (with or without diacritics)",
        "showing": "Documents {first}–{last} of {total}", "previous": "← Previous",
        "next": "Next →", "no_match": "No document matches",
        "raci_title": "Responsibility matrix (RACI)",
        "raci_intro": "Choose a plan or a directive: its tasks × agencies matrix (for a "
                      "directive: of the plans carrying it out).",
        "download_title": "Download the data",
        "download_intro": "The whole graph, every named graph (each document, the ontology, "
                          "the reference list of bodies):",
        "quads": "quads", "graphs": "named graphs", "csv_note": "CSV files open in Excel "
        "(UTF-8 with a byte-order mark).", "query_csv": "Named query results (CSV)",
        "audit_csv": "Audit findings (CSV, JSON, Turtle)", "ontology": "The kg: ontology",
        "def_title": "The kgraph vocabulary (kg:)", "classes": "Classes", "object-properties":
        "Object properties", "datatype-properties": "Datatype properties",
        "other-properties": "Other properties", "subclass_of": "Subclass of",
        "domain": "Domain", "range": "Range", "turtle": "Download Turtle",
        "raw_ocr": "Show the raw OCR text",
        "restored": "Names of bodies and document numbers restored from the reference list.",
    },
}
# Column headings of the named queries' tables.
COLUMNS: dict[str, dict[str, str]] = {
    "vi": {
        "depth": "Cấp", "number": "Số hiệu", "type": "Loại", "issuer": "Cơ quan ban hành",
        "province": "Tỉnh", "root": "Gốc", "ancestor": "Văn bản", "chain": "Chuỗi",
        "plan": "Văn bản", "plan_number": "Văn bản", "plan_province": "Tỉnh", "no": "Mục",
        "agency": "Cơ quan", "agency_province": "Tỉnh của cơ quan", "role": "Vai trò",
        "requested": "Đề nghị", "duties": "Số nhiệm vụ", "kind": "Loại đối tượng",
        "assignment": "Phân công", "text": "Nội dung", "item": "Mục (IRI)",
        "document": "Văn bản (IRI)", "property": "Thuộc tính", "value": "Giá trị",
        "valueLabel": "Tên giá trị", "source": "Nguồn", "sourceNumber": "Văn bản nguồn",
        "mention": "Cách viết", "stated_by": "Nguồn nêu", "frequency": "Tần suất",
        "due": "Hạn", "reporter": "Đơn vị báo cáo", "recipient": "Nơi nhận",
    },
    "en": {
        "depth": "Depth", "number": "Number", "type": "Type", "issuer": "Issuer",
        "province": "Province", "root": "Root", "ancestor": "Document", "chain": "Chain",
        "plan": "Document", "plan_number": "Document", "plan_province": "Province", "no": "Item",
        "agency": "Agency", "agency_province": "Agency's province", "role": "Role",
        "requested": "Request", "duties": "Duties", "kind": "Addressee kind",
        "assignment": "Assignment", "text": "Text", "item": "Item (IRI)",
        "document": "Document (IRI)", "property": "Property", "value": "Value",
        "valueLabel": "Value label", "source": "Source", "sourceNumber": "Source document",
        "mention": "As written", "stated_by": "Stated by", "frequency": "Frequency",
        "due": "Due", "reporter": "Reporter", "recipient": "Recipient",
    },
}
# Words of the query page's form and results (explore.js-style: data, written with textContent).
QUERY_WORDS: dict[str, dict[str, str]] = {
    "vi": {"run": "Chạy", "rows": "dòng", "permalink": "Liên kết cố định",
           "csv": "Tải CSV", "json": "JSON", "to_editor": "Mở trong trình soạn SPARQL",
           "example": "ví dụ", "none": "Không có kết quả.", "required": "bắt buộc",
           "optional": "không bắt buộc", "hint": "Không tìm thấy. Có phải ý bạn là:",
           "running": "Đang chạy…", "error": "Lỗi", "editor": "Trình soạn SPARQL",
           "editor_intro": "Câu truy vấn với các tham số đã điền; sửa tùy ý rồi bấm ▶ để "
                           "chạy trên điểm cuối", "choose": "Truy vấn",
           "page_rows": "dòng {first}–{last} trên {total}", "next": "Trang sau",
           "previous": "Trang trước"},
    "en": {"run": "Run", "rows": "rows", "permalink": "Permalink",
           "csv": "Download CSV", "json": "JSON", "to_editor": "Open in the SPARQL editor",
           "example": "e.g.", "none": "No results.", "required": "required",
           "optional": "optional", "hint": "Nothing found. Did you mean:",
           "running": "Running…", "error": "Error", "editor": "SPARQL editor",
           "editor_intro": "The query with the form's values; edit it and press ▶ to run it "
                           "on the endpoint", "choose": "Query",
           "page_rows": "rows {first}–{last} of {total}", "next": "Next page",
           "previous": "Previous page"},
}


def language(request: Request) -> str:
    """The reader's language: ``?lang=en`` or Vietnamese."""
    lang = request.query_params.get("lang", "vi")
    return lang if lang in LANGUAGES else "vi"


def content_security_policy(nonce: str) -> str:
    """Only this server, and inline script only with this response's nonce."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    )


def render(request: Request, template: str, *, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    """A page from the templates, autoescaped, under a strict CSP."""
    lang = language(request)
    nonce = secrets.token_urlsafe(16)
    other = "en" if lang == "vi" else "vi"
    html = environment.get_template(template).render(
        request=request, lang=lang, t=UI[lang], columns=COLUMNS[lang], nonce=nonce,
        other_lang_url=_relative(request.url.include_query_params(lang=other)),
        lang_suffix="" if lang == "vi" else "?lang=en", **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = content_security_policy(nonce)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _relative(url: URL) -> str:
    """Path and query only: links must not name the host (proxies, 127.0.0.1 in tests)."""
    return url.path + (f"?{url.query}" if url.query else "")


def negotiate(request: Request) -> str | None:
    """The format to answer with: ``?format=`` first, then ``Accept`` (q-values honoured)."""
    asked = request.query_params.get("format")
    if asked is not None:
        return FORMAT_ALIASES.get(asked.lower())
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return "html"
    choices = []
    for position, item in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and media.lower() in MEDIA_TYPES:
            choices.append((-quality, media.count("*"), position, MEDIA_TYPES[media.lower()]))
    return min(choices)[3] if choices else None


PAGE_SIZE = 50


@router.get("/", response_class=HTMLResponse)
def home(request: Request, repository: Repo,
         q: Annotated[str, Query(max_length=200)] = "",
         page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    """Entry page: search the documents, one page of them at a time."""
    lang = language(request)
    q = q.strip()
    listing = home_listing(repository)
    found = search_rows(repository, slugify(q), nfc(q).lower()) if q else None
    total = len(listing) if found is None else len(found)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    first_row, last_row = (page - 1) * PAGE_SIZE, page * PAGE_SIZE
    shown = (listing[first_row:last_row] if found is None
             else [listing[i] for i in found[first_row:last_row]])
    documents = [
        {"href": local_path(d.doc), "number": d.number, "type": d.types.get(lang, ""),
         "province": d.province or "", "title": display_title(d.title), "source": d.source}
        for d in shown
    ]

    def page_url(n: int) -> str:
        params = {"q": q, "page": str(n), "lang": "en" if lang == "en" else ""}
        return "/?" + urlencode({k: v for k, v in params.items() if v})

    first = (page - 1) * PAGE_SIZE + 1 if total else 0
    return render(request, "index.html", documents=documents, q=q, page=page, pages=pages,
                  total=total, first=first, last=first + len(documents) - 1 if total else 0,
                  previous_url=page_url(page - 1) if page > 1 else "",
                  next_url=page_url(page + 1) if page < pages else "")


def _text(term: object) -> str:
    return "" if term is None else str(term)


def raci_documents(repository: Repository) -> list[dict[str, Any]]:
    """The plans and directives that have a matrix (directives first): a whole-store
    aggregate, read as two DISTINCT scans joined here with the home listing's numbers and
    provinces, once per store version."""
    listed = {d.doc: d for d in home_listing(repository)}
    # IRIs as strings (query_records: Virtuoso's CSV, a fifth of its JSON's time at 20,000)
    own = query_records(repository, sparql_prefixes() + """
        SELECT DISTINCT ?a ?doc WHERE { ?a a kg:Assignment ; kg:partOf ?doc }""")
    carrying = [(row["plan"], row["doc"]) for row in query_records(
        repository, sparql_prefixes() + """
        SELECT DISTINCT ?plan ?doc WHERE { ?plan kg:implements ?doc }""")]
    assignments_of: dict[str, set[str]] = {}
    for row in own:
        assignments_of.setdefault(str(row["doc"]), set()).add(str(row["a"]))
    by_number: dict[str, dict[str, Any]] = {}

    def count(doc: str, assignments: set[str], implemented: int) -> None:
        if doc not in listed or not assignments:
            return
        entry = by_number.setdefault(listed[doc].number, {
            "number": listed[doc].number, "province": listed[doc].province or "",
            "assignments": set(), "implemented": 0})
        entry["assignments"] |= assignments
        entry["implemented"] = max(entry["implemented"], implemented)
        entry["province"] = entry["province"] or listed[doc].province or ""

    for doc, assignments in assignments_of.items():
        count(doc, assignments, 0)
    for plan, doc in carrying:
        count(str(doc), assignments_of.get(str(plan), set()), 1)
    ordered = sorted(by_number.values(),
                     key=lambda e: (-e["implemented"], e["province"] != "", e["province"],
                                    e["number"]))
    return [{"number": e["number"], "province": e["province"],
             "assignments": len(e["assignments"])} for e in ordered]


def raci_listing(repository: Repository) -> list[dict[str, Any]]:
    """The ``/raci`` list of the store's current version (computed once per version)."""
    return derived(repository, "raci-index", lambda: raci_documents(repository))


@router.get("/raci", response_class=HTMLResponse, include_in_schema=False)
def raci_index(request: Request, repository: Repo,
               page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    """Where the RACI link leads: the plans and directives that have a matrix, a page at a
    time."""
    listing = raci_listing(repository)
    total = len(listing)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    documents = listing[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    lang = language(request)

    def page_url(n: int) -> str:
        return "/raci?" + urlencode({"page": str(n), **({"lang": "en"} if lang == "en" else {})})

    first = (page - 1) * PAGE_SIZE + 1 if total else 0
    return render(request, "raci_index.html", documents=documents, total=total, first=first,
                  last=first + len(documents) - 1 if total else 0,
                  previous_url=page_url(page - 1) if page > 1 else "",
                  next_url=page_url(page + 1) if page < pages else "")


@router.get("/query", response_class=HTMLResponse)
def query_page(request: Request) -> Response:
    """A form per named query (implementers first) above YASGUI over /sparql."""
    from kgraph.web.queries_api import ordered_queries, query_info

    lang = language(request)
    repository = request.app.state.repository  # the text this store runs (LATERAL: embedded)
    queries = [query_info(q).__dict__ | {"sparql": q.for_repository(repository).example()}
               for q in ordered_queries()]
    config = {
        "endpoint": request.scope.get("root_path", "") + "/sparql",
        "prefixes": PREFIXES,
        "queries": queries,
        "lang": lang,
        "localBase": PREFIXES["id"],
        "columns": COLUMNS[lang],
        "words": QUERY_WORDS[lang],
        # /sparql takes LATERAL joins here (the editor's texts use them): see query.js
        "lateral": getattr(repository, "takes_lateral", False) is True,
    }
    return render(request, "query.html", config=config)


@router.get("/id/{path:path}")
def resource(path: str, request: Request, repository: Repo) -> Response:
    """One minted IRI: its page, or its statements in an RDF syntax."""
    chosen = negotiate(request)
    if chosen is None:
        offered = ", ".join(media for media, _ in FORMATS.values())
        return PlainTextResponse(f"406 Not Acceptable: this resource is offered as {offered}",
                                 status_code=406)
    iri = iri_for_path(path)
    if chosen == "html":
        description = kept_description(repository, iri, language(request)) if iri else None
    else:  # the statements only: the page's tables are not computed for a download
        description = Description(iri=iri, label=iri) if iri and exists(repository, iri) else None
    if description is None:
        if chosen == "html":
            response = render(request, "not_found.html", status_code=404, iri=iri or path)
        else:
            response = PlainTextResponse(f"404 Not Found: {iri or path}", status_code=404)
        response.headers["Vary"] = "Accept"
        return response
    if chosen == "html":
        response = render(request, "resource.html", d=description, formats=list(FORMATS)[1:])
    else:
        media, _ = FORMATS[chosen]
        body = KEPT_PAGES.get(repository, ("download", description.iri, chosen),
                              lambda: serialized(repository, description.iri, chosen))
        response = Response(body, media_type=f"{media}; charset=utf-8")
    response.headers["Vary"] = "Accept"
    return response


def serialized(repository: Repository, iri: str, chosen: str) -> str:
    """The statements about and pointing at ``iri`` in the RDF syntax ``chosen`` names."""
    syntax = FORMATS[chosen][1]
    if chosen in ("trig", "nquads"):
        return resource_dataset(repository, iri).serialize(format=syntax)
    if chosen == "jsonld":
        return resource_graph(repository, iri).serialize(
            format=syntax, context=dict(PREFIXES), auto_compact=True)
    return resource_graph(repository, iri).serialize(format=syntax)
