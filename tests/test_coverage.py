"""Coverage: tasks linked to the duties that carry them out, and gaps between provinces."""

from __future__ import annotations

from datetime import date

from factories import provincial_plan, span
from kgraph.analysis import coverage as cov
from kgraph.graph.mapping import document_graph
from kgraph.ingest.model import Task
from kgraph.resources import resource_graphs
from kgraph.store.embedded import OxigraphRepository


def item(iri: str, text: str) -> cov.Item:
    return cov.Item(iri, "plan", iri.rsplit("/", 1)[-1], text, text)


def test_similarity_is_one_for_the_same_text_and_zero_for_unrelated_text() -> None:
    [[same, other]] = cov.similarity_matrix(
        ["Tuyên truyền Chỉ thị số 28"], ["Tuyen truyen chi thi so 28", "Bố trí ngân sách"])
    assert abs(same - 1.0) < 1e-9  # diacritics folded away
    assert other == 0.0


def test_ocr_look_alikes_match_their_letters() -> None:
    [[score]] = cov.similarity_matrix(["Sở Y tế chủ trì"], ["S6 Y té chu tri"])
    assert score > 0.5


def test_cover_links_similar_duty_and_leaves_the_rest_uncovered() -> None:
    tasks = [item("t/1", "Tuyên truyền, phổ biến nội dung Chỉ thị cho cán bộ, đảng viên"),
             item("t/2", "Bố trí ngân sách, phân bổ nguồn lực hợp lý cho công tác trẻ em")]
    duties = [item("d/1", "Chủ trì tuyên truyền, phổ biến nội dung Chỉ thị đến cán bộ"),
              item("d/2", "Kiểm tra, giám sát việc thực hiện chế độ báo cáo")]
    result = cov.cover("plan", "1/KH-UBND", tasks, duties)
    assert [(link.task, link.duty) for link in result.links] == [("t/1", "d/1")]
    assert [t.iri for t in result.uncovered] == ["t/2"]
    assert result.links[0].score >= cov.COVERAGE_THRESHOLD


def test_plan_without_duties_has_every_task_uncovered() -> None:
    result = cov.cover("plan", "1", [item("t/1", "Tuyên truyền")], [])
    assert result.links == [] and len(result.uncovered) == 1


def repo_with(*docs: object) -> OxigraphRepository:
    repo = OxigraphRepository()
    payload = resource_graphs()
    payload.update({str(g.name): g.to_ntriples() for g in map(document_graph, docs)})
    repo.replace_graphs(payload)
    return repo


def plans() -> list:
    kien_giang = provincial_plan("234/KH-UBND", "Kiên Giang", "211-KH/TU", date(2024, 4, 25),
                                 date(2024, 7, 23), text="tuyên truyền Chỉ thị")
    gia_lai = provincial_plan("2509/KH-UBND", "Gia Lai", "273-KH/TU", date(2024, 9, 20),
                              date(2024, 10, 28), text="tuyên truyền Chỉ thị")
    gia_lai.tasks.append(Task("2", "Phổ cập giáo dục mầm non cho trẻ em dưới 5 tuổi",
                              span("2. Phổ cập giáo dục mầm non")))
    return [kien_giang, gia_lai]


def test_plan_coverage_reads_leaf_tasks_and_duties_from_the_store() -> None:
    repo = repo_with(*plans())
    plan = next(p for p in cov.source_plans(repo) if p[1] == "2509/KH-UBND")
    result = cov.plan_coverage(repo, plan[0], plan[1])
    assert [t.no for t in result.tasks] == ["a", "2"]  # "1" is a group: covered via "a"
    assert len(result.duties) == 2
    assert [t.no for t in result.uncovered] == ["2"]


