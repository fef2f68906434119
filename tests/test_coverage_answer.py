"""The directive-coverage answer the build keeps (kgraph.analysis.coverage_answer), served by
``/api/queries/directive-coverage``: the same rows in the same order as the query, through HTTP,
page by page and as CSV; a changed plan rewrites its province's rows only; a version the build
did not write (``kgraph coverage``) is answered by the query."""

from __future__ import annotations

import csv
import io
import json
import pickle
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kgraph.analysis import coverage_answer
from kgraph.analysis.queries import named_queries
from kgraph.build import build
from kgraph.cli import app as cli_app
from kgraph.store.embedded import OxigraphRepository
from kgraph.web import queries_api
from kgraph.web.app import create_app
from kgraph.web.queries_api import cell

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
CHANGED_PLAN = "004_d5d135182c80a159.txt"  # 2509/KH-UBND, Gia Lai
runner = CliRunner()


def kgraph(*args: str) -> None:
    result = runner.invoke(cli_app, list(args))
    assert result.exit_code == 0, result.output


def lead_as_set(row: dict[str, object]) -> dict[str, object]:
    """GROUP_CONCAT leaves the order of a cell's lead bodies to the engine; the kept answer
    lists them by name: compared as sets."""
    lead = row.get("lead")
    if isinstance(lead, dict):
        lead = {**lead, "value": sorted(lead["value"].split("; ")),
                "text": sorted(lead["text"].split("; "))}
    return {**row, "lead": lead}


def query_rows(repo: OxigraphRepository, values: dict[str, str]) -> list[dict[str, object]]:
    """The query's answer as the route shows it, run by the engine directly."""
    query = named_queries()["directive-coverage"]
    given = {k: v for k, v in values.items() if k != "lang"}
    result = queries_api.run_named(repo, query, given)
    lang = values.get("lang", "vi")
    return [lead_as_set({v: cell(t, lang) for v, t in zip(result.variables, row, strict=True)})
            for row in result.rows]


def route_rows(client: TestClient, values: dict[str, str], limit: int = 7
               ) -> list[dict[str, object]]:
    """Every page of the route's JSON answer, ``limit`` rows a page, following ``next``."""
    rows: list[dict[str, object]] = []
    url = "/api/queries/directive-coverage"
    params: dict[str, object] | None = {**values, "limit": limit}
    while url:
        page = client.get(url, params=params).json()
        assert page["count"] <= limit
        rows.extend(lead_as_set(r) for r in page["rows"])
        url, params = page["next"], None
        assert page["total"] >= len(rows)
    return rows


