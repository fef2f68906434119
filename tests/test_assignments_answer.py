"""The ``assignments`` answer from the facts the build keeps (kgraph.analysis.assignments_answer),
at the command line and through ``/api/queries/assignments``: the query's CSV and JSON, row for
row, with the query refused; a changed plan's facts read again by its build; a version the build
kept no facts for answered by the query."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kgraph.analysis import assignments_answer, kept_answers, queries
from kgraph.analysis.queries import named_queries, to_csv
from kgraph.cli import app as cli_app
from kgraph.store.embedded import OxigraphRepository
from kgraph.web import queries_api
from kgraph.web.app import create_app
from kgraph.web.queries_api import cell

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
CHANGED_PLAN = "004_d5d135182c80a159.txt"  # a provincial plan with a dozen assignments
UNNAMED = "6. Phòng Quản lý chuyên ngành:"
runner = CliRunner()
QUERY = named_queries()["assignments"]


def kgraph(*args: str) -> str:
    result = runner.invoke(cli_app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def numbers(repo: OxigraphRepository) -> list[str]:
    """Every document number the store knows (those carried out by others among them)."""
    rows = repo.query("""PREFIX eli: <http://data.europa.eu/eli/ontology#>
        PREFIX kg: <https://w3id.org/kgraph/def#>
        SELECT DISTINCT ?n WHERE { ?d kg:numberKey ?k ; eli:id_local ?n }""").rows
    return sorted({str(row[0]) for row in rows})


def queried_csv(repo: OxigraphRepository, doc: str) -> str:
    """The query's CSV, run by the engine (the Oxigraph text, as the command line runs it)."""
    return to_csv(queries.run_named(QUERY, repo, {"doc": doc}))


def cli_csv(store: Path, doc: str) -> str:
    return kgraph("query", "assignments", "-p", f"doc={doc}", "--store", str(store), "-f", "csv")


