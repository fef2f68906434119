"""CLI start-up benchmark: ``kgraph --help`` must answer in under 0.5 s.

Why: the CLI once imported pyshacl, pyvis, rdflib and fastapi eagerly and took 2.8 s to print
its help. Each command now imports what it needs when it runs. Printed: the median wall time of
``kgraph --help`` over ``--runs`` fresh processes, against the baseline measured in the same run
(a bare ``python -c pass``) and against importing every command's heavy modules up front (what
the eager CLI paid), and the ratio of each to the target.

Run: ``.venv/bin/python bench/bench_cli.py [--runs 7]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.5
EAGER = ("import kgraph.cli, pyshacl, pyvis.network, rdflib, fastapi, kgraph.analysis.audit, "
         "kgraph.web.app")


def wall(argv: list[str], runs: int) -> float:
    """Median seconds for a fresh process running ``argv``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    baseline = wall([python, "-c", "pass"], args.runs)
    help_time = wall([python, "-c", "from kgraph.cli import app; app()", "--help"], args.runs)
    eager = wall([python, "-c", EAGER], args.runs)
    print(f"{'measure':<34}{'seconds':>9}{'× python':>10}{'× target':>10}")
    for name, value in (("python -c pass (baseline)", baseline), ("kgraph --help", help_time),
                        ("eager imports (old CLI)", eager)):
        print(f"{name:<34}{value:>9.3f}{value / baseline:>10.1f}{value / TARGET:>10.2f}")
    print(f"kgraph --help under {TARGET} s: {'yes' if help_time < TARGET else 'NO'}")
    sys.exit(0 if help_time < TARGET else 1)


if __name__ == "__main__":
    main()
