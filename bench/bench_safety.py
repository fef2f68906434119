"""Benchmark of the endpoint's defences (issue 9). Run ``python bench/bench_safety.py``.

1. **Check cost is linear**: the SPARQL check of :mod:`kgraph.web.safety` on adversarial texts
   of 16 KB, 256 KB and 1 MB (quote runs, VALUES blocks, long strings, comments, keyword-like
   strings, triple patterns, nesting to the 128 limit), CPU seconds and µs per KB of each layer:
   the engine-faithful lexer alone (the baseline: the whole check until the parser came), the
   SPARQL 1.1 parser (parse + the grammar's prose rules) and the whole check, with the ratios
   parser/lexer and 1 MB/16 KB per KB (1.0 = linear); beside them rdflib's parser on the same
   texts up to a cap (what the issue proposed; wall seconds and the ratio rdflib/check).
2. **Corpus**: the generated egress corpus (``tests/egress_corpus.py``) through the check:
   how many, how fast, how many let through (must be 0).
3. **Byte cap**: the string-doubling query (22 doublings of 50 characters: 419 MB of values)
   through a live server: status, truncation headers, body size, seconds, and the server's RSS
   before and after (must stay under 500 MB).
4. ``--fuzz N``: N mutated seed plans (the generator of ``tests/test_fuzz_ingest.py``) through
   ``kgraph build`` in-process: outcomes and the slowest run.

Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]

from kgraph.web import safety  # noqa: E402

SIZES = [16_000, 256_000, 1_000_000]


def adversarial(kind: str, size: int) -> str:
    """A query text of about ``size`` bytes that stresses one part of a scanner."""
    if kind == "quotes":  # the body that took the old scanner 58.5 s at 64 KB
        return "SELECT * WHERE { ?s ?p " + '"\\"' * (size // 3) + " }"
    if kind == "values":
        return "SELECT * WHERE { VALUES ?x { " + "1 " * (size // 2) + "} }"
    if kind == "long-string":
        return 'SELECT * WHERE { BIND("""' + "a\\\"" * (size // 3) + '""" AS ?x) }'
    if kind == "comments":
        return "SELECT * WHERE { ?s ?p ?o }\n" + ("# \" ' < SERVICE \\\r" * (size // 22))
    if kind == "service-strings":
        return "SELECT * WHERE { VALUES ?x { " + "'SERVICE' " * (size // 10) + "} }"
    if kind == "name-runs":  # one long run of name characters without a colon
        return "SELECT * WHERE { " + "ab." * (size // 3) + " }"
    if kind == "prefixed-names":
        return "PREFIX ex: <urn:x:> SELECT * WHERE { VALUES ?x { " + "ex:a\\#b " * (
            size // 8) + "} }"
    if kind == "triples":  # many triple patterns in one basic graph pattern
        return "SELECT * WHERE { " + "?s <urn:p> ?o . " * (size // 16) + "}"
    if kind == "nesting":  # groups nested 120 deep (the limit is 128), one after another
        block = "{ " * 120 + "?s ?p ?o " + "} " * 120
        return "SELECT * WHERE { " + block * max(1, size // len(block)) + "}"
    raise ValueError(kind)


KINDS = ["quotes", "values", "long-string", "comments", "service-strings", "prefixed-names",
         "name-runs", "triples", "nesting"]


def _cpu(function: object, *args: object) -> tuple[float, str]:
    started = time.process_time()
    try:
        function(*args)  # type: ignore[operator]
        verdict = "accepted"
    except safety.UnsafeRequest as exc:
        verdict = f"refused ({str(exc)[:50]})"
    return time.process_time() - started, verdict


def time_check(text: str) -> tuple[float, str]:
    """CPU seconds of the whole check (process time: the machine may be shared and busy)."""
    return _cpu(safety.check_query, text, set)


def time_layers(text: str) -> tuple[float, float]:
    """CPU seconds of the lexer layer alone and of the parser (parse + prose rules) alone."""
    lexer, _ = _cpu(safety.scan, text, None, safety.QUERY_KEYWORDS)
    parser, _ = _cpu(safety._syntax, text, "query")
    return lexer, parser


def time_rdflib(text: str) -> tuple[float, str]:
    from rdflib.plugins.sparql.parser import parseQuery

    started = time.perf_counter()
    try:
        parseQuery(text)
        outcome = "parsed"
    except RecursionError:
        outcome = "RecursionError"
    except Exception as exc:  # pyparsing's ParseException and friends
        outcome = type(exc).__name__
    return time.perf_counter() - started, outcome


def linearity(rdflib_cap: int) -> None:
    print("1. check cost (CPU s; µs/KB) at 16 KB / 256 KB / 1 MB: lexer layer (the old check), "
          "parser, whole check; rdflib's parser (wall s) up to the cap")
    for kind in KINDS:
        per_kb = []
        rows = []
        verdict = ""
        for size in SIZES:
            text = adversarial(kind, size)
            kb = len(text.encode()) / 1000
            lexer, parser = time_layers(text)
            check, verdict = time_check(text)
            per_kb.append(check / kb * 1e6)
            cell = (f"lexer {lexer:6.3f} | parser {parser:6.3f} | check {check:6.3f} s "
                    f"{check / kb * 1e6:5.0f} µs/KB | parser/lexer "
                    f"{parser / lexer if lexer > 0.0005 else float('nan'):5.1f}")
            if size <= rdflib_cap:
                seconds, outcome = time_rdflib(text)
                ratio = seconds / check if check > 0.0005 else float("nan")
                cell += f" | rdflib {seconds:7.3f} s {outcome} ({ratio:.0f}x check)"
            rows.append(f"      {size // 1000:5d} KB  {cell}")
        linear = per_kb[-1] / per_kb[0] if per_kb[0] > 0.5 else float("nan")
        print(f"  {kind:16} {verdict}; 1 MB/16 KB cost per KB: {linear:.2f}")
        print("\n".join(rows))


def corpus_run() -> None:
    from egress_corpus import corpus

    cases = corpus("http://127.0.0.1:9")
    started = time.perf_counter()
    through = 0
    for case in cases:
        try:
            if case.update:
                safety.check_update(case.text)
            else:
                safety.check_query(case.text, set)
            through += 1
        except safety.UnsafeRequest:
            pass
    seconds = time.perf_counter() - started
    print(f"2. egress corpus: {len(cases)} requests checked in {seconds:.2f} s "
          f"({seconds / len(cases) * 1e6:.0f} µs each); let through: {through}")


def rss_mb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) // 1024


def byte_cap_run(timeout: float) -> None:
    import httpx

    from conftest import LiveServer
    from kgraph.store.embedded import OxigraphRepository
    from kgraph.web.app import create_app
    from kgraph.web.settings import Settings

    binds = " ".join(f"BIND(CONCAT(?x{k - 1}, ?x{k - 1}) AS ?x{k})" for k in range(1, 23))
    query = f'SELECT * WHERE {{ BIND("{"x" * 50}" AS ?x0) {binds} }}'
    settings = Settings(query_timeout=timeout)
    before = rss_mb()
    with LiveServer(create_app(OxigraphRepository(), settings)) as server:
        started = time.perf_counter()
        response = httpx.get(server.url + "/sparql", params={"query": query},
                             timeout=timeout + 30)
        seconds = time.perf_counter() - started
        after = rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    flags = {k: v for k, v in response.headers.items() if k.startswith("x-kgraph")}
    print(f"3. string doubling ({len(query)}-byte query, 419 MB of values): HTTP "
          f"{response.status_code} in {seconds:.1f} s, body {len(response.content)} bytes, "
          f"{flags}; server RSS {before} -> {after} MB (peak {peak} MB)")


def fuzz_run(count: int) -> None:
    import tempfile

    from typer.testing import CliRunner

    from kgraph.cli import app
    from test_fuzz_ingest import SEEDS, mutations

    rng = random.Random(9)
    runner = CliRunner()
    outcomes: dict[int, int] = {}
    slowest = (0.0, "")
    tracebacks = 0
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        runner.invoke(app, ["build", str(SEEDS[0]), "--store", str(store)])
        made = 0
        while made < count:
            for name, content in mutations(rng):
                if made >= count:
                    break
                source = Path(folder) / "plan.txt"
                source.write_bytes(content)
                started = time.perf_counter()
                result = runner.invoke(app, ["build", str(source), "--store", str(store)])
                seconds = time.perf_counter() - started
                outcomes[result.exit_code] = outcomes.get(result.exit_code, 0) + 1
                tracebacks += "Traceback" in result.output or not (
                    result.exception is None or isinstance(result.exception, SystemExit))
                slowest = max(slowest, (seconds, name))
                made += 1
    print(f"4. fuzz: {count} mutated plans; exit codes {outcomes}; tracebacks {tracebacks}; "
          f"slowest {slowest[0]:.1f} s ({slowest[1]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rdflib-cap", type=int, default=16_000,
                        help="largest text handed to rdflib's parser (it is slow)")
    parser.add_argument("--timeout", type=float, default=60.0, help="server query timeout")
    parser.add_argument("--fuzz", type=int, default=0, help="mutated plans to build")
    parser.add_argument("--skip-byte-cap", action="store_true")
    args = parser.parse_args()
    linearity(args.rdflib_cap)
    corpus_run()
    if not args.skip_byte_cap:
        byte_cap_run(args.timeout)
    if args.fuzz:
        fuzz_run(args.fuzz)


if __name__ == "__main__":
    main()
