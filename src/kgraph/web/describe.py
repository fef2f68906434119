"""What the graph says about one resource: for its linked-data page and its RDF downloads.

Every fact keeps the named graphs that state it, because in kgraph "who says so" is part of
the answer: two plans may cite the same directive with different issuers. Labels come from
the graph itself (the ontology graph for properties and classes), in the reader's language
when one exists, else Vietnamese, else whatever there is.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.term import Identifier

from kgraph.analysis.queries import named_queries
from kgraph.graph.vocab import ELI, ID, KG, PREFIXES, RDF, sparql_prefixes
from kgraph.ingest.text import fold, ocr_fold
from kgraph.resources import ONTOLOGY_GRAPH, REFERENCE_GRAPH
from kgraph.store.embedded import Repository, store_version, writable_iri
from kgraph.web.sources import Original, SourcePage, original_link, source_page

LANGUAGES = ("vi", "en")
TABLE_ROWS = 100  # rows of a growing table on a document page (then: a link to all of them)
DOWNSTREAM_DOCUMENTS = 10  # documents carrying one out whose assignments its page lists
SOURCES_SHOWN = 12  # graphs listed for one fact (then: "and N more")
INCOMING_SHOWN = 100  # links into a resource listed on its page
PAGES_KEPT = 64  # resource pages and RDF downloads kept per store version (see KeptPages)
DOWNLOAD_CHARACTERS_KEPT = 32_000_000  # of the downloads kept (a directive's N-Quads: MBs)
# Characters that may not appear inside <...> in SPARQL (and never in a minted IRI).

# Labels for the standard terms kgraph reuses; the ontology graph only labels its own terms.
EXTERNAL_LABELS: dict[str, dict[str, str]] = {
    str(RDF.type): {"vi": "loại", "en": "type"},
    PREFIXES["rdfs"] + "label": {"vi": "nhãn", "en": "label"},
    PREFIXES["skos"] + "prefLabel": {"vi": "tên chuẩn", "en": "preferred label"},
    PREFIXES["skos"] + "altLabel": {"vi": "tên khác", "en": "alternative label"},
    PREFIXES["skos"] + "Concept": {"vi": "khái niệm", "en": "concept"},
    PREFIXES["skos"] + "inScheme": {"vi": "thuộc hệ khái niệm", "en": "in scheme"},
    PREFIXES["dcterms"] + "title": {"vi": "tiêu đề", "en": "title"},
    PREFIXES["prov"] + "wasDerivedFrom": {"vi": "trích từ", "en": "derived from"},
    str(ELI.LegalResource): {"vi": "văn bản", "en": "legal resource"},
    str(ELI.ResourceType): {"vi": "loại văn bản", "en": "resource type"},
    str(ELI.id_local): {"vi": "số hiệu", "en": "number"},
    str(ELI.title): {"vi": "trích yếu", "en": "title"},
    str(ELI.date_document): {"vi": "ngày ban hành", "en": "date"},
    str(ELI.type_document): {"vi": "loại văn bản", "en": "document type"},
    str(ELI.passed_by): {"vi": "cơ quan ban hành", "en": "issued by"},
    str(ELI.based_on): {"vi": "căn cứ", "en": "based on"},
    str(ELI.cites): {"vi": "dẫn chiếu", "en": "cites"},
    PREFIXES["org"] + "Organization": {"vi": "cơ quan, tổ chức", "en": "organization"},
}
# Names of the parts of a plan, for the IRIs that carry no label ({doc}/assignment/3/duty/2).
PART_NAMES: dict[str, dict[str, str]] = {
    "task": {"vi": "nhiệm vụ", "en": "task"},
    "assignment": {"vi": "phân công", "en": "assignment"},
    "duty": {"vi": "nhiệm vụ được giao", "en": "duty"},
    "reporting": {"vi": "chế độ báo cáo", "en": "reporting duty"},
    "target": {"vi": "chỉ tiêu", "en": "target"},
    "mention": {"vi": "cơ quan chưa xác định", "en": "unresolved mention"},
}
_PART = re.compile(
    r"/(task|assignment|duty|reporting|target|mention)/([^/]+(?:/[a-z0-9]+)*?)"
    r"(?=/(?:task|assignment|duty|reporting|target|mention)/|$)"
)
_XSD_STRING = PREFIXES["xsd"] + "string"
BOOLEAN_WORDS = {"vi": {"true": "có", "false": "không"}, "en": {"true": "yes", "false": "no"}}
# Which labelling property wins (lower is better) before the language is considered.
_LABEL_RANK = {"skos:prefLabel": 0, "rdfs:label": 0, "eli:id_local": 1, "dcterms:title": 2}


@dataclass(frozen=True)
class Term:
    """An RDF term ready to show: text, and a link on this server when the graph minted it."""

    text: str
    iri: str | None = None  # full IRI (None for literals)
    href: str | None = None  # local page of a minted IRI
    lang: str | None = None
    datatype: str | None = None


@dataclass(frozen=True)
class Source:
    """A named graph stating a fact, shown as the document (or shipped graph) it holds."""

    graph: str
    label: str
    href: str | None = None
    file: str | None = None


@dataclass
class Fact:
    prop: Term
    value: Term
    sources: list[Source]
    more_sources: int = 0  # further graphs stating it, not listed (a directive cited by all)


@dataclass
class Table:
    """Rows of a named query, IRIs turned into links."""

    name: str
    columns: list[str]
    rows: list[list[Term | None]]
    more: str | None = None  # the named query's page with every row, when the table is cut


@dataclass
class Description:
    iri: str
    label: str
    types: list[Term] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    incoming: list[Fact] = field(default_factory=list)  # prop/value = predicate/subject
    quotes: list[str] = field(default_factory=list)
    restored: str | None = None  # the text with OCR-damaged names put right (None: no damage)
    document: Term | None = None
    line: str | None = None
    number: str | None = None  # set for documents (eli:id_local)
    tables: dict[str, Table] = field(default_factory=dict)
    page: SourcePage | None = None  # page of the original (kgraph.web.sources)
    original: Original | None = None  # a kept original file or page: link to open it
    incoming_cut: int = 0  # the links in were cut at this many statements (0: all listed)


# A trích yếu ends where the preamble begins: the legal bases ("Căn cứ ...") that Nghị định
# 30/2020/NĐ-CP puts after the title. An extractor that ran the two together is corrected here,
# at display time; the stored eli:title is left as the source gave it.
_PREAMBLE = re.compile(r"\s+(?=Căn cứ\b)")


def display_title(title: str) -> str:
    """The title without a preamble that ran into it ("… Căn cứ Quyết định số …")."""
    head = _PREAMBLE.split(title, maxsplit=1)[0].rstrip(" ,;:")
    return head or title


def lateral(repository: Repository) -> str:
    """``LATERAL`` (each row's values bound into the next step: Oxigraph) on the embedded
    store; a plain join elsewhere (SPARQL 1.1 engines: same rows, without the shortcut). A
    LIMIT inside then applies to the whole step, so a remote store may list fewer sources."""
    from kgraph.store.embedded import OxigraphRepository

    return "LATERAL" if isinstance(repository, OxigraphRepository) else ""


def local_path(iri: str) -> str | None:
    """The path on this server where a minted IRI dereferences (None for others)."""
    if iri.startswith(str(ID)) and writable_iri(iri):
        return "/id/" + iri[len(str(ID)) :]
    return None


def iri_for_path(path: str) -> str | None:
    """The minted IRI a request path ``/id/{path}`` names, or None when it cannot be one."""
    if not path or not writable_iri(path):
        return None
    return str(ID) + path


def part_label(iri: str, lang: str) -> str | None:
    """'phân công 3 › nhiệm vụ được giao 2' for ``{doc}/assignment/3/duty/2``."""
    parts = _PART.findall(iri)
    if not parts or not iri.startswith(str(ID)):
        return None
    return " › ".join(
        f"{PART_NAMES[kind].get(lang, PART_NAMES[kind]['vi'])} {no}" for kind, no in parts
    )


def plain(node: Identifier) -> Identifier:
    """xsd:string literals as simple literals (Oxigraph types every plain literal)."""
    if (
        isinstance(node, Literal)
        and node.datatype is not None
        and str(node.datatype) == _XSD_STRING
    ):
        return Literal(str(node))
    return node


def curie(iri: str) -> str:
    """Shortest prefixed name, for terms without a label."""
    best = iri
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) - len(namespace) + len(prefix) + 1 < len(best):
            best = f"{prefix}:{iri[len(namespace) :]}"
    return best


MEMO_KEPT = 100_000  # labels (or sources) kept per store version and language, then anew
_MEMOS: dict[tuple[str, str, str], dict[str, Any]] = {}
_MEMOS_LOCK = threading.Lock()


def kept_version(repository: Repository) -> str | None:
    """The store version what is read from it may be kept under, or None: a store in memory
    (its token is an object's id, which a later store may reuse) or a remote store kgraph
    never wrote (versioned by its size, which another writer can leave unchanged)."""
    version = store_version(repository)
    return None if version.startswith("memory-") or ":size-" in version else version


def kept_memo(repository: Repository, kind: str, lang: str) -> dict[str, Any]:
    """A dictionary shared by every page of this store version and language (``kind``: what
    it holds): the properties, types, provinces, agencies and directives every page names are
    read once, not on each page (a directive's number is restated by thousands of graphs,
    and its label read every copy). A fresh dictionary when the store cannot be keyed."""
    version = kept_version(repository)
    if version is None:
        return {}
    key = (version, kind, lang)
    with _MEMOS_LOCK:
        memo = _MEMOS.get(key)
        if memo is None or len(memo) > MEMO_KEPT:
            for old in [k for k in _MEMOS if k[0] != version]:  # one version kept
                del _MEMOS[old]
            memo = _MEMOS[key] = {}
        return memo


class Labeller:
    """Looks up labels of many IRIs in one query, in the reader's language; the labels found
    are shared by every page of the store version (:func:`kept_memo`)."""

    def __init__(self, repository: Repository, lang: str) -> None:
        self.repository = repository
        self.lang = lang
        self.cache: dict[str, str] = kept_memo(repository, "labels", lang)

    def _score(self, via: str, literal: Identifier) -> tuple[int, int]:
        lang = getattr(literal, "language", None)
        order = 0 if lang == self.lang else 1 if lang == "vi" else 2 if lang is None else 3
        return _LABEL_RANK.get(via, 3), order

    def load(self, iris: set[str]) -> None:
        wanted = sorted(i for i in iris if i not in self.cache and writable_iri(i))
        if not wanted:
            return
        values = " ".join(f"<{i}>" for i in wanted)
        result = self.repository.query(
            sparql_prefixes()
            + f"""SELECT DISTINCT ?x ?via ?l WHERE {{
              VALUES ?x {{ {values} }}
              {lateral(self.repository)} {{ SELECT DISTINCT ?x ?via ?l WHERE {{
                {{ ?x skos:prefLabel ?l BIND("skos:prefLabel" AS ?via) }}
                UNION {{ ?x rdfs:label ?l BIND("rdfs:label" AS ?via) }}
                UNION {{ ?x eli:id_local ?l BIND("eli:id_local" AS ?via) }}
                UNION {{ ?x dcterms:title ?l BIND("dcterms:title" AS ?via) }} }} }}
            }}"""
        )
        best: dict[str, tuple[tuple[int, int], str]] = {}
        for x, via, label in result.rows:
            score = self._score(str(via), label)  # type: ignore[arg-type]
            key = str(x)
            if key not in best or (score, str(label)) < (best[key][0], best[key][1]):
                best[key] = (score, str(label))
        for iri in wanted:
            if iri in best:
                self.cache[iri] = best[iri][1]
            elif iri in EXTERNAL_LABELS:
                labels = EXTERNAL_LABELS[iri]
                self.cache[iri] = labels.get(self.lang, labels["vi"])
            else:
                self.cache[iri] = part_label(iri, self.lang) or curie(iri)

    def term(self, node: Identifier) -> Term:
        """A term to show (labels must have been loaded for IRIs)."""
        node = plain(node)
        if isinstance(node, Literal):
            datatype = curie(str(node.datatype)) if node.datatype else None
            if datatype == "xsd:boolean":  # a word in the reader's language, not "true"
                return Term(BOOLEAN_WORDS[self.lang].get(str(node), str(node)))
            return Term(str(node), lang=node.language, datatype=datatype)
        iri = str(node)
        return Term(self.cache.get(iri) or curie(iri), iri=iri, href=local_path(iri))


def exists(repository: Repository, iri: str) -> bool:
    """Whether the graph says anything about (or pointing to) the IRI."""
    if not writable_iri(iri):
        return False
    result = repository.query(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}")
    return bool(result.boolean)


def _sources(repository: Repository, graphs: set[str], lang: str) -> dict[str, Source]:
    """Each named graph as the document it was extracted from (number, page, file name)."""
    shipped = {
        ONTOLOGY_GRAPH: {"vi": "bản thể (ontology)", "en": "ontology"},
        REFERENCE_GRAPH: {"vi": "danh mục tham chiếu", "en": "reference list"},
    }
    kept: dict[str, Source] = kept_memo(repository, "sources", lang)
    found: dict[str, Source] = {g: kept[g] for g in graphs if g in kept}
    for graph in graphs & set(shipped):
        found[graph] = Source(graph, shipped[graph].get(lang, shipped[graph]["vi"]))
    rest = sorted(g for g in graphs - set(shipped) - set(found) if writable_iri(g))
    if rest:
        values = " ".join(f"<{g}>" for g in rest)
        provenance = """OPTIONAL { GRAPH ?g { ?g prov:wasDerivedFrom ?file .
                  OPTIONAL { ?file dcterms:title ?t }
                  OPTIONAL { ?doc kg:sourceFile ?file ; eli:id_local ?n } } }"""
        # On a SPARQL 1.1 store a plain OPTIONAL after the VALUES: a group of its own is
        # evaluated apart (Jena does), which drops the graphs stating no provenance.
        step = (f"LATERAL {{ {provenance} }}" if lateral(repository) else provenance)
        result = repository.query(
            sparql_prefixes()
            + f"""
            SELECT ?g (SAMPLE(?t) AS ?title) (SAMPLE(?doc) AS ?d) (SAMPLE(?n) AS ?number) WHERE {{
              VALUES ?g {{ {values} }}
              {step}
            }} GROUP BY ?g"""
        )
        for g, title, doc, number in result.rows:
            doc_iri = str(doc) if doc is not None else None
            found[str(g)] = Source(
                graph=str(g),
                label=str(number) if number is not None else curie(str(g)),
                href=local_path(doc_iri) if doc_iri else local_path(str(g)),
                file=str(title) if title is not None else None,
            )
    for graph in graphs - set(found):
        found[graph] = Source(graph, curie(graph))
    kept.update(found)
    return found


def _statements(repository: Repository, iri: str, *, outgoing: bool = True
                ) -> tuple[list[tuple], list[tuple]]:
    """(p, o, g) about the resource (unless not ``outgoing``) and (s, p, g) pointing at it,
    with their graphs."""
    out = repository.query(
        f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}").rows if outgoing else []
    into = repository.query(
        f"SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} LIMIT 2000"
    ).rows
    return out, into


def _page_statements(repository: Repository, iri: str
                     ) -> tuple[list[tuple], dict[tuple, int], list[tuple]]:
    """What the page lists: each distinct (p, o) with at most :data:`SOURCES_SHOWN` of the
    graphs stating it and how many state it, and the first :data:`INCOMING_SHOWN` links in.

    A directive is restated by every plan citing it: all its statements would be one row per
    plan (tens of thousands), so the page reads the distinct facts, a few sources each, and
    the counts; the RDF downloads keep every statement (:func:`resource_dataset`).
    """
    if not lateral(repository):
        return _remote_page_statements(repository, iri)
    counts = {
        (p, o): int(str(n)) for p, o, n in repository.query(
            f"SELECT ?p ?o (COUNT(?g) AS ?n) WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }} "
            "GROUP BY ?p ?o").rows
    }
    out = repository.query(f"""SELECT ?p ?o ?g WHERE {{
        {{ SELECT DISTINCT ?p ?o WHERE {{ <{iri}> ?p ?o }} }}
        {lateral(repository)} {{ SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}
                   LIMIT {SOURCES_SHOWN} }} }}""").rows
    into = repository.query(
        f"SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} LIMIT {INCOMING_SHOWN}"
    ).rows
    return out, counts, into


def _remote_page_statements(repository: Repository, iri: str
                            ) -> tuple[list[tuple], dict[tuple, int], list[tuple]]:
    """:func:`_page_statements` on a SPARQL 1.1 store (no LATERAL to cut each fact's graphs):
    each distinct fact once, with how many graphs state it and their names joined, of which
    the first :data:`SOURCES_SHOWN` (by name) are listed.

    Reading every statement sent a directive's facts once per plan citing it (40,000 rows at
    20,000 plans, which Virtuoso writes at a few thousand rows a second) and then asked for
    the sources of thousands of graphs. The original file's bytes (``kg:content``) are not
    shown, so not read. The links in are ordered: Virtuoso ignores a LIMIT without ORDER BY
    in some shapes of query, and the order makes the list the same on every engine.
    """
    facts = repository.query(f"""SELECT ?p ?o (COUNT(?g) AS ?n)
        (GROUP_CONCAT(STR(?g); separator=" ") AS ?graphs) WHERE {{
        GRAPH ?g {{ <{iri}> ?p ?o }} FILTER(?p != <{KG.content}>) }} GROUP BY ?p ?o""").rows
    out: list[tuple] = []
    counts: dict[tuple, int] = {}
    for p, o, n, graphs in facts:
        counts[(p, o)] = int(str(n))
        named = sorted(set(str(graphs or "").split()))[:SOURCES_SHOWN]
        out.extend((p, o, URIRef(g)) for g in named)
    into = repository.query(
        f"SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} ORDER BY ?s ?p ?g "
        f"LIMIT {INCOMING_SHOWN}").rows
    return out, counts, into


def natural(text: str) -> list[tuple[int, int | str]]:
    """Sort key putting 'phân công 2' before 'phân công 10'."""
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", text.casefold()) if part]


def _facts(
    pairs: dict[tuple[Identifier, Identifier], set[str]],
    labeller: Labeller,
    sources: dict[str, Source],
    counts: dict[tuple, int] | None = None,
) -> list[Fact]:
    counts = counts or {}
    facts = [
        Fact(
            labeller.term(p),
            _shown(p, labeller.term(o)),
            sorted((sources[g] for g in graphs), key=lambda s: s.label),
            max(0, counts.get((p, o), len(graphs)) - len(graphs)),
        )
        for (p, o), graphs in pairs.items()
    ]
    type_first = str(RDF.type)
    facts.sort(
        key=lambda f: (f.prop.iri != type_first, natural(f.prop.text), natural(f.value.text))
    )
    return facts


def _shown(prop: Identifier, value: Term) -> Term:
    """A title shows without the preamble the extractor may have run into it."""
    if str(prop) == str(ELI.title) and value.iri is None:
        return Term(display_title(value.text), lang=value.lang, datatype=value.datatype)
    return value


def describe(repository: Repository, iri: str, lang: str = "vi") -> Description | None:
    """Everything the page of one resource shows; None when the graph does not know it."""
    if not exists(repository, iri):
        return None
    out, counts, into = _page_statements(repository, iri)
    outgoing: dict[tuple[Identifier, Identifier], set[str]] = defaultdict(set)
    incoming: dict[tuple[Identifier, Identifier], set[str]] = defaultdict(set)
    for p, o, g in out:
        if p != KG.content:  # the original file's bytes: served at /source/{id}, not shown
            outgoing[(p, o)].add(str(g))
    for s, p, g in into:
        incoming[(p, s)].add(str(g))
    labeller = Labeller(repository, lang)
    nodes = {iri} | {
        str(t) for pair in [*outgoing, *incoming] for t in pair if isinstance(t, URIRef)
    }
    labeller.load(nodes)
    graphs = {g for gs in [*outgoing.values(), *incoming.values()] for g in gs}
    sources = _sources(repository, graphs, lang)

    description = Description(iri=iri, label=labeller.cache.get(iri, curie(iri)))
    named = description.label != (part_label(iri, lang) or curie(iri))
    description.facts = _facts(outgoing, labeller, sources, counts)
    description.incoming = _facts(incoming, labeller, sources)
    description.incoming_cut = INCOMING_SHOWN if len(into) >= INCOMING_SHOWN else 0
    values = defaultdict(list)
    for p, o in outgoing:
        values[str(p)].append(o)
    description.types = sorted(
        (labeller.term(t) for t in values[str(RDF.type)]), key=lambda t: t.text
    )
    description.quotes = sorted(str(q) for q in values[str(KG.sourceText)])
    if values[str(KG.text)]:
        description.restored = restored_text(repository, iri, str(sorted(values[str(KG.text)])[0]))
    if values[str(KG.partOf)]:
        description.document = labeller.term(sorted(values[str(KG.partOf)])[0])
    if values[str(KG.sourceLine)]:
        description.line = str(sorted(values[str(KG.sourceLine)])[0])
    if values[str(KG.sourcePage)]:
        description.page = source_page(repository, iri, lang)
    if {KG.SourceFile, KG.SourcePage} & set(values[str(RDF.type)]):
        description.original = original_link(repository, iri, lang)
    if not named and values[str(KG.itemNumber)] and description.types:
        part = f"{description.types[0].text} {sorted(values[str(KG.itemNumber)])[0]}"
        owner = f" — {description.document.text}" if description.document else ""
        description.label = part + owner
    if URIRef(str(ELI.LegalResource)) in values[str(RDF.type)] and values[str(ELI.id_local)]:
        description.number = str(sorted(values[str(ELI.id_local)])[0])
        description.tables = document_tables(repository, iri, description.number, labeller)
    return description


class KeptPages:
    """What the page (or an RDF download) of one resource shows, kept per store version.

    A document's page is a dozen queries (its statements, sources, lineage, implementers,
    assignments and every label): 300-400 CPU ms at 20,000 plans, and all of it changes only
    with the store. The least recently used go first once :data:`PAGES_KEPT` are kept, or
    once the downloads kept hold :data:`DOWNLOAD_CHARACTERS_KEPT`; a new store version is a new
    key, so a page is never shown from older data; nothing is kept for a store
    :func:`kept_version` cannot key.
    """

    def __init__(self, entries: int, characters: int | None = None,
                 limits: Callable[[], tuple[object, ...]] = tuple) -> None:
        """At most ``entries`` values and ``characters`` of text values (None: no bound);
        ``limits()``: what else the values depend on, added to every key when asked."""
        self.entries, self.characters, self.limits = entries, characters, limits
        self.kept: OrderedDict[tuple[object, ...], Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, repository: Repository, key: tuple[object, ...],
            compute: Callable[[], Any]) -> Any:
        """``compute()``, or the value kept for ``key`` in this store version (``None``
        answers, a resource the store does not know, are never kept)."""
        version = kept_version(repository)
        if version is None:
            return compute()
        full = (version, *key, *self.limits())
        with self.lock:
            if full in self.kept:
                self.kept.move_to_end(full)
                return self.kept[full]
        value = compute()
        if value is not None:
            with self.lock:
                self.kept[full] = value
                while len(self.kept) > 1 and (len(self.kept) > self.entries or (
                        self.characters is not None and sum(
                            len(v) for v in self.kept.values() if isinstance(v, str)
                        ) > self.characters)):
                    self.kept.popitem(last=False)
        return value


KEPT_PAGES = KeptPages(PAGES_KEPT, DOWNLOAD_CHARACTERS_KEPT, lambda: (  # the page's limits
    TABLE_ROWS, DOWNSTREAM_DOCUMENTS, SOURCES_SHOWN, INCOMING_SHOWN))  # are part of what it shows


def kept_description(repository: Repository, iri: str, lang: str = "vi") -> Description | None:
    """:func:`describe`, kept per store version (:class:`KeptPages`)."""
    return KEPT_PAGES.get(repository, ("page", iri, lang),
                          lambda: describe(repository, iri, lang))


def restored_text(repository: Repository, iri: str, text: str) -> str | None:
    """``text`` with the OCR-damaged names of bodies and documents it quotes restored.

    The source graph records how each body and document was written (``kg:mentionedAs``);
    in a source with OCR misreadings (look-alike signs and digits inside words, which
    ``ocr_fold`` repairs), each spelling is replaced by the canonical name from the reference list
    (``skos:prefLabel``) or the canonical number (``eli:id_local``). Only a source with OCR
    damage is restored (its every differing mention); clean text gives None.
    """
    if not writable_iri(iri):
        return None
    rows = repository.query(sparql_prefixes() + f"""
        SELECT DISTINCT ?raw ?canonical WHERE {{
          {{ SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{iri}> kg:text ?t }} }} }}
          GRAPH ?g {{ ?x kg:mentionedAs ?raw }}
          {{ ?x skos:prefLabel ?canonical FILTER(LANG(?canonical) = "vi") }}
          UNION {{ ?x eli:id_local ?canonical }}
        }}""").rows
    written = [(str(raw), str(canonical)) for raw, canonical in rows]
    if not any(ocr_fold(raw) != fold(raw) for raw, _ in written):
        return None  # the source shows no OCR damage: its text is shown as written
    pairs: dict[str, str] = {}
    for raw, canonical in written:
        if raw != canonical and raw in text:
            pairs.setdefault(raw, canonical)
    if not pairs:
        return None
    pattern = re.compile("|".join(re.escape(w) for w in sorted(pairs, key=len, reverse=True)))
    return pattern.sub(lambda m: pairs[m.group(0)], text)


# The assignments query reaches every plan carrying the document out (`kg:implements*`); the
# page lists the document's own assignments in full, and those of the first
# :data:`DOWNSTREAM_DOCUMENTS` documents carrying it out that give any (a directive's reach is
# the whole corpus: the query page has all of them).
# The reach in the Oxigraph text and in the portable one (a remote store's): both bind ?plan
# from ?root, so the same replacement scopes either.
_REACHES = ("LATERAL { SELECT DISTINCT ?root ?plan WHERE { ?plan kg:implements* ?root } }",
            "?plan kg:implements* ?root")
# The documents numbered so: the roots of the reach, not wanted when the plans are given (left
# in, every given plan was joined to each of them: 6x the work for one plan at 20,000 plans).
_ROOTS = re.compile(r"\{ SELECT DISTINCT \?root WHERE \{ \?root kg:numberKey [^{}]* \} \}")


def _assignments_text(repository: Repository, number: str,
                      plans: list[str] | None = None) -> str:
    """The assignments query for the document itself, or for the given ``plans`` (the whole
    reach read on Virtuoso for a directive's page took 5 s at 2,000 plans: 2,334 rows for the
    page's hundred)."""
    text = named_queries()["assignments"].for_repository(repository).render({"doc": number})
    reach = next((r for r in _REACHES if r in text), None)
    if reach is None:
        raise LookupError("the assignments query no longer reaches the plans as "
                          "kgraph.web.describe._REACHES expects")
    if plans is None:
        return text.replace(reach, "BIND(?root AS ?plan)", 1)
    return _ROOTS.sub("", text, count=1).replace(
        reach, "VALUES ?plan { " + " ".join(f"<{p}>" for p in plans) + " }", 1)


def _downstream_plans(repository: Repository, iri: str) -> tuple[list[str], bool]:
    """The first documents (by IRI: the same on every engine) carrying ``iri`` out that give
    assignments, and whether there are more of them: those carrying it out directly first, the
    further ones only when these are too few — then the documents carrying it out are walked a
    step a request (:func:`plan_parts.carrying_out`; the path ``kg:implements+`` from a document
    whose reach is national ran out of Virtuoso's transitive memory at 20,000 plans) and asked
    which give assignments, a chunk a request in IRI order until enough are found."""
    from kgraph.analysis import plan_parts

    wanted = DOWNSTREAM_DOCUMENTS + 1
    carrying = f"{{ SELECT DISTINCT ?plan WHERE {{ ?plan kg:implements <{iri}> }} }}"
    direct = f"""{carrying} LATERAL {{ SELECT ?plan ?a WHERE {{ ?plan kg:hasAssignment ?a }}
        LIMIT 1 }}""" if lateral(repository) else f"{carrying} ?plan kg:hasAssignment ?a"
    rows = repository.query(sparql_prefixes() + f"""SELECT DISTINCT ?plan WHERE {{
        {direct} }} ORDER BY ?plan LIMIT {wanted}""").rows
    found = {str(r[0]) for r in rows if writable_iri(str(r[0]))}
    if len(found) < wanted:  # every one carrying it out directly: the further ones too
        reach = [p for p in plan_parts.carrying_out(repository, [iri]) if p != iri]
        found = set()
        for start in range(0, len(reach), plan_parts.CHUNK):
            chunk = plan_parts.values(reach[start:start + plan_parts.CHUNK])
            found |= {str(r[0]) for r in repository.query(sparql_prefixes() + f"""
                SELECT DISTINCT ?plan WHERE {{ VALUES ?plan {{ {chunk} }}
                ?plan kg:hasAssignment ?assignment }}""").rows}
            if len(found) >= wanted:  # (the chunks run in IRI order)
                break
    plans = sorted(found)
    return plans[:DOWNSTREAM_DOCUMENTS], len(plans) > DOWNSTREAM_DOCUMENTS


# The lineage query (Oxigraph text) in two parts: the hops from the start to its ancestors,
# and each ancestor's facts (number, type, issuers, province, whether it is a root), which
# every document's page below the same ancestors reads again — 28-CT/TW's issuer, number and
# type are restated by 4,001 graphs and Bộ Chính trị's name by 12,002 at 20,000 plans: two
# thirds of a plan page's lineage table. Its hops end where its facts begin.
_HOPS_START = "{ SELECT DISTINCT ?ancestor ?depth WHERE {"
_FACTS_START = "  LATERAL { SELECT DISTINCT ?ancestor ?number WHERE"


def _lineage_parts(text: str) -> tuple[str, str, str] | None:
    """(head, hops, facts and tail) of the lineage query's Oxigraph text, or None when it is
    no longer written so (the page then runs the query whole)."""
    start, end = text.find(_HOPS_START), text.find(_FACTS_START)
    if start < 0 or end < start or "GROUP BY ?depth ?number" not in text[end:]:
        return None
    return text[:start], text[start:end], text[end:]


def _lineage_table(repository: Repository, text: str, labeller: Labeller) -> Table:
    """The lineage named query's rows, its ancestors' facts kept per store version.

    The hops are asked for this start; the facts of ancestors no page of this version asked
    about yet are asked for by the same query with those ancestors given (``VALUES``, depth
    0), and kept. Rows are joined in the query's order (depth, number, issuers)."""
    parts = _lineage_parts(text) if lateral(repository) else None
    if parts is None:
        return _table(repository, "lineage", text, labeller)
    head, hops, facts = parts
    prefixes = head[: head.find("SELECT ")]
    reached = repository.query(prefixes + "SELECT ?ancestor ?depth WHERE { " + hops + " }")
    known: dict[str, list[tuple]] = kept_memo(repository, "lineage facts", "")
    wanted = sorted({str(a) for a, _ in reached.rows} - set(known))
    variables = ["depth", "number", "type", "issuer", "province", "root", "ancestor"]
    if any(not isinstance(a, URIRef) for a, _ in reached.rows) or any(
            not writable_iri(a) for a in wanted):  # cannot be written in VALUES
        return _table(repository, "lineage", text, labeller)
    if wanted:
        values = " ".join(f"<{a}>" for a in wanted)
        found = repository.query(head + f"VALUES ?ancestor {{ {values} }} BIND(0 AS ?depth)\n"
                                 + facts)
        if list(found.variables) != variables:
            return _table(repository, "lineage", text, labeller)
        rows_of: dict[str, list[tuple]] = {a: [] for a in wanted}
        for row in found.rows:
            rows_of.setdefault(str(row[6]), []).append(row[1:6])
        known.update(rows_of)
    rows = [(depth, *facts_row, ancestor) for ancestor, depth in reached.rows
            for facts_row in known.get(str(ancestor), ())]
    rows.sort(key=lambda r: (int(str(r[0])), str(r[1]), str(r[3])))
    labeller.load({str(t) for row in rows for t in row if isinstance(t, URIRef)})
    shown = [[None if t is None else labeller.term(t) for t in row] for row in rows]
    return Table("lineage", variables, shown)


def _unordered(text: str) -> str:
    """The query without its final ORDER BY: rows then stream, so a LIMIT stops the work."""
    head, found, _ = text.rpartition("\nORDER BY ")
    return head if found else text


def _table(repository: Repository, name: str, text: str, labeller: Labeller,
           more: str | None = None, limit: int | None = None,
           order: tuple[str, ...] = ()) -> Table:
    """A named query's rows as a table; with ``limit``, the first rows (taken as the engine
    streams them, then sorted by the ``order`` columns) and ``more``, a link to all of them."""
    # Oxigraph streams the unordered rows, so the LIMIT stops its work; Virtuoso 7.2.5 ignores
    # a LIMIT without ORDER BY in some shapes of query, so a remote store keeps the order.
    limited = _unordered(text) if lateral(repository) else text
    result = repository.query(limited + f"\nLIMIT {limit + 1}" if limit else text)
    rows = result.rows
    cut = limit is not None and len(rows) > limit
    rows = rows[:limit] if cut else rows
    if order:
        at = [result.variables.index(c) for c in order]
        rows = sorted(rows, key=lambda r: [natural(str(r[i] or "")) for i in at])
    labeller.load({str(t) for row in rows for t in row if isinstance(t, URIRef)})
    shown = [[None if t is None else labeller.term(t) for t in row] for row in rows]
    return Table(name, list(result.variables), shown, more if cut else None)


def query_link(name: str, number: str) -> str:
    return "/query?" + urlencode({"q": name, "doc": number})


def document_tables(
    repository: Repository, iri: str, number: str, labeller: Labeller
) -> dict[str, Table]:
    """Lineage up and down and the assignments of a document, from the named queries.

    Lists that grow with the corpus (the documents carrying a directive out, their assignments)
    show their first rows and link to the named query for the rest.
    """
    queries = {name: q.for_repository(repository) for name, q in named_queries().items()}
    plans, more = _downstream_plans(repository, iri)
    own = _table(repository, "assignments", _assignments_text(repository, number), labeller)
    downstream = Table("downstream_assignments", [], [])
    if plans:
        downstream = _table(repository, "downstream_assignments",
                            _assignments_text(repository, number, plans), labeller)
        downstream.more = query_link("assignments", number) if more else None
    return {
        "lineage": _lineage_table(repository, queries["lineage"].render({"doc": number}),
                                  labeller),
        "implementers": _table(
            repository, "implementers", queries["implementers"].render({"doc": number}),
            labeller, query_link("implementers", number), TABLE_ROWS,
            order=("depth", "province", "number", "chain")),
        "assignments": own,
        "downstream_assignments": downstream,
    }


def resource_dataset(repository: Repository, iri: str) -> Dataset:
    """The triples about and pointing at a resource, each in the named graph stating it."""
    dataset = Dataset()
    for prefix, namespace in PREFIXES.items():
        dataset.bind(prefix, namespace)
    out, into = _statements(repository, iri)
    node = URIRef(iri)
    for p, o, g in out:
        dataset.add((node, p, plain(o), URIRef(str(g))))
    for s, p, g in into:
        dataset.add((s, p, node, URIRef(str(g))))
    return dataset


def resource_graph(repository: Repository, iri: str) -> Graph:
    """The same statements merged into one graph (for Turtle, JSON-LD, N-Triples)."""
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    # its distinct statements, not one per graph stating them: a directive is restated by
    # every plan citing it (2.2 s instead of 3.5 s of CPU at 20,000 plans)
    node = URIRef(iri)
    out = repository.query(
        f"SELECT ?p ?o WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }} GROUP BY ?p ?o").rows
    _, into = _statements(repository, iri, outgoing=False)
    for triple in {(node, p, plain(o)) for p, o in out} | {(s, p, node) for s, p, _ in into}:
        graph.add(triple)
    return graph
