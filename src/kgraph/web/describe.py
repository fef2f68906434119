"""What the graph says about one resource: for its linked-data page and its RDF downloads.

Every fact keeps the named graphs that state it, because in kgraph "who says so" is part of
the answer: two plans may cite the same directive with different issuers. Labels come from
the graph itself (the ontology graph for properties and classes), in the reader's language
when one exists, else Vietnamese, else whatever there is.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.term import Identifier

from kgraph.analysis.queries import named_queries
from kgraph.graph.vocab import ELI, ID, KG, PREFIXES, RDF, sparql_prefixes
from kgraph.ingest.text import fold, ocr_fold
from kgraph.resources import ONTOLOGY_GRAPH, REFERENCE_GRAPH
from kgraph.store.embedded import Repository
from kgraph.web.sources import Original, SourcePage, original_link, source_page

LANGUAGES = ("vi", "en")
# Characters that may not appear inside <...> in SPARQL (and never in a minted IRI).
_UNSAFE_IRI = re.compile(r"[\s<>\"{}|\\^`]")

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


@dataclass
class Table:
    """Rows of a named query, IRIs turned into links."""

    name: str
    columns: list[str]
    rows: list[list[Term | None]]


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


# A trích yếu ends where the preamble begins: the legal bases ("Căn cứ ...") that Nghị định
# 30/2020/NĐ-CP puts after the title. An extractor that ran the two together is corrected here,
# at display time; the stored eli:title is left as the source gave it.
_PREAMBLE = re.compile(r"\s+(?=Căn cứ\b)")


def display_title(title: str) -> str:
    """The title without a preamble that ran into it ("… Căn cứ Quyết định số …")."""
    head = _PREAMBLE.split(title, maxsplit=1)[0].rstrip(" ,;:")
    return head or title


def local_path(iri: str) -> str | None:
    """The path on this server where a minted IRI dereferences (None for others)."""
    if iri.startswith(str(ID)) and not _UNSAFE_IRI.search(iri):
        return "/id/" + iri[len(str(ID)) :]
    return None


def iri_for_path(path: str) -> str | None:
    """The minted IRI a request path ``/id/{path}`` names, or None when it cannot be one."""
    if not path or _UNSAFE_IRI.search(path):
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


class Labeller:
    """Looks up labels of many IRIs in one query, in the reader's language."""

    def __init__(self, repository: Repository, lang: str) -> None:
        self.repository = repository
        self.lang = lang
        self.cache: dict[str, str] = {}

    def _score(self, via: str, literal: Identifier) -> tuple[int, int]:
        lang = getattr(literal, "language", None)
        order = 0 if lang == self.lang else 1 if lang == "vi" else 2 if lang is None else 3
        return _LABEL_RANK.get(via, 3), order

    def load(self, iris: set[str]) -> None:
        wanted = sorted(i for i in iris if i not in self.cache and not _UNSAFE_IRI.search(i))
        if not wanted:
            return
        values = " ".join(f"<{i}>" for i in wanted)
        result = self.repository.query(
            sparql_prefixes()
            + f"""SELECT DISTINCT ?x ?via ?l WHERE {{
              VALUES ?x {{ {values} }}
              {{ ?x skos:prefLabel ?l BIND("skos:prefLabel" AS ?via) }}
              UNION {{ ?x rdfs:label ?l BIND("rdfs:label" AS ?via) }}
              UNION {{ ?x eli:id_local ?l BIND("eli:id_local" AS ?via) }}
              UNION {{ ?x dcterms:title ?l BIND("dcterms:title" AS ?via) }}
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
    if _UNSAFE_IRI.search(iri):
        return False
    result = repository.query(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}")
    return bool(result.boolean)


def _sources(repository: Repository, graphs: set[str], lang: str) -> dict[str, Source]:
    """Each named graph as the document it was extracted from (number, page, file name)."""
    shipped = {
        ONTOLOGY_GRAPH: {"vi": "bản thể (ontology)", "en": "ontology"},
        REFERENCE_GRAPH: {"vi": "danh mục tham chiếu", "en": "reference list"},
    }
    found: dict[str, Source] = {}
    for graph in graphs & set(shipped):
        found[graph] = Source(graph, shipped[graph].get(lang, shipped[graph]["vi"]))
    rest = sorted(g for g in graphs - set(shipped) if not _UNSAFE_IRI.search(g))
    if rest:
        values = " ".join(f"<{g}>" for g in rest)
        result = repository.query(
            sparql_prefixes()
            + f"""
            SELECT ?g (SAMPLE(?t) AS ?title) (SAMPLE(?doc) AS ?d) (SAMPLE(?n) AS ?number) WHERE {{
              VALUES ?g {{ {values} }}
              OPTIONAL {{ GRAPH ?g {{ ?g prov:wasDerivedFrom ?file .
                  OPTIONAL {{ ?file dcterms:title ?t }}
                  OPTIONAL {{ ?doc kg:sourceFile ?file ; eli:id_local ?n }} }} }}
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
    return found


def _statements(repository: Repository, iri: str) -> tuple[list[tuple], list[tuple]]:
    """(p, o, g) about the resource and (s, p, g) pointing at it, with their graphs."""
    out = repository.query(f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}").rows
    into = repository.query(
        f"SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} LIMIT 2000"
    ).rows
    return out, into


def natural(text: str) -> list[tuple[int, int | str]]:
    """Sort key putting 'phân công 2' before 'phân công 10'."""
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", text.casefold()) if part]


def _facts(
    pairs: dict[tuple[Identifier, Identifier], set[str]],
    labeller: Labeller,
    sources: dict[str, Source],
) -> list[Fact]:
    facts = [
        Fact(
            labeller.term(p),
            _shown(p, labeller.term(o)),
            sorted((sources[g] for g in graphs), key=lambda s: s.label),
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
    out, into = _statements(repository, iri)
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
    description.facts = _facts(outgoing, labeller, sources)
    description.incoming = _facts(incoming, labeller, sources)
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


def restored_text(repository: Repository, iri: str, text: str) -> str | None:
    """``text`` with the OCR-damaged names of bodies and documents it quotes restored.

    The source graph records how each body and document was written (``kg:mentionedAs``);
    in a source with OCR misreadings (look-alike signs and digits inside words, which
    ``ocr_fold`` repairs), each spelling is replaced by the canonical name from the reference list
    (``skos:prefLabel``) or the canonical number (``eli:id_local``). Only a source with OCR
    damage is restored (its every differing mention); clean text gives None.
    """
    if _UNSAFE_IRI.search(iri):
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


def _table(repository: Repository, name: str, number: str, labeller: Labeller) -> Table:
    result = repository.query(named_queries()[name].render({"doc": number}))
    labeller.load({str(t) for row in result.rows for t in row if isinstance(t, URIRef)})
    rows = [[None if t is None else labeller.term(t) for t in row] for row in result.rows]
    return Table(name, list(result.variables), rows)


def document_tables(
    repository: Repository, iri: str, number: str, labeller: Labeller
) -> dict[str, Table]:
    """Lineage up and down and the assignments of a document, from the named queries.

    The assignments query also lists the plans carrying the document out; they are split into
    a table of their own so that "its assignments" means this document's.
    """
    tables = {
        name: _table(repository, name, number, labeller)
        for name in ("lineage", "implementers", "assignments")
    }
    everything = tables.pop("assignments")
    column = everything.columns.index("assignment")
    own_prefix = iri + "/"

    def is_own(row: list[Term | None]) -> bool:
        cell = row[column]
        return cell is not None and (cell.iri or "").startswith(own_prefix)

    tables["assignments"] = Table(
        "assignments", everything.columns, [r for r in everything.rows if is_own(r)]
    )
    tables["downstream_assignments"] = Table(
        "downstream_assignments", everything.columns, [r for r in everything.rows if not is_own(r)]
    )
    return tables


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
    for s, p, o, _ in resource_dataset(repository, iri).quads():
        graph.add((s, p, o))
    return graph
