"""Corners of the SPARQL 1.1 grammar as the endpoint's parser reads them (kgraph.web.sparql_syntax).

The grammar is data (``grammar.ebnf``); these tests pin what the engine built from it does with
every terminal's escapes, comments, nesting, paths, aggregates, subqueries, VALUES and every
update operation, and that it stays iterative and linear.
"""

from __future__ import annotations

import re
import time

import pytest

from kgraph.web.sparql_syntax import MAX_NESTING, Node, SyntaxRefused, parse, rules
from kgraph.web.sparql_syntax.ebnf import GRAMMAR_FILE, read
from kgraph.web.sparql_syntax.ll1 import tables

PN_LOCAL_ESCAPES = "_~.-!$&'()*+,;=/?#@%"
ECHARS = "tbnrf\"'\\"


def ok(text: str, unit: str = "query") -> Node:
    tree = parse(text, unit)
    rules.check(tree, text)  # type: ignore[arg-type]
    return tree


def refused(text: str, unit: str = "query") -> str:
    with pytest.raises(SyntaxRefused) as caught:
        ok(text, unit)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"not a SPARQL 1.1 {unit}: error at ")
    return message


def tokens_of(tree: Node, kind: str) -> list[str]:
    return [t.text for t in tree.tokens() if t.kind == kind]


def test_grammar_file_holds_every_production_of_section_19_8_and_is_ll1() -> None:
    grammar = read()
    numbers = {int(n) for n in grammar.numbers.values() if n.isdigit()}
    assert numbers == set(range(1, 174))
    assert len(grammar.rules) == 138 and "ServiceGraphPattern" in grammar.rules
    t = tables()
    assert t.conflicts == []  # LL(1): every table cell holds one expansion
    # '<' (less-than) and IRIREF never start the same production nor lead to different
    # expansions: the parser's state (its stack) decides which one the lexer reads
    assert not any({"<", "IRIREF"} <= first for first in t.first.values())
    assert all(row["<"] == row["IRIREF"] for row in t.table.values()
               if "<" in row and "IRIREF" in row)
    assert "SERVICE" in t.keywords and "INSERT DATA" in t.keywords
    assert GRAMMAR_FILE.read_text(encoding="utf-8").count("::=") == 175  # + COMMENT, UCHAR


@pytest.mark.parametrize("escape", list(PN_LOCAL_ESCAPES))
def test_every_pn_local_escape_is_one_prefixed_name(escape: str) -> None:
    text = f"PREFIX ex: <urn:x:> SELECT * WHERE {{ BIND(ex:a\\{escape}b AS ?v) ?s ?p ?o }}"
    tree = ok(text)
    assert tokens_of(tree, "PNAME_LN") == [f"ex:a\\{escape}b"]
    assert tokens_of(tree, "VAR1") == ["?v", "?s", "?p", "?o"]


@pytest.mark.parametrize("quote", ["'", '"', "'''", '"""'])
@pytest.mark.parametrize("echar", list(ECHARS))
def test_every_string_kind_with_every_echar(quote: str, echar: str) -> None:
    text = f"SELECT * WHERE {{ BIND({quote}a\\{echar}b{quote} AS ?v) ?s ?p ?o }}"
    tree = ok(text)
    kind = {"'": "STRING_LITERAL1", '"': "STRING_LITERAL2", "'''": "STRING_LITERAL_LONG1",
            '"""': "STRING_LITERAL_LONG2"}[quote]
    assert tokens_of(tree, kind) == [f"{quote}a\\{echar}b{quote}"]
    assert tokens_of(tree, "VAR1") == ["?v", "?s", "?p", "?o"]


def test_long_strings_hold_quotes_and_line_ends() -> None:
    tree = ok("SELECT * WHERE { BIND('''a''b'\n# no comment\r''' AS ?v) "
              "BIND(\"\"\"x\"\"y\"\"\" AS ?w) }")
    assert len(tokens_of(tree, "STRING_LITERAL_LONG1")) == 1
    assert tokens_of(tree, "STRING_LITERAL_LONG2") == ['"""x""y"""']
    refused("SELECT * WHERE { BIND('a\nb' AS ?v) }")  # short strings end at a line end


