"""The ``assignments`` named query answered from facts the build keeps, per store version.

The query lists every assignment of the given document and of every document carrying it out,
transitively: a national directive's answer at 20,000 plans is 19,000 rows, 2.9 CPU-s of the
engine (a row joins a dozen statements, most of them names restated in thousands of graphs).
Its rows split in two kinds of values:

* **a plan's own facts**: its assignments, their item number, request and lead flags, kind,
  addressees and duty counts. Each is stated by the plan's graph only (the assignment's IRI is
  minted under the plan's, as are its duties'; an earlier version of the graph is a literal in
  the revisions graph, outside the union). The build keeps them per plan, in one *part* per
  scope of the graphs (a province, or the national scope), by content key next to the store
  (``derived/documents/assignments-part-<hash>.pickle``; in memory for a store in memory).
  A build reads them again for the graphs it wrote only, and rewrites the parts holding those
  (:mod:`kgraph.analysis.plan_parts`);
* **what any graph may state**: which documents carry out which (``kg:implements`` edges are
  stated by the implementing plan's graph, and may be by others), a plan's number and province,
  a body's names and province, a province's name. These are read from the store at every
  answer, by the query's own patterns (the first statement found, as the query takes it) for
  the few thousand plans and bodies of the answer: no kept value can go stale when another
  graph changes.

Then the rows are grouped and sorted as the query groups and sorts them (its GROUP BY and
ORDER BY, the engine's order of terms: unbound first, strings by code point, item numbers as
integers where they are). The query's order is total (its last keys order the rows its first
keys tie, which the engine would leave in the order of its grouping), so the CSV is the same.
A version whose build kept no facts (an older store, ``kgraph coverage``, a remote store) is
answered by the query.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kgraph.analysis import plan_parts
from kgraph.analysis.plan_parts import Answer, KeptFacts, bound
from kgraph.ingest.text import slugify
from kgraph.store.embedded import Repository

if TYPE_CHECKING:
    import pyoxigraph as ox

FORMAT = 1  # the layout of a part: another layout is not read
COLUMNS = ("plan_number", "plan_province", "no", "agency", "agency_province", "role",
           "requested", "duties", "kind", "assignment")

# A plan's fact row: assignment, item number, request (lexical), lead clause, kind, addressee,
# distinct duties of the assignment.
Fact = tuple[str, str, str, bool, str, str, int]
# A plan's own bodies' names: a body named below the plan's IRI (an unresolved mention) is
# stated by the plan's graph only; without a canonical name or a province there, its names are
# its labels (body IRI -> its distinct rdfs:label values).
Own = dict[str, tuple[str, ...]]

_PREFIXES = """PREFIX kg: <https://w3id.org/kgraph/def#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
# The facts of the given graphs (or of every graph), each in its own graph: the query's
# DISTINCT assignment rows, the duties counted apart (an OPTIONAL inside ``GRAPH ?g`` is
# evaluated over every graph before the VALUES join).
_FACTS = _PREFIXES + """SELECT DISTINCT ?g ?plan ?assignment ?no ?requested ?lead ?kindConcept
       ?agent WHERE { $scope GRAPH ?g {
  ?plan kg:hasAssignment ?assignment .
  ?assignment kg:itemNumber ?no ; kg:isRequest ?requested ; kg:hasLeadClause ?lead ;
              kg:addresseeKind ?kindConcept ; kg:addressee ?agent } }"""
_OWN_LABELS = _PREFIXES + """SELECT DISTINCT ?g ?agent ?raw WHERE { $scope GRAPH ?g {
  ?plan kg:hasAssignment ?assignment . ?assignment kg:addressee ?agent . ?agent rdfs:label ?raw
  } }"""
_OWN_NAMED = _PREFIXES + """SELECT DISTINCT ?g ?agent WHERE { $scope GRAPH ?g {
  ?plan kg:hasAssignment ?assignment . ?assignment kg:addressee ?agent .
  { ?agent skos:prefLabel ?canonical } UNION { ?agent kg:province ?province } } }"""
