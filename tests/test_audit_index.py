"""The whole-corpus audit, computed once per store version, filtered and paged: through
`kgraph audit` and `/audit` as users call them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kgraph.cli import app
from kgraph.store.embedded import OxigraphRepository

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
runner = CliRunner()


def kgraph(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("audit-index") / "store"
    code, _, err = kgraph("build", str(SOURCES), "--store", str(root))
    assert code == 0, err
    return root


def test_build_leaves_the_audit_of_its_version_next_to_the_store(store: Path) -> None:
    from kgraph.analysis.audit_index import _meta
    from kgraph.store.embedded import store_version

    version = store_version(OxigraphRepository(store, read_only=True))
    assert _meta(store / "derived" / "audit.sqlite")["version"] == version
    assert any((store / "derived" / "documents").glob("audit-*.pickle"))


def test_the_index_written_from_nothing_has_every_index_of_its_layout(store: Path) -> None:
    """A full computation drops the indexes of the tables it fills in bulk and makes them
    after the rows are in: the file the build leaves has the layout's every index, and its
    rows are those of the same computation held in memory."""
    import sqlite3

    from kgraph.analysis.audit_index import _ADDED, _SCHEMA, compute_index

    layout = sqlite3.connect(":memory:")
    layout.executescript(_SCHEMA + _ADDED)
    written = sqlite3.connect(store / "derived" / "audit.sqlite")

    def indexes(db: sqlite3.Connection) -> set[tuple[str, str]]:
        return set(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                              "AND sql IS NOT NULL"))

    assert indexes(written) == indexes(layout)
    memory = compute_index(OxigraphRepository(store, read_only=True), None)
    for table in ("documents", "findings", "tasks", "gaps", "groups", "cohorts"):
        query = f"SELECT rowid, * FROM {table} ORDER BY rowid"
        rows = written.execute(query).fetchall()
        assert rows == memory._db.execute(query).fetchall()
        assert rows or table == "cohorts"


def test_cli_audit_filters_by_province(store: Path) -> None:
    code, out, _ = kgraph("audit", "--province", "gia lai", "--store", str(store))
    assert code in (0, 1)
    header = out.splitlines()[0]
    assert "2509/KH-UBND" in header and "234/KH-UBND" not in header  # Kiên Giang's plan
    code, out, _ = kgraph("audit", "--province", "Gia Lai", "--severity", "Warning",
                          "--store", str(store))
    assert code == 0 and "[Violation]" not in out and "[Warning]" in out
    code, _, err = kgraph("audit", "--province", "Atlantis", "--store", str(store))
    assert code == 2 and "Atlantis" in err


def test_web_audit_is_filtered_and_paged(store: Path) -> None:
    from kgraph.web.app import create_app

    repo = OxigraphRepository(store, read_only=True)
    with TestClient(create_app(repo)) as client:
        whole = client.get("/audit", params={"format": "json", "per_page": 1000}).json()
        assert whole["total"] == len(whole["findings"]) > 4
        first = client.get("/audit", params={"format": "json", "per_page": 2}).json()
        second = client.get("/audit", params={"format": "json", "per_page": 2,
                                              "page": 2}).json()
        assert first["total"] == whole["total"]
        assert first["findings"] + second["findings"] == whole["findings"][:4]
        gia_lai = client.get("/audit", params={"format": "json", "province": "Gia Lai",
                                               "per_page": 1000}).json()
        numbers = {f["document_number"] for f in gia_lai["findings"]}
        assert numbers and numbers <= set(gia_lai["documents"])
        assert "234/KH-UBND" not in gia_lai["documents"]
        rule = whole["findings"][0]["rule"]
        only = client.get("/audit", params={"format": "json", "rule": rule,
                                             "per_page": 1000}).json()
        assert {f["rule"] for f in only["findings"]} == {rule}
        page = client.get("/audit", params={"per_page": 2})
        assert page.status_code == 200 and 'rel="next"' in page.text


def test_a_new_build_gets_a_new_audit_reauditing_only_the_changed_plan(
        store: Path, tmp_path: Path) -> None:
    """The audit is keyed by store version; per-document findings by content."""
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    audited = set((copy / "derived" / "documents").glob("audit-*.pickle"))
    assert len(audited) == 5
    folder = tmp_path / "src"
    folder.mkdir()
    seed = next(SOURCES.glob("004_*.txt"))
    text = seed.read_text(encoding="utf-8")
    (folder / seed.name).write_text(text.replace("16. Ủy ban nhân dân các huyện",
                                                 "16. Ủy ban nhân dân các huyện (sửa)"),
                                    encoding="utf-8")
    assert kgraph("build", str(folder), "--store", str(copy))[0] == 0
    from kgraph.analysis.audit_index import _meta
    from kgraph.store.embedded import store_version

    version = store_version(OxigraphRepository(copy, read_only=True))
    assert _meta(copy / "derived" / "audit.sqlite")["version"] == version
    assert len(set((copy / "derived" / "documents").glob("audit-*.pickle")) - audited) == 1
    code, out, _ = kgraph("audit", "--doc", "2509/KH-UBND", "--store", str(copy))
    assert code in (0, 1) and out.startswith("kgraph audit: 1 document(s): 2509/KH-UBND")


def test_the_audit_after_one_changed_plan_is_updated_from_the_last_one(
        store: Path, tmp_path: Path) -> None:
    """The re-build's audit starts from the previous version's index (the changed plan's own
    findings, the conflicts about what it states, peer gaps) and equals a full audit."""
    from kgraph.analysis.audit_index import AuditIndex, audit_index, compute_index

    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    before = audit_index(OxigraphRepository(copy, read_only=True))
    conflicts_before = {(f.focus, f.document_number, f.message_en) for f in before.findings
                        if f.rule == "ConflictingStatement"}
    assert conflicts_before  # the seeds state 28-CT/TW's issuer differently
    folder = tmp_path / "src"
    shutil.copytree(SOURCES, folder)
    seed = next(folder.glob("004_*.txt"))
    text = seed.read_text(encoding="utf-8")
    stated = "28-CT/TW ngày 25 tháng 12 năm 2023 của Bộ Chính trị"
    assert stated in text
    seed.write_text(text.replace(stated, stated.replace(
        "Bộ Chính trị", "Ban Chấp hành Trung ương Đảng")), encoding="utf-8")
    code, out, _ = kgraph("build", str(folder), "--store", str(copy))
    assert code == 0 and "unchanged (not re-read) │ 4" in out
    repo = OxigraphRepository(copy, read_only=True)
    updated = audit_index(repo)
    assert isinstance(updated, AuditIndex) and updated.conflict_sources is not None
    full = compute_index(repo, None)
    assert updated.findings == full.findings
    assert updated.conflict_sources == full.conflict_sources
    conflicts_after = {(f.focus, f.document_number, f.message_en) for f in updated.findings
                       if f.rule == "ConflictingStatement"}
    assert conflicts_after == conflicts_before  # 2509/KH-UBND's issuer of 28-CT/TW is read
    # from the directive's number, whatever the sentence says: the same conflict, recomputed


def test_an_audit_removes_the_files_killed_writers_left(store: Path, tmp_path: Path) -> None:
    """A writer killed before renaming its new index leaves ``.audit.sqlite.<pid>.new`` (as
    big as the index): the next writer removes those of dead processes, and of a live process
    that started after the file was written (its pid reused), and keeps a live writer's."""
    import os
    import subprocess
    import sys
    import time

    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    folder = copy / "derived"
    (folder / "audit.sqlite").unlink()  # the index written again
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = folder / f".audit.sqlite.{int(done.stdout)}.new"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        time.sleep(0.1)
        writing = folder / f".audit.sqlite.{live.pid}.new"
        reused = folder / f".audit.sqlite.{os.getppid()}.new"  # a process older than the file
        for path in (dead, writing, reused):
            path.write_bytes(b"half an index")
        past = time.time() - 10 * 365 * 86400  # written before that process started
        os.utime(reused, (past, past))
        code, out, _ = kgraph("audit", "--store", str(copy))
        assert code in (0, 1) and out.startswith("kgraph audit:")
        assert (folder / "audit.sqlite").is_file()
        assert not dead.exists() and not reused.exists()
        assert writing.exists()
    finally:
        live.kill()
        live.wait()


