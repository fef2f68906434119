"""Each named query's Oxigraph text (queries/oxigraph/) answers as its portable SPARQL 1.1 text.

The embedded store runs the Oxigraph text (LATERAL joins: labels looked up for the answer's rows
only); /sparql, the query editor and other engines run the portable one. bench/bench_queries.py
checks the same on the 2,000-plan corpus; here, on the seeds, with the examples and with every
parameter empty ("every document").
"""

from __future__ import annotations

from collections import Counter

import pytest

from kgraph.analysis.queries import load_query, named_queries, run_named
from kgraph.store.embedded import OxigraphRepository

WITH_TEXTS = sorted(name for name, q in named_queries().items() if q.oxigraph)


# Columns made by GROUP_CONCAT: SPARQL leaves the order of the joined values to the engine's
# evaluation order (the directive-coverage texts list a cell's lead bodies in opposite orders,
# the conflicts texts may list a value's sources so),
# so they are compared as sets of values.
CONCATENATED = {"lead": "; ", "stated_by": ", "}


def answer(repo: OxigraphRepository, text: str) -> Counter[tuple[str, ...]]:
    result = repo.query(text)

    def value(variable: str, term: object) -> str:
        text = "" if term is None else str(term)
        separator = CONCATENATED.get(variable)
        return separator.join(sorted(text.split(separator))) if separator else text

    return Counter(tuple(value(v, t) for v, t in zip(result.variables, row, strict=True))
                   for row in result.rows)


def test_the_rewritten_queries_have_an_oxigraph_text() -> None:
    assert {"implementers", "lineage", "assignments", "reporting", "audit_conflicts"} <= set(
        WITH_TEXTS)
    for name in WITH_TEXTS:
        assert "LATERAL" in named_queries()[name].oxigraph
        # the portable text: what a remote store runs (SPARQL 1.1 only: Virtuoso)
        assert "LATERAL" not in named_queries()[name].text


# Cases besides the examples, where a rewrite of one text could differ from the other: the
# seeds' other documents that plans carry out (chains of other depths), and every seed plan for
# the bodies its parts name (duties of assignments, lead, coordinating and reporting bodies).
SEED_PLANS = ("2509/KH-UBND", "18/KH-SLĐTBXH", "469/KH-UBND", "50/KH-UBND", "234/KH-UBND")
MORE_CASES = {
    "implementers": [{"doc": d} for d in ("121/2020/QH14", "273-KH/TU", "211-KH/TU",
                                          "20-CT/TW", "2509/KH-UBND")],
    "responsible-today": [{"doc": d, "date": date} for d in SEED_PLANS
                          for date in ("", "2025-01-01")],
}


@pytest.mark.parametrize("name", WITH_TEXTS)
def test_same_answers_as_the_portable_text(seed_repo: OxigraphRepository, name: str) -> None:
    query = named_queries()[name]
    engine = query.for_repository(seed_repo)
    assert engine.text == query.oxigraph
    cases = [dict(query.examples),
             {p.name: "" for p in query.parameters if not p.required}
             | {p.name: query.examples.get(p.name, "") for p in query.parameters if p.required},
             *MORE_CASES.get(name, [])]
    answered = 0
    for values in cases:
        portable = answer(seed_repo, query.render(values))
        assert answer(seed_repo, engine.render(values)) == portable, (name, values)
        answered += sum(portable.values())
    if name in {"implementers", "lineage", "assignments", "agency", "reporting"}:
        assert answered, name  # known to answer on the seeds: the comparison is not empty


def test_the_cli_runs_the_oxigraph_text_on_the_embedded_store(seed_repo, monkeypatch) -> None:
    lineage = load_query("lineage")
    seen = []
    original = seed_repo.query

    def recording(text: str):
        seen.append(text)
        return original(text)

    monkeypatch.setattr(seed_repo, "query", recording)
    rows = run_named(lineage, seed_repo, {"doc": "2509/KH-UBND"}).rows
    assert rows and "LATERAL" in seen[-1]


