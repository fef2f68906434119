"""What the kept derived values of a store weigh after re-ingested plans and a fingerprint move,
old code (nothing deletes them) beside new (the build sweeps them, kgraph.analysis.sweep).

Each code gets its own copy of ``--store`` (hard links, ``derived/`` copied: bench_one_plan's
``copy_store``; the new code's copy ``--rekey``-ed as bench_one_plan does, so that its first
build continues from the same states instead of moving the directive fingerprint). In one
process per code, as an operator re-ingests plans one at a time: ``--changed`` plans of
``--sources`` are reworded one after the other (a lettered task line gains a few words) and
each is built alone (``kgraph build FILE``, the audit index and page data included). Then, in a
second process, the audit, directive and record fingerprints are moved (monkeypatched, as a code
upgrade moves them) and the first plan reworded again and built: the audit index of every plan
is recomputed under the new fingerprint, the plan's directive re-aligned. Printed per code:
``derived/`` and ``derived/documents`` (values, MB) at the start, after the re-ingests and after
the move; the builds' CPU-s and the new code's sweep stage; then whether both copies hold the
same output (bench_one_plan's ``same_output``: the graphs the last build wrote, the kept answers,
every audit table).

Run: ``python bench/bench_sweep.py --store /tmp/s30/store-2000 --sources /tmp/s30/corpus-2000
--old-src /tmp/s30/old/src [--changed 20] [--workdir DIR] [--keep]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_one_plan import (
    copy_store,
    fingerprint_of,
    rekey,
    rekey_audit,
    same_output,
    stages,
)

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

# One process: each file reworded and built alone; CPU-s and the summary's stages of each.
_REINGEST = r"""
import json, os, re, sys, time
from kgraph.cli import app
store, files, move = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "move"
if move:  # a code upgrade: every fingerprint elsewhere
    from kgraph.analysis import audit_index, directive_index
    audit_index.audit_fingerprint = lambda: "0123456789ab"
    directive_index.fingerprint = lambda: "ba9876543210"
    directive_index.record_fingerprint = lambda: "aaaabbbbcccc"
for index, name in enumerate(files):
    text = open(name, encoding="utf-8").read()
    match = re.search(r"^([a-zđ]\) .{20,}?)([.;]?)$", text, re.M)
    added = f" và các nhiệm vụ khác có liên quan {index}{move}"
    edited = text[: match.end(1)] + added + text[match.end(1):]
    open(name, "w", encoding="utf-8").write(edited)
    cpu = time.process_time()
    try:
        app(["build", name, "--store", store], standalone_mode=False)
    except SystemExit:
        pass
    print("RESULT " + json.dumps([time.process_time() - cpu, os.getloadavg()[0]]), flush=True)
"""


def weigh(store: Path) -> dict[str, float]:
    """``derived/`` in MB, ``derived/documents`` in values and MB."""
    def size(folder: Path) -> int:
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())

    documents = store / "derived" / "documents"
    return {"derived MB": size(store / "derived") / 1e6,
            "values": len(list(documents.glob("*.pickle"))),
            "values MB": size(documents) / 1e6}


def run(src: Path, store: Path, files: list[Path], move: bool) -> tuple[float, list[str]]:
    """The builds of ``files`` in one process of the code in ``src``: total CPU-s, each
    build's sweep stage (new code) as the summary prints it."""
    done = subprocess.run([PYTHON, "-c", _REINGEST, str(store), json.dumps(list(map(str, files))),
                           "move" if move else "-"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(src)})
    results, printed, sweeps = [], [], []
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            results.append(json.loads(line[7:]))
            output = "\n".join(printed)
            swept = re.findall(r"kept values swept\s*│\s*([^│]*?)\s*│", output)
            sweep = re.findall(r"sweep (\d+\.\d+) s", stages(output))
            sweeps.append(f"{swept[0] if swept else '-'} (stage {sweep[0] if sweep else '-'} s)")
            printed = []
        else:
            printed.append(line)
    if len(results) != len(files):
        raise SystemExit(f"builds failed ({src}):\n{done.stderr[-3000:]}")
    return sum(r[0] for r in results), sweeps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--changed", type=int, default=20)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="kgraph-sweep-"))
    work.mkdir(parents=True, exist_ok=True)
    plans = [p for p in sorted(args.sources.glob("*.txt"))  # those with a line to reword
             if re.search(r"^([a-zđ]\) .{20,}?)([.;]?)$", p.read_text("utf-8"), re.M)]
    step = max(1, len(plans) // args.changed)
    chosen = plans[step // 2::step][: args.changed]  # spread over the corpus
    trees = [("new", ROOT / "src"), ("old", args.old_src)]
    table: dict[str, list[str]] = {}
    try:
        for label, src in trees:
            store = work / f"store-{label}"
            copy_store(args.store, store)
            if label == "new":
                rekey(store, fingerprint_of(args.old_src), fingerprint_of(src), src)
                rekey_audit(store, fingerprint_of(args.old_src, "audit_index",
                                                  "audit_fingerprint"),
                            fingerprint_of(src, "audit_index", "audit_fingerprint"))
            folder = work / f"plans-{label}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            files = [Path(shutil.copy(p, folder / p.name)) for p in chosen]
            rows = [weigh(store)]
            cpu, sweeps = run(src, store, files, move=False)
            rows.append(weigh(store))
            cpu_move, sweeps_move = run(src, store, files[:1], move=True)
            rows.append(weigh(store))
            table[label] = [f"{r['derived MB']:.1f} MB; {r['values']} values, "
                            f"{r['values MB']:.1f} MB" for r in rows]
            print(f"{label}: {args.changed} one-plan builds {cpu:.1f} CPU-s, after the move "
                  f"{cpu_move:.1f} CPU-s (load {os.getloadavg()[0]:.1f})", flush=True)
            for line in sweeps + sweeps_move:
                print(f"  swept: {line}", flush=True)
        print(f"output: {same_output(work / 'store-new', work / 'store-old')}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"{'derived/ (values in derived/documents)':<40}{'new':>40}{'old':>40}")
    for index, name in enumerate(("at the start", f"after {args.changed} re-ingested plans",
                                  "after a fingerprint move")):
        print(f"{name:<40}{table['new'][index]:>40}{table['old'][index]:>40}")


if __name__ == "__main__":
    main()