def test_after_a_code_change_the_first_web_audit_audits_the_documents_in_processes(
        store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another audit fingerprint (the code changed since the build): no document's findings
    are kept for it, and the first ``/audit`` audits them in forked processes, not in the
    server's one, with the same findings as before."""
    import os

    from kgraph.analysis import audit_index
    from kgraph.web.app import create_app

    params = {"format": "json", "per_page": 1000}
    with TestClient(create_app(OxigraphRepository(store, read_only=True))) as client:
        before = client.get("/audit", params=params).json()
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    monkeypatch.setattr(audit_index, "audit_fingerprint", lambda: "changed00000")
    monkeypatch.setattr(audit_index, "PARALLEL_AUDITS", 2)
    monkeypatch.setattr(audit_index, "AUDIT_CHUNK", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    here, audited = os.getpid(), []
    unkept = audit_index.document_findings

    def spied(*args: object, **kwargs: object) -> object:
        if os.getpid() == here:  # (a forked process appends to its own copy)
            audited.append(args)
        return unkept(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(audit_index, "document_findings", spied)
    with TestClient(create_app(OxigraphRepository(copy, read_only=True))) as client:
        after = client.get("/audit", params=params).json()
    assert audited == []
    assert len(list((copy / "derived" / "documents").glob("audit-changed00000-*"))) == 5
    assert after["total"] == before["total"] > 4
    assert after["findings"] == before["findings"]