def csv_rows(client: TestClient, values: dict[str, str]) -> list[list[str]]:
    text = client.get("/api/queries/directive-coverage",
                      params={**values, "format": "csv"}).content.decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(text))
    lead = header.index("lead")
    return [header, *([*r[:lead], "; ".join(sorted(r[lead].split("; "))), *r[lead + 1:]]
                      for r in rows)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("answer") / "sources"
    shutil.copytree(SOURCES, folder)
    store = folder.parent / "store"
    kgraph("build", str(folder), "--store", str(store))
    return folder, store


def served_without_the_query(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the query ran: the kept answer was not used")

    monkeypatch.setattr(queries_api, "run_named", refused)


ASKED = [{"doc": "28-CT/TW"}, {"doc": "28-ct-tw", "province": "Gia Lai"},
         {"doc": "28-CT/TW", "province": "kien giang"}, {"doc": "28-CT/TW", "province": "Nowhere"},
         {"doc": "99-CT/TW"}, {"doc": "28-CT/TW", "lang": "en"}]


def test_the_kept_answer_is_the_query_s_rows_in_its_order(
        built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, store = built
    repo = OxigraphRepository(store, read_only=True)
    expected = {i: query_rows(repo, values) for i, values in enumerate(ASKED)}
    assert len(expected[0]) > 50 and {r["status"]["value"] for r in expected[0]} >= {
        "assigned", "dropped"}  # the seeds' matrix: restatements and dropped cells
    assert 0 < len(expected[1]) < len(expected[0]) and not expected[3] and not expected[4]
    assert {r["reconstructed"]["text"] for r in expected[5]} == {"yes"}  # words of the page
    with TestClient(create_app(repo)) as client:
        queried_csv = csv_rows(client, ASKED[0])  # (before run_named is refused below)
    queries_api.ANSWERS.kept.clear()
    queries_api.CSV_BODIES.kept.clear()
    served_without_the_query(monkeypatch)
    with TestClient(create_app(OxigraphRepository(store, read_only=True))) as client:
        for i, values in enumerate(ASKED):
            assert route_rows(client, values) == expected[i], values
        assert csv_rows(client, ASKED[0]) == queried_csv
        first = client.get("/api/queries/directive-coverage",
                           params={"doc": "28-CT/TW", "limit": 5}).json()
        assert first["total"] == len(expected[0]) and first["count"] == 5
        assert first["next"].endswith("offset=5&limit=5") and first["previous"] is None


def change_and_build(folder: Path, store: Path, old: str, new: str) -> OxigraphRepository:
    changed = folder / CHANGED_PLAN
    changed.write_text(changed.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    kgraph("build", str(changed), "--store", str(store))
    return OxigraphRepository(store, read_only=True)


def served_as_queried(repo: OxigraphRepository, monkeypatch: pytest.MonkeyPatch,
                      expected_text: str) -> None:
    expected = [query_rows(repo, values) for values in ASKED[:3]]
    assert any(expected_text in (r["itemText"] or {}).get("value", "") for r in expected[0])
    queries_api.ANSWERS.kept.clear()
    queries_api.CSV_BODIES.kept.clear()
    with monkeypatch.context() as patched:
        served_without_the_query(patched)
        with TestClient(create_app(repo)) as client:
            for values, rows in zip(ASKED, expected, strict=False):
                assert route_rows(client, values, limit=1000) == rows


def test_a_changed_plan_rewrites_its_province_s_rows_and_the_rest_are_kept(
        built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, store = built
    # The plan placed again in the kept alignment: here it moves tasks, and the outline is
    # numbered again, so every province's rows are rewritten, as their graphs are.
    repo = change_and_build(folder, store, "hình thức đa dạng, phong phú.",
                            "hình thức đa dạng, phong phú (sửa).")
    served_as_queried(repo, monkeypatch, "(sửa)")
    before = coverage_answer.previous(repo)
    assert before is not None and len(before.directives) == 1
    (directive, old), = before.directives.items()
    # Changed again: placed where it was, the outline keeps its numbers, and only the plan's
    # province's graph and rows are rewritten.
    repo = change_and_build(folder, store, "(sửa)", "(sửa lần hai)")
    after = coverage_answer.previous(repo)
    assert after is not None
    new = after.directives[directive]
    assert set(new.parts) == set(old.parts)
    assert new.parts["gia-lai"] != old.parts["gia-lai"]  # rewritten with its graph
    assert {s: p for s, p in new.parts.items() if s != "gia-lai"} == {
        s: p for s, p in old.parts.items() if s != "gia-lai"}  # kept as they were
    assert after.retired == {old.parts["gia-lai"]}  # removed by the next build
    served_as_queried(repo, monkeypatch, "(sửa lần hai)")


def test_a_version_the_build_did_not_write_is_answered_by_the_query(
        built: tuple[Path, Path]) -> None:
    _, store = built
    kgraph("coverage", "--doc", "28-CT/TW", "--store", str(store))  # a new version, no answer
    repo = OxigraphRepository(store, read_only=True)
    assert coverage_answer.previous(repo) is None
    with TestClient(create_app(repo)) as client:
        assert route_rows(client, ASKED[0], limit=1000) == query_rows(repo, ASKED[0])


def test_a_store_in_memory_keeps_its_answer_too() -> None:
    # Its own store: in memory one version per name is kept, so another store built in this
    # process since (the session's seed store is shared) would have taken its place.
    seed_repo = OxigraphRepository()
    build([SOURCES], seed_repo)
    kept = coverage_answer.previous(seed_repo)
    assert kept is not None and kept.directives
    answer = queries_api.kept_rows(seed_repo, "directive-coverage", {"doc": "28-CT/TW"})
    assert answer is not None
    with TestClient(create_app(seed_repo)) as client:
        assert route_rows(client, ASKED[0], limit=1000) == query_rows(seed_repo, ASKED[0])


def cli_csv(store: Path, *params: str) -> list[list[str]]:
    """``kgraph query directive-coverage -f csv`` as a user runs it, lead bodies as sets."""
    args = ["query", "directive-coverage", "--store", str(store), "-f", "csv"]
    result = runner.invoke(cli_app, [*args, *(a for p in params for a in ("-p", p))])
    assert result.exit_code == 0, result.output
    header, *rows = csv.reader(io.StringIO(result.stdout))
    lead = header.index("lead")
    return [header, *([*r[:lead], "; ".join(sorted(r[lead].split("; "))), *r[lead + 1:]]
                      for r in rows)]


def test_the_command_line_answers_from_the_kept_rows_as_the_query_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kgraph.analysis import queries

    store = tmp_path / "store"  # its own: the module's store gets a version with no answer
    kgraph("build", str(SOURCES), "--store", str(store))
    asked = [("doc=28-CT/TW",), ("doc=28-ct-tw", "province=Gia Lai"), ("doc=99-CT/TW",)]
    queried = [cli_csv(store, *params) for params in asked]
    assert len(queried[0]) > 50 and 1 < len(queried[1]) < len(queried[0])
    assert len(queried[2]) == 1  # an unknown directive: the header only
    with monkeypatch.context() as patched:
        def refused(*args: object, **kwargs: object) -> None:
            raise AssertionError("the query ran: the kept answer was not used")

        patched.setattr(queries, "run_named", refused)
        assert [cli_csv(store, *params) for params in asked] == queried
        result = runner.invoke(cli_app, ["query", "directive-coverage", "--store", str(store),
                                         "-p", "doc=28-CT/TW", "-f", "json"])
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.stdout)) == len(queried[0]) - 1
    missing = runner.invoke(cli_app, ["query", "directive-coverage", "--store", str(store)])
    assert missing.exit_code == 2 and "missing parameter doc" in missing.output
    kgraph("coverage", "--doc", "28-CT/TW", "--store", str(store))  # a version with no answer
    assert cli_csv(store, *asked[0]) == queried[0]  # answered by the query


def test_keep_reads_a_version_s_answer_from_its_coverage_graphs_as_the_build_keeps_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kgraph keep`` on a version whose coverage graphs no build kept an answer for (written by
    ``kgraph coverage``; on a server, its bulk loader): each directive's rows read from the
    graphs and kept, the parts the build itself keeps, row for row, in every province; served
    without the query; run again, nothing is read."""
    from kgraph.analysis import queries
    from kgraph.store.derived import forget

    store = tmp_path / "store"
    kgraph("build", str(SOURCES), "--store", str(store))
    repo = OxigraphRepository(store, read_only=True)
    built = coverage_answer.previous(repo)
    assert built is not None
    (iri, by_build), = built.directives.items()
    queried = [cli_csv(store, *params) for params in (("doc=28-CT/TW",),
                                                      ("doc=28-CT/TW", "province=Gia Lai"))]
    kgraph("coverage", "--doc", "28-CT/TW", "--store", str(store))  # a version with no answer
    repo = OxigraphRepository(store, read_only=True)
    assert coverage_answer.previous(repo) is None
    result = runner.invoke(cli_app, ["keep", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "kept the directive coverage of 1 directives" in result.output
    forget(repo)  # another process: what is kept on disk only
    kept = coverage_answer.previous(OxigraphRepository(store, read_only=True))
    assert kept is not None and set(kept.directives) == {iri}
    by_keep = kept.directives[iri]
    assert by_keep.tasks == by_build.tasks
    assert set(by_keep.parts) == set(by_build.parts) and len(by_build.parts) > 1
    assert by_build.plans <= by_keep.plans  # every plan carrying it out (and the documents
    # between): a later build whose documents meet none of them carries the entry over
    from kgraph.store.derived import document_value

    for slug, key in by_build.parts.items():
        made, found = (document_value(store, k) for k in (key, by_keep.parts[slug]))
        assert isinstance(made, coverage_answer.PackedPart), slug
        assert isinstance(found, coverage_answer.PackedPart), slug
        assert found.province == made.province
        assert {t: pickle.loads(rows) for t, (_, rows) in found.tasks.items()} == {
            t: pickle.loads(rows) for t, (_, rows) in made.tasks.items()}, slug
    with monkeypatch.context() as patched:
        def refused(*args: object, **kwargs: object) -> None:
            raise AssertionError("the query ran: the kept answer was not used")

        patched.setattr(queries, "run_named", refused)
        assert [cli_csv(store, *params) for params in (
            ("doc=28-CT/TW",), ("doc=28-CT/TW", "province=Gia Lai"))] == queried
    again = runner.invoke(cli_app, ["keep", "--store", str(store)])
    assert again.exit_code == 0, again.output
    assert "directive coverage: kept already" in again.output
    assert "facts: kept already" in again.output