def test_codepoint_escapes_count_inside_strings_and_iris_only() -> None:
    tree = ok('SELECT * WHERE { BIND("a\\u0022b" AS ?v) BIND(<urn:a\\u0023b> AS ?w) '
              'BIND("\\U0001F46A" AS ?x) }')
    assert tokens_of(tree, "STRING_LITERAL2")[0] == '"a\\u0022b"'  # the quote does not end it
    assert tokens_of(tree, "IRIREF") == ["<urn:a\\u0023b>"]
    assert "outside an IRI or a string" in refused("SELECT * WHERE { \\u0053ERVICE <urn:x> {} }")
    assert "surrogate" in refused("SELECT * WHERE { BIND('\\uD800' AS ?v) }")
    # an escaped backslash is no escape: "\\u0041" is a backslash and "u0041"
    assert ok('SELECT * WHERE { BIND("\\\\uD800" AS ?v) }')


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
def test_comments_end_at_cr_or_lf(end: str) -> None:
    tree = ok(f"SELECT * WHERE {{ # a comment \" ' < \\{end} ?s ?p ?o }}")
    assert tokens_of(tree, "VAR1") == ["?s", "?p", "?o"]


def test_comment_ended_by_the_end_of_text_and_hash_inside_terms() -> None:
    tree = ok("PREFIX ex: <urn:x#> SELECT * WHERE { ?s ex:p '#' ; <urn:a#b> ?o } # end")
    assert tokens_of(tree, "IRIREF") == ["<urn:x#>", "<urn:a#b>"]
    # a comment swallows the rest of its line, braces and all
    assert "end of text" in refused("SELECT * WHERE { ?s ?p ?o # }")


def test_less_than_after_an_operand_is_the_operator() -> None:
    tree = ok("SELECT * WHERE { ?a ?b ?c FILTER(?a<'x>' || ?a < <urn:y>) }")
    assert tokens_of(tree, "STRING_LITERAL1") == ["'x>'"]
    assert tokens_of(tree, "IRIREF") == ["<urn:y>"]
    tree = ok("SELECT * WHERE { ?a ?b ?c FILTER(?a<=?b) }")
    assert "<=" in [t.kind for t in tree.tokens()]


def test_nesting_is_bounded_and_never_recursion() -> None:
    ok("SELECT * WHERE " + "{ " * 120 + "?s ?p ?o" + " }" * 120)
    ok("SELECT * WHERE { FILTER(" + "(" * 120 + "1" + ")" * 120 + ") }")
    for depth in (MAX_NESTING + 1, 5_000, 200_000):
        message = refused("SELECT * WHERE " + "{ " * depth + " }" * depth)
        assert f"nested deeper than {MAX_NESTING}" in message


def test_long_lists_are_flat_nodes() -> None:
    """rdflib overflowed the recursion limit on a 900-triple BGP; here it is one node."""
    text = "SELECT * WHERE { " + " . ".join(f"?s <urn:p{i}> ?o{i}" for i in range(5_000)) + " }"
    tree = ok(text)
    blocks = list(tree.nodes("TriplesBlock"))
    assert len(blocks) == 1
    update = " ; ".join(f"INSERT DATA {{ <urn:s> <urn:p> {i} }}" for i in range(2_000))
    tree = ok(update, "update")
    assert tree.is_a("Update") and list(tree.nodes("Update")) == []  # one flat Update
    assert len(list(tree.nodes("InsertData"))) == 2_000


def test_property_paths() -> None:
    tree = ok("PREFIX ex: <urn:x:> SELECT * WHERE { ?s ex:p/ex:q*|^ex:r+/(ex:t)? ?o . "
              "?s !(ex:a|^ex:b|a) ?o . ?s !ex:c ?o . ?s a/^a ?o }")
    assert len(list(tree.nodes("PathNegatedPropertySet"))) == 2
    assert [m.children[0].text for m in tree.nodes("PathMod")] == ["*", "+", "?"]


def test_aggregates_grouping_and_having() -> None:
    ok("SELECT ?s (COUNT(DISTINCT *) AS ?n) (GROUP_CONCAT(?o ; SEPARATOR=', ') AS ?all) "
       "(SAMPLE(?o) AS ?one) (?n + 1 AS ?m) WHERE { ?s ?p ?o } GROUP BY ?s "
       "HAVING (COUNT(*) > 1) ORDER BY DESC(?n) LIMIT 5 OFFSET 2")
    ok("SELECT ?k (SUM(?o) AS ?t) WHERE { ?s ?p ?o } GROUP BY (STR(?s) AS ?k)")
    assert "neither grouped" in refused("SELECT ?p (COUNT(?o) AS ?c) WHERE { ?s ?p ?o } "
                                        "GROUP BY ?s")
    assert "SELECT *" in refused("SELECT * WHERE { ?s ?p ?o } GROUP BY ?s")
    assert "already" in refused("SELECT (1 AS ?x) (2 AS ?x) {}")


