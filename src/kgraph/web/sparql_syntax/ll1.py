"""LL(1) tables computed from the grammar data: BNF form, FIRST, FOLLOW and the parse table.

Each ``( ... )``, ``?``, ``*`` and ``+`` of a production becomes a helper nonterminal (named
``Production~n``; helpers make no node of the tree). ``X*`` becomes ``H ::= X H | ε``, so a
repetition is a loop on the parser's stack, not a nesting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from kgraph.web.sparql_syntax.ebnf import Expr, Grammar, read

EPSILON = ""
EOF = "$EOF"
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z]+)?")


def literal_key(text: str) -> str:
    """The terminal a quoted literal stands for: keywords are case-insensitive, except 'a'."""
    if _WORD.fullmatch(text) and text != "a":
        return text.upper()
    return text


@dataclass
class Tables:
    """The BNF productions and the parse table derived from them."""

    start: dict[str, str]  # "query" / "update" -> start symbol
    productions: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    terminals: set[str] = field(default_factory=set)  # named terminals and literal keys
    keywords: set[str] = field(default_factory=set)  # literal keys that are words
    punctuation: set[str] = field(default_factory=set)
    named: set[str] = field(default_factory=set)  # nonterminals that make tree nodes
    first: dict[str, set[str]] = field(default_factory=dict)
    follow: dict[str, set[str]] = field(default_factory=dict)
    nullable: set[str] = field(default_factory=set)
    # table[N][terminal] = the right-hand side to expand, as a tuple
    table: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    conflicts: list[tuple[str, str]] = field(default_factory=list)


def _to_bnf(tables: Tables, grammar: Grammar) -> None:
    counter: dict[str, int] = {}

    def helper(owner: str, alternatives: list[tuple[str, ...]]) -> str:
        counter[owner] = counter.get(owner, 0) + 1
        name = f"{owner}~{counter[owner]}"
        tables.productions[name] = alternatives
        return name

    def symbols(expr: Expr, owner: str) -> tuple[str, ...]:
        kind = expr[0]
        if kind == "seq":
            return tuple(s for item in expr[1] for s in symbols(item, owner))
        if kind == "lit":
            key = literal_key(expr[1])
            tables.terminals.add(key)
            (tables.keywords if _WORD.fullmatch(expr[1]) else tables.punctuation).add(key)
            return (key,)
        if kind == "ref":
            if expr[1] in grammar.terminals:
                tables.terminals.add(expr[1])
            elif expr[1] not in grammar.rules:
                raise ValueError(f"grammar: {owner} refers to undefined {expr[1]}")
            return (expr[1],)
        if kind == "alt":
            return (helper(owner, [symbols(e, owner) for e in expr[1]]),)
        if kind == "opt":
            return (helper(owner, [symbols(expr[1], owner), ()]),)
        if kind == "star":
            name = f"{owner}~{counter.get(owner, 0) + 1}"
            counter[owner] = counter.get(owner, 0) + 1
            tables.productions[name] = [(*symbols(expr[1], owner), name), ()]
            return (name,)
        if kind == "plus":
            inner = symbols(expr[1], owner)
            return inner + symbols(("star", expr[1]), owner)
        raise ValueError(f"grammar: {owner}: {kind} is not allowed in a nonterminal")

    for name, expr in grammar.rules.items():
        tables.named.add(name)
        options = expr[1] if expr[0] == "alt" else [expr]
        tables.productions[name] = [symbols(option, name) for option in options]


def _first_follow(tables: Tables) -> None:
    prods = tables.productions
    first: dict[str, set[str]] = {n: set() for n in prods}
    nullable: set[str] = set()

    def first_of(seq: tuple[str, ...]) -> tuple[set[str], bool]:
        out: set[str] = set()
        for sym in seq:
            if sym not in prods:
                out.add(sym)
                return out, False
            out |= first[sym]
            if sym not in nullable:
                return out, False
        return out, True

    changed = True
    while changed:
        changed = False
        for name, alternatives in prods.items():
            for alt in alternatives:
                heads, empty = first_of(alt)
                if not heads <= first[name]:
                    first[name] |= heads
                    changed = True
                if empty and name not in nullable:
                    nullable.add(name)
                    changed = True
    follow: dict[str, set[str]] = {n: set() for n in prods}
    for start in tables.start.values():
        follow[start].add(EOF)
    changed = True
    while changed:
        changed = False
        for name, alternatives in prods.items():
            for alt in alternatives:
                for i, sym in enumerate(alt):
                    if sym not in prods:
                        continue
                    heads, empty = first_of(alt[i + 1:])
                    add = heads | (follow[name] if empty else set())
                    if not add <= follow[sym]:
                        follow[sym] |= add
                        changed = True
    tables.first, tables.follow, tables.nullable = first, follow, nullable
    for name, alternatives in prods.items():
        row: dict[str, tuple[str, ...]] = {}
        for alt in alternatives:
            heads, empty = first_of(alt)
            for terminal in sorted(heads | (follow[name] if empty else set())):
                if terminal in row and row[terminal] != alt:
                    tables.conflicts.append((name, terminal))
                    # as a PEG would: the earlier, non-empty alternative wins
                    continue
                row[terminal] = alt
        tables.table[name] = row


def build(grammar: Grammar) -> Tables:
    """The LL(1) tables of a grammar (start symbols: QueryUnit and UpdateUnit)."""
    result = Tables(start={"query": "QueryUnit", "update": "UpdateUnit"})
    _to_bnf(result, grammar)
    _first_follow(result)
    return result


@cache
def tables() -> Tables:
    """The tables of the grammar file (computed once per process)."""
    return build(read())