def refuse_the_query(patched: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the query ran: the kept answer was not used")

    patched.setattr(queries, "run_named", refused)
    patched.setattr(queries_api, "run_named", refused)


def query_rows(repo: OxigraphRepository, doc: str, lang: str) -> list[dict[str, object]]:
    result = queries_api.run_named(repo, QUERY, {"doc": doc})
    return [{v: cell(t, lang) for v, t in zip(result.variables, row, strict=True)}
            for row in result.rows]


def route_rows(client: TestClient, doc: str, lang: str, limit: int = 9
               ) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    url = "/api/queries/assignments"
    params: dict[str, object] | None = {"doc": doc, "lang": lang, "limit": limit}
    while url:
        page = client.get(url, params=params).json()
        assert page["count"] <= limit
        rows.extend(page["rows"])
        url, params = page["next"], None
    return rows


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("assignments") / "sources"
    shutil.copytree(SOURCES, folder)
    plan = folder / CHANGED_PLAN  # one body no reference entry names (shown "? its words")
    plan.write_text(plan.read_text(encoding="utf-8").replace(
        "6. Sở Tư pháp:", UNNAMED), encoding="utf-8")
    store = folder.parent / "store"
    kgraph("build", str(folder), "--store", str(store))
    return folder, store


def test_the_command_line_prints_the_query_s_csv_from_the_kept_facts(
        built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, store = built
    repo = OxigraphRepository(store, read_only=True)
    docs = numbers(repo)
    expected = {doc: queried_csv(repo, doc) for doc in [*docs, "99-CT/TW"]}
    sizes = sorted(text.count("\n") - 1 for text in expected.values())
    assert sizes[0] == 0 and sizes[-1] > 20 and len(set(sizes)) > 3  # none, few, many rows
    assert ",? " in expected["28-CT/TW"]  # a body no reference entry names: "? its words"
    assert assignments_answer.previous(repo) is not None
    with monkeypatch.context() as patched:
        refuse_the_query(patched)
        for doc, text in expected.items():
            assert cli_csv(store, doc) == text, doc
        assert cli_csv(store, "28-ct-tw") == expected["28-CT/TW"]  # typed as its key
    missing = runner.invoke(cli_app, ["query", "assignments", "--store", str(store)])
    assert missing.exit_code == 2 and "missing parameter doc" in missing.output


def test_the_route_pages_the_query_s_json_and_csv_from_the_kept_facts(
        built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, store = built
    repo = OxigraphRepository(store, read_only=True)
    expected = {(doc, lang): query_rows(repo, doc, lang)
                for doc in ("28-CT/TW", "2509/KH-UBND") for lang in ("vi", "en")}
    agencies = [r["agency"] for r in expected["28-CT/TW", "vi"]]
    assert any(a and "lang" in a for a in agencies) and any(
        a and "lang" not in a for a in agencies)  # names (@vi) and "? words" (strings)
    csv_expected = queried_csv(repo, "28-CT/TW")
    queries_api.ANSWERS.kept.clear()
    with monkeypatch.context() as patched:
        refuse_the_query(patched)
        with TestClient(create_app(OxigraphRepository(store, read_only=True))) as client:
            for (doc, lang), rows in expected.items():
                assert route_rows(client, doc, lang) == rows, (doc, lang)
            text = client.get("/api/queries/assignments",
                              params={"doc": "28-CT/TW", "format": "csv"}).content
            header, *rows = csv.reader(io.StringIO(text.decode("utf-8-sig")))
            assert [header, *rows] == list(csv.reader(io.StringIO(csv_expected)))


def change_and_build(folder: Path, store: Path, old: str, new: str) -> OxigraphRepository:
    changed = folder / CHANGED_PLAN
    text = changed.read_text(encoding="utf-8")
    assert old in text
    changed.write_text(text.replace(old, new), encoding="utf-8")
    kgraph("build", str(changed), "--store", str(store))
    return OxigraphRepository(store, read_only=True)


def test_a_changed_plan_s_facts_are_read_again_and_the_others_kept(
        built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, store = built
    before = assignments_answer.previous(OxigraphRepository(store, read_only=True))
    assert before is not None
    repo = change_and_build(folder, store, UNNAMED, "6. Sở Ngoại vụ:")
    after = assignments_answer.previous(repo)
    assert after is not None and after.plans == before.plans
    changed = {name for name in after.parts if after.parts[name] != before.parts.get(name)}
    assert changed == {"gia-lai"}  # the plan's scope only: the other parts are kept
    assert after.retired == {before.parts["gia-lai"]}  # removed by the next build
    expected = {doc: queried_csv(repo, doc) for doc in ("28-CT/TW", "2509/KH-UBND")}
    assert "Sở Ngoại vụ" in expected["28-CT/TW"]
    assert "Phòng Quản lý chuyên ngành" not in expected["2509/KH-UBND"]
    with monkeypatch.context() as patched:
        refuse_the_query(patched)
        for doc, text in expected.items():
            assert cli_csv(store, doc) == text, doc


def test_a_version_the_build_kept_no_facts_for_is_answered_by_the_query(
        built: tuple[Path, Path]) -> None:
    _, store = built
    kgraph("coverage", "--doc", "28-CT/TW", "--store", str(store))  # a new version, no facts
    repo = OxigraphRepository(store, read_only=True)
    assert assignments_answer.previous(repo) is None
    assert kept_answers.kept_answer(repo, "assignments", {"doc": "28-CT/TW"}) is None
    assert cli_csv(store, "28-CT/TW") == queried_csv(repo, "28-CT/TW")
    # The next build finds no facts to continue: it reads every graph's.
    folder = store.parent / "sources"
    repo = change_and_build(folder, store, "6. Sở ", "6. Sở  ")
    assert assignments_answer.previous(repo) is not None
    assert cli_csv(store, "28-CT/TW") == queried_csv(repo, "28-CT/TW")


def test_a_store_in_memory_keeps_its_facts_too() -> None:
    from kgraph.build import build
    from kgraph.cli import kept_result

    repo = OxigraphRepository()
    build([SOURCES], repo)
    kept = kept_result(repo, "assignments", {"doc": "28-CT/TW"})
    assert kept is not None and len(kept.rows) > 20
    assert to_csv(kept) == queried_csv(repo, "28-CT/TW")
