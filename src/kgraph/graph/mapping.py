"""Graph mapping: one extracted document becomes one named graph of triples.

Everything a source states goes into that source's graph, including what it says about other
documents (their issuer, their date, what they carry out), so conflicting statements from two
sources stay side by side and "who says so" is always answerable.
"""

from __future__ import annotations

import base64
import functools
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS as _DCTERMS
from rdflib.namespace import PROV as _PROV
from rdflib.namespace import RDF as _RDF
from rdflib.namespace import RDFS as _RDFS
from rdflib.namespace import SKOS as _SKOS
from rdflib.namespace import XSD as _XSD

from kgraph.graph import iris, vocab
from kgraph.graph.vocab import PREFIXES
from kgraph.ingest.model import (
    AddresseeKind,
    AgencyMention,
    Assignment,
    Division,
    DocumentRef,
    PlanDocument,
    Relation,
    ReportingDuty,
    Span,
    Target,
    Task,
)
from kgraph.ingest.text import nfc, slugify
from kgraph.reference.matching import COMMUNE, COMMUNE_LEVEL, default_matcher
from kgraph.resources import shipped_doctypes


class _Terms:
    """A namespace whose terms are made once: rdflib builds a new URIRef on every attribute
    access (``KG.text``), a tenth of the mapping time of a plan."""

    def __init__(self, namespace: Any) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> URIRef:
        term = URIRef(self._namespace[name])
        setattr(self, name, term)
        return term

    def __getitem__(self, name: str) -> URIRef:
        return getattr(self, name)  # type: ignore[no-any-return]


KG: Any = _Terms(vocab.KG)
ELI: Any = _Terms(vocab.ELI)
ORG: Any = _Terms(vocab.ORG)
RDF: Any = _Terms(_RDF)
RDFS: Any = _Terms(_RDFS)
SKOS: Any = _Terms(_SKOS)
DCTERMS: Any = _Terms(_DCTERMS)
PROV: Any = _Terms(_PROV)
XSD: Any = _Terms(_XSD)

RELATION_PROPERTY = {
    Relation.IMPLEMENTS: KG.implements,
    Relation.BASED_ON: ELI.based_on,
    Relation.CITES: ELI.cites,
}
KIND_CONCEPT = {
    AddresseeKind.AGENCY: KG.Agency,
    AddresseeKind.COLLECTIVE: KG.Collective,
    AddresseeKind.GENERAL: KG.General,
}
FREQUENCY_CONCEPT = {
    "once": KG.Once,
    "daily": KG.Daily,
    "twice daily": KG.TwiceDaily,
    "weekly": KG.Weekly,
    "monthly": KG.Monthly,
    "quarterly": KG.Quarterly,
    "semiannual": KG.Semiannual,
    "annual": KG.Annual,
    "ad hoc": KG.Irregular,
    "periodic": KG.Periodic,
}


Triple = tuple[URIRef, URIRef, URIRef | Literal]


@dataclass(frozen=True)
class DocumentGraph:
    """A document's IRI, the name of its graph and the triples in it.

    The mapper collects plain triples (an rdflib ``Graph`` costs ~20 µs an ``add``, a third of
    the build's time per plan); :attr:`graph` is built from them on first use. It is a view:
    what is added to it does not change the document's triples.
    """

    document: URIRef
    name: URIRef
    triples: tuple[Triple, ...]
    lines: tuple[str, ...] = ()  # the triples' N-Triples lines, when the mapper wrote them

    @functools.cached_property
    def graph(self) -> Graph:
        graph = Graph()
        for triple in self.triples:
            graph.add(triple)
        return graph

    @functools.cached_property
    def index(self) -> TripleIndex:
        return TripleIndex(self.triples)

    def __len__(self) -> int:
        return len(self.triples)

    def to_trig(self) -> str:
        """Deterministic TriG of this one graph (diff-able in data/ttl): Oxigraph's writer, ten
        times faster than rdflib's; triples in N-Triples order, grouped by subject, with the
        vocabulary prefixes the graph uses (full IRIs for kgraph's own resources)."""
        return trig(str(self.name), self.to_ntriples())

    def to_ntriples(self) -> str:
        """The same text as :func:`kgraph.resources.as_ntriples` of :attr:`graph` (sorted
        lines, rdflib's escaping), written straight from the triples."""
        return "".join(sorted(self.lines or map(ntriples_line, self.triples)))


