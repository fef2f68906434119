"""The small builds of a national store: one new plan, one changed plan, old code beside new.

Issue 12 asks for one new plan validated and loaded in under 1 s and a re-build after one
changed plan in under 5 s, whatever the store size. This times both the way a user runs them,
``kgraph build`` (build, directive coverage, audit index), for two code trees in the same run
(``--old-src``, default the main checkout, and this tree's ``src``), each on its own copy of
``--store`` (:func:`copy_store`: immutable files hard-linked, the rest copied), ``--runs`` times
each, the codes in turn, medians printed:

* **fresh**: ``kgraph build NEW`` in a new process (what a user pays: imports, store open,
  version switch, prune included), wall and CPU seconds, the stages the command prints, and
  the phases of the process (:data:`PHASES`: start-up, build, exit) with an import-time line;
* **loaded**: the same command a second time in one process (``app([...])``), for another new
  plan (``--new`` given twice or more), after a first one that loads the code and kept states;
* **changed**: ``kgraph build FOLDER`` where FOLDER holds the store's sources (``--sources``,
  symlinked) with one of them reworded (a task's text gains a few words), fresh and loaded;
* **moved**: the same with one of them stating another document (its number gains a digit,
  :func:`moved_folder`), fresh: the old code leaves the graph it stated before in the store,
  the new one removes it (their outputs differ there by design).

**Same output**: after each measurement both copies stay until both codes ran, then
:func:`same_output` compares them: the sorted N-Triples of every graph either build wrote (the
rest is the same hard-linked store), the named query's answers kept for the new version and
every table of the audit index (its ``version`` meta row names the copy: left out; tasks and
gaps by the task's IRI, not its row id).

A store that was never served keeps no page data, so its builds skip the "page data" stage.
``--page-data`` first computes the pages' data of the store's version from the whole store, in a
copy every run starts from (as a served store has it): the stage then runs, as it does for a
user. The copy is kept in ``--workdir`` with ``--keep`` and reused by the next run there
(minutes at national scale).

Run: ``.venv/bin/python bench/bench_one_plan.py --store /tmp/s18/store-2000
--sources /tmp/h12/bench2/corpus-2000 --new A.txt --new B.txt [--old-src /work/main/src]
[--skip-old] [--page-data] [--bytecode] [--workdir DIR]``. ``--bytecode``: both codes run
compiled, as an installed kgraph does (a sandbox setting PYTHONDONTWRITEBYTECODE makes every
process compile kgraph's modules again: a tenth of a CPU-second of a fresh build). New
plans: ``bench/corpus.py`` plans past the store's corpus (a corpus of N+k plans keeps the
first N). Copies are deleted at the end
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

# One process, the CLI command run several times (the code and kept states loaded once).
_LOADED = r"""
import json, os, sys, time
from kgraph.cli import app
store, runs = sys.argv[1], json.loads(sys.argv[2])
for label, args in runs:
    started, cpu = time.perf_counter(), time.process_time()
    try:
        app(["build", *args, "--store", store], standalone_mode=False)
    except SystemExit:
        pass
    print("RESULT " + json.dumps([label, time.perf_counter() - started,
                                  time.process_time() - cpu, os.getloadavg()[0]]), flush=True)
"""


def copy_store(source: Path, target: Path) -> None:
    """A private copy of the store, safe to write: the RocksDB ``.sst`` files of its versions
    and the per-document values of ``derived/documents`` hard-linked (never written in place),
    everything else copied (each version's manifest, logs and options, which RocksDB appends to
    or rewrites; the rest of ``derived/``: SQLite and pickles written in place; the pointer), a
    lock file of its own (a shared inode would share locks), flushed to disk. The
    version before the current one is copied too: a user's store has it, and a build prunes it
    (its deletion is part of what the build costs)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for version in sorted(source.glob("v[0-9]*")):
        (target / version.name).mkdir()
        for path in version.iterdir():
            if path.suffix == ".sst":
                os.link(path, target / version.name / path.name)
            else:
                shutil.copy2(path, target / version.name / path.name)
    shutil.copy2(source / "kgraph-current", target / "kgraph-current")
    derived = source / "derived"
    if derived.exists():  # its per-document values hard-linked: each is written whole under
        (target / "derived").mkdir()  # another name and renamed (store.derived._write), never
        for path in derived.iterdir():  # in place; the rest (the audit index) copied
            command = "-al" if path.name == "documents" else "-a"
            subprocess.run(["cp", command, str(path), str(target / "derived")], check=True)
    (target / "kgraph.lock").touch()
    # The copies written to disk now, not by the build timed next: the audit index's first
    # checkpoint syncs its file, and a fresh copy's 750 MB of unwritten pages at 20,000 plans
    # made the audit stage 0.4 s of wall and the build 0.1-0.3 CPU-s (the kernel's writeback)
    # that a user's store, written long before, never pays.
    os.sync()


