"""`kgraph build` at scale, as a user runs it: failures reported and the rest loaded, store
versions switched atomically, unchanged files skipped, lossy re-ingest refused, replaced
versions kept, and a served store never written underneath the server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from kgraph.cli import app
from kgraph.store.embedded import POINTER, OxigraphRepository

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
SEED_003 = next(SOURCES.glob("003_*.txt"))
runner = CliRunner()


def kgraph(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def size(store: Path) -> int:
    return len(OxigraphRepository(store, read_only=True))


def graph_size(store: Path, graph_part: str) -> int:
    repo = OxigraphRepository(store, read_only=True)
    [graph] = [g for g in repo.graph_names() if graph_part in g and "revisions" not in g
               and "coverage" not in g]
    rows = repo.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").rows
    return int(rows[0][0])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The five seeds plus two files that cannot be read."""
    out = tmp_path / "in"
    shutil.copytree(SOURCES, out)
    (out / "empty.txt").write_bytes(b"")
    (out / "zz-binary.txt").write_bytes(b"\x00\x01" * 50)
    return out


def test_build_goes_on_past_unreadable_files(folder: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    code, out, err = kgraph("build", str(folder), "--store", str(store))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("error: ") and "empty.txt: empty file" in lines[0]
    assert "zz-binary.txt" in lines[1]
    assert "built 5 document graph(s)" in out and "failed" in out
    names = OxigraphRepository(store, read_only=True).graph_names()
    documents = [n for n in names if "coverage/" not in n and n.count("/") > 6]
    assert len(documents) == 5, names
    assert sum("/id/graph/coverage/" in n for n in names) == 5  # derived at build time


def test_a_build_where_no_file_loads_names_every_file_and_changes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert kgraph("build", str(SOURCES), "--store", str(store))[0] == 0
    before = size(store)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "zz-binary.txt").write_bytes(b"\x00\x01" * 50)
    code, _, err = kgraph("build", str(bad), "--store", str(store))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines), err
    assert "empty.txt: empty file" in lines[0] and "zz-binary.txt" in lines[1]
    assert size(store) == before


def test_strict_stops_at_the_first_failure_and_writes_nothing(folder: Path,
                                                              tmp_path: Path) -> None:
    store = tmp_path / "store"
    code, _, err = kgraph("build", str(folder), "--store", str(store), "--strict")
    assert code == 2
    assert err.count("error: ") == 1 and "empty.txt" in err
    assert not list((store).glob("v0*")) or size(store) == 0


def test_each_build_that_changes_something_is_a_new_version_switched_in_one_step(
        tmp_path: Path) -> None:
    store = tmp_path / "store"
    ttl = tmp_path / "ttl"
    assert kgraph("build", str(SOURCES), "--store", str(store), "--ttl-out", str(ttl))[0] == 0
    first = (store / POINTER).read_text().strip()
    before = size(store)
    stamps = {p.name: p.stat().st_mtime_ns for p in ttl.glob("*.trig")}
    code, out, _ = kgraph("build", str(SOURCES), "--store", str(store), "--ttl-out", str(ttl))
    assert code == 0 and "unchanged (not re-read)" in out and "│ 5" in out.split("unchanged")[1]
    second = (store / POINTER).read_text().strip()
    assert second == first and size(store) == before  # nothing changed: no new version
    assert {p.name: p.stat().st_mtime_ns for p in ttl.glob("*.trig")} == stamps  # not rewritten
    folder = tmp_path / "src"
    folder.mkdir()
    text = SEED_003.read_text(encoding="utf-8")
    versions = [first]
    for n in range(1, 4):  # each build changes one plan's text a little
        (folder / SEED_003.name).write_text(text + "\n" * n, encoding="utf-8")
        assert kgraph("build", str(folder), "--store", str(store))[0] == 0
        versions.append((store / POINTER).read_text().strip())
    assert len(set(versions)) == 4
    assert sorted(p.name for p in store.glob("v0*")) == versions[-2:]  # current and previous


