"""Every task of a directive, in every province: the cross-plan alignment scored against a
hand-made alignment of the seeds, the stored coverage graph, the named query, the CLI, the audit
section and the matrix page."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import date
from itertools import combinations
from pathlib import Path
from urllib.parse import quote as url_quote

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from factories import agency, directive_28, provincial_plan, span
from kgraph.analysis import alignment as al
from kgraph.analysis import coverage as cov
from kgraph.analysis import coverage_cells
from kgraph.analysis.audit import run_audit
from kgraph.cli import app as cli_app
from kgraph.graph.mapping import document_graph
from kgraph.ingest.model import DocumentRef, PlanDocument, Reference, Relation, Task
from kgraph.resources import resource_graphs
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "alignment_28ct.json"
runner = CliRunner()


# ---------------------------------------------------------------------------- the seeds

@pytest.fixture(scope="module")
def seeds() -> OxigraphRepository:
    """The seeds built as `kgraph build` does, with the coverage of 28-CT/TW stored."""
    from kgraph.build import build

    repo = OxigraphRepository()
    build([ROOT / "data" / "sources"], repo, validate=False)
    assert cov.compute_directive_coverage(repo, "28-CT/TW") is not None
    return repo


def plan_items(repo: OxigraphRepository, numbers: set[str]) -> list[list[al.PlanItem]]:
    found = cov.directive_of(repo, "28-CT/TW")
    assert found is not None
    plans = [p for p in cov.implementing_plans(repo, found[0]) if p.number in numbers]
    tasks = cov.tasks_of(repo, [p.iri for p in plans])
    return [[al.PlanItem(t.iri, p.iri, p.number, p.province, t.no, t.text, t.source_text,
                         i / len(tasks[p.iri])) for i, t in enumerate(tasks[p.iri])]
            for p in plans]


def gold_pairs(fixture: dict, items: list[al.PlanItem]) -> set[frozenset[str]]:
    """The fixture's clusters as pairs of item IRIs of two plans; each quote names one item."""
    def find(number: str, quote: str) -> str:
        hits = [i for i in items if i.number == number and al.folded(quote) in al.folded(i.text)]
        assert len(hits) == 1, f"{number}: {quote!r} names {len(hits)} items"
        return hits[0].iri

    pairs = set()
    for cluster in fixture["clusters"]:
        members = [(n, find(n, q)) for n, quotes in cluster["items"].items() for q in quotes]
        pairs |= {frozenset((a[1], b[1])) for a, b in combinations(members, 2) if a[0] != b[0]}
    for number, quotes in fixture.get("unaligned", {}).items():
        for quote in quotes:
            find(number, quote)  # the quote still names an item
    return pairs


def test_alignment_of_the_three_28ct_plans_against_the_hand_made_one(seeds) -> None:
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    plans = plan_items(seeds, set(fixture["plans"]))
    assert sorted(p[0].number for p in plans) == sorted(fixture["plans"])
    items = [i for p in plans for i in p]
    gold = gold_pairs(fixture, items)
    outline = al.align("28-CT/TW", plans)
    predicted = outline.pairs()
    precision, recall = al.score_pairs(predicted, gold)
    print(f"\nalignment of {len(plans)} plans: {len(predicted)} pairs predicted, {len(gold)} "
          f"gold; precision {precision:.3f}, recall {recall:.3f}")
    number = {i.iri: i.number for i in items}
    for a, b in combinations(sorted(fixture["plans"]), 2):
        def between(pairs: set[frozenset[str]], a: str = a, b: str = b) -> set[frozenset[str]]:
            return {p for p in pairs if {number[x] for x in p} == {a, b}}
        p, r = al.score_pairs(between(predicted), between(gold))
        print(f"  {a} × {b}: precision {p:.3f}, recall {r:.3f}")
        assert p >= 0.8 and r >= 0.8, (a, b, p, r)  # clean × OCR-damaged and damaged × damaged
    assert precision >= 0.8 and recall >= 0.8
    assert all(task.reconstructed and len(task.plans) >= 2 for task in outline.tasks)


