"""A one-plan build writes its province's coverage graph by difference from the lines the
kept state gives (assembled again), not from the store read back, only when the version it
starts from is one this code wrote and nothing wrote since (``build._coverage_kept``); the
store then holds exactly what a build reading every graph back writes. A changed plan whose
earlier record is not kept, or a version without the mark, falls back to reading back."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from factories import recorded_calls
from kgraph import build as kbuild
from kgraph.analysis import coverage as cov
from kgraph.analysis import directive_index as di
from kgraph.store.derived import document_value, version_folders
from kgraph.store.embedded import OxigraphRepository
from test_directive_index import (  # noqa: F401
    built_but_two,
    corpus,
    document_of,
    graph_lines,
    kgraph,
    largest_directive_province,
)


def _coverage(store: Path, directive: str) -> dict[str, set[str]]:
    repo = OxigraphRepository(store, read_only=True)
    found = cov.directive_of(repo, directive)
    assert found is not None
    return {g: graph_lines(repo, g) for g in cov.stored_graphs(repo, found[0])}


def _marks(store: Path) -> frozenset[str]:
    repo = OxigraphRepository(store, read_only=True)
    return kbuild._coverage_kept(repo, version_folders(repo))


def _unmark(store: Path, directive: str) -> None:
    """The version as one an older code wrote: no mark."""
    repo = OxigraphRepository(store, read_only=True)
    base = version_folders(repo)
    found = cov.directive_of(repo, directive)
    assert base is not None and found is not None
    assert found[0] in kbuild._coverage_kept(repo, base)
    (store / "derived" / base[1] / f"{kbuild.COVERAGE_KEPT}.pickle").unlink()
    assert not kbuild._coverage_kept(OxigraphRepository(store, read_only=True), base)


def test_kept_lines_give_what_reading_back_gives_and_a_missing_record_reads_back(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    folder = tmp_path / "plans"
    shutil.copytree(corpus, folder)
    directive, paths = largest_directive_province(folder)
    later = tmp_path / "later"
    later.mkdir()
    new = paths[-1].rename(later / paths[-1].name)
    store = tmp_path / "store"
    kgraph("build", str(folder), "--store", str(store), "--no-validate")
    copy = tmp_path / "copy"  # the same builds from a version without the mark
    shutil.copytree(store, copy)
    _unmark(copy, directive)
    assembled = recorded_calls(monkeypatch, di, "_written_before", set)
    kbuild._LINES.clear()
    kgraph("build", str(new), "--store", str(store), "--no-validate")
    repo = OxigraphRepository(store, read_only=True)
    plan = document_of(repo, new.name)
    found = cov.directive_of(repo, directive)
    assert found is not None
    province = next(p.province for p in di.Lineage.read(repo).implementing(repo, found[0])
                    if p.iri == plan)
    graph = cov.province_graph_iri(found[0], province)
    assert assembled and graph in assembled[-1]  # not read back
    del repo
    assembled.clear()
    kbuild._LINES.clear()
    kgraph("build", str(new), "--store", str(copy), "--no-validate")
    assert not assembled  # an unmarked version: read back
    assert _coverage(store, directive) == _coverage(copy, directive)
    # continued from a marked version it stays marked; from an unmarked one it is not marked
    assert found[0] in _marks(store) and found[0] not in _marks(copy)

    # the plan changed, its earlier record gone: its province is read back, the rest the same
    text = new.read_text("utf-8")
    task = cov.tasks_of(OxigraphRepository(store, read_only=True), [plan])[plan][-1]
    assert task.source_text and task.source_text in text
    new.write_text(text.replace(task.source_text, task.source_text.rstrip(".;")
                                + " và các tổ chức xã hội", 1), encoding="utf-8")
    for path in (store / "derived" / "documents").glob("directive-record-*.pickle"):
        record = di.document_value(store, path.stem)
        if isinstance(record, cov.PlanRecord) and record.iri == plan:
            path.unlink()
    kbuild._LINES.clear()  # as a new process: no lines held from the build before
    kgraph("build", str(new), "--store", str(store), "--no-validate")
    assert assembled and graph not in assembled[-1]
    kbuild._LINES.clear()
    kgraph("build", str(new), "--store", str(copy), "--no-validate")
    assert _coverage(store, directive) == _coverage(copy, directive)


def test_a_second_one_plan_build_of_a_process_goes_on_from_what_the_first_made(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """`kgraph build A.txt` then `kgraph build B.txt` (the same directive and province) in one
    process: the second takes the state and lineage the first made (no kept state or lineage
    file read), and the store holds exactly what the second build leaves when a new process
    runs it (reading the files the first wrote: the lineage's index and one part)."""
    from kgraph.store import derived

    directive, first, second, store = built_but_two(corpus, tmp_path)
    di._HELD.clear()
    kgraph("build", str(first), "--store", str(store), "--no-validate")
    copy = tmp_path / "copy"
    shutil.copytree(store, copy, ignore=shutil.ignore_patterns(".stale-*"))
    read = recorded_calls(monkeypatch, derived, "_read", type)
    kgraph("build", str(second), "--store", str(store), "--no-validate")
    kept_kinds = {"DirectiveState", "StateDelta", "StateHead", "StatePart", "Lineage",
                  "LineageDelta", "LineageIndex"}
    assert not {kind.__name__ for kind in read} & kept_kinds
    di._HELD.clear()  # a new process: the first build's files only
    kbuild._LINES.clear()
    read.clear()
    kgraph("build", str(second), "--store", str(copy), "--no-validate")
    assert [kind.__name__ for kind in read if kind.__name__.startswith("Lineage")] == [
        "LineageIndex", "Lineage"]  # the index and the directive's part, not the others
    assert _coverage(store, directive) == _coverage(copy, directive)

    def states(root: Path) -> dict[str, object]:
        return {path.stem: document_value(root, path.stem) for path in
                (root / "derived" / "documents").glob("directive-*.pickle")}

    kept, fresh = states(store), states(copy)
    assert kept.keys() == fresh.keys()
    for key, value in kept.items():
        other = fresh[key]
        if isinstance(value, di.StateHead):
            assert isinstance(other, di.StateHead)
            assert (value.parts, value.table, value.aligned, value.labels, value.clusters) == \
                (other.parts, other.table, other.aligned, other.labels, other.clusters)
            for mine, theirs in ((value.who, other.who), (value.scores, other.scores),
                                 (value.positions, other.positions), (value.sums, other.sums)):
                assert all(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True))
        elif isinstance(value, (di.StatePart, di.LineageIndex, di.Lineage)):
            assert type(other) is type(value)
            assert value == other