def test_reingesting_a_truncated_plan_is_refused_then_replaced_with_replace(
        tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert kgraph("build", str(SOURCES), "--store", str(store))[0] == 0
    full = graph_size(store, "18-kh-sldtbxh")
    before = size(store)
    text = SEED_003.read_text(encoding="utf-8")
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / SEED_003.name).write_text(text[: int(len(text) * 0.37)], encoding="utf-8")

    code, _, err = kgraph("build", str(cut), "--store", str(store))
    assert code == 2
    [line] = err.strip().splitlines()
    assert "refused to replace 18/KH-SLĐTBXH" in line and "--replace" in line
    assert size(store) == before and graph_size(store, "18-kh-sldtbxh") == full

    code, _, err = kgraph("build", str(cut), "--store", str(store), "--replace")
    assert code == 0, err
    assert graph_size(store, "18-kh-sldtbxh") < full
    code, out, _ = kgraph("revisions", "--doc", "18/KH-SLĐTBXH", "--store", str(store))
    assert code == 0 and "1 revision(s)" in out and str(full) in out
    repo = OxigraphRepository(store, read_only=True)
    [revision] = [str(r[0]) for r in repo.query(
        "SELECT ?r WHERE { ?g <http://www.w3.org/ns/prov#wasRevisionOf> ?r }").rows]
    code, out, _ = kgraph("revisions", "--show", revision, "--store", str(store))
    assert code == 0 and len(out.strip().split("\n")) == full
    # the kept version stays out of the answers: one number per document
    rows = repo.query("SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?d <http://data.europa.eu/eli/"
                      "ontology#id_local> \"18/KH-SLĐTBXH\" ; "
                      "<https://w3id.org/kgraph/def#hasTask> ?t }").rows
    assert int(rows[0][0]) < 13


def _serve(store: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "kgraph"), "serve", "--store", str(store),
         "--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_served_store_is_never_built_underneath_the_server(tmp_path: Path) -> None:
    from conftest import free_port

    store = tmp_path / "store"
    assert kgraph("build", str(SOURCES), "--store", str(store))[0] == 0
    port = free_port()
    server = _serve(store, port)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        answers = {httpx.get(f"{url}/sparql", params={"query": count},
                             headers={"Accept": "text/csv"}, timeout=30).text
                   for _ in range(6)}
        changed = tmp_path / "changed"
        changed.mkdir()
        text = SEED_003.read_text(encoding="utf-8")
        (changed / SEED_003.name).write_text(text.replace("Gia Lai", "Gia Lai ", 1),
                                             encoding="utf-8")
        code, _, err = kgraph("build", str(changed), "--store", str(store))
        assert code == 2
        assert err.startswith("error: store ") and "kgraph serve" in err
        answers |= {httpx.get(f"{url}/sparql", params={"query": count},
                              headers={"Accept": "text/csv"}, timeout=30).text
                    for _ in range(6)}
        assert len(answers) == 1  # one version answers, from every worker
    finally:
        server.terminate()
        server.wait(timeout=20)
    code, _, err = kgraph("build", str(changed), "--store", str(store))
    assert code == 0, err


SHARED = Path(os.environ.get("KGRAPH_SHARED", ROOT.parent / "shared"))