def test_store_coverage_writes_one_graph_per_plan_with_scores() -> None:
    repo = repo_with(*plans())
    coverages = cov.coverage_for(repo)
    names = cov.store_coverage(repo, coverages)
    assert all("/id/graph/coverage/" in n for n in names)
    assert set(names) <= set(repo.graph_names())
    rows = repo.query("""
        PREFIX kg: <https://w3id.org/kgraph/def#>
        SELECT ?task ?duty ?score WHERE {
          ?task kg:coveredBy ?duty ; kg:qualifiedCoverage ?c .
          ?c kg:coveringDuty ?duty ; kg:coverageScore ?score }""").records()
    assert rows and all(float(r["score"] or 0) >= cov.COVERAGE_THRESHOLD for r in rows)
    # storing again replaces the graphs rather than adding to them
    before = len(repo)
    cov.store_coverage(repo, coverages)
    assert len(repo) == before


def test_alignment_shows_what_each_province_lacks() -> None:
    repo = repo_with(*plans())
    [alignment] = cov.alignments(repo)
    assert alignment.directive == "28-CT/TW"
    lacks = alignment.by_province()
    assert [g.task.text for g in lacks["Kiên Giang"]] == [
        "Phổ cập giáo dục mầm non cho trẻ em dưới 5 tuổi"]
    assert lacks["Kiên Giang"][0].peer_number == "2509/KH-UBND"
    assert "Gia Lai" not in lacks


def test_coverage_graph_iri_mirrors_the_document_graph() -> None:
    plan = "https://w3id.org/kgraph/id/doc/gia-lai/2509-kh-ubnd/2024"
    assert cov.coverage_graph_iri(plan) == (
        "https://w3id.org/kgraph/id/graph/coverage/gia-lai/2509-kh-ubnd/2024")


def test_a_task_naming_its_own_lead_needs_no_duty_to_cover_it() -> None:
    """A labelled 'Cơ quan chủ trì:' line assigns the task where it stands; only the task
    without a lead of its own waits for a duty (and here finds none)."""
    from kgraph.ingest.extract import extract_document
    from test_roles_by_content import LABELLED

    doc = extract_document(LABELLED, "labelled.txt")
    mapped = document_graph(doc)
    repo = OxigraphRepository()
    repo.replace_graphs({**resource_graphs(), str(mapped.name): mapped.to_ntriples()})
    coverage = cov.plan_coverage(repo, str(mapped.document), "9/KH-UBND")
    uncovered = {task.text for task in coverage.uncovered}
    assert any("Đưa tin trên báo" in text for text in uncovered)  # item b: no lead, no duty
    assert not any("Rà soát" in text or "hội nghị" in text for text in uncovered), uncovered


def test_plan_coverage_from_the_triple_index_is_the_queried_one() -> None:
    """The build's workers read a plan's tasks and duties from its triple index; a store
    holding the plan answers the same."""
    from pathlib import Path

    from kgraph.analysis.shacl_compiled import Workspace
    from kgraph.ingest.extract import extract_file

    class Held:  # a repository over what a workspace holds (as the audit reads it)
        def __init__(self, workspace: Workspace) -> None:
            self.workspace = workspace

        def records(self, sparql: str) -> list[dict[str, str | None]]:
            from kgraph.store.embedded import solution_records

            return solution_records(self.workspace.query(sparql))

    seeds = sorted((Path(__file__).resolve().parents[1] / "data" / "sources").glob("*.txt"))
    linked = 0
    for path in seeds:
        mapped = document_graph(extract_file(path))
        plan, text = str(mapped.document), mapped.to_ntriples()
        queried, indexed = Workspace(), Workspace()
        queried.load(text)
        indexed.load(text, mapped.index)
        assert indexed.index is mapped.index
        by_query = cov.plan_coverage(Held(queried), plan, "")  # type: ignore[arg-type]
        by_index = cov.plan_coverage(Held(indexed), plan, "")  # type: ignore[arg-type]
        assert by_index == by_query
        assert cov.plan_tasks(Held(queried), plan) == by_query.tasks  # type: ignore[arg-type]
        linked += len(by_query.links)
    assert linked
