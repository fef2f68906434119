"""The auditor's report: one finding model for shapes, cross-document rules and coverage;
its outputs (text, JSON, CSV, Turtle, HTML), the CLI gate, the RACI matrix and the web pages."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
import typer
from rdflib import Graph
from rdflib.namespace import RDF, SH
from typer.testing import CliRunner

from factories import provincial_plan, sample_documents
from kgraph.analysis.audit import raci, run_audit
from kgraph.graph.mapping import document_graph
from kgraph.resources import resource_graphs
from kgraph.store.embedded import OxigraphRepository


def rules(report: object, number: str | None = None) -> set[str]:
    return {f.rule for f in report.findings  # type: ignore[attr-defined]
            if number is None or f.document_number == number}


def test_sample_audit_finds_conflict_unresolved_and_collective(sample_repo) -> None:
    report = run_audit(sample_repo)
    assert report.documents == ["234/KH-UBND", "2509/KH-UBND", "50/KH-UBND"]
    [conflict] = [f for f in report.findings if f.rule == "ConflictingStatement"]
    assert conflict.document_number == "50/KH-UBND"  # the dissenting source, not the majority
    assert conflict.severity == "Violation" and conflict.label_vi == "28-CT/TW"
    assert "Ban Chấp hành Trung ương Đảng" in conflict.message_vi
    assert "Bộ Chính trị" in conflict.message_en
    unresolved = [f for f in report.findings if f.rule == "UnresolvedAddressee"]
    assert {f.label_vi for f in unresolved} == {"Sở Hàng không"}
    collective = [f for f in report.findings if f.rule == "CollectiveAddressee"]
    assert {f.severity for f in collective} == {"Warning"}
    assert {f.label_vi for f in collective} == {"Ủy ban nhân dân các huyện, thị xã, thành phố"}
    assert report.violations == 4  # 3 unresolved + 1 conflict


def test_doc_option_limits_the_audit(sample_repo) -> None:
    report = run_audit(sample_repo, "234/kh-ubnd")
    assert report.documents == ["234/KH-UBND"]
    assert {f.document_number for f in report.findings} == {"234/KH-UBND"}
    assert "ConflictingStatement" not in rules(report)


def test_uncovered_task_is_a_finding(sample_repo) -> None:
    report = run_audit(sample_repo, "234/KH-UBND")
    [uncovered] = [f for f in report.findings if f.rule == "UncoveredTask"]
    assert uncovered.label_vi == "Tuyên truyền Chỉ thị"
    assert uncovered.source_text == "a) Tuyên truyền"


def test_outputs_agree(sample_repo, tmp_path: Path) -> None:
    report = run_audit(sample_repo)
    written = {p.name for p in report.write(tmp_path)}
    assert written == {"audit-shacl.ttl", "audit.json", "audit.csv", "audit.html"}
    data = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert len(data["findings"]) == len(report.findings)
    assert data["counts"]["by_severity"]["Violation"] == report.violations
    rows = list(csv.DictReader(io.StringIO((tmp_path / "audit.csv").read_text("utf-8"))))
    assert len(rows) == len(report.findings) and "message_vi" in rows[0]
    shacl = Graph().parse(tmp_path / "audit-shacl.ttl", format="turtle")
    [root] = shacl.subjects(RDF.type, SH.ValidationReport)
    assert len(list(shacl.objects(root, SH.result))) == len(report.findings)
    assert shacl.value(root, SH.conforms).toPython() is False
    summary = report.summary()
    assert summary.index("Violation: 4") < summary.index("[Violation]")


def test_html_escapes_plan_text() -> None:
    [doc, *_] = sample_documents()
    doc.tasks[0].items[0].text = "<script>alert(1)</script>"
    repo = OxigraphRepository()
    payload = resource_graphs()
    payload[str(document_graph(doc).name)] = document_graph(doc).to_ntriples()
    repo.replace_graphs(payload)
    html = run_audit(repo).to_html()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def cli() -> typer.Typer:
    from kgraph.cli import app

    return app


def store_of(docs: list, path: Path) -> str:
    repo = OxigraphRepository(path)
    payload = resource_graphs()
    payload.update({str(g.name): g.to_ntriples() for g in map(document_graph, docs)})
    repo.replace_graphs(payload)
    del repo
    return str(path)


def test_cli_exits_1_on_violations_and_writes_files(tmp_path: Path) -> None:
    store = store_of(sample_documents(), tmp_path / "store")
    result = CliRunner().invoke(cli(), ["audit", "--store", store, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    assert "ConflictingStatement" in result.output
    assert (tmp_path / "o" / "audit.html").is_file()


def test_cli_exits_0_without_violations(tmp_path: Path) -> None:
    [doc, *_] = sample_documents()
    doc.assignments = [a for a in doc.assignments if not a.requested]  # drop the unresolved body
    store = store_of([doc], tmp_path / "store")
    result = CliRunner().invoke(cli(), ["audit", "--store", store])
    assert result.exit_code == 0, result.output
    assert "Violation: 0" in result.output


def test_cli_unknown_doc_is_a_user_error(tmp_path: Path) -> None:
    store = store_of(sample_documents(), tmp_path / "store")
    result = CliRunner().invoke(cli(), ["audit", "--store", store, "--doc", "999/KH-UBND"])
    assert result.exit_code == 2


def test_raci_of_a_plan_and_of_a_directive(sample_repo, tmp_path: Path) -> None:
    plan = raci(sample_repo, "234/KH-UBND")
    assert [row[1] for row in plan.rows] == ["a"]
    directive = raci(sample_repo, "28-CT/TW")
    assert {row[0] for row in directive.rows} == {"234/KH-UBND", "2509/KH-UBND", "50/KH-UBND"}
    header = next(csv.reader(io.StringIO(directive.to_csv())))
    assert header[:3] == ["document", "task", "text"]
    assert "<table id=\"raci\">" in directive.to_html()


def test_raci_roles_follow_coverage() -> None:
    """A task a duty covers gets that duty's lead (L), coordinators (C) and addressees (R)."""

    doc = provincial_plan("234/KH-UBND", "Kiên Giang", "211-KH/TU", date(2024, 4, 25),
                          date(2024, 7, 23), text="tuyên truyền Chỉ thị")
    repo = OxigraphRepository()
    payload = resource_graphs()
    payload[str(document_graph(doc).name)] = document_graph(doc).to_ntriples()
    repo.replace_graphs(payload)
    matrix = raci(repo, "234/KH-UBND")
    assert matrix.mark(0, "Sở Lao động - Thương binh và Xã hội") == "L/R"
    assert matrix.mark(0, "Sở Y tế") == "C"