# Computes the per-version data a build updates (as the server's warm-up does), whole.
_PAGE_DATA = r"""
import sys
from pathlib import Path
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.warm import page_data
repo = OxigraphRepository(Path(sys.argv[1]), read_only=True)
for name, compute in page_data(repo):
    if name != "RACI list":  # the only one a build does not update
        compute()
"""


def with_page_data(store: Path, work: Path, src: Path) -> Path:
    """A copy of ``store`` whose current version keeps its page data (computed whole once, with
    the code in ``src``; reused when ``work`` kept it from an earlier run)."""
    target = work / "store-page-data"
    ready = target / "page-data-ready"
    if ready.exists():
        print(f"page data: reusing {target}", flush=True)
        return target
    copy_store(store, target)
    started = time.perf_counter()
    subprocess.run([PYTHON, "-c", _PAGE_DATA, str(target)], check=True,
                   env={**os.environ, "PYTHONPATH": str(src)})
    ready.touch()
    print(f"page data: computed whole in {time.perf_counter() - started:.1f} s (load "
          f"{os.getloadavg()[0]:.1f})", flush=True)
    return target


def fingerprint_of(src: Path, module: str = "directive_index",
                   function: str = "fingerprint") -> str:
    """The directive index's fingerprint of a code tree (:func:`kgraph.analysis.
    directive_index.fingerprint`: what its kept states and lineage are keyed by), or another
    (the audit's: :func:`kgraph.analysis.audit_index.audit_fingerprint`)."""
    done = subprocess.run([PYTHON, "-c", f"from kgraph.analysis.{module} import "
                           f"{function}; print({function}())"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(src)}, check=True)
    return done.stdout.strip()


def _rename_kept(store: Path, kinds: tuple[str, ...], old: str, new: str) -> int:
    """Kept values ``<kind>-<old>-*`` renamed ``<kind>-<new>-*``; how many."""
    folder = store / "derived" / "documents"
    renamed = 0
    for kind in kinds:
        for path in folder.glob(f"{kind}-{old}-*.pickle"):
            path.rename(folder / path.name.replace(f"-{old}-", f"-{new}-", 1))
            renamed += 1
    return renamed


def _rekey_mark(store: Path, kind: str, old: str, new: str) -> None:
    """The sweep's mark (``derived/sweep-mark.json``) under the new fingerprint too: else the
    new code's first build sweeps every value, as the first build after an upgrade does once
    (``kgraph.analysis.sweep.after_build``), not what a small build costs."""
    mark = store / "derived" / "sweep-mark.json"
    if not mark.exists():
        return
    kept = json.loads(mark.read_text(encoding="utf-8"))
    if kept.get("fingerprints", {}).get(kind) == old:
        kept["fingerprints"][kind] = new
        mark.write_text(json.dumps(kept), encoding="utf-8")


def rekey_audit(store: Path, old: str, new: str) -> int:
    """Rename a copy's kept document audits from audit fingerprint ``old`` to ``new`` and
    mark its audit index as the new code's (``--rekey``, for a change that moves the audit
    fingerprint and leaves the findings as they were: else the new code's first small build
    recomputes the whole index); the number of files renamed."""
    import sqlite3

    if old == new:
        return 0
    renamed = _rename_kept(store, ("audit", "tasks"), old, new)
    _rekey_mark(store, "audit", old, new)
    index = store / "derived" / "audit.sqlite"
    if index.exists():
        with sqlite3.connect(index) as db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'fingerprint' AND value = ?",
                       (new, old))
        db.close()
    return renamed


