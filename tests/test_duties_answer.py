"""The ``reporting`` answer and every plan's deadlines from the facts the build keeps
(kgraph.analysis.duties_answer), at the command line and through ``/api/queries/NAME`` and
``/api/deadlines``: the query's CSV and JSON, row for row, with the query refused; a changed
plan's facts read again by its build; a version the build kept no facts for answered by the
query."""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kgraph.analysis import duties_answer, kept_answers, queries, succession
from kgraph.analysis.queries import named_queries, to_csv
from kgraph.store import derived
from kgraph.store.embedded import OxigraphRepository, query_records
from kgraph.web import queries_api
from kgraph.web.app import create_app
from kgraph.web.queries_api import cell
from test_assignments_answer import change_and_build, kgraph, refuse_the_query

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
DUE, CHANGED_DUE = "trước ngày 15/12", "trước ngày 20/11"  # CHANGED_PLAN's yearly report
DATES = ("2025-12-01", "2026-01-01", "2026-11-25")
REPORTING = named_queries()["reporting"]
DEADLINES = named_queries()["deadlines"]


def queried_reporting(repo: OxigraphRepository, doc: str = "") -> str:
    """The query's CSV, run by the engine (the Oxigraph text, as the command line runs it)."""
    return to_csv(queries.run_named(REPORTING, repo, {"doc": doc}))


def queried_deadlines(repo: OxigraphRepository, date: str) -> str:
    """Every plan's deadlines on the date from the query's records (no kept facts read)."""
    records = query_records(repo, succession.PREFIXES + succession._EVERY_DEADLINE)
    rows = succession._deadline_rows(records, succession.parse_date(date),
                                     succession.DUE_WINDOW_DAYS)
    return to_csv(succession.as_query_result(rows, succession.DEADLINE_COLUMNS))


def cli_reporting(store: Path, doc: str = "") -> str:
    return kgraph("query", "reporting", *(["-p", f"doc={doc}"] if doc else []),
                  "--store", str(store), "-f", "csv")


def cli_deadlines(store: Path, date: str) -> str:
    return kgraph("query", "deadlines", "-p", f"date={date}", "--store", str(store), "-f", "csv")


def refuse_the_queries(patched: pytest.MonkeyPatch) -> None:
    refuse_the_query(patched)
    patched.setattr(succession, "query_records", succession_refused)  # every plan's dated parts


def succession_refused(*args: object, **kwargs: object) -> None:
    raise AssertionError("the query ran: the kept facts were not used")


def forget_kept_answers() -> None:
    """Nothing made from the kept facts held in this process or on disk (a fresh process)."""
    queries_api.ANSWERS.kept.clear()
    queries_api.CSV_BODIES.kept.clear()
    succession._EVERY_ROWS.clear()
    derived._memory.clear()


def documents(repo: OxigraphRepository) -> list[str]:
    rows = repo.query("""PREFIX eli: <http://data.europa.eu/eli/ontology#>
        PREFIX kg: <https://w3id.org/kgraph/def#>
        SELECT DISTINCT ?n WHERE { ?d kg:numberKey ?k ; eli:id_local ?n }""").rows
    return sorted({str(row[0]) for row in rows})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("duties") / "sources"
    shutil.copytree(SOURCES, folder)
    store = folder.parent / "store"
    kgraph("build", str(folder), "--store", str(store))
    return folder, store