def trig(graph: str, ntriples: str) -> str:
    """TriG of one named graph given as N-Triples (see :meth:`DocumentGraph.to_trig`)."""
    import pyoxigraph as ox

    name = ox.NamedNode(graph)
    quads = [ox.Quad(t.subject, t.predicate, t.object, name)
             for t in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)]
    prefixes = {prefix: str(ns) for prefix, ns in PREFIXES.items()
                if prefix != "id" and f"<{ns}" in ntriples}
    return ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=prefixes).decode("utf-8")


class _KindOf(dict[type, bool]):
    """Whether a term's type is (a subclass of) one rdflib class, answered once per type.

    rdflib's terms have an ABC metaclass, so ``isinstance`` runs Python code on every call;
    the mapper and the index ask it for every triple of every plan."""

    def __init__(self, cls: type) -> None:
        super().__init__()
        self.cls = cls

    def __missing__(self, kind: type) -> bool:
        self[kind] = issubclass(kind, self.cls)
        return self[kind]


IS_LITERAL = _KindOf(Literal)  # IS_LITERAL[type(term)] == isinstance(term, Literal)
_IS_BNODE = _KindOf(BNode)


LITERALS_KEPT = 8192  # literals remembered with their N-Triples text (a plan states ~1,000)
_LITERALS: dict[tuple[type, object, str | None], tuple[Literal, str]] = {}


def literal_nt(value: object, lang: str | None = None) -> tuple[Literal, str]:
    """``Literal(value, lang=lang)`` and its N-Triples text, made once per value (and type: 1
    is not True): rdflib makes a literal in 3 µs, and a plan states a thousand, four in five
    of them seen before (offsets, line numbers, flags, labels); the text is escaped once."""
    if type(value) is int and lang is None:
        return _integer_nt(value)
    key = (type(value), value, lang)
    found = _LITERALS.get(key)
    if found is None:
        if len(_LITERALS) >= LITERALS_KEPT:  # bounded: a worker maps thousands of plans
            _LITERALS.clear()
        term = Literal(value, lang=lang)
        found = _LITERALS[key] = (term, literal_text(term))
    return found


INTEGERS_KEPT = 1 << 16  # integer literals remembered: offsets run to a plan's length
_INTEGERS: dict[int, tuple[Literal, str]] = {}


def _integer_nt(value: int) -> tuple[Literal, str]:
    """:func:`literal_nt` of an integer, remembered apart: a plan's offsets are spread over
    its length, and among its other literals they pushed one another out of the common table
    (70 misses a plan of 90, 0.4 ms making literals again)."""
    found = _INTEGERS.get(value)
    if found is None:
        if len(_INTEGERS) >= INTEGERS_KEPT:
            _INTEGERS.clear()
        term = Literal(value)
        found = _INTEGERS[value] = (term, literal_text(term))
    return found


def literal(value: object, lang: str | None = None) -> Literal:
    """``Literal(value, lang=lang)``, one object per value while it is remembered
    (:func:`literal_nt`)."""
    return literal_nt(value, lang)[0]


def _quote(value: str) -> str:
    """A literal's lexical form quoted as rdflib's N-Triples serializer does."""
    return '"' + (value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
                  .replace("\r", "\\r")) + '"'


def literal_text(term: Literal) -> str:
    """A literal as an N-Triples object."""
    if term.language:
        return f"{_quote(term)}@{term.language}"
    if term.datatype:
        return f"{_quote(term)}^^<{term.datatype}>"
    return _quote(term)


