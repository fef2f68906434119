"""Each named query's editor text through ``/sparql``, old code beside new, on one built store.

The query page's "to editor" button fetches ``/api/queries/NAME?format=sparql`` and runs the
text through ``/sparql``. The old code gives the portable SPARQL 1.1 text (its ``/sparql``
refused LATERAL); the new code gives the text the store runs (the Oxigraph text, with LATERAL
joins, on the embedded store). Both servers serve the same store in the same run (``kgraph
serve --no-warm``, one with ``--old-src`` on its PYTHONPATH); for each query: the first request
of each text (new first, so that the new one pays the cold cache), then warm requests taken
in turn, the rows of both answers compared (as multisets; ``GROUP_CONCAT`` columns as sets),
and the new server's ``/api/queries/NAME`` total beside them. A text the old server stops
(timeout, memory) is timed once. Prints the load average before and after. ``--wide`` adds the
answers that grow with the corpus (a national directive's assignments, every plan's reporting,
one province's coverage of the directive), each under its own label.

    flock /tmp/LOCK python bench/bench_editor_texts.py --store COPY --plans 20000 \\
        --old-src /path/to/old/src [--wide]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import bench_app  # noqa: E402
from bench_app import pick, query_values  # noqa: E402
from corpus import generate_plans  # noqa: E402

CONCATENATED = {"lead": "; ", "stated_by": ", "}  # GROUP_CONCAT columns: order is the engine's
SLOW_S = 5.0  # a text slower than this is timed warm once more, not ``runs`` times
JSON = "application/sparql-results+json"


def serve(store: Path, src: Path, timeout: float) -> tuple[subprocess.Popen[bytes], str]:
    """``kgraph serve`` of ``store`` with the code of ``src``, once /health answers."""
    return bench_app.serve(store, warm=False, env={**os.environ, "PYTHONPATH": str(src.resolve())},
                           tries=900, query_timeout=timeout)


def rows(body: dict) -> Counter[tuple[str, ...]]:
    columns = body["head"]["vars"]

    def shown(variable: str, binding: dict | None) -> str:
        text = binding["value"] if binding else ""
        separator = CONCATENATED.get(variable)
        return separator.join(sorted(text.split(separator))) if separator else text

    return Counter(tuple(shown(v, b.get(v)) for v in columns) for b in body["results"]["bindings"])


class Side:
    """One server: its editor texts, timings and answers."""

    def __init__(self, name: str, url: str, client_timeout: float) -> None:
        self.name, self.url = name, url
        self.client = httpx.Client(base_url=url, timeout=client_timeout)
        self.texts: dict[str, str] = {}
        self.times: dict[str, list[float]] = {}
        self.answers: dict[str, Counter[tuple[str, ...]] | str] = {}
        self.cut: set[str] = set()  # answers cut at the server's row or byte cap
        self.kept: set[str] = set()  # answered from the named query's kept answer

    def editor_text(self, label: str, name: str, values: dict[str, str]) -> str:
        response = self.client.get(f"/api/queries/{name}", params={**values, "format": "sparql"})
        response.raise_for_status()
        self.texts[label] = response.text
        return response.text

    def run(self, name: str) -> bool:
        """One request of the editor text; False when the server stopped or refused it."""
        started = time.perf_counter()
        response = self.client.post("/sparql", data={"query": self.texts[name]},
                                    headers={"Accept": JSON})
        took = time.perf_counter() - started
        self.times.setdefault(name, []).append(took)
        if response.status_code != 200:
            self.answers[name] = f"{response.status_code}: {response.text.strip()[:160]}"
            return False
        self.answers.setdefault(name, rows(response.json()))
        if response.headers.get("x-kgraph-truncated") == "true":
            self.cut.add(name)
        if response.headers.get("x-kgraph-kept-answer"):
            self.kept.add(name)
        return True


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True,
                        help="a built store (a hard-link copy: the servers open it)")
    parser.add_argument("--plans", type=int, required=True, help="its corpus size (parameters)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5, help="warm requests per text")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="the servers' query timeout, s (an old text may be stopped)")
    parser.add_argument("--only", action="append", default=[], help="query names")
    parser.add_argument("--wide", action="store_true",
                        help="also the answers that grow with the corpus")
    args = parser.parse_args(argv)
    params = pick(generate_plans(args.plans, args.seed))
    cases = {name: (name, found) for name, found in query_values(params).items()}
    if args.wide:
        cases.update({
            f"assignments {params['directive']}": ("assignments", {"doc": params["directive"]}),
            "reporting (every plan)": ("reporting", {}),
            f"directive-coverage {params['province']}": (
                "directive-coverage", {"doc": params["directive"], "province": params["province"]}),
        })
    names = [label for label, (n, _) in cases.items() if not args.only or n in args.only]
    print(f"load before: {load()}  ({time.strftime('%H:%M:%S', time.gmtime())} UTC)", flush=True)
    servers = []
    try:
        servers.append(serve(args.store, ROOT / "src", args.timeout))
        servers.append(serve(args.store, args.old_src, args.timeout))
        new = Side("new", servers[0][1], args.timeout + 60)
        old = Side("old", servers[1][1], args.timeout + 60)
        totals: dict[str, int] = {}
        for name in names:
            query, values = cases[name]
            for side in (new, old):
                side.editor_text(name, query, values)
            print(f"{name} {values}: LATERAL in new {'LATERAL' in new.texts[name]}, "
                  f"in old {'LATERAL' in old.texts[name]}", flush=True)
            ok = {side.name: side.run(name) for side in (new, old)}
            print(f"  first: new {new.times[name][0]:.3f} s, old {old.times[name][0]:.3f} s"
                  + ("" if ok["old"] else f" ({old.answers[name]})"), flush=True)
            for i in range(args.runs):
                for side in (old, new) if i % 2 else (new, old):
                    if not ok[side.name] or (side.times[name][0] > SLOW_S and i >= 1):
                        continue
                    ok[side.name] = side.run(name)
            page = new.client.get(f"/api/queries/{query}", params={**values, "limit": 10_000})
            totals[name] = page.json().get("total", -1) if page.status_code == 200 else -1
    finally:
        for server, _ in servers:
            server.terminate()
            server.wait(timeout=60)
    print(f"load after: {load()}  ({time.strftime('%H:%M:%S', time.gmtime())} UTC)")
    print(f"\n## editor text through /sparql at {args.plans} plans: first s, warm median ms "
          f"(n), old (portable) → new (the store's text)")
    print("| query | rows | /api total | old first | old warm | new first | new warm | warm ratio "
          "| same rows | new from kept |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for name in names:
        a, b = old.answers.get(name), new.answers.get(name)
        ot, nt = old.times[name], new.times[name]
        warm_old = statistics.median(ot[1:]) * 1000 if len(ot) > 1 else float("nan")
        warm_new = statistics.median(nt[1:]) * 1000 if len(nt) > 1 else float("nan")
        same = ("yes" if a == b else "NO") if isinstance(a, Counter) else f"old: {a}"
        count = sum(b.values()) if isinstance(b, Counter) else -1
        if name in new.cut or name in old.cut:
            same += f" (cut at the row cap: new {name in new.cut}, old {name in old.cut})"
        print(f"| {name} | {count} | {totals[name]} | {ot[0]:.2f} | "
              f"{warm_old:.1f} ({len(ot) - 1}) | {nt[0]:.3f} | {warm_new:.1f} ({len(nt) - 1}) | "
              f"{warm_old / warm_new if warm_new else float('nan'):.1f} | {same} | "
              f"{'yes' if name in new.kept else 'no'} |")


if __name__ == "__main__":
    main()
