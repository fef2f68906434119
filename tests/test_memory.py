"""The build's memory: freed pages handed back to the system (after bulk loads, before forks),
the directive coverage's graphs loaded in batches, and the progress line's resident memory.

The allocator's behaviour is glibc's: where the C library has no ``malloc_trim`` the release
is a no-op and the tests that need it are skipped."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

import kgraph.build as kbuild
from kgraph import memory
from kgraph.cli import app
from kgraph.store.embedded import POINTER

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources"
runner = CliRunner()
glibc = pytest.mark.skipif(memory._trim() is None, reason="no glibc malloc_trim")

# A child Python: ~200 MB freed but held by the allocator (4 KB blocks, under glibc's mmap
# threshold, with one block kept after them so the heap's top cannot shrink by itself), then
# either trimmed or forked; prints what it measured as JSON.
_CHILD = r"""
import json, multiprocessing, os, sys
from kgraph import memory
mode = sys.argv[1]
if mode == "fork-released":
    memory.release_before_forks()
blocks = [bytes(4000) + i.to_bytes(4, "little") for i in range(50_000)]
keep = bytes(4000) + b"kept"
del blocks
held = memory.resident_mb()
out = {"held": held}
if mode == "trim":
    out["released"] = memory.release_freed()
    out["after"] = memory.resident_mb()
else:
    def child(pipe):
        pipe.send(memory.resident_mb())
    parent_end, child_end = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(target=child, args=(child_end,))
    process.start()
    out["child"] = parent_end.recv()
    process.join()
print(json.dumps(out))
"""


def run_child(mode: str) -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin"})
    return json.loads(done.stdout)


def test_resident_memory_is_this_process_in_megabytes() -> None:
    before = memory.resident_mb()
    block = bytearray(64 * 2**20)
    block[:: 4096] = b"x" * len(block[:: 4096])  # every page touched: resident
    assert memory.resident_mb() >= before + 60
    del block


@glibc
def test_freed_pages_held_by_the_allocator_go_back_to_the_system() -> None:
    measured = run_child("trim")
    assert measured["held"] > 200  # the freed blocks are still resident
    assert measured["released"] is True
    assert measured["after"] < measured["held"] - 150


@glibc
def test_a_process_forked_after_release_before_forks_does_not_start_with_freed_pages() -> None:
    plain, released = run_child("fork-plain"), run_child("fork-released")
    assert plain["child"] > plain["held"] - 50  # a plain fork maps everything the parent held
    assert released["child"] < released["held"] - 150


def test_release_is_harmless_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_trim", lambda: None)
    assert memory.release_freed() is False


def dump(store: Path) -> list[str]:
    version = (store / POINTER).read_text().strip()
    text = ox.Store.read_only(str(store / version)).dump(format=ox.RdfFormat.N_QUADS)
    return sorted(text.decode().splitlines())


def test_the_directive_coverage_loaded_in_batches_gives_the_same_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a batch of a few hundred quads the coverage graphs of 28-CT/TW (four graphs, ~1,200
    triples) reach the loader in several batches, none over the limit unless it is one graph
    alone; the store holds the same quads as one built with the default batch."""
    folder = tmp_path / "in"
    shutil.copytree(SOURCES, folder)
    whole = tmp_path / "whole"
    result = runner.invoke(app, ["build", str(folder), "--store", str(whole)])
    assert result.exit_code == 0, result.stderr

    limit = 300
    batches: list[tuple[list[str], int]] = []
    send = kbuild._Writer._send

    def recording_send(self: kbuild._Writer) -> None:
        if self.pending:
            batches.append((list(self.pending), self.quads))
        send(self)

    monkeypatch.setattr(kbuild, "COVERAGE_BATCH", limit)
    monkeypatch.setattr(kbuild._Writer, "_send", recording_send)
    batched = tmp_path / "batched"
    result = runner.invoke(app, ["build", str(folder), "--store", str(batched)])
    assert result.exit_code == 0, result.stderr
    assert re.search(r"directive coverage\s*│ 28-CT/TW", result.stdout)
    coverage = [(names, quads) for names, quads in batches
                if all("/graph/directive-coverage/" in n for n in names)]
    assert len(coverage) >= 3
    assert all(quads <= limit or len(names) == 1 for names, quads in coverage)
    assert dump(batched) == dump(whole)


def test_coverage_batches_keep_every_graph_whole_and_in_order() -> None:
    graphs = {"a": "x .\n" * 3, "b": "x .\n" * 4, "c": "", "d": "x .\n" * 9, "e": "x .\n"}
    batches = list(kbuild.coverage_batches(graphs, 7))
    assert [list(b) for b in batches] == [["a", "b", "c"], ["d"], ["e"]]
    assert {k: v for b in batches for k, v in b.items()} == graphs
