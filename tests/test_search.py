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


def ranked(index: LabelIndex, query: str) -> list[str]:
    """The ranking, written plainly: every label whose words each query token starts one of;
    exact label first, then those whose label holds every token, then fewest label words no
    token starts, then kind (documents first), label length, label, IRI."""
    from kgraph.analysis.search import _KIND_RANK

    wanted = tokens(query)
    keys = []
    for entry in index._entries:
        if not wanted or not all(any(w.startswith(t) for w in entry.words) for t in wanted):
            continue
        started = [{t for t in wanted if w.startswith(t)} for w in entry.primary]
        keys.append((tuple(wanted) != entry.primary, not set(wanted) <= set().union(*started),
                     sum(1 for s in started if not s), _KIND_RANK[entry.hit.kind],
                     len(entry.hit.label), entry.hit.label, entry.hit.iri))
    return [key[-1] for key in sorted(keys)]


@pytest.mark.parametrize("ranked_from", [10**9, 0])
def test_ranking_is_the_plain_one_for_every_prefix_of_every_label(
        index: LabelIndex, monkeypatch, ranked_from: int) -> None:
    """The ranking computed on arrays (a common word's thousands of labels at once), or kept
    whole for a common one-token query (``ranked_from``: every one here, as the warm-up ranks
    them), orders the labels as the plain rule does, for each label's words, their prefixes
    and word pairs."""
    from kgraph.analysis import search

    monkeypatch.setattr(search, "RANKED_FROM", ranked_from)
    if not ranked_from:
        index.prepare()
        assert {"u", "ub", "ubnd", "so", "s"} <= set(index._orders)
    queries = {"ubnd", "u", "so", "s", "so so", "ke hoach", "28 ct tw", "zzq", "tinh uy gia"}
    for entry in index._entries:
        words = tokens(entry.hit.label)
        queries.update(w[:n] for w in words for n in (1, 2, len(w)))
        queries.update(" ".join(words[i:i + 2]) for i in range(len(words)))
        queries.add(" ".join(words))
    for query in sorted(queries):
        expected = ranked(index, query)
        for limit in (1, 5, 100):
            assert [h.iri for h in index.search(query, limit)] == expected[:limit], query
