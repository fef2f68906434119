"""Acceptance on the five seed plans, scored against tests/fixtures/gold_seeds.json."""

from pathlib import Path

import pytest

from kgraph.ingest.evaluation import evaluate, format_report
from kgraph.ingest.extract import extract_file

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "tests" / "fixtures" / "gold_seeds.json"
SOURCES = ROOT / "data" / "sources"


@pytest.fixture(scope="module")
def report():
    result = evaluate(GOLD, SOURCES)
    print(format_report(result))
    return result


def test_no_seed_fails(report):
    assert report.errors == []


def test_all_metadata_fields_right(report):
    assert report.metadata.hits == report.metadata.total == 25


def test_references_precision_and_recall(report):
    assert report.ref_precision >= 0.95
    assert report.ref_recall >= 0.95


def test_assignment_headings_agency_set_and_request(report):
    assert report.agencies_and_request.rate >= 0.95


def test_task_group_counts_exact_for_every_plan(report):
    assert all(doc.task_groups_exact for doc in report.documents)


def test_every_reporting_duty_found(report):
    assert report.reporting.hits == report.reporting.total


def test_spans_quote_the_source():
    path = SOURCES / "000_580420fd51b73a01.txt"
    raw = path.read_text(encoding="utf-8")
    doc = extract_file(path)
    for ref in doc.references:
        assert raw[ref.span.start : ref.span.end] == ref.span.text
    for assignment in doc.assignments:
        assert raw[assignment.span.start : assignment.span.end] == assignment.span.text


def test_illegible_number_is_kept_as_written():
    doc = extract_file(SOURCES / "003_25df591f021501d4.txt")
    illegible = [r for r in doc.references if r.target.number is None]
    assert [r.target.number_as_written for r in illegible] == ["37§/LĐTBXH-TE"]


def test_ocr_damaged_flag():
    assert extract_file(SOURCES / "000_580420fd51b73a01.txt").ocr_damaged
    assert not extract_file(SOURCES / "004_d5d135182c80a159.txt").ocr_damaged


def test_date_falls_back_to_the_signature_time():
    # 002's date line is unreadable ("ngay 03 thdngA4 ndm 2020"); the signature gives 03.11.2020
    doc = extract_file(SOURCES / "002_314d619e1b674610.txt")
    assert doc.ident.date.isoformat() == "2020-11-03"
