"""The audit index kept in SQLite and updated incrementally gives the answers of a full
recompute and of the reference audit, through ``kgraph build`` / ``kgraph audit`` / ``/audit``.

Why: the index is updated from the previous version's file by touching only the changed plans'
rows (their findings, the conflicts about what they state, the peer gaps they take part in, the
counts of their groups); an update that forgot a row would show stale findings for ever.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kgraph.analysis import audit_index as ai
from kgraph.analysis.audit import run_audit
from kgraph.cli import app
from kgraph.store.embedded import OxigraphRepository

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from corpus import write_corpus

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
N_PLANS = 40
runner = CliRunner()


def kgraph(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def same(left: list[ai.Finding], right: list[ai.Finding]) -> bool:
    return sorted(left, key=ai.order_key) == sorted(right, key=ai.order_key)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("audit-seeds") / "store"
    code, _, err = kgraph("build", str(SOURCES), "--store", str(root))
    assert code == 0, err
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("audit-corpus")
    folder = base / "plans"
    write_corpus(folder, N_PLANS, seed=5)
    code, _, err = kgraph("build", str(folder), "--store", str(base / "store"))
    assert code == 0, err
    return folder, base / "store"


def test_the_index_of_the_seeds_is_the_reference_audit(seeds: Path) -> None:
    """Own findings and conflicts as the reference audit (pySHACL per graph, the conflict
    query, coverage) finds them; peer gaps as computed whole."""
    repo = OxigraphRepository(seeds, read_only=True)
    index = ai.audit_index(repo)
    kept = index.findings
    assert kept == sorted(kept, key=ai.order_key) and len(kept) > 20
    reference = [f for f in run_audit(repo).findings if f.rule != ai.PEER_RULE]
    assert same([f for f in kept if f.rule != ai.PEER_RULE], reference)
    whole = ai.peer_findings(ai.peer_alignments(repo))
    assert whole and same([f for f in kept if f.rule == ai.PEER_RULE], whole)
    assert same(kept, ai.compute_index(repo).findings)  # in memory, from nothing


def test_pages_are_slices_of_the_selection_with_its_counts(seeds: Path) -> None:
    index = ai.audit_index(OxigraphRepository(seeds, read_only=True))
    for filters in ({}, {"province": "gia lai"}, {"rule": ai.PEER_RULE},
                    {"severity": "warning"}, {"plan": "2509/KH-UBND", "severity": "Warning"}):
        chosen = index.select(**filters)
        assert chosen, filters
        assert list(index.iter_findings(chunk=3, **filters)) == chosen  # read in small chunks
        assert chosen == [f for group in index._selection(**filters).groups
                          for f in index._group(group)]  # as pages read them, group by group
        pages = [index.page(offset, 7, **filters) for offset in range(0, len(chosen), 7)]
        assert [f for page in pages for f in page.findings] == chosen
        counts = Counter(f.severity for f in chosen)
        assert pages[0].total == len(chosen)
        assert pages[0].counts == {s: counts.get(s, 0) for s in ("Violation", "Warning", "Info")}
        assert sum(n for _, _, n in pages[0].rules) == len(chosen)
    assert not index.select(province="Atlantis")


def test_a_rebuild_updates_the_index_as_a_full_recompute_would(
        corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, store = corpus
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    repo = OxigraphRepository(copy, read_only=True)
    before = ai.audit_index(repo)
    pairs = sum(len(peers.split(",")) for (peers,) in before._rows("SELECT peers FROM peer_sets")
                if peers)  # (plan, peer) pairs compared
    assert pairs > 20 and before.select(rule=ai.PEER_RULE)
    findings_before = before.findings
    changed = tmp_path / "plans"
    shutil.copytree(folder, changed)
    plan = next(p for p in sorted(changed.glob("*.txt")) if "kh-ubnd" in p.name)
    text = plan.read_text(encoding="utf-8")  # every task of one provincial plan replaced
    plan.write_text(re.sub(r"(?m)^([a-zđ]\)) .*$", r"\1 Lưu trữ hồ sơ điện tử của lễ hội.", text),
                    encoding="utf-8")
    compared: list[tuple[str, str]] = []
    real_compare = ai.compare_plans
    monkeypatch.setattr(ai, "compare_plans", lambda pairs, *args, **kwargs: compared.extend(
        pairs) or real_compare(pairs, *args, **kwargs))
    cohorts: list[object] = []  # the same plans, numbers and lineage: cohorts kept, not redone
    real_cohorts = ai.cohort_groups
    monkeypatch.setattr(ai, "cohort_groups", lambda *args: cohorts.append(1) or real_cohorts(*args))
    code, _, err = kgraph("build", str(changed), "--store", str(copy))
    assert code == 0, err
    assert 0 < len(compared) < pairs  # only the pairs the changed plan takes part in
    assert not cohorts
    repo = OxigraphRepository(copy, read_only=True)
    updated = ai.audit_index(repo)
    full = ai.compute_index(repo)
    assert updated.findings == full.findings
    assert same([f for f in full.findings if f.rule == ai.PEER_RULE],  # read whole, once
                ai.peer_findings(ai.peer_alignments(repo)))
    assert updated.conflict_sources == full.conflict_sources
    assert updated.findings != findings_before
    for filters in ({}, {"province": "Gia Lai"}, {"rule": ai.PEER_RULE}, {"severity": "Warning"}):
        assert updated.page(0, 25, **filters) == full.page(0, 25, **filters)
        assert updated.page(40, 25, **filters) == full.page(40, 25, **filters)


def test_fast_peer_comparison_gives_the_reference_gaps(
        corpus: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Each pair of plans compared once for both directions, in worker processes or not, and
    with every score taken from the reference kernel: the same gaps and rounded scores as
    comparing pair by pair as before (:func:`ai._gaps` with :func:`ai.pair_similarity`)."""
    _, store = corpus
    repo = OxigraphRepository(store, read_only=True)
    documents = ai.audited_documents(repo)
    cohorts = ai.peer_cohorts(ai.Lineage.read(repo),
                              [(d.iri, d.number, d.province) for d in documents])
    tasks = ai.plans_tasks(repo, sorted({p[0] for members, _ in cohorts.values()
                                         for p in members}))
    rows: dict[str, ai._TermRows] = {}

    def rows_of(iri: str) -> ai._TermRows:
        return rows.setdefault(iri, ai._TermRows([t.text for t in tasks.get(iri, [])]))

    reference: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for _members, plan_peers in cohorts.values():
        for plan, peers in plan_peers:
            for peer in peers:
                if tasks.get(peer[0]):
                    reference[(plan[0], peer[0])] = [
                        (tasks[peer[0]].index(gap.task), gap.best) for gap in
                        ai._gaps(plan, [peer], lambda p: tasks.get(p, []), rows_of)]
    pairs = [*reference, *((plan[0], peer[0]) for _m, plan_peers in cohorts.values()
                           for plan, peers in plan_peers for peer in peers
                           if not tasks.get(peer[0]))]  # a peer without tasks: no gaps
    texts = {iri: [t.text for t in items] for iri, items in tasks.items()}
    assert sum(len(v) for v in reference.values()) > 100
    assert any(a == d and b == c for a, b in reference for c, d in reference)  # both ways
    assert dict(ai.compare_plans(pairs, texts)) == reference
    monkeypatch.setattr(ai, "PARALLEL_PAIRS", 0)
    monkeypatch.setattr(ai, "CHUNK_PAIRS", 7)
    assert dict(ai.compare_plans(pairs, texts, jobs=2)) == reference  # two processes
    monkeypatch.setattr(ai, "SETTLED", 1.0)  # every score too close to call
    assert dict(ai.compare_plans(pairs, texts, jobs=1)) == reference


