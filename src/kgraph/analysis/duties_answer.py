"""The ``reporting`` named query and every plan's deadlines answered from facts the build keeps.

Asked for every plan, both read the whole store: at 20,000 plans the reporting query's 50,730
rows take the engine 4 CPU-s (each duty's names looked up one by one, most of them restated in
thousands of graphs), and the deadlines' dated parts 1.6 s on the first request of a version.
Their values split as the ``assignments`` answer's do (:mod:`kgraph.analysis.assignments_answer`):

* **a plan's own facts**, stated by its graph only (a duty's and a dated part's IRI is minted
  under the plan's): each reporting duty's frequency, due day or date, recipient, channel and
  reporter (the nodes, not their names), each dated part's kinds, item numbers, texts, deadline
  and frequency. The build keeps them per plan (:mod:`kgraph.analysis.plan_parts`, family
  ``duties``) and reads again the graphs it wrote only;
* **what any graph may state**: a plan's number and province, a node's names, which report
  answers a part. These are read from the store at every answer, by the queries' own patterns
  (the first statement found where they take one): no kept value can go stale when another
  graph changes. For thousands of plans, each subject's statements are read in one pass (a
  subject stated with one value has it first; the others are looked up one by one).

Several frequency labels of one duty are concatenated by the engine (its order, asked of it for
those duties only). A value these readers do not reproduce exactly (a dated part giving two
rows, two reports answering one) makes them return None: the query answers, as it does for a
version the build kept nothing for.
"""

from __future__ import annotations

import bisect
import pickle
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from kgraph.analysis import plan_parts
from kgraph.analysis.plan_parts import Answer, KeptFacts, bound
from kgraph.ingest.text import slugify
from kgraph.store.embedded import Repository

if TYPE_CHECKING:
    import pyoxigraph as ox

FORMAT = 1  # the layout of a plan's facts: another layout is not read
COLUMNS = ("plan_number", "province", "frequency", "due", "reporter", "recipient", "via", "duty")

# A reporting duty: its IRI, then its frequency nodes, due days (--mm-dd), due dates, recipient,
# channel and reporter nodes (a literal where a node is expected: None, which has no name).
Reporting = tuple[str, tuple[str | None, ...], tuple[str, ...], tuple[str, ...],
                  tuple[str | None, ...], tuple[str | None, ...], tuple[str | None, ...]]
# A dated part: its IRI, kinds ("duty", "reporting"), item numbers, texts, due dates, due days
# and frequency nodes.
Dated = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...],
              tuple[str, ...], tuple[str | None, ...]]
Facts = tuple[list[Reporting], list[Dated]]  # a plan's