_DUTIES = _PREFIXES + """SELECT ?assignment (COUNT(DISTINCT ?duty) AS ?duties)
WHERE { $scope GRAPH ?g { ?plan kg:hasAssignment ?assignment . ?assignment kg:hasDuty ?duty } }
GROUP BY ?assignment"""
# The plans carrying the document out (the query's path, from the bound document).
_PLANS = _PREFIXES + """SELECT DISTINCT ?plan WHERE {
  { SELECT DISTINCT ?root WHERE { ?root kg:numberKey $key } }
  LATERAL { SELECT DISTINCT ?root ?plan WHERE { ?plan kg:implements* ?root } } }"""
# The names, by the query's patterns: the first statement found of each.
_PLAN_NAMES = _PREFIXES + """SELECT ?plan ?plan_number ?plan_province WHERE {
  VALUES ?plan { $plans }
  LATERAL { SELECT ?plan ?plan_number WHERE { ?plan eli:id_local ?plan_number } LIMIT 1 }
  LATERAL { OPTIONAL { SELECT ?plan ?stated WHERE { ?plan kg:province ?stated } LIMIT 1 } }
  BIND(COALESCE(?stated, <urn:kgraph:no-province>) AS ?node)
  LATERAL { OPTIONAL { SELECT ?node ?plan_province WHERE {
      ?node skos:prefLabel ?plan_province } LIMIT 1 } } }"""
_AGENT_NAMES = _PREFIXES + """SELECT ?agent ?canonical ?raw ?agency_province WHERE {
  VALUES ?agent { $agents }
  LATERAL { OPTIONAL { SELECT ?agent ?canonical WHERE { ?agent skos:prefLabel ?canonical }
                       LIMIT 1 } }
  LATERAL { OPTIONAL { SELECT DISTINCT ?agent ?raw WHERE { ?agent rdfs:label ?raw } } }
  LATERAL { OPTIONAL { SELECT ?agent ?stated WHERE { ?agent kg:province ?stated } LIMIT 1 } }
  BIND(COALESCE(?stated, <urn:kgraph:no-province>) AS ?node)
  LATERAL { OPTIONAL { SELECT ?node ?agency_province WHERE {
      ?node skos:prefLabel ?agency_province } LIMIT 1 } } }"""
_INTEGER = re.compile(r"[+-]?[0-9]+")  # the lexical forms xsd:integer() casts


def previous(repo: Repository) -> KeptFacts | None:
    """The facts kept for the repository's current version (read before a build's switch)."""
    return FAMILY.previous(repo)


def read_facts(native: ox.Store, graphs: Sequence[str] | None
               ) -> dict[str, dict[str, tuple[list[Fact], Own]]]:
    """Graph -> plan -> its fact rows and its own bodies' names, read from the store
    (``graphs``: those only)."""
    scope_clause = f"VALUES ?g {{ {plan_parts.values(graphs)} }}" if graphs is not None else ""

    def solutions(text: str) -> Iterable[ox.QuerySolution]:
        return native.query(text.replace("$scope", scope_clause),  # type: ignore[return-value]
                            use_default_graph_as_union=True)

    duties = {s["assignment"].value: int(s["duties"].value) for s in solutions(_DUTIES)}
    named = {(s["g"].value, s["agent"].value) for s in solutions(_OWN_NAMED)}
    labels: dict[tuple[str, str], set[str]] = {}
    for s in solutions(_OWN_LABELS):
        labels.setdefault((s["g"].value, s["agent"].value), set()).add(s["raw"].value)
    found: dict[str, dict[str, tuple[list[Fact], Own]]] = {}
    for s in solutions(_FACTS):
        graph, plan, assignment, agent = (s["g"].value, s["plan"].value,
                                          s["assignment"].value, s["agent"].value)
        lead = s["lead"]
        kind = str(s["kindConcept"].value)  # STRAFTER(STR(?kindConcept), "#")
        rows, own = found.setdefault(graph, {}).setdefault(plan, ([], {}))
        rows.append((assignment, s["no"].value, s["requested"].value,
                     lead.value in ("true", "1"), kind.partition("#")[2] if "#" in kind else "",
                     agent, duties.get(assignment, 0)))
        if agent.startswith(plan + "/") and (graph, agent) not in named:
            own[agent] = tuple(sorted(labels.get((graph, agent), ())))
    for plans in found.values():
        for rows, _ in plans.values():
            rows.sort()
    return found


FAMILY = plan_parts.Family("assignments", FORMAT, read_facts)  # its parts per plan's scope
VERSION_VALUE = FAMILY.version_value