def rekey(store: Path, old: str, new: str, src: Path) -> int:
    """Rename a copy's kept directive states and lineage from fingerprint ``old`` to ``new``
    (``--rekey``: a change that leaves their content as it was but moves the fingerprint, so
    that both codes continue from the same states), and mark its version as the code in
    ``src`` marks one it built (``build._keep_coverage_kept``, when it has it); the number
    renamed."""
    if old == new:  # kept under this code's key, the version marked as this code marks it
        return 0  # (marked again, its files' identity would be the reopened store's)
    renamed = _rename_kept(store, ("directive-state", "directive-lineage"), old, new)
    _rekey_mark(store, "directive", old, new)
    subprocess.run([PYTHON, "-c", _MARK, str(store)], check=True,
                   env={**os.environ, "PYTHONPATH": str(src)})
    subprocess.run([PYTHON, "-c", _CONVERT, str(store)], check=True,
                   env={**os.environ, "PYTHONPATH": str(src)})
    return renamed


# States and lineages kept whole by older code, kept by the new code as it keeps them (a head
# and parts, an index and parts, when it has them), as its first build after the change does
# once: not a one-plan build's cost.
_CONVERT = r"""
import sys
from pathlib import Path
from kgraph.analysis import directive_index as di
root = Path(sys.argv[1])
if hasattr(di, "kept_head"):
    for path in sorted((root / "derived" / "documents").glob(
            f"directive-state-{di.fingerprint()}-*.pickle")):
        di.kept_head(root, path.stem)
if hasattr(di, "LineageIndex"):  # a lineage kept whole, kept in parts under this code's key
    from kgraph.analysis.sweep import version_sources
    from kgraph.store.derived import document_value, drop_document_value, keep_document_value
    from kgraph.store.embedded import OxigraphRepository
    key = di.lineage_key(version_sources(OxigraphRepository(root, read_only=True), None))
    for path in sorted((root / "derived" / "documents").glob(
            f"directive-lineage-{di.fingerprint()}-*.pickle")):
        if "-part-" in path.stem:  # an index's part: converted with its index, if need be
            continue
        kept = document_value(root, path.stem)
        if isinstance(kept, di.LineageIndex):  # its parts renamed: the keys it names too
            prefix = f"directive-lineage-{di.fingerprint()}-part-"
            kept.parts = {name: prefix + part.rsplit("-part-", 1)[-1]
                          for name, part in kept.parts.items()}
            if getattr(kept, "layout", None) == getattr(di, "LAYOUT", None):
                keep_document_value(root, path.stem, kept)  # an index this code continues
                continue
        whole, based_on = di._whole(root, path.stem, kept)
        if whole is not None:
            index = di._keep_index(root, key, whole, False)
            stale = {path.stem, *based_on} - {key}
            if isinstance(kept, di.LineageIndex):  # another layout's parts not shared
                stale |= set(kept.parts.values()) - set(index.parts.values())
            for old in stale:
                drop_document_value(root, old)
"""


_MARK = r"""
import sys
from pathlib import Path
from kgraph import build
from kgraph.store.embedded import OxigraphRepository
from kgraph.analysis.coverage import directive_of
from kgraph.analysis.directive_index import Lineage
if hasattr(build, "_keep_coverage_kept"):
    repo = OxigraphRepository(Path(sys.argv[1]))
    found = (directive_of(repo, number) for number in Lineage.read(repo).groups())
    build._keep_coverage_kept(repo, frozenset(f[0] for f in found if f is not None))
"""