def damage(text: str) -> str:
    """What OCR without Vietnamese does to a clean text: look-alike letters as in the seeds
    ("S6" for "Sở", "cudng" for "cường"), every mark lost, words broken after "ng"."""
    text = text.replace("ở", "6").replace("ường", "udng").replace("ươ", "wo")
    bare = "".join(c for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(c)).replace("đ", "d").replace("Đ", "D")
    return bare.replace("ng", "ng ")


def test_a_clean_plan_aligns_with_its_own_ocr_damaged_copy(seeds) -> None:
    [clean] = plan_items(seeds, {"2509/KH-UBND"})
    copy = [al.PlanItem(i.iri + "#ocr", "copy", "copy", "Copy", i.no, damage(i.text), "",
                        i.position) for i in clean]
    outline = al.align("28-CT/TW", [clean, copy])
    gold = {frozenset((i.iri, i.iri + "#ocr")) for i in clean}
    precision, recall = al.score_pairs(outline.pairs(), gold)
    print(f"\nclean × damaged copy: precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.95 and recall >= 0.95


def test_unrelated_items_stay_unaligned() -> None:
    left = [al.PlanItem("a/1", "a", "1/KH", "A", "1", "Bố trí ngân sách cho công tác trẻ em"),
            al.PlanItem("a/2", "a", "1/KH", "A", "2", "Tuyên truyền, phổ biến Chỉ thị")]
    right = [al.PlanItem("b/1", "b", "2/KH", "B", "1", "Bố trí ngân sách nhà nước cho trẻ em"),
             al.PlanItem("b/2", "b", "2/KH", "B", "2", "Xây dựng cầu đường giao thông nông thôn")]
    outline = al.align("28-CT/TW", [left, right])
    assert outline.pairs() == {frozenset(("a/1", "b/1"))}
    assert {i.iri for i in outline.unaligned} == {"a/2", "b/2"}
    assert outline.reconstructed and outline.tasks[0].confidence > 0.35


def test_an_addition_two_of_many_plans_share_is_no_directive_task() -> None:
    common = "Bố trí ngân sách nhà nước, phân bổ nguồn lực hợp lý cho công tác trẻ em"
    extra = "Xây dựng sân chơi cho trẻ em ở mỗi thôn, bản, khu phố"
    plans = [[al.PlanItem(f"p{n}/1", f"p{n}", f"{n}/KH", f"P{n}", "1", common)]
             + ([al.PlanItem(f"p{n}/2", f"p{n}", f"{n}/KH", f"P{n}", "2", extra)] if n < 2
                else []) for n in range(30)]
    assert al.minimum_support(30) == 3 and al.minimum_support(3) == 2
    outline = al.align("28-CT/TW", plans)
    assert [len(t.plans) for t in outline.tasks] == [30]
    assert {i.iri for i in outline.unaligned} == {"p0/2", "p1/2"}


# ---------------------------------------------------------------------------- stored coverage

def test_coverage_graph_links_every_reconstructed_task_to_each_province(seeds) -> None:
    matrix = cov.read_matrix(seeds, "28-CT/TW")
    assert matrix is not None and matrix.reconstructed
    assert matrix.provinces == ["Gia Lai", "Kiên Giang", "Lào Cai"]
    assert len(matrix.tasks) >= 15
    statuses = {matrix.cell(t.no, p).status for t in matrix.tasks for p in matrix.provinces}
    assert {cov.Status.ASSIGNED, cov.Status.DROPPED, cov.Status.UNASSIGNED} <= statuses
    rows = seeds.query("""
        PREFIX kg: <https://w3id.org/kgraph/def#> PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?task (COUNT(DISTINCT ?item) AS ?items) WHERE {
          GRAPH ?g { ?task a kg:DirectiveTask ; kg:reconstructed true ;
                           kg:alignmentConfidence ?c }
          ?task prov:wasDerivedFrom ?item }  # the items in each province's graph
        GROUP BY ?task""").records()
    assert len(rows) == len(matrix.tasks) and all(int(r["items"]) >= 2 for r in rows)
    # the plans reach the directive through their party committees' plans
    found = cov.directive_of(seeds, "28-CT/TW")
    via = {p.number: p.chain for p in cov.implementing_plans(seeds, found[0])}
    assert via["234/KH-UBND"] == ("211-KH/TU",) and via["2509/KH-UBND"] == ("273-KH/TU",)


def test_named_query_lists_the_items_of_each_province_and_their_lead_bodies(
        seeds, tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = runner.invoke(cli_app, ["build", str(ROOT / "data" / "sources"), "--store",
                                     str(store)])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(cli_app, ["coverage", "--doc", "28-CT/TW", "--store", str(store),
                                     "--csv", str(tmp_path / "m.csv")])
    assert result.exit_code == 0, result.stderr
    assert "reconstructed" in result.stdout and "Lào Cai" in result.stdout
    assert (tmp_path / "m.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    result = runner.invoke(cli_app, ["query", "directive-coverage", "--param", "doc=28-CT/TW",
                                     "--format", "json", "--store", str(store)])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["reconstructed"] for r in rows} == {"true"}
    by_task: dict[str, dict[str, list[dict]]] = {}
    for row in rows:
        by_task.setdefault(row["task"], {}).setdefault(row["province"], []).append(row)
    assert all(set(cells) == {"Gia Lai", "Kiên Giang", "Lào Cai"} for cells in by_task.values())
    plan_of = {"Gia Lai": "2509/KH-UBND", "Kiên Giang": "234/KH-UBND", "Lào Cai": "50/KH-UBND"}
    for cells in by_task.values():
        for province, province_rows in cells.items():
            for row in province_rows:
                if row["status"] == "dropped":
                    assert not row.get("plan")
                else:
                    assert row["plan"] == plan_of[province] and row["itemText"]
    # the task on mobilising social resources: restated by all three, led by named bodies
    social = next(t for t, cells in by_task.items()
                  if "xã hội hóa" in cells["Gia Lai"][0]["itemText"])
    assert all(by_task[social][p][0]["status"] != "dropped" for p in plan_of)
    assert any(row.get("lead") for p in plan_of for row in by_task[social][p])
    missing = runner.invoke(cli_app, ["coverage", "--doc", "99-CT/TW", "--store", str(store)])
    assert missing.exit_code == 2 and "99-CT/TW" in missing.stderr


