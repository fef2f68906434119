"""Fuzzing ``kgraph build`` with mutated seed plans (fixed random seed, a few dozen cases; the
larger run is ``bench/bench_safety.py --fuzz``).

Mutations: byte flips, truncations, control characters (form feed, vertical tab, NEL, U+2028,
U+2029, C0/C1 controls), a 10 MB line, a 1 MB line, brackets nested 3,000 deep. Every run must end
with a built store or a one-line error: no traceback, none over 30 s, and a failed run leaves the
store exactly as it was.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from kgraph.cli import app
from kgraph.store.embedded import OxigraphRepository

SEEDS = sorted((ROOT / "data" / "sources").glob("*.txt"))
CONTROLS = ["\f", "\v", "\x85", "\u2028", "\u2029", "\x07", "\x1b", "\x9f", "\x00", "\x1c"]


def mutations(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """(name, file content) cases, deterministic for a given generator."""
    texts = [seed.read_bytes() for seed in SEEDS]
    for i in range(6):
        data = bytearray(rng.choice(texts))
        for _ in range(rng.randint(1, 40)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        yield f"byte-flips-{i}", bytes(data)
    for i in range(5):
        data = rng.choice(texts)
        yield f"truncated-{i}", data[: rng.randrange(1, len(data))]
    for i, control in enumerate(CONTROLS):
        text = rng.choice(texts).decode("utf-8")
        positions = sorted(rng.randrange(len(text)) for _ in range(rng.randint(1, 25)))
        pieces, last = [], 0
        for position in positions:
            pieces += [text[last:position], control]
            last = position
        pieces.append(text[last:])
        yield f"control-{i}-U+{ord(control):04X}", "".join(pieces).encode("utf-8")
    seed = texts[0].decode("utf-8")
    middle = len(seed) // 2
    yield "line-10MB", (seed[:middle] + "x" * 10_000_000 + seed[middle:]).encode("utf-8")
    yield "line-1MB", (seed[:middle] + "ả " * 500_000 + seed[middle:]).encode("utf-8")
    yield "nesting-3000", (seed[:middle] + "(" * 3000 + "x" + ")" * 3000 + seed[middle:]
                           ).encode("utf-8")
    yield "quotes-3000", (seed[:middle] + "“" * 3000 + seed[middle:]).encode("utf-8")


def fingerprint(store: Path) -> str:
    repo = OxigraphRepository(store, read_only=True)
    rows = repo.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    summary = sorted(f"{r['g']} {r['n']}" for r in rows.records())
    del repo
    return hashlib.sha256("\n".join(summary).encode()).hexdigest()


@pytest.fixture(scope="module")
def cases() -> list[tuple[str, bytes]]:
    return list(mutations(random.Random(20250909)))


def test_mutated_plans_end_cleanly_and_failures_change_nothing(
        cases: list[tuple[str, bytes]], tmp_path: Path) -> None:
    assert len(cases) >= 24
    runner = CliRunner()
    store = tmp_path / "store"
    first = runner.invoke(app, ["build", str(SEEDS[0]), "--store", str(store)])
    assert first.exit_code == 0, first.output
    before = fingerprint(store)
    outcomes = {}
    for name, content in cases:
        source = tmp_path / f"{name}.txt"
        source.write_bytes(content)
        started = time.monotonic()
        result = runner.invoke(app, ["build", str(source), "--store", str(store)])
        seconds = time.monotonic() - started
        source.unlink()
        output = result.output
        assert "Traceback" not in output, (name, output[-2000:])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            name, repr(result.exception))
        assert seconds < 30, (name, seconds)
        after = fingerprint(store)
        if result.exit_code == 0:
            before = after  # a plan that still reads as a plan was built
        else:
            errors = [line for line in output.splitlines() if line.startswith("error:")]
            assert len(errors) == 1 and len(errors[0]) < 400, (name, output[-1000:])
            assert after == before, name  # nothing stored on failure
        outcomes[name] = result.exit_code
    refused = {name for name, code in outcomes.items() if code}
    assert {"line-10MB", "line-1MB", "nesting-3000"} <= refused
    assert outcomes["control-0-U+000C"] == 0  # a form feed (pdftotext's page break) is fine