_PREFIXES = """PREFIX kg: <https://w3id.org/kgraph/def#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""
KG = "https://w3id.org/kgraph/def#"
# Each plan's reporting duties and their facts, in the plan's own graph: one row naming the
# duty, then one per fact (an OPTIONAL inside ``GRAPH ?g`` took the engine three times longer).
_REPORTING = _PREFIXES + """SELECT ?g ?plan ?duty ?p ?o WHERE { $scope GRAPH ?g {
  ?plan kg:hasReportingDuty ?duty .
  { BIND(kg:none AS ?p) } UNION {
    ?duty ?p ?o FILTER(?p IN (kg:frequency, kg:dueDayMonth, kg:dueDate, kg:reportTo,
                              kg:reportVia, kg:reporter)) } } }"""
_REPORTING_FIELDS = {KG + "frequency": 0, KG + "dueDayMonth": 1, KG + "dueDate": 2,
                     KG + "reportTo": 3, KG + "reportVia": 4, KG + "reporter": 5}
_NODES = {0, 3, 4, 5}  # the fields whose values are nodes (named by other statements)
# Each plan's dated parts and their facts, in the plan's own graph (the plan a fact among
# them: joined to ``kg:partOf`` apart, the engine read every graph's parts for each; a part
# with a date and a day is read twice, into the same sets; a sub-select inside ``GRAPH ?g``
# is evaluated over every graph before the VALUES join, a one-plan build's 0.3 s).
_DATED = _PREFIXES + """SELECT ?g ?part ?p ?o WHERE { $scope GRAPH ?g {
  { ?part kg:dueDate ?due } UNION { ?part kg:dueDayMonth ?day }
  ?part ?p ?o
  FILTER(?p IN (kg:partOf, rdf:type, kg:itemNumber, kg:text, kg:sourceText, kg:dueDate,
                kg:dueDayMonth, kg:frequency)) } }"""
_DATED_FIELDS = {KG + "itemNumber": 1, KG + "text": 2, KG + "sourceText": 2, KG + "dueDate": 3,
                 KG + "dueDayMonth": 4, KG + "frequency": 5}
PART_OF = KG + "partOf"
_KINDS = {KG + "ReportingDuty": "reporting", KG + "Duty": "duty"}
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def read_facts(native: ox.Store, graphs: Sequence[str] | None) -> dict[str, dict[str, Facts]]:
    """Graph -> plan -> its reporting duties and dated parts, read from the store
    (``graphs``: those only)."""
    import pyoxigraph as ox

    scope_clause = f"VALUES ?g {{ {plan_parts.values(graphs)} }}" if graphs is not None else ""
    found: dict[str, dict[str, tuple[dict[str, list[set[str | None]]],
                                     dict[str, list[set[str | None]]]]]] = {}
    for s in native.query(_REPORTING.replace("$scope", scope_clause),
                          use_default_graph_as_union=True):
        plans = found.setdefault(s["g"].value, {})
        duties = plans.setdefault(s["plan"].value, ({}, {}))[0]
        fields = duties.setdefault(s["duty"].value, [set() for _ in range(6)])
        predicate, value = s["p"], s["o"]
        if value is not None:
            at = _REPORTING_FIELDS[predicate.value]
            node = at in _NODES
            fields[at].add(value.value if not node or isinstance(value, ox.NamedNode) else None)
    dated: dict[tuple[str, str], list[set[str | None]]] = {}
    owners: dict[tuple[str, str], set[str]] = {}
    for s in native.query(_DATED.replace("$scope", scope_clause), use_default_graph_as_union=True):
        where = (s["g"].value, s["part"].value)
        fields = dated.setdefault(where, [set() for _ in range(6)])
        predicate, value = s["p"].value, s["o"]
        if predicate == PART_OF:
            owners.setdefault(where, set()).add(value.value)
        elif predicate == RDF_TYPE:
            if value.value in _KINDS:
                fields[0].add(_KINDS[value.value])
        else:
            at = _DATED_FIELDS[predicate]
            fields[at].add(value.value if at != 5 or isinstance(value, ox.NamedNode) else None)
    for (graph, part), fields in dated.items():
        for plan in owners.get((graph, part), ()):
            found.setdefault(graph, {}).setdefault(plan, ({}, {}))[1][part] = fields
    return {graph: {plan: ([_sorted_fields(d, fields) for d, fields in sorted(duties.items())],
                           [_sorted_fields(p, fields) for p, fields in sorted(parts.items())])
                    for plan, (duties, parts) in plans.items()}
            for graph, plans in found.items()}


def _sorted_fields(iri: str, fields: list[set[str | None]]) -> Any:
    return (iri, *(tuple(sorted(f, key=lambda v: (v is not None, v or ""))) for f in fields))


def _read(repo: Repository, graphs: Sequence[str] | None
          ) -> dict[str, dict[str, Facts]] | None:
    """The family's facts, from a store on disk or in memory (None for a remote store: its
    terms come as plain values, and what a node is, a literal or an IRI, is read here)."""
    import pyoxigraph as ox

    native = getattr(repo, "reader", None)  # read-only on disk
    return read_facts(native, graphs) if isinstance(native, ox.Store) else None


FAMILY = plan_parts.Family("duties", FORMAT, _read)  # its parts per plan's scope


def previous(repo: Repository) -> KeptFacts | None:
    """The facts kept for the repository's current version."""
    return FAMILY.previous(repo)


# ---------------------------------------------------------------------------- reading


