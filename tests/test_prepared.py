"""Values kept ready for fresh processes (kgraph.prepared): read back, never stale."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kgraph.paths import cache_dir
from kgraph.prepared import prepared


@pytest.fixture()
def calls() -> list[str]:
    return []


def test_a_value_is_computed_once_and_read_back_while_what_it_is_made_from_is_unchanged(
        tmp_path: Path, calls: list[str]) -> None:
    source = tmp_path / "input.txt"
    source.write_text("one")

    def compute() -> dict[str, str]:
        calls.append(source.read_text())
        return {"value": source.read_text()}

    assert prepared("thing", compute, source) == {"value": "one"}
    assert prepared("thing", compute, source) == {"value": "one"}
    assert calls == ["one"]
    source.write_text("two")  # a changed input is another value, never the one kept
    assert prepared("thing", compute, source) == {"value": "two"}
    assert calls == ["one", "two"]


def test_a_damaged_or_unwritable_cache_only_costs_the_computation(
        tmp_path: Path, calls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert prepared("damaged", lambda: calls.append("a") or 1, "text") == 1
    [kept] = (cache_dir() / "prepared").glob("damaged-*")
    kept.write_bytes(b"not a pickle")
    assert prepared("damaged", lambda: calls.append("b") or 2, "text") == 2
    assert prepared("damaged", lambda: calls.append("c") or 3, "text") == 2  # kept again
    monkeypatch.setenv("KGRAPH_CACHE", str(tmp_path / "file"))
    (tmp_path / "file").write_text("a file, not a folder")
    assert prepared("damaged", lambda: calls.append("d") or 4, "text") == 4
    assert calls == ["a", "b", "d"]


def test_the_compiled_shapes_sparql_predicates_are_the_parsers_and_need_no_parser_later(
        tmp_path: Path) -> None:
    import subprocess

    from kgraph.analysis.shacl_compiled import query_predicates

    code = ("import sys\nfrom kgraph.analysis.validation import _compiled_shapes\n"
            "shapes = _compiled_shapes()\n"
            "print(sorted(str(sorted(c.predicates or ())) for s in shapes.shapes "
            "for c in s.sparql))\n"
            "print('rdflib.plugins.sparql' in sys.modules)\n")
    first, second = (subprocess.run([sys.executable, "-c", code], capture_output=True,
                                    text=True, check=True).stdout.splitlines()
                     for _ in range(2))
    assert first[0] == second[0] != "[]"
    assert second[1] == "False"  # the second process read them ready
    from kgraph.analysis.validation import _compiled_shapes

    for shape in _compiled_shapes().shapes:
        for constraint in shape.sparql:
            assert constraint.predicates == query_predicates.uncached(constraint.query)


_BUILD_AND_LIST = r"""
import sys
from kgraph.cli import app
try:
    app(["build", *sys.argv[2:], "--store", sys.argv[1]], standalone_mode=False)
finally:
    print(sorted(m for m in sys.modules if m.startswith(("kgraph.analysis.page_data",
          "rdflib.plugins.sparql", "jinja2", "networkx"))))
"""


def test_a_one_plan_build_in_a_new_process_imports_nothing_it_does_not_use(
        tmp_path: Path) -> None:
    """A user's ``kgraph build PLAN``: no page data kept (a store never served), no template
    rendered, the SPARQL constraints' predicates ready: none of their modules imported."""
    import subprocess

    sources = sorted((Path(__file__).resolve().parents[1] / "data" / "sources").glob("*.txt"))
    store = tmp_path / "store"

    def build(*files: Path) -> list[str]:
        done = subprocess.run([sys.executable, "-c", _BUILD_AND_LIST, str(store),
                               *map(str, files)], capture_output=True, text=True, check=True)
        return done.stdout.strip().splitlines()

    build(*sources[:2])  # the store, and the predicates kept ready
    assert build(sources[2])[-1] == "[]"
