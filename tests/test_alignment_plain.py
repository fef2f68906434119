"""The alignment without scikit-learn and scipy.optimize in one-plan builds
(kgraph.analysis.alignment): the plain-data vectoriser, the dense normalisation and the
assignment give scikit-learn's and SciPy's very answers, and placing a plan imports neither."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from factories import ALIGNMENT_TEXTS
from kgraph.analysis import alignment as al

TEXTS = ALIGNMENT_TEXTS


def test_the_plain_vectoriser_gives_scikit_learns_rows_bit_for_bit() -> None:
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    model = al.vectorizer()
    model.fit(TEXTS * 3)
    terms = al.Terms.of(model)
    fresh = [*TEXTS, "Nâng cao chất lượng phục vụ và chuyển đổi số toàn diện", "zzzz qqqq"]
    expected = preprocessing.normalize(model.transform(fresh)).toarray()
    assert terms.rows(fresh).tobytes() == expected.tobytes()
    sums = np.vstack([expected.sum(axis=0), expected[0] * 3.0, np.zeros(expected.shape[1])])
    assert al.normalize_rows(sums).tobytes() == preprocessing.normalize(sums).tobytes()


def test_the_assignment_is_scipys_on_ties_and_rectangles() -> None:
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(3)
    for trial in range(500):
        rows, cols = (int(n) for n in rng.integers(1, 9, size=2))
        cost = -np.round(rng.random((rows, cols)), 1 if trial % 2 else 3)
        ours, theirs = al.linear_sum_assignment(cost), optimize.linear_sum_assignment(cost)
        assert all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))


def test_placing_a_plan_imports_neither_scikit_learn_nor_scipy_optimize() -> None:
    code = """
import sys
import numpy as np
from kgraph.analysis import alignment as al
terms = al.Terms({" ta": 0, "tan": 1, "ang": 2, "ng ": 3}, np.array([1.0, 1.5, 1.2, 1.0]))
items = [al.PlanItem(f"i{n}", "p", "1/KH", "X", str(n), text) for n, text in
         enumerate(["tang", "tan ang"])]
state = al.AlignmentState(terms, [[items[0]]], [terms.rows(["tang"])[0]], False, [], [])
matrix = state.vectors(items)
state.place(items, matrix)
state.score(items, matrix)
print(sorted(m for m in sys.modules if m.startswith(("sklearn", "scipy"))))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() in ("[]", "['scipy.optimize._lsap']")
