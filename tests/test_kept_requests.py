"""A named query's editor text through ``/sparql`` is answered from the query's kept answer
(kgraph.web.kept_requests), with exactly the engine's answer: every result format, the same
variables, terms (datatypes, languages) and order, the same caps and streaming. A text that
differs by one token, or a request naming its dataset, is evaluated by the engine.

Each answer is compared with the engine's for the same request, the kept path turned off (the
server then sends the workers no texts to match). The lead bodies of a directive-coverage cell
are a ``GROUP_CONCAT``: SPARQL leaves their order to the engine (the kept answer lists them by
name), so that column is compared as a set of names, its term's kind and language as they are.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from kgraph.cli import app as cli_app
from kgraph.store.embedded import OxigraphRepository
from kgraph.web import kept_requests, sparql
from kgraph.web.app import create_app
from kgraph.web.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
KEPT = "x-kgraph-kept-answer"
CONCATENATED = {"lead": "; "}  # GROUP_CONCAT columns whose order is the engine's
FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
           "tsv": ox.QueryResultsFormat.TSV, "csv": None}
MEDIA = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
         "tsv": "text/tab-separated-values", "csv": "text/csv"}
# every kept named query whose text gives its answer, with values a page asks for
CASES = [("directive-coverage", {"doc": "28-CT/TW"}),
         ("directive-coverage", {"doc": "28-ct-tw", "province": "gia lai"}),
         ("assignments", {"doc": "28-CT/TW"}), ("assignments", {"doc": "2509/KH-UBND"}),
         ("reporting", {"doc": "234/KH-UBND"}), ("reporting", {})]
runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds built by ``kgraph build`` into a store on disk: its answers kept."""
    folder = tmp_path_factory.mktemp("kept-requests")
    result = runner.invoke(cli_app, ["build", str(ROOT / "data" / "sources"),
                                     "--store", str(folder / "store")])
    assert result.exit_code == 0, result.output
    return folder / "store"


def terms(response: httpx.Response, fmt: str, concatenated: dict[str, str] = CONCATENATED
          ) -> tuple[list[str], list[list[object]]]:
    """The answer's variables and rows, each value as the format gives it (a term with its
    datatype or language; CSV: the plain text); ``concatenated`` columns' names as a sorted
    list."""
    body = response.content
    if fmt == "csv":
        header, *rows = csv.reader(io.StringIO(body.decode("utf-8-sig")))
        table: list[list[object]] = [list(r) for r in rows]
    else:
        parsed = ox.parse_query_results(body, format=FORMATS[fmt])
        header = [v.value for v in parsed.variables]
        table = [[solution[v] for v in header] for solution in parsed]
    for i, variable in enumerate(header):
        separator = concatenated.get(variable)
        for row in table if separator else []:
            value = row[i]
            if isinstance(value, ox.Literal):
                row[i] = (sorted(value.value.split(separator)), value.language, value.datatype)
            elif isinstance(value, str):
                row[i] = sorted(value.split(separator))
    return header, table


def post(client: httpx.Client, text: str, fmt: str, by_accept: bool,
         **params: str) -> httpx.Response:
    if by_accept:
        return client.post("/sparql", data={"query": text}, params=params,
                           headers={"Accept": MEDIA[fmt]})
    return client.post("/sparql", data={"query": text, "format": fmt}, params=params)


def same_answer(kept: httpx.Response, engine: httpx.Response, fmt: str) -> int:
    """The kept answer is the engine's: status, headers that describe it, terms in order."""
    assert kept.status_code == engine.status_code == 200, (kept.text, engine.text)
    for header in ("content-type", "x-kgraph-truncated", "x-kgraph-truncated-by",
                   "x-kgraph-max-rows", "x-kgraph-streamed"):
        assert kept.headers.get(header) == engine.headers.get(header), header
    found, expected = terms(kept, fmt), terms(engine, fmt)
    assert found == expected
    if terms(kept, fmt, {}) == terms(engine, fmt, {}):  # nothing concatenated otherwise
        assert kept.content == engine.content
    return len(found[1])


def editor_text(client: httpx.Client, name: str, values: dict[str, str]) -> str:
    response = client.get(f"/api/queries/{name}", params={**values, "format": "sparql"})
    assert response.status_code == 200, response.text
    return response.text


def test_each_editor_text_is_answered_from_the_kept_answer_as_the_engine_answers(
        store: Path, live_server: type, monkeypatch: pytest.MonkeyPatch) -> None:
    compared = 0
    with live_server(create_app(OxigraphRepository(store, read_only=True))) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        for name, values in CASES:
            text = editor_text(client, name, values)
            for i, fmt in enumerate(FORMATS):
                by_accept = i % 2 == 0
                kept = post(client, text, fmt, by_accept)
                assert kept.headers.get(KEPT) == name, (name, values, fmt, kept.text[:300])
                with monkeypatch.context() as patched:
                    patched.setattr(sparql.kept_requests, "texts", lambda repository: ())
                    engine = post(client, text, fmt, by_accept)
                assert KEPT not in engine.headers
                rows = same_answer(kept, engine, fmt)
                if values.get("doc") in ("28-CT/TW", "2509/KH-UBND", "234/KH-UBND"):
                    assert rows, (name, values)  # the seeds answer: the comparison is not empty
                compared += rows
    assert compared > 500