def test_subqueries_and_scope() -> None:
    ok("SELECT ?s ?n WHERE { ?s ?p ?o { SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?q ?r } "
       "GROUP BY ?s } FILTER NOT EXISTS { SELECT * WHERE { ?s a ?t } } }")
    ok("SELECT * WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?r } MINUS { ?s ?q 1 } BIND(1 AS ?x) }")
    assert "BIND assigns ?o" in refused("SELECT * WHERE { ?s ?p ?o BIND(1 AS ?o) }")
    assert "BIND assigns ?y" in refused("SELECT * WHERE { { BIND(1 AS ?y) } BIND(2 AS ?y) }")
    refused("SELECT (1 AS ?x) { SELECT (2 AS ?x) {} }")
    refused("SELECT * { {} SELECT * { ?s ?p ?o } }")  # a subquery stands alone in its braces


def test_values_blocks() -> None:
    ok("SELECT * WHERE { VALUES (?a ?b) { (1 'x') (UNDEF <urn:y>) } VALUES ?c { 1 2 } } "
       "VALUES () { () () }")
    assert "1 values for 2" in refused("SELECT * WHERE { VALUES (?a ?b) { (1) } }")
    assert "3 values for 2" in refused("SELECT * WHERE { VALUES (?a ?b) { (1 2 3) } }")


UPDATES = [
    "LOAD <urn:doc>", "LOAD SILENT <urn:doc> INTO GRAPH <urn:g>",
    "CLEAR GRAPH <urn:g>", "CLEAR SILENT DEFAULT", "CLEAR NAMED", "CLEAR ALL",
    "DROP GRAPH <urn:g>", "DROP SILENT ALL", "CREATE GRAPH <urn:g>", "CREATE SILENT GRAPH <urn:g>",
    "ADD <urn:a> TO <urn:b>", "ADD SILENT DEFAULT TO GRAPH <urn:b>",
    "MOVE <urn:a> TO DEFAULT", "COPY GRAPH <urn:a> TO <urn:b>",
    "INSERT DATA { <urn:s> <urn:p> 'o' . GRAPH <urn:g> { <urn:s> <urn:p> _:b } }",
    "DELETE DATA { <urn:s> <urn:p> 'o' }",
    "DELETE WHERE { ?s <urn:p> ?o . GRAPH ?g { ?s ?q ?r } }",
    "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "INSERT { GRAPH <urn:g> { ?s ?p ?o } } USING <urn:a> USING NAMED <urn:b> WHERE { ?s ?p ?o }",
    "WITH <urn:g> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
    "insert\tdata { <urn:s> <urn:p> 1 }",
]


@pytest.mark.parametrize("update", UPDATES)
def test_every_update_operation(update: str) -> None:
    tree = ok(f"PREFIX ex: <urn:x:> {update} ; BASE <urn:b/> {update} ;", "update")
    assert len(tree.index["Prologue"]) == 3  # a prologue before each operation and the end


def test_update_data_forms_are_constrained() -> None:
    assert "holds variables" in refused("INSERT DATA { ?s <urn:p> 1 }", "update")
    assert "holds blank nodes" in refused("DELETE DATA { _:b <urn:p> 1 }", "update")
    assert "holds blank nodes" in refused("DELETE WHERE { [] <urn:p> ?o }", "update")
    refused("SELECT * WHERE { ?s ?p ?o }", "update")
    refused("INSERT DATA { <urn:s> <urn:p> 1 }", "query")


def test_keywords_are_case_insensitive_but_a_is_not() -> None:
    ok("select distinct ?s where { ?s a ?o filter(isIRI(?s) && sameterm(?s, ?s)) } limit 1")
    assert "'A' is no SPARQL 1.1 keyword" in refused("SELECT * WHERE { ?s A ?o }")
    assert "is no SPARQL 1.1 keyword" in refused("SELECT * WHERE { ?s ?p ?o } BINDINGS ?x {}")