def _peer_rows(index: ai.AuditIndex) -> tuple[set[tuple[object, ...]], ...]:
    """Peer lists and cohorts by IRIs (row ids differ between two ways of computing them)."""
    iris = dict(index._rows("SELECT id, iri FROM documents"))
    peer_sets = {(iris[plan], directive, tuple(iris[int(p)] for p in peers.split(",") if p))
                 for plan, directive, peers in index._rows("SELECT * FROM peer_sets")}
    cohorts = {(*row[:3], iris[row[3]], *row[4:])
               for row in index._rows("SELECT * FROM cohorts")}
    return peer_sets, cohorts


def _watch_comparisons(monkeypatch: pytest.MonkeyPatch
                       ) -> tuple[list[tuple[str, str]], list[object]]:
    """The plan pairs the audit index compares and each time it works cohorts out again,
    recorded while the real functions run."""
    compared: list[tuple[str, str]] = []
    real_compare = ai.compare_plans
    monkeypatch.setattr(ai, "compare_plans", lambda pairs, *args, **kwargs: compared.extend(
        pairs) or real_compare(pairs, *args, **kwargs))
    cohorts: list[object] = []
    real_cohorts = ai.cohort_groups
    monkeypatch.setattr(ai, "cohort_groups", lambda *args: cohorts.append(1) or real_cohorts(*args))
    return compared, cohorts