def test_audit_of_a_directive_lists_its_gaps(seeds) -> None:
    report = run_audit(seeds, "28-CT/TW")
    assert report.documents == ["28-CT/TW"]
    rules = {f.rule for f in report.findings}
    assert {"DirectiveTaskDropped", "DirectiveTaskUnassigned"} <= rules
    matrix = cov.read_matrix(seeds, "28-CT/TW")
    dropped = [f for f in report.findings if f.rule == "DirectiveTaskDropped"]
    assert len(dropped) == sum(1 for *_, c in matrix.gaps() if c.status == cov.Status.DROPPED)
    assert all(f.source_text and f.value in matrix.provinces for f in dropped)
    assert "DirectiveTaskDropped" in report.summary()


# ---------------------------------------------------------------------------- outline known

def national_plan() -> PlanDocument:
    """A national plan carrying out 28-CT/TW directly: its tasks are the directive's outline."""
    tasks = ["Tuyên truyền, phổ biến nội dung Chỉ thị đến cán bộ, đảng viên và Nhân dân",
             "Bố trí ngân sách nhà nước, phân bổ nguồn lực cho công tác trẻ em",
             "Kiện toàn tổ chức bộ máy quản lý nhà nước về trẻ em"]
    return PlanDocument(
        source_name="qd-ttg.txt", source_sha256="ab" * 32,
        ident=DocumentRef(number="1183/QĐ-TTg", type="Quyết định", date=date(2024, 10, 14),
                          issuer=agency("Thủ tướng Chính phủ", "Thủ tướng Chính phủ",
                                        "thu-tuong-chinh-phu", None)),
        references=[Reference(directive_28(), Relation.IMPLEMENTS, span("Chỉ thị số 28-CT/TW"))],
        task_section="II",
        tasks=[Task(str(n), text, span(text)) for n, text in enumerate(tasks, start=1)])