def _kept_facts(repo: Repository, plans: Iterable[str] | None, kept: KeptFacts | None = None
                ) -> tuple[ox.Store, dict[str, Facts]] | None:
    """The store and the kept facts of these plans (None: every plan's) in ``kept`` (else the
    current version's); None when the version kept none (or a part is gone)."""
    import pyoxigraph as ox

    from kgraph.store.derived import store_root

    native = getattr(repo, "reader", None)  # read-only on disk
    if not isinstance(native, ox.Store):
        return None
    kept = kept or previous(repo)
    if kept is None:
        return None
    facts = plan_facts(store_root(repo), kept, plans)
    return None if facts is None else (native, facts)


def plan_facts(root: Any, kept: KeptFacts, plans: Iterable[str] | None
               ) -> dict[str, Facts] | None:
    """Plan -> its facts kept in ``kept`` (a version's; ``plans``: those only, None: every
    plan's); None when a part is gone (removed by a later build)."""
    wanted = None if plans is None else set(plans)
    names = sorted(set(kept.parts) if wanted is None
                   else {kept.plans[p] for p in wanted if p in kept.plans})
    facts: dict[str, Facts] = {}
    for name in names:
        part = plan_parts.read_part(root, kept.parts[name])
        if part is None:
            return None  # removed by a later build: the query answers
        for graph_plans in part.values():
            for plan, packed in graph_plans.items():
                if wanted is None or plan in wanted:
                    facts[plan] = pickle.loads(packed)
    return facts


_PLANS_BY_KEY = _PREFIXES + "SELECT DISTINCT ?plan WHERE { ?plan kg:numberKey $key }"
_FIRST = _PREFIXES + """SELECT ?s ?o WHERE { VALUES ?s { $subjects }
  LATERAL { SELECT ?s ?o WHERE { ?s $predicate ?o } LIMIT 1 } }"""
_EVERY = _PREFIXES + "SELECT DISTINCT ?s ?o WHERE { ?s $predicate ?o }"
ONE_BY_ONE = 2000  # subjects looked up one by one; more: every statement read in one pass


def first_values(native: ox.Store, predicate: str, subjects: Iterable[str]) -> dict[str, Any]:
    """Subject -> the first statement found of ``?s predicate ?o`` (its object term), as the
    queries' ``LIMIT 1`` lookups take it; a subject without one is left out."""
    wanted = set(subjects)
    found: dict[str, Any] = {}
    if len(wanted) > ONE_BY_ONE:  # one pass: a subject stated with one value has it first
        seen: dict[str, list[Any]] = {}
        for s in native.query(_EVERY.replace("$predicate", predicate),
                              use_default_graph_as_union=True):
            subject = s["s"].value
            if subject in wanted:
                seen.setdefault(subject, []).append(s["o"])
        found = {subject: values[0] for subject, values in seen.items() if len(values) == 1}
        wanted = {subject for subject, values in seen.items() if len(values) > 1}
    if wanted:
        text = _FIRST.replace("$predicate", predicate).replace(
            "$subjects", plan_parts.values(sorted(wanted)))
        found.update((s["s"].value, s["o"]) for s in native.query(
            text, use_default_graph_as_union=True))
    return found


def _labels(native: ox.Store, nodes: Iterable[str | None], predicate: str, *, first: bool,
            vietnamese: bool = False) -> dict[str, list[Any]]:
    """Node -> its labels (terms): the first found, or every distinct one (``vietnamese``:
    those tagged @vi only)."""
    iris = sorted({n for n in nodes if n is not None})
    if not iris:
        return {}
    language = ' FILTER(LANG(?o) = "vi")' if vietnamese else ""
    inner = (f"SELECT ?s ?o WHERE {{ ?s {predicate} ?o{language} }} LIMIT 1" if first
             else f"SELECT DISTINCT ?s ?o WHERE {{ ?s {predicate} ?o{language} }}")
    text = _PREFIXES + f"""SELECT ?s ?o WHERE {{ VALUES ?s {{ {plan_parts.values(iris)} }}
      LATERAL {{ {inner} }} }}"""
    found: dict[str, list[Any]] = {}
    for s in native.query(text, use_default_graph_as_union=True):
        found.setdefault(s["s"].value, []).append(s["o"])
    return found


