"""Seed 004 after an English-only OCR must read like the clean seed 004."""

from pathlib import Path

import pytest

from kgraph.ingest.extract import extract_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pair():
    clean = extract_file(ROOT / "data" / "sources" / "004_d5d135182c80a159.txt")
    ocr = extract_file(ROOT / "tests" / "fixtures" / "seed004_ocr-eng.txt")
    return clean, ocr


def test_identity_is_the_same(pair):
    clean, ocr = pair
    assert ocr.ident.number == clean.ident.number == "2509/KH-UBND"
    assert ocr.ident.date == clean.ident.date
    assert ocr.ident.issuer.canonical == clean.ident.issuer.canonical


def test_references_are_the_same(pair):
    clean, ocr = pair

    def refs(doc):
        return {(r.target.number, r.relation) for r in doc.references}

    assert refs(ocr) == refs(clean)
    assert {(s.subject, s.object) for s in ocr.stated_lineage} >= {("273-KH/TU", "28-CT/TW")}


def test_assignment_agency_sets_are_the_same(pair):
    clean, ocr = pair

    def sets(doc):
        return [(a.no, sorted(m.canonical or "?" for m in a.addressees)) for a in doc.assignments]

    assert sets(ocr) == sets(clean)
