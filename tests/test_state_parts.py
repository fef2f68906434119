"""A directive's kept state as a head and one part per province (kgraph.analysis.directive_index):
states older code kept (whole, or a delta on a whole one) are read once and kept again in parts,
and a changed plan whose item named a reconstructed task (its label) reads every part and gives
what the whole state gives — through `kgraph build` as a user runs it."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from factories import recorded_calls
from kgraph import build as kbuild
from kgraph.analysis import alignment as al
from kgraph.analysis import coverage as cov
from kgraph.analysis import directive_index as di
from kgraph.store import derived
from kgraph.store.embedded import OxigraphRepository
from test_directive_index import (  # noqa: F401
    _holds_assembled,
    built_but_two,
    corpus,
    document_of,
    graph_lines,
    heads,
    kgraph,
)


def _new_process() -> None:
    """What a new `kgraph build` process holds: nothing of an earlier build."""
    di._HELD.clear()
    kbuild._LINES.clear()


def _head(store: Path, directive: str) -> tuple[str, di.StateHead]:
    return next((k, h) for k, h in _kept(store).items()
                if isinstance(h, di.StateHead) and h.number == directive)


def _kept(store: Path) -> dict[str, object]:
    """Every state kept next to the store (heads, or whole as older code kept them), by key."""
    return {path.stem: derived.document_value(store, path.stem) for path in
            (store / "derived" / "documents").glob("directive-state-*.pickle")}


def _coverage(store: Path, directive: str) -> dict[str, set[str]]:
    repo = OxigraphRepository(store, read_only=True)
    found = cov.directive_of(repo, directive)
    assert found is not None
    return {g: graph_lines(repo, g) for g in cov.stored_graphs(repo, found[0])}


def _same_states(one: di.DirectiveState, two: di.DirectiveState) -> None:
    assert one.alignment is not None and two.alignment is not None
    assert one.alignment.clusters == two.alignment.clusters
    assert all(np.array_equal(a, b) for a, b in zip(one.alignment.sums, two.alignment.sums,
                                                      strict=True))
    assert one.alignment.scores == two.alignment.scores
    assert one.alignment.plans == two.alignment.plans
    assert (one.plans, one.clusters, one.provinces) == (two.plans, two.clusters, two.provinces)


def _as_older_code_kept(store: Path, values: dict[str, object]) -> None:
    """The store's states as older code kept them: these values, no head or part."""
    documents = store / "derived" / "documents"
    for path in [*documents.glob("directive-state-*.pickle"),
                 *documents.glob("directive-part-*.pickle")]:
        path.unlink()
    for key, value in values.items():
        derived.keep_document_value(store, key, value)