def _linked(sources: Path, folder: Path, pick: str | None) -> tuple[list[Path], Path]:
    """``folder`` made anew with symlinks to every source: the sources, and the one chosen
    (the first whose name holds ``pick``, else the last)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files = sorted(p for p in sources.iterdir() if p.suffix in {".txt", ".md"})
    chosen = next(p for p in files if pick is None or pick in p.name) if pick else files[-1]
    for path in files:
        (folder / path.name).symlink_to(path.resolve())
    return files, chosen


def changed_folder(sources: Path, folder: Path, pick: str | None) -> Path:
    """``folder``: symlinks to every source, one of them replaced by a reworded copy (a
    numbered task line gains a few words): the file returned."""
    _, chosen = _linked(sources, folder, pick)
    text = chosen.read_text(encoding="utf-8")
    match = re.search(r"^([a-zđ]\) .{20,}?)([.;]?)$", text, re.M)
    if match is None:
        raise SystemExit(f"{chosen}: no lettered task line to reword")
    edited = text[: match.end(1)] + " và các nhiệm vụ khác có liên quan" + text[match.end(1):]
    target = folder / chosen.name
    target.unlink()
    target.write_text(edited, encoding="utf-8")
    return target


def moved_folder(sources: Path, folder: Path, pick: str | None) -> Path:
    """``folder``: symlinks to every source, one of them replaced by a copy whose number (its
    "Số:" line) gains a digit, a number no other source has: the file now states another
    document, and the build replaces the graph it stated before. The file returned."""
    files, chosen = _linked(sources, folder, pick)
    text = chosen.read_text(encoding="utf-8")
    match = re.search(r"^Số: ?(\d+)", text, re.M)
    if match is None:
        raise SystemExit(f"{chosen}: no number line to correct")
    number = match[1] + "9"
    if any(f"_{number}-" in p.name for p in files):
        raise SystemExit(f"{chosen}: {number} is another source's number")
    target = folder / chosen.name
    target.unlink()
    target.write_text(text[: match.start(1)] + number + text[match.end(1):], encoding="utf-8")
    return target


def stages(output: str) -> str:
    """The stages line(s) of ``kgraph build``'s summary table, joined."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if "│ stages" in line:
            cells = [line.split("│")[2].strip()]
            for more in lines[i + 1:]:
                parts = more.split("│")
                if len(parts) < 3 or parts[1].strip():
                    break
                cells.append(parts[2].strip())
            return " ".join(cells)
    return "?"


# Where each code tree's compiled modules go with ``--bytecode`` (None: Python's settings, which
# here may forbid writing them: PYTHONDONTWRITEBYTECODE, every process compiling kgraph again).
BYTECODE: Path | None = None


def code_env(src: Path) -> dict[str, str]:
    """The environment running the code in ``src``: its modules first, and with ``--bytecode``
    their compiled form kept (as an installed kgraph has it: pip compiles at install). The
    folder mirrors every module's path, the libraries' too (Python looks for all of them
    there): one for both codes."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    if BYTECODE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(BYTECODE)
    return env


def compile_tree(src: Path, store: Path, work: Path, plan: Path) -> None:
    """Before anything is measured (``--bytecode``): the tree's modules compiled, and one
    build of ``plan`` into a throwaway copy of ``store``, which compiles every library module
    a build imports (what an installed kgraph's first run leaves)."""
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(src)], env=code_env(src), check=True,
                   stdout=subprocess.DEVNULL)
    copy_store(store, work / "store-warm-up")
    fresh(src, work / "store-warm-up", [str(plan)])
    shutil.rmtree(work / "store-warm-up", ignore_errors=True)


# ``kgraph build`` in a new process, as ``kgraph`` runs it, with the moments its phases end
# (Python's monotonic clock, one for every process of the machine) printed last on stderr: the
# first line run (the interpreter started), kgraph's command line and build modules imported
# (the ones ``_build`` imports first, imported here before the command instead: the same
# modules, the same work), the files' stage started (the observer's ``started``: typer's
# arguments, the store opened and locked, the sources listed), the command returned, the
# threads joined and the other ``atexit`` handlers run (this one is registered first).
_FRESH = r"""
import atexit, json, sys, time
marks = {"main": time.monotonic()}
def report():  # registered first, run last: after the threads joined and kgraph's handlers
    marks["handlers"] = time.monotonic()
    marks["modules"] = len(sys.modules)
    sys.stderr.write("PHASES " + json.dumps(marks) + chr(10))
    sys.stderr.write("MODULES " + " ".join(sys.modules) + chr(10))
atexit.register(report)
try:
    from kgraph.cli import app
    from kgraph.cli import progress
    marks["imported"] = time.monotonic()
    started = progress.BuildProgress.started
    def timed(self, *args, **kwargs):
        marks.setdefault("files", time.monotonic())
        return started(self, *args, **kwargs)
    progress.BuildProgress.started = timed
    app()
finally:
    marks["returned"] = time.monotonic()
"""

