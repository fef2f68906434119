"""The graph explorer: the ``/explore`` page and the JSON API it runs on.

The label index and facets (documents, agents, provinces) are built from the store once per
store version (:mod:`kgraph.store.derived`: in memory, and pickled next to an on-disk store), so
a new build is picked up at once. Lineages, node details and paths are walked in the store from
the asked node (:class:`kgraph.analysis.lineage.StoreWalk`): their cost is what they show, and
no whole-corpus lineage graph is held per version.
Every string leaves here as JSON data; the page writes it into the DOM with ``textContent``.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from rdflib import URIRef

from kgraph.analysis.flow_index import ready_index
from kgraph.analysis.lineage import (
    FLOW_RELATIONS,
    KIND_LABELS,
    RELATION_LABELS,
    Direction,
    LineageGraph,
    Node,
    StoreWalk,
)
from kgraph.analysis.page_data import (  # noqa: F401  (the explorer's names for them)
    EXPLORER_INDEX,
    ExplorerData,
    Facets,
    explorer_for,
    facets_of,
)
from kgraph.graph.vocab import ID, PREFIXES
from kgraph.store.derived import memory_value
from kgraph.store.embedded import Repository, store_version
from kgraph.web.describe import KeptPages
from kgraph.web.sources import source_page

STATIC_DIR = Path(__file__).parent / "static"
MAX_DEPTH = 8
# Nodes of one lineage answer at most, in whole steps (a browser lays out and draws 4,845 in
# 2.7 s at 20,000 plans; 28-CT/TW 8 steps down is 172,074 nodes, 78 s): past it the answer
# stops at the last whole step and says so (``cut_at``), and the user expands nodes from there.
LINEAGE_NODES = 6000
# Nodes of one page of a lineage in its full form when the client names no ``limit`` (a node
# is about a kilobyte of JSON there): a plan's lineage at national scale is thousands of nodes,
# and a client reading megabytes it did not ask for pays for them. ``limit`` goes up to
# LINEAGE_NODES, the whole of any lineage but a first step past it.
LINEAGE_PAGE = 1000

router = APIRouter()


# ---------------------------------------------------------------------- response models
class SearchHit(BaseModel):
    iri: str
    kind: str
    label: str
    detail: str
    province: str


class GraphNode(BaseModel):
    id: str = Field(description="IRI of the resource")
    kind: str = Field(
        description="document, task, assignment, duty, agency, collective, mention or province"
    )
    label: str
    title: str = Field(description="tooltip, plain text")
    number: str = ""
    text: str = ""
    doctype: str = ""
    province: str = ""
    year: str = ""
    document: str = Field("", description="IRI of the document a plan part belongs to")
    flags: list[str] = Field(default_factory=list, description="audit findings (conflicts, gaps)")
    page: str = Field("", description="path of the linked-data page")
    level: int = Field(0, description="row in a top-down layout")


class GraphEdge(BaseModel):
    source: str
    target: str
    rel: str
    label: str


class Subgraph(BaseModel):
    root: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    # steps shown when the lineage asked for had more nodes than LINEAGE_NODES (else absent)
    cut_at: int | None = None


class LineagePage(Subgraph):
    """A page of a lineage in its full form: ``limit`` nodes from ``offset`` in walk order (by
    steps from the root, then IRI; the root first), and the edges whose later end in that
    order is on the page, so each edge comes once, with the page that completes it, and a
    client adding pages as they come never holds an edge to a node it has not seen."""

    total_nodes: int = Field(description="nodes of the whole lineage")
    total_edges: int = Field(description="edges of the whole lineage")
    offset: int = Field(description="position of the page's first node in the whole lineage")
    limit: int = Field(description="nodes per page")
    next: str | None = Field(description=(
        "the next page's address (path and query, also sent as `Link: <…>; rel=\"next\"`); "
        "null on the last page. It names the store version: asked after the store changed, "
        "it is refused (409) rather than joined to pages of another version"))
    previous: str | None = Field(description=(
        "the previous page's address (`rel=\"prev\"`), null on the first"))


# The columns of a lineage's rows in its compact form, in the order of GraphNode's fields less
# ``title`` and ``page``, which are made from the others (as :meth:`Node.tooltip` and
# :attr:`Node.page` make them).
TABLE_COLUMNS = ("id", "kind", "label", "number", "text", "doctype", "province", "year",
                 "document", "flags", "level")


class LineageTable(BaseModel):
    """A lineage in the form the explorer asks (``compact=true``): the same nodes and edges as
    :class:`Subgraph`, a row a node and three numbers and a name an edge, no field name or IRI
    written twice (a provincial UBND plan 8 steps down at 20,000 plans: 4,845 nodes, 4.8 MB as a
    Subgraph, whose shipping was most of the request). ``static/lineage_table.js`` reads it
    back into the Subgraph's records."""

    root: str
    columns: list[str] = Field(description="the names of a node row's cells")
    nodes: list[list[Any]] = Field(description=(
        "a row a node, its cells in the order of ``columns``; ``document`` is the index of the "
        "plan part's document in ``nodes`` (or its IRI when the answer does not hold it, '' for "
        "no document); a node's ``title`` is ``head: number`` (``label`` when it has no "
        "number), then its text, province and each flag after '⚠ ', a line each, where the head "
        "is a document's type, else ``heads[kind]``; its ``page`` is ``/id/`` and what follows "
        "``id_base`` in its IRI ('' for an IRI outside it)"))
    edges: list[tuple[int, int, str]] = Field(description=(
        "[source, target, relation]: indexes in ``nodes``; an edge's label is "
        "``relations[relation]``"))
    heads: dict[str, str] = Field(description="kind -> the first words of its nodes' titles")
    relations: dict[str, str] = Field(description="relation -> its edges' label")
    id_base: str = Field(description="the namespace whose IRIs have a linked-data page")
    cut_at: int | None = None