def test_states_older_code_kept_whole_or_as_a_delta_are_read_once_and_kept_in_parts(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    directive, first, second, store = built_but_two(corpus, tmp_path)
    whole = {key: di.kept_state(store, key) for key in heads(store)}
    key0 = _head(store, directive)[0]
    older = tmp_path / "older"  # every state kept whole, as older code kept them
    shutil.copytree(store, older)
    _as_older_code_kept(older, whole)
    read = recorded_calls(monkeypatch, derived, "_read", type)
    for root in (store, older):
        _new_process()
        kgraph("build", str(first), "--store", str(root), "--no-validate")
    kinds = [kind.__name__ for kind in read]
    assert kinds.count("DirectiveState") == 1  # the older store's, read once, then in parts
    assert _coverage(older, directive) == _coverage(store, directive)
    key1 = _head(store, directive)[0]
    kept = _kept(older)  # the directive's whole state replaced (the others' read when used)
    assert isinstance(kept.pop(key1), di.StateHead) and key0 not in kept
    assert all(isinstance(v, di.DirectiveState) and v.number != directive
               for v in kept.values())
    _same_states(di.kept_state(older, key1), di.kept_state(store, key1))  # type: ignore[arg-type]
    assert not (older / "derived" / "documents" / f"{key0}.pickle").exists()

    # a delta on a whole state, as older code kept one after a one-plan build
    state0, state1 = whole[key0], di.kept_state(store, key1)
    assert state0 is not None and state1 is not None and state1.alignment is not None
    plan = document_of(OxigraphRepository(store, read_only=True), first.name)
    added = [(index, m) for index, cluster in enumerate(state1.alignment.clusters)
             for m in cluster if m.plan == plan]
    assert added
    small = di.DirectiveState(state1.directive_iri, state1.number, state1.outline_iri,
                              state1.plans, None, state1.clusters, state1.provinces)
    delta = di.StateDelta(key0, set(), added, len(state1.alignment.clusters),
                          list(state1.alignment.sums),
                          {m.iri: state1.alignment.scores[m.iri] for _, m in added},
                          dict(state1.alignment.plans), small)
    _same_states(delta.apply(state0), state1)
    deltas = tmp_path / "deltas"
    shutil.copytree(store, deltas)
    _as_older_code_kept(deltas, {**{k: v for k, v in whole.items() if k != key0},
                                 key0: state0, key1: delta})
    read.clear()
    for root in (store, deltas):
        _new_process()
        kgraph("build", str(second), "--store", str(root), "--no-validate")
    kinds = [kind.__name__ for kind in read]
    assert kinds.count("StateDelta") == 1 and kinds.count("DirectiveState") == 1
    assert _coverage(deltas, directive) == _coverage(store, directive)
    key2 = _head(store, directive)[0]
    kept = _kept(deltas)
    assert isinstance(kept.pop(key2), di.StateHead)
    assert all(isinstance(v, di.DirectiveState) and v.number != directive
               for v in kept.values())
    _same_states(di.kept_state(deltas, key2), di.kept_state(store, key2))  # type: ignore[arg-type]
    documents = deltas / "derived" / "documents"
    assert not (documents / f"{key0}.pickle").exists()  # the delta's base: dropped
    assert not (documents / f"{key1}.pickle").exists()
    used = set(_head(deltas, directive)[1].parts.values())
    assert {p.stem for p in documents.glob("directive-part-*.pickle")} == used


def _plain(text: str) -> str:
    """The text without its diacritics (as a damaged scan gives it)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def test_a_changed_plan_that_named_a_reconstructed_task_reads_every_part_and_gives_the_whole(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """No outline (the national plan lists no task): the tasks are clusters named by their
    cleanest member. A plan whose item names one changes that item (its diacritics lost): the
    build reads every part, and the state and graphs are what the whole state gives."""
    folder = tmp_path / "plans"
    shutil.copytree(corpus, folder)
    national = sorted(folder.glob("*_vn_*.txt"))[0]
    text = national.read_text("utf-8")
    directive = re.findall(r"Chỉ thị số (\d+-CT/TW)", text)[0]
    start, end = text.index("\nII. NHIỆM VỤ"), text.index("\nIII. ")
    national.write_text(text[:start] + text[end:], encoding="utf-8")  # no task listed
    store = tmp_path / "store"
    kgraph("build", str(folder), "--store", str(store), "--no-validate")
    key, head = _head(store, directive)
    assert not head.fixed and head.outline_iri is None and len(head.parts) > 3
    whole = di.kept_state(store, key)
    assert whole is not None and whole.alignment is not None
    outline = whole.alignment.result(directive)
    index = outline.clusters[0]  # the first task's cluster, and the plan naming it
    label = head.labels[index]
    assert label is not None
    plan = head.table[label[3]][0]
    assert outline.tasks[0].label == al._MARKER.sub("", label[2], count=1)
    number = next(p.number for p in head.plans if p.iri == plan)
    path = next(f for f in folder.glob("*.txt") if f"Số: {number}\n" in f.read_text("utf-8"))
    repo = OxigraphRepository(store, read_only=True)
    item = next(t for t in cov.tasks_of(repo, [plan])[plan] if t.text == label[2])
    del repo
    source = path.read_text("utf-8")
    assert item.source_text and item.source_text in source
    path.write_text(source.replace(item.source_text, _plain(item.source_text), 1),
                    encoding="utf-8")
    read = recorded_calls(monkeypatch, derived, "_read", type)
    _new_process()
    kgraph("build", str(path), "--store", str(store), "--no-validate")
    assert [k.__name__ for k in read].count("StatePart") == len(head.parts)  # every part
    key_after, after = _head(store, directive)
    assert after.labels[index] is not None and after.table[after.labels[index][3]][0] != plan
    state = di.kept_state(store, key_after)
    assert state is not None and state.alignment is not None
    # what the whole state gives: the plan's items taken out, its new items placed
    alignment = whole.alignment
    alignment.remove(plan, [m for c in alignment.clusters for m in c if m.plan == plan])
    repo = OxigraphRepository(store, read_only=True)
    lineage = di.Lineage.read(repo)
    records = di.Records(repo, store, lineage)
    mine = next(p for p in state.plans if p.iri == plan)
    items = cov.plan_items(mine, records.get([plan])[plan])
    assert any(m.text == _plain(label[2]) for m in items)
    matrix = alignment.vectors(items)
    alignment.place(items, matrix)
    alignment.score(items, matrix)
    _same_states(state, di.DirectiveState(
        whole.directive_iri, whole.number, None, state.plans, alignment,
        alignment.result(directive).clusters, state.provinces))
    found = cov.directive_of(repo, directive)
    assert found is not None
    assert set(cov.stored_graphs(repo, found[0])) == _holds_assembled(
        repo, directive, found[0], state.plans, state,
        records.get([found[0], *(p.iri for p in state.plans)]))