def _tagged(term: Any) -> bool | None:
    """Whether a name is tagged @vi (True), a plain string (False); None for another kind."""
    language = getattr(term, "language", None)
    if language == "vi":
        return True
    if language is None and str(getattr(term, "datatype", "")).endswith("#string"):
        return False
    return None


def plan_names(native: ox.Store, plans: Iterable[str]
               ) -> tuple[dict[str, str], dict[str, tuple[str, bool] | None]]:
    """Each plan's number (the first found; a plan without one is left out) and its province's
    name (the first found of its first province, and whether it is tagged @vi), as the
    queries take them."""
    plans = list(plans)
    numbers = {plan: term.value for plan, term in
               first_values(native, "eli:id_local", plans).items()}
    stated = {plan: term.value for plan, term in
              first_values(native, "kg:province", numbers).items()}
    names = _labels(native, stated.values(), "skos:prefLabel", first=True)
    provinces: dict[str, tuple[str, bool] | None] = {}
    for plan in numbers:
        label = names.get(stated.get(plan, ""), [None])[0]
        provinces[plan] = None if label is None else (label.value, bool(_tagged(label)))
    return numbers, provinces


# ------------------------------------------------------------------- reporting, kept answer

# The query's columns, then whether each name (province, frequency, reporter, recipient, via)
# is tagged @vi ("1") or a string ("").
Row = tuple[str | None, ...]


def _order_key(row: Row) -> tuple[object, ...]:
    """The query's ORDER BY (unbound first, strings and IRIs by code point): ?province
    ?plan_number ?duty ?recipient ?due ?reporter ?via."""
    number, province, _, due, reporter, recipient, via, duty = row[:8]
    return (bound(province), bound(number), bound(duty), bound(recipient), bound(due),
            bound(reporter), bound(via), row[8:])


EVERY_PLAN = f"reporting-answer-{FORMAT}"  # every plan's, kept once per version


def reporting_rows(repo: Repository, values: dict[str, str]) -> Answer | None:
    """The ``reporting`` answer for ``values`` (``doc``, or every plan) from the facts the build
    kept for the store's version and the names the store states now; None when the query must
    answer (no facts kept for this version, a value not reproduced exactly). Every plan's is
    kept once made, for the version (at 20,000 plans, 50,730 rows made in a second; read again
    in a tenth of it), and made from the version before's where it can (:func:`_patched`)."""
    from kgraph.store.derived import derived

    doc = (values.get("doc") or "").strip()
    kept = previous(repo)
    if kept is None:
        return None  # no facts kept for this version (an older store, a remote one)
    if not doc:
        return derived(repo, EVERY_PLAN, lambda: _every_reporting(repo, kept))
    import pyoxigraph as ox

    native = getattr(repo, "reader", None)
    if not isinstance(native, ox.Store):
        return None
    key = str(ox.Literal(slugify(doc)))  # an escaped literal, never query text
    plans = [s["plan"].value for s in native.query(_PLANS_BY_KEY.replace("$key", key),
                                                   use_default_graph_as_union=True)]
    return _reporting_rows(repo, plans, kept)


def _every_reporting(repo: Repository, kept: KeptFacts) -> Answer | None:
    """Every plan's reporting rows (:func:`_every`)."""

    def merged(base: Answer, gone: set[str], fresh: Answer) -> Answer:
        rows = [row for row in base.rows if row[7] not in gone]
        for row in sorted(fresh.rows, key=_order_key):  # a few rows into the sorted others
            rows.insert(bisect.bisect_right(rows, _order_key(row), key=_order_key), row)
        return Answer(COLUMNS, rows)

    return _every(repo, kept, EVERY_PLAN, lambda plans: _reporting_rows(repo, plans, kept),
                  merged)


T = TypeVar("T")