@pytest.mark.parametrize(("number", "leads"), [("99999/KH-UBND", False), ("1/KH-UBND", True)])
def test_one_new_plan_is_compared_with_its_peers_only(
        corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        number: str, leads: bool) -> None:
    """A new plan of a province (a copy of one of its plans under another number) is placed
    in its cohorts by a lookup: no cohort is worked out again, every comparison involves it,
    and the index equals a full recompute. Numbered first in its province, it becomes the peer
    the cohort's other provinces' plans are compared with, in place of the plan before it."""
    folder, store = corpus
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    ai.audit_index(OxigraphRepository(copy, read_only=True))  # (its cohorts kept)
    original = next(p for p in sorted(folder.glob("*.txt")) if "kh-ubnd" in p.name)
    text = original.read_text(encoding="utf-8")
    new = tmp_path / "new.txt"
    new.write_text(re.sub(r"(?m)^Số: \S+/KH-UBND$", f"Số: {number}", text, count=1),
                   encoding="utf-8")
    compared, cohorts = _watch_comparisons(monkeypatch)
    code, _, err = kgraph("build", str(new), "--store", str(copy))
    assert code == 0, err
    assert not cohorts
    repo = OxigraphRepository(copy, read_only=True)
    updated = ai.audit_index(repo)
    plan = next(d.iri for d in updated.documents if d.number == number)
    assert compared and all(plan in pair for pair in compared)
    assert any(peer == plan for _, peer in compared) is leads  # others compared with it
    full = ai.compute_index(repo)
    assert updated.findings == full.findings
    assert updated.conflict_sources == full.conflict_sources
    assert _peer_rows(updated) == _peer_rows(full)
    assert updated.page(0, 25, plan=number) == full.page(0, 25, plan=number)


