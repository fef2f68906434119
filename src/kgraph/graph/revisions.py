"""Earlier versions of a document's graph, kept in the store when a new source replaces it.

Re-ingesting a plan replaces its named graph. The graph it replaces is not thrown away: it is
kept, as N-Triples, in the ``prov:value`` of a revision entity in the document's revisions
graph (``id/graph/revisions/...``), so its statements stay out of the union default graph
(queries see one version of each document) but remain in the store, listable and restorable::

    <id/graph/X> prov:wasRevisionOf <id/graph/X/revision/SHA> .
    <id/graph/X/revision/SHA> a prov:Entity ; prov:specializationOf <id/doc/X> ;
        kg:sha256 "SHA" ; prov:invalidatedAtTime "..."^^xsd:dateTime ; prov:value "N-Triples" ;
        prov:wasRevisionOf <the revision before it> .
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, XSD

from kgraph.graph.vocab import ID, KG, sparql_prefixes
from kgraph.resources import as_ntriples
from kgraph.store.embedded import Repository


def revisions_graph_iri(graph: str) -> str:
    return graph.replace(str(ID) + "graph/", str(ID) + "graph/revisions/", 1)


def _graph_ntriples(repo: Repository, graph: str) -> tuple[str, str]:
    """The graph's N-Triples and the SHA-256 of the source it was made from."""
    result = repo.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    data = Graph()
    for triple in result.triples:
        data.add(triple)
    sha = next((str(o) for o in data.objects(None, KG.sha256)), "")
    return (as_ntriples(data) if len(data) else ""), sha


def snapshot(repo: Repository, graph: str, document: str) -> dict[str, str]:
    """The revisions graph of ``graph`` with its current content added as a revision
    ({} when the graph is empty); the caller writes it with the new version of the graph."""
    ntriples, sha = _graph_ntriples(repo, graph)
    if not ntriples:
        return {}
    name = revisions_graph_iri(graph)
    history = Graph()
    result = repo.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}")
    for triple in result.triples:
        history.add(triple)
    revision = URIRef(f"{graph}/revision/{sha[:16] or 'unknown'}")
    previous = list(history.objects(URIRef(graph), PROV.wasRevisionOf))
    history.remove((URIRef(graph), PROV.wasRevisionOf, None))
    history.remove((revision, None, None))
    history.add((URIRef(graph), PROV.wasRevisionOf, revision))
    history.add((revision, RDF.type, PROV.Entity))
    history.add((revision, PROV.specializationOf, URIRef(document)))
    history.add((revision, KG.sha256, Literal(sha)))
    history.add((revision, PROV.invalidatedAtTime,
                 Literal(datetime.now(UTC).isoformat(timespec="seconds"), datatype=XSD.dateTime)))
    history.add((revision, PROV.value, Literal(ntriples)))
    for earlier in previous:
        if earlier != revision:
            history.add((revision, PROV.wasRevisionOf, earlier))
    return {name: as_ntriples(history)}


@dataclass(frozen=True)
class Revision:
    iri: str
    document: str
    number: str
    sha256: str
    replaced: str
    triples: int


def list_revisions(repo: Repository, number_key: str | None = None) -> list[Revision]:
    """Every kept revision (or those of the document with this number key), newest first."""
    scope = f'?document kg:numberKey "{number_key}" .' if number_key else ""
    rows = repo.query(sparql_prefixes() + f"""
        SELECT ?revision ?document (SAMPLE(?n) AS ?number) ?sha ?replaced ?value WHERE {{
          ?revision a prov:Entity ; prov:specializationOf ?document ; kg:sha256 ?sha ;
                    prov:invalidatedAtTime ?replaced ; prov:value ?value .
          {scope}
          OPTIONAL {{ ?document eli:id_local ?n }}
        }} GROUP BY ?revision ?document ?sha ?replaced ?value
        ORDER BY DESC(?replaced)""").records()
    return [Revision(r["revision"] or "", r["document"] or "", r["number"] or "",
                     r["sha"] or "", r["replaced"] or "",
                     (r["value"] or "").count("\n")) for r in rows]


def revision_ntriples(repo: Repository, revision: str) -> str:
    rows = repo.query(f"SELECT ?v WHERE {{ <{revision}> <{PROV.value}> ?v }} LIMIT 1").rows
    return str(rows[0][0]) if rows else ""