def _every(repo: Repository, kept: KeptFacts, name: str,
           make: Callable[[Sequence[str] | None], T | None],
           merged: Callable[[T, set[str], T], T]) -> T | None:
    """Every plan's answer ``name``: the version before's, its rows of the duties and parts
    that may differ dropped and those of the plans they belong to made again
    (:func:`_patched`), else made whole (``make(None)``)."""
    patch = _patched(repo, kept, name)
    if patch is None:
        return make(None)
    base, gone, plans = patch
    fresh = make(sorted(plans))
    return None if fresh is None else merged(base, gone, fresh)


def _reporting_rows(repo: Repository, plans: Sequence[str] | None, kept: KeptFacts
                    ) -> Answer | None:
    read = _kept_facts(repo, plans, kept)
    if read is None:
        return None
    native, facts = read
    duties = {plan: own[0] for plan, own in facts.items() if own[0]}
    numbers, provinces = plan_names(native, duties)
    every = [duty for plan in numbers for duty in duties[plan]]
    frequencies = _labels(native, (n for d in every for n in d[1]), "skos:prefLabel",
                          first=False, vietnamese=True)
    recipients = _labels(native, (n for d in every for n in d[4]), "skos:prefLabel", first=True)
    raw = _labels(native, (n for d in every for n in d[4] if n not in recipients), "rdfs:label",
                  first=False)
    named = _labels(native, (n for d in every for k in (5, 6) for n in d[k]), "skos:prefLabel",
                    first=True)
    several = _concatenated(native, _REPORTING_FREQUENCIES, [
        d[0] for d in every if len({t for n in d[1] if n for t in frequencies.get(n, [])}) > 1])
    groups: dict[Row, None] = {}
    for plan, number in numbers.items():
        province = provinces[plan]
        for duty, freq_nodes, days, dates, to, via, reporter in duties[plan]:
            labels = {(t.value, _tagged(t)) for n in freq_nodes if n is not None
                      for t in frequencies.get(n, [])}
            if duty in several:  # in the order the engine concatenates them
                labels = {(several[duty].value, _tagged(several[duty]))}
            if any(tag is None for _, tag in labels):
                return None  # a label neither tagged @vi nor a string: the query answers
            frequency, freq_tag = next(iter(labels), (None, False))  # none: unbound
            dues: Iterable[str | None] = sorted(set(dates)) or sorted(set(days)) or [None]
            names: set[tuple[str, bool | None] | None] = set()
            for node in to or (None,):
                found = recipients.get(node or "") or raw.get(node or "") or [None]
                names.update(None if t is None else (t.value, _tagged(t)) for t in found)
            vias = _names(via, named)
            reporters = _names(reporter, named)
            if any(n is not None and n[1] is None for n in names | vias | reporters):
                return None  # a name neither tagged @vi nor a string
            for due in dues:
                for recipient in names:
                    for channel in vias:
                        for by in reporters:
                            groups[(number, None if province is None else province[0],
                                    frequency, due, by and by[0], recipient and recipient[0],
                                    channel and channel[0], duty,
                                    _flag(province), "1" if freq_tag else "", _flag(by),
                                    _flag(recipient), _flag(channel))] = None
    return Answer(COLUMNS, sorted(groups, key=_order_key))


# Several frequency labels of one duty (or dated part) concatenated as the queries concatenate
# them: the engine's order, asked of it for those only.
_REPORTING_FREQUENCIES = _PREFIXES + """SELECT ?s (GROUP_CONCAT(DISTINCT ?freq; separator=" + ")
    AS ?o) WHERE { VALUES ?s { $subjects }
  LATERAL { { SELECT DISTINCT ?s ?frequency_node WHERE { ?s kg:frequency ?frequency_node } }
      LATERAL { SELECT DISTINCT ?frequency_node ?freq WHERE {
          ?frequency_node skos:prefLabel ?freq FILTER(LANG(?freq) = "vi") } } } } GROUP BY ?s"""
