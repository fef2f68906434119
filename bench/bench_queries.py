"""The named queries against another formulation of themselves: same answers, and how fast.

Runs every named query's Oxigraph text (``queries/oxigraph/NAME.rq``, what the embedded store
runs) with the parameters a user of the synthetic corpus would give, plus the "every document"
variants, on a built store, read-only, in-process with plain pyoxigraph, next to its portable
SPARQL 1.1 text (``queries/NAME.rq``, what /sparql and other engines run) or, with
``--baseline-ref``, the text at a git revision; prints for each: rows, whether the answers are
the same (as multisets of rows), and the median time of each with the ratio.

Run: ``.venv/bin/python bench/bench_queries.py --store /tmp/copy-of-store-2000 --plans 2000``
(``--plans`` regenerates the corpus' parameters: the same seed as bench/corpus.py).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from bench_app import pick  # noqa: E402
from corpus import generate_plans  # noqa: E402
from kgraph.analysis.queries import NamedQuery, named_queries, parse_named_query  # noqa: E402
from kgraph.store.embedded import OxigraphRepository, StoreDirectory  # noqa: E402

SLOW_S = 5.0  # a query slower than this is run once


def cases(params: dict[str, str]) -> dict[str, tuple[str, dict[str, str]]]:
    """Case name -> (query, values)."""
    return {
        "implementers": ("implementers", {"doc": params["directive"]}),
        "implementers of a plan": ("implementers", {"doc": params["plan"]}),
        "lineage": ("lineage", {"doc": params["leaf"]}),
        "lineage of a plan": ("lineage", {"doc": params["plan"]}),
        "assignments": ("assignments", {"doc": params["plan"]}),
        "assignments of the directive": ("assignments", {"doc": params["directive"]}),
        "reporting": ("reporting", {"doc": params["plan"]}),
        "reporting (every plan)": ("reporting", {"doc": ""}),
        "conflicts": ("conflicts", {"doc": params["directive"]}),
        "conflicts (every document)": ("conflicts", {"doc": ""}),
        "agency": ("agency", {"agency": params["agency"], "province": params["province"]}),
        "agency (every province)": ("agency", {"agency": params["agency"], "province": ""}),
        "audit_conflicts": ("audit_conflicts", {}),
        "directive-coverage": ("directive-coverage", {"doc": params["directive"]}),
        "deadlines": ("deadlines", {"doc": params["plan"], "date": "2026-01-01"}),
        "deadlines (every plan)": ("deadlines", {"doc": "", "date": "2026-01-01"}),
        "responsible-today": ("responsible-today", {"doc": params["plan"],
                                                    "date": "2026-01-01"}),
    }


def baseline_queries(ref: str) -> dict[str, NamedQuery]:
    """The named queries as written at git revision ``ref``."""
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", ref, "queries/"],
                           capture_output=True, text=True, check=True).stdout.split()
    found = {}
    for path in names:
        if path.endswith(".rq"):
            text = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:{path}"],
                                  capture_output=True, text=True, check=True).stdout
            found[Path(path).stem] = parse_named_query(Path(path).stem, text)
    return found


def run(store: ox.Store, text: str, runs: int) -> tuple[float, Counter[tuple[str, ...]]]:
    samples, answer = [], Counter()
    for _ in range(runs):
        started = time.perf_counter()
        result = store.query(text, use_default_graph_as_union=True)
        answer = Counter(tuple("" if t is None else str(t) for t in row) for row in result)
        samples.append(time.perf_counter() - started)
        if samples[-1] > SLOW_S:
            break
    return statistics.median(samples), answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a built store (read-only)")
    parser.add_argument("--plans", type=int, required=True, help="size of its bench corpus")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline-ref", default="",
                        help="compare with the queries at this git revision (e.g. 7c2b4fe, "
                             "before the rewrite for scale) instead of the portable texts")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", action="append", default=[], help="a case to run (repeatable)")
    args = parser.parse_args(argv)
    params = pick(generate_plans(args.plans, args.seed))
    version = StoreDirectory(args.store).current()
    store = ox.Store.read_only(str(version or args.store))
    now = {name: q.for_repository(OxigraphRepository()) for name, q in named_queries().items()}
    before = baseline_queries(args.baseline_ref) if args.baseline_ref else named_queries()
    todo = cases(params)
    from kgraph.graph.iris import number_key

    part = next(iter(store.query(
        "SELECT ?part WHERE { ?plan <https://w3id.org/kgraph/def#numberKey> "
        f"\"{number_key(params['plan'])}\" . ?part <https://w3id.org/kgraph/def#partOf> ?plan }}"
        " LIMIT 1", use_default_graph_as_union=True)), None)
    if part is not None:  # lineage from a task, duty or assignment given by its IRI
        todo["lineage of a part"] = ("lineage", {"doc": part[0].value})
    print(f"{'case':<30} {'rows':>7} {'answer':>7} {'before ms':>10} {'now ms':>9} {'ratio':>7}")
    differing = 0
    for case, (name, values) in todo.items():
        if args.only and case not in args.only:
            continue
        if name not in before:
            continue
        old_s, old = run(store, before[name].render(values), args.runs)
        new_s, new = run(store, now[name].render(values), args.runs)
        same = old == new
        differing += not same
        print(f"{case:<30} {sum(new.values()):>7} {'same' if same else 'DIFF':>7} "
              f"{old_s * 1000:>10.1f} {new_s * 1000:>9.1f} {old_s / max(new_s, 1e-9):>7.1f}",
              flush=True)
    print(f"\n{differing} case(s) with a different answer")


if __name__ == "__main__":
    main()
