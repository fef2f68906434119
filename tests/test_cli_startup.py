"""`kgraph --help` stays fast: the CLI imports heavy libraries only in the commands using them
(bench/bench_cli.py measures the time; this checks the cause, which does not depend on load)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pyshacl", "pyvis", "rdflib", "fastapi", "pyoxigraph", "networkx", "uvicorn")


def test_help_imports_no_heavy_library() -> None:
    code = ("import sys\nfrom kgraph.cli import app\n"
            "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print('heavy:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "dump" in done.stdout and "viz" in done.stdout  # every command is listed
    assert done.stdout.strip().splitlines()[-1] == "heavy:"  # and none of HEAVY was imported
