"""The command line as a user runs it: build, query, eval, and bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgraph.cli import app
from kgraph.store.embedded import OxigraphRepository

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
SEED_004 = SOURCES / "004_d5d135182c80a159.txt"
runner = CliRunner()


def kgraph(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store")
    code, out, err = kgraph("build", str(SOURCES), "--store", str(store))
    assert code == 0, err
    assert "built 5 document graph(s)" in out
    return store


def store_size(store: Path) -> int:
    return len(OxigraphRepository(store, read_only=True))


def test_implementers_of_28_ct_tw(built_store: Path) -> None:
    code, out, err = kgraph("query", "implementers", "--param", "doc=28-CT/TW",
                            "--format", "json", "--store", str(built_store))
    assert code == 0, err
    rows = json.loads(out)
    numbers = {r["number"] for r in rows}
    assert numbers >= {"211-KH/TU", "234/KH-UBND", "50/KH-UBND", "273-KH/TU", "2509/KH-UBND",
                       "1183/QĐ-TTg"}
    by_number = {r["number"]: r for r in rows}
    assert by_number["2509/KH-UBND"]["province"] == "Gia Lai"
    assert by_number["2509/KH-UBND"]["chain"] == "2509/KH-UBND → 273-KH/TU → 28-CT/TW"
    assert by_number["234/KH-UBND"]["province"] == "Kiên Giang"
    assert by_number["50/KH-UBND"]["depth"] == "1"


def test_query_formats(built_store: Path) -> None:
    code, out, _ = kgraph("query", "assignments", "-p", "doc=2509/KH-UBND", "-f", "csv",
                          "--store", str(built_store))
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.startswith("plan_number,plan_province,no,agency")
    assert len(rows) >= 16
    code, out, _ = kgraph("query", "reporting", "--store", str(built_store))
    assert code == 0 and "row(s)" in out


def test_query_file_path(built_store: Path, tmp_path: Path) -> None:
    query = tmp_path / "count.rq"
    query.write_text("# title: count\nSELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }\n")
    code, out, _ = kgraph("query", str(query), "-f", "json", "--store", str(built_store))
    assert code == 0 and int(json.loads(out)[0]["n"]) > 1000


def test_query_csv_writes_each_kind_of_term_as_its_text(built_store: Path,
                                                        tmp_path: Path) -> None:
    """The CSV of ``kgraph query -f csv``, written from the rows as they are: an unbound value
    is an empty field, a tagged or typed literal and an IRI their text, and a value with a
    comma, a quote or a line break quoted as Excel reads it; a CONSTRUCT's triples likewise."""
    select = tmp_path / "terms.rq"
    select.write_text('# title: terms\nSELECT ?text ?n ?day ?iri ?none WHERE { VALUES '
                      '(?text ?n ?day ?iri ?none) { ("Sở Y tế, \\"Gia Lai\\"\\nxã"@vi 12 '
                      '"2026-01-01"^^<http://www.w3.org/2001/XMLSchema#date> <http://e/x> '
                      'UNDEF) (UNDEF 3.5 "" <http://e/y> UNDEF) } }\n', encoding="utf-8")
    code, out, err = kgraph("query", str(select), "-f", "csv", "--store", str(built_store))
    assert code == 0, err
    assert out == ('text,n,day,iri,none\n"Sở Y tế, ""Gia Lai""\nxã",12,2026-01-01,http://e/x,\n'
                   ',3.5,,http://e/y,\n')
    graph = tmp_path / "triples.rq"
    graph.write_text('CONSTRUCT { <http://e/s> <http://e/p> "a,b"@en } WHERE {}\n')
    code, out, err = kgraph("query", str(graph), "-f", "csv", "--store", str(built_store))
    assert code == 0, err
    assert out == 'subject,predicate,object\nhttp://e/s,http://e/p,"a,b"\n'


def test_rebuild_is_idempotent(built_store: Path) -> None:
    before = store_size(built_store)
    code, _, err = kgraph("build", str(SOURCES), "--store", str(built_store))
    assert code == 0, err
    assert store_size(built_store) == before


def test_changed_document_replaces_exactly_its_graph(tmp_path: Path) -> None:
    store = tmp_path / "store"
    folder = tmp_path / "src"
    shutil.copytree(SOURCES, folder)
    assert kgraph("build", str(folder), "--store", str(store))[0] == 0
    repo = OxigraphRepository(store)
    graphs = repo.graph_names()
    # Every other graph keeps its size: other documents', their coverage, and the directive
    # coverage of other provinces (the changed plan's province's is rewritten: the plan is
    # placed again in the kept alignment, as in a re-build of the whole folder).
    others = {g: _graph_size(repo, g) for g in graphs
              if "2509" not in g and not g.endswith("/province/gia-lai")}
    assert any("/directive-coverage/" in g and "/province/" in g for g in others)
    del repo
    changed = folder / SEED_004.name
    changed.write_text(changed.read_text(encoding="utf-8").replace(
        "16. Ủy ban nhân dân các huyện", "16. Ủy ban nhân dân các huyện (sửa)"), encoding="utf-8")
    assert kgraph("build", str(changed), "--store", str(store))[0] == 0
    repo = OxigraphRepository(store)
    added = set(repo.graph_names()) - set(graphs)  # the replaced version, kept
    assert [g.split("/id/graph/")[1] for g in added] == ["revisions/gia-lai/2509-kh-ubnd/2024"]
    assert set(graphs) <= set(repo.graph_names())
    assert {g: _graph_size(repo, g) for g in others} == others