class Role(BaseModel):
    role: str
    relation: str
    item: str
    item_kind: str
    item_number: str
    text: str
    source_text: str
    document: str
    document_number: str


class Property(BaseModel):
    predicate: str
    value: str
    iri: str | None = None
    page: str = ""


class NodeDetail(BaseModel):
    node: GraphNode
    source_text: str
    properties: list[Property]
    roles: list[Role]
    neighbours: Subgraph
    source_page: str | None = Field(None, description="'trang N của tệp FILE' (kgraph.web.sources)")
    source_href: str | None = Field(None, description="the original opened at that page")


class AuditFlags(BaseModel):
    source: str = Field(description="'audit' (kgraph.analysis.audit findings) or 'conflicts' "
                                    "(fallback: "
                                    "conflicts query and unresolved mentions)")
    flags: dict[str, list[str]] = Field(description="node IRI -> findings about it")
    total: int | None = Field(None, description="findings the filters select, without iri (a "
                                                "page of them is given: see next_offset)")
    next_offset: int | None = Field(None, description="offset of the next page (none: last)")


AUDIT_PAGE = 2000  # findings per page of /api/audit when no node is asked about


def get_repository(request: Request) -> Repository:
    return request.app.state.repository


def explorer_data(request: Request) -> ExplorerData:
    """FastAPI dependency: :func:`explorer_for` the served store."""
    return explorer_for(get_repository(request))


Data = Annotated[ExplorerData, Depends(explorer_data)]


def store_walk(request: Request) -> StoreWalk:
    """FastAPI dependency: a walk of the served store for this request, with the version's
    documents, agents and provinces when the explorer's data is ready (their facts are then
    not read again: 28-CT/TW down 3 at 2,000 plans reads 2,729 nodes)."""
    repo = get_repository(request)
    data = memory_value(repo, EXPLORER_INDEX)
    return StoreWalk(repo, getattr(data, "nodes", None))


Walk = Annotated[StoreWalk, Depends(store_walk)]


def page_of(iri: str) -> str:
    return Node(iri=iri, kind="", label="").page


def graph_node(node: Node, level: int = 0) -> GraphNode:
    # built from the lineage graph's own fields: no validation (thousands per lineage)
    return GraphNode.model_construct(
        id=node.iri,
        kind=node.kind,
        label=node.label,
        title=node.tooltip(),
        number=node.number,
        text=node.text,
        doctype=node.doctype,
        province=node.province,
        year=node.year,
        document=node.document,
        flags=list(node.flags),
        page=node.page,
        level=level,
    )


