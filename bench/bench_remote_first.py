"""What a fresh server over a remote store (Virtuoso) computes before its first pages answer,
old code beside this tree: each item in a fresh process, same answer compared by digest.

Items (each computed from the store, nothing kept: ``KGRAPH_CACHE`` a new empty folder):

* ``explorer data``: the documents, agents and provinces ``/api/search`` and the filters read
  (:meth:`kgraph.analysis.page_data.ExplorerData.of`: nodes, label index, facets);
* ``home listing``: ``/``'s documents (``page_data._home_listing``);
* ``RACI list``: ``/raci`` (``web.pages.raci_documents``, the home listing given);
* ``change events``: the reference graph's (``analysis.succession._change_events``);
* ``directive-coverage``: the first ``/api/queries/directive-coverage?doc=DOC`` (JSON page,
  whole answer computed) and with ``&province=P``, through the web app;
* ``lineage down 8`` / ``lineage up 8``: the first ``/api/lineage?iri=IRI&direction=...&depth=8
  &compact=true`` (``--down IRI``, ``--up IRI``) through the web app, with the explorer's data
  ready as a served store has it after its warm-up (computed first, not timed): the walk and
  its subgraph.

Printed per item: wall seconds, the process's CPU-s and the Virtuoso server's CPU-s (``pid`` of
``--virtuoso-dir``/server.json), old and new, the old/new ratio of the wall, and whether the
answers are equal (rows by value / response bytes, by SHA-256). The directive-coverage answers
differ by design (the old code gave the query's terms over a remote store, the embedded store
gives the build's kept rows): with ``--embedded STORE`` (a copy of the built store) each is
also asked of the embedded store with this tree, and the new answer compared with it.

Run (under the heavy lock at 20,000 plans): ``PYTHONPATH=src .venv/bin/python
bench/bench_remote_first.py --url URL --virtuoso-dir DIR --old-src OLD/src [--doc 28-CT/TW]
[--province "Gia Lai"] [--down IRI] [--up IRI] [--rounds 1] [--only ITEM] [--json F]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_remote import process_cpu as server_cpu

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import hashlib, json, os, sys, time
from kgraph.store.embedded import open_repository
store = os.environ["KGRAPH_STORE"]
repo = (open_repository(store) if store.startswith(("http:", "https:"))
        else open_repository(store, read_only=True))
item, doc, province, lineage_iri = sys.argv[1:5]
repo.query("ASK {}")  # the server recognised before timing
if item.startswith("lineage"):
    from fastapi.testclient import TestClient
    from kgraph.analysis.page_data import explorer_for
    from kgraph.web.app import create_app
    explorer_for(repo)  # as after a served store's warm-up
    client = TestClient(create_app(repo))
if item == "RACI list":
    from kgraph.analysis import page_data
    import kgraph.web.pages as pages
    home = page_data._home_listing(repo)
    pages.home_listing = lambda r: home
cpu, wall = time.process_time(), time.perf_counter()
if item == "explorer data":
    from kgraph.analysis.page_data import ExplorerData
    data = ExplorerData.of(repo)
    answer = [sorted(data._node_rows().items()), data.index.state(), data.facets.model_dump()]
elif item == "home listing":
    from kgraph.analysis.page_data import _home_listing
    answer = [sorted((k, repr(v)) for k, v in vars(h).items()) for h in _home_listing(repo)]
elif item == "RACI list":
    answer = pages.raci_documents(repo)
elif item.startswith("lineage"):
    response = client.get("/api/lineage", params={
        "iri": lineage_iri, "direction": item.split()[1], "depth": 8, "compact": "true"},
        headers={"Accept-Encoding": "identity"})
    answer = [response.status_code, response.content]
elif item == "change events":
    from kgraph.analysis.succession import _change_events
    answer = repr(_change_events(repo))
else:
    from fastapi.testclient import TestClient
    from kgraph.web.app import create_app
    params = {"doc": doc, **({"province": province} if item.endswith("province") else {})}
    response = TestClient(create_app(repo)).get("/api/queries/directive-coverage",
                                                params=params)
    answer = [response.status_code, response.content]
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
# by value (repr: a pickle's bytes depend on which equal strings are one object)
digest = hashlib.sha256(answer[-1] if isinstance(answer, list) and answer
                        and isinstance(answer[-1], bytes)
                        else repr(answer).encode()).hexdigest()[:16]
print(json.dumps({"wall": wall, "cpu": cpu, "digest": digest}))
"""
ITEMS = ("explorer data", "home listing", "RACI list", "change events", "directive-coverage",
         "directive-coverage province", "lineage down 8", "lineage up 8")


