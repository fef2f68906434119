"""SPARQL 1.1 Service Description, answered on ``GET /sparql`` without a query.

Tells clients (and YASGUI) what the endpoint speaks: languages, result formats, that the default
graph is the union of the named graphs, and which named graphs exist. Federation is deliberately
not advertised: SERVICE is refused.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from kgraph.web.query_workers import negotiate

FORMATS = "http://www.w3.org/ns/formats/"
RESULT_FORMATS = [
    "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
    "Turtle", "N-Triples", "RDF_XML", "JSON-LD", "TriG", "N-Quads",
]


def description_turtle(endpoint: str, graphs: Iterable[str], *, writable: bool) -> str:
    """The description as Turtle text."""
    languages = "sd:SPARQL11Query" + (", sd:SPARQL11Update" if writable else "")
    formats = ", ".join(f"<{FORMATS}{name}>" for name in RESULT_FORMATS)
    named = "".join(
        f"\n        sd:namedGraph [ a sd:NamedGraph ; sd:name <{g}> ] ;" for g in graphs
    )
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<{endpoint}> a sd:Service ;
    rdfs:label "kgraph SPARQL endpoint" ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage {languages} ;
    sd:resultFormat {formats} ;
    sd:feature sd:UnionDefaultGraph ;
    sd:defaultDataset [
        a sd:Dataset ;
        sd:defaultGraph [ a sd:Graph ] ;{named}
    ] .
"""


def service_description(
    endpoint: str, graphs: Iterable[str], *, writable: bool, accept: str | None,
    format_param: str | None = None,
) -> tuple[bytes, str]:
    """The description serialised in the RDF format the client negotiated."""
    fmt = negotiate(True, accept, format_param)
    turtle = description_turtle(endpoint, graphs, writable=writable)
    if fmt.native == ox.RdfFormat.TURTLE:
        return turtle.encode("utf-8"), fmt.media_type
    quads = ox.parse(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE)
    if fmt.native not in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS):
        quads = (q.triple for q in quads)
    body = ox.serialize(quads, format=fmt.native) or b""
    return body, fmt.media_type
