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
A version whose build kept no facts (an older store, ``kgraph coverage``) is answered by the
query.

A build over a remote store keeps the facts the same way, in this machine's cache folder
(:func:`kgraph.store.derived.kept_root`), for the version token it stamped last. There the names
are read as the portable query reads them, every value (the store's engine has no LATERAL to
take the first one found); with one name per node, as the build states them, both give the same
rows. A remote version with no facts kept (a server its own bulk loader filled from a dump, a
write by anyone since the build: a new token) is never handed to the query: its
``kg:implements*`` from a national directive exhausts Virtuoso's transitive memory. The plans
are walked one step a request as for kept facts, and their facts read from the store by the
query's own patterns, a chunk of plans a request (:func:`remote_rows`).
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kgraph.analysis import plan_parts
from kgraph.analysis.plan_parts import Answer, KeptFacts, bound
from kgraph.ingest.text import slugify
from kgraph.store.embedded import Repository, plain_rows

if TYPE_CHECKING:
    import pyoxigraph as ox

    from kgraph.store.remote import RemoteRepository

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
# The same over a remote store, by the portable query's patterns (SPARQL 1.1, one step a level:
# queries/assignments.rq): every number and name, not the first found. The plans carrying the
# document out are walked one ``kg:implements`` step a request (:func:`plan_parts.carrying_out`).
_ROOTS = _PREFIXES + "SELECT DISTINCT ?root WHERE { ?root kg:numberKey $key }"
# A remote version's facts of the plans found, when none are kept for it: the query's patterns
# over the union of the graphs (every graph's statements, as the query reads them).
_LIVE_FACTS = _PREFIXES + """SELECT DISTINCT ?plan ?assignment ?no ?requested ?lead ?kindConcept
       ?agent WHERE { VALUES ?plan { $plans } ?plan kg:hasAssignment ?assignment .
  ?assignment kg:itemNumber ?no ; kg:isRequest ?requested ; kg:hasLeadClause ?lead ;
              kg:addresseeKind ?kindConcept ; kg:addressee ?agent }"""
_LIVE_DUTIES = _PREFIXES + """SELECT ?assignment (COUNT(DISTINCT ?duty) AS ?duties) WHERE {
  VALUES ?plan { $plans } ?plan kg:hasAssignment ?assignment . ?assignment kg:hasDuty ?duty }
GROUP BY ?assignment"""
_PORTABLE_PLAN_NAMES = _PREFIXES + """SELECT DISTINCT ?plan ?plan_number ?plan_province WHERE {
  { SELECT DISTINCT ?plan ?plan_number ?node WHERE {
  { SELECT DISTINCT ?plan ?plan_number WHERE {
      VALUES ?plan { $plans } ?plan eli:id_local ?plan_number } }
  OPTIONAL { ?plan kg:province ?stated }
  BIND(COALESCE(?stated, <urn:kgraph:none>) AS ?node) } }
  OPTIONAL { ?node skos:prefLabel ?plan_province } }"""
_PORTABLE_AGENT_NAMES = _PREFIXES + """SELECT DISTINCT ?agent ?canonical ?raw ?agency_province
WHERE {
  { SELECT DISTINCT ?agent ?canonical ?raw ?node WHERE {
  { SELECT DISTINCT ?agent ?canonical ?raw WHERE {
  { SELECT DISTINCT ?agent ?canonical WHERE {
      VALUES ?agent { $agents } OPTIONAL { ?agent skos:prefLabel ?canonical } } }
  OPTIONAL { ?agent rdfs:label ?raw } } }
  OPTIONAL { ?agent kg:province ?stated }
  BIND(COALESCE(?stated, <urn:kgraph:none>) AS ?node) } }
  OPTIONAL { ?node skos:prefLabel ?agency_province } }"""
REMOTE_CHUNK = plan_parts.CHUNK  # IRIs a request's VALUES names
_INTEGER = re.compile(r"[+-]?[0-9]+")  # the lexical forms xsd:integer() casts
Select = Callable[[str], Iterable[Sequence[str | None]]]  # a query's rows as plain values


def previous(repo: Repository) -> KeptFacts | None:
    """The facts kept for the repository's current version (read before a build's switch)."""
    return FAMILY.previous(repo)


def selector(repo: Repository) -> Select | None:
    """How the facts are read from the repository: its read-only store's solutions on disk or
    in memory, a remote store's plain rows (Virtuoso's CSV); None for anything else."""
    import pyoxigraph as ox

    native = getattr(repo, "reader", None)  # read-only on disk
    if isinstance(native, ox.Store):
        def rows(text: str) -> Iterable[Sequence[str | None]]:
            for solution in native.query(text, use_default_graph_as_union=True):
                yield tuple(None if t is None else t.value for t in solution)  # type: ignore[union-attr]
        return rows
    from kgraph.store.remote import RemoteRepository  # (only then: an HTTP client's imports)

    if isinstance(repo, RemoteRepository):
        return lambda text: plain_rows(repo, text)
    return None


def _boolean(value: str | None) -> str:
    """A stored boolean's canonical form (Virtuoso gives ``1`` and ``0``)."""
    return "true" if value in ("true", "1") else "false"


