"""Metadata, references and reporting on the ten plans of ../shared/gold/real2.json.

Two views: the three readers alone on every file (whatever the outline parser makes of its
body), and `kgraph eval` as a user runs it, where every document that is read must score as
well. Skips when ../shared is absent.
"""

import json
import os
from pathlib import Path

import pytest

from kgraph.ingest.evaluation import evaluate, score_document
from kgraph.ingest.metadata import extract_metadata
from kgraph.ingest.model import PlanDocument
from kgraph.ingest.outline import parse
from kgraph.ingest.references import find_references
from kgraph.ingest.reporting import extract_reporting
from kgraph.reference.matching import default_matcher

SHARED = Path(os.environ.get("KGRAPH_SHARED", Path(__file__).resolve().parents[2] / "shared"))
REAL = SHARED / "real"
GOLD = SHARED / "gold" / "real2.json"

pytestmark = pytest.mark.skipif(
    not (REAL.is_dir() and GOLD.is_file()), reason="../shared/real2 is not available"
)


def _read(text: str, name: str) -> PlanDocument:
    """Metadata, references and reporting of one text, without the completeness check."""
    matcher = default_matcher()
    layout = parse(text)
    meta = extract_metadata(layout, matcher)
    assert meta is not None, name
    province = meta.ident.province
    body_start = layout.sections[0].line.start if layout.sections else len(text)
    refs, lineage = find_references(text, body_start, matcher, province, meta.ident.number)
    return PlanDocument(
        source_name=name,
        source_sha256="",
        ident=meta.ident,
        references=refs,
        stated_lineage=lineage,
        reporting=extract_reporting(layout, matcher, province),
    )


def test_metadata_references_and_reporting_reach_the_acceptance_thresholds():
    meta_hits = meta_total = tp = predicted = gold_refs = report_hits = report_total = 0
    for entry in json.loads(GOLD.read_text(encoding="utf-8"))["documents"]:
        text = (REAL / entry["file"]).read_text(encoding="utf-8-sig")
        score = score_document(entry, _read(text, entry["file"]))
        meta_hits += score.metadata.hits
        meta_total += score.metadata.total
        tp += score.ref_tp
        predicted += score.ref_predicted
        gold_refs += score.ref_gold
        report_hits += score.reporting.hits
        report_total += score.reporting.total
    assert meta_total == 50 and meta_hits >= 48
    assert tp / predicted >= 0.9 and tp / gold_refs >= 0.9
    assert report_hits / report_total >= 0.85


def test_every_document_kgraph_eval_reads_scores_as_well():
    report = evaluate(GOLD, REAL)
    read = [d for d in report.documents if not d.error]
    assert len(read) >= 7
    assert all(d.metadata.hits == d.metadata.total for d in read), [
        (d.file, d.metadata_misses) for d in read if d.metadata_misses
    ]
    tp = sum(d.ref_tp for d in read)
    assert tp / sum(d.ref_predicted for d in read) >= 0.9
    assert tp / sum(d.ref_gold for d in read) >= 0.85
    hits = sum(d.reporting.hits for d in read)
    assert hits / sum(d.reporting.total for d in read) >= 0.85
