"""The lineage graph as a networkx DiGraph: directives down to the agencies that carry them out.

Edges point *down* the chain of responsibility (parent -> child), whatever the RDF direction:
a directive -> the plan carrying it out -> its assignments and duties -> the agencies named.
"Down" from a node is then its descendants and "up" its ancestors, which is all the explorer,
the static export and the path finder need. The graph is loaded with a handful of SELECTs.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import pyoxigraph as ox

from kgraph.graph.vocab import ID, KG, sparql_prefixes
from kgraph.ingest.text import nfc
from kgraph.store.embedded import OxigraphRepository, Repository, query_records, writable_iri

if TYPE_CHECKING:  # imported where a graph is made: a one-plan build's page data makes none
    import networkx as nx

Direction = Literal["up", "down"]

# Relations drawn as edges; "cites" is kept but not followed when walking the lineage.
FLOW_RELATIONS = frozenset(
    {
        "implements",
        "based_on",
        "task",
        "subtask",
        "assignment",
        "duty",
        "addressee",
        "request",
        "lead",
        "coordinate",
    }
)
RELATION_LABELS: dict[str, str] = {
    "implements": "thực hiện",
    "based_on": "căn cứ",
    "cites": "trích dẫn",
    "task": "nhiệm vụ",
    "subtask": "nhiệm vụ con",
    "assignment": "phân công",
    "duty": "nhiệm vụ được giao",
    "addressee": "được giao",
    "request": "đề nghị",
    "lead": "chủ trì",
    "coordinate": "phối hợp",
    "province": "thuộc tỉnh",
}
KIND_LABELS: dict[str, str] = {
    "document": "Văn bản",
    "task": "Nhiệm vụ",
    "assignment": "Phân công",
    "duty": "Nhiệm vụ được giao",
    "agency": "Cơ quan",
    "collective": "Đối tượng tập thể",
    "mention": "Cơ quan chưa xác định",
    "province": "Tỉnh, thành phố",
}
AGENT_KINDS = frozenset({"agency", "collective", "mention"})
_DOCUMENT, _PROVINCE = frozenset({"document"}), frozenset({"province"})
_LABEL_MAX = 48
_LABELLED = frozenset({"type_document", "passed_by", "province"})  # objects named by prefLabel


@dataclass
class Node:
    """What the explorer shows for one resource; tooltips and panels use these fields as text."""

    iri: str
    kind: str
    label: str
    text: str = ""
    source_text: str = ""
    number: str = ""
    doctype: str = ""
    province: str = ""
    year: str = ""
    document: str = ""
    flags: list[str] = field(default_factory=list)

    @property
    def page(self) -> str:
        """Path of the linked-data page of this IRI (``/id/...``) or '' outside our namespace."""
        base = str(ID)
        return "/id/" + self.iri[len(base) :] if self.iri.startswith(base) else ""

    def tooltip(self) -> str:
        """Plain-text tooltip (rendered with textContent, never as HTML)."""
        head = KIND_LABELS.get(self.kind, self.kind)
        if self.doctype and self.kind == "document":
            head = self.doctype
        lines = [f"{head}: {self.number or self.label}"]
        lines += [v for v in (self.text, self.province) if v]
        lines += [f"⚠ {flag}" for flag in self.flags]
        return "\n".join(lines)


def _short(text: str, limit: int = _LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# A document's facts, one DISTINCT read a property (a document cited by 34 plans is stated in
# 34 graphs: OPTIONALs over those copies would multiply into millions of rows), of the subjects
# with a number only (the others make no document node: a plan part has a title and an agent a
# province, 80,000 and 11,000 rows at 2,000 plans), the names of the objects apart. Virtuoso
# never answered the six properties in one query (a VALUES or a UNION of them: over 120 s at
# 2,000 plans, each alone 0.3-0.7 s).
_DOCUMENT_PROPERTIES = ("id_local", "title", "date_document", "type_document", "passed_by",
                        "province")
# The numbered subjects first, each once: joined to the fact as two patterns, every restated copy
# of a document's number met every copy of its fact (a directive cited by thousands of plans).
_DOCUMENT_FACT = ("SELECT DISTINCT ?doc ?o WHERE { { SELECT DISTINCT ?doc WHERE "
                  "{ ?doc eli:id_local ?number } } ?doc <%s> ?o }")
_DOCUMENT_NUMBER = "SELECT DISTINCT ?doc ?o WHERE { ?doc eli:id_local ?o }"
# Facts different sources state differently (as the ``conflicts`` named query reports them).
_CONFLICTING = {
    "passed_by": "issuer / cơ quan ban hành",
    "date_document": "date / ngày ban hành",
    "type_document": "type / loại văn bản",
}
# ``STR(?requested)``: "true" or "false" on every store, which Virtuoso's CSV quotes (a stored
# boolean is written there 1 or 0: kgraph.store.remote.RemoteRepository.records).
_PARTS = """
SELECT DISTINCT ?part ?type ?doc ?item ?text ?source ?request
WHERE {
  VALUES ?type { kg:Task kg:Assignment kg:Duty }
  ?part a ?type ; kg:partOf ?doc .
  OPTIONAL { ?part kg:itemNumber ?item }
  OPTIONAL { ?part kg:text ?text }
  OPTIONAL { ?part kg:sourceText ?source }
  OPTIONAL { ?part kg:isRequest ?requested }
  BIND(STR(?requested) AS ?request)
}
"""
# Agents are restated in the graph of every source that names them (a Sở named by 2,000 plans
# has 2,000 copies of its type, label and province): one OPTIONAL join over those copies
# multiplied them into minutes. Each fact is read DISTINCT on its own and joined here. Only
# agents some document states: the reference graph holds every body of every province, and the
# lineage is about the ones the plans name.
_AGENT_TYPES = """
SELECT DISTINCT ?agent ?type WHERE {
  VALUES ?type { org:Organization kg:CollectiveAddressee kg:UnresolvedMention }
  GRAPH ?stated { ?agent a ?type . }
  FILTER(?stated != <https://w3id.org/kgraph/id/graph/reference>)
}
"""
# One branch a property: with ``VALUES ?p`` the engine read every statement of the four
# properties (each plan part's kg:partOf among them) before joining the agents. The property is
# named by its local name (what :func:`_agent_rows` keys the facts by), not its IRI: at 20,000
# plans 110,000 rows, whose IRIs were 3.6 of Virtuoso's 19.6 MB answer.
_AGENT_FACTS = """
SELECT DISTINCT ?agent ?p ?o WHERE {
  { SELECT DISTINCT ?agent WHERE {
      VALUES ?type { org:Organization kg:CollectiveAddressee kg:UnresolvedMention }
      GRAPH ?stated { ?agent a ?type . }
      FILTER(?stated != <https://w3id.org/kgraph/id/graph/reference>) } }
  { ?agent skos:prefLabel ?o BIND("prefLabel" AS ?p) FILTER(LANG(?o) = "vi" || LANG(?o) = "") }
  UNION { ?agent rdfs:label ?o BIND("label" AS ?p) }
  UNION { ?agent kg:province ?o BIND("province" AS ?p) }
  UNION { ?agent kg:partOf ?o BIND("partOf" AS ?p) }
}
"""
_PROVINCES = """
SELECT ?province (MIN(?l) AS ?label) WHERE {
  { SELECT DISTINCT ?province WHERE {
      GRAPH ?stated { ?x kg:province ?province . }
      FILTER(?stated != <https://w3id.org/kgraph/id/graph/reference>) } }
  { SELECT DISTINCT ?province ?l WHERE {
      { SELECT DISTINCT ?province WHERE { ?province a kg:Province } }
      ?province skos:prefLabel ?l FILTER(LANG(?l) = "vi" || LANG(?l) = "") } }
}
GROUP BY ?province
"""
_EDGES = """
SELECT DISTINCT ?s ?p ?o WHERE {
  VALUES ?p { kg:implements eli:based_on eli:cites kg:hasTask kg:subTask kg:hasAssignment
              kg:hasDuty kg:addressee kg:leadAgency kg:coordinatingAgency }
  ?s ?p ?o .
  FILTER(isIRI(?o))
}
"""
# The same facts for given nodes only (``#VALUES`` binds them): what a walk from one node reads.
# One VALUES per query, every other choice a FILTER: with two VALUES, Oxigraph read every
# statement of the other one's predicates or types first (seconds per step at 2,000 plans).
_DOCUMENT_FACTS_OF = """
SELECT DISTINCT ?doc ?p ?o WHERE {
  #VALUES
  ?doc ?p ?o
  FILTER(?p IN (eli:id_local, eli:title, eli:date_document, eli:type_document, eli:passed_by,
                kg:province))
}
"""
_LABELS_OF = """
SELECT DISTINCT ?o ?label WHERE {
  #VALUES
  ?o skos:prefLabel ?label FILTER(LANG(?label) = "vi" || LANG(?label) = "")
}
"""
_PARTS_OF = """
SELECT DISTINCT ?part ?type ?doc ?item ?text ?source ?request
WHERE {
  #VALUES
  ?part a ?type ; kg:partOf ?doc .
  FILTER(?type IN (kg:Task, kg:Assignment, kg:Duty))
  OPTIONAL { ?part kg:itemNumber ?item }
  OPTIONAL { ?part kg:text ?text }
  OPTIONAL { ?part kg:sourceText ?source }
  OPTIONAL { ?part kg:isRequest ?requested }
  BIND(STR(?requested) AS ?request)
}
"""
_AGENT_TYPES_OF = """
SELECT DISTINCT ?agent ?type WHERE {
  #VALUES
  GRAPH ?stated { ?agent a ?type . }
  FILTER(?type IN (org:Organization, kg:CollectiveAddressee, kg:UnresolvedMention)
         && ?stated != <https://w3id.org/kgraph/id/graph/reference>)
}
"""
_AGENT_FACTS_OF = """
SELECT DISTINCT ?agent ?p ?o WHERE {
  #VALUES
  ?agent ?p ?o .
  FILTER(?p IN (skos:prefLabel, rdfs:label, kg:province, kg:partOf))
  FILTER(?p != skos:prefLabel || LANG(?o) = "vi" || LANG(?o) = "")
}
"""
_PROVINCES_OF = _PROVINCES.replace("SELECT DISTINCT ?province WHERE {",
                                   "SELECT DISTINCT ?province WHERE {\n      #VALUES")
# The relations of given nodes over a remote store (an embedded one looks them up in its indexes,
# :func:`_relations`): one UNION branch a predicate. Written ``?s ?p ?o FILTER(?p IN (...))``,
# Virtuoso 7.2.5 read every statement of the listed predicates for each chunk of VALUES (4.8 s a
# chunk of 500 plan parts at 20,000 plans; a provincial plan's lineage down 8 took 93 s); a
# branch a predicate has the node and the predicate bound: 0.2 s, the same rows.
_FORWARD_FLOW = ("kg:hasTask", "kg:subTask", "kg:hasAssignment", "kg:hasDuty", "kg:addressee",
                 "kg:leadAgency", "kg:coordinatingAgency")
_REVERSE_FLOW = ("kg:implements", "eli:based_on")


def _branches(*groups: tuple[str, tuple[str, ...]]) -> str:
    """A UNION of one branch a predicate: each group's pattern (``{p}``: the predicate) for
    each of its predicates."""
    return "\n  UNION ".join(pattern.format(p=p) for pattern, predicates in groups
                             for p in predicates)


_EDGES_OF = """
SELECT DISTINCT ?s ?p ?o WHERE {
  #VALUES
  BRANCHES
  FILTER(isIRI(?o))
}
""".replace("BRANCHES", _branches(("{{ ?s {p} ?o BIND({p} AS ?p) }}",
                                   (*_REVERSE_FLOW, "eli:cites", *_FORWARD_FLOW))))
# One step of a walk: the nodes one flow relation away from the frontier (``?from``), down
# (parent -> child) or up; "cites" is never followed.
_STEP = """
SELECT DISTINCT ?from ?to WHERE {
  #VALUES
  BRANCHES
  FILTER(isIRI(?to))
}
"""
_STEP_DOWN = _STEP.replace("BRANCHES", _branches(("{{ ?from {p} ?to }}", _FORWARD_FLOW),
                                                 ("{{ ?to {p} ?from }}", _REVERSE_FLOW)))
_STEP_UP = _STEP.replace("BRANCHES", _branches(("{{ ?to {p} ?from }}", _FORWARD_FLOW),
                                               ("{{ ?from {p} ?to }}", _REVERSE_FLOW)))
_PROVINCE_DOCUMENTS = """
SELECT DISTINCT ?doc WHERE { #VALUES
  ?doc kg:province ?province ; eli:id_local ?number }
"""
_DOCUMENT_NUMBERS = "SELECT DISTINCT ?doc ?number WHERE { ?doc eli:id_local ?number }"
_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
VALUES_CHUNK = 500  # IRIs bound per query

# predicate local name -> (relation, True when the edge runs object -> subject)
_PREDICATES: dict[str, tuple[str, bool]] = {
    "implements": ("implements", True),
    "based_on": ("based_on", True),
    "cites": ("cites", True),
    "hasTask": ("task", False),
    "subTask": ("subtask", False),
    "hasAssignment": ("assignment", False),
    "hasDuty": ("duty", False),
    "addressee": ("addressee", False),
    "leadAgency": ("lead", False),
    "coordinatingAgency": ("coordinate", False),
}
_KIND_OF_TYPE = {
    "Task": "task",
    "Assignment": "assignment",
    "Duty": "duty",
    "Organization": "agency",
    "CollectiveAddressee": "collective",
    "UnresolvedMention": "mention",
}


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


_KG_NS, _ELI_NS = str(KG), "http://data.europa.eu/eli/ontology#"


def _document_property(name: str) -> str:
    """The IRI of one of :data:`_DOCUMENT_PROPERTIES` (``province`` is kgraph's, the others
    ELI's)."""
    return (_KG_NS if name == "province" else _ELI_NS) + name


def _first_rows(rows: list[dict[str, str | None]], key: str) -> list[dict[str, str | None]]:
    """One row per ``key``: the first non-empty value of each column (a fact stated in several
    graphs, or in two spellings, must not make two nodes)."""
    merged: dict[str, dict[str, str | None]] = {}
    for row in rows:
        seen = merged.setdefault(str(row[key]), dict(row))
        for column, value in row.items():
            if seen.get(column) is None and value is not None:
                seen[column] = value
    return list(merged.values())


def safe_iri(iri: str) -> bool:
    """An IRI that can be written between <> in a query (anything else names no node)."""
    return bool(_ABSOLUTE_IRI.match(iri)) and writable_iri(iri)


def _select(repo: Repository, body: str, var: str | None = None,
            iris: Iterable[str] | None = None) -> list[dict[str, str | None]]:
    """Rows of a query over the whole store, or with ``?var`` bound to ``iris`` (in chunks)."""
    if var is None:
        return query_records(repo, sparql_prefixes() + body)
    bound = sorted(i for i in set(iris or ()) if safe_iri(i))
    rows: list[dict[str, str | None]] = []
    for start in range(0, len(bound), VALUES_CHUNK):
        values = f"VALUES ?{var} {{ " + " ".join(
            f"<{i}>" for i in bound[start: start + VALUES_CHUNK]) + " }"
        rows.extend(query_records(repo, sparql_prefixes() + body.replace("#VALUES", values)))
    return rows


_FORWARD_FLOW_IRIS = tuple(_KG_NS + p for p in ("hasTask", "subTask", "hasAssignment", "hasDuty",
                                                "addressee", "leadAgency", "coordinatingAgency"))
_REVERSE_FLOW_IRIS = (_KG_NS + "implements", _ELI_NS + "based_on")
_EDGE_IRIS = (*_FORWARD_FLOW_IRIS, *_REVERSE_FLOW_IRIS, _ELI_NS + "cites")


_NAMED = {iri: ox.NamedNode(iri) for iri in _EDGE_IRIS}
_EVERY = frozenset(_EDGE_IRIS)
_DOCUMENT_RELATIONS = (_REVERSE_FLOW_IRIS[0], _REVERSE_FLOW_IRIS[1], _ELI_NS + "cites")
# The relations each kind of node is the subject / the object of, as the mapping
# (kgraph.graph.mapping) writes them and the ontology's domains and ranges say
# (tests/test_store_walk.py checks every relation of the seeds against them): a document
# carries out, is based on and cites documents and has tasks and assignments; a task has
# subtasks and lead and coordinating agencies; an assignment has duties and addressees; a duty
# has lead and coordinating agencies; agents and provinces are the subject of none.
SUBJECT_OF: dict[str, frozenset[str]] = {
    "document": frozenset({*_DOCUMENT_RELATIONS, _KG_NS + "hasTask", _KG_NS + "hasAssignment"}),
    "task": frozenset({_KG_NS + "subTask", _KG_NS + "leadAgency",
                       _KG_NS + "coordinatingAgency"}),
    "assignment": frozenset({_KG_NS + "hasDuty", _KG_NS + "addressee"}),
    "duty": frozenset({_KG_NS + "leadAgency", _KG_NS + "coordinatingAgency"}),
    **dict.fromkeys(("agency", "collective", "mention", "province"), frozenset()),
}
_AGENT_RELATIONS = frozenset({_KG_NS + "addressee", _KG_NS + "leadAgency",
                              _KG_NS + "coordinatingAgency"})
OBJECT_OF: dict[str, frozenset[str]] = {
    "document": frozenset(_DOCUMENT_RELATIONS),
    "task": frozenset({_KG_NS + "hasTask", _KG_NS + "subTask"}),
    "assignment": frozenset({_KG_NS + "hasAssignment"}),
    "duty": frozenset({_KG_NS + "hasDuty"}),
    **dict.fromkeys(("agency", "collective", "mention"), _AGENT_RELATIONS),
    "province": frozenset(),
}
# (node, predicate, True when the node is the subject) -> the IRIs at the other end
Looked = dict[tuple[str, str, bool], list[str]]


def _relations(repo: Repository, what: str, iris: Iterable[str],
               looked: Looked | None = None, nodes: dict[str, Node] | None = None,
               objects: frozenset[str] | None = None) -> list[dict[str, str | None]]:
    """The rows of ``_STEP_DOWN``, ``_STEP_UP`` or ``_EDGES_OF`` for these nodes. On an
    embedded store each (node, predicate) of a plan part or an agent is looked up in
    Oxigraph's indexes (a query joined its VALUES with every statement of each predicate:
    seconds a step at 20,000 plans); those relations are stated once. ``looked`` keeps
    each lookup for the next call (a walk's steps read the relations its subgraph reads
    again: at 20,000 plans ~20 µs a lookup, ten predicates a node); of a node in ``nodes``,
    only the relations its kind can have (:data:`SUBJECT_OF`, :data:`OBJECT_OF`). Edges are
    read from their subject: a lookup by object costs ~10 times one by subject. ``objects``:
    only these predicates (as the subject)."""
    store = getattr(repo, "reader", None)
    if not isinstance(store, ox.Store):
        text = {"down": _STEP_DOWN, "up": _STEP_UP, "edges": _EDGES_OF}[what]
        return _select(repo, text, "s" if what == "edges" else "from", iris)
    outward, inward = {"down": (_FORWARD_FLOW_IRIS, _REVERSE_FLOW_IRIS),
                       "up": (_REVERSE_FLOW_IRIS, _FORWARD_FLOW_IRIS),
                       "edges": (_EDGE_IRIS, ())}[what]
    if objects is not None:
        outward = tuple(p for p in outward if p in objects)
    looked = {} if looked is None else looked
    wanted: list[tuple[str, str, bool]] = []  # (node, predicate, True when it is the subject)
    for iri in sorted({i for i in iris if safe_iri(i)}):
        known = nodes.get(iri) if nodes is not None else None
        as_subject = SUBJECT_OF.get(known.kind, _EVERY) if known else _EVERY
        as_object = OBJECT_OF.get(known.kind, _EVERY) if known else _EVERY
        wanted += [(iri, p, True) for p in outward if p in as_subject]
        wanted += [(iri, p, False) for p in inward if p in as_object]
    # Relations between documents are restated: a plan states the lineage it stands in, so
    # "X carries out 28-CT/TW" has 4,001 copies at 20,000 plans for 35 plans. One DISTINCT query
    # a predicate (Oxigraph drops the copies) instead of decoding each: 0.3-0.4 s -> 5-15 ms.
    batches: dict[tuple[str, bool], list[str]] = {}
    for iri, predicate, is_subject in wanted:
        if (iri, predicate, is_subject) not in looked and predicate in _DOCUMENT_RELATIONS:
            batches.setdefault((predicate, is_subject), []).append(iri)
    for (predicate, is_subject), asked in batches.items():
        for iri in asked:
            looked[(iri, predicate, is_subject)] = []
        pattern = "?x <%s> ?y" if is_subject else "?y <%s> ?x"
        for row in _select(repo, "SELECT DISTINCT ?x ?y WHERE { #VALUES\n"
                           + pattern % predicate + " FILTER(isIRI(?y)) }", "x", asked):
            looked[(str(row["x"]), predicate, is_subject)].append(str(row["y"]))
    found: dict[tuple[str, str, str], None] = {}  # (subject, predicate, object)
    steps: dict[tuple[str, str], None] = {}  # (asked node, the node at the other end)
    for key in wanted:
        iri, predicate, is_subject = key
        others = looked.get(key)
        if others is None:  # relations of plan parts and agents: stated once, by pattern
            node = ox.NamedNode(iri)
            others = looked[key] = (
                [quad.object.value for quad in
                 store.quads_for_pattern(node, _NAMED[predicate], None)
                 if isinstance(quad.object, ox.NamedNode)] if is_subject else
                [quad.subject.value for quad in
                 store.quads_for_pattern(None, _NAMED[predicate], node)
                 if isinstance(quad.subject, ox.NamedNode)])
        for other in others:
            found[(iri, predicate, other) if is_subject else (other, predicate, iri)] = None
            steps[(iri, other)] = None
    if what == "edges":
        return [{"s": s, "p": p, "o": o} for s, p, o in found]
    return [{"from": s, "to": o} for s, o in steps]


def _agent_rows(repo: Repository, iris: set[str] | None = None
                ) -> list[dict[str, str | None]]:
    """One row per agent (of the store, or among ``iris``): agent, type, pref, raw, province
    (label), in_doc."""
    rows: dict[str, dict[str, str | None]] = {}
    types = (_select(repo, _AGENT_TYPES) if iris is None
             else _select(repo, _AGENT_TYPES_OF, "agent", iris))
    for row in types:
        rows.setdefault(str(row["agent"]), {"agent": row["agent"], "type": row["type"],
                                            "pref": None, "raw": None, "province": None,
                                            "in_doc": None})
    if not rows:
        return []
    facts: dict[tuple[str, str], list[str]] = {}
    for row in (_select(repo, _AGENT_FACTS) if iris is None
                else _select(repo, _AGENT_FACTS_OF, "agent", rows)):
        facts.setdefault((str(row["agent"]), _local(str(row["p"]))), []).append(str(row["o"]))
    cited = (None if iris is None else
             {o for (_, prop), values in facts.items() if prop == "province" for o in values})
    provinces = {str(r["province"]): nfc(r["label"] or "")
                 for r in _province_rows(repo, cited)}
    for iri, row in rows.items():
        def first(prop: str, iri: str = iri) -> str | None:
            values = sorted(facts.get((iri, prop), []))
            return values[0] if values else None

        row["pref"] = first("prefLabel")
        row["raw"] = first("label")
        province = first("province")
        row["province"] = provinces.get(province or "") or None
        row["in_doc"] = first("partOf")
    return list(rows.values())


def _province_rows(repo: Repository, iris: set[str] | None = None
                   ) -> list[dict[str, str | None]]:
    """Provinces some document states (all, or among ``iris``) with their name."""
    if iris is None:
        return _select(repo, _PROVINCES)
    return _select(repo, _PROVINCES_OF, "province", iris) if iris else []


# Requests of a remote store's whole-store reads in flight at once (:class:`_ReadAhead`).
READ_AHEAD_REQUESTS = 3


class _ReadAhead:
    """A remote store whose answers to the given whole-store queries (bodies as
    :func:`_select` sends them) are all asked at once, a few requests at a time, and handed to
    :func:`_select` when it asks (the same text twice, one request): the server evaluates the
    next while kgraph turns the last answer into nodes. At 20,000 plans the explorer's data
    waited 4.2 s of its 7.6 on twelve answers, one after the other. Anything else is the
    store's."""

    def __init__(self, repo: Repository, bodies: Iterable[str], pool: ThreadPoolExecutor) -> None:
        self.repo = repo
        self._answers: dict[str, Future[list[dict[str, str | None]]]] = {
            text: pool.submit(query_records, repo, text)
            for text in dict.fromkeys(sparql_prefixes() + body for body in bodies)}

    def records(self, sparql: str) -> list[dict[str, str | None]]:
        found = self._answers.get(sparql)
        return found.result() if found is not None else query_records(self.repo, sparql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repo, name)


def _remote(repo: Repository) -> bool:
    """Whether the repository is a remote store's (its module imported only then: an HTTP
    client's imports)."""
    if isinstance(repo, OxigraphRepository | _ReadAhead):
        return False
    from kgraph.store.remote import RemoteRepository

    return isinstance(repo, RemoteRepository)


class LineageGraph:
    """Nodes (:class:`Node`) and down-pointing edges (``rel`` attribute): of the whole store
    (:meth:`from_repository`), or of the nodes a :class:`StoreWalk` read."""

    def __init__(self, known: dict[str, Node] | None = None) -> None:
        import networkx as nx

        self.graph: nx.DiGraph = nx.DiGraph()
        self.nodes: dict[str, Node] = {}
        self.province_documents: dict[str, list[str]] = {}
        self._requests: set[str] = set()  # assignments that only request (addressee edges)
        # every document, agent and province of the store version (:meth:`searchable`'s
        # nodes, kept per version): a walk takes them from here instead of reading their
        # facts, restated in every graph that names them, again
        self.known = known

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_repository(cls, repo: Repository) -> LineageGraph:
        """Load documents, plan parts, agents, provinces and relations with six SELECTs."""
        lineage = cls()
        lineage._load_nodes(repo, None)
        lineage._load_edges(repo, None)
        for node in lineage.nodes.values():
            if node.kind == "document" and node.province:
                lineage.province_documents.setdefault(node.province, []).append(node.iri)
        return lineage

    @classmethod
    def searchable(cls, repo: Repository) -> LineageGraph:
        """The documents, agents and provinces of the store (what search and the filters
        offer), without plan parts or edges: a fraction of :meth:`from_repository`'s work."""
        lineage = cls()
        lineage._load_nodes(repo, None, parts=False)
        return lineage

    def _load_nodes(self, repo: Repository, iris: set[str] | None, *,
                    parts: bool = True) -> None:
        """Nodes of the store (``iris`` None) or those among ``iris``; a part's or a mention's
        document is read too (its type, province and year are theirs). An IRI read as a
        document is not asked again as a plan part, one read as either not as an agent or a
        province (the kinds are disjoint; a walk of thousands of parts asked every query
        for each)."""
        if iris is not None and self.known is not None:
            self._load_known(repo, iris, parts=parts)
            return
        if iris is None and _remote(repo):  # every whole-store query asked at once
            bodies = [_AGENT_FACTS, *([_PARTS] if parts else []), _AGENT_TYPES, _DOCUMENT_NUMBER,
                      *(_DOCUMENT_FACT % _document_property(p) for p in _DOCUMENT_PROPERTIES
                        if p != "id_local"), _PROVINCES]
            with ThreadPoolExecutor(READ_AHEAD_REQUESTS, "kgraph-read-ahead") as pool:
                self._load_nodes(_ReadAhead(repo, bodies, pool), None, parts=parts)  # type: ignore[arg-type]
            return
        self._load_documents(repo, iris)
        if iris is not None:
            iris = {i for i in iris if i not in self.nodes}
        if parts:
            rows = (_select(repo, _PARTS) if iris is None
                    else _select(repo, _PARTS_OF, "part", iris))
            rows = _first_rows(rows, "part")
            if iris is not None:
                self._load_documents(repo, {str(r["doc"]) for r in rows} - self.nodes.keys())
            for row in rows:
                self._add_part(row)
            if iris is not None:
                iris = {i for i in iris if i not in self.nodes}
        agents = _agent_rows(repo, iris)
        if iris is not None:
            self._load_documents(repo, {str(r["in_doc"]) for r in agents if r["in_doc"]}
                                 - self.nodes.keys())
        for row in agents:
            self._add_agent(row)
        for row in _province_rows(repo, iris):
            label = nfc(row["label"] or "")
            self._add(Node(iri=str(row["province"]), kind="province", label=label,
                           province=label))

    def _load_known(self, repo: Repository, iris: set[str], *, parts: bool) -> None:
        """:meth:`_load_nodes` of ``iris`` with the version's documents, agents and provinces
        known: only plan parts are read (an IRI that is none of those is a part or no node)."""
        known = self.known or {}

        def take(found: Iterable[str], kinds: frozenset[str]) -> None:
            for iri in found:
                node = known.get(iri)
                if node is not None and node.kind in kinds and iri not in self.nodes:
                    self._add(replace(node, flags=list(node.flags)))

        take(iris, _DOCUMENT)
        rest = {i for i in iris if i not in self.nodes}
        if parts and rest:
            rows = _first_rows(_select(repo, _PARTS_OF, "part", rest - known.keys()), "part")
            take((str(r["doc"]) for r in rows), _DOCUMENT)
            for row in rows:
                self._add_part(row)
            rest = {i for i in rest if i not in self.nodes}
        agents = [i for i in rest if i in known and known[i].kind in AGENT_KINDS]
        take((known[i].document for i in agents if known[i].document), _DOCUMENT)
        take(agents, AGENT_KINDS)
        take({i for i in rest if i not in self.nodes}, _PROVINCE)

    def _add_part(self, row: dict[str, str | None]) -> None:
        kind = _KIND_OF_TYPE[_local(str(row["type"]))]
        doc = self.nodes.get(str(row["doc"]))
        text = nfc(row["text"] or "")
        item = row["item"] or ""
        prefix = {"task": "NV", "assignment": "PC", "duty": "–"}[kind]
        self._add(Node(
            iri=str(row["part"]), kind=kind,
            label=_short(f"{prefix} {item}. {text}" if item and not text.startswith(item)
                         else f"{prefix} {text}"),
            text=text, source_text=row["source"] or "", number=item,
            doctype=doc.doctype if doc else "", province=doc.province if doc else "",
            year=doc.year if doc else "", document=str(row["doc"]),
        ))
        if (row["request"] or "").lower() == "true":
            self._requests.add(str(row["part"]))

    def _add_agent(self, row: dict[str, str | None]) -> None:
        kind = _KIND_OF_TYPE[_local(str(row["type"]))]
        iri = str(row["agent"])
        if iri in self.nodes and self.nodes[iri].kind == "mention":
            return
        label = nfc(row["pref"] or row["raw"] or _local(iri))
        in_doc = self.nodes.get(row["in_doc"] or "")
        province = row["province"] or (in_doc.province if in_doc else "")
        self._add(Node(iri=iri, kind=kind, label=_short(label), text=label,
                       province=province, document=in_doc.iri if in_doc else ""))
        if kind == "mention":
            self.nodes[iri].flags.append("cơ quan chưa xác định (unresolved mention)")

    def _load_edges(self, repo: Repository, iris: set[str] | None) -> None:
        """Relations between nodes (of the store, or stated by ``iris`` as subjects)."""
        self._add_edges(_select(repo, _EDGES) if iris is None
                        else _relations(repo, "edges", iris))

    def _add_edges(self, rows: list[dict[str, str | None]]) -> None:
        for row in rows:
            s, p, o = str(row["s"]), str(row["p"]), str(row["o"])
            relation, reverse = _PREDICATES[_local(p)]
            if relation == "addressee" and s in self._requests:
                relation = "request"
            parent, child = (o, s) if reverse else (s, o)
            if parent in self.nodes and child in self.nodes:
                if self.graph.has_edge(parent, child) and relation == "cites":
                    continue  # "implements" wins over "cites" between the same documents
                self.graph.add_edge(parent, child, rel=relation)

    def _add(self, node: Node) -> None:
        self.nodes[node.iri] = node
        self.graph.add_node(node.iri)

    def _load_documents(self, repo: Repository, iris: set[str] | None) -> None:
        """Document nodes from their distinct facts; several values of issuer, date or type
        mean the sources disagree, and the node is flagged."""
        if iris is None:
            rows = [{"doc": row["doc"], "p": iri, "o": row["o"]}
                    for iri in (_document_property(p) for p in _DOCUMENT_PROPERTIES)
                    for row in _select(repo, _DOCUMENT_NUMBER if iri.endswith("#id_local")
                                       else _DOCUMENT_FACT % iri)]
        else:
            if not iris:
                return
            rows = _select(repo, _DOCUMENT_FACTS_OF, "doc", iris)
        named = {str(r["o"]) for r in rows if _local(str(r["p"])) in _LABELLED}
        labels: dict[str, str] = {}
        for row in _select(repo, _LABELS_OF, "o", named):
            labels.setdefault(str(row["o"]), str(row["label"]))
            labels[str(row["o"])] = min(labels[str(row["o"])], str(row["label"]))
        for row in rows:
            row["label"] = labels.get(str(row["o"]))
        facts: dict[str, dict[str, dict[str, str]]] = {}
        for row in rows:
            values = facts.setdefault(str(row["doc"]), {}).setdefault(_local(str(row["p"])), {})
            value = str(row["o"])
            label = row["label"]
            if label and (not values.get(value) or label < values[value]):
                values[value] = label  # one name per value: the first in order
            values.setdefault(value, "")

        def first(found: dict[str, dict[str, str]], prop: str) -> str:
            value, label = min(found.get(prop, {"": ""}).items())
            return label or value

        for iri, found in facts.items():
            if "id_local" not in found:
                continue
            number = nfc(first(found, "id_local"))
            date = first(found, "date_document")
            node = Node(iri=iri, kind="document", label=number, number=number,
                        text=nfc(first(found, "title")), doctype=first(found, "type_document"),
                        province=first(found, "province"),
                        year=date[:4] if date[:4].isdigit() else "")
            node.flags = [f"mâu thuẫn: {label}" for prop, label in _CONFLICTING.items()
                          if len(found.get(prop, {})) > 1]
            self._add(node)

    # ------------------------------------------------------------------ walking
    def flow_edges(self) -> nx.DiGraph:
        """A view without "cites" edges: the edges a lineage walk follows."""
        import networkx as nx

        return nx.subgraph_view(
            self.graph, filter_edge=lambda u, v: self.graph.edges[u, v]["rel"] in FLOW_RELATIONS
        )

    def walk(self, start: str, direction: Direction, depth: int) -> set[str]:
        """Nodes within ``depth`` steps down (descendants) or up (ancestors) of ``start``."""
        if start not in self.nodes:
            raise KeyError(start)
        flow = self.flow_edges()
        step = flow.successors if direction == "down" else flow.predecessors
        seen = {start}
        queue: deque[tuple[str, int]] = deque([(start, 0)])
        if self.nodes[start].kind == "province" and depth > 0:
            documents = self.province_documents.get(self.nodes[start].label, [])
            seen.update(documents)
            queue.extend((doc, 1) for doc in documents)
        while queue:
            current, dist = queue.popleft()
            if dist >= depth:
                continue
            for other in step(current):
                if other not in seen:
                    seen.add(other)
                    queue.append((other, dist + 1))
        return seen

    def subgraph(self, iris: set[str]) -> tuple[list[Node], list[tuple[str, str, str]]]:
        """Nodes and (parent, child, relation) edges among ``iris``, cites included.

        A province in the set is linked to its documents by "province" edges.
        """
        nodes = [self.nodes[i] for i in sorted(iris) if i in self.nodes]
        edges = [(u, v, d["rel"]) for u, v, d in self.graph.subgraph(iris).edges(data=True)]
        for node in nodes:
            if node.kind == "province":
                edges += [
                    (node.iri, doc, "province")
                    for doc in self.province_documents.get(node.label, [])
                    if doc in iris
                ]
        return nodes, sorted(edges)

    def levels(self, iris: set[str],
               edges: list[tuple[str, str, str]] | None = None) -> dict[str, int]:
        """Row of each node in a top-down layout: the longest flow path reaching it
        (``edges``: :meth:`subgraph`'s edges of ``iris``, when the caller has them)."""
        import networkx as nx

        if edges is None:
            _, edges = self.subgraph(iris)
        sub: nx.DiGraph = nx.DiGraph()
        sub.add_nodes_from(i for i in iris if i in self.nodes)
        sub.add_edges_from((u, v) for u, v, rel in edges if rel != "cites")
        while not nx.is_directed_acyclic_graph(sub):  # bad data: break cycles, keep a layout
            cycle = nx.find_cycle(sub)
            sub.remove_edge(*cycle[-1][:2])
        level: dict[str, int] = {}
        for node in nx.topological_sort(sub):
            preds = [level[p] for p in sub.predecessors(node)]
            level[node] = max(preds) + 1 if preds else 0
        return level

    def shortest_path(self, source: str, target: str) -> list[str]:
        """Shortest chain between two nodes, edges taken in either direction (cites excluded)."""
        for iri in (source, target):
            if iri not in self.nodes:
                raise KeyError(iri)
        import networkx as nx

        return list(nx.shortest_path(self.flow_edges().to_undirected(as_view=True), source, target))

    def roles(self, agent: str) -> list[dict[str, str]]:
        """What an agent is given: one entry per assignment or duty naming it, with its role."""
        entries = []
        for parent in self.graph.predecessors(agent):
            rel = self.graph.edges[parent, agent]["rel"]
            if rel not in {"addressee", "request", "lead", "coordinate"}:
                continue
            item = self.nodes[parent]
            doc = self.nodes.get(item.document)
            entries.append(
                {
                    "role": RELATION_LABELS[rel],
                    "relation": rel,
                    "item": item.iri,
                    "item_kind": item.kind,
                    "item_number": item.number,
                    "text": item.text,
                    "source_text": item.source_text,
                    "document": item.document,
                    "document_number": doc.number if doc else "",
                }
            )
        order = {"lead": 0, "addressee": 1, "request": 2, "coordinate": 3}
        return sorted(
            entries, key=lambda e: (e["document_number"], order[e["relation"]], e["item"])
        )

    def find_document(self, number: str) -> str | None:
        """IRI of the document with this number (typed with or without diacritics)."""
        from kgraph.ingest.text import slugify

        key = slugify(number)
        hits = [
            n.iri for n in self.nodes.values() if n.kind == "document" and slugify(n.number) == key
        ]
        return sorted(hits)[0] if hits else None


class StoreWalk:
    """The lineage around the asked nodes, read from the store one step at a time.

    The whole-store :class:`LineageGraph` costs minutes and gigabytes at national scale and
    every new store version; a walk reads only what it reaches: each step is one query bound
    to the frontier (``VALUES``), each node's facts are read once, with the same rules as the
    whole graph, so a walk gives the same nodes, edges and levels as
    :meth:`LineageGraph.walk` on the whole graph.
    """

    def __init__(self, repo: Repository, known: dict[str, Node] | None = None) -> None:
        self.repo = repo
        self.lineage = LineageGraph(known)
        self._asked: set[str] = set()  # IRIs whose node facts were read
        self._stated: set[str] = set()  # relations read by query (a store answering SPARQL only)
        self._provinces: set[str] = set()  # provinces whose documents were read
        self._looked: Looked = {}  # relations looked up in the store's indexes

    @property
    def nodes(self) -> dict[str, Node]:
        return self.lineage.nodes

    def load(self, iris: Iterable[str]) -> None:
        """Read the nodes among ``iris`` not read yet (an IRI naming no node is remembered)."""
        todo = {i for i in iris if i not in self._asked}
        if todo:
            self._asked |= todo
            self.lineage._load_nodes(self.repo, todo)

    def node(self, iri: str) -> Node | None:
        self.load([iri])
        return self.lineage.nodes.get(iri)

    def step(self, frontier: Iterable[str], direction: Direction) -> dict[str, set[str]]:
        """Each frontier node's neighbours one flow relation down (or up) that are nodes."""
        frontier = list(frontier)
        self.load(frontier)
        rows = _relations(self.repo, direction, frontier, self._looked, self.nodes)
        self.load([*frontier, *(str(r["to"]) for r in rows)])
        found: dict[str, set[str]] = {}
        for row in rows:
            if str(row["to"]) in self.nodes and str(row["from"]) in self.nodes:
                found.setdefault(str(row["from"]), set()).add(str(row["to"]))
        return found

    def documents_of(self, province: Node) -> list[str]:
        """The documents of a province node (as :attr:`LineageGraph.province_documents`)."""
        if province.iri not in self._provinces:
            self._provinces.add(province.iri)
            found = [str(r["doc"]) for r in _select(self.repo, _PROVINCE_DOCUMENTS, "province",
                                                    [province.iri])]
            self.load(found)
            known = self.lineage.province_documents.setdefault(province.label, [])
            known += sorted(d for d in found if d in self.nodes and d not in known
                            and self.nodes[d].kind == "document"
                            and self.nodes[d].province == province.label)
        return self.lineage.province_documents.get(province.label, [])

    def walk(self, start: str, direction: Direction, depth: int) -> set[str]:
        """Nodes within ``depth`` steps down or up of ``start`` (:meth:`LineageGraph.walk`)."""
        return set(self.walk_within(start, direction, depth)[0])

    def walk_within(self, start: str, direction: Direction, depth: int,
                    limit: int | None = None) -> tuple[list[str], int]:
        """:meth:`walk` in walk order (by steps from ``start``, then IRI: the same order from
        any store, so a lineage can be paged), and the steps walked: whole steps only while
        the nodes stay within ``limit`` (the first step always), so a directive carried out
        nationally (172,074 nodes 8 steps down at 20,000 plans) stops at the step a browser
        can still draw."""
        node = self.node(start) if safe_iri(start) else None
        if node is None:
            raise KeyError(start)
        seen = {start}
        order = [start]
        frontier = [start]
        for distance in range(depth):
            following = []
            if distance == 0 and node.kind == "province":  # its documents are one step away
                following = [d for d in self.documents_of(node) if d not in seen]
                seen.update(following)
            for neighbours in self.step(frontier, direction).values() if frontier else ():
                for other in neighbours:
                    if other not in seen:
                        seen.add(other)
                        following.append(other)
            if not following:
                break
            if limit is not None and distance > 0 and len(seen) > limit:
                return order, distance  # this step is more than can be drawn
            following.sort()
            order += following
            frontier = following
        return order, depth

    def subgraph(self, iris: set[str]) -> tuple[list[Node], list[tuple[str, str, str]]]:
        """:meth:`LineageGraph.subgraph` of ``iris`` (their relations read first)."""
        self.load(iris)
        known = {i for i in iris if i in self.nodes}
        if isinstance(getattr(self.repo, "reader", None), ox.Store):
            # the edges among ``iris``: only by relations whose object is of a kind they have
            # (a directive's 35 plans need not read the plans' hundreds of tasks); each lookup
            # is kept, so a later subgraph reads only what this one did not
            kinds = {self.nodes[i].kind for i in known}
            self.lineage._add_edges(_relations(
                self.repo, "edges", known, self._looked, self.nodes,
                frozenset().union(*(OBJECT_OF.get(kind, _EVERY) for kind in kinds))))
        elif todo := known - self._stated:
            self._stated |= todo
            self.lineage._add_edges(_relations(self.repo, "edges", todo))
        for iri in iris:
            node = self.nodes.get(iri)
            if node is not None and node.kind == "province":
                self.documents_of(node)
        return self.lineage.subgraph(iris)

    def levels(self, iris: set[str], edges: list[tuple[str, str, str]]) -> dict[str, int]:
        return self.lineage.levels(iris, edges)

    def roles(self, agent: str) -> list[dict[str, str]]:
        """:meth:`LineageGraph.roles` of an agent: every item naming it and its document."""
        items = self.walk(agent, "up", 1)
        self.subgraph(items)
        self.load(self.nodes[i].document for i in items if self.nodes[i].document)
        return self.lineage.roles(agent)

    def neighbours(self, frontier: list[str]) -> dict[str, list[str]]:
        """Each node's neighbours along flow relations in either direction, in IRI order."""
        found: dict[str, set[str]] = {}
        for direction in ("down", "up"):
            for iri, others in self.step(frontier, direction).items():  # type: ignore[arg-type]
                found.setdefault(iri, set()).update(others)
        return {iri: sorted(found.get(iri, ())) for iri in frontier}


def find_document(repo: Repository, number: str) -> str | None:
    """IRI of the document with this number (typed with or without diacritics), as
    :meth:`LineageGraph.find_document` finds it, from the documents' numbers alone."""
    from kgraph.ingest.text import slugify

    numbers: dict[str, str] = {}  # a document's number: the first of its spellings
    for row in _select(repo, _DOCUMENT_NUMBERS):
        doc, found = str(row["doc"]), str(row["number"])
        numbers[doc] = min(numbers.get(doc, found), found)
    key = slugify(number)
    hits = [doc for doc, found in numbers.items() if slugify(nfc(found)) == key]
    return sorted(hits)[0] if hits else None
