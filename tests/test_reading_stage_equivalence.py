"""The reading stage's shortcuts give what the long way gave: the coverage's TF-IDF is the very
floats of scikit-learn's vectorizer, and a store built by `kgraph build` holds, for every plan,
the quads of its graph and of its coverage graph as rdflib writes them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import SHARED
from kgraph.analysis import coverage as cov
from kgraph.graph.mapping import document_graph, ntriples_line
from kgraph.ingest.extract import extract_file

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"


def sklearn_matrix(left: list[str], right: list[str]) -> list[list[float]]:
    """What similarity_matrix computed with scikit-learn (up to session 21)."""
    text = pytest.importorskip("sklearn.feature_extraction.text")
    model = text.TfidfVectorizer(analyzer=cov.terms, sublinear_tf=True)
    try:
        vectors = model.fit_transform([*left, *right])
    except ValueError:
        return [[0.0] * len(right) for _ in left]
    scores = (vectors[: len(left)] @ vectors[len(left):].T).toarray()
    return [[float(x) for x in row] for row in scores]


def _plan_files() -> list[Path]:
    files = sorted(SOURCES.glob("*.txt"))
    for folder in (SHARED / "seeds", SHARED / "real"):  # real plans, when ../shared is here
        if folder.is_dir():
            files += sorted(folder.glob("*.txt"))
    return files


def _items(path: Path) -> tuple[list[cov.Item], list[cov.Item]]:
    """A plan's leaf tasks and its duties, as the build's worker reads them."""
    mapped = document_graph(extract_file(path))
    kept: dict[str, tuple[list[cov.Item], list[cov.Item]]] = {}

    def keep(plan: str, number: str, tasks: list[cov.Item], duties: list[cov.Item],
             threshold: float = cov.COVERAGE_THRESHOLD) -> cov.PlanCoverage:
        kept["items"] = tasks, duties
        return cov.PlanCoverage(plan, number, tasks, duties)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cov, "cover", keep)
        record = cov.plan_record(str(mapped.document), "", mapped.index)
    return kept.get("items", (record.tasks, []))


def comparisons() -> Iterator[tuple[list[str], list[str]]]:
    """The matrices the build compares: a plan's tasks against its duties and their sentences
    (:func:`cover`), and one plan's tasks against another's (:func:`align`)."""
    previous: list[str] = []
    for path in _plan_files():
        try:
            tasks, duties = _items(path)
        except Exception:  # a file the extractor refuses compares nothing
            continue
        segments = [s for d in duties for s in [d.text, *cov.sentences(d.text)]]
        mine = [t.text for t in tasks]
        if mine and segments:
            yield mine, segments
        if mine and previous:
            yield previous, mine
        previous = mine or previous


def test_tfidf_is_exactly_scikit_learns_on_real_texts() -> None:
    import numpy as np

    seen = 0
    for left, right in comparisons():
        ours, theirs = cov.similarity_matrix(left, right), sklearn_matrix(left, right)
        assert np.allclose(ours, theirs, rtol=0, atol=1e-12)
        assert ours == theirs  # the same floats, bit for bit: the scores' 3rd decimal agrees
        seen += 1
    assert seen >= 5


@pytest.mark.parametrize(("left", "right"), [
    (["Tuyên truyền Chỉ thị số 28 đến cán bộ, đảng viên và nhân dân " * 40],
     ["Tuyên truyền, phổ biến Chỉ thị số 28 cho cán bộ; kiểm tra việc thực hiện " * 30]),
    (["a b c d e f g h i j k l m n o p q r s t u v w x y z " * 9], ["z y x w v u t s r q " * 7]),
    (["", "..."], ["—", ""]),
    (["Trẻ em"], ["", "trẻ em trẻ em trẻ em", "em"]),
    (["x"], []),
    ([], ["x"]),
])
def test_tfidf_is_exactly_scikit_learns_on_edge_cases(left: list[str], right: list[str]) -> None:
    assert cov.similarity_matrix(left, right) == (sklearn_matrix(left, right) if left and right
                                                   else [[] for _ in left])


def test_the_coverage_of_a_plan_needs_no_scikit_learn() -> None:
    """A build's workers compare tasks and duties without importing scikit-learn (seconds in
    a fresh process)."""
    import subprocess

    code = ("import sys; from kgraph.analysis.coverage import similarity_matrix; "
            "similarity_matrix(['Tuyên truyền'], ['tuyên truyền Chỉ thị']); "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def _terms_of(ntriples: str) -> set[str]:
    """The triples of an N-Triples text as an Oxigraph store holds them (IRIs checked,
    decimals in their canonical form)."""
    import pyoxigraph as ox

    store = ox.Store()
    store.load(ntriples.encode(), format=ox.RdfFormat.N_TRIPLES)
    return {str(ox.Triple(*quad.triple)) for quad in store}


def test_a_built_store_holds_each_plan_and_its_coverage_as_rdflib_writes_them(
        tmp_path: Path) -> None:
    """`kgraph build` (workers writing lines as strings, parsing their own text leniently)
    stores, for each plan, the triples rdflib serialises from its mapped graph, and the
    coverage links that SPARQL over a store holding the plan finds, as rdflib writes them."""
    import pyoxigraph as ox
    from rdflib import Graph
    from typer.testing import CliRunner

    from kgraph.cli import app
    from kgraph.resources import resource_graphs
    from kgraph.store.embedded import POINTER, OxigraphRepository

    store = tmp_path / "store"
    result = CliRunner().invoke(app, ["build", str(SOURCES), "--store", str(store)])
    assert result.exit_code == 0, result.stderr
    version = (store / POINTER).read_text().strip()
    stored: dict[str, set[str]] = {}
    for quad in ox.Store.read_only(str(store / version)):
        stored.setdefault(quad.graph_name.value, set()).add(str(ox.Triple(*quad.triple)))
    checked = 0
    for path in sorted(SOURCES.glob("*.txt")):
        doc = extract_file(path)
        mapped = document_graph(doc)
        graph = Graph()
        for triple in mapped.triples:
            graph.add(triple)
        assert stored[str(mapped.name)] == _terms_of(graph.serialize(format="nt"))
        repo = OxigraphRepository()
        repo.replace_graphs({**resource_graphs(), str(mapped.name): mapped.to_ntriples()})
        coverage = cov.plan_coverage(repo, str(mapped.document), doc.ident.number or "")
        expected = _terms_of(coverage.to_graph().serialize(format="nt"))
        assert stored.get(coverage.graph_name(), set()) == expected
        assert _terms_of(coverage.to_ntriples()) == expected
        assert coverage.to_ntriples() == "".join(sorted(set(map(ntriples_line,
                                                                coverage.triples()))))
        checked += bool(expected)
    assert checked >= 3  # plans with coverage links