def subgraph_of(lineage: LineageGraph | StoreWalk, root: str, iris: set[str]) -> Subgraph:
    nodes, edges = lineage.subgraph(iris)
    levels = lineage.levels(iris, edges)
    return Subgraph.model_construct(
        root=root,
        nodes=[graph_node(n, levels.get(n.iri, 0)) for n in nodes],
        edges=[
            GraphEdge.model_construct(source=u, target=v, rel=r, label=RELATION_LABELS.get(r, r))
            for u, v, r in edges
        ],
    )


def lineage_table(sub: Subgraph) -> LineageTable:
    """``sub`` in the compact form of :class:`LineageTable`."""
    index = {node.id: i for i, node in enumerate(sub.nodes)}
    return LineageTable.model_construct(
        root=sub.root,
        columns=list(TABLE_COLUMNS),
        nodes=[[n.id, n.kind, n.label, n.number, n.text, n.doctype, n.province, n.year,
                index.get(n.document, n.document), n.flags, n.level] for n in sub.nodes],
        edges=[(index[e.source], index[e.target], e.rel) for e in sub.edges],
        heads=KIND_LABELS,
        relations=RELATION_LABELS,
        id_base=str(ID),
        cut_at=sub.cut_at,
    )


def known(walk: StoreWalk, iri: str) -> Node:
    node = walk.node(iri)
    if node is None:
        raise HTTPException(404, f"no node {iri!r} in the lineage graph")
    return node


# ---------------------------------------------------------------------- routes
# The explorer's words; explore.js reads them from the page (vi, or en with ?lang=en).
EXPLORE_WORDS: dict[str, dict[str, Any]] = {
    "vi": {
        "title": "Khám phá đồ thị", "search_label": "Tìm văn bản, cơ quan, tỉnh",
        "search_placeholder": "Tìm số hiệu, văn bản, cơ quan, tỉnh… (có hoặc không dấu)",
        "direction": "Hướng", "down": "Xuống (văn bản → cơ quan)",
        "up": "Lên (cơ quan → chỉ thị)", "fit": "Vừa khung", "clear_all": "Xóa",
        "filters": "Bộ lọc", "province": "Tỉnh", "agency": "Cơ quan", "agency_example":
        "vd. so y te", "role": "Vai trò", "doctype": "Loại văn bản", "year": "Năm",
        "all": "(tất cả)", "audit": "Mâu thuẫn và thiếu sót", "cluster": "Gom nhánh lớn",
        "graph": "Đồ thị", "legend": "Chú giải",
        "hint": "Tìm một văn bản hoặc cơ quan rồi mở nó. Nhấp vào nút để xem chi tiết; nhấp "
                "đúp để mở rộng / thu gọn; nhấp vào một nhóm để mở nó.",
        "nodes": "nút", "groups": "nhóm", "new_nodes": "+{n} nút", "no_new": "không có nút mới",
        "cut": "quá nhiều nút: chỉ hiện {n} cấp, mở rộng một nút để đi tiếp",
        "collapse": "Thu gọn", "expand": "Mở rộng", "origin": "Nguồn gốc (lên)",
        "carried_out": "Triển khai (xuống)", "path": "Đường đi từ nút trước",
        "page": "Trang dữ liệu liên kết", "content": "Nội dung", "quote": "Trích văn bản gốc",
        "roles": "Nhiệm vụ được giao", "properties": "Thuộc tính", "links": "Liên kết",
        "path_nodes": "đường đi {n} nút", "not_found": "Không tìm thấy", "error": "Lỗi",
        "auditing": "đang kiểm tra…", "grouped": "{n} nút gom lại — nhấp để mở",
        "flagged": "có phát hiện kiểm tra (mâu thuẫn, thiếu sót)", "year_label": "Năm",
        "yes": "có", "no": "không",
    },
    "en": {
        "title": "Graph explorer", "search_label": "Search documents, agencies, provinces",
        "search_placeholder": "Search a number, document, agency, province… (diacritics "
                              "optional)",
        "direction": "Direction", "down": "Down (document → agencies)",
        "up": "Up (agency → directive)", "fit": "Fit", "clear_all": "Clear",
        "filters": "Filters", "province": "Province", "agency": "Agency", "agency_example":
        "e.g. so y te", "role": "Role", "doctype": "Document type", "year": "Year",
        "all": "(all)", "audit": "Conflicts and gaps", "cluster": "Group large branches",
        "graph": "Graph", "legend": "Legend",
        "hint": "Search a document or an agency and open it. Click a node for details; "
                "double-click to expand / collapse; click a group to open it.",
        "nodes": "nodes", "groups": "groups", "new_nodes": "+{n} nodes",
        "cut": "too many nodes: {n} levels shown, expand a node to go further",
        "no_new": "no new nodes", "collapse": "Collapse", "expand": "Expand",
        "origin": "Origins (up)", "carried_out": "Carried out by (down)",
        "path": "Path from the previous node", "page": "Linked-data page",
        "content": "Text", "quote": "Source text", "roles": "Duties given",
        "properties": "Properties", "links": "Links", "path_nodes": "path of {n} nodes",
        "not_found": "Nothing found", "error": "Error", "auditing": "auditing…",
        "grouped": "{n} nodes grouped — click to open",
        "flagged": "audit findings (conflicts, gaps)", "year_label": "Year",
        "yes": "yes", "no": "no",
    },
}
KIND_WORDS = {
    "vi": KIND_LABELS,
    "en": {"document": "Document", "task": "Task", "assignment": "Assignment", "duty": "Duty",
           "agency": "Agency", "collective": "Collective addressee",
           "mention": "Unresolved body", "province": "Province"},
}
RELATION_WORDS = {
    "vi": RELATION_LABELS,
    "en": {"implements": "carries out", "based_on": "based on", "cites": "cites",
           "task": "task", "subtask": "subtask", "assignment": "assignment", "duty": "duty",
           "addressee": "assigned", "request": "requested", "lead": "lead",
           "coordinate": "coordinate", "province": "in province"},
}


