"""A source file that now states another document: a re-build replaces what it produced.

The graph it stated before is removed in the same new store version, and every kept index
(named queries' kept answers, pages, audit, search, explorer, TriG files) forgets it; a graph
another source states stays; an interrupted build leaves the version before intact."""

from __future__ import annotations

import gc
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kgraph.analysis.queries import named_queries
from kgraph.analysis.versions import updatable
from kgraph.cli import app
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.warm import page_data

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
# two plans carrying the same directive out directly (so it has a coverage to keep)
MOVING, OTHER = "000_580420fd51b73a01.txt", "001_589d48ec2e8e8782.txt"
runner = CliRunner()
VALUES = {"doc": "28-CT/TW", "date": "2026-01-01", "agency": "Sở Y tế"}


def kgraph(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _number(text: str) -> tuple[str, str]:
    """The plan's number as its first line writes it, and the same with the next number."""
    line = text.splitlines()[0]
    written = line.split(":", 1)[1].strip().split()[0]  # "234"
    return written, str(int(written) + 1)


def _moved_store(tmp_path: Path) -> tuple[Path, Path, dict[str, str], dict[str, int]]:
    """Two plans built, one's number corrected, that file built again alone. Returns the store,
    the TriG folder, the numbers and IRIs (old and new) and the other plan's graph sizes."""
    store, folder, ttl = tmp_path / "store", tmp_path / "src", tmp_path / "ttl"
    folder.mkdir()
    for name in (MOVING, OTHER):
        shutil.copy(SOURCES / name, folder / name)
    code, _, err = kgraph("build", str(folder), "--store", str(store), "--ttl-out", str(ttl))
    assert code == 0 and "warning:" not in err, err
    repo = OxigraphRepository(store, read_only=True)
    sizes = {g: _size(repo, g) for g in repo.graph_names() if "/lao-cai/" in g}
    for _, compute in page_data(repo):  # as a server keeps them: the build updates them
        compute()
    del repo
    gc.collect()
    plan = folder / MOVING
    text = plan.read_text(encoding="utf-8")
    old, new = _number(text)
    plan.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, _, err = kgraph("build", str(plan), "--store", str(store), "--ttl-out", str(ttl))
    assert code == 0, err
    repo = OxigraphRepository(store, read_only=True)
    assert {"home listing", "home search", "explorer data"} <= set(updatable(repo))
    del repo
    return store, ttl, {"old": old, "new": new, "err": err}, sizes


def _size(repo: OxigraphRepository, graph: str) -> int:
    rows = repo.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").rows
    return int(rows[0][0])


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[Path, Path, dict[str, str], dict[str, int]]:
    return _moved_store(tmp_path_factory.mktemp("moved"))


def _iris(number: str) -> tuple[str, str]:
    doc = f"https://w3id.org/kgraph/id/doc/kien-giang/{number}-kh-ubnd/2024"
    return doc, doc.replace("/id/doc/", "/id/graph/")


def test_the_graph_a_file_stated_before_is_removed(moved: tuple) -> None:
    store, ttl, numbers, _ = moved
    (old_doc, old_graph), (new_doc, new_graph) = _iris(numbers["old"]), _iris(numbers["new"])
    warnings = [line for line in numbers["err"].splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"<{old_graph}>" in warnings[0], numbers["err"]
    assert "is removed" in warnings[0] and "stays" not in warnings[0]
    repo = OxigraphRepository(store, read_only=True)
    names = set(repo.graph_names())
    assert new_graph in names
    assert not [g for g in names if f"/{numbers['old']}-kh-ubnd/" in g]  # its coverage too
    # nothing in the store says anything about the old document or its parts any more
    rows = repo.query(f"""SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o
        FILTER (STRSTARTS(STR(?s), "{old_doc}") || STRSTARTS(STR(?o), "{old_doc}")) }}""").rows
    assert int(rows[0][0]) == 0
    assert not (ttl / f"kien-giang_{numbers['old']}-kh-ubnd_2024.trig").exists()
    assert (ttl / f"kien-giang_{numbers['new']}-kh-ubnd_2024.trig").is_file()
    assert new_doc


def test_the_other_plan_is_untouched(moved: tuple) -> None:
    store, _, _, sizes = moved
    repo = OxigraphRepository(store, read_only=True)
    assert sizes and {g: _size(repo, g) for g in sizes} == sizes


def test_no_named_query_answers_the_old_document(moved: tuple) -> None:
    store, _, numbers, _ = moved
    old, new = f"{numbers['old']}/KH-UBND", f"{numbers['new']}/KH-UBND"
    answered_new = set()
    for name, query in named_queries().items():
        values = {**VALUES, "doc": new} if name == "responsible-today" else VALUES  # a plan's
        args = [part for p in query.parameters if p.name in values
                for part in ("--param", f"{p.name}={values[p.name]}")]
        if any(p.default is None and p.name not in VALUES for p in query.parameters):
            continue  # a parameter this test has no value for (an IRI)
        code, out, err = kgraph("query", name, *args,
                                "--format", "csv", "--store", str(store))
        assert code == 0, (name, err)
        assert old not in out, name
        if new in out:
            answered_new.add(name)
    # the kept answers among them (computed by the build, not by the query) see the new one
    assert {"implementers", "assignments", "directive-coverage"} <= answered_new
    code, out, _ = kgraph("query", "lineage", "--param", f"doc={old}", "--format", "csv",
                          "--store", str(store))
    assert code == 0 and out.strip().count("\n") == 0  # a header, no row
    code, out, _ = kgraph("audit", "--store", str(store))
    assert old not in out and new in out


def test_pages_search_and_explorer_forget_the_old_document(moved: tuple) -> None:
    from kgraph.web.app import create_app

    store, _, numbers, _ = moved
    (old_doc, _), (new_doc, _) = _iris(numbers["old"]), _iris(numbers["new"])
    old = f"{numbers['old']}/KH-UBND"
    client = TestClient(create_app(OxigraphRepository(store, read_only=True)))
    path = old_doc.split("/id/", 1)[1]
    assert client.get(f"/id/{path}").status_code == 404
    assert client.get(f"/id/{new_doc.split('/id/', 1)[1]}").status_code == 200
    assert old not in client.get("/").text
    assert old not in client.get("/", params={"q": numbers["old"]}).text
    assert old not in client.get("/audit").text
    hits = client.get("/api/search", params={"q": old}).json()
    assert all(hit["iri"] != old_doc for hit in hits)
    assert any(hit["iri"] == new_doc
               for hit in client.get("/api/search", params={"q": numbers["new"]}).json())
    directive = "https://w3id.org/kgraph/id/doc/vn/28-ct-tw/2023"
    down = client.get("/api/lineage", params={"iri": directive, "depth": 3}).text
    assert old_doc not in down and new_doc in down
    assert old_doc not in client.get("/api/facets").text


def test_a_graph_another_file_states_is_kept(tmp_path: Path) -> None:
    """The file moved, but another file of the same build states its old document now."""
    store, folder = tmp_path / "store", tmp_path / "src"
    folder.mkdir()
    plan = folder / MOVING
    text = (SOURCES / MOVING).read_text(encoding="utf-8")
    plan.write_text(text, encoding="utf-8")
    assert kgraph("build", str(plan), "--store", str(store))[0] == 0
    old, new = _number(text)
    plan.write_text(text.replace(old, new, 1), encoding="utf-8")
    (folder / ("copy-" + MOVING)).write_text(text, encoding="utf-8")
    code, _, err = kgraph("build", str(folder), "--store", str(store))
    assert code == 0 and "warning:" not in err, err
    names = set(OxigraphRepository(store, read_only=True).graph_names())
    assert {_iris(old)[1], _iris(new)[1]} <= names


def test_an_interrupted_build_leaves_the_version_before(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from kgraph.analysis import directive_index

    store, folder = tmp_path / "store", tmp_path / "src"
    folder.mkdir()
    for name in (MOVING, OTHER):
        shutil.copy(SOURCES / name, folder / name)
    assert kgraph("build", str(folder), "--store", str(store))[0] == 0
    repo = OxigraphRepository(store, read_only=True)
    before, version = set(repo.graph_names()), repo.version()
    del repo
    plan = folder / MOVING
    text = plan.read_text(encoding="utf-8")
    old, new = _number(text)
    plan.write_text(text.replace(old, new, 1), encoding="utf-8")

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(directive_index, "update", interrupted)
    assert kgraph("build", str(plan), "--store", str(store))[0] != 0
    repo = OxigraphRepository(store, read_only=True)
    assert set(repo.graph_names()) == before and repo.version() == version
    del repo
    monkeypatch.undo()  # the next build removes it
    gc.collect()  # the interrupted build's frames (a process of its own in real use)
    code, _, err = kgraph("build", str(plan), "--store", str(store))
    assert code == 0, err
    assert _iris(old)[1] not in OxigraphRepository(store, read_only=True).graph_names()


def test_the_directive_coverage_takes_the_removed_plan_out_of_its_kept_alignment(
        tmp_path: Path) -> None:
    """Continued from the kept state (not aligned again): the same provinces' plans as a
    fresh build answers (the clusters may differ: a continued alignment keeps the others'
    placements, :mod:`kgraph.analysis.directive_index`), the old plan in none."""
    from kgraph.build import build

    store, folder, fresh = tmp_path / "store", tmp_path / "src", tmp_path / "fresh"
    folder.mkdir()
    for name in (MOVING, OTHER):
        shutil.copy(SOURCES / name, folder / name)
    assert kgraph("build", str(folder), "--store", str(store))[0] == 0
    plan = folder / MOVING
    text = plan.read_text(encoding="utf-8")
    old, new = _number(text)
    plan.write_text(text.replace(old, new, 1), encoding="utf-8")
    report = build([plan], OxigraphRepository(store))
    gc.collect()  # the build's store closed before the next opens it
    assert report.removed == [_iris(old)[1]]
    assert report.continued == ["28-CT/TW"]
    assert kgraph("build", str(folder), "--store", str(fresh))[0] == 0
    answers = [{(row["province"], row["plan"]) for row in json.loads(kgraph(
        "query", "directive-coverage", "--param", "doc=28-CT/TW", "--format", "json",
        "--store", str(where))[1])} for where in (store, fresh)]
    assert answers[0] == answers[1]
    assert {plan for _, plan in answers[0]} == {f"{new}/KH-UBND", "50/KH-UBND"}


def test_a_deleted_source_is_noted_and_pruned_on_request(tmp_path: Path) -> None:
    """A file deleted from the folder: its graph stays (the store cannot tell it from a plan
    built from elsewhere) and the build says so; ``--prune`` removes it like a moved one."""
    store, folder = tmp_path / "store", tmp_path / "src"
    folder.mkdir()
    for name in (MOVING, OTHER):
        shutil.copy(SOURCES / name, folder / name)
    assert kgraph("build", str(folder), "--store", str(store))[0] == 0
    (folder / MOVING).unlink()
    graph = _iris(_number((SOURCES / MOVING).read_text(encoding="utf-8"))[0])[1]
    code, _, err = kgraph("build", str(folder), "--store", str(store))
    assert code == 0 and "note: 1 source(s)" in err and MOVING in err, err
    assert graph in OxigraphRepository(store, read_only=True).graph_names()
    code, _, err = kgraph("build", str(folder), "--store", str(store), "--prune")
    assert code == 0 and "removed: 1 source(s)" in err and "1 graph(s) removed" in err, err
    assert graph not in OxigraphRepository(store, read_only=True).graph_names()
    code, out, _ = kgraph("query", "implementers", "--param", "doc=28-CT/TW", "--format", "csv",
                          "--store", str(store))
    assert code == 0 and "/KH-UBND" in out and "Kiên Giang" not in out
    names = OxigraphRepository(store, read_only=True).graph_names()  # one plan left: as a
    assert not [g for g in names if "/directive-coverage/" in g]  # fresh build, no coverage
    code, out, _ = kgraph("query", "directive-coverage", "--param", "doc=28-CT/TW", "--format",
                          "csv", "--store", str(store))
    assert code == 0 and "Kiên Giang" not in out
    code, _, err = kgraph("build", str(folder), "--store", str(store))  # nothing left to say
    assert code == 0 and "note:" not in err, err
