"""The label index: documents, agencies and provinces however a user types them."""

from __future__ import annotations

import pytest

from kgraph.analysis.lineage import LineageGraph
from kgraph.analysis.search import LabelIndex, tokens
from kgraph.graph.vocab import ID


@pytest.fixture
def index(sample_repo) -> LabelIndex:
    return LabelIndex.from_lineage(LineageGraph.from_repository(sample_repo))


def test_tokens_fold_diacritics_and_separators() -> None:
    assert tokens("Sở Y tế") == ["so", "y", "te"]
    assert tokens("28-CT/TW") == ["28", "ct", "tw"]
    assert tokens("Đề nghị") == ["de", "nghi"]


@pytest.mark.parametrize("query", ["so y te gia lai", "Sở Y tế Gia Lai", "SỞ Y TẾ gia lai"])
def test_agency_with_province_without_diacritics(index: LabelIndex, query: str) -> None:
    hits = index.search(query)
    assert [h.iri for h in hits] == [str(ID["org/gia-lai/so-y-te"])]
    assert hits[0].label == "Sở Y tế"


@pytest.mark.parametrize("query", ["28-CT/TW", "28 ct tw", "28/ct-tw"])
def test_document_number_first(index: LabelIndex, query: str) -> None:
    hit = index.search(query)[0]
    assert hit.iri == str(ID["doc/vn/28-ct-tw/2023"])
    assert hit.kind == "document" and "Chỉ thị" in hit.detail


def test_province_and_prefixes(index: LabelIndex) -> None:
    hits = index.search("kien gi")
    assert hits[0].kind == "province" and hits[0].label == "Kiên Giang"
    assert all(h.province == "Kiên Giang" for h in hits)


def test_no_match_and_empty_query(index: LabelIndex) -> None:
    assert index.search("so y te ha noi") == []
    assert index.search("  ") == []
    assert len(index.search("so", limit=2)) == 2


def test_tasks_and_duties_are_not_indexed(index: LabelIndex) -> None:
    assert all(h.kind in {"document", "agency", "collective", "mention", "province"}
               for h in index.search("a"))


@pytest.mark.parametrize("query", ["so y te gia lai", "kh ubnd gia", "s y", "28 ct", "ke hoach",
                                   "u", "so zzz"])
def test_tokens_checked_on_candidates_find_what_their_entries_find(
        index: LabelIndex, monkeypatch, query: str) -> None:
    """Checking a common token on the candidates' own words finds the same labels, in the same
    order, as reading every entry holding it (every word of every searchable label)."""
    from kgraph.analysis import search

    monkeypatch.setattr(search, "WORDS_CHECKED", 10**9)  # each token's entries read
    read = index.search(query, limit=100)
    monkeypatch.setattr(search, "WORDS_CHECKED", 0)  # every token after the first checked
    assert index.search(query, limit=100) == read
    expected = {e.hit.iri for e in index._entries
                if all(any(w.startswith(t) for w in e.words) for t in tokens(query))}
    assert {h.iri for h in read} == expected
