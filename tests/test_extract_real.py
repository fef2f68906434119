"""The six real plans (../shared/real, read-only) ingest with the right identity and lineage."""

import json
import os
from pathlib import Path

import pytest

from kgraph.ingest.evaluation import evaluate, format_report
from kgraph.ingest.extract import extract_file

SHARED = Path(os.environ.get("KGRAPH_SHARED", Path(__file__).resolve().parents[2] / "shared"))
REAL = SHARED / "real"
GOLD = SHARED / "gold" / "real.json"

pytestmark = pytest.mark.skipif(
    not (REAL.is_dir() and GOLD.is_file()), reason="../shared/real is not available"
)


def _gold() -> list[dict]:
    return json.loads(GOLD.read_text(encoding="utf-8"))["documents"] if GOLD.is_file() else []


@pytest.mark.parametrize("gold", _gold(), ids=lambda g: g["file"])
def test_identity_and_implemented_documents(gold):
    doc = extract_file(REAL / gold["file"])
    want = gold["document"]
    assert doc.ident.number == want["number"]
    assert doc.ident.date.isoformat() == want["date"]
    assert doc.ident.issuer.canonical.lower() == want["issuer"].lower()
    implemented = {
        r["number"] for r in gold["references"] if r["relation"] == "implements" and r.get("number")
    }
    got = {r.target.number for r in doc.references if r.relation.value == "implements"}
    assert got == implemented


def test_scores_are_reported():
    report = evaluate(GOLD, REAL)
    print(format_report(report))
    assert report.errors == []
    assert report.metadata.hits == report.metadata.total