_DEADLINE_FREQUENCIES = _PREFIXES + """SELECT ?s (GROUP_CONCAT(DISTINCT ?freq; separator=" + ")
    AS ?o) WHERE { VALUES ?s { $subjects }
  LATERAL { SELECT DISTINCT ?s ?freq WHERE {
      ?s kg:frequency/skos:prefLabel ?freq FILTER(LANG(?freq) = "vi") } } } GROUP BY ?s"""


def _concatenated(native: ox.Store, text: str, subjects: list[str]) -> dict[str, Any]:
    """Subject -> its labels concatenated by the engine (``text``), for these subjects."""
    if not subjects:
        return {}
    return {s["s"].value: s["o"] for s in native.query(
        text.replace("$subjects", plan_parts.values(sorted(set(subjects)))),
        use_default_graph_as_union=True)}


def _names(nodes: tuple[str | None, ...], named: dict[str, list[Any]]
           ) -> set[tuple[str, bool | None] | None]:
    """The first name of each node that has one, or one unbound value."""
    found = {(named[n][0].value, _tagged(named[n][0])) for n in nodes if n in named}
    return found or {None}


def _flag(name: tuple[str, bool | None] | None) -> str:
    return "1" if name is not None and name[1] else ""


# ------------------------------------------------------------------ deadlines, kept facts

_ANSWERED = _PREFIXES + """SELECT ?part ?report WHERE {
  { SELECT DISTINCT ?part ?report WHERE { ?answer kg:answers ?part ; eli:id_local ?report } } }"""


EVERY_DATED = "every-deadline-kept"  # every plan's dated parts, kept once per version


def every_dated(repo: Repository) -> list[dict[str, str | None]] | None:
    """Every plan's :func:`deadline_records` (:func:`_every`)."""
    kept = previous(repo)
    if kept is None:
        return None
    return _every(repo, kept, EVERY_DATED, lambda plans: deadline_records(repo, plans, kept),
                  lambda base, gone, fresh: [r for r in base if r["part"] not in gone] + fresh)


def deadline_records(repo: Repository, plans: Sequence[str] | None = None,
                     kept: KeptFacts | None = None) -> list[dict[str, str | None]] | None:
    """Every plan's dated parts (``plans``: those only) as :func:`kgraph.analysis.succession.
    deadlines` reads them (its records: number, part, kind, item, due, dayMonth, text,
    frequency, answered), from the facts the build kept and the numbers, names and answering
    reports the store states now; None when the version kept none or a part would give two
    records (the query answers)."""
    read = _kept_facts(repo, plans, kept)
    if read is None:
        return None
    native, facts = read
    dated = {plan: own[1] for plan, own in facts.items() if own[1]}
    numbers = {plan: term.value for plan, term in
               first_values(native, "eli:id_local", dated).items()}
    every = [part for plan in numbers for part in dated[plan]]
    frequencies = _labels(native, (n for p in every for n in p[6]), "skos:prefLabel",
                          first=False, vietnamese=True)
    answered: dict[str, list[str]] = {}
    for s in native.query(_ANSWERED, use_default_graph_as_union=True):
        answered.setdefault(s["part"].value, []).append(s["report"].value)
    several = _concatenated(native, _DEADLINE_FREQUENCIES, [
        p[0] for p in every if len({t for n in p[6] if n for t in frequencies.get(n, [])}) > 1])
    records: list[dict[str, str | None]] = []
    for plan, number in numbers.items():
        for part, kinds, items, texts, dates, days, freq_nodes in dated[plan]:
            if not kinds:
                continue  # neither a duty nor a reporting duty
            labels = ({several[part].value} if part in several else
                      {t.value for n in freq_nodes if n is not None
                       for t in frequencies.get(n, [])})
            reports = answered.get(part, [])
            if (len(kinds) > 1 or len(items) > 1 or len(texts) > 1 or len(dates) + len(days) > 1
                    or len(reports) > 1):
                return None  # two records, or reports concatenated in the engine's order
            records.append({"number": number, "part": part, "kind": kinds[0],
                            "item": items[0] if items else None,
                            "due": dates[0] if dates else None,
                            "dayMonth": days[0] if days else None,
                            "text": texts[0] if texts else None,
                            "frequency": next(iter(labels), ""),
                            "answered": reports[0] if reports else None})
    return records


