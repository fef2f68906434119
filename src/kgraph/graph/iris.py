"""IRIs minted from content, so the same thing gets the same node whoever mentions it.

A document's IRI is built from its scope (the province of a provincial issuer, else ``vn``),
its number and its year: "28-CT/TW" cited by four plans is one node, "28/CT-TTg" of 2025 is
another, and "234/KH-UBND" of Kiên Giang is not "234/KH-UBND" of Gia Lai. Parts of a plan
(tasks, assignments, duties) hang below the plan's IRI.
"""

from __future__ import annotations

import hashlib
import re

from rdflib import URIRef

from kgraph.graph.vocab import ID
from kgraph.ingest.model import AgencyMention, DocumentRef
from kgraph.ingest.text import slugify

NATIONAL = "vn"
_YEAR_IN_NUMBER = re.compile(r"/((?:19|20)\d\d)/")


def scope_of(province: str | None) -> str:
    return slugify(province) if province else NATIONAL


def number_key(number: str) -> str:
    """Lookup key for a document number however it is typed ("28-CT/TW" -> "28-ct-tw")."""
    return slugify(number)


def document_year(ref: DocumentRef) -> int | None:
    if ref.date is not None:
        return ref.date.year
    if ref.number:
        found = _YEAR_IN_NUMBER.search(ref.number)
        if found:
            return int(found.group(1))
    return None


def document_iri(ref: DocumentRef, *, cited_by: URIRef | None = None) -> URIRef:
    """IRI of a document from its scope, number and year.

    A document with no legible number can only be named relative to the plan that cites it.
    """
    if not ref.number:
        if cited_by is None:
            raise ValueError("a document without a number needs the citing document")
        written = ref.number_as_written or ref.title or ""
        digest = hashlib.sha1(written.encode("utf-8")).hexdigest()[:10]
        return URIRef(f"{cited_by}/unnumbered/{digest}")
    year = document_year(ref)
    tail = f"/{year}" if year else ""
    return ID[f"doc/{scope_of(ref.province)}/{number_key(ref.number)}{tail}"]


def graph_iri(document: URIRef) -> URIRef:
    """The named graph holding what one source document states."""
    return URIRef(str(document).replace(str(ID) + "doc/", str(ID) + "graph/", 1))


def source_file_iri(sha256: str) -> URIRef:
    return ID[f"source/{sha256[:16]}"]


def province_iri(name: str) -> URIRef:
    return ID[f"province/{slugify(name)}"]


def commune_iri(province: str | None, commune: str) -> URIRef:
    """A commune by its province and its name with its unit word: ``commune/dak-lak/xa-ea-kly``."""
    return ID[f"commune/{scope_of(province)}/{slugify(commune)}"]


def doctype_iri(type_name: str) -> URIRef:
    return ID[f"doctype/{slugify(type_name)}"]


def agent_iri(mention: AgencyMention, *, document: URIRef) -> URIRef:
    """An organization (or collective addressee) by reference entry and province.

    Unresolved mentions are named below the document that mentions them, from their raw text,
    so they never merge with a canonical body by accident.
    """
    if mention.reference_id is None:
        return URIRef(f"{document}/mention/{slugify(mention.raw)[:80] or 'unnamed'}")
    if mention.commune and mention.canonical:  # one commune's body, by its whole name, so
        # that its name finds it as a province's body's name does ("cong-an-xa-ea-kly")
        return ID[f"org/{scope_of(mention.province)}/{slugify(mention.canonical)}"]
    return ID[f"org/{scope_of(mention.province)}/{mention.reference_id}"]


def part_iri(document: URIRef, kind: str, *numbers: str) -> URIRef:
    """Task, assignment, duty ... of a document: ``{doc}/task/2/b``."""
    path = "/".join(slugify(n) or "0" for n in numbers)
    return URIRef(f"{document}/{kind}/{path}")


def subdivision_iri(document: URIRef, key: str) -> URIRef:
    """A node of the document's outline: ``{doc}/part/iv/1/b2`` for "IV.1.b2"."""
    path = "/".join(slugify(segment) or "0" for segment in key.split("."))
    return URIRef(f"{document}/part/{path}")


def directive_graph_iri(directive_iri: str) -> str:
    """``id/graph/directive-coverage/{scope}/{number}/{year}`` for the directive ``id/doc/...``."""
    return directive_iri.replace(str(ID) + "doc/", str(ID) + "graph/directive-coverage/", 1)


def province_graph_iri(directive_iri: str, province: str) -> str:
    """``.../directive-coverage/{scope}/{number}/{year}/province/{slug}``."""
    return f"{directive_graph_iri(directive_iri)}/province/{slugify(province)}"
