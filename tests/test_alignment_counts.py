"""A full alignment's fit counts each distinct text once and cuts items' rows by blocks
(kgraph.analysis.alignment): the vectoriser's vocabulary, IDF and matrix are scikit-learn's
very ones, and the alignment state equals the one made from rows cut one by one."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from factories import ALIGNMENT_TEXTS
from kgraph.analysis import alignment as al

TEXTS = [*ALIGNMENT_TEXTS, "Tăng cường kiểm tra, giám sát việc thực hiện chuyển đổi số"]


def _repeated() -> list[str]:
    rng = np.random.default_rng(7)
    return [TEXTS[int(i)] for i in rng.integers(0, len(TEXTS), 400)]


def test_the_fit_counting_each_distinct_text_once_is_scikit_learns_bit_for_bit() -> None:
    text = pytest.importorskip("sklearn.feature_extraction.text")
    texts = _repeated()
    fast = al.vectorizer()
    plain = text.TfidfVectorizer(analyzer="char_wb", ngram_range=al.NGRAMS, sublinear_tf=True,
                                 preprocessor=al.folded, lowercase=False)
    got, expected = fast.fit_transform(texts), plain.fit_transform(texts)
    assert list(fast.vocabulary_.items()) == list(plain.vocabulary_.items())  # order too
    assert fast.idf_.tobytes() == plain.idf_.tobytes()
    assert type(got) is type(expected)
    for part in ("data", "indices", "indptr"):
        assert getattr(got, part).dtype == getattr(expected, part).dtype
        assert getattr(got, part).tobytes() == getattr(expected, part).tobytes()
    with pytest.raises(ValueError, match="empty vocabulary"):
        al.vectorizer().fit_transform(["", ""])


def _items(plan: int, texts: list[str]) -> list[al.PlanItem]:
    return [al.PlanItem(f"p{plan}/t{i}", f"p{plan}", f"{plan:03d}", f"P{plan % 5}", str(i),
                        text, text, i / len(texts)) for i, text in enumerate(texts)]


def _by_rows_one_by_one(plans: list[list[al.PlanItem]], outline: list[al.PlanItem]
                        ) -> al.AlignmentState:
    """The alignment as it was written before blocks: every row cut up front, one by one."""
    from scipy.sparse import vstack
    from sklearn.preprocessing import normalize

    everything = [item for plan in plans for item in plan] + outline
    fitted = al.vectorizer()
    matrix_all = normalize(fitted.fit_transform([item.text for item in everything]))
    vectors = {item.iri: matrix_all[index] for index, item in enumerate(everything)}
    own = [vectors[task.iri].toarray()[0] for task in outline]
    state = al.AlignmentState(al.Terms.of(fitted), [[task] for task in outline],
                              [v.copy() for v in own], bool(outline), list(outline), own)
    for plan in sorted(plans, key=lambda p: (-len(p), p[0].number)):
        state.place(plan, vstack([vectors[item.iri] for item in plan]).toarray())
    for plan in plans:
        state.plans.setdefault(plan[0].plan, len(plan))
    outline_iris = {task.iri for task in outline}
    for cluster in state.clusters:
        members = [m for m in cluster if m.iri not in outline_iris]
        own_item = next((m for m in cluster if m.iri in outline_iris), None)
        reference = vectors[own_item.iri].toarray()[0] if own_item else None
        for member in members:
            if reference is not None:
                norm = float(np.linalg.norm(reference)) or 1.0
                dense = vectors[member.iri].toarray()[0]
                state.scores[member.iri] = round(float(dense @ reference) / norm, 3)
    return state


@pytest.mark.parametrize("rows", [1, 3, al.SCORED_ROWS])
def test_an_alignment_from_blocks_of_rows_equals_the_one_row_by_row(
        rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    monkeypatch.setattr(al, "SCORED_ROWS", rows)
    rng = np.random.default_rng(11)
    plans = [_items(p, [TEXTS[int(i)] for i in rng.permutation(len(TEXTS))[:5]])
             for p in range(40)]
    outline = [al.PlanItem(f"o/t{i}", "o", "", "", str(i), t, t)
               for i, t in enumerate(TEXTS[:4])]
    fast = al.align_state(plans, outline)
    assert fast is not None
    assert pickle.dumps(fast) == pickle.dumps(_by_rows_one_by_one(plans, outline))


def test_a_block_of_rows_is_scipys_dense_rows_bit_for_bit() -> None:
    pytest.importorskip("sklearn")
    from scipy.sparse import vstack
    from sklearn.preprocessing import normalize

    texts = _repeated()[:60]
    matrix = normalize(al.vectorizer().fit_transform(texts))
    items = [al.PlanItem(f"i{n}", "p", "", "", "", t, t) for n, t in enumerate(texts)]
    rows = al._Rows(matrix, {item.iri: n for n, item in enumerate(items)})
    for chosen in (items, items[::-7], items[5:6], [items[3], items[3], items[0]]):
        expected = vstack([matrix[rows.index[i.iri]] for i in chosen]).toarray()
        assert rows.block(chosen).tobytes() == expected.tobytes()
