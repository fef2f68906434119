"""A store version compacted after a bulk build: same quads, same dump, a new version."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgraph.cli import app
from kgraph.store.embedded import OxigraphRepository, StoreDirectory

SOURCES = Path(__file__).resolve().parents[1] / "data" / "sources"


def dump(runner: CliRunner, store: Path) -> bytes:
    result = runner.invoke(app, ["dump", "--store", str(store), "-f", "nquads"])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_a_bulk_build_compacts_its_version_and_dumps_the_same_quads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    built = runner.invoke(app, ["build", str(SOURCES), "--store", str(plain), "--no-validate"])
    assert built.exit_code == 0, built.output
    assert "compaction" not in built.output  # a few files: nothing to merge
    monkeypatch.setattr("kgraph.build.FEW_FILES", 1)  # the seeds count as a bulk build
    built = runner.invoke(app, ["build", str(SOURCES), "--store", str(packed), "--no-validate"])
    assert built.exit_code == 0, built.output
    assert "compaction" in built.output
    assert dump(runner, packed) == dump(runner, plain)  # same bytes, not only the same quads


def test_compacting_a_store_makes_a_new_version_of_the_same_quads(tmp_path: Path) -> None:
    runner = CliRunner()
    store = tmp_path / "store"
    built = runner.invoke(app, ["build", str(SOURCES), "--store", str(store), "--no-validate"])
    assert built.exit_code == 0, built.output
    before, version = dump(runner, store), StoreDirectory(store).current()
    OxigraphRepository(store).compact()
    assert StoreDirectory(store).current() != version
    assert dump(runner, store) == before