def test_cli_raci_writes_csv_and_html(tmp_path: Path) -> None:
    store = store_of(sample_documents(), tmp_path / "store")
    for name in ("m.csv", "m.html"):
        out = tmp_path / name
        result = CliRunner().invoke(cli(), ["raci", "--store", store, "--doc", "28-CT/TW",
                                            "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_text("utf-8").strip()


def test_web_pages(sample_repo) -> None:
    from fastapi.testclient import TestClient

    from kgraph.web.app import create_app

    with TestClient(create_app(sample_repo)) as client:
        page = client.get("/audit")
        assert page.status_code == 200 and "ConflictingStatement" in page.text
        assert client.get("/audit", params={"doc": "234/KH-UBND", "format": "json"}).json()[
            "documents"] == ["234/KH-UBND"]
        assert client.get("/audit", params={"doc": "1/XX"}).status_code == 404
        raci_page = client.get("/audit/raci", params={"doc": "28-CT/TW"})
        assert raci_page.status_code == 200 and "50/KH-UBND" in raci_page.text
        assert client.get("/audit/raci", params={"doc": "1/XX"}).status_code == 404


@pytest.mark.slow
def test_seed_acceptance(seed_repo) -> None:
    """The findings the issue asks for on data/sources."""
    report = run_audit(seed_repo)
    conflicts = [f for f in report.findings if f.rule == "ConflictingStatement"]
    assert any(f.document_number == "50/KH-UBND" and f.label_vi == "28-CT/TW"
               for f in conflicts)
    unreadable = [f for f in report.findings if f.rule == "UnreadableReference"]
    assert any(f.document_number == "18/KH-SLĐTBXH" and "LĐTBXH-TE" in f.label_vi
               for f in unreadable)
    collective = {f.label_vi for f in report.findings if f.rule == "CollectiveAddressee"}
    assert any("liên quan" in label for label in collective)
    uncovered = {f.document_number for f in report.findings if f.rule == "UncoveredTask"}
    assert {"2509/KH-UBND", "50/KH-UBND"} <= uncovered
    assert "PartyChain" in rules(report, "50/KH-UBND")


def test_build_validates_each_document_graph(tmp_path: Path) -> None:
    """Ingest reports each document's SHACL results without blocking the build."""
    from kgraph.build import build

    source = Path(__file__).resolve().parents[1] / "data" / "sources"
    files = sorted(source.glob("001_*.txt"))
    report = build(files, OxigraphRepository())
    [validation] = report.validations.values()
    assert {r.rule for r in validation.results} >= {"PartyChain", "CollectiveAddressee"}
    assert report.violations() == sum(r.severity == "Violation" for r in validation.results)
    assert build(files, OxigraphRepository(), validate=False).validations == {}


def test_doc_audit_keeps_the_plans_own_conflict(sample_repo) -> None:
    """Scoped to one plan, the cross-document rule still sees the other sources."""
    report = run_audit(sample_repo, "50/KH-UBND")
    assert [f.document_number for f in report.findings if f.rule == "ConflictingStatement"] == [
        "50/KH-UBND"]
    assert run_audit(sample_repo, "99-CT/TW").documents == []  # in no document of the store
