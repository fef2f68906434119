"""The sweep of kept derived values (kgraph.analysis.sweep): after each build, and by `kgraph
sweep`, the values kept next to the store that neither its current version nor the one before
it asks for are deleted (an older text's findings, tasks and record, another fingerprint's
states), and nothing the current code reads: the pages and answers are those of the same builds
without a sweep, and a one-plan build after it still continues from the kept state. Through
`kgraph build` and `kgraph sweep` as a user runs them, the pages through the web app."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kgraph.analysis import audit_index
from kgraph.analysis import coverage as cov
from kgraph.analysis import directive_index as di
from kgraph.analysis import sweep as sweep_module
from kgraph.cli import app
from kgraph.store.derived import document_value
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from corpus import write_corpus

runner = CliRunner()
DIRECTIVE = "28-CT/TW"
PAGES = ["/", "/audit", "/audit?severity=Violation", f"/coverage?doc={DIRECTIVE}",
         f"/api/queries/directive-coverage?doc={DIRECTIVE}&format=csv",
         f"/api/queries/directive-coverage?doc={DIRECTIVE}&province=Gia%20Lai",
         f"/audit/raci?doc={DIRECTIVE}", "/api/facets"]


def kgraph(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "plans"
    write_corpus(folder, 90, seed=5)
    return folder


def kept_keys(store: Path) -> set[str]:
    return {p.name.removesuffix(".pickle")
            for p in (store / "derived" / "documents").glob("*.pickle")}


def source_of(store: Path, document: str) -> tuple[str, str]:
    """(graph, source text hash) of a document in the store's current version."""
    repo = OxigraphRepository(store, read_only=True)
    rows = repo.query(f"""SELECT ?g ?sha WHERE {{ GRAPH ?g {{
        <{document}> <https://w3id.org/kgraph/def#sourceFile> ?f .
        ?f <https://w3id.org/kgraph/def#sha256> ?sha }} }}""").records()
    assert len(rows) == 1
    return rows[0]["g"] or "", rows[0]["sha"] or ""


def keys_of_text(store: Path, graph: str, sha: str) -> set[str]:
    """Every kept key naming this document text (findings, tasks, record: any fingerprint)."""
    content = f"-{hashlib.sha256(graph.encode()).hexdigest()[:16]}-{sha[:24]}"
    return {key for key in kept_keys(store) if key.endswith(content)}


def plans_of_directive(folder: Path, store: Path) -> list[tuple[str, Path]]:
    """(document IRI, file) of the plans carrying the directive out through another plan."""
    repo = OxigraphRepository(store, read_only=True)
    found = cov.directive_of(repo, DIRECTIVE)
    assert found is not None
    plans = [p for p in di.Lineage.read(repo).implementing(repo, found[0]) if len(p.chain) >= 2]
    files = {}
    for path in sorted(folder.glob("*.txt")):
        files.setdefault(path.read_text("utf-8").split("Số: ", 1)[-1].split("\n", 1)[0], path)
    return [(p.iri, files[p.number]) for p in plans if p.number in files]


def reworded(path: Path, note: str) -> None:
    path.write_text(path.read_text("utf-8") + f"\n{note}\n", encoding="utf-8")


def pages(store: Path) -> dict[str, bytes]:
    with TestClient(create_app(OxigraphRepository(store, read_only=True))) as client:
        answers = {}
        for url in PAGES:
            response = client.get(url)
            assert response.status_code == 200, url
            answers[url] = response.content.replace(str(store).encode(), b"STORE")
        return answers


def continued(out: str) -> bool:
    return f"{DIRECTIVE} (continued)" in out.split("directive coverage")[1].split("\n")[0]