@router.get("/explore", response_class=HTMLResponse, include_in_schema=False)
def explore_page(request: Request) -> HTMLResponse:
    """The explorer page (shared layout and CSP); all data arrives through the JSON API below."""
    from kgraph.web.pages import language, render

    lang = language(request)
    words = EXPLORE_WORDS[lang]
    config = {"lang": lang, "words": words, "kinds": KIND_WORDS[lang],
              "relations": RELATION_WORDS[lang]}
    return render(request, "explore.html", w=words, explorer_config=config)


@router.get("/api/search", response_model=list[SearchHit], tags=["explore"])
def api_search(
    data: Data,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[SearchHit]:
    """Documents (number, title), agencies and provinces, with or without diacritics."""
    return [SearchHit(**hit.__dict__) for hit in data.index.search(q, limit)]


@router.get("/api/facets", response_model=Facets, tags=["explore"])
def api_facets(data: Data) -> Facets:
    """Values the explorer's filters offer (computed once per store version)."""
    return data.facets


@router.get("/api/lineage", response_model=LineagePage | LineageTable, tags=["explore"])
def api_lineage(
    request: Request,
    walk: Walk,
    iri: str,
    direction: Literal["up", "down"] = "down",
    depth: Annotated[int, Query(ge=0, le=MAX_DEPTH)] = 1,
    compact: Annotated[bool, Query(description=(
        "the same lineage as rows (LineageTable, what the explorer asks), whole: a third of "
        "the bytes"))] = False,
    limit: Annotated[int | None, Query(ge=1, le=LINEAGE_NODES, description=(
        f"nodes per page of the full form (default {LINEAGE_PAGE})"))] = None,
    offset: Annotated[int | None, Query(ge=0, description=(
        "nodes of the full form skipped, in walk order (default 0)"))] = None,
    version: Annotated[str | None, Query(max_length=64, description=(
        "the store version of the first page (in the ``next`` address): refused with 409 "
        "once the store has changed"))] = None,
) -> Response:
    """The node and what lies ``depth`` steps below (down) or above (up) it, a page of
    ``limit`` nodes at a time (LineagePage: follow ``next`` or the ``Link`` header), or whole
    in the compact form; gzipped for a client that accepts it."""
    if compact and (limit, offset, version) != (None, None, None):
        raise HTTPException(400, "limit, offset and version page the full form: compact=true "
                                 "answers the whole lineage")
    current = store_version(walk.repo)
    if version is not None and version != version_tag(current):
        raise HTTPException(409, "the store has changed since the version this page names: "
                                 "ask the lineage again from its first page")
    first, size = (0, 0) if compact else (offset or 0, limit or LINEAGE_PAGE)
    base = request.url.path  # as the named queries' pages name theirs (root path included)
    key = (current, iri, direction, depth, compact, first, size, base)
    with _ANSWERS_LOCK:
        answer = _LINEAGE_ANSWERS.get(key)
        if answer is not None:
            _LINEAGE_ANSWERS.move_to_end(key)
    if answer is None:
        whole = whole_lineage(walk, current, iri, direction, depth)
        links: dict[str, str] = {}
        if compact:
            form: BaseModel = lineage_table(whole.sub)
        else:
            def address(start: int) -> str:
                return page_address(base, iri, direction, depth, start, size, current)
            if first + size < len(whole.sub.nodes):
                links["next"] = address(first + size)
            if first > 0:
                links["prev"] = address(max(0, first - size))
            form = whole.page(first, size, links.get("next"), links.get("prev"))
        plain = form.model_dump_json(exclude=None if whole.sub.cut_at else {"cut_at"}).encode()
        answer = (plain, gzip.compress(plain, compresslevel=6, mtime=0),
                  ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items()))
        with _ANSWERS_LOCK:
            _LINEAGE_ANSWERS[key] = answer
            while len(_LINEAGE_ANSWERS) > LINEAGE_ANSWERS:
                _LINEAGE_ANSWERS.popitem(last=False)
    headers = {"Vary": "Accept-Encoding"}
    if answer[2]:
        headers["Link"] = answer[2]
    if accepts_gzip(request):
        return Response(answer[1], media_type="application/json",
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(answer[0], media_type="application/json", headers=headers)


@dataclass(frozen=True)
class WholeLineage:
    """A lineage walked once for all its pages and forms: nodes in walk order, edges in
    the order of their later end (then source, target, relation)."""

    sub: Subgraph
    ends: list[int]  # each edge's later end, a position in ``sub.nodes`` (ascending)

    def page(self, offset: int, limit: int, following: str | None, preceding: str | None
             ) -> LineagePage:
        """Nodes ``offset`` to ``offset + limit`` and the edges they complete."""
        nodes = self.sub.nodes
        if offset and offset >= len(nodes):
            raise HTTPException(400, f"offset {offset} is past the lineage's last node (it has "
                                     f"{len(nodes)})")
        end = offset + limit
        return LineagePage.model_construct(
            root=self.sub.root, nodes=nodes[offset:end],
            edges=self.sub.edges[bisect_left(self.ends, offset):bisect_left(self.ends, end)],
            cut_at=self.sub.cut_at, total_nodes=len(nodes), total_edges=len(self.sub.edges),
            offset=offset, limit=limit, next=following, previous=preceding)


def whole_lineage(walk: StoreWalk, version: str, iri: str, direction: Direction,
                  depth: int) -> WholeLineage:
    """The lineage of ``iri``, walked once per store version for every page and form asked
    of it (a client following ``next`` through a national lineage walks it once)."""
    key = (version, iri, direction, depth, LINEAGE_NODES)  # the walk stops by the limit
    with _ANSWERS_LOCK:
        whole = _LINEAGE_WALKS.get(key)
        if whole is not None:
            _LINEAGE_WALKS.move_to_end(key)
            return whole
    known(walk, iri)
    order, steps = walk.walk_within(iri, direction, depth, LINEAGE_NODES)
    sub = subgraph_of(walk, iri, set(order))
    place = {node: i for i, node in enumerate(order)}
    sub.nodes.sort(key=lambda n: place[n.id])
    later = [max(place[e.source], place[e.target]) for e in sub.edges]
    ranked = sorted(range(len(later)), key=later.__getitem__)  # stable: edges stay sorted
    sub.edges = [sub.edges[i] for i in ranked]
    sub.cut_at = steps if steps < depth and len(order) > 1 else None
    whole = WholeLineage(sub, [later[i] for i in ranked])
    with _ANSWERS_LOCK:
        _LINEAGE_WALKS[key] = whole
        while len(_LINEAGE_WALKS) > LINEAGE_WALKS:
            _LINEAGE_WALKS.popitem(last=False)
    return whole


def version_tag(version: str) -> str:
    """A store version as a page address names it: short, and not the store's path."""
    return hashlib.blake2b(version.encode(), digest_size=8).hexdigest()


def page_address(path: str, iri: str, direction: str, depth: int, offset: int, limit: int,
                 version: str) -> str:
    """The address of a lineage's page from ``offset`` (path and query), naming the store
    version."""
    return f"{path}?" + urlencode(
        {"iri": iri, "direction": direction, "depth": depth, "offset": offset, "limit": limit,
         "version": version_tag(version)})


def accepts_gzip(request: Request) -> bool:
    """Whether the client takes a gzipped answer (``Accept-Encoding``, q-values honoured):
    browsers and httpx do."""
    for item in request.headers.get("accept-encoding", "").split(","):
        coding, _, parameters = item.partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            quality = parameters.strip().lower().removeprefix("q=")
            with suppress(ValueError):
                return not parameters.strip() or float(quality) > 0
    return False


# The lineage answers asked last, per store version (an analyst opens the same directive again
# and again; a national lineage costs seconds to walk): a page of the full form or a whole
# compact one (a provincial plan down 8 at 20,000 plans: 4,845 nodes, 1.8 MB as rows), kept as
# the UTF-8 bytes the response sends (encoding megabytes took 5 ms of each request kept as
# text, and twice the memory), gzipped beside them (a tenth or less: over a network the
# megabytes were the wait, and compressing them again per request would cost more than sending
# them here), with a page's ``Link`` header. The walks the answers are cut from are kept
# apart (fewer: each holds its nodes' records), so a client following ``next`` and the other
# form pay for their bytes only.
LINEAGE_ANSWERS = 32
_LINEAGE_ANSWERS: OrderedDict[tuple[str, str, str, int, bool, int, int, str],
                              tuple[bytes, bytes, str]] = OrderedDict()
LINEAGE_WALKS = 8
_LINEAGE_WALKS: OrderedDict[tuple[str, str, str, int, int], WholeLineage] = OrderedDict()
_ANSWERS_LOCK = threading.Lock()


# The answers of /api/node and /api/path asked last, per store version (as the resource pages
# are): each is a walk of the store and a JSON document of up to hundreds of nodes (a
# provincial plan's node: 130 KB, 130 CPU ms at 20,000 plans), the same until the store changes;
# kept as the bytes the response sends (not encoded again each request).
ANSWERS_KEPT = 256
KEPT_ANSWERS = KeptPages(ANSWERS_KEPT)


def as_json(model: BaseModel) -> Response:
    """A response model written by pydantic's serializer in one pass: FastAPI's own encoding
    of a lineage of thousands of nodes validated and converted each again (10x the time)."""
    return Response(model.model_dump_json(), media_type="application/json")


@router.get("/api/path", response_model=Subgraph, tags=["explore"])
def api_path(
    walk: Walk,
    source: Annotated[str, Query(alias="from")],
    target: Annotated[str, Query(alias="to")],
) -> Response:
    """Shortest chain between two nodes (e.g. an agency and a directive); nodes in order."""
    def answer() -> bytes:
        known(walk, source)
        known(walk, target)
        path = flow_path(walk, source, target)
        if path is None:
            raise HTTPException(404, "no path between these nodes")
        sub = subgraph_of(walk, source, set(path))
        order = {iri: i for i, iri in enumerate(path)}
        sub.nodes.sort(key=lambda n: order[n.id])
        consecutive = {frozenset(pair) for pair in pairwise(path)}
        sub.edges = [e for e in sub.edges if frozenset((e.source, e.target)) in consecutive]
        return sub.model_dump_json().encode()

    return Response(KEPT_ANSWERS.get(walk.repo, ("path", source, target), answer),
                    media_type="application/json")


def flow_path(walk: StoreWalk, source: str, target: str) -> list[str] | None:
    """The shortest flow chain between two nodes: from the version's flow index when it is
    ready (:mod:`kgraph.analysis.flow_index`: 11 CPU ms median at 20,000 plans, two components at
    once), else walked in the store from both ends (a remote store, or before the warm-up made
    it)."""
    index = ready_index(walk.repo)
    if index is not None:
        with suppress(KeyError):  # a node the index does not hold: the walk decides
            return index.path(source, target)
    return shortest_flow_path(walk.neighbours, source, target)


def graph_neighbours(lineage: LineageGraph) -> Callable[[list[str]], dict[str, list[str]]]:
    """:func:`shortest_flow_path`'s neighbours on a lineage graph held in memory."""
    graph = lineage.graph

    def neighbours(frontier: list[str]) -> dict[str, list[str]]:
        return {node: sorted({other for adjacency in (graph.succ[node], graph.pred[node])
                              for other, attributes in adjacency.items()
                              if attributes.get("rel") in FLOW_RELATIONS})
                for node in frontier}
    return neighbours


def shortest_flow_path(neighbours: Callable[[list[str]], dict[str, list[str]]], source: str,
                       target: str) -> list[str] | None:
    """Shortest chain between two nodes, edges taken in either direction, "cites" excluded
    (as :meth:`LineageGraph.shortest_path`), by a breadth-first search from both ends; each
    side stops at the other's frontier (a national graph has agencies with thousands of
    edges). ``neighbours`` gives each frontier node's neighbours in IRI order (the same path
    whatever order the store gave the edges in), a frontier at a time: one query a step when
    walked in the store (:meth:`StoreWalk.neighbours`)."""
    if source == target:
        return [source]
    parents: tuple[dict[str, str | None], dict[str, str | None]] = ({source: None},
                                                                     {target: None})
    frontiers = ([source], [target])
    while frontiers[0] and frontiers[1]:
        side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1  # grow the smaller side
        following: list[str] = []
        adjacent = neighbours(frontiers[side])
        for node in frontiers[side]:
            for other in adjacent[node]:
                if other in parents[side]:
                    continue
                parents[side][other] = node
                if other in parents[1 - side]:
                    return _joined(parents, other)
                following.append(other)
        frontiers = (following, frontiers[1]) if side == 0 else (frontiers[0], following)
    return None


def _joined(parents: tuple[dict[str, str | None], dict[str, str | None]], meeting: str
            ) -> list[str]:
    """The path source → meeting → target from the two searches' parent links."""
    half: list[str] = []
    node: str | None = meeting
    while node is not None:
        half.append(node)
        node = parents[0][node]
    path = half[::-1]
    node = parents[1][meeting]
    while node is not None:
        path.append(node)
        node = parents[1][node]
    return path


def compact(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


@router.get("/api/node", response_model=NodeDetail, tags=["explore"])
def api_node(request: Request, walk: Walk, iri: str) -> Response:
    """A node's properties, source quote, roles (for agencies) and direct neighbours."""
    return Response(KEPT_ANSWERS.get(walk.repo, ("node", iri),
                                lambda: node_detail(get_repository(request), walk, iri)
                                .model_dump_json().encode()), media_type="application/json")


def node_detail(repo: Repository, walk: StoreWalk, iri: str) -> NodeDetail:
    """What :func:`api_node` answers: a walk one step each way, the node's statements and
    its roles (a provincial plan at 20,000 plans: 134 neighbours, 130 KB of JSON)."""
    node = known(walk, iri)
    # grouped, not DISTINCT: Oxigraph sorts before it removes the copies every citing graph
    # states (1,054 rows for a provincial plan at 20,000 plans: 140 ms, grouped first 10 ms)
    rows = repo.query(
        f"SELECT ?p ?o WHERE {{ {URIRef(iri).n3()} ?p ?o }} GROUP BY ?p ?o ORDER BY ?p ?o"
    ).rows
    walk.load(str(value) for _, value in rows if isinstance(value, URIRef))
    properties = []
    for predicate, value in rows:
        text = str(value)
        is_iri = isinstance(value, URIRef)
        if is_iri and text in walk.nodes:
            text = walk.nodes[text].label
        properties.append(
            Property(
                predicate=compact(str(predicate)),
                value=compact(text) if is_iri else text,
                iri=str(value) if is_iri else None,
                page=page_of(str(value)) if is_iri else "",
            )
        )
    neighbours = walk.walk(iri, "down", 1) | walk.walk(iri, "up", 1)
    return NodeDetail(
        node=graph_node(node),
        source_text=node.source_text,
        properties=properties,
        roles=[Role(**r) for r in walk.roles(iri)],
        neighbours=subgraph_of(walk, iri, neighbours),
        **_page_of_original(repo, iri),
    )


def _page_of_original(repo: Repository, iri: str) -> dict[str, str | None]:
    """'page N of FILE' for a task, duty or assignment read from a PDF, Word file or scan."""
    page = source_page(repo, iri)
    return {"source_page": page.text, "source_href": page.href} if page else {}


@router.get("/api/audit", response_model=AuditFlags, tags=["explore"])
def api_audit(
    request: Request,
    walk: Walk,
    iri: Annotated[list[str] | None, Query(description=(
        "only the findings about these nodes (repeatable; the explorer asks for the nodes it "
        "shows)"))] = None,
    doc: Annotated[str | None, Query(max_length=100, description="a plan (number)")] = None,
    province: Annotated[str | None, Query(max_length=100)] = None,
    rule: Annotated[str | None, Query(max_length=100)] = None,
    severity: Annotated[str | None, Query(pattern="^(Violation|Warning|Info|)$")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = AUDIT_PAGE,
) -> Response:
    """Findings by focus node for the "conflicts and gaps" overlay.

    The explorer asks only about the nodes it shows (``iri``): their own flags and the audit
    index's findings about them. Without ``iri``, the audit index's findings come a page at a
    time in the order of ``/audit`` (severity, document, rule), filtered as ``/audit`` filters
    them (``doc``, ``province``, ``rule``, ``severity``) and grouped by focus: ``total`` counts
    the findings selected and ``offset``/``limit`` count findings (at national scale they are
    millions: the whole overlay is never made).
    """
    if iri is not None:
        return JSONResponse({"source": "audit", "flags": flags_of(request, walk, iri)})
    from kgraph.analysis.audit_index import audit_index

    index = audit_index(get_repository(request))
    filters = {"plan": doc or None, "province": province or None, "rule": rule or None,
               "severity": severity or None}
    if doc and not index.matching_documents(plan=doc):
        raise HTTPException(404, f"no source document numbered {doc!r}")
    page = index.page(offset, limit, **filters)
    flags: dict[str, list[str]] = {}
    for finding in page.findings:
        message = f"{finding.severity}: {finding.message_vi}"
        if message not in flags.setdefault(finding.focus, []):
            flags[finding.focus].append(message)
    following = offset + limit if offset + limit < page.total else None
    return JSONResponse({"source": "audit", "flags": flags, "total": page.total,
                         "next_offset": following})


def flags_of(request: Request, walk: StoreWalk, iris: list[str]) -> dict[str, list[str]]:
    """The findings about these nodes: their own flags (conflicting facts, unresolved
    mention), then the audit index's about them."""
    walk.load(iris)
    nodes = [i for i in dict.fromkeys(iris) if i in walk.nodes]
    flags = {i: list(walk.nodes[i].flags) for i in nodes if walk.nodes[i].flags}
    from kgraph.analysis.audit_index import audit_index

    index = audit_index(get_repository(request))
    for focus, messages in index.flags_for(nodes).items():
        for message in messages:
            if message not in flags.setdefault(focus, []):
                flags[focus].append(message)
    return {i: flags[i] for i in nodes if i in flags}