def read_facts(select: Select, graphs: Sequence[str] | None
               ) -> dict[str, dict[str, tuple[list[Fact], Own]]]:
    """Graph -> plan -> its fact rows and its own bodies' names, read from the store
    (``graphs``: those only)."""
    scope_clause = f"VALUES ?g {{ {plan_parts.values(graphs)} }}" if graphs is not None else ""

    def solutions(text: str) -> Iterable[Sequence[str | None]]:
        return select(text.replace("$scope", scope_clause))

    duties = {a: int(n) for a, n in solutions(_DUTIES) if a is not None and n is not None}
    named = {(g, agent) for g, agent in solutions(_OWN_NAMED)}
    labels: dict[tuple[str, str], set[str]] = {}
    for g, agent, raw in solutions(_OWN_LABELS):
        labels.setdefault((g, agent), set()).add(raw or "")  # type: ignore[arg-type]
    found: dict[str, dict[str, tuple[list[Fact], Own]]] = {}
    for graph, plan, assignment, no, requested, lead, kind, agent in solutions(_FACTS):
        kind = kind or ""  # STRAFTER(STR(?kindConcept), "#")
        rows, own = found.setdefault(graph, {}).setdefault(plan, ([], {}))  # type: ignore[arg-type]
        rows.append((assignment, no, _boolean(requested),  # type: ignore[arg-type]
                     lead in ("true", "1"), kind.partition("#")[2] if "#" in kind else "",
                     agent, duties.get(assignment, 0)))  # type: ignore[arg-type]
        if agent.startswith(plan + "/") and (graph, agent) not in named:
            own[agent] = tuple(sorted(labels.get((graph, agent), ())))
    for plans in found.values():
        for rows, _ in plans.values():
            rows.sort()
    return found


def _read(repo: Repository, graphs: Sequence[str] | None
          ) -> dict[str, dict[str, tuple[list[Fact], Own]]] | None:
    """The family's facts, from an embedded or a remote store (None: neither)."""
    select = selector(repo)
    return None if select is None else read_facts(select, graphs)