def test_an_older_text_s_values_go_once_no_version_reads_it_and_nothing_read_goes(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # builds sweep once they have read two documents since the last sweep (or the code moved)
    monkeypatch.setattr(sweep_module, "SWEEP_AFTER", 2)
    stores = {}
    for swept in (True, False):  # the same builds with the sweep, and without it
        if not swept:
            monkeypatch.setattr(sweep_module, "after_build", lambda *a, **k: None)
        folder = tmp_path / f"plans-{swept}"
        shutil.copytree(corpus, folder)
        store = stores[swept] = tmp_path / f"store-{swept}"
        kgraph("build", str(folder), "--store", str(store))
        (first, first_file), (_, second_file) = plans_of_directive(folder, store)[:2]
        graph, old = source_of(store, first)
        assert len(keys_of_text(store, graph, old)) == 3  # findings, tasks, record

        reworded(first_file, "Ghi chú thêm.")  # a plan re-ingested with another text
        out = kgraph("build", str(first_file), "--store", str(store))
        assert "not due" in out  # one document read since the first build's sweep
        assert source_of(store, first)[1] != old
        # the version before still reads the old text: its values stay
        assert len(keys_of_text(store, graph, old)) == 3

        reworded(second_file, "Ghi chú khác.")  # a one-plan build: no version reads it now
        out = kgraph("build", str(second_file), "--store", str(store))
        assert continued(out)
        if swept:
            assert keys_of_text(store, graph, old) == set()
            assert "kept values swept" in out
        else:
            assert len(keys_of_text(store, graph, old)) == 3
    monkeypatch.undo()
    assert kept_keys(stores[True]) < kept_keys(stores[False])
    assert pages(stores[True]) == pages(stores[False])

    # `kgraph sweep` on the store no build swept: what it deletes, what the builds deleted
    out = kgraph("sweep", "--dry-run", "--store", str(stores[False]))
    left = kept_keys(stores[False]) - kept_keys(stores[True])
    assert out.startswith(f"would delete {len(left)} kept value(s)")
    assert kept_keys(stores[False]) - kept_keys(stores[True]) == left  # nothing deleted
    out = kgraph("sweep", "--store", str(stores[False]))
    assert out.startswith(f"deleted {len(left)} kept value(s)")
    assert kept_keys(stores[False]) == kept_keys(stores[True])
    assert pages(stores[True]) == pages(stores[False])

    # a build after the sweep reads what it kept: the state, continued again
    folder = tmp_path / "plans-True"
    _, _, (_, third_file) = plans_of_directive(folder, stores[True])[:3]
    reworded(third_file, "Ghi chú cuối.")
    assert continued(kgraph("build", str(third_file), "--store", str(stores[True])))


def test_a_moved_fingerprint_leaves_no_value_of_the_old_one_after_the_next_build(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "plans"
    shutil.copytree(corpus, folder)
    store = tmp_path / "store"
    kgraph("build", str(folder), "--store", str(store))
    olds = {"audit": audit_index.audit_fingerprint(), "directive": di.fingerprint(),
            "record": di.record_fingerprint()}
    before = kept_keys(store)
    for kind, prefix in (("audit", "audit-"), ("audit", "tasks-"),
                         ("directive", "directive-state-"), ("directive", "directive-lineage-"),
                         ("record", "directive-record-")):
        assert any(k.startswith(f"{prefix}{olds[kind]}-") for k in before), prefix
    parts = {k for k in before if k.startswith("directive-part-")}
    assert parts

    monkeypatch.setattr(audit_index, "audit_fingerprint", lambda: "0123456789ab")
    monkeypatch.setattr(di, "fingerprint", lambda: "ba9876543210")
    monkeypatch.setattr(di, "record_fingerprint", lambda: "aaaabbbbcccc")
    (_, changed), *_ = plans_of_directive(folder, store)
    reworded(changed, "Ghi chú thêm.")
    out = kgraph("build", str(changed), "--store", str(store))
    assert DIRECTIVE in out.split("directive coverage")[1].split("\n")[0]
    after = kept_keys(store)
    assert not {k for k in after if any(f"-{old}-" in k for old in olds.values())}
    heads = [document_value(store, k) for k in after if k.startswith("directive-state-")]
    named = {part for head in heads if isinstance(head, di.StateHead)
             for part in head.parts.values()}
    # the parts kept are the new heads' (by content: some are the old heads' too)
    assert {k for k in after if k.startswith("directive-part-")} == named
    assert parts - named and not (parts - named) & after  # only the old heads': gone
    # the new code's values are there: findings and tasks of every plan, the directive's state
    assert sum(k.startswith("audit-0123456789ab-") for k in after) == len(
        list(folder.glob("*.txt")))
    assert any(k.startswith("directive-state-ba9876543210-") for k in after)
    assert any(k.startswith("directive-part-") for k in after)
    reworded(changed, "Ghi chú khác.")  # and the next build continues from them
    assert continued(kgraph("build", str(changed), "--store", str(store)))
