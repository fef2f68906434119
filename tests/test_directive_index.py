"""Directive coverage in the build (kgraph.analysis.directive_index): computed from the records
the workers keep, written as one graph per directive and per province, and continued for a
changed plan instead of re-aligned — checked against the store-reading computation
(`compute_directive_coverage`) on the seeds and on a small synthetic corpus, through
`kgraph build` as a user runs it."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from factories import recorded_calls
from kgraph.analysis import coverage as cov
from kgraph.analysis import directive_index as di
from kgraph.cli import app
from kgraph.graph.mapping import document_graph
from kgraph.ingest.extract import extract_file
from kgraph.store.derived import document_value
from kgraph.store.embedded import OxigraphRepository

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from corpus import write_corpus

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
runner = CliRunner()


def largest_directive_province(folder: Path) -> tuple[str, list[Path]]:
    """The directive most plans of one province carry out, and those plans' files (three at
    least), ordered by name: a one-plan build of the last ones lands in a graph already written."""
    by_key: dict[tuple[str, str], list[Path]] = {}
    for path in sorted(folder.glob("*.txt")):
        found = re.findall(r"Chỉ thị số (\d+-CT/TW)", path.read_text("utf-8"))
        if found:
            by_key.setdefault((found[0], path.name.split("_")[1]), []).append(path)
    (directive, _), paths = max(by_key.items(), key=lambda kv: len(kv[1]))
    assert len(paths) >= 3
    return directive, paths


def built_but_two(corpus: Path, tmp_path: Path) -> tuple[str, Path, Path, Path]:
    """The corpus built into a new store but for the last two plans of the largest directive's
    province, set aside for one-plan builds: (directive, first plan, second plan, store)."""
    folder = tmp_path / "plans"
    shutil.copytree(corpus, folder)
    directive, paths = largest_directive_province(folder)
    later = tmp_path / "later"
    later.mkdir()
    first, second = (path.rename(later / path.name) for path in paths[-2:])
    store = tmp_path / "store"
    kgraph("build", str(folder), "--store", str(store), "--no-validate")
    return directive, first, second, store


def kgraph(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def stored(repo: OxigraphRepository, directive: str) -> set[str]:
    """Every triple of the directive's derived graphs (N-Triples lines)."""
    found = cov.directive_of(repo, directive)
    assert found is not None
    lines = set()
    for graph in cov.stored_graphs(repo, found[0]):
        quads = repo.native.quads_for_pattern(None, None, None, ox.NamedNode(graph))
        lines |= {f"{q.subject} {q.predicate} {q.object} .\n" for q in quads}
    return lines


def recomputed(repo: OxigraphRepository, directive: str) -> set[str]:
    """The same directive computed from the store, every plan aligned again."""
    result = cov.compute_directive_coverage(repo, directive, store=False)
    assert result is not None
    memory = ox.Store()  # literals as a store keeps them ("0.710" is 0.71)
    memory.load(result.to_ntriples(), ox.RdfFormat.N_TRIPLES)
    return {f"{q.subject} {q.predicate} {q.object} .\n" for q in memory}


def test_a_record_from_the_mapped_graph_equals_the_one_read_from_the_store() -> None:
    repo = OxigraphRepository()
    kept = {}
    for path in sorted(SOURCES.glob("*.txt")):
        mapped = document_graph(extract_file(path))
        repo.replace_graphs({str(mapped.name): mapped.to_ntriples()})
        kept[str(mapped.document)] = cov.plan_record(str(mapped.document), "", mapped.index)
    found = cov.directive_of(repo, "28-CT/TW")
    assert found is not None
    plans = cov.implementing_plans(repo, found[0])
    assert len(plans) >= 3
    from_store = cov.records_from_store(repo, plans)
    for plan in plans:
        mine, theirs = kept[plan.iri], from_store[plan.iri]
        assert mine.tasks == theirs.tasks and mine.tasks
        assert mine.covering == theirs.covering
        assert mine.bodies == theirs.bodies
    assert any(r.covering for r in from_store.values())
    assert any(r.bodies for r in from_store.values())


