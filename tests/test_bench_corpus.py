"""The synthetic corpus (bench/corpus.py) through the real pipeline, end to end.

Why: the benchmarks are only meaningful if the generated plans parse into the lineage the
generator meant; this checks the generator and extract -> map -> store -> query together, on a
corpus small enough for every test run.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from corpus import PlanSpec, generate_corpus, generate_plans, write_corpus
from kgraph.analysis.queries import load_query
from kgraph.build import build
from kgraph.store.embedded import OxigraphRepository

N_PLANS = 40


def _implementers(tmp_path: Path, plans: list[PlanSpec]) -> dict[str, set[int]]:
    """Depths at which implementers(28-CT/TW) returns each plan number."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for spec in plans:
        (folder / spec.file_name).write_text(spec.text, encoding="utf-8")
    repo = OxigraphRepository()
    report = build([folder], repo)
    assert len(report.documents) == len(plans)
    result = repo.query(load_query("implementers").render({"doc": "28-CT/TW"}))
    depths: dict[str, set[int]] = {}
    for record in result.records():
        depths.setdefault(record["number"] or "", set()).add(int(record["depth"] or 0))
    return depths


def test_generator_is_deterministic_and_shaped_like_the_seeds(tmp_path: Path) -> None:
    corpus = generate_corpus(N_PLANS, seed=3)
    assert corpus == generate_corpus(N_PLANS, seed=3)
    assert corpus != generate_corpus(N_PLANS, seed=4)
    assert len({name for name, _ in corpus}) == N_PLANS
    for _, text in corpus:
        for marker in ("Số: ", "I. MỤC ĐÍCH, YÊU CẦU", "II. NHIỆM VỤ VÀ GIẢI PHÁP TRỌNG TÂM",
                       "IV. TỔ CHỨC THỰC HIỆN", "V. CHẾ ĐỘ THÔNG TIN, BÁO CÁO", "Nơi nhận:"):
            assert marker in text
    paths = write_corpus(tmp_path, 12, seed=3)
    assert [p.read_text(encoding="utf-8") for p in paths] == [t for _, t in corpus[:12]]
    kinds = {p.kind for p in generate_plans(N_PLANS)}
    assert kinds == {"national", "party", "ubnd", "department"}


def test_implementers_returns_every_generated_plan_at_its_depth(tmp_path: Path) -> None:
    """Blank line before the preamble: the layout the extractor reads without a cycle."""
    plans = generate_plans(N_PLANS, seed=0, preamble_gap=True)
    expected = {p.number: p.depth for p in plans if p.directive == "28-CT/TW"}
    assert set(expected.values()) == {1, 2, 3}
    depths = _implementers(tmp_path, plans)
    assert set(expected) <= set(depths), f"missing: {sorted(set(expected) - set(depths))}"
    assert {n: min(depths[n]) for n in expected} == expected
    assert set(depths) == set(expected), "plans of other directives returned"


def test_seed_004_layout_gives_no_lineage_cycle(tmp_path: Path) -> None:
    """Regression: a trích yếu ending in 'Chỉ thị số 28-CT/TW' running straight into a preamble
    'Thực hiện Kế hoạch số NNN-KH/TU ...' (no blank line) stated 28-CT/TW implements NNN-KH/TU."""
    from kgraph.ingest.extract import extract_document

    plans = [p for p in generate_plans(N_PLANS, seed=0, preamble_gap=False) if p.kind == "ubnd"]
    reversed_lineage = [
        (p.number, line.subject, line.object)
        for p in plans
        for line in extract_document(p.text, p.file_name).stated_lineage
        if line.subject == p.directive
    ]
    assert reversed_lineage == []


def test_units_of_the_other_share_carry_out_a_decision_a_resolution_or_nothing(
        tmp_path: Path) -> None:
    """``other_share``: those units' plans reach the decision (or resolution) at their depth,
    none reaches the directive, and the other units' plans still do."""
    from corpus import DIRECTIVES, other_document

    plans = generate_plans(120, seed=0, preamble_gap=True, other_share=0.5)
    assert {p.other for p in plans} == {"", "decision", "resolution", "none"}
    folder = tmp_path / "corpus"
    folder.mkdir()
    for spec in plans:
        (folder / spec.file_name).write_text(spec.text, encoding="utf-8")
    repo = OxigraphRepository()
    build([folder], repo)

    def implementers(number: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for record in repo.query(load_query("implementers").render({"doc": number})).records():
            plan, depth = record["number"] or "", int(record["depth"] or 0)
            found[plan] = min(depth, found.get(plan, depth))
        return found

    directive = DIRECTIVES[0]
    assert implementers(directive.number) == {
        p.number: p.depth for p in plans if p.directive == directive.number and not p.other}
    for kind in ("decision", "resolution"):
        expected = {p.number: p.depth for p in plans
                    if p.directive == directive.number and p.other == kind}
        assert expected and implementers(other_document(directive, kind)[0]) == expected
    top = next(p for p in plans if p.other == "none" and p.kind == "ubnd")
    below = {p.number: p.depth for p in plans if p.parent == top.number}
    assert top.depth == 0 and below and implementers(top.number) == below


def test_commune_plans_are_issued_by_listed_communes_whose_bodies_resolve() -> None:
    """Drawn from the communes table, a corpus exercises the communes' matching: every commune
    plan's issuer and its commune bodies resolve to that commune (made-up names mostly do not;
    a few are the name of a commune before 2025, and resolve to what it became)."""
    from kgraph.ingest.extract import extract_document

    own = {}
    for listed in (True, False):
        plans = [p for p in generate_plans(720, listed=listed) if p.kind == "commune"]
        assert len(plans) >= 30
        own[listed] = 0
        for spec in plans[:30]:
            doc = extract_document(spec.text, spec.file_name)
            issuer = doc.ident.issuer
            if issuer is not None and issuer.canonical == spec.issuer and issuer.commune:
                own[listed] += 1
                assert doc.ident.province == spec.province
                named = {m.commune for a in doc.assignments for m in a.addressees if m.commune}
                assert named == {issuer.commune}
    assert own == {True: 30, False: 0}