# ---------------------------------------------------- made from the version before's answer

# What the answers read by name, of any subject (a plan's number and province, a node's
# names, a report's number), and the facts of a plan's part that name a node.
_NAMES = ("http://data.europa.eu/eli/ontology#id_local", KG + "province",
          "http://www.w3.org/2004/02/skos/core#prefLabel",
          "http://www.w3.org/2000/01/rdf-schema#label")
_NAMING = (KG + "frequency", KG + "reportTo", KG + "reportVia", KG + "reporter")
ANSWERS = KG + "answers"
# Up to this many plans (or a quarter of them) made again; more: the answer is made whole.
PATCHED_PLANS = 100


def _patched(repo: Repository, kept: KeptFacts, name: str
             ) -> tuple[Any, set[str], set[str]] | None:
    """What every plan's answer ``name`` is made from after small builds: the answer the
    version before kept (else, when nobody asked that version, the newest answer a version
    kept, carried to this one by the builds since: :func:`carry`), its duties and dated parts
    whose rows may differ now (dropped from it) and the plans whose rows are made again (those
    the builds since that answer made dirty, :func:`_dirty`). None when no answer is kept
    within reach, the version before is gone, or the changes are large (made whole)."""
    from kgraph.analysis import versions

    changes = versions.changes(repo, (FAMILY.version_value,))
    if changes is None:
        return None
    base = changes.base_value(name)
    since: tuple[set[str], set[str]] = (set(), set())
    if not base:  # nobody asked the version before: the answer carried to this version
        base, carried = _carried(repo, name)
        if not base or carried is None:
            return None
        since = carried
    step = _dirty(changes, kept)
    if step is None:
        return None
    plans, gone = since[0] | step[0], since[1] | step[1]
    return None if len(plans) > _limit(kept) else (base, gone, plans)