def test_several_new_plans_in_one_build_are_compared_with_their_peers_only(
        corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kgraph build A.txt B.txt …`` with several new plans (copies of three provinces'
    plans of one cohort under other numbers): each is placed in its cohort by a lookup, two of them
    becoming the first of their province (one of them beside another new plan of its
    province that does not), so the cohort's other plans are compared with them in place of
    the plans before them. No cohort is worked out again, every comparison involves a new
    plan, and the index equals a full recompute."""
    folder, store = corpus
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    index = ai.audit_index(OxigraphRepository(copy, read_only=True))  # (its cohorts kept)
    firsts: dict[tuple[object, ...], list[str]] = {}  # a cohort's provinces' first plans
    for *cohort, number in index._rows(
            "SELECT c.directive, c.distance, d.number FROM cohorts c JOIN documents d "
            "ON d.id = c.plan WHERE c.first = 1 AND c.series = 'kh-ubnd' ORDER BY 1, 2, 3"):
        firsts.setdefault(tuple(cohort), []).append(number)
    chosen = next(numbers for numbers in firsts.values() if len(numbers) >= 3)
    first, second, third = (next(p for p in sorted(folder.glob("*.txt")) if re.search(
        rf"(?m)^Số: {re.escape(n)}$", p.read_text(encoding="utf-8"))) for n in chosen[:3])
    new_plans = {"99999/KH-UBND": first, "1/KH-UBND": second, "2/KH-UBND": second,
                 "3/KH-UBND": third}
    names = []
    for number, original in new_plans.items():
        text = original.read_text(encoding="utf-8")
        name = tmp_path / f"new-{len(names)}.txt"
        name.write_text(re.sub(r"(?m)^Số: \S+/KH-UBND$", f"Số: {number}", text, count=1),
                        encoding="utf-8")
        names.append(str(name))
    compared, cohorts = _watch_comparisons(monkeypatch)
    code, _, err = kgraph("build", *names, "--store", str(copy))
    assert code == 0, err
    assert not cohorts
    repo = OxigraphRepository(copy, read_only=True)
    updated = ai.audit_index(repo)
    plans = {d.number: d.iri for d in updated.documents if d.number in new_plans}
    assert len(plans) == len(new_plans)
    assert compared and all(set(pair) & set(plans.values()) for pair in compared)
    peers_compared = {peer for _, peer in compared}
    assert {plans["1/KH-UBND"], plans["3/KH-UBND"]} <= peers_compared  # new firsts
    assert plans["2/KH-UBND"] not in peers_compared  # its province's first is "1"
    full = ai.compute_index(repo)
    assert updated.findings == full.findings
    assert updated.conflict_sources == full.conflict_sources
    assert _peer_rows(updated) == _peer_rows(full)
    for number in new_plans:
        assert updated.page(0, 25, plan=number) == full.page(0, 25, plan=number)


@pytest.mark.parametrize(("first", "then"), [
    ("1/KH-UBND", "99999/KH-UBND"),  # the first of its province moves: the plan before is again
    ("99999/KH-UBND", "1/KH-UBND"),  # a plan moves to the front of its province
    ("99999/KH-UBND", "99998/KH-UBND"),  # neither is its province's first
    ("1/KH-UBND", None)])  # the first of its province pruned (its file gone)
def test_a_moved_or_pruned_plan_leaves_its_cohorts_by_a_lookup(
        corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        first: str, then: str | None) -> None:
    """A plan whose file now states another number (its old graph removed by the build), or
    whose file is gone (``--prune``), leaves its cohorts through the rows kept for it, and the
    new document comes in as a new plan does: no cohort is worked out again, every comparison
    involves the moved plan or the province's new first, and the index equals a full
    recompute (the gaps the other provinces' plans had with the plan that left are gone)."""
    folder, store = corpus
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    index = ai.audit_index(OxigraphRepository(copy, read_only=True))  # (its cohorts kept)
    number = next(n for (n,) in index._rows(
        "SELECT d.number FROM cohorts c JOIN documents d ON d.id = c.plan WHERE c.series = "
        "'kh-ubnd' AND (SELECT COUNT(DISTINCT province) FROM cohorts o WHERE o.directive = "
        "c.directive AND o.series = c.series AND o.distance = c.distance) >= 3 ORDER BY 1"))
    original = next(p for p in sorted(folder.glob("*.txt")) if re.search(
        rf"(?m)^Số: {re.escape(number)}$", p.read_text(encoding="utf-8")))
    text = original.read_text(encoding="utf-8")
    plan = tmp_path / "plans" / "moving.txt"
    plan.parent.mkdir()
    plan.write_text(re.sub(r"(?m)^Số: \S+/KH-UBND$", f"Số: {first}", text, count=1),
                    encoding="utf-8")
    code, _, err = kgraph("build", str(plan), "--store", str(copy))
    assert code == 0, err
    compared, cohorts = _watch_comparisons(monkeypatch)
    if then is None:
        plan.unlink()
        for source in folder.glob("*.txt"):
            (plan.parent / source.name).symlink_to(source)
        code, _, err = kgraph("build", str(plan.parent), "--prune", "--store", str(copy))
    else:
        plan.write_text(re.sub(r"(?m)^Số: \S+/KH-UBND$", f"Số: {then}", text, count=1),
                        encoding="utf-8")
        code, _, err = kgraph("build", str(plan), "--store", str(copy))
    assert code == 0 and "removed" in err, err
    assert not cohorts
    repo = OxigraphRepository(copy, read_only=True)
    updated = ai.audit_index(repo)
    numbers = {d.number: d.iri for d in updated.documents}
    assert first not in numbers and (then is None or then in numbers)
    leads = then == "1/KH-UBND" or (first == "1/KH-UBND")  # others compare with a new first
    involved = {numbers[then] if then else None, numbers[number]}
    assert all(set(pair) & involved for pair in compared)
    assert bool(compared) is (leads or then is not None)
    if leads:
        assert {peer for _, peer in compared} & involved
    full = ai.compute_index(repo)
    assert updated.findings == full.findings
    assert updated.conflict_sources == full.conflict_sources
    assert _peer_rows(updated) == _peer_rows(full)
    for shown in (number, then or number):
        assert updated.page(0, 25, plan=shown) == full.page(0, 25, plan=shown)
    from kgraph.web.app import create_app

    province = next(d.province for d in updated.documents if d.number == number)
    whole = tmp_path / "whole"  # the same version, its index computed whole
    shutil.copytree(copy, whole)
    (whole / "derived" / ai.INDEX_FILE).unlink()
    printed, pages = [], []
    for folder in (copy, whole):
        printed.append(kgraph("audit", "--province", province, "--limit", "500",
                              "--store", str(folder))[:2])
        with TestClient(create_app(OxigraphRepository(folder, read_only=True))) as client:
            pages.append(client.get("/audit", params={"province": province,
                                                       "rule": ai.PEER_RULE}).text)
    assert printed[0] == printed[1] and ai.PEER_RULE in printed[0][1]
    assert pages[0] == pages[1] and province in pages[0]


@pytest.mark.parametrize("contested", [False, True])
def test_a_new_plan_asks_the_conflict_query_only_about_documents_stated_two_ways(
        corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        contested: bool) -> None:
    """A new plan restating its provincial plan's date as the others do asks no conflict
    query (its directive is restated by every plan of the corpus); one stating another date
    asks it about that plan only, and the conflict is found. Both equal a full recompute."""
    folder, store = corpus
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    ai.audit_index(OxigraphRepository(copy, read_only=True))
    date = re.compile(r"(?i)(-KH/TU,? ngày )(\d+)/")
    original = next(p for p in sorted(folder.glob("*kh-ubnd*.txt"))
                    if date.search(p.read_text(encoding="utf-8")))
    text = re.sub(r"(?m)^Số: \S+/KH-UBND$", "Số: 99999/KH-UBND",
                  original.read_text(encoding="utf-8"), count=1)
    if contested:  # another day of the same month
        text = date.sub(lambda m: f"{m[1]}{int(m[2]) % 27 + 1}/", text)
    new = tmp_path / "new.txt"
    new.write_text(text, encoding="utf-8")
    asked: list[list[str] | None] = []
    real = ai.conflict_statements
    monkeypatch.setattr(ai, "conflict_statements", lambda repo, documents=None: asked.append(
        documents) or real(repo, documents))
    code, _, err = kgraph("build", str(new), "--store", str(copy))
    assert code == 0, err
    repo = OxigraphRepository(copy, read_only=True)
    updated = ai.audit_index(repo)
    conflicts = {f.label_vi for f in updated.findings
                 if f.rule == "ConflictingStatement" and f.document_number == "99999/KH-UBND"}
    if contested:
        assert len(conflicts) == 1 and "KH/TU" in next(iter(conflicts))
        (documents,) = asked
        assert documents is not None and len(documents) == 1 and "kh-tu" in documents[0]
    else:
        assert not conflicts and not asked
    full = ai.compute_index(repo)
    assert updated.findings == full.findings
    assert updated.conflict_sources == full.conflict_sources


def test_changed_documents_are_found_from_the_builds_source_index(
        corpus: tuple[Path, Path]) -> None:
    """The build's source index of a version gives every document graph's hash, as the store
    states it (the index update reads it instead of querying every graph)."""
    from kgraph.build import SOURCE_INDEX
    from kgraph.store.derived import version_value
    from kgraph.store.embedded import query_records

    assert ai.SOURCE_INDEX == SOURCE_INDEX
    _, store = corpus
    repo = OxigraphRepository(store, read_only=True)
    assert version_value(repo, SOURCE_INDEX)
    stated = {r["g"]: r["sha"] for r in query_records(repo, ai.sparql_prefixes() + """
        SELECT ?g ?sha WHERE { GRAPH ?g { ?d kg:sourceFile ?f . ?f kg:sha256 ?sha } }""")}
    assert ai.document_shas(repo, len(stated)) == stated
    assert ai.document_shas(repo, len(stated) + 1) == stated  # too few: read from the store


def test_a_build_s_update_looks_up_only_the_graphs_it_wrote(
        corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index holds the version a one-plan build started from: its update looks up the
    graphs that build wrote (the new plan's among a few), not every document's hash, and gives
    what a full recompute gives; an index of another version walks every document again."""
    folder, store = corpus
    copy = tmp_path / "store"
    shutil.copytree(store, copy)  # (the index names the original's folder: the same version)
    ai.audit_index(OxigraphRepository(copy, read_only=True))
    original = next(p for p in sorted(folder.glob("*.txt")) if "kh-ubnd" in p.name)
    new = tmp_path / "new.txt"
    new.write_text(re.sub(r"(?m)^Số: \S+/KH-UBND$", "Số: 88888/KH-UBND",
                          original.read_text(encoding="utf-8"), count=1), encoding="utf-8")
    looked_up: list[list[str] | None] = []
    real = ai.written_since
    monkeypatch.setattr(ai, "written_since", lambda repo, db: looked_up.append(
        real(repo, db)) or looked_up[-1])
    code, _, err = kgraph("build", str(new), "--store", str(copy))
    assert code == 0, err
    repo = OxigraphRepository(copy, read_only=True)
    updated = ai.audit_index(repo)
    plan = next(d for d in updated.documents if d.number == "88888/KH-UBND")
    assert len(looked_up) == 1 and looked_up[0] is not None
    assert plan.graph in looked_up[0] and len(looked_up[0]) < N_PLANS // 4
    full = ai.compute_index(repo)
    assert updated.documents == full.documents and updated.findings == full.findings
    assert updated.conflict_sources == full.conflict_sources
    assert _peer_rows(updated) == _peer_rows(full)
    assert real(repo, updated._db) is None  # the index of the build's version, not its base


def test_scores_too_close_to_call_are_recomputed() -> None:
    """A score within :data:`ai.SETTLED` of the threshold, or of a rounding step below it,
    could fall the other way in another order of sums: it is taken from the reference."""
    import numpy as np

    best = np.array([0.3, 0.3 - 1e-12, 0.2995, 0.2995 + 1e-7, 0.5, 0.1234, 0.0, 0.7005])
    assert ai._settled(best).tolist() == [False, False, False, True, True, True, True, True]
    near = best < ai.cov.ALIGNMENT_THRESHOLD + ai.SETTLED  # the scores a pair's gaps check
    assert [ai._settled_score(s) for s in best[near].tolist()] == ai._settled(best)[near].tolist()
    assert ai._settled(best)[~near].all()


def test_the_kernel_and_a_chunks_gaps_are_the_reference_ones() -> None:
    """:func:`ai.similarity_of` (norms from the entries, the product divided) gives the
    reference kernel's scores but for the last bits, texts without terms included; and the
    gaps of a chunk's scores found at once are each pair's (:func:`ai._pair_gaps`), a pair
    with a score too close to call taken from the reference."""
    import numpy as np

    texts = [["qzx lập kế hoạch qzx", "", "triển khai qzy"], ["kế hoạch triển khai", "..."],
             ["qzy qzy qzy"], ["", "lập kế hoạch thực hiện", "triển khai thực hiện qzx"]]
    plans = [ai._TermRows(t) for t in texts]
    slot = np.full(1 + max(int(p.terms[-1]) for p in plans), -1, dtype=np.int64)
    bests, pairs = [], []
    for left in plans:
        for right in plans:
            scores = ai.similarity_of(left, right, slot)
            assert (slot == -1).all()
            assert np.allclose(scores, ai.pair_similarity(left, right), rtol=0, atol=1e-12)
            bests.append(scores.max(axis=1))
            pairs.append((left, right))
    bests.append(np.array([0.1, ai.cov.ALIGNMENT_THRESHOLD - 1e-12, 0.9]))  # too close to call
    pairs.append((plans[3], plans[0]))
    found = ai._flat_gaps(np.concatenate(bests), [len(b) for b in bests])
    assert found[-1] is None
    assert [g for g in found if g is not None] == [
        ai._pair_gaps(left, right, best) for (left, right), best in zip(pairs[:-1], bests[:-1],
                                                                       strict=True)]
    assert any(found[:-1]) and any(g == [] for g in found)


def test_term_rows_give_every_term_its_first_id_and_count() -> None:
    """A plan's term rows: one entry per (text, term) with 1 + log(count), ids given in the
    order terms first appear (the ids order a pair's columns)."""
    import math

    first = len(ai._TermRows.vocabulary)  # (shared by every plan: words no other test uses)
    rows = ai._TermRows(["qzh qzh qzk", "", "qzk qzm"])
    assert list(ai._TermRows.vocabulary)[first:] == ["qzh", "qzk", "qzh qzh", "qzh qzk", "qzm",
                                                      "qzk qzm"]
    entries = sorted(zip(rows.rows.tolist(), (rows.ids - first).tolist(),
                         rows.weights.tolist(), strict=True))
    assert entries == [(0, 0, 1 + math.log(2)), (0, 1, 1.0), (0, 2, 1.0), (0, 3, 1.0),
                       (2, 1, 1.0), (2, 4, 1.0), (2, 5, 1.0)]
    assert rows.n == 3 and (rows.terms - first).tolist() == [0, 1, 2, 3, 4, 5]
    assert rows.df.tolist() == [1, 2, 1, 1, 1, 1]
    assert ai._TermRows([]).n == 0


def test_cli_prints_the_first_findings_and_web_streams_csv(seeds: Path) -> None:
    from kgraph.web.app import create_app

    index = ai.audit_index(OxigraphRepository(seeds, read_only=True))
    chosen = index.select(province="Gia Lai")
    code, out, _ = kgraph("audit", "--province", "Gia Lai", "--limit", "3",
                          "--store", str(seeds))
    assert code == (1 if any(f.severity == "Violation" for f in chosen) else 0)
    assert f"(first 3 of {len(chosen)} findings" in out
    assert out.count("\n[") == 3 and f"[{chosen[0].severity}] {chosen[0].document_number}" in out
    with TestClient(create_app(OxigraphRepository(seeds, read_only=True))) as client:
        csv = client.get("/audit", params={"format": "csv", "province": "Gia Lai"})
        assert csv.status_code == 200  # streamed, as the report writes it
        assert csv.text == "\ufeff" + index.report(province="Gia Lai").to_csv()


def test_flags_for_nodes_are_the_findings_about_them(seeds: Path) -> None:
    """The explorer's overlay asks about the nodes it draws: the same messages, in report order,
    as going through every finding (what it did before)."""
    index = ai.audit_index(OxigraphRepository(seeds, read_only=True))
    findings = index.findings
    foci = sorted({f.focus for f in findings})
    asked = [*foci[::3], *(f.focus for f in findings if f.rule == ai.PEER_RULE)][:80]
    expected: dict[str, list[str]] = {}
    for finding in findings:
        if finding.focus in asked:
            message = f"{finding.severity}: {finding.message_vi}"
            if message not in expected.setdefault(finding.focus, []):
                expected[finding.focus].append(message)
    assert expected and index.flags_for([*asked, "urn:x-nothing"]) == expected