# N-Triples lines are joined from their parts, not formatted: an f-string (or ``%``) copies
# each rdflib term (a str subclass) into a plain string first, ``str.join`` reads it as it is
# (0.3 µs a line, not 0.7: a plan's mapping writes 1,500 lines). The text is the same.
_join = "".join


def ntriples_line(triple: Triple) -> str:
    """One N-Triples line (no blank nodes: a document graph has none)."""
    s, p, o = triple
    if IS_LITERAL[type(o)]:
        return _join(("<", s, "> <", p, "> ", literal_text(o), " .\n"))  # type: ignore[arg-type]
    return _join(("<", s, "> <", p, "> <", o, "> .\n"))


class TripleIndex:
    """Subject and predicate lookups over a document's triples: what audit labels and the fast
    SHACL engine need from a graph, at dictionary speed (``objects``/``value`` as rdflib's).

    Keys are plain strings (an rdflib term hashes in Python, a string in C); values are the
    terms. ``into`` holds IRI objects only (literals are never looked up backwards)."""

    def __init__(self, triples: Iterable[Triple]) -> None:
        self.out: dict[str, dict[str, list[Any]]] = {}
        self.into: dict[str, dict[str, list[Any]]] = {}
        self.by_predicate: dict[str, list[tuple[Any, Any]]] = {}
        out, into, by_predicate, text = self.out, self.into, self.by_predicate, str.__str__
        is_literal = IS_LITERAL
        # a document's triples come a subject at a time, with a few dozen predicate objects:
        # each subject and predicate is looked up once per run, not once per triple
        last: object = None
        found: dict[str, list[Any]] = {}
        predicates: dict[int, tuple[object, str, list[tuple[Any, Any]]]] = {}  # by id(term)
        for s, p, o in triples:
            if s is not last:
                last, subject = s, text(s)
                found = out.get(subject)  # type: ignore[assignment]
                if found is None:
                    found = out[subject] = {}
            known = predicates.get(id(p))
            if known is None:  # the term is kept in the entry: its id is not reused meanwhile
                predicate = text(p)
                pairs = by_predicate.get(predicate)
                if pairs is None:
                    pairs = by_predicate[predicate] = []
                known = predicates[id(p)] = (p, predicate, pairs)
            predicate, pairs = known[1], known[2]
            values = found.get(predicate)
            if values is None:
                found[predicate] = [o]
            else:
                values.append(o)
            pairs.append((s, o))
            if not is_literal[type(o)]:  # no new dict or list made for a key already there
                key = text(o)
                backwards = into.get(key)
                if backwards is None:
                    into[key] = {predicate: [s]}
                else:
                    subjects = backwards.get(predicate)
                    if subjects is None:
                        backwards[predicate] = [s]
                    else:
                        subjects.append(s)

    def objects(self, subject: object, predicate: object) -> Iterator[Any]:
        return iter(self.out.get(str(subject), {}).get(str(predicate), ()))

    def subjects(self, predicate: object, obj: object) -> Iterator[Any]:
        return iter(self.into.get(str(obj), {}).get(str(predicate), ()))

    def value(self, subject: object, predicate: object) -> Any:
        found = self.out.get(str(subject), {}).get(str(predicate))
        return found[0] if found else None