@pytest.mark.parametrize(("text", "reason"), [
    ("SELECT * WHERE { << ?s ?p ?o >> ?q ?r }", "RDF-star quoted triples"),
    ("SELECT * WHERE { ?s ?p ?o {| ?q ?r |} }", "RDF-star annotations"),
    ("SELECT * WHERE { ?s ?p ?o LATERAL { ?s ?q ?r } }", "LATERAL joins"),
    ("SELECT * WHERE { BIND(TRIPLE(?s, ?p, ?o) AS ?t) }", "RDF-star functions"),
    ("VERSION '1.2' SELECT * WHERE {}", "version declarations"),
    ("SELECT * WHERE { BIND('a'@ar--rtl AS ?v) }", "not a SPARQL 1.1 query"),
])
def test_syntax_beyond_sparql_11_is_refused_with_its_name(text: str, reason: str) -> None:
    assert reason in refused(text)


def test_refusals_name_what_was_expected_and_where() -> None:
    message = refused("SELECT * WHERE {\n  ?s ?p \n}")
    assert message.startswith("not a SPARQL 1.1 query: error at 3:1: expected ")
    assert message.endswith("found '}'")
    assert "unterminated string" in refused("SELECT * WHERE { ?s ?p \"abc }")
    assert "unterminated or invalid IRI" in refused("SELECT * WHERE { ?s ?p <urn:a b> }")


def test_tokens_carry_their_offsets() -> None:
    text = "PREFIX ex: <urn:x:>\nSELECT ?v WHERE { ?v ex:p 'é' }"
    tree = ok(text)
    for token in tree.tokens():
        assert text[token.start:token.start + len(token.text)] == token.text
    assert re.search(r"GroupGraphPattern", repr(next(tree.nodes("GroupGraphPattern"))))


def test_cost_is_linear_in_the_text() -> None:
    """Four times the text takes about four times as long (never quadratic)."""
    def seconds(rows: int) -> float:
        text = "SELECT * WHERE { VALUES ?x { " + "ex:a\\#b 'x\\'' 1.5e3 " * rows + "} }"
        text = "PREFIX ex: <urn:x:> " + text
        started = time.process_time()
        ok(text)
        return time.process_time() - started

    small, large = min(seconds(2_000) for _ in range(3)), min(seconds(8_000) for _ in range(3))
    assert large < small * 8 + 0.05


