"""Communes at corpus scale, old code beside new: commune plans issued by the listed communes
(``bench/corpus.py``'s default since session 36) against the made-up names of earlier corpora.

For ``--plans N`` (default 1000: the first commune plans come after 680) it writes both corpora,
then builds each into a fresh store with each code tree in turn (``--old-src``, default the main
checkout, and this tree's ``src``): ``kgraph build FOLDER --store S`` in a new process, wall
seconds and the load average. In each store it counts, with the same queries:

* commune plans whose issuer resolved to a commune's People's Committee;
* distinct bodies of a commune (a commune-level template's, named by their commune) and
  distinct unresolved mentions (``kg:UnresolvedMention``) over the whole corpus;
* bodies of a commune that state their commune (``kg:commune``: the new code's description);
* quads in the store, and the md5 of ``assignments 28-CT/TW`` as CSV (same answers?).

It also prints the reference graph's size as shipped and what listing every commune's bodies in
it would cost instead of minting them in the plans that name them (triples and Oxigraph's parse
time of the Turtle, the generator's own turtle per body, not written anywhere).

Run: ``python bench/bench_communes.py [--plans 1000] [--old-src /work/wt/base36/src]
[--workdir DIR]``. The corpora and stores are deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

COUNTS = {
    "commune plans issued by a commune's committee": """
        SELECT (COUNT(DISTINCT ?doc) AS ?n) WHERE {
          ?doc <http://data.europa.eu/eli/ontology#passed_by> ?issuer .
          ?issuer <https://w3id.org/kgraph/def#referenceEntry>
                  <https://w3id.org/kgraph/id/ref/uy-ban-nhan-dan-xa> ;
                  <http://www.w3.org/2004/02/skos/core#prefLabel> ?name .
          FILTER(CONTAINS(?name, " xã ") || CONTAINS(?name, " phường ")
                 || CONTAINS(?name, " đặc khu ")) }""",
    "bodies of a named commune": """
        SELECT (COUNT(DISTINCT ?body) AS ?n) WHERE {
          GRAPH ?g { ?body <https://w3id.org/kgraph/def#referenceEntry> ?entry }
          GRAPH <https://w3id.org/kgraph/id/graph/reference> {
            ?entry <https://w3id.org/kgraph/def#level> <https://w3id.org/kgraph/def#Commune> }
          ?body <http://www.w3.org/2004/02/skos/core#prefLabel> ?name .
          FILTER(!CONTAINS(?name, "cấp xã") && !CONTAINS(?name, "các xã")) }""",
    "unresolved mentions": """
        SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {
          ?m a <https://w3id.org/kgraph/def#UnresolvedMention> }""",
    "bodies stating their commune": """
        SELECT (COUNT(DISTINCT ?body) AS ?n) WHERE {
          ?body <https://w3id.org/kgraph/def#commune> ?commune }""",
    "quads": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
}


def build(src: Path, corpus: Path, store: Path) -> tuple[float, float]:
    """Wall seconds of a fresh ``kgraph build`` with code ``src``, and the load average then."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from kgraph.cli import app; app()", "build",
                    str(corpus), "--store", str(store)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, os.getloadavg()[0]


def answer_md5(src: Path, store: Path) -> str:
    """md5 of ``kgraph query assignments -p doc=28-CT/TW -f csv`` with code ``src``: the same
    answer from both codes, where the corpus is the same, or not."""
    import hashlib

    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", "from kgraph.cli import app; app()", "query",
                          "assignments", "-p", "doc=28-CT/TW", "-f", "csv", "--store", str(store)],
                         env=env, check=True, capture_output=True).stdout
    rows = len(out.splitlines()) - 1
    return f"{hashlib.md5(out).hexdigest()[:8]} ({rows} rows)"


def counts(store: Path) -> dict[str, int]:
    from kgraph.store.embedded import OxigraphRepository

    repo = OxigraphRepository(store, read_only=True)
    return {name: int(repo.records(query)[0]["n"] or 0) for name, query in COUNTS.items()}


def reference_cost() -> list[tuple[str, int, float]]:
    """(what, triples, Oxigraph parse seconds) of the reference graph as shipped, and with
    every commune's bodies listed in it."""
    import pyoxigraph

    from kgraph.paths import resource_dir
    from kgraph.reference.generate import PREFIXES, ReferenceBuilder, lit, read_table, tables_dir
    from kgraph.reference.matching import COMMUNE, COMMUNES_TABLE

    def parse(text: str) -> tuple[int, float]:
        started = time.perf_counter()
        turtle = pyoxigraph.RdfFormat.TURTLE
        triples = sum(1 for _ in pyoxigraph.parse(text.encode(), format=turtle))
        return triples, time.perf_counter() - started

    files = [parse(f.read_text(encoding="utf-8"))
             for f in sorted(resource_dir("reference").glob("*.ttl"))]
    shipped = (sum(t for t, _ in files), sum(s for _, s in files))
    builder = ReferenceBuilder(tables_dir())
    provinces = {r["code_2025"]: builder.units[r["name"]]
                 for r in read_table("provinces_2025.csv")}
    chunks = []
    for row in read_table(COMMUNES_TABLE):
        unit = provinces[row["province_code_2025"]]
        commune = f"{row['division']} {row['name']}"
        for template in builder.templates.values():
            if template.level != "Commune":
                continue
            name = template.label.replace(COMMUNE, commune)
            iri = f"<https://w3id.org/kgraph/id/org/{unit.slug}/{slug(name)}>"
            chunks.append(f"{iri} a org:Organization ; skos:prefLabel {lit(name)} ;\n"
                          f"    kg:referenceEntry ref:{template.id} ;\n"
                          f"    kg:province id:province\\/{unit.slug} ;\n"
                          f"    kg:level kg:Commune ; kg:commune "
                          f"<https://w3id.org/kgraph/id/commune/{unit.slug}/{slug(commune)}> ;\n"
                          f"    dcterms:temporal id:period\\/standing .")
    triples, seconds = parse(PREFIXES + "\n".join(chunks))
    return [("shipped", *shipped),
            ("every commune's bodies listed", shipped[0] + triples, shipped[1] + seconds)]


def slug(text: str) -> str:
    from kgraph.ingest.text import slugify

    return slugify(text)


def main(argv: list[str] | None = None) -> int:
    from corpus import write_corpus

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--old-src", type=Path, default=Path("/work/main/src"))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="communes-", dir=args.workdir))
    print(f"load average at start: {os.getloadavg()}")
    try:
        corpora = {"listed": work / "listed", "made-up": work / "made-up"}
        for name, folder in corpora.items():
            write_corpus(folder, args.plans, listed=name == "listed")
        codes = {"old": args.old_src, "new": ROOT / "src"}
        rows: dict[tuple[str, str], dict[str, float | int | str]] = {}
        for corpus_name, folder in corpora.items():
            for code, src in codes.items():
                store = work / f"store-{corpus_name}-{code}"
                seconds, load = build(src, folder, store)
                rows[corpus_name, code] = {"build s": seconds, "load": load, **counts(store),
                                           "assignments 28-CT/TW": answer_md5(src, store)}
        names = list(next(iter(rows.values())))
        header = f"{'measure':48}" + "".join(f"{c + ' ' + k:>16}" for c, k in rows)
        print(f"{args.plans} plans; corpus and code per column")
        print(header)
        for name in names:
            cells = "".join(f"{v[name]:>16.2f}" if isinstance(v[name], float)
                            else f"{v[name]:>16,}" if isinstance(v[name], int)
                            else f"{v[name]:>16}" for v in rows.values())
            print(f"{name:48}{cells}")
        for corpus_name in corpora:
            old, new = rows[corpus_name, "old"], rows[corpus_name, "new"]
            print(f"{corpus_name}: build new/old {new['build s'] / old['build s']:.2f}, "
                  f"quads new/old {new['quads'] / old['quads']:.3f}")
        print("reference graph: triples, Oxigraph parse s")
        base = None
        for what, triples, seconds in reference_cost():
            base = base or (triples, seconds)
            print(f"  {what:32}{triples:>10,}{seconds:>8.2f} s  "
                  f"(x{triples / base[0]:.2f} triples, x{seconds / base[1]:.2f} time)")
        print(f"load average at end: {os.getloadavg()}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
