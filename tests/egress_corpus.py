"""Generated SPARQL requests that try to reach the network: SERVICE, LOAD and FROM placed after
every lexical construct of the grammar that a scanner could misread.

Each request is valid for pyoxigraph (except the ``\\%`` escape, which it rejects) and, but for
the FROM ones (pyoxigraph never fetches a FROM graph) and a few whose pattern has no solution on
an empty store, would make it connect to ``trap`` (a loopback listener) if it were evaluated
without the endpoint's defences; :func:`live_sample` picks a few that a test evaluates on a bare
store to prove it. Used by ``tests/test_egress.py`` and
``bench/bench_safety.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

PN_LOCAL_ESCAPES = "_~.-!$&'()*+,;=/?#@%"
ECHARS = "tbnrf\"'\\"


@dataclass(frozen=True)
class Case:
    text: str
    update: bool
    context: str


def _openers() -> Iterator[tuple[str, str]]:
    """(name, group-pattern text) of constructs that precede the dangerous clause."""
    for end_name, end in (("cr", "\r"), ("lf", "\n"), ("crlf", "\r\n")):
        yield f"comment-{end_name}", f"# note{end}"
        yield f"comment-quote-{end_name}", f"# a \" and a ' and <{end}"
        yield f"comment-backslash-{end_name}", f"# ends in a backslash \\{end}"
        yield f"comment-escape-{end_name}", f"# \\u000A is no newline here{end}"
    for echar in ECHARS:
        yield f"string2-echar-{ord(echar)}", f'BIND("a\\{echar}b" AS ?v)'
        yield f"string1-echar-{ord(echar)}", f"BIND('a\\{echar}b' AS ?v)"
        yield f"long2-echar-{ord(echar)}", f'BIND("""a\\{echar}"b""" AS ?v)'
        yield f"long1-echar-{ord(echar)}", f"BIND('''a\\{echar}'b''' AS ?v)"
    yield "string2-uchar-quote", 'BIND("a\\u0022b" AS ?v)'
    yield "string1-uchar-quote", "BIND('a\\u0027b' AS ?v)"
    yield "string2-Uchar", 'BIND("a\\U00000022b" AS ?v)'
    yield "string2-hash", 'BIND("#" AS ?v)'
    yield "string1-lt", "BIND('<' AS ?v)"
    yield "long2-newline-hash", 'BIND("""\n# x\n""" AS ?v)'
    yield "long1-quotes", "BIND('''a''b'c''' AS ?v)"
    yield "long2-cr", 'BIND("""a\rb""" AS ?v)'
    yield "string-langtag", 'BIND("a"@en-GB AS ?v)'
    yield "string-langdir", 'BIND("a"@ar--rtl AS ?v)'
    yield "string-datatype", 'BIND("1"^^<http://www.w3.org/2001/XMLSchema#integer> AS ?v)'
    for escape in PN_LOCAL_ESCAPES:
        yield f"pname-esc-{ord(escape)}", f"BIND(ex:a\\{escape} AS ?v)"
        yield f"pname-esc-mid-{ord(escape)}", f"BIND(ex:a\\{escape}b AS ?v)"
    yield "pname-percent", "BIND(ex:a%23b AS ?v)"
    yield "pname-dot", "BIND(ex:a.b AS ?v)"
    yield "pname-empty-local", "BIND(ex: AS ?v)"
    yield "iri-uchar-hash", "BIND(<urn:a\\u0023b> AS ?v)"
    yield "iri-uchar-letter", "BIND(<urn:a\\u0041b> AS ?v)"
    yield "iri-quote", "BIND(<urn:a'b> AS ?v)"
    yield "iri-hash-quote", "BIND(<urn:#'> AS ?v)"
    yield "lt-string", "BIND(1 AS ?w) FILTER(?w<'x>' || true)"
    yield "lt-var", "BIND(1 AS ?w) FILTER(?w<?w || true)"
    yield "lt-comment", "BIND(1 AS ?w) FILTER(?w<2) #>\n"
    yield "number-dot", "BIND(1 AS ?v)."
    yield "number-exp", "BIND(1.5e3 AS ?v)"
    yield "values", "VALUES (?v ?w) { (ex:a\\# 'x') (<urn:b> \"y\") }"
    yield "path", "?s ex:p/ex:q* ?o ."
    yield "bnode", "_:b1 ex:p [ ex:q '#' ] ."
    yield "collection", "?s ex:p (<urn:a#b> <urn:c#d> 'x') ."
    yield "nothing", ""