def test_the_command_line_prints_the_query_s_csv_from_the_kept_facts(
        built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, store = built
    repo = OxigraphRepository(store, read_only=True)
    docs = documents(repo)
    reporting = {doc: queried_reporting(repo, doc) for doc in ["", *docs, "99-CT/TW"]}
    sizes = sorted(text.count("\n") - 1 for text in reporting.values())
    assert sizes[0] == 0 and sizes[-1] > 5 and len(set(sizes)) > 2  # none, few, many rows
    assert ",Hằng năm,--12-15," in reporting[""]  # a yearly report, due on its day
    deadlines = {date: queried_deadlines(repo, date) for date in DATES}
    assert len({text for text in deadlines.values()}) == len(DATES)  # each date its buckets
    assert duties_answer.previous(repo) is not None
    forget_kept_answers()
    with monkeypatch.context() as patched:
        refuse_the_queries(patched)
        for doc, text in reporting.items():
            assert cli_reporting(store, doc) == text, doc
        for date, text in deadlines.items():
            assert cli_deadlines(store, date) == text, date
            assert cli_deadlines(store, date) == text, date  # again: what the first one kept


def test_the_routes_give_the_query_s_json_and_csv_from_the_kept_facts(
        built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, store = built
    repo = OxigraphRepository(store, read_only=True)
    expected = {}
    for name, values in (("reporting", {}), ("reporting", {"doc": "2509/KH-UBND"}),
                         ("deadlines", {"date": DATES[1]})):
        result = queries_api.run_named(repo, named_queries()[name], values)
        expected[name, tuple(values.items())] = (
            [{v: cell(t, "vi") for v, t in zip(result.variables, row, strict=True)}
             for row in result.rows], to_csv(result))
    every = succession.deadlines(repo, None, DATES[1])
    forget_kept_answers()
    with monkeypatch.context() as patched:
        refuse_the_queries(patched)
        with TestClient(create_app(OxigraphRepository(store, read_only=True))) as client:
            for (name, values), (rows, text) in expected.items():
                url = f"/api/queries/{name}"
                params: dict[str, object] | None = {**dict(values), "limit": 4}
                found: list[object] = []
                while url:
                    page = client.get(url, params=params).json()
                    found.extend(page["rows"])
                    url, params = page["next"], None
                assert found == rows, name
                got = client.get(f"/api/queries/{name}", params={**dict(values), "format": "csv"})
                assert list(csv.reader(io.StringIO(got.content.decode("utf-8-sig")))) == list(
                    csv.reader(io.StringIO(text))), name
            for _ in range(2):  # the second from the rows kept for the version and the date
                page = client.get("/api/deadlines", params={"date": DATES[1]}).json()
                assert page["rows"] == every and page["total"] == len(every)
            assert client.get("/api/queries/deadlines", params={"date": "soon"}).status_code == 400


def test_a_changed_plan_s_facts_are_read_again_and_the_others_kept(
        built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, store = built
    before = duties_answer.previous(OxigraphRepository(store, read_only=True))
    assert before is not None
    repo = change_and_build(folder, store, DUE, CHANGED_DUE)
    after = duties_answer.previous(repo)
    assert after is not None and after.plans == before.plans
    changed = {name for name in after.parts if after.parts[name] != before.parts.get(name)}
    assert changed == {"gia-lai"}  # the plan's scope only: the other parts are kept
    reporting = queried_reporting(repo)
    assert ",--11-20," in reporting and ",--12-15," not in reporting
    deadlines = {date: queried_deadlines(repo, date) for date in DATES}
    forget_kept_answers()
    with monkeypatch.context() as patched:
        made = the_command_line_prints(patched, store, reporting, deadlines)
    # both every-plan answers made from the version before's (kept by the tests above), the
    # changed plan's rows made again
    assert {name for name, plans in made} == {duties_answer.EVERY_PLAN, duties_answer.EVERY_DATED}
    assert all(len(plans) == 1 for _, plans in made)


def the_command_line_prints(patched: pytest.MonkeyPatch, store: Path, reporting: str,
                            deadlines: dict[str, str]) -> list[tuple[str, set[str]]]:
    """Assert the command line prints these answers, the queries refused; the answers made
    from the version before's (:func:`spy_patches`)."""
    refuse_the_queries(patched)
    made = spy_patches(patched)
    assert cli_reporting(store) == reporting
    for date, text in deadlines.items():
        assert cli_deadlines(store, date) == text, date
    return made


def spy_patches(patched: pytest.MonkeyPatch) -> list[tuple[str, set[str]]]:
    """Each every-plan answer made from the version before's, with the plans made again (an
    answer made whole is not listed)."""
    made: list[tuple[str, set[str]]] = []
    patch = duties_answer._patched

    def spied(repo: OxigraphRepository, kept: object, name: str) -> object:
        found = patch(repo, kept, name)  # type: ignore[arg-type]
        if found is not None:
            made.append((name, set(found[2])))
        return found

    patched.setattr(duties_answer, "_patched", spied)
    return made


def forget_kept_files(store: Path) -> None:
    """The current version's answers for every plan, gone from disk too (as its build left it;
    the version before keeps its own)."""
    folders = derived.version_folders(OxigraphRepository(store, read_only=True))
    assert folders is not None
    for name in (duties_answer.EVERY_PLAN, duties_answer.EVERY_DATED):
        (store / derived.DERIVED / folders[1] / f"{name}.pickle").unlink(missing_ok=True)
    forget_kept_answers()


_KG = "https://w3id.org/kgraph/def#"
_ELI = "http://data.europa.eu/eli/ontology#"


def test_names_another_graph_changes_are_read_again_in_the_answer_made_from_the_last(
        built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-plan build whose graph also states another number for a plan of another graph
    and another name for a frequency other plans' duties name, and no longer states its own
    reporting duties: every plan's answers, made from the version before's, are the query's."""
    from rdflib import Literal, URIRef

    from kgraph import build as build_module

    folder, store = built
    repo = OxigraphRepository(store, read_only=True)
    cli_reporting(store), cli_deadlines(store, DATES[1])  # kept for the version before
    [other] = [str(r[0]) for r in repo.query(f"""SELECT DISTINCT ?plan WHERE {{
        ?plan <{_KG}hasReportingDuty> ?d ; <{_ELI}id_local> "18/KH-SLĐTBXH" }}""").rows]
    [frequency] = [str(r[0]) for r in repo.query(f"""SELECT DISTINCT ?f WHERE {{
        <{other}> <{_KG}hasReportingDuty> ?d . ?d <{_KG}frequency> ?f .
        ?f <http://www.w3.org/2004/02/skos/core#prefLabel> "6 tháng"@vi }}""").rows]
    renamed = "00-KH/SLĐTBXH"  # found first by the engine, before the plan's own number
    extra = ((URIRef(other), URIRef(_ELI + "id_local"), Literal(renamed)),
             (URIRef(frequency), URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"),
              Literal("Nửa năm", lang="vi")))
    mapping = build_module.document_graph

    def mapped(doc: object) -> object:
        graph = mapping(doc)  # type: ignore[arg-type]
        if not str(graph.name).endswith("/2509-kh-ubnd/2024"):
            return graph
        own = URIRef(_KG + "hasReportingDuty")
        triples = tuple(t for t in graph.triples if t[1] != own) + extra
        from kgraph.graph.mapping import ntriples_line

        lines = tuple(line for line in graph.lines if f"<{own}>" not in line)
        return dataclasses.replace(graph, triples=triples, lines=lines + tuple(
            ntriples_line(t) for t in extra) if graph.lines else ())

    with monkeypatch.context() as patched:
        patched.setattr(build_module, "document_graph", mapped)
        repo = change_and_build(folder, store, CHANGED_DUE, DUE)
    reporting = queried_reporting(repo)
    assert f"\n{renamed}," in reporting and "\n18/KH-SLĐTBXH," not in reporting
    assert "Nửa năm" in reporting and "2509/KH-UBND" not in reporting
    deadlines = {date: queried_deadlines(repo, date) for date in DATES}
    assert f",{renamed}," in deadlines[DATES[1]] or f"\n{renamed}," in deadlines[DATES[1]]
    api = {"reporting": reporting, "deadlines": deadlines[DATES[1]]}
    forget_kept_files(store)
    with monkeypatch.context() as patched:
        made = the_command_line_prints(patched, store, reporting, deadlines)
        assert len(made) == 2 and all(other in plans and len(plans) < 5 for _, plans in made)
        forget_kept_files(store)
        made.clear()
        with TestClient(create_app(OxigraphRepository(store, read_only=True))) as client:
            for name, text in api.items():
                got = client.get(f"/api/queries/{name}",
                                 params={"format": "csv", **({"date": DATES[1]}
                                                             if name == "deadlines" else {})})
                assert list(csv.reader(io.StringIO(got.content.decode("utf-8-sig")))) == list(
                    csv.reader(io.StringIO(text))), name
        assert {name for name, _ in made} == {duties_answer.EVERY_PLAN, duties_answer.EVERY_DATED}


def test_a_full_build_makes_every_plan_s_answers_and_the_next_build_s_are_made_from_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "sources"
    shutil.copytree(SOURCES, folder)
    store = tmp_path / "store"
    kgraph("build", str(folder), "--store", str(store))
    folders = derived.version_folders(OxigraphRepository(store, read_only=True))
    assert folders is not None
    for name in (duties_answer.EVERY_PLAN, duties_answer.EVERY_DATED):
        assert (store / derived.DERIVED / folders[1] / f"{name}.pickle").is_file(), name
    repo = change_and_build(folder, store, DUE, CHANGED_DUE)  # nobody asked in between
    reporting = queried_reporting(repo)
    deadlines = {DATES[1]: queried_deadlines(repo, DATES[1])}
    forget_kept_answers()
    with monkeypatch.context() as patched:
        made = the_command_line_prints(patched, store, reporting, deadlines)
    assert {name for name, _ in made} == {duties_answer.EVERY_PLAN, duties_answer.EVERY_DATED}


def test_a_version_the_build_kept_no_facts_for_is_answered_by_the_query(
        built: tuple[Path, Path]) -> None:
    _, store = built
    kgraph("coverage", "--doc", "28-CT/TW", "--store", str(store))  # a new version, no facts
    repo = OxigraphRepository(store, read_only=True)
    assert duties_answer.previous(repo) is None
    assert kept_answers.kept_answer(repo, "reporting", {}) is None
    assert duties_answer.deadline_records(repo) is None
    assert cli_reporting(store) == queried_reporting(repo)
    assert cli_deadlines(store, DATES[0]) == queried_deadlines(repo, DATES[0])


def test_a_store_in_memory_keeps_its_facts_too() -> None:
    from kgraph.build import build
    from kgraph.cli import kept_result

    repo = OxigraphRepository()
    build([SOURCES], repo)
    kept = kept_result(repo, "reporting", {})
    assert kept is not None and len(kept.rows) > 5
    assert to_csv(kept) == queried_reporting(repo)
    assert duties_answer.deadline_records(repo)


OTHER_PLAN, OTHER_DUE, OTHER_CHANGED = "000_580420fd51b73a01.txt", "ngay 10/11", "ngay 12/11"


def test_after_builds_nobody_asked_between_the_answers_are_made_from_the_last_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three one-plan builds after a full build (which made every plan's answers), nobody
    asking between, each changing a plan's yearly report (two plans, one twice): the first
    ask makes every plan's answers from the full build's, carried by the builds since, with
    the changed plans' rows made again; the query's CSV at the command line and through
    ``/api/queries``, the queries refused."""
    folder = tmp_path / "sources"
    shutil.copytree(SOURCES, folder)
    store = tmp_path / "store"
    kgraph("build", str(folder), "--store", str(store))
    change_and_build(folder, store, DUE, CHANGED_DUE)
    other = folder / OTHER_PLAN
    text = other.read_text(encoding="utf-8")
    assert OTHER_DUE in text
    other.write_text(text.replace(OTHER_DUE, OTHER_CHANGED), encoding="utf-8")
    kgraph("build", str(other), "--store", str(store))
    repo = change_and_build(folder, store, CHANGED_DUE, "trước ngày 25/11")
    versions = sorted(p.name for p in store.glob("v0*"))
    assert len(versions) == 2  # the full build's version is gone, its answers carried
    for name in (duties_answer.EVERY_PLAN, duties_answer.EVERY_DATED):
        assert not (store / derived.DERIVED / versions[0] / f"{name}.pickle").exists()
    reporting = queried_reporting(repo)
    assert ",--11-12," in reporting and ",--11-25," in reporting and ",--11-10," not in reporting
    deadlines = {date: queried_deadlines(repo, date) for date in DATES}
    forget_kept_answers()
    with monkeypatch.context() as patched:
        made = the_command_line_prints(patched, store, reporting, deadlines)
        assert {name for name, _ in made} == {duties_answer.EVERY_PLAN,
                                              duties_answer.EVERY_DATED}
        for _, plans in made:
            assert len(plans) < 5 and {"234-kh-ubnd", "2509-kh-ubnd"} <= {
                plan.split("/")[-2] for plan in plans}
        forget_kept_files(store)
        made.clear()
        with TestClient(create_app(OxigraphRepository(store, read_only=True))) as client:
            got = client.get("/api/queries/reporting", params={"format": "csv"})
            assert list(csv.reader(io.StringIO(got.content.decode("utf-8-sig")))) == list(
                csv.reader(io.StringIO(reporting)))
        assert [name for name, _ in made] == [duties_answer.EVERY_PLAN]