def measure(src: Path, item: str, doc: str, province: str, env: dict[str, str],
            pid: int | None, lineage_iri: str = "") -> dict[str, Any]:
    """One item in a fresh process of the code in ``src``, with an empty cache."""
    with tempfile.TemporaryDirectory(prefix="kgraph-first-") as cache:
        before = server_cpu(pid)
        done = subprocess.run([sys.executable, "-c", CHILD, item, doc, province, lineage_iri],
                              env={**env, "PYTHONPATH": str(src), "KGRAPH_CACHE": cache,
                                   # one set order in every child: the label index's state
                                   # is compared by its repr
                                   "PYTHONHASHSEED": "0"},
                              capture_output=True, text=True, timeout=900)
        if done.returncode:
            raise RuntimeError(f"{item} ({src}): {done.stderr.strip()[-600:]}")
        found = json.loads(done.stdout.strip().splitlines()[-1])
        found["server_cpu"] = server_cpu(pid) - before
        return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--virtuoso-dir", type=Path, required=True)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--doc", default="28-CT/TW")
    parser.add_argument("--province", default="Gia Lai")
    parser.add_argument("--down", default="", help="the IRI of the 'lineage down 8' item")
    parser.add_argument("--up", default="", help="the IRI of the 'lineage up 8' item")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", action="append", default=[], help="an item (repeatable)")
    parser.add_argument("--embedded", type=Path, help="a copy of the built store (read only)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    info = json.loads((args.virtuoso_dir / "server.json").read_text())
    env = {**os.environ, **{k: v for k, v in info.items() if k.startswith("KGRAPH_")},
           "KGRAPH_STORE": args.url, "KGRAPH_STORE_TIMEOUT": "900"}
    pid = info.get("pid")
    codes = {"old": args.old_src.resolve(), "new": ROOT / "src"}
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    print(f"load {os.getloadavg()[0]:.1f}; old = {codes['old']}, new = {codes['new']}")
    print(f"{'item':30s} {'old wall / CPU / server CPU':>30s} {'new wall / CPU / server CPU':>30s}"
          f" {'old/new':>8s}  same")
    lineage = {"lineage down 8": args.down, "lineage up 8": args.up}
    for item in args.only or ITEMS:
        if item in lineage and not lineage[item]:
            continue  # no IRI given
        for _ in range(args.rounds):
            row = {}
            for label, src in codes.items():
                row[label] = measure(src, item, args.doc, args.province, env, pid,
                                     lineage.get(item, ""))
                results.setdefault(item, {}).setdefault(label, []).append(row[label])
            old, new = row["old"], row["new"]
            same = "yes" if old["digest"] == new["digest"] else "NO"
            if args.embedded and item.startswith("directive-coverage"):
                local = measure(codes["new"], item, args.doc, args.province,
                                {**env, "KGRAPH_STORE": str(args.embedded)}, None)
                results[item].setdefault("embedded", []).append(local)
                same += (f"; new = embedded ({local['wall']:.2f} s): "
                         f"{'yes' if local['digest'] == new['digest'] else 'NO'}")
            cells = [f"{r['wall']:8.2f} s {r['cpu']:6.2f} {r['server_cpu']:6.2f}"
                     for r in (old, new)]
            print(f"{item:30s} {cells[0]:>30s} {cells[1]:>30s} {old['wall'] / new['wall']:7.1f}×"
                  f"  {same}", flush=True)
    print(f"load {os.getloadavg()[0]:.1f}")
    if args.json:
        kept = json.loads(args.json.read_text()) if args.json.exists() else {}
        kept[time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())] = {
            "url": args.url, "doc": args.doc, "province": args.province,
            "load": round(os.getloadavg()[0], 1), "items": results}
        args.json.write_text(json.dumps(kept, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