# The modules the last fresh build of each code tree had imported when it ended, in
# the order they were imported (for :func:`import_seconds`).
IMPORTED: dict[str, list[str]] = {}

# The phases of a fresh build, in order: (name, the mark it starts from, the mark it ends at).
PHASES = (("start", "spawn", "main"), ("imports", "main", "imported"),
          ("to files", "imported", "files"), ("build", "files", "returned"),
          ("threads and handlers", "returned", "handlers"), ("finalization", "handlers", "ended"))


def fresh(src: Path, store: Path, args: list[str]) -> dict[str, object]:
    """``kgraph build ARGS`` in a new process: wall, CPU (user + system), stages, and the
    seconds of each of :data:`PHASES` (after the command returned: the wait for the threads
    still running and the ``atexit`` handlers, then Python's finalization and the process's
    end)."""
    env = {**code_env(src), "KGRAPH_STORE": str(store)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawn = time.monotonic()
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-c", _FRESH, "build", *args, "--store", str(store)],
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    ended = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 2):
        raise SystemExit(f"kgraph build failed ({src}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    marks = {"spawn": spawn, "ended": ended}
    for line in done.stderr.splitlines():
        if line.startswith("PHASES "):
            marks.update(json.loads(line[7:]))
        elif line.startswith("MODULES "):
            IMPORTED[str(src)] = line[8:].split()
    phases = {name: marks[end] - marks[begin] for name, begin, end in PHASES
              if begin in marks and end in marks}
    return {"wall": wall, "cpu": cpu, "load": os.getloadavg()[0], "stages": stages(done.stdout),
            "phases": phases, "modules": marks.get("modules", 0)}


def phases_text(row: dict[str, object]) -> str:
    """A fresh run's phases as one line, and the start-up share (everything before the files'
    stage) of its wall."""
    phases: dict[str, float] = row.get("phases") or {}  # type: ignore[assignment]
    if not phases:
        return ""
    before = sum(phases.get(name, 0.0) for name in ("start", "imports", "to files"))
    return (" · ".join(f"{name} {phases[name]:.3f}" for name, _, _ in PHASES if name in phases)
            + f" s; start-up {before:.2f} s = {before / float(row['wall']):.0%} of the wall"  # type: ignore[arg-type]
            + f"; {row.get('modules', 0)} modules")


def loaded(src: Path, store: Path, runs: list[tuple[str, list[str]]]) -> dict[str, list[Any]]:
    """Each ``kgraph build`` of ``runs`` in one process: label -> [wall, cpu, load, stages]."""
    env = {**code_env(src), "KGRAPH_STORE": str(store)}
    done = subprocess.run([PYTHON, "-c", _LOADED, str(store), json.dumps(runs)], env=env,
                          capture_output=True, text=True)
    found = {}
    printed: list[str] = []  # what the command printed before each result (its summary)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            label, wall, cpu, load = json.loads(line[7:])
            found[label] = [wall, cpu, load, stages("\n".join(printed))]
            printed = []
        else:
            printed.append(line)
    if len(found) != len(runs):
        raise SystemExit(f"loaded runs failed ({src}):\n{done.stderr[-2000:]}")
    return found


# Reads two copies after the same build by two codes: what differs (empty when nothing does).
_SAME = r"""
import hashlib, json, sqlite3, sys
from pathlib import Path
import pyoxigraph as ox
from kgraph.store.embedded import OxigraphRepository
from kgraph.store.derived import version_value
from kgraph.analysis import coverage_answer
found = []
repos = [OxigraphRepository(Path(p), read_only=True) for p in sys.argv[1:3]]
written = set()
for repo in repos:
    changed = version_value(repo, "changed-graphs") or {}
    written.update(changed.get("graphs", []))
graphs = 0
for name in sorted(written):
    texts = []
    for repo in repos:
        node = ox.NamedNode(name)
        store = repo.reader
        text = (store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=node).decode()
                if store.contains_named_graph(node) else "")
        # (a revision's prov:invalidatedAtTime is the time of the build: left out)
        texts.append(sorted(line for line in text.splitlines()
                            if "/prov#invalidatedAtTime>" not in line))
    graphs += 1
    if texts[0] != texts[1] and "/graph/build" not in name:
        found.append(f"graph {name}: {len(texts[0])} vs {len(texts[1])} lines")
answers = [version_value(r, coverage_answer.VERSION_VALUE) for r in repos]
if getattr(answers[0], "directives", None) != getattr(answers[1], "directives", None):
    found.append("kept answers differ")
tables = 0
dbs = [sqlite3.connect(Path(p) / "derived" / "audit.sqlite") for p in sys.argv[1:3]]
# a task's row id is the order it was first compared in (one code may compare the same pairs
# in another order): tasks and the gaps naming them compared by the task's IRI
BY_IRI = {"tasks": "SELECT iri, text, source_text FROM tasks",
          "gaps": "SELECT g.plan, g.directive, g.peer, t.iri, g.best FROM gaps g "
                  "JOIN tasks t ON t.id = g.task"}
for (table,) in dbs[0].execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
    # the version row names the copy, the fingerprint row the code (both codes' findings compared)
    where = " WHERE key NOT IN ('version', 'fingerprint')" if table == "meta" else ""
    selected = BY_IRI.get(table, f"SELECT * FROM {table}{where}")
    width = len(dbs[0].execute(f"{selected} LIMIT 0").description)
    order = ", ".join(str(i + 1) for i in range(width))
    digests = []  # rows in order, hashed as they come (millions of gap rows at 20,000 plans)
    for db in dbs:
        digest, rows = hashlib.sha256(), 0
        for row in db.execute(f"{selected} ORDER BY {order}"):
            digest.update(repr(row).encode())
            rows += 1
        digests.append((rows, digest.hexdigest()))
    tables += 1
    if digests[0] != digests[1]:
        found.append(f"audit table {table}: {digests[0][0]} vs {digests[1][0]} rows")
print(json.dumps({"graphs": graphs, "tables": tables, "differences": found}))
"""


def same_output(first: Path, second: Path) -> str:
    """Whether two copies hold the same output after the same build (see the module's
    docstring): a line saying what was compared and what differs."""
    done = subprocess.run([PYTHON, "-c", _SAME, str(first), str(second)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    if done.returncode != 0:
        return f"comparison failed: {done.stderr[-500:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    what = (f"{result['graphs']} written graphs, kept answers, {result['tables']} audit "
            f"tables")
    if result["differences"]:
        return f"DIFFERENT ({what}): " + "; ".join(result["differences"][:10])
    return f"same ({what})"


def commit_of(src: Path) -> str:
    done = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "?"


def steps(args: argparse.Namespace, work: Path
          ) -> list[tuple[str, Callable[[str, Path, Path], dict[str, object]]]]:
    """The measurements, each run for every code tree in turn (old and new side by side, so a
    change of the machine's load touches both) on a fresh copy of the store."""
    new = [str(p) for p in args.new]
    found: list[tuple[str, Callable[[str, Path, Path], dict[str, object]]]] = [
        ("new plan, fresh process", lambda label, src, store: fresh(src, store, [new[0]]))]
    if len(new) > 1:
        def new_loaded(label: str, src: Path, store: Path) -> dict[str, object]:
            runs = [(f"new {i}", [n]) for i, n in enumerate(new)]
            wall, cpu, load, printed = loaded(src, store, runs)[runs[-1][0]]
            return {"wall": wall, "cpu": cpu, "load": load,
                    "stages": f"after {len(new) - 1} new plan(s) in the same process: {printed}"}
        found.append(("new plan, loaded process", new_loaded))
    if args.sources is not None:
        def changed_fresh(label: str, src: Path, store: Path) -> dict[str, object]:
            folder = work / f"changed-{label}"
            changed_folder(args.sources, folder, args.change)
            return fresh(src, store, [str(folder)])

        def changed_loaded(label: str, src: Path, store: Path) -> dict[str, object]:
            first, second = work / f"changed-{label}", work / f"changed2-{label}"
            changed_folder(args.sources, first, args.change)
            changed_folder(args.sources, second, args.change)
            edited = next(p for p in second.iterdir() if not p.is_symlink())
            edited.write_text(edited.read_text(encoding="utf-8").replace(
                " và các nhiệm vụ khác có liên quan", " và các nhiệm vụ có liên quan khác", 1),
                encoding="utf-8")
            timed = loaded(src, store, [("first", [str(first)]), ("second", [str(second)])])
            wall, cpu, load, printed = timed["second"]
            return {"wall": wall, "cpu": cpu, "load": load,
                    "stages": f"after a first changed plan in the same process: {printed}"}
        def moved_fresh(label: str, src: Path, store: Path) -> dict[str, object]:
            folder = work / f"moved-{label}"
            moved_folder(args.sources, folder, args.change)
            return fresh(src, store, [str(folder)])

        found += [("changed plan, fresh process", changed_fresh),
                  ("changed plan, loaded process", changed_loaded),
                  ("moved plan, fresh process", moved_fresh)]
    return found


def _cells(row: dict[str, object], old: dict[str, object] | None, key: str, width: int) -> str:
    """New, old and their ratio for one figure of one row."""
    mine = float(row[key])  # type: ignore[arg-type]
    if old is None:
        return f"{mine:>{width}.2f}{'-':>{width}}{'-':>9}"
    theirs = float(old[key])  # type: ignore[arg-type]
    return f"{mine:>{width}.2f}{theirs:>{width}.2f}{theirs / mine:>8.1f}×"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="store to copy (read-only)")
    parser.add_argument("--new", type=Path, action="append", required=True,
                        help="a plan not in the store (twice or more: the loaded run too)")
    parser.add_argument("--sources", type=Path, default=None,
                        help="the folder the store was built from (for the changed plan)")
    parser.add_argument("--change", default=None, help="part of the file name to reword "
                        "(default: the last file)")
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--old-store", type=Path, default=None,
                        help="the old code's copy of the store (default --store): a store whose "
                        "kept states the old code made, when the two codes key them differently")
    parser.add_argument("--rekey", action="store_true",
                        help="rename the new code's copy's kept directive states and lineage "
                        "to its fingerprint, and its kept document audits and audit index to "
                        "its audit fingerprint (a store the old code built, a change that "
                        "leaves them as they were)")
    parser.add_argument("--skip-old", action="store_true", help="measure this tree only")
    parser.add_argument("--page-data", action="store_true",
                        help="give the store its page data first (as a served store has)")
    parser.add_argument("--bytecode", action="store_true",
                        help="run both codes compiled (kept under the workdir), as an installed "
                        "kgraph runs: no module compiled again in every process")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of each measurement per code, in turn (medians printed)")
    parser.add_argument("--only", action="append", default=[],
                        help="measure only the steps whose name holds this (repeatable: "
                        "'fresh', 'loaded', 'changed', 'new plan')")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="kgraph-one-plan-"))
    work.mkdir(parents=True, exist_ok=True)
    trees = [("new", ROOT / "src")] + ([] if args.skip_old else [("old", args.old_src)])
    if args.bytecode:
        global BYTECODE
        BYTECODE = work / "bytecode"
    for label, src in trees:
        print(f"{label}: {src} ({commit_of(src)})", flush=True)
        if args.bytecode:
            compile_tree(src, args.old_store or args.store if label == "old" else args.store,
                         work, args.new[0])
    results: dict[str, dict[str, list[dict[str, object]]]] = {label: {} for label, _ in trees}
    try:
        if args.page_data:
            if args.old_store is not None:
                raise SystemExit("--page-data takes one store for both codes (no --old-store)")
            args.store = with_page_data(args.store, work, ROOT / "src")
        keys = ((fingerprint_of(args.old_src), fingerprint_of(ROOT / "src")) if args.rekey
                else None)
        audit_keys = ((fingerprint_of(args.old_src, "audit_index", "audit_fingerprint"),
                       fingerprint_of(ROOT / "src", "audit_index", "audit_fingerprint"))
                      if args.rekey else None)
        for name, run in steps(args, work):
            if args.only and not any(part in name for part in args.only):
                continue
            for turn in range(args.runs):
                # the codes in turn, the order swapped every run: a drift of the machine's load
                # weighs on both
                for label, src in trees if turn % 2 == 0 else trees[::-1]:
                    store = work / f"store-{label}"
                    copy_store(args.old_store or args.store if label == "old" else args.store,
                               store)
                    if keys is not None and audit_keys is not None and label == "new":
                        rekey(store, *keys, ROOT / "src")
                        rekey_audit(store, *audit_keys)
                    row = run(label, src, store)
                    results[label].setdefault(name, []).append(row)
                    print(f"  {label:<4}{name}: {row['wall']:.2f} s wall, {row['cpu']:.2f} CPU-s, "
                          f"load {row['load']:.1f}; {row['stages']}", flush=True)
                    if row.get("phases"):
                        print(f"      {phases_text(row)}", flush=True)
                if turn == 0 and len(trees) > 1 and args.old_store is None:
                    print(f"  output: {same_output(work / 'store-new', work / 'store-old')}",
                          flush=True)
                for label, _ in trees:
                    shutil.rmtree(work / f"store-{label}", ignore_errors=True)
        imports = {label: import_seconds(src) for label, src in trees}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"medians of {args.runs} run(s) each")
    print(f"{'':<32}{'new s':>8}{'old s':>8}{'old/new':>9}{'new CPU-s':>11}{'old CPU-s':>11}"
          f"{'old/new':>9}")
    medians = {label: {name: median_row(rows) for name, rows in found.items()}
               for label, found in results.items()}
    for name, row in medians["new"].items():
        old = medians.get("old", {}).get(name)
        print(f"{name:<32}{_cells(row, old, 'wall', 8)}{_cells(row, old, 'cpu', 11)}")
    for name, row in medians["new"].items():
        if row.get("phases"):
            for label in medians:
                print(f"{name} ({label}): {phases_text(medians[label][name])}")
    for label, found in imports.items():
        print(f"imports ({label}, `-X importtime` of the modules its fresh build imported): "
              f"{found}")
    print(f"(store {args.store}; load average now {os.getloadavg()[0]:.1f}; "
          f"{os.cpu_count()} CPUs; each figure's load is printed beside it above)")