def test_a_file_stating_another_document_replaces_what_it_stated(tmp_path: Path) -> None:
    """A file whose number was corrected now states another document: its new graph goes in,
    the graph the file stated before goes out, and the build says so (tests/
    test_moved_documents.py follows it through every index)."""
    store, folder = tmp_path / "store", tmp_path / "src"
    folder.mkdir()
    plan = folder / SEED_004.name
    plan.write_text(SEED_004.read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = kgraph("build", str(plan), "--store", str(store))
    assert code == 0 and "warning:" not in err, err
    before = set(OxigraphRepository(store, read_only=True).graph_names())
    text = plan.read_text(encoding="utf-8")
    number = text.splitlines()[0].split(":", 1)[1].strip()  # "Số: N/KH-UBND"
    corrected = str(int(number.split("/")[0]) + 1) + "/" + number.split("/", 1)[1]
    plan.write_text(text.replace(number, corrected, 1), encoding="utf-8")
    code, _, err = kgraph("build", str(plan), "--store", str(store))
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    old = [g for g in before if g.endswith(number.split("/")[0] + "-kh-ubnd/2024")
           and "/coverage/" not in g]  # the plan's graph, not its coverage's
    assert len(old) == 1 and len(warnings) == 1, err
    assert corrected in warnings[0] and f"<{old[0]}>" in warnings[0]
    after = set(OxigraphRepository(store, read_only=True).graph_names())
    assert old[0] not in after and any(g.endswith(corrected.split("/")[0] + "-kh-ubnd/2024")
                                   for g in after - before)
    code, _, err = kgraph("build", str(plan), "--store", str(store))  # nothing new to say
    assert code == 0 and "warning:" not in err, err


def test_a_document_another_file_now_states_is_not_reported_as_left(tmp_path: Path) -> None:
    """Its number moved to another file in the same build: the graph is that file's now."""
    store, folder = tmp_path / "store", tmp_path / "src"
    folder.mkdir()
    plan = folder / SEED_004.name
    text = SEED_004.read_text(encoding="utf-8")
    plan.write_text(text, encoding="utf-8")
    assert kgraph("build", str(plan), "--store", str(store))[0] == 0
    number = text.splitlines()[0].split(":", 1)[1].strip()
    corrected = str(int(number.split("/")[0]) + 1) + "/" + number.split("/", 1)[1]
    plan.write_text(text.replace(number, corrected, 1), encoding="utf-8")
    (folder / ("copy-" + SEED_004.name)).write_text(text, encoding="utf-8")
    code, _, err = kgraph("build", str(folder), "--store", str(store))
    assert code == 0 and "warning:" not in err, err


def _graph_size(repo: OxigraphRepository, graph: str) -> int:
    rows = repo.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").rows
    return int(rows[0][0])


def test_ttl_out_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        code, _, err = kgraph("build", str(SOURCES), "--store", str(tmp_path / "s"),
                              "--ttl-out", str(out))
        assert code == 0, err
    names = sorted(p.name for p in first.iterdir())
    assert len(names) == 5
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)


def test_committed_ttl_matches_a_fresh_build(tmp_path: Path) -> None:
    """data/ttl is what `kgraph build` writes for data/sources (regenerate it if this fails)."""
    out = tmp_path / "ttl"
    store = str(tmp_path / "s")
    code, _, _ = kgraph("build", str(SOURCES), "--store", store, "--ttl-out", str(out))
    assert code == 0
    committed = {p.name: p.read_bytes() for p in (ROOT / "data" / "ttl").glob("*.trig")}
    fresh = {p.name: p.read_bytes() for p in out.glob("*.trig")}
    assert committed == fresh


BAD_INPUTS = {
    "empty.txt": b"",
    "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20,
    # Windows' Vietnamese code page, as old word processors saved plans
    "cp1258.txt": "Sô: 12/KH-UBND\nKÊ HOACH\nThu\u0323c hiê\u0323n\n".encode("cp1258"),
    "no-number.txt": "KẾ HOẠCH\nThực hiện Chỉ thị\nI. MỤC ĐÍCH\n1. Mục đích\n- Làm\n".encode(),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_line_and_store_is_untouched(
    name: str, built_store: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SEED_004, folder / SEED_004.name)
    (folder / name).write_bytes(BAD_INPUTS[name])
    before = store_size(built_store)
    code, _, err = kgraph("build", str(folder), "--store", str(built_store))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and name in lines[0], err
    assert store_size(built_store) == before


def test_unknown_query_and_bad_sparql_are_clear(built_store: Path, tmp_path: Path) -> None:
    code, _, err = kgraph("query", "nope", "--store", str(built_store))
    assert code == 2 and "no named query 'nope'" in err
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?x WHERE { ?x ")
    code, _, err = kgraph("query", str(bad), "--store", str(built_store))
    assert code == 2 and err.startswith("error: bad:")


def test_eval_prints_scores() -> None:
    code, out, err = kgraph("eval", "--gold", str(ROOT / "tests/fixtures/gold_seeds.json"),
                            "--sources", str(SOURCES))
    assert code == 0, err
    assert "234/KH-UBND" in out or "000_580420fd51b73a01" in out


def test_console_script_runs() -> None:
    exe = Path(sys.executable).parent / "kgraph"
    result = subprocess.run([str(exe), "queries"], capture_output=True, text=True, check=True)
    assert "implementers" in result.stdout and "--param doc" in result.stdout
