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


# Modules a one-plan build has no use for: the web app and its server, pySHACL (the shapes run
# in Python), the pages' data (a store never served keeps none), templates, the graph and
# learning libraries of other commands, rdflib's SPARQL parser (the predicates kept ready).
NOT_IN_A_BUILD = ("kgraph.web", "fastapi", "starlette", "uvicorn", "pyshacl", "pyvis",
                  "kgraph.analysis.page_data", "rdflib.plugins.sparql", "jinja2", "networkx",
                  "sklearn", "scipy")

_BUILD_AND_LIST = r"""
import sys
from kgraph.reference import matching
made = []
def counted(self, *args, _real=matching.Matcher.__init__, **kwargs):
    made.append(1)
    _real(self, *args, **kwargs)
matching.Matcher.__init__ = counted
from kgraph.cli import app
try:
    app(["build", *sys.argv[3:], "--store", sys.argv[1]], standalone_mode=False)
except SystemExit:
    pass
print(f"matchers made from the reference Turtle: {len(made)}")
print(sorted(m for m in sys.modules if m.startswith(tuple(sys.argv[2].split(",")))))
"""


def test_a_one_plan_build_in_a_new_process_imports_nothing_it_does_not_use(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's ``kgraph build PLAN``: no page data kept (a store never served), no template
    rendered, the SPARQL constraints' predicates and the reference list's matcher ready: none
    of the modules of :data:`NOT_IN_A_BUILD` imported, no matcher made from Turtle."""
    import subprocess

    sources = sorted((Path(__file__).resolve().parents[1] / "data" / "sources").glob("*.txt"))
    store = tmp_path / "store"
    monkeypatch.setenv("KGRAPH_CACHE", str(tmp_path / "cache"))  # nothing kept ready yet

    def build(*files: Path) -> list[str]:
        done = subprocess.run([sys.executable, "-c", _BUILD_AND_LIST, str(store),
                               ",".join(NOT_IN_A_BUILD), *map(str, files)],
                              capture_output=True, text=True, check=True)
        return done.stdout.strip().splitlines()

    first = build(*sources[:2])  # the store, and the predicates and matcher kept ready
    assert first[-2] == "matchers made from the reference Turtle: 1"
    assert build(sources[2])[-2:] == ["matchers made from the reference Turtle: 0", "[]"]


def test_a_matcher_read_ready_extracts_the_same_graphs_as_one_made_from_the_turtle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same plans built by two new processes, the first making the reference list's
    matcher (an empty cache folder), the second reading it back: the same TriG, byte for
    byte."""
    import subprocess

    sources = Path(__file__).resolve().parents[1] / "data" / "sources"
    monkeypatch.setenv("KGRAPH_CACHE", str(tmp_path / "cache"))
    written = []
    for run in ("made", "read"):
        out = tmp_path / f"ttl-{run}"
        done = subprocess.run([sys.executable, "-c", _BUILD_AND_LIST, str(tmp_path / run),
                               "kgraph", str(sources), "--ttl-out", str(out)],
                              capture_output=True, text=True, check=True)
        made = 1 if run == "made" else 0
        assert f"matchers made from the reference Turtle: {made}" in done.stdout
        written.append({p.name: p.read_bytes() for p in sorted(out.glob("*.trig"))})
    assert len(written[0]) == 5 and written[0] == written[1]
