"""The sweep of the values kept next to a store that nothing will ask for again.

Values that depend on one document, or on one set of documents, are kept by content key in
``<store>/derived/documents`` (:func:`kgraph.store.derived.keep_document_value`): the audit's
findings and tasks, the directive stage's records, lineages, states and parts, the named
query's answer parts. A document re-ingested with another text, or a code change that moves a
fingerprint, leaves the old keys behind (at 20,000 plans the folder holds 1.1 GB), and over a
deployment's years of re-ingested plans and upgrades it only grows. The sweep deletes every
kept value that neither the store's current version nor the one before it (a server that has
not switched yet reads it) can ask for. Each analysis module names the live keys of its
families (``live_keys``); :mod:`kgraph.store.derived` deletes the others; a key of a family no
module claims stays. The build runs it once its new version is current, under the store's lock,
when it is due (:func:`after_build`); ``kgraph sweep`` runs it on an existing store.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kgraph.graph.vocab import sparql_prefixes
from kgraph.store.derived import (
    DERIVED,
    Swept,
    named_version_value,
    store_root,
    sweep_document_values,
    version_value,
)
from kgraph.store.embedded import (
    OxigraphRepository,
    Repository,
    open_read_only,
    query_records,
    solution_records,
)

# A build sweeps when the code's fingerprints moved since the last sweep (every value of the
# old ones is dead), or once builds have read this many documents since it: a re-ingested plan
# leaves three small values behind, while a sweep at 20,000 plans costs 0.3-0.4 s, more than
# half of what a one-plan build costs without it.
SWEEP_AFTER = 100
MARK = "sweep-mark.json"  # in derived/: the fingerprints swept under, documents read since
SOURCE_INDEX = "build-sources"  # kgraph.build.SOURCE_INDEX (the build is not imported)
_SOURCES = """SELECT ?g ?sha WHERE { GRAPH ?g {
  ?doc kg:sourceFile ?file . ?file kg:sha256 ?sha } }"""


def sweep(repo: Repository, *, thorough: bool = False, dry_run: bool = False
          ) -> Swept | None:
    """Delete the kept values no version of the store can ask for (the caller holds the
    store's exclusive lock); None for a store without a folder (nothing is kept on disk).
    ``thorough`` (``kgraph sweep``; a build's sweep is not): read the lineage from the store
    when none is kept, and every directive state head to tell the parts none names (see
    :func:`kgraph.analysis.directive_index.live_keys`); ``dry_run``: count only."""
    root = store_root(repo)
    if root is None or not isinstance(repo, OxigraphRepository) or repo.path is None:
        return None
    current = version_sources(repo, None)
    before = previous_version(repo)
    versions = [current]
    if before is not None:
        found = version_sources(repo, before)
        if found is None:
            return Swept()  # the version before cannot be read: what it asks for is unknown
        versions.append(found)
    return sweep_document_values(root, lambda kept: dead_keys(
        repo, root, versions, before, kept, thorough=thorough), dry_run=dry_run)


def fingerprints() -> dict[str, str]:
    """The fingerprints and formats in the keys of the values the sweep judges."""
    from kgraph.analysis import audit_index, coverage_answer, directive_index

    # (Not the assignment facts' format: a part of another format is swept when the next sweep
    # is due, and a store kept by older code is not swept whole at its first small build.)
    return {"audit": audit_index.audit_fingerprint(), "directive": directive_index.fingerprint(),
            "record": directive_index.record_fingerprint(),
            "answer": str(coverage_answer.FORMAT)}


def after_build(repo: Repository, read: int) -> Swept | None:
    """The sweep after a build that read ``read`` documents, when it is due (see
    :data:`SWEEP_AFTER`); None when it is not (the count carried to the next build) or the
    store keeps nothing on disk."""
    root = store_root(repo)
    if root is None or not isinstance(repo, OxigraphRepository) or repo.path is None:
        return None
    mark = Path(root) / DERIVED / MARK
    try:
        last = json.loads(mark.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = {}
    now = fingerprints()
    pending = (last.get("read", 0) if isinstance(last, dict) else 0) + read
    if isinstance(last, dict) and last.get("fingerprints") == now and pending < SWEEP_AFTER:
        _write_mark(mark, now, pending)
        return None
    swept = sweep(repo)
    _write_mark(mark, now, 0)
    return swept


def _write_mark(mark: Path, now: dict[str, str], read: int) -> None:
    mark.parent.mkdir(parents=True, exist_ok=True)
    temporary = mark.with_name(f".{mark.name}.{os.getpid()}")
    temporary.write_text(json.dumps({"fingerprints": now, "read": read}), encoding="utf-8")
    os.replace(temporary, mark)


def dead_keys(repo: Repository, root: Path, versions: list[dict[str, str]],
              before: str | None, kept: list[str], *, thorough: bool) -> list[str]:
    """The keys of those ``kept`` no version asks for, these versions' sources (the current
    one first) and the version before's answers (its folder name) given: each module names
    the live keys of its families (or all of a family); a key of a family no module claims
    is kept."""
    from kgraph.analysis import audit_index, coverage_answer, directive_index, plan_parts
    from kgraph.analysis.kept_answers import fact_families

    answers = [coverage_answer.previous(repo)]
    if before is not None:
        answers.append(named_version_value(repo, before, coverage_answer.VERSION_VALUE))
    kept_facts: dict[str, set[str]] = {}
    for family, _ in fact_families():
        facts = [family.previous(repo)]
        if before is not None:
            facts.append(named_version_value(repo, before, family.version_value))
        kept_facts.update(plan_parts.live_keys(family, facts))
    documents: set[tuple[str, str]] = set().union(*(v.items() for v in versions))
    families = {**audit_index.live_keys(documents), **coverage_answer.live_keys(answers),
                **kept_facts,
                **directive_index.live_keys(repo, root, versions, kept, thorough=thorough)}
    live = set().union(*(keys for keys in families.values() if keys is not None))
    dead = []
    for key in set(kept) - live:  # (a set difference: 60,000 keys at 20,000 plans)
        kind, _, rest = key.partition("-")  # the family: "audit", "directive-state" ...
        family = f"{kind}-{rest.partition('-')[0]}" if kind == "directive" else kind
        if families.get(family) is not None:  # (else every key of it, or nobody's)
            dead.append(key)
    return dead


def previous_version(repo: OxigraphRepository) -> str | None:
    """The folder name of the store version before the current one, while it is kept."""
    if repo.path is None or repo.path == repo.root:
        return None
    older = [p.name for p in repo.directory.versions() if p.name < repo.path.name]
    return older[-1] if older else None


def version_sources(repo: OxigraphRepository, version: str | None) -> dict[str, str] | None:
    """Graph -> source text hash of every source document of a version (None: the current
    one): the build's source index kept for it, else its store read (one query); None when
    that version cannot be read."""
    index = (version_value(repo, SOURCE_INDEX) if version is None
             else named_version_value(repo, version, SOURCE_INDEX))
    if isinstance(index, dict):
        found = {getattr(s, "graph", ""): getattr(s, "sha256", "") for s in index.values()}
        if found and all(found) and all(found.values()):
            return found
    text = sparql_prefixes() + _SOURCES
    if version is None:
        rows = query_records(repo, text)
    else:
        assert repo.root is not None
        try:
            store = open_read_only(repo.root / version)
            rows = solution_records(store.query(text, use_default_graph_as_union=True))
        except (OSError, RuntimeError):
            return None
        finally:
            store = None
    return {row["g"] or "": row["sha"] or "" for row in rows}