class _Mapper:
    """Collects the triples of one document; small methods, one per part of the model."""

    def __init__(self, doc: PlanDocument) -> None:
        self.doc = doc
        self.graph: dict[str, Triple] = {}  # N-Triples line -> triple: an ordered set
        self.iri = iris.document_iri(doc.ident)
        self.by_number = {r.target.number: r.target for r in doc.references if r.target.number}
        self.divisions: dict[str, URIRef] = {}

    def add(self, s: URIRef, p: URIRef, o: URIRef | Literal | None) -> None:
        if o is not None:
            triple = (s, p, o)
            self.graph.setdefault(ntriples_line(triple), triple)

    def put(self, s: URIRef, p: URIRef, value: tuple[Literal, str]) -> None:
        """Add a literal made by :func:`literal_nt` (its text already escaped)."""
        self.graph.setdefault(_join(("<", s, "> <", p, "> ", value[1], " .\n")),
                              (s, p, value[0]))

    def text(self, s: URIRef, p: URIRef, value: str | None, lang: str | None = None) -> None:
        if value:
            self.put(s, p, literal_nt(nfc(value), lang))

    # ------------------------------------------------------------------ documents

    def document(self, ref: DocumentRef, iri: URIRef) -> None:
        self.add(iri, RDF.type, ELI.LegalResource)
        self.text(iri, ELI.id_local, ref.number)
        if ref.number:
            self.add(iri, KG.numberKey, Literal(iris.number_key(ref.number)))
        if ref.number_as_written and ref.number_as_written != ref.number:
            self.add(iri, KG.numberAsWritten, Literal(ref.number_as_written))
        if ref.date:
            self.add(iri, ELI.date_document, Literal(ref.date.isoformat(), datatype=XSD.date))
        if ref.type:
            concept = iris.doctype_iri(ref.type)
            self.add(iri, ELI.type_document, concept)
            if str(concept) not in shipped_doctypes():  # a type the ontology does not label
                self.text(concept, SKOS.prefLabel, ref.type, "vi")
        self.text(iri, ELI.title, ref.title, "vi")
        if ref.issuer:
            self.add(iri, ELI.passed_by, self.agent(ref.issuer))
        self.add(iri, KG.province, self.province(ref.province))

    def province(self, name: str | None) -> URIRef | None:
        if not name:
            return None
        iri = iris.province_iri(name)
        self.add(iri, RDF.type, KG.Province)
        self.text(iri, SKOS.prefLabel, name, "vi")
        return iri

    def agent(self, mention: AgencyMention) -> URIRef:
        iri = iris.agent_iri(mention, document=self.iri)
        self.text(iri, KG.mentionedAs, mention.raw)
        if not mention.resolved:
            self.add(iri, RDF.type, KG.UnresolvedMention)
            self.text(iri, RDFS.label, mention.raw, "vi")
            self.add(iri, KG.partOf, self.iri)
            return iri
        self.body(iri, mention)
        return iri

    def body(self, iri: URIRef, mention: AgencyMention) -> None:
        is_collective = mention.kind is AddresseeKind.COLLECTIVE
        self.add(iri, RDF.type, KG.CollectiveAddressee if is_collective else ORG.Organization)
        self.text(iri, SKOS.prefLabel, mention.canonical, "vi")
        self.add(iri, KG.referenceEntry, iris.ID[f"ref/{mention.reference_id}"])
        self.add(iri, KG.province, self.province(mention.province))
        if mention.commune:
            self.commune_body(iri, mention)

    def commune_body(self, iri: URIRef, mention: AgencyMention) -> None:
        """What a commune's body is, which the reference graph does not list (3,321 communes
        times their templates): its level, its commune (in its province) and the body it is
        part of (the same commune's, described the same way, or the province's, as its
        template's parent says)."""
        commune = iris.commune_iri(mention.province, mention.commune)
        self.add(commune, RDF.type, KG.LocalUnit)
        self.text(commune, SKOS.prefLabel, mention.commune, "vi")
        self.add(commune, KG.province, self.province(mention.province))
        self.add(iri, KG.commune, commune)
        self.add(iri, KG.level, KG.Commune)
        matcher = default_matcher()  # the one the extraction loaded: its templates' parents
        entry = matcher.entry(mention.reference_id or "")
        parent = matcher.entry(entry.parent) if entry and entry.parent else None
        if parent is not None:
            own = parent.level == COMMUNE_LEVEL
            whole = AgencyMention(raw=parent.label, reference_id=parent.ref_id,
                                  canonical=parent.label.replace(COMMUNE, mention.commune),
                                  province=mention.province,
                                  commune=mention.commune if own else None)
            parent_iri = iris.agent_iri(whole, document=self.iri)
            self.add(iri, ORG.subOrganizationOf, parent_iri)
            if own:  # no list has it: said here, as a plan naming it would
                self.body(parent_iri, whole)

    def ref_for(self, number: str) -> DocumentRef:
        return self.by_number.get(number) or DocumentRef(number=number)

    def references(self) -> None:
        for ref in self.doc.references:
            target = iris.document_iri(ref.target, cited_by=self.iri)
            self.document(ref.target, target)
            self.text(target, KG.mentionedAs, ref.span.text)
            self.add(self.iri, RELATION_PROPERTY[ref.relation], target)
        for lineage in self.doc.stated_lineage:
            subject = iris.document_iri(self.ref_for(lineage.subject))
            obj = iris.document_iri(self.ref_for(lineage.object))
            self.add(subject, RELATION_PROPERTY[lineage.relation], obj)

    # ------------------------------------------------------------------ parts of the plan

    def span(self, iri: URIRef, span: Span) -> None:
        self.put(iri, KG.sourceText, literal_nt(span.text))
        self.put(iri, KG.sourceStart, literal_nt(span.start))
        self.put(iri, KG.sourceEnd, literal_nt(span.end))
        self.put(iri, KG.sourceLine, literal_nt(span.line))
        self.add(iri, KG.partOf, self.iri)
        self.page(iri, span)

    def page(self, iri: URIRef, span: Span) -> None:
        """The page of the original a part stands on (and the OCR confidence of its lines)."""
        source = self.doc.source
        page = source.page_at(span.start) if source else None
        if page is not None:
            self.put(iri, KG.sourcePage, literal_nt(page.number))
            confidence = source.confidence_of(span.start, span.end)
            if confidence is not None:  # of the OCR lines the span covers
                self.add(iri, KG.ocrConfidence, _confidence(confidence))

    def item(self, iri: URIRef, cls: URIRef, no: str, text: str, span: Span) -> None:
        self.add(iri, RDF.type, cls)
        self.put(iri, KG.itemNumber, literal_nt(no))
        self.text(iri, KG.text, text)
        self.span(iri, span)

    def outline(self, divisions: list[Division], parent: URIRef) -> None:
        """The document's outline as ELI subdivisions, each with its number, title and span."""
        for division in divisions:
            iri = iris.subdivision_iri(self.iri, division.key)
            self.divisions[division.key] = iri
            self.add(iri, RDF.type, ELI.LegalResourceSubdivision)
            self.add(parent, ELI.has_part, iri)
            self.add(iri, ELI.is_part_of, parent)
            self.text(iri, ELI.number, division.number)
            self.text(iri, ELI.title, division.title, "vi")
            self.put(iri, KG.numbering, literal_nt(division.kind))
            self.text(iri, KG.text, division.text)
            self.span(iri, division.span)
            self.outline(division.children, iri)

    def in_division(self, iri: URIRef, key: str | None) -> None:
        """Hang a task, assignment or duty off the outline node it was read from."""
        if key is not None:
            self.add(iri, KG.inSubdivision, self.divisions.get(key))

    def roles(self, iri: URIRef, task: Task) -> None:
        for lead in task.lead:
            self.add(iri, KG.leadAgency, self.agent(lead))
        for coordinator in task.coordinators:
            self.add(iri, KG.coordinatingAgency, self.agent(coordinator))
        self.text(iri, KG.deadlineText, task.deadline, "vi")
        self.text(iri, KG.product, task.product, "vi")

    def tasks(self, tasks: list[Task], parent: URIRef | None, path: tuple[str, ...]) -> None:
        for task, segment in zip(tasks, path_segments(t.no for t in tasks), strict=True):
            iri = iris.part_iri(self.iri, "task", *path, segment)
            self.item(iri, KG.Task, task.no, task.text, task.span)
            self.text(iri, DCTERMS.title, task.title, "vi")
            self.text(iri, KG.section, self.doc.task_section)
            self.in_division(iri, task.division)
            self.roles(iri, task)
            if parent is None:
                self.add(self.iri, KG.hasTask, iri)
            else:
                self.add(parent, KG.subTask, iri)
            self.tasks(task.items, iri, (*path, segment))

    def table_tasks(self) -> None:
        """Rows of task tables: a task with its lead, coordinators and deadline."""
        for position, task in enumerate(self.doc.table_tasks, start=1):
            iri = iris.part_iri(self.iri, "task", "table", str(position))
            self.item(iri, KG.Task, task.no, task.text, task.span)
            self.add(self.iri, KG.hasTask, iri)
            self.in_division(iri, task.division)
            self.roles(iri, task)

    def assignment(self, assignment: Assignment, segment: str) -> None:
        iri = iris.part_iri(self.iri, "assignment", segment)
        self.item(iri, KG.Assignment, assignment.no, assignment.heading, assignment.span)
        self.add(self.iri, KG.hasAssignment, iri)
        self.text(iri, KG.section, assignment.section or self.doc.assignment_section)
        self.put(iri, KG.isRequest, literal_nt(assignment.requested))
        self.put(iri, KG.hasLeadClause, literal_nt(assignment.has_lead_clause))
        self.add(iri, KG.addresseeKind, KIND_CONCEPT[assignment.kind])
        self.in_division(iri, assignment.division)
        for mention in assignment.addressees:
            self.add(iri, KG.addressee, self.agent(mention))
        for position, duty in enumerate(assignment.duties, start=1):
            duty_iri = iris.part_iri(self.iri, "assignment", segment, "duty", str(position))
            self.item(duty_iri, KG.Duty, duty.no, duty.text, duty.span)
            self.add(iri, KG.hasDuty, duty_iri)
            self.in_division(duty_iri, duty.division)
            for lead in duty.lead:
                self.add(duty_iri, KG.leadAgency, self.agent(lead))
            for coordinator in duty.coordinators:
                self.add(duty_iri, KG.coordinatingAgency, self.agent(coordinator))

    def reporting(self, index: int, duty: ReportingDuty) -> None:
        iri = iris.part_iri(self.iri, "reporting", str(index))
        self.add(iri, RDF.type, KG.ReportingDuty)
        self.add(self.iri, KG.hasReportingDuty, iri)
        self.span(iri, duty.span)
        for frequency in re.split(r" and | or ", duty.frequency or ""):  # "annual or ad hoc"
            self.add(iri, KG.frequency, FREQUENCY_CONCEPT.get(frequency))
        if duty.due_day_month:
            day, month = duty.due_day_month
            month_day = Literal(f"--{month:02d}-{day:02d}", datatype=XSD.gMonthDay)
            self.add(iri, KG.dueDayMonth, month_day)
        if duty.due_date:
            self.add(iri, KG.dueDate, Literal(duty.due_date.isoformat(), datatype=XSD.date))
        for recipient in duty.recipients:
            self.add(iri, KG.reportTo, self.agent(recipient))
        if duty.via:
            self.add(iri, KG.reportVia, self.agent(duty.via))
        if duty.reporter:
            self.add(iri, KG.reporter, self.agent(duty.reporter))

    def target(self, index: int, target: Target) -> None:
        iri = iris.part_iri(self.iri, "target", str(index))
        self.item(iri, KG.Target, str(index), target.text, target.span)
        self.add(self.iri, KG.hasTarget, iri)
        if target.value is not None:
            self.add(iri, KG.targetValue, Literal(format(target.value, "f"), datatype=XSD.decimal))
        self.text(iri, KG.unit, target.unit)

    # ------------------------------------------------------------------ the whole document

    def provenance(self, graph_name: URIRef) -> None:
        source = iris.source_file_iri(self.doc.source_sha256)
        self.add(source, RDF.type, KG.SourceFile)
        self.add(source, DCTERMS.title, Literal(self.doc.source_name))
        self.add(source, KG.sha256, Literal(self.doc.source_sha256))
        self.add(self.iri, KG.sourceFile, source)
        self.add(graph_name, PROV.wasDerivedFrom, source)
        self.put(self.iri, KG.ocrDamaged, literal_nt(self.doc.ocr_damaged))
        self.put(self.iri, KG.isPartial, literal_nt(self.doc.partial))
        self.original(source)
        signature = self.doc.signature
        self.text(self.iri, KG.signerName, signature.name)
        self.text(self.iri, KG.signerTitle, signature.title)
        self.text(self.iri, KG.place, self.doc.place)

    def original(self, source: URIRef) -> None:
        """A file that is not plain text (PDF, Word, scan, HTML) travels in its graph, so the
        store can serve it back and a reader can open the page a statement came from."""
        read = self.doc.source
        if read is None or read.format == "text":
            return
        self.add(source, DCTERMS["format"], Literal(read.media_type))
        self.add(source, KG.readAs, Literal(read.format))
        self.add(source, KG.content, Literal(base64.b64encode(read.original).decode("ascii"),
                                             datatype=XSD.base64Binary))
        for page in read.pages:
            iri = URIRef(f"{source}/page/{page.number}")
            self.add(iri, RDF.type, KG.SourcePage)
            name = self.doc.source_name
            self.add(iri, RDFS.label, Literal(f"trang {page.number} của {name}", lang="vi"))
            self.add(iri, RDFS.label, Literal(f"page {page.number} of {name}", lang="en"))
            self.add(iri, KG.pageOf, source)
            self.add(iri, KG.pageNumber, Literal(page.number))
            self.add(iri, KG.pageIndex, Literal(page.index))
            if page.confidence is not None:
                self.add(iri, KG.ocrConfidence, _confidence(page.confidence))
                self.add(iri, KG.needsReview, Literal(page.needs_review))

    def run(self) -> DocumentGraph:
        name = iris.graph_iri(self.iri)
        self.document(self.doc.ident, self.iri)
        self.provenance(name)
        self.references()
        self.outline(self.doc.outline, self.iri)
        self.tasks(self.doc.tasks, None, ())
        self.table_tasks()
        numbers = path_segments(a.no for a in self.doc.assignments)
        for assignment, segment in zip(self.doc.assignments, numbers, strict=True):
            self.assignment(assignment, segment)
        for index, duty in enumerate(self.doc.reporting, start=1):
            self.reporting(index, duty)
        for index, target in enumerate(self.doc.targets, start=1):
            self.target(index, target)
        kinds = set(map(type, itertools.chain.from_iterable(self.graph.values())))
        assert not any(_IS_BNODE[kind] for kind in kinds)
        return DocumentGraph(self.iri, name, tuple(self.graph.values()), tuple(self.graph))


def _confidence(value: float) -> Literal:
    return Literal(f"{value:.1f}", datatype=XSD.decimal)


def path_segments(numbers: Iterable[str]) -> list[str]:
    """IRI segments for sibling items: their own number ("2", "b") when it is a usable, unique
    one, else their position, so bullets ("-", "+") never collapse into one node."""
    numbers = list(numbers)
    slugs = [slugify(n) for n in numbers]
    usable = all(slugs) and len(set(slugs)) == len(slugs)
    return slugs if usable else [str(i) for i in range(1, len(numbers) + 1)]


def document_graph(doc: PlanDocument) -> DocumentGraph:
    """Map one extracted document to its named graph."""
    return _Mapper(doc).run()
