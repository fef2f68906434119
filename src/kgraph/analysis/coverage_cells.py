"""What the coverage pages read beyond the kept matrix: the directives with a stored coverage
and, for one cell, the plan items restating its task, bounded for a national directive.

Why a module of its own: :mod:`kgraph.analysis.coverage` is part of the audit's and the
directive coverage's fingerprints (``audit_index.audit_fingerprint``,
``directive_index.fingerprint``), so a change of what a page shows there would make every store
re-audit and re-align on its first build after the upgrade. ``coverage.cell_sources`` (every
item of every province) stays for the tests; its quoting half is repeated in
:func:`cell_sources` here, and one of them can serve both the next time ``coverage.py`` changes
for a reason of its own (its fingerprints move then anyway).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

from kgraph.analysis import coverage as cov
from kgraph.store.derived import derived
from kgraph.store.embedded import Repository


def stored_directives(repo: Repository) -> list[tuple[str, int]]:
    """(number, tasks) of every directive whose coverage is stored, kept per store version:
    the query reads every document's number (30 ms at 20,000 plans, on every visit of
    ``/coverage``)."""
    return derived(repo, "stored-directives", lambda: cov.stored_directives(repo))


def cell_counts(repo: Repository, matrix: cov.Matrix, task: str) -> dict[str, list[str]]:
    """Each province's restatements of the task (IRIs), best-scored first (ties by IRI): the
    cell page quotes its province's and a few of each other's, as a national directive's task
    is restated by thousands of plan items at 20,000 plans (a 1.6 MB page, 0.3 s). Kept per
    store version and task: reading them is 50 ms for a national task at 20,000 plans."""
    dt = f"{matrix.directive_iri}/directive-task/{task}"
    key = hashlib.sha256(dt.encode("utf-8")).hexdigest()[:16]
    return derived(repo, f"cell-restatements-{key}", lambda: _cell_counts(repo, dt))


def _cell_counts(repo: Repository, dt: str) -> dict[str, list[str]]:
    scored: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for row in cov._records(repo, f"""
        SELECT DISTINCT ?r ?province ?score WHERE {{
          ?r kg:directiveTask <{dt}> ; a kg:Restatement ; kg:provinceName ?province ;
             kg:alignmentScore ?score }}"""):
        scored[row["province"] or ""].append((-float(row["score"] or 0), row["r"] or ""))
    return {p: [r for _, r in sorted(items)] for p, items in sorted(scored.items())}


def cell_sources(repo: Repository, matrix: cov.Matrix, task: str,
                 shown: Sequence[str]) -> list[cov.SourceSentence]:
    """The restatements ``shown`` names (IRIs, from :func:`cell_counts`), quoted from the
    source files as :func:`kgraph.analysis.coverage.cell_sources` quotes every one."""
    if not shown:
        return []
    dt = f"{matrix.directive_iri}/directive-task/{task}"
    # the VALUES inside the GRAPH block: outside it Oxigraph reads the task's every
    # restatement first (70 ms for 137 of 2,653 at 20,000 plans; 7 ms inside)
    rows = cov._records(repo, f"""
        SELECT ?r ?province ?planTask ?planIri ?score ?via ?lead ?duty WHERE {{
          GRAPH ?g {{
            VALUES ?r {{ {cov._values(shown)} }}
            ?r a kg:Restatement ; kg:directiveTask <{dt}> ; kg:provinceName ?province ;
               kg:planTask ?planTask ; kg:plan ?planIri ; kg:alignmentScore ?score .
            OPTIONAL {{ ?r kg:via ?via }} OPTIONAL {{ ?r kg:leadBodyName ?lead }}
            OPTIONAL {{ ?r kg:coveringDuty ?duty }}
          }}
        }}""")
    parts = {r["planTask"] or "" for r in rows} | {r["duty"] for r in rows if r["duty"]}
    plans = {r["planIri"] or "" for r in rows}
    texts = {r["part"]: r for r in cov._records(repo, f"""
        SELECT DISTINCT ?part ?no ?text ?src ?line WHERE {{
          VALUES ?part {{ {cov._values(parts)} }}
          OPTIONAL {{ ?part kg:itemNumber ?no }} OPTIONAL {{ ?part kg:text ?text }}
          OPTIONAL {{ ?part kg:sourceText ?src }} OPTIONAL {{ ?part kg:sourceLine ?line }}
        }}""")} if parts else {}
    numbers = {r["plan"]: r["number"] for r in cov._records(repo, f"""
        SELECT DISTINCT ?plan ?number WHERE {{
          VALUES ?plan {{ {cov._values(plans)} }} ?plan eli:id_local ?number }}""")}
    grouped: dict[str, list[dict[str, str | None]]] = defaultdict(list)
    for row in rows:
        grouped[row["r"] or ""].append(row)
    sentences = []
    for group in grouped.values():
        first = group[0]
        part = texts.get(first["planTask"], {})
        duties = sorted({d for d in (r["duty"] for r in group) if d})
        sentences.append(cov.SourceSentence(
            first["province"] or "", numbers.get(first["planIri"]) or "", part.get("no") or "",
            part.get("text") or "", part.get("src") or "", int(part.get("line") or 0),
            float(first["score"] or 0), first["via"] or "",
            tuple(sorted({r["lead"] for r in group if r["lead"]})),
            tuple((texts.get(d, {}).get("text") or "", texts.get(d, {}).get("src") or "")
                  for d in duties)))
    return sorted(sentences, key=lambda s: (s.province, s.plan, s.line))