def test_directive_coverage_of_one_province_is_that_province_s_rows(
        seed_repo: OxigraphRepository) -> None:
    query = named_queries()["directive-coverage"]
    for text in (query, query.for_repository(seed_repo)):
        every = answer(seed_repo, text.render({"doc": "28-CT/TW"}))
        column = [p.name for p in query.parameters]  # doc, province
        assert column == ["doc", "province"]
        provinces = {row[3] for row in every}
        assert len(provinces) > 1  # the seeds' plans of several provinces carry 28-CT/TW out
        for province in provinces:
            for written in (province, province.lower().replace("à", "a")):
                one = answer(seed_repo, text.render({"doc": "28-CT/TW", "province": written}))
                assert one == Counter({row: n for row, n in every.items()
                                       if row[3] == province}), (province, written)
        assert not answer(seed_repo, text.render({"doc": "28-CT/TW", "province": "Nowhere"}))


def test_printed_values_are_the_stores_own() -> None:
    """The command line prints a named query's values as plain strings straight from the
    store's terms (``run_named(plain=True)``): the same strings ``records()`` gives from rdflib
    terms, for every kind of term the queries return (the store's canonical lexical forms)."""
    import pyoxigraph as ox

    from kgraph.store.embedded import plain_result, to_query_result

    store = ox.Store()
    store.update("""PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        INSERT DATA { <urn:s> <urn:p> "01"^^xsd:integer, "1"^^xsd:boolean, "0.660"^^xsd:decimal,
          "Sở Y tế"@vi, _:b, <urn:o>, "2026-11-10"^^xsd:date, " a "^^xsd:string, "--11-20" }""")
    text = "SELECT ?o ?none WHERE { <urn:s> <urn:p> ?o OPTIONAL { ?o <urn:x> ?none } }"
    plain = plain_result(store.query(text))
    assert plain.records() == to_query_result(store.query(text)).records()
    assert len(plain.rows) == 9 and all(isinstance(v, str) for v, _ in plain.rows)
    assert plain_result(store.query("ASK { ?s ?p ?o }")).boolean is True


def test_the_editor_s_text_through_sparql_gives_the_named_query_s_rows(
        seed_repo: OxigraphRepository, live_server: type) -> None:
    """Over HTTP, as the query page does: the text "to editor" fetches (``format=sparql``) is
    the one this store runs (the Oxigraph text, LATERAL joins and all), /sparql accepts it,
    and its rows are those of /api/queries/NAME, for every named query but the two walks a
    ``# python:`` function answers from what their text reads (deadlines' buckets of a date,
    who holds a duty today after the reorganisation steps): their text gives those facts, in
    its own columns. audit_conflicts, answered in Python too, gives the same rows."""
    import httpx

    from kgraph.web.app import create_app

    compared = 0
    walks = set()
    with live_server(create_app(seed_repo)) as server:
        for name, query in named_queries().items():
            for values in (dict(query.examples), *MORE_CASES.get(name, [])[:2]):
                api = f"{server.url}/api/queries/{name}"
                text = httpx.get(api, params={**values, "format": "sparql"}, timeout=60)
                assert text.status_code == 200, text.text
                if query.oxigraph:
                    assert "LATERAL" in text.text
                    assert text.text == query.for_repository(seed_repo).render(values)
                ran = httpx.post(f"{server.url}/sparql", data={"query": text.text},
                                 headers={"Accept": "application/sparql-results+json"},
                                 timeout=60)
                assert ran.status_code == 200, (name, ran.text)
                body = ran.json()
                columns = body["head"]["vars"]
                by_sparql = Counter(
                    tuple(_shown(v, b.get(v, {}).get("value")) for v in columns)
                    for b in body["results"]["bindings"])
                page = httpx.get(api, params={**values, "limit": 10_000}, timeout=60).json()
                if page["variables"] != columns:
                    assert query.python, name
                    walks.add(name)
                    continue
                by_api = Counter(tuple(_shown(v, (row[v] or {}).get("value")) for v in columns)
                                 for row in page["rows"])
                assert page["total"] == len(page["rows"])
                assert by_sparql == by_api, (name, values)
                compared += sum(by_api.values())
    assert compared  # the seeds answer: the comparison is not empty
    assert walks == {"deadlines", "responsible-today"}


def _shown(variable: str, value: str | None) -> str:
    text = value or ""
    separator = CONCATENATED.get(variable)
    return separator.join(sorted(text.split(separator))) if separator else text
