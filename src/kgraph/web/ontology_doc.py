"""``/def``: the kgraph vocabulary documented at its namespace.

``https://w3id.org/kgraph/def#Assignment`` resolves to ``/def#Assignment``: an HTML page of
every class and property with its labels and definitions (Vietnamese or ``?lang=en``), or the
ontology itself as Turtle for ``Accept: text/turtle`` or ``?format=turtle``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import Response
from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib.namespace import SKOS

from kgraph.graph.vocab import KG, PREFIXES
from kgraph.paths import resource_dir

router = APIRouter(tags=["ontology"])
KINDS = (  # (rdf:type, section id)
    (OWL.Class, "classes"), (RDFS.Class, "classes"),
    (OWL.ObjectProperty, "object-properties"), (OWL.DatatypeProperty, "datatype-properties"),
    (RDF.Property, "other-properties"), (OWL.AnnotationProperty, "other-properties"),
)


@dataclass
class TermDoc:
    name: str
    iri: str
    kind: str
    labels: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)
    domain: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)


def ontology_file() -> str:
    return str(resource_dir("ontology") / "kgraph.ttl")


@lru_cache(maxsize=1)
def ontology_turtle() -> str:
    with open(ontology_file(), encoding="utf-8") as handle:
        return handle.read()


def _short(iri: URIRef) -> str:
    text = str(iri)
    for prefix, namespace in PREFIXES.items():
        if text.startswith(namespace):
            return f"{prefix}:{text[len(namespace):]}"
    return text


@lru_cache(maxsize=1)
def ontology_terms() -> tuple[TermDoc, ...]:
    """Every ``kg:`` term of the ontology, classes first, each kind sorted by name."""
    graph = Graph().parse(data=ontology_turtle(), format="turtle")
    terms: dict[str, TermDoc] = {}
    for rdf_type, kind in KINDS:
        for subject in graph.subjects(RDF.type, rdf_type):
            if not isinstance(subject, URIRef) or not str(subject).startswith(str(KG)):
                continue
            name = str(subject)[len(str(KG)):]
            doc = terms.setdefault(name, TermDoc(name, str(subject), kind))
            for label in graph.objects(subject, RDFS.label):
                doc.labels[getattr(label, "language", None) or "en"] = str(label)
            for predicate in (SKOS.definition, RDFS.comment):
                for text in graph.objects(subject, predicate):
                    doc.definitions.setdefault(getattr(text, "language", None) or "en",
                                               str(text))
            doc.parents = sorted(_short(o) for p in (RDFS.subClassOf, RDFS.subPropertyOf)
                                 for o in graph.objects(subject, p) if isinstance(o, URIRef))
            doc.domain = sorted(_short(o) for o in graph.objects(subject, RDFS.domain)
                                if isinstance(o, URIRef))
            doc.range = sorted(_short(o) for o in graph.objects(subject, RDFS.range)
                               if isinstance(o, URIRef))
    order = {kind: i for i, (_, kind) in enumerate(KINDS)}
    return tuple(sorted(terms.values(), key=lambda t: (order[t.kind], t.name.lower())))


def wants_turtle(request: Request) -> bool:
    asked = request.query_params.get("format", "").lower()
    if asked:
        return asked in ("ttl", "turtle")
    accept = request.headers.get("accept", "").lower()
    return "text/turtle" in accept and "text/html" not in accept


@router.get("/def", summary="The kgraph vocabulary (HTML, or Turtle by content negotiation)")
def definitions(request: Request) -> Response:
    """Classes and properties of ``kg:`` with labels (vi, en) and definitions."""
    if wants_turtle(request):
        response: Response = Response(ontology_turtle(), media_type="text/turtle; charset=utf-8")
    else:
        from kgraph.web.pages import render

        terms = ontology_terms()
        sections = []
        for _, kind in KINDS:
            if any(s[0] == kind for s in sections):
                continue
            members = [t for t in terms if t.kind == kind]
            if members:
                sections.append((kind, members))
        response = render(request, "def.html", sections=sections, namespace=str(KG))
    response.headers["Vary"] = "Accept"
    return response