FAMILY = plan_parts.Family("assignments", FORMAT, _read)  # its parts per plan's scope
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
    (an embedded store's version with no facts kept). A remote store's version with none is
    answered from the store by :func:`remote_rows`."""
    import pyoxigraph as ox

    from kgraph.store.derived import kept_root

    doc = values.get("doc")
    native = getattr(repo, "reader", None)  # read-only on disk
    remote: RemoteRepository | None = None
    if not isinstance(native, ox.Store):  # (only then: an HTTP client's imports)
        from kgraph.store.remote import RemoteRepository

        remote = repo if isinstance(repo, RemoteRepository) else None
    if not doc or (remote is None and not isinstance(native, ox.Store)):
        return None
    key = str(ox.Literal(slugify(doc)))  # an escaped literal, never query text
    kept = previous(repo)
    if kept is None:
        return None if remote is None else remote_rows(remote, key)
    root = kept_root(repo)
    if remote is not None:
        plans = _carrying_out(remote, key)
    else:
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
            return None if remote is None else remote_rows(remote, key)  # removed since
        found = {plan: rows for graph_plans in part.values()
                 for plan, rows in graph_plans.items()}
        for plan in members:
            if plan in found:
                facts[plan], plan_own = pickle.loads(found[plan])
                own.update(plan_own)
    agents = sorted({row[5] for rows in facts.values() for row in rows} - set(own))
    if remote is not None:
        names = _portable_names(remote, sorted(facts), agents)
    else:
        names = _first_names(native, sorted(facts), agents)
    return _answer(facts, own, names)


def remote_rows(remote: RemoteRepository, key: str) -> Answer:
    """The answer over a remote store for the document numbered ``key`` (an escaped literal)
    with no facts kept for its version: the plans carrying it out walked one step a request,
    their facts and names read by the portable query's patterns, a chunk of plans a request,
    a few requests in flight (:func:`plan_parts.rows_of`) — the rows the query gives, never its
    unbounded path."""
    plans = _carrying_out(remote, key)
    chunks = [plan_parts.values(plans[start:start + REMOTE_CHUNK])
              for start in range(0, len(plans), REMOTE_CHUNK)]
    asked = plan_parts.rows_of(remote, [
        text.replace("$plans", scope) for scope in chunks
        for text in (_LIVE_DUTIES, _LIVE_FACTS, _PORTABLE_PLAN_NAMES)])
    facts: dict[str, list[Fact]] = {}
    for at in range(0, len(asked), 3):
        duties = {a: int(n) for a, n in asked[at] if a is not None and n is not None}
        for plan, assignment, no, requested, lead, kind, agent in asked[at + 1]:
            kind = kind or ""  # STRAFTER(STR(?kindConcept), "#")
            facts.setdefault(plan, []).append((  # type: ignore[arg-type]
                assignment, no, _boolean(requested), lead in ("true", "1"),  # type: ignore[arg-type]
                kind.partition("#")[2] if "#" in kind else "", agent,  # type: ignore[arg-type]
                duties.get(assignment, 0)))  # type: ignore[arg-type]
    for rows in facts.values():
        rows.sort()
    agents = sorted({row[5] for rows in facts.values() for row in rows})
    plan_names = _plan_names([row for at in range(2, len(asked), 3) for row in asked[at]],
                             set(facts))
    return _answer(facts, {}, (plan_names, _agent_names(remote, agents)))


Names = tuple[dict[str, list[tuple[str, str | None]]],
              dict[str, list[tuple[str | None, bool, str | None]]]]
# plan -> its (number, province name) pairs; agent -> its (agency, canonical?, province name)


def _answer(facts: dict[str, list[Fact]], own: Own, names: Names) -> Answer:
    """The query's rows from the plans' facts, their own bodies' names and the names read from
    the store, grouped and ordered as the query groups and orders them."""
    plan_names, named = names
    agencies: dict[str, list[tuple[str | None, bool, str | None]]] = {
        agent: [(f"? {raw}", False, None) for raw in raws] or [(None, False, None)]
        for agent, raws in own.items()}
    for agent, found_names in named.items():
        agencies.setdefault(agent, []).extend(found_names)
    groups: dict[Row, None] = {}
    for plan, rows in facts.items():
        # a plan without a number is left out (the query's inner join)
        for number, province in plan_names.get(plan, ()):
            for assignment, no, requested, lead, kind, agent, duties in rows:
                request = requested in ("true", "1")
                role = "đề nghị" if request else ("chủ trì" if lead else "thực hiện")
                for agency, canonical, agency_province in agencies.get(
                        agent, [(None, False, None)]):
                    groups[(number, province, no, agency, agency_province, role, requested,
                            str(duties), kind, assignment, "1" if canonical else "")] = None
    return Answer(COLUMNS, sorted(groups, key=_order_key))


def _first_names(native: ox.Store, plans: list[str], agents: list[str]) -> Names:
    """The plans' and agents' names by the Oxigraph text's patterns: the first found."""
    plan_names: dict[str, list[tuple[str, str | None]]] = {}
    if plans:
        for s in native.query(_PLAN_NAMES.replace("$plans", plan_parts.values(plans)),
                              use_default_graph_as_union=True):
            province = s["plan_province"]
            plan_names[s["plan"].value] = [(s["plan_number"].value,
                                            None if province is None else province.value)]
    named: dict[str, list[tuple[str | None, bool, str | None]]] = {}
    if agents:
        for s in native.query(_AGENT_NAMES.replace("$agents", plan_parts.values(agents)),
                              use_default_graph_as_union=True):
            canonical, raw, province = s["canonical"], s["raw"], s["agency_province"]
            if canonical is not None:
                name: str | None = canonical.value
            else:
                name = None if raw is None else f"? {raw.value}"
            named.setdefault(s["agent"].value, []).append(
                (name, canonical is not None, None if province is None else province.value))
    return plan_names, named


def _carrying_out(remote: RemoteRepository, key: str) -> list[str]:
    """The documents whose number key is ``key`` and every document carrying them out,
    transitively (the query's ``kg:implements*``), walked a step a request."""
    return plan_parts.carrying_out(remote, [
        r for (r,) in plain_rows(remote, _ROOTS.replace("$key", key)) if r is not None])


def _portable_names(remote: RemoteRepository, plans: list[str], agents: list[str]) -> Names:
    """The plans' and agents' names by the portable query's patterns (every value), a chunk
    of :data:`REMOTE_CHUNK` IRIs a request, a few in flight."""
    asked = plan_parts.rows_of(remote, [
        _PORTABLE_PLAN_NAMES.replace("$plans", plan_parts.values(plans[start:start + REMOTE_CHUNK]))
        for start in range(0, len(plans), REMOTE_CHUNK)])
    return _plan_names([row for rows in asked for row in rows]), _agent_names(remote, agents)


def _plan_names(rows: Iterable[Sequence[str | None]], plans: set[str] | None = None
                ) -> dict[str, list[tuple[str, str | None]]]:
    """Plan -> its (number, province name) pairs, from the portable plan names' rows (of
    ``plans`` only, when given)."""
    plan_names: dict[str, list[tuple[str, str | None]]] = {}
    for plan, number, province in rows:
        if plan is not None and number is not None and (plans is None or plan in plans):
            plan_names.setdefault(plan, []).append((number, province))
    return plan_names


def _agent_names(remote: RemoteRepository, agents: list[str]
                 ) -> dict[str, list[tuple[str | None, bool, str | None]]]:
    """Agent -> its (agency, canonical?, province name) by the portable query's patterns."""
    named: dict[str, list[tuple[str | None, bool, str | None]]] = {}
    for rows in plan_parts.rows_of(remote, [
            _PORTABLE_AGENT_NAMES.replace("$agents", plan_parts.values(
                agents[start:start + REMOTE_CHUNK]))
            for start in range(0, len(agents), REMOTE_CHUNK)]):
        for agent, canonical, raw, province in rows:
            if agent is None:
                continue
            name = canonical if canonical is not None else (
                None if raw is None else f"? {raw}")
            named.setdefault(agent, []).append((name, canonical is not None, province))
    return named