def test_the_language_is_in_the_data_not_in_the_engine(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same engine reads another grammar file: without production [59] SERVICE is no
    keyword at all; with one more built-in call a new function parses."""
    from kgraph.web.sparql_syntax.parser import language

    text = GRAMMAR_FILE.read_text(encoding="utf-8")
    query = "SELECT * WHERE { SERVICE <urn:x> { ?s ?p ?o } BIND(SHA224('a') AS ?h) }"
    assert "SHA224" in refused(query.replace("SERVICE <urn:x> { ?s ?p ?o } ", ""))
    without = re.sub(r"^\[59\].*$", "", text.replace("| ServiceGraphPattern ", ""), flags=re.M)
    path = tmp_path / "no-service.ebnf"
    path.write_text(without.replace("| 'SHA256'", "| 'SHA224' '(' Expression ')' | 'SHA256'"),
                    encoding="utf-8")
    other = language(path)
    with pytest.raises(SyntaxRefused, match=r"'SERVICE' is no SPARQL 1\.1 keyword"):
        parse(query, lang=other)
    tree = parse(query.replace("SERVICE <urn:x> { ?s ?p ?o } ", ""), lang=other)
    assert [t.text for t in tree.tokens() if t.kind == "SHA224"] == ["SHA224"]
    assert list(parse(query.replace("SHA224", "SHA256")).nodes("ServiceGraphPattern"))


# ---------------------------------------------------------------- LATERAL (lateral.ebnf)

def lateral_ok(text: str, unit: str = "query") -> Node:
    from kgraph.web.sparql_syntax import with_lateral

    tree = parse(text, unit, with_lateral())
    rules.check(tree, text)
    return tree


def test_lateral_is_one_production_read_over_the_sparql_11_grammar() -> None:
    """lateral.ebnf changes [56] by exactly one alternative and adds one production; the
    language it makes stays LL(1), and LATERAL is a keyword there only."""
    from kgraph.web.sparql_syntax import with_lateral
    from kgraph.web.sparql_syntax.parser import LATERAL_FILE

    base, extended = read(), read(GRAMMAR_FILE, LATERAL_FILE)
    assert set(extended.rules) - set(base.rules) == {"LateralGraphPattern"}
    changed = {n for n in base.rules if base.rules[n] != extended.rules[n]}
    assert changed == {"GraphPatternNotTriples"}
    before, after = base.rules["GraphPatternNotTriples"], extended.rules["GraphPatternNotTriples"]
    assert [e for e in after[1] if e != ("ref", "LateralGraphPattern")] == before[1]
    assert extended.rules["LateralGraphPattern"] == ("seq", [("lit", "LATERAL"),
                                                             ("ref", "GroupGraphPattern")])
    lang = with_lateral()
    assert lang.tables.conflicts == [] and "LATERAL" in lang.tables.keywords
    assert "LATERAL" not in tables().keywords
    assert "LATERAL" not in lang.terminals.beyond and "TRIPLE" in lang.terminals.beyond


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { ?s ?p ?o LATERAL { ?s ?q ?r } }",
    "select * where { ?s ?p ?o lateral{?s ?q ?r} }",
    "SELECT * WHERE { ?s ?p ?o LaTeRaL # a comment\n { ?s ?q ?r } }",
    "SELECT * WHERE { ?s ?p ?o . LATERAL { ?s ?q ?r } . ?r ?x ?y }",
    "SELECT * WHERE { LATERAL { } }",
    "SELECT * WHERE { ?s ?p ?o LATERAL { ?o ?q ?r LATERAL { SELECT ?r ?l WHERE { ?r ?x ?l } "
    "LIMIT 1 } } }",
    "SELECT * WHERE { ?s ?p ?o LATERAL { OPTIONAL { SELECT ?s (COUNT(*) AS ?n) WHERE "
    "{ ?s ?q ?r } GROUP BY ?s } } }",
    "SELECT * WHERE { OPTIONAL { ?s ?p ?o LATERAL { ?s ?q ?r } } }",
    "SELECT * WHERE { { SELECT ?s WHERE { ?s ?p ?o LATERAL { ?s ?q ?r } } } }",
    "ASK { FILTER EXISTS { ?s ?p ?o LATERAL { ?s ?q ?r } } }",
    "CONSTRUCT { ?s ?q ?r } WHERE { ?s ?p ?o LATERAL { ?s ?q ?r } }",
])
def test_lateral_joins_parse_where_a_graph_pattern_may_stand(text: str) -> None:
    tree = lateral_ok(text)
    assert list(tree.nodes("LateralGraphPattern"))
    assert "LATERAL joins" in refused(text)  # the SPARQL 1.1 grammar alone still refuses it


def test_lateral_in_an_update_s_where() -> None:
    update = "DELETE { ?s ?q ?r } INSERT { ?s ?q 1 } WHERE { ?s ?p ?o LATERAL { ?s ?q ?r } }"
    assert list(lateral_ok(update, "update").nodes("LateralGraphPattern"))
    with pytest.raises(SyntaxRefused, match="expected"):
        lateral_ok("INSERT DATA { LATERAL { } }", "update")  # no pattern in data


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { ?s ?p ?o LATERAL }",
    "SELECT * WHERE { ?s ?p ?o LATERAL ?x }",
    "SELECT * WHERE { ?s ?p ?o LATERAL LATERAL { } }",
    "SELECT * WHERE { ?s LATERAL { } ?o }",
    "SELECT * LATERAL { ?s ?p ?o }",
])
def test_lateral_outside_a_group_or_without_one_is_refused(text: str) -> None:
    with pytest.raises(SyntaxRefused, match=r"^not a SPARQL 1\.1 query: error at "):
        lateral_ok(text)


# What SEP-0006 (and the engine) forbid: a LATERAL assigning (BIND, VALUES, AS) a variable
# already in scope on its left; as many allowed neighbours. Each case is also given to
# pyoxigraph, which must agree.
LATERAL_SCOPE = {
    "SELECT * WHERE { ?s ?p ?o LATERAL { BIND(1 AS ?o) } }": "?o",
    "SELECT * WHERE { ?s ?p ?o LATERAL { VALUES ?o { 1 } } }": "?o",
    "SELECT * WHERE { ?s ?p ?o LATERAL { SELECT (1 AS ?o) WHERE {} } }": "?o",
    "SELECT * WHERE { ?s ?p ?o LATERAL { OPTIONAL { BIND(1 AS ?o) } } }": "?o",
    "SELECT * WHERE { ?s ?p ?o LATERAL { GRAPH ?g { BIND(1 AS ?o) } } }": "?o",
    "SELECT * WHERE { ?s ?p ?o LATERAL { MINUS { BIND(1 AS ?o) } } }": "?o",
    "SELECT * WHERE { ?s ?p ?o LATERAL { { } UNION { BIND(1 AS ?o) } } }": "?o",
    "SELECT * WHERE { ?s ?p ?o LATERAL { SELECT * WHERE { BIND(1 AS ?o) } } }": "?o",
    "SELECT * WHERE { ?s ?p ?o LATERAL { SELECT ?o WHERE { } VALUES ?o { 1 } } }": "?o",
    "SELECT * WHERE { ?s ?p ?o LATERAL { LATERAL { BIND(1 AS ?o) } } }": "?o",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { ?s ?q ?x } LATERAL { BIND(1 AS ?x) } }": "?x",
    "SELECT * WHERE { { ?s ?p ?o } UNION { ?a ?b ?c } LATERAL { BIND(1 AS ?a) } }": "?a",
    "SELECT * WHERE { ?s ?p ?o LATERAL { SELECT ?s (COUNT(*) AS ?o) WHERE { ?s ?q ?r } "
    "GROUP BY ?s } }": "?o",
    "SELECT * WHERE { ?s ?p ?o LATERAL { ?s ?q ?r } BIND(1 AS ?r) }": "BIND assigns ?r",
    "SELECT (1 AS ?r) WHERE { ?s ?p ?o LATERAL { ?s ?q ?r } }": "?r is assigned by AS",
    "SELECT * WHERE { ?s ?p ?o LATERAL { BIND(1 AS ?z) } }": "",
    "SELECT * WHERE { ?s ?p ?o LATERAL { FILTER(?o) BIND(?o AS ?z) } }": "",
    "SELECT * WHERE { ?s ?p ?o LATERAL { SELECT ?s WHERE { ?s ?x ?y } } }": "",
    "SELECT * WHERE { ?s ?p ?o LATERAL { SELECT ?z WHERE { BIND(1 AS ?o) BIND(2 AS ?z) } } }": "",
    "SELECT * WHERE { ?s ?p ?o LATERAL { SELECT ?z WHERE { ?z ?y ?x } VALUES ?o { 1 } } }": "",
    "SELECT * WHERE { ?s ?p ?o LATERAL { FILTER EXISTS { BIND(1 AS ?o) } } }": "",
    "SELECT * WHERE { ?s ?p ?o MINUS { ?a ?b ?c } LATERAL { BIND(1 AS ?a) } }": "",
    "SELECT * WHERE { ?s ?p ?o FILTER(?x) LATERAL { BIND(1 AS ?x) } }": "",
}


@pytest.mark.parametrize(("text", "clash"), list(LATERAL_SCOPE.items()))
def test_a_lateral_may_not_assign_what_its_left_binds_as_the_engine_says(text: str,
                                                                         clash: str) -> None:
    import pyoxigraph as ox

    try:
        ox.Store().query(text)
        engine_accepts = True
    except SyntaxError:
        engine_accepts = False
    assert engine_accepts == (not clash)
    if not clash:
        lateral_ok(text)
        return
    with pytest.raises(SyntaxRefused) as caught:
        lateral_ok(text)
    message = str(caught.value)
    assert message.startswith("not a SPARQL 1.1 query: error at ") and clash in message
    if " " not in clash:  # a variable's name: the LATERAL's own rule
        assert f"LATERAL assigns {clash} (BIND, VALUES or AS), already in scope" in message


def test_every_named_query_s_oxigraph_text_is_in_the_lateral_language() -> None:
    from dataclasses import replace

    from kgraph.analysis.queries import named_queries

    texts = [replace(q, text=q.oxigraph).example() for q in named_queries().values()
             if q.oxigraph]
    assert texts
    for text in texts:
        assert list(lateral_ok(text).nodes("LateralGraphPattern"))