def test_a_national_plan_in_the_store_gives_the_outline() -> None:
    kien_giang = provincial_plan("234/KH-UBND", "Kiên Giang", "211-KH/TU", date(2024, 4, 25),
                                 date(2024, 7, 23), text="tuyên truyền Chỉ thị")
    kien_giang.tasks[0].items.append(Task("b", "Bố trí ngân sách, nguồn lực cho trẻ em",
                                          span("b) Bố trí ngân sách")))
    gia_lai = provincial_plan("2509/KH-UBND", "Gia Lai", "273-KH/TU", date(2024, 9, 20),
                              date(2024, 10, 28), text="tuyên truyền Chỉ thị")
    repo = OxigraphRepository()
    payload = resource_graphs()
    payload.update({str(g.name): g.to_ntriples()
                    for g in map(document_graph, [national_plan(), kien_giang, gia_lai])})
    repo.replace_graphs(payload)
    result = cov.compute_directive_coverage(repo, "28-CT/TW")
    assert result is not None and not result.outline.reconstructed
    assert [t.no for t in result.outline.tasks] == ["1", "2", "3"]
    assert all(t.outline_task and not t.reconstructed for t in result.outline.tasks)
    assert sorted(result.provinces) == ["Gia Lai", "Kiên Giang"]  # the national plan is no column
    cells = {(no, p): c.status for (no, p), c in result.cells.items()}
    assert cells[("2", "Kiên Giang")] != cov.Status.DROPPED
    assert cells[("2", "Gia Lai")] == cov.Status.DROPPED
    assert cells[("3", "Kiên Giang")] == cov.Status.DROPPED
    matrix = cov.read_matrix(repo, "28-CT/TW")
    assert matrix is not None and not matrix.reconstructed


# ---------------------------------------------------------------------------- the page

def test_matrix_page_filters_exports_and_drills_down(seeds) -> None:
    client = TestClient(create_app(seeds))
    page = client.get("/coverage", params={"doc": "28-CT/TW"})
    assert page.status_code == 200
    assert "Dựng lại" in page.text and "Reconstructed" in page.text
    for province in ("Gia Lai", "Kiên Giang", "Lào Cai"):
        assert f"<th>{province}</th>" in page.text
    assert "không có nhiệm vụ trong kế hoạch" in page.text
    gaps = client.get("/coverage", params={"doc": "28-CT/TW", "status": "dropped",
                                           "province": "Lào Cai"})
    assert gaps.text.count('data-status="dropped"') >= 1
    assert "<th>Gia Lai</th>" not in gaps.text
    assert gaps.text.count("<tr>") < page.text.count("<tr>")
    exported = client.get("/coverage", params={"doc": "28-CT/TW", "format": "csv"})
    assert exported.content.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert header[-3:] == ["Gia Lai", "Kiên Giang", "Lào Cai"] and len(rows) >= 15
    matrix = cov.read_matrix(seeds, "28-CT/TW")
    task, province, _ = next(g for g in matrix.gaps() if g[2].status == cov.Status.UNASSIGNED)
    detail = client.get("/coverage/cell", params={"doc": "28-CT/TW", "task": task.no,
                                                  "province": province})
    assert detail.status_code == 200 and 'data-status="unassigned"' in detail.text
    sources = cov.cell_sources(seeds, matrix, task.no)
    mine = next(s for s in sources if s.province == province)
    assert mine.source_text.splitlines()[0].replace("&", "&amp;") in detail.text
    assert client.get("/coverage", params={"doc": "99-CT/TW"}).status_code == 404
    index = client.get("/coverage")
    assert index.status_code == 200 and 'href="/coverage?doc=28-CT/TW"' in index.text
    assert client.get("/coverage/cell", params={"doc": "28-CT/TW", "task": "999",
                                                "province": province}).status_code == 404