def test_the_row_cap_and_streaming_are_the_engine_s(store: Path, live_server: type,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut at a small row cap (flagged in the headers), and longer than the size from which
    answers stream: XML streams at once (a cut is told at its end), JSON once it is whole."""
    settings = Settings(max_rows=7, stream_after=2_000)
    with live_server(create_app(OxigraphRepository(store, read_only=True), settings)) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        for name, values in CASES[:3]:
            text = editor_text(client, name, values)
            for fmt in FORMATS:
                kept = post(client, text, fmt, True)
                assert kept.headers.get(KEPT) == name
                with monkeypatch.context() as patched:
                    patched.setattr(sparql.kept_requests, "texts", lambda repository: ())
                    engine = post(client, text, fmt, True)
                assert same_answer(kept, engine, fmt) == 7
                if fmt == "xml":
                    assert kept.headers.get("x-kgraph-streamed") == "true"
                    assert b"truncated-by=rows" in kept.content
                else:
                    assert kept.headers.get("x-kgraph-truncated-by") == "rows"


def _spellings(text: str) -> list[str]:
    """The same request written otherwise: keywords in lower case, another prefix name, no
    comments or line breaks, ``$`` for ``?``, single quotes."""
    lines = [line.split(" #")[0] for line in text.splitlines() if not line.startswith("#")]
    return [
        text.replace("SELECT ", "select ").replace("WHERE", "where"),
        text.replace("PREFIX kg: ", "PREFIX k: ").replace("kg:", "k:"),
        " ".join(line.strip() for line in lines),
        text.replace("?plan ", "$plan ").replace('"28-ct-tw"', "'28-ct-tw'"),
    ]


def test_the_same_text_otherwise_written_is_matched(store: Path, live_server: type) -> None:
    with live_server(create_app(OxigraphRepository(store, read_only=True))) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        for name, values in CASES[:3]:
            text = editor_text(client, name, values)
            answer = terms(post(client, text, "json", True), "json")
            for spelled in _spellings(text):
                assert spelled != text
                found = post(client, spelled, "json", True)
                assert found.headers.get(KEPT) == name, spelled[:400]
                assert terms(found, "json") == answer


def test_every_protocol_form_is_matched(store: Path, live_server: type) -> None:
    """GET, a form POST and a direct POST of the editor's text: one answer, kept."""
    with live_server(create_app(OxigraphRepository(store, read_only=True))) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        text = editor_text(client, "assignments", {"doc": "28-CT/TW"})
        accept = {"Accept": MEDIA["json"]}
        answers = [client.get("/sparql", params={"query": text}, headers=accept),
                   client.post("/sparql", data={"query": text}, headers=accept),
                   client.post("/sparql", content=text.encode(),
                               headers={**accept, "Content-Type": "application/sparql-query"})]
        assert [a.headers.get(KEPT) for a in answers] == ["assignments"] * 3
        assert answers[0].content == answers[1].content == answers[2].content


def _variants(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Texts one token away from the editor's (or the same text with a dataset), each with
    what the engine then answers that the kept answer does not."""
    key = '"28-ct-tw"'
    assert key in text
    where = text.index("WHERE {") + len("WHERE {")
    return {
        "a literal of another type": (text.replace(key, key + "@vi", 1), {}),
        "the key not as the query binds it": (text.replace(key, '"28-CT/TW"', 1), {}),
        "an extra FILTER": (text[:where] + " FILTER(false) " + text[where:], {}),
        "a FROM clause": (text[:where - len("WHERE {")]
                          + "FROM <https://w3id.org/kgraph/id/graph/ontology> "
                          + text[where - len("WHERE {"):], {}),
        "a LIMIT": (text + "\nLIMIT 3", {}),
        "the protocol's dataset": (text, {"default-graph-uri":
                                          "https://w3id.org/kgraph/id/graph/ontology"}),
    }


@pytest.mark.parametrize("name", ["directive-coverage", "assignments"])
def test_a_text_one_token_away_is_evaluated_by_the_engine(
        store: Path, live_server: type, name: str) -> None:
    with live_server(create_app(OxigraphRepository(store, read_only=True))) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        text = editor_text(client, name, {"doc": "28-CT/TW"})
        whole = len(terms(post(client, text, "json", True), "json")[1])
        assert whole > 3
        for why, (variant, params) in _variants(text).items():
            found = post(client, variant, "json", True, **params)
            assert found.status_code == 200, (why, found.text)
            assert KEPT not in found.headers, why
            rows = len(terms(found, "json")[1])
            assert rows == (3 if why == "a LIMIT" else 0), (why, rows)


def test_a_version_with_nothing_kept_is_answered_by_the_engine(
        store: Path, tmp_path: Path, live_server: type,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``kgraph coverage`` writes a version the build kept no coverage answer for: the text
    is matched, nothing is kept, and the engine answers it (the same rows as before)."""
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    text = kept_requests.texts(OxigraphRepository(copy, read_only=True))
    assert any(q.name == "directive-coverage" for q in text)
    with live_server(create_app(OxigraphRepository(copy, read_only=True))) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        editor = editor_text(client, "directive-coverage", {"doc": "28-CT/TW"})
        before = post(client, editor, "json", True)
        assert before.headers.get(KEPT) == "directive-coverage"
    result = runner.invoke(cli_app, ["coverage", "--doc", "28-CT/TW", "--store", str(copy)])
    assert result.exit_code == 0, result.output
    with live_server(create_app(OxigraphRepository(copy, read_only=True))) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        after = post(client, editor, "json", True)
        assert after.status_code == 200 and KEPT not in after.headers
        assert terms(after, "json") == terms(before, "json")
