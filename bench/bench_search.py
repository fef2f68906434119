"""The two searches at each store size, old code beside new: the home search (``/?q=``, a new
query's first page, then the same page again) and the explorer's label search
(``/api/search``), each in a fresh process per code and size, through the app (FastAPI's test
client, no server) and the search function alone; then whether both codes gave the same
answers (the home page's total and its rows, the label search's 100 first hits).

Queries: a fixed set of kinds (common and rare words, a document number, a province, a phrase,
no hits) and ``--sample`` more drawn with ``--seed`` from the listing's titles, numbers and
provinces (home) and from the label index's words and their prefixes (label search).

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_search.py --store 2000=COPY2K
--store 20000=COPY20K --old-src /work/wt/base/src [--sample 300] [--repeat 5]``. Each COPY
is a hard-link copy of a built store (``cp -al``): the children keep per-version data in it
(the listing and explorer data are computed once, by this tree, before the children run; each
code then computes its own search index from them, timed as ``index``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOME_KINDS = {"common word": "kế hoạch", "rare word": "biến đổi khí hậu", "number": "211-KH/TU",
              "province": "Gia Lai", "phrase": "bảo vệ trẻ em", "no hits": "không có gì zzq",
              "type": "KH-UBND", "one letter": "a"}
LABEL_KINDS = {"one common word": "ubnd", "common prefix": "so", "one letter": "u",
               "agency in province": "so y te gia lai", "number": "28 ct tw",
               "two common words": "ubnd xa", "province": "gia lai", "no hits": "zzq"}


def prepare(store: Path, sample: int, seed: int) -> dict[str, list[str]]:
    """The listing and explorer data kept in ``store`` (this tree computes them once), and the
    queries: the fixed kinds first, then the sampled ones."""
    from kgraph.analysis.page_data import explorer_for, home_listing
    from kgraph.analysis.search import tokens
    from kgraph.store.embedded import open_repository

    repo = open_repository(store, read_only=True)
    listing = home_listing(repo)
    index = explorer_for(repo).index
    rng = random.Random(seed)
    fields = [text for d in listing for text in (d.title, d.number, d.province or "") if text]
    home = list(HOME_KINDS.values())
    while len(home) < len(HOME_KINDS) + sample:
        words = rng.choice(fields).split()
        first = rng.randrange(len(words))
        home.append(" ".join(words[first:first + rng.choice((1, 1, 2, 3))]))
    labels = list(LABEL_KINDS.values())
    entries = index.state()
    while len(labels) < len(LABEL_KINDS) + sample:
        words = tokens(rng.choice(entries)[2])
        if not words:
            continue
        word = rng.choice(words)
        labels.append(word[:rng.randint(1, len(word))] if rng.random() < 0.5 else
                      " ".join(words[:rng.randint(1, len(words))]))
    return {"home": home, "labels": labels}


def child(store: Path, queries_file: Path, repeat: int) -> None:
    """One code's timings and answers on one store (run in a fresh process)."""
    import re

    from fastapi.testclient import TestClient

    from kgraph.analysis import page_data
    from kgraph.ingest.text import nfc, slugify
    from kgraph.store.embedded import open_repository
    from kgraph.web.app import create_app
    from kgraph.web.settings import Settings

    queries = json.loads(queries_file.read_text())
    repo = open_repository(store, read_only=True)
    out: dict[str, Any] = {"index": {}, "home": [], "labels": []}
    for name, compute in (("home listing", lambda: page_data.home_listing(repo)),
                          ("home search index", lambda: page_data.listing_search(repo)),
                          ("explorer data", lambda: page_data.explorer_for(repo)),
                          ("label word index", lambda: page_data.explorer_for(repo)
                           .index.prepare())):
        started = time.process_time()
        compute()
        out["index"][name] = time.process_time() - started
    client = TestClient(create_app(repo, Settings(warm=False)))
    client.get("/", params={"q": "warm-up"})
    client.get("/api/search", params={"q": "warm-up"})
    row = re.compile(r'<td class="nowrap"><a href="(/id/[^"]+)">')
    listing = page_data.home_listing(repo)
    search = page_data.listing_search(repo)

    def timed(call: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
        started = time.perf_counter()
        value = call(*args, **kwargs)
        return time.perf_counter() - started, value

    for q in queries["home"]:
        q = q.strip()
        folded, raw = slugify(q), nfc(q).lower()
        first, page = timed(client.get, "/", params={"q": q})
        alone, found = timed(search.rows, folded, raw)
        warm = [timed(client.get, "/", params={"q": q})[0] for _ in range(repeat)]
        out["home"].append({"q": q, "alone": alone, "first": first, "warm": warm,
                            "total": len(found), "rows": row.findall(page.text),
                            "numbers": [listing[i].number for i in found[:3]]})
    index = page_data.explorer_for(repo).index
    for q in queries["labels"]:
        asked = {"q": q, "limit": 20}
        first, answer = timed(client.get, "/api/search", params=asked)
        alone, hits = timed(index.search, q, 100)
        warm = [timed(client.get, "/api/search", params=asked)[0] for _ in range(repeat)]
        out["labels"].append({"q": q, "alone": alone, "first": first, "warm": warm,
                              "hits": [h.iri for h in hits],
                              "page": [h["iri"] for h in answer.json()]})
    json.dump(out, sys.stdout)


def run_child(src: Path, store: Path, queries_file: Path, repeat: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, __file__, "--child", str(store), str(queries_file),
                           "--repeat", str(repeat)], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode:
        raise SystemExit(f"child ({src}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def report(size: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    load = os.getloadavg()[0]
    print(f"\n## {size} plans (load {load:.2f})")
    print("per-version data, CPU-s: " + ", ".join(
        f"{name} old {old['index'][name]:.2f} new {new['index'][name]:.2f}"
        for name in old["index"]))
    same = True
    for part, kinds, key in (("home", HOME_KINDS, ("total", "rows")),
                             ("labels", LABEL_KINDS, ("hits", "page"))):
        print(f"\n{part}: ms (alone = the search function; first = the first request of a new"
              " query; warm = median of the next)")
        print(f"{'query':32} {'hits':>6} | {'old alone':>9} {'new':>8} | {'old first':>9} "
              f"{'new':>8} | {'old warm':>9} {'new':>8}")
        differ = [o["q"] for o, n in zip(old[part], new[part], strict=True)
                  if any(o[k] != n[k] for k in key)]
        same &= not differ
        for o, n in zip(old[part][:len(kinds)], new[part][:len(kinds)], strict=True):
            hits = o["total"] if part == "home" else len(o["hits"])
            print(f"{o['q'][:32]:32} {hits:6} | {ms(o['alone'])} {ms(n['alone'])} | "
                  f"{ms(o['first'])} {ms(n['first'])} | {ms(statistics.median(o['warm']))} "
                  f"{ms(statistics.median(n['warm']))}")
        sampled_old, sampled_new = old[part][len(kinds):], new[part][len(kinds):]
        for label, pick in (("alone", lambda r: r["alone"]), ("first", lambda r: r["first"]),
                            ("warm", lambda r: statistics.median(r["warm"]))):
            o = sorted(pick(r) for r in sampled_old)
            n = sorted(pick(r) for r in sampled_new)
            if o:
                print(f"  {len(o)} sampled, {label}: old p50 {ms(o[len(o) // 2])} max "
                      f"{ms(o[-1])} | new p50 {ms(n[len(n) // 2])} max {ms(n[-1])}")
        print(f"  same answers: {len(old[part]) - len(differ)} of {len(old[part])}"
              + (f"; differ: {differ[:5]}" if differ else ""))
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store", action="append", default=[], metavar="PLANS=DIR")
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.repeat)
        return
    same = True
    for spec in args.store:
        size, _, folder = spec.partition("=")
        store = Path(folder)
        queries = prepare(store, args.sample, args.seed)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(queries, handle)
        try:
            old = run_child(args.old_src, store, Path(handle.name), args.repeat)
            new = run_child(ROOT / "src", store, Path(handle.name), args.repeat)
        finally:
            os.unlink(handle.name)
        same &= report(size, old, new)
    print(f"\nanswers {'the same' if same else 'DIFFER'}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