def test_the_build_writes_what_the_store_reading_computation_gives(tmp_path: Path) -> None:
    store = tmp_path / "store"
    kgraph("build", str(SOURCES), "--store", str(store))
    repo = OxigraphRepository(store, read_only=True)
    lines = stored(repo, "28-CT/TW")
    assert lines == recomputed(repo, "28-CT/TW")
    graphs = cov.stored_graphs(repo, cov.directive_of(repo, "28-CT/TW")[0])  # type: ignore[index]
    assert len([g for g in graphs if "/province/" in g]) == 3  # one per province, and the tasks'
    matrix = cov.read_matrix(repo, "28-CT/TW")
    assert matrix is not None and matrix.provinces == ["Gia Lai", "Kiên Giang", "Lào Cai"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "plans"
    write_corpus(folder, 90, seed=5)
    return folder


def test_a_changed_plan_is_placed_in_the_kept_alignment_and_only_its_province_rewritten(
        corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plans"
    shutil.copytree(corpus, folder)
    store = tmp_path / "store"
    kgraph("build", str(folder), "--store", str(store), "--no-validate")
    repo = OxigraphRepository(store, read_only=True)
    directive = "28-CT/TW"
    full = stored(repo, directive)
    assert full == recomputed(repo, directive)  # a full build: the same answers
    lineage = di.Lineage.read(repo)
    found = cov.directive_of(repo, directive)
    assert found is not None
    plans = lineage.implementing(repo, found[0])
    provinces = {p.province for p in plans}
    assert len(provinces) >= 5
    # one commune plan of the directive changes a task's wording
    plan = next(p for p in plans if p.chain and len(p.chain) >= 2)
    path = next(f for f in folder.glob("*.txt") if f"Số: {plan.number}\n" in f.read_text("utf-8"))
    text = path.read_text("utf-8")
    task = cov.tasks_of(repo, [plan.iri])[plan.iri][-1]
    assert task.source_text and task.source_text in text
    path.write_text(text.replace(task.source_text, task.source_text.rstrip(".;")
                                 + " và các nhiệm vụ khác có liên quan", 1), encoding="utf-8")
    kept = {g: graph_lines(repo, g) for g in cov.stored_graphs(repo, found[0])}
    del repo

    out = kgraph("build", str(folder), "--store", str(store), "--no-validate")
    assert directive in out.split("directive coverage")[1].splitlines()[0]
    repo = OxigraphRepository(store, read_only=True)
    after = {g: graph_lines(repo, g) for g in cov.stored_graphs(repo, found[0])}
    assert set(after) == set(kept)
    province_graph = cov.province_graph_iri(found[0], plan.province)
    rewritten = {g for g in after if after[g] != kept[g]}
    # the rule: only the changed plan's province and the directive's task list are rewritten
    assert rewritten <= {province_graph, cov.directive_graph_iri(found[0])}
    assert province_graph in rewritten
    matrix = cov.read_matrix(repo, directive)
    assert matrix is not None and matrix.provinces == sorted(provinces - {cov.NO_PROVINCE})
    new_items = {line.split()[2] for line in after[province_graph] if "#planTask>" in line}
    assert any(plan.iri.removeprefix("https://") in item for item in new_items)
    # a full re-alignment when asked (`kgraph coverage`) gives what a fresh build gives
    kgraph("coverage", "--doc", directive, "--store", str(store))
    assert stored(OxigraphRepository(store, read_only=True), directive) == \
        recomputed(OxigraphRepository(store, read_only=True), directive)


def test_one_new_plan_built_alone_is_placed_in_the_kept_alignment(
        corpus: Path, tmp_path: Path) -> None:
    """`kgraph build one-new-plan.txt` into a store holding the others: only the directive the
    plan carries out is recomputed, from its kept state, and only the plan's province graph and
    the directive's task list change (not every directive re-aligned from the store)."""
    folder = tmp_path / "plans"
    shutil.copytree(corpus, folder)
    later = tmp_path / "later"
    later.mkdir()
    new = sorted(folder.glob("*.txt"))[-1]  # a leaf: a department or commune plan
    new = new.rename(later / new.name)
    store = tmp_path / "store"
    kgraph("build", str(folder), "--store", str(store), "--no-validate")
    repo = OxigraphRepository(store, read_only=True)
    directives = {number: cov.directive_of(repo, number) for number in
                  di.Lineage.read(repo).groups()}
    kept = {number: {g: graph_lines(repo, g) for g in cov.stored_graphs(repo, found[0])}
            for number, found in directives.items() if found is not None}
    assert len(kept) >= 3
    del repo

    out = kgraph("build", str(new), "--store", str(store), "--no-validate")
    repo = OxigraphRepository(store, read_only=True)
    document = document_of(repo, new.name)
    lineage = di.Lineage.read(repo)
    mine = [number for number, members in lineage.groups().items() if document in members]
    assert len(mine) == 1
    directive = mine[0]
    assert out.split("directive coverage")[1].splitlines()[0].split("│")[1].strip() == \
        f"{directive} (continued)"  # placed in the kept state
    found = directives[directive]
    assert found is not None
    after = {g: graph_lines(repo, g) for g in cov.stored_graphs(repo, found[0])}
    rewritten = {g for g in after if after[g] != kept[directive].get(g)}
    plan = next(p for p in lineage.implementing(repo, found[0]) if p.iri == document)
    province_graph = cov.province_graph_iri(found[0], plan.province)
    assert province_graph in rewritten
    assert rewritten <= {province_graph, cov.directive_graph_iri(found[0])}
    assert any(document.removeprefix("https://") in line.split()[2]
               for line in after[province_graph] if "#planTask>" in line)
    for number, graphs in kept.items():  # the other directives: not touched
        if number != directive:
            assert {g: graph_lines(repo, g) for g in graphs} == graphs
    assert_the_kept_lineage_is_the_store_s(store, repo)
    del repo
    new.write_text(new.read_text(encoding="utf-8") + "\nGhi chú thêm.\n", encoding="utf-8")
    kgraph("build", str(new), "--store", str(store), "--no-validate")  # changed again
    assert_the_kept_lineage_is_the_store_s(store, OxigraphRepository(store, read_only=True))


def assert_the_kept_lineage_is_the_store_s(store: Path, repo: OxigraphRepository) -> None:
    """The store's lineage is kept as one index and its parts (one per directive, and the
    rest), which merged are the store's lineage; nothing else is kept."""
    kept = {path.stem: document_value(store, path.stem) for path in
            (store / "derived" / "documents").glob("directive-lineage-*.pickle")}
    indexes = [value for value in kept.values() if isinstance(value, di.LineageIndex)]
    assert len(indexes) == 1
    assert set(kept) == {*indexes[0].parts.values(),
                         next(k for k, v in kept.items() if v is indexes[0])}
    merged, _ = di._kept_lineage(store, next(k for k, v in kept.items() if v is indexes[0]))
    assert merged is not None
    assert_same_lineage(merged, di.Lineage.read(repo))


def assert_same_lineage(mine: di.Lineage, read: di.Lineage) -> None:
    assert {g: sorted(e) for g, e in mine.edges.items()} == {
        g: sorted(e) for g, e in read.edges.items()}
    assert {g: sorted(t) for g, t in mine.targets.items()} == {
        g: sorted(t) for g, t in read.targets.items()}
    assert mine.plans == read.plans and mine.labels == read.labels


def document_of(repo: OxigraphRepository, file_name: str) -> str:
    rows = repo.query(f"""SELECT ?doc WHERE {{ GRAPH ?g {{
        ?doc <https://w3id.org/kgraph/def#sourceFile> ?file .
        ?file <http://purl.org/dc/terms/title> "{file_name}" }} }}""").records()
    assert len(rows) == 1
    return rows[0]["doc"] or ""


def graph_lines(repo: OxigraphRepository, graph: str) -> set[str]:
    return {f"{q.subject} {q.predicate} {q.object}"
            for q in repo.native.quads_for_pattern(None, None, None, ox.NamedNode(graph))}


def test_a_changed_plan_is_placed_as_the_progressive_alignment_places_a_later_plan() -> None:
    """Taking a plan out of the kept clusters and placing its new items gives what a full
    alignment gives when that plan comes last and the vectoriser is the one kept."""
    from kgraph.analysis import alignment as al

    texts = ["Bố trí ngân sách nhà nước cho công tác trẻ em",
             "Tuyên truyền, phổ biến Chỉ thị đến cán bộ, đảng viên và nhân dân",
             "Kiểm tra, giám sát việc thực hiện các chính sách về trẻ em",
             "Nâng cao chất lượng dịch vụ y tế cho trẻ em ở xã, phường",
             "Xây dựng sân chơi, điểm vui chơi cho trẻ em ở thôn, bản"]

    def plan(n: int, words: list[str]) -> list[al.PlanItem]:
        return [al.PlanItem(f"p{n}/{i}", f"p{n}", f"{n:02d}/KH", f"P{n % 3}", str(i), t,
                            position=i / len(words)) for i, t in enumerate(words)]

    for outline in ([], [al.PlanItem(f"o/{i}", "o", "", "", str(i), t)
                         for i, t in enumerate(texts)]):
        plans = [plan(n, texts[: 5 - n % 3]) for n in range(9)]
        last = plan(9, texts[:2])  # the shortest, numbered last: aligned last
        state = al.align_state([*plans, last], outline)
        assert state is not None
        edited = plan(9, [texts[1] + " trên địa bàn", texts[3]])
        state.remove("p9", [m for c in state.clusters for m in c if m.plan == "p9"])
        matrix = state.vectors(edited)
        state.place(edited, matrix)
        state.score(edited, matrix)
        continued = state.result("x")
        full = al.align_state([*plans, edited], outline, model=state.model)
        assert full is not None
        expected = full.result("x")
        assert [sorted(m.iri for m in t.members) for t in continued.tasks] == \
            [sorted(m.iri for m in t.members) for t in expected.tasks]
        assert [t.no for t in continued.tasks] == [t.no for t in expected.tasks]
        edited_scores = {i.iri for i in edited}
        for mine, theirs in zip(continued.tasks, expected.tasks, strict=True):
            for iri, score in mine.scores.items():
                if outline or iri in edited_scores:  # fixed outline: every score the same
                    assert score == pytest.approx(theirs.scores[iri], abs=1e-3)


def test_incremental_and_full_alignment_agree_on_a_reconstructed_outline() -> None:
    """Without an outline the clusters are the outline: placing a changed plan in the kept
    state gives the clusters a full alignment of the same plans gives, on this small case."""
    from kgraph.analysis import alignment as al

    texts = ["Bố trí ngân sách nhà nước cho công tác trẻ em",
             "Tuyên truyền, phổ biến Chỉ thị đến cán bộ, đảng viên",
             "Kiểm tra, giám sát việc thực hiện các chính sách về trẻ em",
             "Nâng cao chất lượng dịch vụ y tế cho trẻ em ở xã, phường"]

    def plan(n: int, words: list[str]) -> list[al.PlanItem]:
        return [al.PlanItem(f"p{n}/{i}", f"p{n}", f"{n}/KH", f"P{n % 3}", str(i), t,
                            position=i / len(words)) for i, t in enumerate(words)]

    plans = [plan(n, texts if n % 2 else texts[:3]) for n in range(8)]
    state = al.align_state(plans)
    assert state is not None
    edited = plan(3, [t.replace("trẻ em", "trẻ em và thiếu niên") for t in texts])
    old = [m for c in state.clusters for m in c if m.plan == "p3"]
    state.remove("p3", old)
    matrix = state.vectors(edited)
    state.place(edited, matrix)
    state.score(edited, matrix)
    continued = state.result("x")
    full = al.align("x", [edited if p[0].plan == "p3" else p for p in plans])
    assert [sorted(m.iri for m in t.members) for t in continued.tasks] == \
        [sorted(m.iri for m in t.members) for t in full.tasks]
    assert continued.reconstructed and len(continued.tasks) == 4


def test_the_directives_of_a_few_plans_are_grouped_as_the_whole_store_groups_them() -> None:
    """`Lineage.groups(plans)` (a re-build of a few plans, walked down from their directives)
    gives those directives the members and order `groups()` gives, chains, a plan carrying out
    two directives and a cycle included."""
    def plan(name: str, number: str) -> di.SourcePlan:
        return di.SourcePlan(name, number, "", "", f"g/{name}", "sha")

    edges = {"g/a": [("a", "d1")], "g/b": [("b", "a")], "g/c": [("c", "b"), ("c", "d2")],
             "g/e": [("e", "d2")], "g/f": [("f", "g"), ("g", "f"), ("f", "d3")],
             "g/h": [("h", "f")], "g/x": [("x", "law")]}
    targets = {g: [(t, {"d1": "1-CT/TW", "d2": "2-NQ/TW", "d3": "3-KL/TW"}.get(t, "5/QĐ-TTg"))
                   for _, t in e] for g, e in edges.items()}
    plans = {p: plan(p, f"{i}/KH") for i, p in enumerate("abcefghx")}
    lineage = di.Lineage(edges, targets, plans, {})
    full = lineage.groups()
    assert full == {"1-CT/TW": ["a", "b", "c"], "2-NQ/TW": ["c", "e"],
                    "3-KL/TW": ["f", "g", "h"]}
    for picked in (["c"], ["b"], ["h"], ["x"], ["e", "a"], list(plans)):
        part = lineage.groups(picked)
        expected = {d: m for d, m in full.items() if set(m) & set(picked)}
        assert part == expected, picked


def test_directives_aligned_side_by_side_in_processes_give_the_same_graphs(
        corpus: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    kgraph("build", str(corpus), "--store", str(store))  # every directive: one per core
    repo = OxigraphRepository(store, read_only=True)
    assert len(di.Lineage.read(repo).groups()) > 1
    alone: dict[str, str] = {}
    side_by_side: dict[str, str] = {}
    one = di.update(repo, None, alone.update, None, keep=False, jobs=1)
    two = di.update(repo, None, side_by_side.update, None, keep=False, jobs=2)
    assert one.directives == two.directives and len(one.directives) > 1
    assert alone == side_by_side and any(alone.values())
    assert one.answers.directives == two.answers.directives  # the kept query answers too
    for graph, text in side_by_side.items():  # and the build wrote the same
        written = ox.Store()
        written.load(text, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
        assert set(repo.native.quads_for_pattern(None, None, None, ox.NamedNode(graph))) == set(
            written), graph


def test_one_plan_builds_keep_the_state_by_province_and_write_only_the_changed_triples(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kgraph build NEW.txt` twice, then the first plan changed: the directive's state is kept
    as a head and one part per province; the change reads the head and its province's part
    only, writes that part again (the others stay as they were), and leaves exactly the state
    the whole state in memory gives when the plan is taken out and placed again; the province
    graph is rewritten by its differing triples only, and the store then holds the very graphs
    the stage computes from the kept state (what a plain replacement writes)."""
    import numpy as np

    from kgraph import build as kbuild
    from kgraph.store import derived

    folder = tmp_path / "plans"
    shutil.copytree(corpus, folder)
    files = sorted(folder.glob("*.txt"))
    directive = re.findall(r"Chỉ thị số (\d+-CT/TW)", files[-1].read_text("utf-8"))[0]
    later = tmp_path / "later"
    later.mkdir()
    moved = [path.rename(later / path.name) for path in [
        f for f in files if f"Chỉ thị số {directive}" in f.read_text("utf-8")][-2:]]
    store = tmp_path / "store"
    kgraph("build", str(folder), "--store", str(store), "--no-validate")
    differences = recorded_calls(monkeypatch, kbuild, "replace_by_difference")
    # the graphs whose lines the process held (not read back)
    held = recorded_calls(monkeypatch, kbuild, "_held_lines", set)
    for path in moved:
        kgraph("build", str(path), "--store", str(store), "--no-validate")
    first = moved[0]
    repo = OxigraphRepository(store, read_only=True)
    plan = document_of(repo, first.name)
    task = cov.tasks_of(repo, [plan])[plan][-1]  # a task's wording changes
    del repo
    text = first.read_text("utf-8")
    assert task.source_text and task.source_text in text
    first.write_text(text.replace(task.source_text, task.source_text.rstrip(".;")
                                  + " và các tổ chức xã hội", 1), encoding="utf-8")
    before = heads(store)
    head_before = next(h for h in before.values() if h.number == directive)
    whole = di.kept_state(store, next(k for k, h in before.items() if h is head_before))
    assert whole is not None and whole.alignment is not None
    copy = tmp_path / "copy"  # the same change built by a new process, to compare
    shutil.copytree(store, copy, ignore=shutil.ignore_patterns(".stale-*"))
    read = recorded_calls(monkeypatch, derived, "_read", type)
    kgraph("build", str(first), "--store", str(store), "--no-validate")
    update, written = differences[-1]  # the change
    # the head and its province's part read (the process held them: written by it)
    assert not {"StateHead", "StatePart", "DirectiveState"} & {k.__name__ for k in read}
    di._HELD.clear()
    kbuild._LINES.clear()
    read.clear()
    kgraph("build", str(first), "--store", str(copy), "--no-validate")
    assert [k.__name__ for k in read].count("StateHead") == 1
    assert [k.__name__ for k in read].count("StatePart") == 1  # its province's only

    after = heads(store)
    head = next(h for h in after.values() if h.number == directive)
    province = next(p.province for p in head.plans if p.iri == plan)
    assert set(head.parts) == set(head_before.parts)
    assert {p for p in head.parts if head.parts[p] != head_before.parts[p]} == {province}
    kept_parts = {path.stem for path in (store / "derived" / "documents").glob(
        "directive-part-*.pickle")}
    assert head_before.parts[province] not in kept_parts  # replaced: dropped
    assert set(head.parts.values()) <= kept_parts
    assert heads(copy).keys() == after.keys()
    key = next(k for k, h in after.items() if h is head)
    state, fresh = di.kept_state(store, key), di.kept_state(copy, key)
    assert state is not None and fresh is not None
    assert state.alignment is not None and fresh.alignment is not None
    # what the whole state gives: the plan's items taken out, its new items placed
    alignment = whole.alignment
    alignment.remove(plan, [m for c in alignment.clusters for m in c if m.plan == plan])
    repo = OxigraphRepository(store, read_only=True)
    lineage = di.Lineage.read(repo)
    record = di.Records(repo, store, lineage).get([plan])[plan]
    mine = next(p for p in state.plans if p.iri == plan)
    items = cov.plan_items(mine, record)
    matrix = alignment.vectors(items)
    alignment.place(items, matrix)
    alignment.score(items, matrix)
    for kept in (state.alignment, fresh.alignment):
        assert [[m for m in c] for c in kept.clusters] == alignment.clusters
        assert all(np.array_equal(a, b) for a, b in zip(kept.sums, alignment.sums,
                                                          strict=True))
        assert kept.scores == alignment.scores and kept.plans == alignment.plans
    assert state.plans == fresh.plans and state.clusters == fresh.clusters

    found = cov.directive_of(repo, directive)
    assert found is not None
    graph = cov.province_graph_iri(found[0], province)
    assert graph in written  # by difference, a small part of its province's graph
    assert not held[0] and graph in held[2]  # the last build's lines held by this process
    assert 0 < update.count(" .\n") < len(graph_lines(repo, graph)) // 2
    records = di.Records(repo, store, lineage).get([found[0], *(p.iri for p in state.plans)])
    assert set(cov.stored_graphs(repo, found[0])) == _holds_assembled(
        repo, directive, found[0], state.plans, state, records)
    for name in cov.stored_graphs(repo, found[0]):  # and the copy's new process: the same
        assert graph_lines(OxigraphRepository(copy, read_only=True), name) == \
            graph_lines(repo, name)


def heads(root: Path) -> dict[str, di.StateHead]:
    """The directives' state heads kept next to the store, by key."""
    found = {path.stem: document_value(root, path.stem) for path in
             (root / "derived" / "documents").glob("directive-state-*.pickle")}
    assert all(isinstance(v, di.StateHead) for v in found.values())
    return found  # type: ignore[return-value]


def test_lines_held_by_a_process_are_ignored_after_the_version_changed_in_place(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One process builds a new plan (it holds the lines of the coverage graphs it wrote),
    then the current version is written in place (a server's SPARQL update: a triple of the
    directive's coverage graph deleted, another added), then the process builds a second new
    plan of the same directive and province: the held lines no longer describe the version,
    so the graphs are read back and the result is what a process holding nothing writes, and
    what the kept alignment gives whole (the deleted triple back, the added one gone)."""
    from kgraph import build as kbuild

    directive, first, second, store = built_but_two(corpus, tmp_path)
    held = recorded_calls(monkeypatch, kbuild, "_held_lines")
    kgraph("build", str(first), "--store", str(store), "--no-validate")
    repo = OxigraphRepository(store, read_only=True)
    plan = document_of(repo, first.name)
    found = cov.directive_of(repo, directive)
    assert found is not None
    graph = cov.directive_graph_iri(found[0])  # written by difference by both builds
    lines = sorted(graph_lines(repo, graph))
    del repo
    assert kbuild._held_lines(OxigraphRepository(store, read_only=True), ("", "")).get(graph)
    gone = lines[0]
    extra = "<https://example.org/s> <https://example.org/p> <https://example.org/o>"
    writer = OxigraphRepository(store)  # the current version, written in place
    writer.native.update(f"DELETE DATA {{ GRAPH <{graph}> {{ {gone} }} }} ;\n"
                         f"INSERT DATA {{ GRAPH <{graph}> {{ {extra} }} }}")
    writer.native.flush()
    writer.mark_changed()
    del writer
    copy = tmp_path / "copy"  # the same version, built by a process holding nothing of it
    shutil.copytree(store, copy, ignore=shutil.ignore_patterns(".stale-*"))
    held.clear()
    kgraph("build", str(second), "--store", str(store), "--no-validate")
    assert held and not any(held)  # the lines held before the write were not used
    kgraph("build", str(second), "--store", str(copy), "--no-validate")
    repo, other = (OxigraphRepository(s, read_only=True) for s in (store, copy))
    assert plan and document_of(repo, second.name)
    after = graph_lines(repo, graph)
    assert gone in after and extra not in after
    names = set(cov.stored_graphs(repo, found[0]))
    assert names == set(cov.stored_graphs(other, found[0])) and graph in names
    for name in names:
        assert graph_lines(repo, name) == graph_lines(other, name), name
    # and those are the graphs the kept alignment gives whole
    lineage = di.Lineage.read(repo)
    plans = lineage.implementing(repo, found[0])
    state = di.kept_state(store, di.state_key(found[0], {
        p.iri: lineage.plans[p.iri].sha256 for p in plans}))
    assert state is not None and state.alignment is not None
    records = di.Records(repo, store, lineage).get([found[0], *(p.iri for p in plans)])
    assert names == _holds_assembled(repo, directive, found[0], plans, state, records)


def test_a_graph_written_again_unchanged_costs_no_update_and_a_change_only_its_triples(
        ) -> None:
    """The difference compares lines as the engine stores them (decimals canonical: "0.350"
    reads back as "0.35"), so unchanged triples are neither deleted nor inserted again."""
    from kgraph import build as kbuild

    store = ox.Store()
    name = "https://example.org/graph/coverage"
    decimal = "<http://www.w3.org/2001/XMLSchema#decimal>"
    lines = [f'<https://example.org/r{i}> <https://example.org/score> "0.{i}50"^^{decimal} .'
             for i in range(10)]
    lines += ['<https://example.org/c> <https://example.org/name> "Gia Lai"@vi .',
              '<https://example.org/c> <https://example.org/n> "100.000"^^' + decimal + " ."]
    text = "".join(sorted(line + "\n" for line in lines))
    store.load(text.encode(), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))
    update, written = kbuild.replace_by_difference(store, {name: text})
    assert written == [name] and update == ""
    changed = text.replace('"0.350"', '"0.375"')
    update, written = kbuild.replace_by_difference(store, {name: changed})
    assert written == [name] and update.count(" .\n") == 2  # one deleted, one inserted
    store.update(update)
    assert {str(q.object) for q in store.quads_for_pattern(
        ox.NamedNode("https://example.org/r3"), None, None, ox.NamedNode(name))} == {
        f'"0.375"^^{decimal}'}
    assert len(store) == len(lines)
    # a graph the store does not hold, or one emptied, is left to the plain replacement
    assert kbuild.replace_by_difference(store, {"https://example.org/new": text}) == ("", [])
    assert kbuild.replace_by_difference(store, {name: ""}) == ("", [])


def _holds_assembled(repo: Any, directive: Any, iri: str, plans: Any, state: Any,
                     records: Any) -> set[str]:
    """Assert that the store holds the coverage graphs the kept alignment gives whole (literals
    as a store keeps them); their names."""
    result = cov.assemble(directive, iri, plans, state.alignment.result(directive),
                          state.outline_iri, records)
    memory = ox.Store()
    for name, text in result.graphs().items():
        memory.load(text.encode(), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))
        expected = {f"{q.subject} {q.predicate} {q.object}" for q in
                    memory.quads_for_pattern(None, None, None, ox.NamedNode(name))}
        assert graph_lines(repo, name) == expected, name
    return set(result.graphs())
