"""The pages' per-version data after ``kgraph build`` of one new or one changed plan: updated
from the version the build started from (:mod:`kgraph.analysis.versions`), equal to the data
computed from the whole store, and without reading the whole store again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode
from typer.testing import CliRunner

from kgraph import paths
from kgraph.analysis import flow_index, lineage, page_data, versions
from kgraph.analysis.page_data import store_counts
from kgraph.analysis.succession import _change_events, change_events
from kgraph.cli import app
from kgraph.store.derived import version_value
from kgraph.store.embedded import OxigraphRepository
from kgraph.web import explore, pages
from kgraph.web.app import create_app

SEEDS = sorted(paths.default_sources().glob("*.txt"))
QUERIES = ("ubnd", "so y te", "gia lai", "28 ct tw", "ke hoach", "tinh uy", "bo chinh tri")
# home searches: (folded, raw) as the page asks them
HOME_QUERIES = (("", ""), ("gia-lai", "gia lai"), ("kh-ubnd", "kh-ubnd"), ("k", "k"),
                ("28-ct-tw", "28-ct/tw"), ("giai-doan-moi", "giai đoạn mới"), ("zzq", "zzq"))


def build(*args: str) -> None:
    done = CliRunner().invoke(app, ["build", *args])
    assert done.exit_code == 0, done.output


def compute_page_data(repo: OxigraphRepository) -> None:
    """What the warm-up computes (the base version's data)."""
    store_counts(repo)
    pages.listing_search(repo)
    change_events(repo)
    explore.explorer_for(repo)
    flow_index.flow_index(repo)


def forbid(monkeypatch, target: object, name: str) -> None:
    def whole(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{name} read the whole store")

    monkeypatch.setattr(target, name, whole)


def check_same_as_whole(store: Path) -> None:
    """Every kept value equals the one computed from the whole store; the HTTP answers too."""
    repo = OxigraphRepository(store, read_only=True)
    listing = pages.document_listing(repo)
    assert version_value(repo, "home-listing") == listing
    kept_search, whole_search = (version_value(repo, versions.HOME_SEARCH),
                                 pages.ListingSearch.of(listing))
    for folded, raw in HOME_QUERIES:
        assert kept_search.rows(folded, raw) == whole_search.rows(folded, raw) == [
            row for row, d in enumerate(listing) if d.matches(folded, raw)]
    whole = explore.ExplorerData.of(repo)
    kept = version_value(repo, "explorer-index")
    assert kept.nodes == whole.nodes and kept.facets == whole.facets
    for query in QUERIES:
        assert kept.index.search(query, 50) == whole.index.search(query, 50)
    assert version_value(repo, "graph-names") == repo.graph_names()
    assert version_value(repo, "triple-count") == len(repo)
    assert version_value(repo, "change-events") == _change_events(repo)
    kept_flow, whole_flow = version_value(repo, "flow-index"), flow_index.whole_index(repo)
    assert kept_flow.terms() == whole_flow.terms()
    for name in ("kinds", "statements", "indptr", "indices", "components"):
        assert (getattr(kept_flow, name) == getattr(whole_flow, name)).all(), name
    with TestClient(create_app(repo)) as client:
        assert client.get("/api/facets").json() == whole.facets.model_dump()
        for query in QUERIES:
            hits = client.get("/api/search", params={"q": query, "limit": 50}).json()
            assert [h["iri"] for h in hits] == [h.iri for h in whole.index.search(query, 50)]
        home = client.get("/").text
        assert all(d.number in home for d in listing[:pages.PAGE_SIZE])
        assert client.get("/health").json()["triples"] == len(repo)


def reworded(tmp_path: Path) -> Path:
    """The first seed with its title reworded, in a folder of its own."""
    changed = tmp_path / "changed" / SEEDS[0].name
    changed.parent.mkdir()
    text = SEEDS[0].read_text(encoding="utf-8")
    lines = text.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.strip() in ("KE HOACH", "KẾ HOẠCH"))
    title = next(i for i in range(heading + 1, len(lines)) if lines[i].strip())
    lines[title] = "Giai đoạn mới " + lines[title]  # the title reworded
    changed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A store of the first seeds, its page data computed from the whole store."""
    sources = tmp_path / "sources"
    sources.mkdir()
    for seed in SEEDS[:-1]:
        shutil.copy(seed, sources / seed.name)
    store = tmp_path / "store"
    build(str(sources), "--store", str(store))
    compute_page_data(OxigraphRepository(store, read_only=True))
    return store


def test_a_new_plan_updates_the_page_data_without_reading_the_whole_store(
        built: Path, monkeypatch) -> None:
    affected: list[set[str]] = []
    original = versions.Changes.affected

    def recorded(self: versions.Changes) -> set[str]:
        found = original(self)
        affected.append(found)
        return found

    monkeypatch.setattr(versions.Changes, "affected", recorded)
    for target, name in ((page_data, "document_listing"), (explore.ExplorerData, "of"),
                         (page_data.ListingSearch, "of"),
                         (lineage.LineageGraph, "searchable"),
                         (OxigraphRepository, "graph_names"), (OxigraphRepository, "__len__"),
                         (flow_index, "whole_index"),
                         (__import__("kgraph.analysis.succession").analysis.succession,
                          "_change_events")):
        forbid(monkeypatch, target, name)
    build(str(SEEDS[-1]), "--store", str(built))
    monkeypatch.undo()
    repo = OxigraphRepository(built, read_only=True)
    assert affected and affected[0]  # the same subjects for every value
    changed = version_value(repo, versions.CHANGED_GRAPHS)["graphs"]
    stated = set()  # what the graphs the build replaced state (the base version had none)
    for name in changed:
        for quad in repo.reader.quads_for_pattern(None, None, None, NamedNode(name)):
            stated |= {quad.subject.value, quad.object.value}
    assert affected[0] <= stated  # only the subjects the new plan's graphs state were read
    check_same_as_whole(built)


def test_a_changed_plan_and_the_next_build_update_again(built: Path, tmp_path: Path) -> None:
    changed = reworded(tmp_path)
    build(str(changed), "--store", str(built))
    check_same_as_whole(built)
    repo = OxigraphRepository(built, read_only=True)
    assert any("Giai đoạn mới" in d.title for d in version_value(repo, "home-listing"))
    build(str(SEEDS[-1]), "--store", str(built))  # from a version the last build updated
    check_same_as_whole(built)


def test_without_the_base_version_s_data_the_server_computes_it_whole(built: Path,
                                                                      monkeypatch) -> None:
    import kgraph.store.derived as derived

    for folder in (built / "derived").iterdir():  # the base version kept nothing
        if folder.name != "documents" and folder.is_dir():
            shutil.rmtree(folder)
    monkeypatch.setattr(derived, "_memory", {})
    build(str(SEEDS[-1]), "--store", str(built))
    repo = OxigraphRepository(built, read_only=True)
    assert version_value(repo, "explorer-index") is None  # the build did not read it whole
    assert versions.changes(repo, ["explorer-index"]) is None
    assert explore.explorer_for(repo).nodes == explore.ExplorerData.of(repo).nodes


def test_a_build_of_many_graphs_leaves_the_data_to_a_whole_computation(built: Path,
                                                                        monkeypatch) -> None:
    monkeypatch.setattr(versions, "MAX_GRAPHS", 1)  # more graphs replaced than read by IRI
    build(str(SEEDS[-1]), "--store", str(built))
    repo = OxigraphRepository(built, read_only=True)
    assert version_value(repo, versions.CHANGED_GRAPHS)["graphs"]
    assert versions.changes(repo) is None
    assert version_value(repo, "home-listing") is None
    assert pages.home_listing(repo) == pages.document_listing(repo)


def test_a_loaded_process_takes_the_last_version_s_data_from_memory(built: Path, tmp_path: Path,
                                                                   monkeypatch) -> None:
    """Two builds in one process (a server's updates, the loaded benchmark): the second starts
    from the values the first computed, held in memory, and reads none of their files."""
    import kgraph.store.derived as derived

    monkeypatch.setattr(derived, "_memory", {})
    build(str(reworded(tmp_path)), "--store", str(built))
    first = OxigraphRepository(built, read_only=True)
    folder = derived.version_folders(first)[1]
    read: list[str] = []
    original = derived._read

    def reading(path: Path | str) -> object:
        read.append(str(path))
        return original(path)

    monkeypatch.setattr(derived, "_read", reading)
    build(str(SEEDS[-1]), "--store", str(built))
    monkeypatch.undo()
    page_files = {f"{name}.pickle" for name in ("graph-names", "triple-count", "home-listing",
                                                versions.HOME_SEARCH, "change-events",
                                                "explorer-index", "flow-index")}
    assert not [p for p in read if f"/{folder}/" in p and Path(p).name in page_files]
    repo = OxigraphRepository(built, read_only=True)
    assert version_value(repo, versions.CHANGED_GRAPHS)["derived"] == folder
    check_same_as_whole(built)


def test_a_fresh_process_builds_only_the_changed_explorer_nodes(built: Path,
                                                                monkeypatch) -> None:
    """The base version's explorer data is read back as rows: a build makes node objects only
    for the nodes it reads again, and the server's pages see every node."""
    import kgraph.store.derived as derived

    monkeypatch.setattr(derived, "_memory", {})  # as a new process: read from disk
    made: list[str] = []
    original = page_data._node

    def counted(row: tuple) -> object:
        made.append(row[0])
        return original(row)

    monkeypatch.setattr(page_data, "_node", counted)
    build(str(SEEDS[-1]), "--store", str(built))
    monkeypatch.undo()
    assert not made  # no node object built from a kept row
    repo = OxigraphRepository(built, read_only=True)
    kept = version_value(repo, "explorer-index")
    whole = explore.ExplorerData.of(repo)
    assert len(kept.nodes) == len(whole.nodes) > 0
    check_same_as_whole(built)


def test_a_plan_that_loses_assignments_updates_the_flow_index(built: Path, tmp_path: Path,
                                                              monkeypatch) -> None:
    """The relations a changed plan no longer states leave the flow index the build updates
    (a relation another graph restates stays); it equals the one read from the whole store."""
    before = flow_index.whole_index(OxigraphRepository(built, read_only=True))
    shortened = tmp_path / "shortened" / SEEDS[0].name
    shortened.parent.mkdir()
    lines = SEEDS[0].read_text(encoding="utf-8").splitlines()
    shortened.write_text("\n".join(lines[: len(lines) * 3 // 4]) + "\n", encoding="utf-8")
    forbid(monkeypatch, flow_index, "whole_index")
    build(str(shortened), "--store", str(built), "--replace")
    monkeypatch.undo()
    repo = OxigraphRepository(built, read_only=True)
    kept = version_value(repo, "flow-index")
    assert len(kept.statements) < len(before.statements)
    check_same_as_whole(built)


def test_the_explorer_data_is_made_with_the_cycle_collector_paused(
        sample_repo: OxigraphRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    """The explorer's data from the whole store only allocates (at 20,000 plans half a million
    rows, then 100,000 nodes and index entries): made with the cycle collector off, whose
    collections walked them all again and again (most of the label index's time), and on again
    after; the same data."""
    import gc

    from kgraph.analysis.search import LabelIndex

    repo = sample_repo
    seen: list[bool] = []
    made = LabelIndex.from_nodes

    def spied(nodes):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return made(nodes)

    monkeypatch.setattr(LabelIndex, "from_nodes", spied)
    assert gc.isenabled()
    data = explore.ExplorerData.of(repo)
    assert seen == [False] and gc.isenabled()
    monkeypatch.setattr(LabelIndex, "from_nodes", made)
    assert data.index.state() == LabelIndex.from_nodes(data.nodes.values()).state()
    assert len(data.index) > 3
