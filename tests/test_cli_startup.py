"""`kgraph --help` stays fast: the CLI imports heavy libraries only in the commands using them
(bench/bench_cli.py measures the time; this checks the cause, which does not depend on load)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pyshacl", "pyvis", "rdflib", "fastapi", "pyoxigraph", "networkx", "uvicorn", "sklearn",
         "scipy")


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


def test_build_reports_progress_on_stderr_and_a_summary_table(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kgraph.cli import app

    result = CliRunner().invoke(app, ["build", str(ROOT / "data" / "sources"),
                                      "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert "built 5 document graph(s)" in result.stdout
    table = result.stdout[result.stdout.index("kgraph build"):]
    for row in ("source files", "documents loaded", "triples loaded", "TriG files", "store"):
        assert row in table
    assert "│ 5 " in table  # five source files, five graphs
    assert "validation: " in result.stdout
    assert "reading" not in result.stdout and "auditing" not in result.stdout  # bar: stderr


_COLLECTIONS = r"""
import gc, sys
import kgraph.build
from kgraph.cli import app
found, building = [], []
real = kgraph.build.build
def build(*args, **kwargs):  # the collections while the store is built
    building.append(1)
    try:
        return real(*args, **kwargs)
    finally:
        building.clear()
kgraph.build.build = build
gc.callbacks.append(lambda phase, info: found.append(1) if phase == "start" and building
                    else None)
try:
    app(["build", *sys.argv[2:], "--store", sys.argv[1]], standalone_mode=False)
except SystemExit:
    pass
print(len(found), gc.isenabled())
"""


def test_a_build_of_a_plan_file_runs_no_cycle_collection_and_a_folders_does(
        tmp_path: Path) -> None:
    """``kgraph build PLAN``: no collection walks the objects of a short build (the collector
    is back on after it); a build of a folder of plans collects as before."""
    sources = sorted((ROOT / "data" / "sources").glob("*.txt"))
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))

    def build(*args: Path) -> tuple[int, str]:
        done = subprocess.run([sys.executable, "-c", _COLLECTIONS, str(tmp_path / "store"),
                               *map(str, args)], capture_output=True, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        count, enabled = done.stdout.strip().splitlines()[-1].split()
        return int(count), enabled

    folder = tmp_path / "plans"
    folder.mkdir()
    for source in sources[1:]:
        (folder / source.name).symlink_to(source)
    assert build(folder)[0] > 0
    assert build(sources[0]) == (0, "True")


_YOUNG = r"""
import gc, sys
from kgraph.cli import app
try:
    app(["build", sys.argv[2], "--store", sys.argv[1]], standalone_mode=False)
except SystemExit:
    pass
print(len(gc.get_objects(0)) + len(gc.get_objects(1)), gc.isenabled())
"""


def test_what_a_one_plan_build_kept_is_not_left_to_a_young_collection(tmp_path: Path) -> None:
    """After ``kgraph build PLAN`` the collector is on, and the young generations do not hold
    the build's objects (each of them walked by the first collection after the command, to
    free nothing: 22 ms of a one-plan build at 20,000 plans)."""
    source = sorted((ROOT / "data" / "sources").glob("*.txt"))[0]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", _YOUNG, str(tmp_path / "store"), str(source)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    young, enabled = done.stdout.strip().splitlines()[-1].split()
    assert enabled == "True"
    assert int(young) < 2_000  # (left young, the build's objects: hundreds of thousands)


def test_a_settled_pause_leaves_what_was_frozen_before_it_frozen() -> None:
    import gc

    from kgraph.memory import collector_paused

    kept: list[object] = []
    gc.unfreeze()  # (an earlier test's build in this process froze its workspace)
    gc.collect()  # the generations' counts from zero: no older collection due meanwhile
    try:
        with collector_paused(settle=True):
            kept.extend([i] for i in range(10_000))
        assert len(gc.get_objects(0)) + len(gc.get_objects(1)) < 1_000  # moved to the oldest
        assert gc.isenabled()
        gc.freeze()  # as a server freezes its per-version data
        frozen = gc.get_freeze_count()
        with collector_paused(settle=True):
            kept.extend([i] for i in range(10_000))
        assert gc.get_freeze_count() == frozen  # not unfrozen by the pause
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_kept_coverage_answer_on_the_embedded_store_imports_no_aligner_and_no_http_client(
        tmp_path: Path) -> None:
    """The kept ``directive-coverage`` rows are read, not aligned: a query of them imports
    neither the aligner's numpy nor the remote store's HTTP client (a fifth of its second)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    store = str(tmp_path / "store")
    build = ("from kgraph.cli import app\n"
             f"app(['build', {str(ROOT / 'data' / 'sources')!r}, '--store', {store!r}])")
    built = subprocess.run([sys.executable, "-c", build], capture_output=True, text=True,
                           env=env, timeout=600)
    assert built.returncode == 0, built.stderr
    code = ("import sys\nfrom kgraph.cli import app\n"
            "try:\n    app(['query', 'directive-coverage', '-p', 'doc=28-CT/TW', '--store', "
            f"{store!r}, '-f', 'csv'])\nexcept SystemExit:\n    pass\n"
            "print('heavy:' + ','.join(m for m in ('numpy', 'httpx') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("task,reconstructed,") and len(lines) > 10  # the answer's rows
    assert lines[-1] == "heavy:"


def test_the_page_data_update_of_a_build_imports_no_graph_library() -> None:
    """A one-plan build of a served store updates the pages' data, which makes no lineage graph:
    importing it leaves networkx out (0.05 s of that build's process); a graph made imports it."""
    code = ("import sys\nimport kgraph.analysis.page_data\n"
            "print('networkx' in sys.modules)\n"
            "from kgraph.analysis.lineage import LineageGraph\n"
            "print(type(LineageGraph().flow_edges()).__module__.split('.')[0])")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "networkx"]
