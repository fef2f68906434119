"""`kgraph eval` takes any gold and folder: refused or crashed documents count as misses, an
unexpected gold value is an error row (never a traceback), per-document and total rows."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kgraph.cli import app

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "sources" / "004_d5d135182c80a159.txt"


def _eval(gold: Path, sources: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["eval", "--gold", str(gold), "--sources", str(sources)])
    return result.exit_code, result.stdout, result.stderr


def test_refused_and_odd_gold_entries_are_misses_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / SEED.name).write_bytes(SEED.read_bytes())
    (tmp_path / "empty.txt").write_bytes(b"")
    assignment = {"no": "1", "agencies": ["Sở Y tế"], "items": 2}
    gold = {
        "documents": [
            {"file": "empty.txt", "document": {}, "assignments": [assignment, assignment],
             "reporting": [{"frequency": "annual"}]},
            {"file": SEED.name, "document": {"number": "2509/KH-UBND"},
             "assignments": [{"no": "1", "agencies": None}]},
            {"file": "missing.txt", "assignments": [assignment]},
            {"document": {}},
        ]
    }
    path = tmp_path / "gold.json"
    path.write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    code, out, err = _eval(path, tmp_path)
    assert code == 0, err
    assert "Traceback" not in out + err
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "ERROR" in rows["empty.txt"] and "empty file" in rows["empty.txt"]
    assert "unexpected gold value" in rows[SEED.name]
    assert "ERROR" in rows["missing.txt"]
    total = rows["TOTAL"].split()
    assert total[3] == "0/4"  # agency: two + one + one gold assignments, all misses
    assert total[-1] == "0/1"  # the refused document's reporting duty is a miss too


def test_a_file_that_is_no_gold_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "gold.json"
    path.write_text("not json", encoding="utf-8")
    code, _, err = _eval(path, tmp_path)
    assert code == 2 and "not a readable gold file" in err and len(err.strip().splitlines()) == 1
