"""Who holds a plan's tasks on a date: walk each named body through the reference graph's changes.

A 2024 plan names the Sở Lao động - Thương binh và Xã hội of Kiên Giang; on 1 Mar 2025 it was
dissolved and its functions split (children -> Sở Y tế ...), on 1 Jul 2025 Kiên Giang merged into
An Giang. :func:`responsible` follows, for every assignment, duty and reporting duty, the
``org:ChangeEvent``s whose ``org:originalOrganization`` is the body, in date order up to the chosen
date. A split (``kg:transfer``) is resolved by the task's words: the function whose signal words
the text holds most (``kg:signalWord``, matched in the folded OCR-repaired key space) gives the
successor; no signal gives the split's default at its (low) confidence. Every step keeps its date,
legal basis and confidence, so the answer carries its own trail.

:func:`deadlines` puts every dated duty and reporting duty in the tracking buckets of a date.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef

from kgraph.analysis.plan_parts import Answer
from kgraph.errors import QueryError
from kgraph.graph.vocab import sparql_prefixes
from kgraph.ingest.text import match_key, slugify
from kgraph.resources import REFERENCE_GRAPH
from kgraph.store.derived import derived
from kgraph.store.embedded import (
    OxigraphRepository,
    QueryResult,
    Repository,
    query_records,
    store_version,
)

MAX_STEPS = 12
AMBIGUOUS_BELOW = 0.5  # a chain whose weakest step is below this is flagged by the audit
CONTEXT_FACTOR = 0.8  # a successor chosen by the plan's title, not the task's own words
DUE_WINDOW_DAYS = 30  # "due" (đến hạn): the deadline falls within this many days

ROLE_LABELS = {
    "assigned": "được giao",
    "lead": "chủ trì",
    "coordinate": "phối hợp",
    "report": "báo cáo",
    "report-via": "báo cáo qua",
}

PREFIXES = sparql_prefixes() + "PREFIX dcat: <http://www.w3.org/ns/dcat#>\n"


@dataclass(frozen=True)
class Step:
    """One change a body went through: from one body to the next, with its trail."""

    date: str
    event: str
    source: str
    target: str
    basis: tuple[str, ...]  # legal basis numbers ("45/2025/NĐ-CP")
    confidence: float
    function: str | None = None  # the function label that chose the successor of a split
    default: bool = False  # a split's default: no signal word in the task


@dataclass
class Responsibility:
    """One body a plan names for one part, and who holds that part on the date."""

    plan: str
    part: str
    item: str
    role: str
    text: str
    named: str
    holder: str
    steps: list[Step] = field(default_factory=list)
    status: str = "unchanged"  # unchanged | succeeded | ended | unresolved
    holder_exists: bool = True
    labels: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)  # body -> names

    @property
    def confidence(self) -> float:
        return min((s.confidence for s in self.steps), default=1.0)

    @property
    def ambiguous(self) -> bool:
        return any(s.default for s in self.steps) or self.confidence < AMBIGUOUS_BELOW


@dataclass
class _Event:
    iri: str
    date: str
    results: list[str]
    confidence: float | None
    bases: list[str] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)


def parse_date(value: str | dt.date | None) -> dt.date:
    """The date asked about: ISO yyyy-mm-dd, empty for today; anything else is a user error."""
    if isinstance(value, dt.date):
        return value
    if not value or not value.strip():
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise QueryError(f"date {value!r} is not a date of the form yyyy-mm-dd") from exc


def _values(iris: set[str]) -> str:
    return " ".join(f"<{i}>" for i in sorted(iris))


def _key_space(text: str) -> str:
    return f" {match_key(text)} "


def _true(value: object) -> bool:
    """An ``xsd:boolean`` term, or its plain value ("true", "1"; Virtuoso's CSV writes 1)."""
    return bool(value.toPython()) if hasattr(value, "toPython") else str(value) in ("true", "1")


def _change_events(repo: Repository) -> ChangeEvents:
    """Every change event of the reference graph, grouped by the body it leaves.

    The query is the one that was asked per request for a handful of bodies (0.2-0.3 s a
    request at any corpus size: its OPTIONALs hash-join every transfer of the graph whatever
    the bodies), asked once for all of them. The rows of a body come in the same order either
    way, so a split's first result and the order of its transfers, i.e. its tie-breaks, are
    those of the per-body query (tested on every body of the reference graph).
    """
    graph = f"GRAPH <{REFERENCE_GRAPH}>"
    sparql = PREFIXES + f"""
        SELECT ?org ?event ?date ?result ?conf ?number
               ?t ?tfrom ?tto ?tconf ?tdefault ?tfunction WHERE {{ {graph} {{
          ?event org:originalOrganization ?org ; dcterms:date ?date ;
                 org:resultingOrganization ?result .
          OPTIONAL {{ ?event kg:confidence ?conf }}
          OPTIONAL {{ ?event kg:legalBasis/eli:id_local ?number }}
          OPTIONAL {{ ?event kg:transfer ?t . ?t kg:transferredFrom ?tfrom ;
                      kg:transferredTo ?tto ; kg:confidence ?tconf .
                      OPTIONAL {{ ?t kg:isDefault ?tdefault }}
                      OPTIONAL {{ ?t kg:function ?tfunction }} }} }} }}"""
    # a remote store's plain values (Virtuoso's CSV: 6.7 MB of JSON took it 2.2 s), else terms
    plain = getattr(repo, "plain_rows", None)
    rows: list[tuple[object, ...]] = (list(plain(sparql)[1]) if plain is not None
                                      else list(repo.query(sparql).rows))
    events: dict[str, list[_Event]] = defaultdict(list)
    by_key: dict[tuple[str, str], _Event] = {}
    for org, event, date, result, conf, number, t, tfrom, tto, tconf, tdefault, tfn in rows:
        key = (str(org), str(event))
        found = by_key.get(key)
        if found is None:
            found = by_key[key] = _Event(str(event), str(date), [],
                                         float(conf) if conf is not None else None)
            events[key[0]].append(found)
        if str(result) not in found.results:
            found.results.append(str(result))
        if number is not None and str(number) not in found.bases:
            found.bases.append(str(number))
            found.bases.sort()  # one order whatever order the store returns rows in
        if t is not None and str(tfrom) == key[0]:
            transfer = {"iri": str(t), "to": str(tto), "confidence": float(tconf),
                        "default": tdefault is not None and _true(tdefault),
                        "function": str(tfn) if tfn is not None else None}
            if transfer not in found.transfers:
                found.transfers.append(transfer)
    for leaving in events.values():
        leaving.sort(key=lambda e: e.date)
    signals: dict[str, tuple[str, list[str]]] = {}
    for f, label, word in repo.query(PREFIXES + f"""
            SELECT ?f ?label ?word WHERE {{ {graph} {{
              ?f a kg:Function ; skos:prefLabel ?label ; kg:signalWord ?word .
              FILTER(LANG(?label) = "vi") }} }}""").rows:
        entry = signals.setdefault(str(f), (str(label), []))
        entry[1].append(_key_space(str(word)))
    return ChangeEvents(dict(events), signals)


@dataclass
class ChangeEvents:
    """The reference graph's change events by the body they leave, and each function's signal
    words: read once per store version (:func:`change_events`)."""

    events: dict[str, list[_Event]]
    signals: dict[str, tuple[str, list[str]]]  # function IRI -> (label, words in key space)


def change_events(repo: Repository) -> ChangeEvents:
    """The reference graph's change events, kept per store version (a request reads a dict)."""
    return derived(repo, "change-events", lambda: _kept_change_events(repo))


def _kept_change_events(repo: Repository) -> ChangeEvents:
    """The base version's events when a build left the reference graph as it was
    (:mod:`kgraph.analysis.versions`: it records the graphs it replaced), else read."""
    from kgraph.analysis.versions import changes

    found = changes(repo, ["change-events"])
    kept = found.base_value("change-events") if found is not None else None
    return kept if isinstance(kept, ChangeEvents) else _change_events(repo)


class Successions:
    """The change events of the reference graph, followed hop by hop for the bodies asked about."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.events: dict[str, list[_Event]] = {}  # original -> events (shared: never mutated)
        self.labels: dict[str, tuple[str, str]] = {}  # body -> (name, province)
        self.periods: dict[str, tuple[str, str]] = {}
        self._changes: ChangeEvents | None = None

    @property
    def changes(self) -> ChangeEvents:
        if self._changes is None:
            self._changes = change_events(self.repo)
        return self._changes

    def signals(self) -> dict[str, tuple[str, list[str]]]:
        """Function IRI -> (label, signal words in key space)."""
        return self.changes.signals

    def load(self, bodies: set[str]) -> None:
        """The change events leaving these bodies."""
        for body in bodies - set(self.events):
            self.events[body] = self.changes.events.get(body, [])

    def load_reachable(self, bodies: set[str]) -> None:
        """Load, hop by hop, the events of every body reachable from these (few queries)."""
        frontier = set(bodies)
        for _ in range(MAX_STEPS):
            frontier -= set(self.events)
            if not frontier:
                return
            self.load(frontier)
            frontier = {r for b in frontier for e in self.events[b] for r in e.results}

    def describe(self, bodies: set[str]) -> None:
        """Names, provinces and periods of bodies (reference graph and the plans' own graphs)."""
        todo = {b for b in bodies if b not in self.labels}
        if not todo:
            return
        values = f"VALUES ?org {{ {_values(todo)} }}"
        # Each fact on its own DISTINCT query: a body's name and province are restated in every
        # graph that names it, and OPTIONALs over those copies multiply (300 x 300 rows a body).
        names: dict[str, str] = {}
        for org, name, raw in self.repo.query(PREFIXES + f"""
                SELECT DISTINCT ?org ?name ?raw WHERE {{ {values}
                  {{ ?org skos:prefLabel ?name }} UNION {{ ?org rdfs:label ?raw }} }}""").rows:
            if name is not None or str(org) not in names:
                names[str(org)] = str(name or raw)
        provinces = {str(org): str(label) for org, label in self.repo.query(PREFIXES + f"""
            SELECT DISTINCT ?org ?label WHERE {{ {values}
              {{ SELECT DISTINCT ?org ?province WHERE {{ {values} ?org kg:province ?province }} }}
              ?province skos:prefLabel ?label }}""").rows}
        for org, start, end in self.repo.query(PREFIXES + f"""
                SELECT ?org ?start ?end WHERE {{ GRAPH <{REFERENCE_GRAPH}> {{ {values}
                  ?org dcterms:temporal ?period .
                  OPTIONAL {{ ?period dcat:startDate ?start }}
                  OPTIONAL {{ ?period dcat:endDate ?end }} }} }}""").rows:
            self.periods[str(org)] = (str(start or ""), str(end or ""))
        for org in todo:
            self.labels[org] = (names.get(org, org), provinces.get(org, ""))

    def exists_on(self, body: str, date: str) -> bool | None:
        """Whether the body exists on the date (None: the reference graph does not know it)."""
        if body not in self.periods:
            return None
        start, end = self.periods[body]
        return (not start or start <= date) and (not end or date <= end)

    def choose(self, event: _Event, source: str, text: str, context: str = ""
               ) -> tuple[str, float, str | None, bool]:
        """(successor, confidence, function label, default?) of one event for one task's text.

        A task whose own words signal no function is judged by its context (the plan's title:
        a plan on child protection that names the Sở LĐTBXH means its children's side), at a
        lower confidence; with no signal there either, the split's default is a guess.
        """
        chosen = self._choose(event, source, text)
        if chosen[3] and context:
            to, confidence, label, default = self._choose(event, source, context)
            if not default:
                return (to, round(confidence * CONTEXT_FACTOR, 3),
                        f"{label} (theo tên văn bản)", False)
        return chosen

    def _choose(self, event: _Event, source: str, text: str) -> tuple[str, float, str | None, bool]:
        transfers = [t for t in event.transfers if t["function"] or t["default"]]
        if not transfers:
            results = [r for r in event.results if r != source]
            confidence = event.confidence if event.confidence is not None else 1.0
            if len(results) == 1:
                return results[0], confidence, None, False
            return (results[0] if results else source), min(confidence, 0.3), None, True
        signals = self.signals()
        key = _key_space(text)
        scores: dict[str, int] = {}
        for transfer in transfers:
            if transfer["function"] in signals:
                words = signals[transfer["function"]][1]
                scores[transfer["iri"]] = sum(key.count(word) for word in words)
        total = sum(scores.values())
        best = max(scores.values(), default=0)
        if best == 0:
            default = next((t for t in transfers if t["default"]), transfers[0])
            return default["to"], default["confidence"], None, True
        winners = [t for t in transfers if scores.get(t["iri"]) == best]
        chosen = max(winners, key=lambda t: t["confidence"])
        targets = {t["to"] for t in transfers if scores.get(t["iri"], 0) > 0}
        share = sum(scores[t["iri"]] for t in transfers if t["to"] == chosen["to"]
                    and t["iri"] in scores) / total
        confidence = round(chosen["confidence"] * (share if len(targets) > 1 else 1.0), 3)
        label = signals[chosen["function"]][0]
        return chosen["to"], confidence, label, False

    def walk(self, body: str, text: str, on: str, context: str = "") -> list[Step]:
        """The steps from a body to the one holding the task's function on the date."""
        steps: list[Step] = []
        current, since = body, ""
        for _ in range(MAX_STEPS):
            self.load({current})
            event = next((e for e in self.events.get(current, [])
                          if since < e.date <= on and any(r != current for r in e.results)), None)
            if event is None:
                break
            target, confidence, function, default = self.choose(event, current, text, context)
            steps.append(Step(event.date, event.iri, current, target, tuple(event.bases),
                              confidence, function, default))
            current, since = target, event.date
        return steps


def _plans(repo: Repository, doc: str) -> dict[str, tuple[str, str]]:
    """Plan IRI -> (number, title(s)) of the plans with that number (the title is the context of
    tasks whose own words say nothing)."""
    key = Literal(slugify(doc)).n3()
    plans = (f"?plan kg:numberKey {key} ; eli:id_local ?number ."
             " OPTIONAL { ?plan eli:title ?title }")
    if isinstance(repo, OxigraphRepository):
        # A plan is restated by every graph citing it (hundreds of copies at 20,000 plans): joined
        # copy by copy, its number, key and titles multiply (0.3 s for six plans). Its number is
        # one value (its IRI is minted from it): the first statement found; its titles distinct.
        plans = f"""{{ SELECT DISTINCT ?plan WHERE {{ ?plan kg:numberKey {key} }} }}
            LATERAL {{ SELECT ?plan ?number WHERE {{ ?plan eli:id_local ?number }} LIMIT 1 }}
            LATERAL {{ OPTIONAL {{ SELECT DISTINCT ?plan ?title WHERE {{
                ?plan eli:title ?title }} }} }}"""
    rows = repo.query(PREFIXES + f"""
        SELECT ?plan (SAMPLE(?number) AS ?n) (GROUP_CONCAT(DISTINCT ?title; separator=" ") AS ?t)
        WHERE {{ {plans} }} GROUP BY ?plan""")
    return {r["plan"] or "": (r["n"] or "", r["t"] or "") for r in rows.records()}


_PART_PATTERNS = [
    ("assigned", "?a kg:partOf {plan} ; a kg:Assignment ; kg:addressee ?body ; kg:hasDuty ?part ."
                 " OPTIONAL {{ ?a kg:text ?heading }}"),
    ("assigned", "?part kg:partOf {plan} ; a kg:Assignment ; kg:addressee ?body ."
                 " FILTER NOT EXISTS {{ ?part kg:hasDuty ?any }}"),
    ("lead", "?part kg:partOf {plan} ; a kg:Duty ; kg:leadAgency ?body ."),
    ("coordinate", "?part kg:partOf {plan} ; a kg:Duty ; kg:coordinatingAgency ?body ."),
    ("report", "?part kg:partOf {plan} ; a kg:ReportingDuty ; kg:reporter ?body ."),
    ("report-via", "?part kg:partOf {plan} ; a kg:ReportingDuty ; kg:reportVia ?body ."),
]


def _parts(repo: Repository, plans: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
    """Every (part, body, role, text) of the plans.

    The plans' IRIs are written into every branch: a branch left to join with a subquery is
    evaluated over every plan of the store first (seconds on a 2,000-plan corpus).
    """
    if not plans:
        return []
    branches = [
        f"{{ {pattern.format(plan=f'<{plan}>')} BIND({Literal(number).n3()} AS ?number) "
        f"BIND(\"{role}\" AS ?role) }}"
        for plan, (number, _) in plans.items() for role, pattern in _PART_PATTERNS
    ]
    rows = repo.query(PREFIXES + f"""
        SELECT DISTINCT ?number ?part ?item ?role ?body ?text ?heading WHERE {{
          {" UNION ".join(branches)}
          OPTIONAL {{ ?part kg:text ?text }}
          OPTIONAL {{ ?part kg:itemNumber ?item }}
        }}""")
    return [{k: v or "" for k, v in r.items()} for r in rows.records()]


def successor(repo: Repository, body: str, on: str | dt.date | None = None, text: str = ""
              ) -> dict[str, Any]:
    """The body holding a body's tasks on the date (for a split: those the text is about).

    What the explorer shows next to the body a plan named.
    """
    date = parse_date(on).isoformat()
    walker = Successions(repo)
    walker.load_reachable({body})
    steps = walker.walk(body, text, date)
    holder = steps[-1].target if steps else body
    walker.describe({body, holder} | {s.target for s in steps})
    answer = Responsibility("", "", "", "", text, body, holder, steps, labels=walker.labels)
    exists = walker.exists_on(holder, date)
    answer.status = ("unresolved" if exists is None else "ended" if not exists
                     else "succeeded" if steps else "unchanged")
    name, province = walker.labels.get(holder, (holder, ""))
    return {"body": body, "date": date, "holder": name, "holder_province": province,
            "holder_iri": holder, "status": answer.status, "ambiguous": answer.ambiguous,
            "confidence": round(answer.confidence, 3), "chain": chain_text(answer, walker.labels)}


def _natural(text: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def responsible(repo: Repository, doc: str, on: str | dt.date | None = None
                ) -> list[Responsibility]:
    """Who holds each part of the plan(s) numbered ``doc`` on the date (default today)."""
    if not doc or not doc.strip():
        raise QueryError("responsible: give the plan's number (doc=234/KH-UBND)")
    date = parse_date(on).isoformat()
    plans = _plans(repo, doc)
    parts = _parts(repo, plans)
    if not parts:
        raise QueryError(f"responsible: no plan numbered {doc!r} in the store")
    walker = Successions(repo)
    walker.load_reachable({p["body"] for p in parts})
    titles = {number: title for number, title in plans.values()}
    answers = []
    for part in parts:
        text = part["text"] or part.get("heading", "")
        steps = walker.walk(part["body"], text, date, titles.get(part["number"], ""))
        holder = steps[-1].target if steps else part["body"]
        answers.append(Responsibility(part["number"], part["part"], part["item"], part["role"],
                                      text, part["body"], holder, steps))
    walker.describe({a.named for a in answers} | {a.holder for a in answers}
                    | {s.target for a in answers for s in a.steps})
    for answer in answers:
        exists = walker.exists_on(answer.holder, date)
        if exists is None:
            answer.status = "unresolved" if "/mention/" in answer.named else "unchanged"
        elif not exists:
            answer.status, answer.holder_exists = "ended", False
        else:
            answer.status = "succeeded" if answer.steps else "unchanged"
        answer.labels = walker.labels
    answers.sort(key=lambda a: (_natural(a.part), a.role, a.named))
    return answers


def _name(labels: dict[str, tuple[str, str]], body: str) -> str:
    name, province = labels.get(body, (body.rsplit("/", 1)[-1], ""))
    return f"{name} ({province})" if province else name


def chain_text(answer: Responsibility, labels: dict[str, tuple[str, str]]) -> str:
    """Named body → [date, basis; function] → ... → holder, as one line."""
    parts = [_name(labels, answer.named)]
    for step in answer.steps:
        why = ", ".join(step.basis) or "?"
        if step.function:
            why += f"; {step.function}"
        elif step.default:
            why += "; không rõ chức năng (mặc định)"
        parts.append(f"[{step.date}, {why}] {_name(labels, step.target)}")
    return " → ".join(parts)


RESPONSIBLE_COLUMNS = ["plan", "item", "role", "named", "named_province", "holder",
                       "holder_province", "status", "confidence", "ambiguous", "chain", "basis",
                       "text", "part", "named_iri", "holder_iri"]


def responsible_rows(repo: Repository, doc: str, on: str | dt.date | None = None
                     ) -> list[dict[str, Any]]:
    """The answers as flat rows (CLI, CSV, JSON, HTTP)."""
    rows = []
    for a in responsible(repo, doc, on):
        labels = a.labels
        named, named_province = labels.get(a.named, (a.named, ""))
        holder, holder_province = labels.get(a.holder, (a.holder, ""))
        rows.append({
            "plan": a.plan, "item": a.item, "role": ROLE_LABELS.get(a.role, a.role),
            "named": named, "named_province": named_province,
            "holder": holder, "holder_province": holder_province,
            "status": a.status, "confidence": round(a.confidence, 3),
            "ambiguous": a.ambiguous, "chain": chain_text(a, labels),
            "basis": " | ".join(dict.fromkeys(b for s in a.steps for b in s.basis)),
            "text": a.text[:200], "part": a.part, "named_iri": a.named, "holder_iri": a.holder,
            "steps": [{"date": s.date, "from": s.source, "from_name": _name(labels, s.source),
                       "to": s.target, "to_name": _name(labels, s.target), "basis": list(s.basis),
                       "function": s.function, "default": s.default,
                       "confidence": s.confidence, "event": s.event} for s in a.steps],
        })
    return rows


def as_query_result(rows: list[dict[str, Any]], columns: list[str]) -> QueryResult:
    """Rows as a SELECT result, so the CLI prints them like any named query."""
    return QueryResult("select", list(columns), [
        tuple(None if row.get(c) in (None, "") else (URIRef(row[c]) if c.endswith("_iri")
                                                     or c == "part" else Literal(row[c]))
              for c in columns) for row in rows])


def responsible_result(repo: Repository, params: dict[str, str]) -> QueryResult:
    """``kgraph query responsible-today``: the walk, as a query result."""
    return as_query_result(responsible_rows(repo, params.get("doc", ""), params.get("date")),
                           RESPONSIBLE_COLUMNS)


# -- deadlines ---------------------------------------------------------------------------------

DEADLINE_COLUMNS = ["plan", "kind", "item", "status", "deadline", "frequency", "days",
                    "answered_by", "text", "part"]


def _occurrences(day_month: str, on: dt.date) -> tuple[dt.date, dt.date]:
    """The yearly deadline's last occurrence before the date and its next one on or after it."""
    month, day = (int(x) for x in day_month.lstrip("-").split("-"))

    def at(year: int) -> dt.date:
        return dt.date(year, month, min(day, 28) if month == 2 and day == 29 else day)

    this_year = at(on.year)
    if this_year >= on:
        return at(on.year - 1), this_year
    return this_year, at(on.year + 1)


def deadline_status(deadline: dt.date, on: dt.date, answered: bool, window: int) -> str:
    if answered:
        return "done"
    if deadline < on:
        return "overdue"
    if (deadline - on).days <= window:
        return "due"
    return "not yet due"


def deadlines(repo: Repository, doc: str | None = None, on: str | dt.date | None = None,
              window: int = DUE_WINDOW_DAYS) -> list[dict[str, Any]]:
    """Every dated duty and reporting duty: due / overdue / not yet due on the date.

    A fixed deadline (kg:dueDate) is overdue once past, unless a report document answers it
    (kg:answers, the 'done' bucket: no report documents are ingested yet). A yearly one
    (kg:dueDayMonth) is judged by its next occurrence; the previous one is given as well.
    """
    date = parse_date(on)
    key = Literal(slugify(doc)).n3() if doc and doc.strip() else ""
    if isinstance(repo, OxigraphRepository) and not key:
        held = (store_version(repo), date, window)
        found = _EVERY_ROWS.get(held)
        if found is None:  # the same for a version and a date: once, whoever asks
            found = _deadline_rows(every_deadline(repo), date, window)
            with _EVERY_ROWS_LOCK:  # (a server's request threads share them)
                _EVERY_ROWS[held] = found
                while len(_EVERY_ROWS) > EVERY_ROWS_HELD:
                    del _EVERY_ROWS[next(iter(_EVERY_ROWS))]
        return found
    plans = """{ SELECT DISTINCT ?plan ?number ?key WHERE { ?plan eli:id_local ?number ;
                                                         kg:numberKey ?key } }"""
    parts, end = "", ""
    if key and not isinstance(repo, OxigraphRepository):  # SPARQL 1.1 engines: filter the plans
        plans += f"\n          FILTER(?key = {key})"
    elif key:  # one plan on the embedded store: bound first, its parts read for it only (LATERAL)
        plans = f"""{{ SELECT DISTINCT ?plan WHERE {{ ?plan kg:numberKey {key} }} }}
          LATERAL {{ SELECT DISTINCT ?plan ?number WHERE {{ ?plan eli:id_local ?number }} }}"""
        parts, end = "LATERAL {", "}"
    rows = repo.query(PREFIXES + f"""
        SELECT ?number ?part ?kind ?item ?due ?dayMonth ?text
               (GROUP_CONCAT(DISTINCT ?freq; separator=" + ") AS ?frequency)
               (GROUP_CONCAT(DISTINCT ?report; separator=" | ") AS ?answered) WHERE {{
          {plans}
          {parts}
          ?part kg:partOf ?plan .
          {{ ?part a kg:ReportingDuty BIND("reporting" AS ?kind) }}
          UNION {{ ?part a kg:Duty BIND("duty" AS ?kind) }}
          {{ ?part kg:dueDate ?due }} UNION {{ ?part kg:dueDayMonth ?dayMonth }}
          OPTIONAL {{ ?part kg:itemNumber ?item }}
          OPTIONAL {{ ?part kg:text ?text }}
          OPTIONAL {{ ?part kg:sourceText ?text }}
          OPTIONAL {{ ?part kg:frequency/skos:prefLabel ?freq FILTER(LANG(?freq) = "vi") }}
          OPTIONAL {{ ?answer kg:answers ?part ; eli:id_local ?report }}
          {end}
        }} GROUP BY ?number ?part ?kind ?item ?due ?dayMonth ?text""")
    return _deadline_rows(rows.records(), date, window)


# Every plan's dated duties on the embedded store: from the dated parts (a due date or a yearly
# day: a few per plan, stated in the plan's own graph only), then each fact LATERAL, looked up
# for those parts; the plan's number is the first statement found (restated by every graph
# citing the plan). Starting from every document's number read each number's copies in every
# citing graph: 35 CPU-s at 20,000 plans against 2 here, the same rows (bench/README.md).
_EVERY_DEADLINE = """
SELECT ?number ?part ?kind ?item ?due ?dayMonth ?text
       (GROUP_CONCAT(DISTINCT ?freq; separator=" + ") AS ?frequency)
       (GROUP_CONCAT(DISTINCT ?report; separator=" | ") AS ?answered) WHERE {
  { SELECT DISTINCT ?part ?due ?dayMonth WHERE {
      { ?part kg:dueDate ?due } UNION { ?part kg:dueDayMonth ?dayMonth } } }
  LATERAL { SELECT DISTINCT ?part ?kind WHERE {
      { ?part a kg:ReportingDuty BIND("reporting" AS ?kind) }
      UNION { ?part a kg:Duty BIND("duty" AS ?kind) } } }
  LATERAL { SELECT DISTINCT ?part ?plan WHERE { ?part kg:partOf ?plan } }
  LATERAL { SELECT ?plan ?number WHERE { ?plan eli:id_local ?number } LIMIT 1 }
  LATERAL { OPTIONAL { SELECT DISTINCT ?part ?item WHERE { ?part kg:itemNumber ?item } } }
  LATERAL { OPTIONAL { SELECT DISTINCT ?part ?text WHERE {
      { ?part kg:text ?text } UNION { ?part kg:sourceText ?text } } } }
  LATERAL { OPTIONAL { SELECT DISTINCT ?part ?freq WHERE {
      ?part kg:frequency/skos:prefLabel ?freq FILTER(LANG(?freq) = "vi") } } }
  LATERAL { OPTIONAL { SELECT DISTINCT ?part ?report WHERE {
      ?answer kg:answers ?part ; eli:id_local ?report } } }
} GROUP BY ?number ?part ?kind ?item ?due ?dayMonth ?text"""


EVERY_ROWS_HELD = 8  # every plan's rows for a version and a date (20,000 rows at 20,000 plans)
_EVERY_ROWS: dict[tuple[str, dt.date, int], list[dict[str, Any]]] = {}
_EVERY_ROWS_LOCK = threading.Lock()


def every_deadline(repo: Repository) -> list[dict[str, str | None]]:
    """Every plan's dated parts, whatever the date: from the facts the build kept per plan
    (:mod:`kgraph.analysis.duties_answer`), else read by the query once a version."""
    from kgraph.analysis.duties_answer import EVERY_DATED, every_dated

    kept = derived(repo, EVERY_DATED, lambda: every_dated(repo) or [])
    return kept or derived(repo, "every-deadline", lambda: query_records(
        repo, PREFIXES + _EVERY_DEADLINE))


def _deadline_rows(records: list[dict[str, str | None]], date: dt.date, window: int
                   ) -> list[dict[str, Any]]:
    """The query's rows in the tracking buckets of ``date``, one per part (its longest text)."""
    found: dict[str, dict[str, Any]] = {}
    for record in records:
        answered = record["answered"] or ""
        if record["due"]:
            deadline = dt.date.fromisoformat(record["due"][:10])
            previous = None
        else:
            previous, deadline = _occurrences(record["dayMonth"] or "", date)
        status = deadline_status(deadline, date, bool(answered), window)
        text = " ".join((record["text"] or "").split())
        row = {
            "plan": record["number"], "kind": record["kind"], "item": record["item"] or "",
            "status": status, "deadline": deadline.isoformat(),
            "frequency": record["frequency"] or "", "days": (deadline - date).days,
            "answered_by": answered, "text": text[:200], "part": record["part"],
            "previous": previous.isoformat() if previous else "",
        }
        current = found.get(record["part"])
        if current is None or len(row["text"]) > len(current["text"]):
            found[record["part"]] = row
    order = {"overdue": 0, "due": 1, "not yet due": 2, "done": 3}
    return sorted(found.values(), key=lambda r: (order[r["status"]], r["deadline"], r["plan"],
                                                 _natural(r["part"])))


def deadline_answer(repo: Repository, params: dict[str, str]) -> Answer:
    """``kgraph query deadlines`` and ``/api/queries/deadlines``: the rows as
    :func:`deadlines_result` gives them, values as text (no term made for each)."""
    rows = deadlines(repo, params.get("doc"), params.get("date"))
    return Answer(tuple(DEADLINE_COLUMNS), [
        tuple(None if row.get(c) in (None, "") else str(row[c]) for c in DEADLINE_COLUMNS)
        for row in rows])


def deadlines_result(repo: Repository, params: dict[str, str]) -> QueryResult:
    return as_query_result(deadlines(repo, params.get("doc"), params.get("date")),
                           DEADLINE_COLUMNS)


def summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["status"]] += 1
    return dict(counts)