def _limit(kept: KeptFacts) -> int:
    """Plans made again at most: more, and the answer is made whole."""
    return max(PATCHED_PLANS, len(kept.plans) // 4)


def _dirty(changes: Any, kept: KeptFacts) -> tuple[set[str], set[str]] | None:
    """The plans whose rows of every plan's answers may differ between the version a build
    started from and the one it made (``changes``: :class:`kgraph.analysis.versions.Changes`;
    ``kept``: the made version's facts), and their duties and dated parts in either version
    (the rows to drop from the older answer). Those plans are the ones whose facts the build
    read again (its written graphs', before and now), those whose number or province changed,
    those naming a node whose names changed (a province, a frequency, a body, a report
    answering a part) and those whose parts a written graph says a report answers: what the
    answer reads from the store can differ for those only. None when the version before kept
    no facts or a part is gone, or the changes are large."""
    import pyoxigraph as ox

    from kgraph.store.derived import store_root

    base_kept = changes.base_value(FAMILY.version_value)
    if not isinstance(base_kept, KeptFacts):
        return None
    root = store_root(changes.repo)
    plans: set[str] = set()
    for facts in (base_kept, kept):
        written = plan_parts.written_plans(root, facts, changes.graphs)
        if written is None:
            return None
        plans |= written
    renamed = changes.renamed(_NAMES)
    if renamed is None:
        return None
    limit = _limit(kept)
    stores, current = (changes.base.reader, changes.current), changes.current
    answers, part_of, province = (ox.NamedNode(p) for p in (ANSWERS, PART_OF, KG + "province"))
    parts = {q.object.value for store in stores for graph in changes.graphs
             for q in store.quads_for_pattern(None, answers, None, ox.NamedNode(graph))
             if isinstance(q.object, ox.NamedNode)}
    for node in (ox.NamedNode(iri) for iri in sorted(renamed)):
        plans.add(node.value)  # (a subject that is no plan is left out below)
        plans.update(q.subject.value for q in current.quads_for_pattern(None, province, node))
        for predicate in _NAMING:
            parts.update(q.subject.value for q in current.quads_for_pattern(
                None, ox.NamedNode(predicate), node) if isinstance(q.subject, ox.NamedNode))
        parts.update(q.object.value for store in stores
                     for q in store.quads_for_pattern(node, answers, None)
                     if isinstance(q.object, ox.NamedNode))
        if len(parts) > 8 * limit:
            return None  # a name many plans show changed: made whole
    for part in sorted(parts):
        plans.update(q.object.value for q in current.quads_for_pattern(
            ox.NamedNode(part), part_of, None))
    plans &= set(kept.plans) | set(base_kept.plans)
    if len(plans) > limit:
        return None
    gone: set[str] = set()
    for facts in (base_kept, kept):
        found = plan_facts(root, facts, plans)
        if found is None:
            return None
        gone.update(item[0] for duties, dated in found.values() for item in (*duties, *dated))
    return plans, gone


# ------------------------------------------------- carried across builds nobody asked between

ANSWER_NAMES = (EVERY_PLAN, EVERY_DATED)
CARRIED = "-carried"  # an answer's name + this: the newest answer an earlier version kept
# Per answer name: the plans and items made dirty from the version that kept the carried
# answer up to the version a build started from (the last build's own: read when asked).
DIRTY = f"duties-dirty-{FORMAT}"


def _carried(repo: Repository, name: str) -> tuple[Any, tuple[set[str], set[str]] | None]:
    """The answer ``name`` carried to the current version and what is dirty since it."""
    from kgraph.store.derived import version_value

    since = _carried_since(repo, name)
    return (version_value(repo, name + CARRIED) if since is not None else None), since


def carry(repo: Repository) -> Callable[[], None] | None:
    """What a build keeps for the version it makes, worked out before it writes (the current
    version and the one it started from are both still on disk then): each every-plan answer
    of the newest version that kept one, linked, with the plans dirty since. An answer of the
    current version is carried with none; one carried to it, with those it carries and the
    current version's own build's (:func:`_dirty`, the version it started from read now: it
    is gone once the new version is current). Nothing is computed when the current version
    has its answers (a server asked for them, or a full build made them). Returns what to do
    once the new version is current (None: nothing to carry)."""
    from kgraph.analysis import versions
    from kgraph.store.derived import kept_file

    kept = previous(repo)
    if kept is None:
        return None
    links: dict[str, Any] = {}  # name carried -> the file kept for the current version
    dirty: dict[str, tuple[set[str], set[str]]] = {}
    worked: list[tuple[set[str], set[str]] | None] = []  # the last build's, once worked out
    for name in ANSWER_NAMES:
        own = kept_file(repo, name)
        if own is not None:
            links[name + CARRIED], dirty[name] = own, (set(), set())
            continue
        carried, since = kept_file(repo, name + CARRIED), _carried_since(repo, name)
        if carried is None or since is None:
            continue
        if not worked:
            changes = versions.changes(repo, (FAMILY.version_value,))
            worked.append(_dirty(changes, kept) if changes is not None else None)
            versions.release()  # the version before: gone with the switch
        step = worked[0]
        if step is None:
            continue
        plans, gone = since[0] | step[0], since[1] | step[1]
        if len(plans) <= _limit(kept):
            links[name + CARRIED], dirty[name] = carried, (plans, gone)
    if not links:
        return None

    def keep() -> None:
        from kgraph.store.derived import keep_version_value, link_version_value

        for name, source in links.items():
            link_version_value(repo, source, name)
        keep_version_value(repo, DIRTY, dirty)

    return keep


def _carried_since(repo: Repository, name: str) -> tuple[set[str], set[str]] | None:
    """The plans and items dirty since the answer ``name`` carried to the current version, up
    to the version its build started from (None: none carried)."""
    from kgraph.store.derived import version_value

    record = version_value(repo, DIRTY)
    return record.get(name) if isinstance(record, dict) else None


def warm(repo: Repository) -> None:
    """Make every plan's reporting answer and dated parts of the current version (what a
    server's first request for them would wait for)."""
    from kgraph.analysis.succession import every_deadline

    reporting_rows(repo, {})
    every_deadline(repo)