def test_cell_page_quotes_its_province_whole_and_the_best_items_of_the_others(
        seeds, monkeypatch: pytest.MonkeyPatch) -> None:
    """A national directive's task is restated by thousands of plan items: the cell quotes
    every item of its province, and of each other province its best-scored items up to
    ``OTHERS_SHOWN``, with a link to that province's cell saying how many more it has."""
    from kgraph.web import coverage as page

    matrix = cov.read_matrix(seeds, "28-CT/TW")
    everything = {no: cov.cell_sources(seeds, matrix, no) for no in (t.no for t in matrix.tasks)}
    task, sources = max(everything.items(), key=lambda kv: len({s.province for s in kv[1]}))
    by_province: dict[str, list[cov.SourceSentence]] = {}
    for s in sources:
        by_province.setdefault(s.province, []).append(s)
    mine, other = sorted(by_province, key=lambda p: -len(by_province[p]))[:2]
    counts = coverage_cells.cell_counts(seeds, matrix, task)
    assert {p: len(r) for p, r in counts.items()} == {p: len(v) for p, v in by_province.items()}
    monkeypatch.setattr(page, "OTHERS_SHOWN", 0)
    client = TestClient(create_app(seeds))
    detail = client.get("/coverage/cell", params={"doc": "28-CT/TW", "task": task,
                                                  "province": mine}).text
    own, others = detail.split('id="other-sources"')
    assert own.count('class="restatement"') == len(by_province[mine])
    assert others.count('class="restatement"') == 0
    assert f"{other} (+{len(by_province[other])})" in detail
    assert f"province={url_quote(other)}" in detail
    monkeypatch.setattr(page, "OTHERS_SHOWN", 1)
    scans: list[str] = []  # the task's restatements are read once per store version
    real = cov._records
    monkeypatch.setattr(cov, "_records", lambda r, q: (
        scans.append(q) if "?r ?province ?score" in q else None) or real(r, q))
    detail = client.get("/coverage/cell", params={"doc": "28-CT/TW", "task": task,
                                                  "province": mine}).text
    assert not scans  # read by the first visit already
    others = detail.split('id="other-sources"')[1]
    assert others.count('class="restatement"') == len(by_province) - 1
    best = max(by_province[other], key=lambda s: s.score)
    shown = coverage_cells.cell_sources(seeds, matrix, task, counts[other][:1])
    assert [s.score for s in shown] == [best.score]


def test_directive_index_is_read_once_per_store_version(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``/coverage`` lists the directives whose coverage is stored: read from the store once a
    version (the query reads every document's number), and a new version's list at once."""
    kg, eli = "https://w3id.org/kgraph/def#", "http://data.europa.eu/eli/ontology#"

    def directive(number: str, tasks: int) -> str:
        d = f"http://e/{number.replace('/', '-')}"
        return f'<{d}> <{eli}id_local> "{number}" .\n' + "".join(
            f"<{d}/t{i}> a <{kg}DirectiveTask> ; <{kg}directive> <{d}> .\n"
            for i in range(tasks))

    repo = OxigraphRepository()
    repo.replace_graphs({"http://e/g1": directive("28-CT/TW", 3)})
    reads: list[int] = []
    real = cov._records
    monkeypatch.setattr(cov, "_records", lambda r, q: reads.append(1) or real(r, q))
    client = TestClient(create_app(repo))
    first = client.get("/coverage").text
    count = len(reads)
    second = client.get("/coverage").text
    assert len(reads) == count
    for page in (first, second):
        assert '<a href="/coverage?doc=28-CT/TW">28-CT/TW</a>: 3' in page
    repo.replace_graphs({"http://e/g2": directive("21-CT/TW", 2)})
    after = client.get("/coverage").text
    assert '<a href="/coverage?doc=21-CT/TW">21-CT/TW</a>: 2' in after
    assert after.index("21-CT/TW") < after.index("28-CT/TW")


def test_matrix_page_follows_the_store_when_the_coverage_changes() -> None:
    """The matrix is kept once per store version: a plan dropped and the coverage computed again
    shows at once, never the matrix read before."""
    from rdflib import URIRef

    from kgraph.build import build
    from kgraph.graph.iris import graph_iri

    repo = OxigraphRepository()
    build([ROOT / "data" / "sources"], repo, validate=False)
    assert cov.compute_directive_coverage(repo, "28-CT/TW") is not None
    client = TestClient(create_app(repo))
    assert "<th>Lào Cai</th>" in client.get("/coverage", params={"doc": "28-CT/TW"}).text
    found = cov.directive_of(repo, "28-CT/TW")
    assert found is not None
    dropped = [p for p in cov.implementing_plans(repo, found[0]) if p.province == "Lào Cai"]
    assert dropped
    repo.drop_graphs([str(graph_iri(URIRef(p.iri))) for p in dropped])
    assert cov.compute_directive_coverage(repo, "28-CT/TW") is not None
    page = client.get("/coverage", params={"doc": "28-CT/TW"})
    assert page.status_code == 200
    assert "<th>Lào Cai</th>" not in page.text and "<th>Gia Lai</th>" in page.text