def keep(repo: Repository, root: Path | None, before: KeptFacts | None,
         written: Iterable[str] | None) -> KeptFacts | None:
    """Keep the facts of the build's new version (:func:`kgraph.analysis.plan_parts.keep`)."""
    return plan_parts.keep(FAMILY, repo, root, before, written)


# ---------------------------------------------------------------------------- reading

Row = tuple[str | None, ...]  # the query's columns, then whether the agency is a name (@vi)


def _order_key(row: Row) -> tuple[object, ...]:
    """The query's ORDER BY (unbound first, strings and IRIs by code point): ?plan_province
    ?plan_number xsd:integer(?no) ?agency ?assignment ?agency_province ?role ?kind ?requested
    ?no."""
    number, province, no, agency, agency_province, role, requested, _, kind, assignment = row[:10]
    integer = int(no) if no is not None and _INTEGER.fullmatch(no) else None
    return (bound(province), bound(number), (integer is not None, integer or 0),
            bound(agency), bound(assignment), bound(agency_province), bound(role),
            bound(kind), bound(requested), bound(no))


def kept_rows(repo: Repository, values: dict[str, str]) -> Answer | None:
    """The ``assignments`` answer for ``values`` (``doc``) from the facts the build kept for
    the store's version and the names the store states now; None when the query must answer
    (no facts kept for this version, a remote store)."""
    import pyoxigraph as ox

    from kgraph.store.derived import store_root

    doc = values.get("doc")
    native = getattr(repo, "reader", None)  # read-only on disk
    if not doc or not isinstance(native, ox.Store):
        return None
    kept = previous(repo)
    if kept is None:
        return None
    root = store_root(repo)
    key = str(ox.Literal(slugify(doc)))  # an escaped literal, never query text
    plans = [s["plan"].value for s in native.query(_PLANS.replace("$key", key),
                                                   use_default_graph_as_union=True)]
    wanted = [p for p in plans if p in kept.plans]
    by_part: dict[str, list[str]] = {}
    for plan in wanted:
        by_part.setdefault(kept.plans[plan], []).append(plan)
    facts: dict[str, list[Fact]] = {}
    own: Own = {}
    for name, members in by_part.items():
        part = plan_parts.read_part(root, kept.parts.get(name, {}))
        if part is None:
            return None  # removed by a later build: the query answers
        found = {plan: rows for graph_plans in part.values()
                 for plan, rows in graph_plans.items()}
        for plan in members:
            if plan in found:
                facts[plan], plan_own = pickle.loads(found[plan])
                own.update(plan_own)
    plan_names: dict[str, tuple[str, str | None]] = {}
    if facts:
        for s in native.query(_PLAN_NAMES.replace("$plans", plan_parts.values(sorted(facts))),
                              use_default_graph_as_union=True):
            province = s["plan_province"]
            plan_names[s["plan"].value] = (s["plan_number"].value,
                                           None if province is None else province.value)
    agencies: dict[str, list[tuple[str | None, bool, str | None]]] = {
        agent: [(f"? {raw}", False, None) for raw in raws] or [(None, False, None)]
        for agent, raws in own.items()}
    agents = sorted({row[5] for rows in facts.values() for row in rows} - set(own))
    if agents:
        for s in native.query(_AGENT_NAMES.replace("$agents", plan_parts.values(agents)),
                              use_default_graph_as_union=True):
            canonical, raw, province = s["canonical"], s["raw"], s["agency_province"]
            if canonical is not None:
                name: str | None = canonical.value
            else:
                name = None if raw is None else f"? {raw.value}"
            agencies.setdefault(s["agent"].value, []).append(
                (name, canonical is not None, None if province is None else province.value))
    groups: dict[Row, None] = {}
    for plan, rows in facts.items():
        if plan not in plan_names:
            continue  # no number: the query's inner join leaves the plan out
        number, province = plan_names[plan]
        for assignment, no, requested, lead, kind, agent, duties in rows:
            request = requested in ("true", "1")
            role = "đề nghị" if request else ("chủ trì" if lead else "thực hiện")
            for agency, named, agency_province in agencies.get(agent, [(None, False, None)]):
                groups[(number, province, no, agency, agency_province, role, requested,
                        str(duties), kind, assignment, "1" if named else "")] = None
    return Answer(COLUMNS, sorted(groups, key=_order_key))