def _services(trap: str) -> Iterator[tuple[str, str]]:
    """(name, SERVICE clause) forms, each reaching ``trap``."""
    body = "{ BIND(1 AS ?z) }"
    yield "plain", f"SERVICE <{trap}/a> {body}"
    yield "silent", f"SERVICE SILENT <{trap}/b> {body}"
    yield "lower", f"service <{trap}/c> {body}"
    yield "mixed-glued", f"SeRvIcE<{trap}/d>{body}"
    yield "glued-silent", f"SERVICESILENT<{trap}/e>{body}"
    yield "pname-glued", f"SERVICE:x{body}"
    yield "pname", f"SERVICE trap:f {body}"
    yield "pname-escape", f"SERVICE trap:g\\-h {body}"
    escaped = trap.replace("http:", "http\\u003A")
    yield "iri-uchar", f"SERVICE <{escaped}/i> {body}"
    yield "whitespace", f"SERVICE\t\r\n<{trap}/j>\n{body}"


PLACEMENTS = {
    "group": "SELECT * WHERE {{ {opener}\n{service} }}",
    "optional": "SELECT * WHERE {{ {opener}\nOPTIONAL {{ {service} }} }}",
    "minus": "SELECT * WHERE {{ BIND(2 AS ?m) {opener}\nMINUS {{ {service} }} }}",
    "union": "SELECT * WHERE {{ {{ {opener} }} UNION {{ {service} }} }}",
    "values": "SELECT * WHERE {{ VALUES ?k {{ 1 2 }} {opener}\n{service} }}",
    "exists": "ASK {{ {opener}\nFILTER EXISTS {{ {service} }} }}",
    "subquery": "SELECT * WHERE {{ {opener}\n{{ SELECT * WHERE {{ {service} }} }} }}",
    "construct": "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {opener}\n{service} }}",
    "eof-comment": "SELECT * WHERE {{ {opener}\n{service} }} # ends without a newline",
}


def _prologue(trap: str) -> str:
    return f"PREFIX ex: <urn:ex:>\nPREFIX : <{trap}/>\nPREFIX trap: <{trap}/>\n"


def _loads(trap: str) -> Iterator[tuple[str, str]]:
    yield "load", f"LOAD <{trap}/l1>"
    yield "load-silent", f"LOAD SILENT <{trap}/l2>"
    yield "load-glued", f"LOADSILENT<{trap}/l3>"
    yield "load-into", f"load <{trap}/l4> INTO GRAPH <urn:g>"
    yield "load-pname", "LOAD trap:l5"
    yield "load-pname-glued", "LOAD:l6"


UPDATE_OPENERS = [
    ("none", ""),
    ("insert-string", 'INSERT DATA { <urn:a> <urn:b> "x\\";LOAD" } ;'),
    ("insert-long", "INSERT DATA { <urn:a> <urn:b> '''x\n;''' } ;"),
    ("comment-cr", "CLEAR SILENT GRAPH <urn:none> ; # x\r"),
    ("comment-lf", "CLEAR SILENT GRAPH <urn:none> ; # x\n"),
    ("pname-esc", "INSERT DATA { ex:a\\# ex:b ex:c\\' } ;"),
]


def corpus(trap: str) -> list[Case]:
    """Every combination: openers x SERVICE forms x placements, LOADs, FROMs."""
    cases = []
    prologue = _prologue(trap)
    for (o_name, opener), (s_name, service), (p_name, placement) in itertools.product(
            list(_openers()), list(_services(trap)), PLACEMENTS.items()):
        text = prologue + placement.format(opener=opener, service=service)
        cases.append(Case(text, False, f"{p_name}/{o_name}/{s_name}"))
    for (o_name, opener), (l_name, load) in itertools.product(UPDATE_OPENERS, list(_loads(trap))):
        cases.append(Case(f"{prologue}{opener}\n{load}", True, f"update/{o_name}/{l_name}"))
    for (o_name, opener), (s_name, service) in itertools.product(UPDATE_OPENERS,
                                                                 list(_services(trap))):
        cases.append(Case(f"{prologue}{opener}\nINSERT {{ <urn:a> <urn:b> ?z }} WHERE {{ "
                          f"{service} }}", True, f"update-service/{o_name}/{s_name}"))
    for (o_name, opener) in list(_openers()):
        for clause in (f"FROM <{trap}/f1>", f"FROM NAMED <{trap}/f2>", "FROM trap:f3"):
            text = f"{prologue}SELECT * {clause} WHERE {{ {opener}\n}}"
            cases.append(Case(text, False, f"from/{o_name}/{clause.split()[0]}"))
    return cases


def live_sample(cases: list[Case], size: int) -> list[Case]:
    """An evenly spread sample of SERVICE and LOAD cases (no FROM: pyoxigraph never fetches
    a FROM graph, so those would not connect even undefended)."""
    candidates = [c for c in cases if not c.context.startswith("from/")]
    step = max(1, len(candidates) // size)
    return candidates[::step][:size]