def median_row(rows: list[dict[str, object]]) -> dict[str, object]:
    """The median of each figure of several runs of one measurement (each phase's median on its
    own: they need not add up to the median wall)."""
    middle: dict[str, object] = {key: statistics.median(float(r[key]) for r in rows)  # type: ignore[arg-type]
                                 for key in ("wall", "cpu", "load")}
    phases = [r["phases"] for r in rows if r.get("phases")]
    if phases:
        middle["phases"] = {name: statistics.median(p[name] for p in phases if name in p)  # type: ignore[index,operator]
                            for name, _, _ in PHASES if any(name in p for p in phases)}  # type: ignore[operator]
        middle["modules"] = rows[-1].get("modules", 0)
    return middle


# Imports the modules named on the command line in turn (each in a new process, timed).
_IMPORTS = r"""
import importlib, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception:  # a module importable only as its package imports it
        pass
"""


def import_seconds(src: Path, shown: int = 7) -> str:
    """``python -X importtime`` of the modules the last fresh build of the code in ``src``
    imported (:data:`IMPORTED`), in their order: the whole and the packages taking most of it
    (each module's own time, summed by top-level package)."""
    imported = IMPORTED.get(str(src), [])
    held = set(imported)
    # (a module loaded from its file without its package, as the alignment loads SciPy's
    # assignment solver, is left out: imported by name it would import the package)
    names = [n for n in imported if n not in sys.builtin_module_names and n != "__main__"
             and all(n.rsplit(".", k)[0] in held for k in range(1, n.count(".") + 1))]
    if not names:
        return "no fresh build ran"
    done = subprocess.run([PYTHON, "-X", "importtime", "-c", _IMPORTS, *names],
                          env=code_env(src), capture_output=True, text=True)
    packages: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| +(\S+)$", line)
        if match:
            top = match[2].split(".")[0]
            packages[top] = packages.get(top, 0.0) + int(match[1]) / 1e6
    heaviest = sorted(packages.items(), key=lambda item: -item[1])[:shown]
    return (f"{sum(packages.values()):.3f} s; "
            + ", ".join(f"{name} {seconds:.3f}" for name, seconds in heaviest))


if __name__ == "__main__":
    main()