@pytest.mark.skipif(not (SHARED / "real").is_dir(), reason="../shared/real is absent")
def test_a_mixed_folder_loads_every_document_it_can_and_names_what_it_cannot(
        tmp_path: Path) -> None:
    """Issue 8's acceptance: one binary file, one excerpt cut mid-sentence and ten good plans
    (five seeds, five real plans of other provinces and ministries): eleven documents load, the
    excerpt is marked partial, the binary file is named, the exit code is not 0."""
    folder = tmp_path / "in"
    shutil.copytree(SOURCES, folder)
    reals = sorted((SHARED / "real").glob("*.txt"))
    for real in reals[:5]:
        shutil.copy(real, folder / real.name)
    text = reals[5].read_text(encoding="utf-8")  # another plan, cut two thirds in
    cut = text[: len(text) * 2 // 3]
    (folder / "excerpt.txt").write_text(cut[: cut.rindex(" ")], encoding="utf-8")
    (folder / "scan.txt").write_bytes(bytes(range(256)) * 40)
    store = tmp_path / "store"
    code, out, err = kgraph("build", str(folder), "--store", str(store), "--no-validate")
    assert code != 0
    assert [line for line in err.splitlines() if line.startswith("error: ")] == [
        line for line in err.splitlines() if "scan.txt" in line], err
    assert "built 11 document graph(s)" in out, out
    repo = OxigraphRepository(store, read_only=True)
    partial = repo.query(
        "PREFIX kg: <https://w3id.org/kgraph/def#> PREFIX dct: <http://purl.org/dc/terms/> "
        "SELECT ?file WHERE { GRAPH ?g { ?doc kg:isPartial true ; kg:sourceFile [ "
        "dct:title ?file ] } }").rows
    assert len(partial) == 1 and str(partial[0][0]).endswith("excerpt.txt"), partial


def test_directive_coverage_is_written_in_the_build_version_for_the_plans_loaded(
        tmp_path: Path) -> None:
    """The directive coverage goes into the version the build writes (one version a build,
    not one more per directive) and a re-build recomputes it only when a plan carrying the
    directive out changed."""
    folder = tmp_path / "in"
    shutil.copytree(SOURCES, folder)
    store = tmp_path / "store"
    code, out, _ = kgraph("build", str(folder), "--store", str(store))
    assert code == 0 and "│ 28-CT/TW" in out.split("directive coverage")[1].splitlines()[0]
    assert (store / POINTER).read_text().strip() == "v000002"  # the empty first one, then this
    directive_graphs = [g for g in OxigraphRepository(store, read_only=True).graph_names()
                        if "/directive-coverage/" in g and "28-ct-tw" in g]
    assert directive_graphs

    code, out, _ = kgraph("build", str(folder), "--store", str(store))  # nothing changed
    assert code == 0 and "not recomputed" in out.split("directive coverage")[1].splitlines()[0]
    assert set(directive_graphs) <= set(OxigraphRepository(store, read_only=True).graph_names())

    plan = next(p for p in sorted(folder.glob("*.txt")) if "28-CT/TW" in p.read_text("utf-8"))
    plan.write_text(plan.read_text("utf-8") + "\n", encoding="utf-8")  # same plan, new bytes
    code, out, _ = kgraph("build", str(folder), "--store", str(store))
    assert code == 0 and "│ 28-CT/TW" in out.split("directive coverage")[1].splitlines()[0]
    assert (store / POINTER).read_text().strip() == "v000003"  # the unchanged build made none


def test_one_plan_build_asks_the_store_about_that_plan_only_and_keeps_every_guarantee(
        tmp_path: Path) -> None:
    """A build of one file reads the store's rows for that file (and its document's graph)
    only, and skips the shipped graphs when their sources are unchanged; a renamed file whose
    text loses most of the stored document is still refused."""
    store = tmp_path / "store"
    assert kgraph("build", str(SOURCES), "--store", str(store))[0] == 0
    full = graph_size(store, "18-kh-sldtbxh")
    text = SEED_003.read_text(encoding="utf-8")
    one = tmp_path / "one"
    one.mkdir()
    (one / SEED_003.name).write_text(text.replace("\n\n", "\n\n\n", 1), encoding="utf-8")
    code, out, err = kgraph("build", str(one), "--store", str(store))
    assert code == 0, err
    writes = re.search(r"store writes\s*│\s*(\d+) quads", out)
    assert writes and 0 < int(writes.group(1)) < full * 3  # the plan's graphs, not 60,000
    #                                                        reference triples again
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    (renamed / "another-name.txt").write_text(text[: int(len(text) * 0.37)], encoding="utf-8")
    code, _, err = kgraph("build", str(renamed), "--store", str(store))
    assert code == 2 and "refused to replace 18/KH-SLĐTBXH" in err
    assert graph_size(store, "18-kh-sldtbxh") == full


def test_a_long_build_without_a_terminal_logs_progress_and_stage_times(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build written to a log (no terminal) prints a progress line and each stage's time
    once it has run LOG_EVERY seconds (here: at once, and for any number of sources), so a
    long build is never silent."""
    from kgraph.cli import progress

    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)
    monkeypatch.setattr(progress, "LOG_MIN_FILES", 0)
    code, _, err = kgraph("build", str(SOURCES), "--store", str(tmp_path / "store"))
    assert code == 0, err
    sources = len(list(SOURCES.glob("*.txt")))
    assert f"files {sources}/{sources}: {sources} loaded, 0 unchanged, 0 failed" in err
    assert re.search(r"reading files: \d+\.\d s; now directive coverage", err)
    assert re.search(r"auditing across documents: \d+\.\d s; now done", err)
    assert "main process" in err and "files/s" in err


def test_a_rebuild_reads_only_the_files_whose_size_or_time_changed(tmp_path: Path) -> None:
    """The build keeps, per store version, each source's graph, hash, size and time: a rebuild
    of an unchanged folder reads no file and asks the store nothing per file; a file whose
    bytes change is read and reloaded; a file renamed keeps one entry, under its new name."""
    from kgraph.build import SOURCE_INDEX, text_sha256
    from kgraph.store.derived import version_value

    folder = tmp_path / "src"
    shutil.copytree(SOURCES, folder)
    store = tmp_path / "store"
    assert kgraph("build", str(folder), "--store", str(store))[0] == 0
    index = version_value(OxigraphRepository(store, read_only=True), SOURCE_INDEX)
    assert sorted(index) == sorted(p.name for p in folder.glob("*.txt"))
    assert all(index[p.name].sha256 == text_sha256(p) for p in folder.glob("*.txt"))

    import kgraph.build as kbuild

    reads: list[str] = []
    original = kbuild.text_sha256
    kbuild.text_sha256 = lambda path: reads.append(path.name) or original(path)  # type: ignore[assignment]
    try:
        code, out, _ = kgraph("build", str(folder), "--store", str(store))
        assert code == 0 and reads == []  # sizes and times unchanged: nothing hashed again
        plan = folder / SEED_003.name
        plan.write_text(plan.read_text("utf-8") + "\n", encoding="utf-8")
        code, out, _ = kgraph("build", str(folder), "--store", str(store))
        assert code == 0 and reads == [SEED_003.name]
        assert "18/KH-SLĐTBXH" in out or "18-kh-sldtbxh" in out  # reloaded
        before = plan.stat()  # an edit that keeps the size and sets the old time back
        plan.write_bytes(plan.read_bytes()[:-1] + b" ")
        os.utime(plan, ns=(before.st_atime_ns, before.st_mtime_ns))
        code, out, _ = kgraph("build", str(folder), "--store", str(store))
        assert code == 0 and reads == [SEED_003.name] * 2  # the change time gives it away
    finally:
        kbuild.text_sha256 = original  # type: ignore[assignment]
    plan.rename(folder / "renamed.txt")
    assert kgraph("build", str(folder / "renamed.txt"), "--store", str(store))[0] == 0
    index = version_value(OxigraphRepository(store, read_only=True), SOURCE_INDEX)
    assert "renamed.txt" in index and SEED_003.name not in index
    assert len(index) == len(list(folder.glob("*.txt")))


def test_the_source_index_is_kept_as_rows_and_read_back_as_the_same_index(
        tmp_path: Path) -> None:
    """The index a build keeps per version is pickled as lists of plain values, no object
    built a source (a national store's 20,000 cost a one-plan build a tenth of a second to
    read and write), and reads back as the same mapping of file names to ``Stored``."""
    import pickle
    import pickletools

    from kgraph.build import SOURCE_INDEX, Stored, stored_sources
    from kgraph.store.derived import version_value

    store = tmp_path / "store"
    assert kgraph("build", str(SOURCES), "--store", str(store))[0] == 0
    [kept] = store.glob(f"**/{SOURCE_INDEX}.pickle")
    data = kept.read_bytes()
    assert "BUILD" not in {op.name for op, _, _ in pickletools.genops(data)}
    repo = OxigraphRepository(store, read_only=True)
    index = version_value(repo, SOURCE_INDEX)
    assert pickle.loads(data) == index and len(index) == 5
    assert all(isinstance(s, Stored) and s.size > 0 for s in index.values())
    assert {n: (s.graph, s.sha256) for n, s in index.items()} == {
        n: (s.graph, s.sha256) for n, s in stored_sources(repo).items()}


def test_a_failed_load_in_the_loader_thread_leaves_the_store_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batches are loaded by a thread beside the build: its failure stops the build in the
    main thread, the unfinished version is deleted and the current one stays."""
    import kgraph.build as kbuild

    store = tmp_path / "store"
    repo = OxigraphRepository(store)
    kbuild.build([SOURCES], repo, directive_coverage=False)
    version, before = (store / POINTER).read_text().strip(), len(repo)
    folder = tmp_path / "src"
    shutil.copytree(SOURCES, folder)
    plan = folder / SEED_003.name
    plan.write_text(plan.read_text("utf-8") + "\n", encoding="utf-8")
    monkeypatch.setattr(kbuild, "_to_trig", lambda ntriples, graph: ("<not> <trig\n", 1))
    with pytest.raises(SyntaxError):
        kbuild.build([folder], OxigraphRepository(store), directive_coverage=False)
    assert (store / POINTER).read_text().strip() == version
    assert sorted(p.name for p in store.glob("v0*"))[-1] == version  # no unfinished version
    assert len(OxigraphRepository(store, read_only=True)) == before


def test_bulk_loads_take_whole_documents_up_to_the_batch_size_and_write_the_same_quads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader gets batches of whole documents (a plan's graph and its coverage graph
    together), never more quads than ``BATCH_QUADS`` unless one document alone has more: a
    larger batch would be split by Oxigraph into a full set of files and a small one. However
    the documents fall into batches, the store holds the same quads."""
    import pyoxigraph as ox

    import kgraph.build as kbuild

    def quads(store: Path) -> list[str]:
        version = (store / POINTER).read_text().strip()
        text = ox.Store.read_only(str(store / version)).dump(format=ox.RdfFormat.N_QUADS)
        return sorted(text.decode().splitlines())

    one = tmp_path / "one"
    code, _, err = kgraph("build", str(SOURCES), "--store", str(one))
    assert code == 0, err
    limit = 2_500
    batches: list[tuple[list[str], int]] = []
    units: list[list[str]] = []  # the graphs of each document (or shipped graphs) added
    add, send = kbuild._Writer.add, kbuild._Writer._send

    def recording_add(self: kbuild._Writer, graphs: dict[str, str], *rest: bytes) -> None:
        units.append(list(graphs))
        add(self, graphs, *rest)

    def recording_send(self: kbuild._Writer) -> None:
        if self.pending:
            batches.append((list(self.pending), self.quads))
        send(self)

    monkeypatch.setattr(kbuild, "BATCH_QUADS", limit)
    monkeypatch.setattr(kbuild._Writer, "add", recording_add)
    monkeypatch.setattr(kbuild._Writer, "_send", recording_send)
    small = tmp_path / "small"
    code, _, err = kgraph("build", str(SOURCES), "--store", str(small))
    assert code == 0, err
    coverage = "/graph/coverage/"
    plans = [[n for n in names if "/graph/" in n and coverage not in n] for names, _ in batches]
    assert len(batches) > 2 and any(len(p) > 1 for p in plans)  # several batches, some shared
    for names, count in batches:
        assert count <= limit or names in units, (count, names)  # over: one unit alone
        assert all(set(unit) <= set(names) or not set(unit) & set(names) for unit in units)
        for name in names:  # a plan's coverage graph travels with the plan's graph
            if coverage in name:
                assert name.replace(coverage, "/graph/") in names, names
    assert quads(small) == quads(one)


def test_ntriples_become_a_trig_block_of_their_graph_whatever_their_lines() -> None:
    """Regular N-Triples go into their graph's TriG block as they are; anything else (blank
    lines, a last line without a line break, a line that is not a triple) line by line, the
    other lines dropped; Oxigraph reads the very quads the N-Quads of the same lines state,
    and the triples are counted. The UTF-8 blocks a worker sends are the same."""
    import pyoxigraph as ox

    from kgraph.build import _document_block, _to_trig

    def by_line(text: str, graph: str) -> str:
        return "".join(f"{line[:-2]} <{graph}> .\n" for line in text.split("\n")
                       if line.endswith(" ."))

    def quads(text: str | bytes, syntax: ox.RdfFormat) -> list[ox.Quad]:
        return sorted(ox.parse(text, syntax), key=str)

    g = "https://example.org/g"
    texts = ['<a:a> <a:b> "x .\\n y" .\n<a:a> <a:b> <a:c> .\n', "", "<a:a> <a:b> <a:c> .",
             "<a:a> <a:b> <a:c> .\n\n<a:a> <a:b> <a:d> .\n", "# comment\n<a:a> <a:b> <a:c> .\n",
             "<a:a> <a:b> <a:c> . \n", '<a:a> <a:b> "p . q" .\n',
             '<a:a> <a:b> "Kế hoạch ." .\n<a:a> <a:b> "x"@vi .\n<a:a> <a:b> "1"^^<a:i> .\n']
    for text in texts:
        block, count = _to_trig(text, g)
        expected = by_line(text, g)
        assert quads(block, ox.RdfFormat.TRIG) == quads(expected, ox.RdfFormat.N_QUADS), text
        assert count == expected.count("\n"), text
        assert _document_block(text, g) == (block.encode(), count), text
    assert _to_trig("<a:a> <a:b> <a:c> .\n", g) == (f"<{g}> {{\n<a:a> <a:b> <a:c> .\n}}\n", 1)
    # the mapper's own lines, counted by it: the same, and a line break inside a line still
    # sends the text line by line
    for text, written in [("<a:a> <a:b> <a:c> .\n<a:a> <a:b> <a:d> .\n", 2),
                          ('<a:a> <a:b> "x\n y" .\n<a:a> <a:b> <a:c> .\n', 2)]:
        assert _document_block(text, g, written) == _document_block(text, g), text


def test_mapping_makes_one_literal_per_value_and_type() -> None:
    from rdflib import Literal
    from rdflib.namespace import XSD

    from kgraph.graph.mapping import literal

    assert literal(1) == Literal(1) and literal(1).datatype == XSD.integer
    assert literal(True) == Literal(True) and literal(True).datatype == XSD.boolean
    assert literal(1) is literal(1) and literal(1) is not literal(True)
    assert literal("1") == Literal("1") and literal("1").datatype is None
    assert literal("Sở", lang="vi") == Literal("Sở", lang="vi") != literal("Sở")


def test_mapping_integer_literals_stay_right_beyond_those_remembered(monkeypatch) -> None:
    """Integers (offsets) are remembered apart from other literals, in a bounded table."""
    from rdflib import Literal

    from kgraph.graph import mapping

    monkeypatch.setattr(mapping, "INTEGERS_KEPT", 4)
    for value in [*range(10), *range(10)]:
        term, text = mapping.literal_nt(value)
        assert term == Literal(value) and text == mapping.literal_text(Literal(value))
    assert len(mapping._INTEGERS) <= 4
    assert mapping.literal_nt(3, "vi")[0] == Literal(3, lang="vi")  # not one of them
