"""Table-driven LL(1) parser: an explicit stack, no recursion.

For each nonterminal and lookahead, the expansions down the leftmost chain are precomputed
(macros), so one lookup does what would otherwise take several pops and pushes. The tree has a
:class:`Node` for every named production of the grammar (helpers of ``( )``, ``?``, ``*``,
``+`` make none; a chain of single-child productions shares one node) and the
:class:`Token` s in order, with their offsets. A production that ends by
calling itself (``TriplesBlock ::= TriplesSameSubjectPath ( '.' TriplesBlock? )?``,
``Update ::= Prologue ( Update1 ( ';' Update )? )?``) continues the same node, so a long list
is a flat node and neither the stack nor the tree grows with its length: depth is bounded by
the bracket nesting (``MAX_NESTING``), memory is linear in the text.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import NamedTuple

from kgraph.web.sparql_syntax import ebnf
from kgraph.web.sparql_syntax.lexer import (
    Compiled,
    Lexer,
    SyntaxRefused,
    Token,
    compiled,
    position,
)
from kgraph.web.sparql_syntax.ll1 import EOF, Tables, build, tables

TEXT_LIMIT = 4_000_000  # characters; the HTTP body cap is far lower


class Node:
    """A named production: its name, its children (nodes and tokens) and its first offset.

    A production whose only child is another production (``VarOrTerm ::= Var``, ``iri ::=
    PrefixedName``) shares that child's node: ``names`` lists the whole chain, outermost first,
    ``name`` is the innermost. :meth:`is_a` asks for any of them."""

    __slots__ = ("children", "name", "names", "start")

    def __init__(self, names: tuple[str, ...], start: int) -> None:
        self.names = names
        self.name = names[-1] if names else ""
        self.children: list[Node | Token] = []
        self.start = start

    def is_a(self, name: str) -> bool:
        return name in self.names

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {len(self.children)} children, at {self.start})"

    def nodes(self, *names: str, stop: tuple[str, ...] = ()) -> Iterator[Node]:
        """Descendant nodes named ``names`` (not descending into nodes named in ``stop``)."""
        stack: list[Node | Token] = list(reversed(self.children))
        while stack:
            item = stack.pop()
            if isinstance(item, Node):
                if any(n in names for n in item.names):
                    yield item
                if not any(n in stop for n in item.names):
                    stack.extend(reversed(item.children))

    def tokens(self, stop: tuple[str, ...] = ()) -> Iterator[Token]:
        stack: list[Node | Token] = list(reversed(self.children))
        while stack:
            item = stack.pop()
            if isinstance(item, Node):
                if not any(n in stop for n in item.names):
                    stack.extend(reversed(item.children))
            else:
                yield item

    def child(self, name: str) -> Node | None:
        return next((c for c in self.children if isinstance(c, Node) and name in c.names), None)



# nodes listed in the root's index, for the checks that read the tree (no walk needed)
INDEXED = frozenset({
    "Prologue", "GroupGraphPattern", "SelectQuery", "SubSelect", "InlineDataFull",
    "InsertData", "DeleteData", "DeleteWhere", "DeleteClause", "ServiceGraphPattern", "Load",
    "DefaultGraphClause", "NamedGraphClause", "Modify", "UsingClause",
})
_END = "\x00end"  # marks, on the stack, where the current node closes


class Root(Node):
    """The tree's root, with an index of its nodes by name (document order)."""

    __slots__ = ("index",)

    def __init__(self, names: tuple[str, ...], start: int) -> None:
        super().__init__(names, start)
        self.index: dict[str, list[Node]] = {}


# A step of a macro: open a node named ``names`` (or none: a helper), then push ``rest``
# (the right-hand side but its first symbol, reversed). Steps run down the leftmost chain of
# an expansion until a terminal or an empty expansion: the same stack as one symbol at a time.
Step = tuple[tuple[str, ...] | None, tuple[str, ...], tuple[str, ...]]  # + names indexed


class Language(NamedTuple):
    """A grammar made ready to parse with: its LL(1) tables and its compiled terminals."""

    tables: Tables
    terminals: Compiled


def language(path: Path, *extensions: Path) -> Language:
    """The engine for another grammar file (the default is ``grammar.ebnf``), with extension
    files read over it (:func:`ebnf.read`): the engine holds no production of its own (it
    names only the start symbols, the terminals that take escapes and the brackets that nest);
    the language is in the data."""
    grammar = ebnf.read(path, *extensions)
    t = build(grammar)
    return Language(t, Compiled(t, grammar))


LATERAL_FILE = Path(__file__).with_name("lateral.ebnf")


@cache
def with_lateral() -> Language:
    """SPARQL 1.1 and SEP-0006 ``LATERAL`` (``lateral.ebnf`` over ``grammar.ebnf``): what the
    endpoint accepts where its store's engine runs LATERAL joins (compiled once per process)."""
    return language(ebnf.GRAMMAR_FILE, LATERAL_FILE)


def parse(text: str, unit: str = "query", lang: Language | None = None) -> Root:
    """Parse a query (``unit="query"``) or an update (``"update"``); raise
    :class:`SyntaxRefused` with one line naming the position for anything else."""
    if len(text) > TEXT_LIMIT:
        raise SyntaxRefused(f"request longer than {TEXT_LIMIT} characters")
    # the tree only grows while parsing: on a long text, cyclic collections would only cost
    # time (on a short one, toggling the collector costs more than it saves)
    collecting = gc.isenabled() and len(text) > 65_536
    if collecting:
        gc.disable()
    try:
        return _parse(text, unit, lang or Language(tables(), compiled()))
    except SyntaxRefused as exc:
        message = str(exc)
        if message.startswith("not a SPARQL 1.1"):
            raise
        raise SyntaxRefused(f"not a SPARQL 1.1 {unit}: {message}") from None
    finally:
        if collecting:
            gc.enable()


def _parse(text: str, unit: str, lang: Language) -> Root:
    t = lang.tables
    start = t.start[unit]
    lexer = Lexer(text, lang.terminals)
    macros = _macros(t)
    holder = Node((), 0)  # the start symbol's node becomes its only child
    nodes: list[Node] = [holder]
    index: dict[str, list[Node]] = {name: [] for name in INDEXED}
    stack: list[str] = [EOF, start]
    pop, push, extend = stack.pop, stack.append, stack.extend
    next_token = lexer.next

    def iri_allowed() -> bool:
        return _accepts(t, stack, "IRIREF")

    la = next_token(iri_allowed)
    while True:
        sym = pop()
        if sym is _END:
            nodes.pop()
            continue
        row = macros.get(sym)
        if row is not None:
            found = row.get(la.kind)
            if found is None:
                raise _unexpected(text, la, t.table[sym], unit)
            if found is _NOTHING:  # a helper that expands to nothing here: popped, done
                continue
            steps, consumes = found
            for names, rest, listed in steps:
                if names is not None:
                    if (stack[-1] is _END and len(names) == 1
                            and nodes[-1].name == names[0]):
                        pass  # the production calls itself last: the same node goes on
                    else:
                        node = Node(names, la.start)
                        nodes[-1].children.append(node)
                        nodes.append(node)
                        push(_END)
                        for name in listed:
                            index[name].append(node)
                if rest:
                    extend(rest)
            if consumes:
                nodes[-1].children.append(la)
                la = next_token(iri_allowed)
            continue
        if sym == la.kind:
            if sym == EOF:
                root = holder.children[0]
                assert isinstance(root, Node)
                out = Root(root.names, root.start)
                out.children, out.index = root.children, index
                return out
            nodes[-1].children.append(la)
            la = next_token(iri_allowed)
            continue
        raise _unexpected(text, la, {sym: ()}, unit)


_NOTHING: tuple[tuple[Step, ...], bool] = ((), False)
Macros = dict[str, dict[str, tuple[tuple[Step, ...], bool]]]
_MACROS: dict[int, Macros] = {}


def _macros(t: Tables) -> Macros:
    """For each nonterminal and lookahead: the steps down the leftmost chain, and whether the
    chain ends on the lookahead terminal itself (consumed at once)."""
    cached = _MACROS.get(id(t))
    if cached is not None:
        return cached
    out: Macros = {}
    for name, row in t.table.items():
        out[name] = {}
        for terminal in row:
            chain: list[tuple[str | None, tuple[str, ...]]] = []
            sym = name
            consumes = False
            while True:
                rhs = t.table[sym][terminal]
                chain.append((sym if sym in t.named else None, tuple(reversed(rhs[1:]))))
                if not rhs:
                    break
                head = rhs[0]
                if head not in t.productions:
                    consumes = head == terminal and terminal != EOF
                    if not consumes:
                        chain[-1] = (chain[-1][0], tuple(reversed(rhs)))
                    break
                sym = head
            steps: list[Step] = []
            pending: tuple[str, ...] = ()
            for i, (named, rest) in enumerate(chain):
                if named is None:
                    steps.append((None, rest, ()))
                    continue
                following = chain[i + 1][0] if i + 1 < len(chain) else None
                if not rest and following is not None:
                    pending += (named,)  # its only child is the next node: share it
                    continue
                names = (*pending, named)
                steps.append((names, rest, tuple(n for n in names if n in INDEXED)))
                pending = ()
            empty = steps == [(None, (), ())] and not consumes
            out[name][terminal] = _NOTHING if empty else (tuple(steps), consumes)
    _MACROS[id(t)] = out
    return out


def warm() -> None:
    """Build the tables, macros and regexes now (a server does this before forking its
    workers, so that no worker pays for it inside a request's time budget)."""
    for lang in (Language(tables(), compiled()), with_lateral()):
        _macros(lang.tables)
        for code in range(32, 127):
            lang.terminals.dispatch(chr(code))


def _accepts(t: Tables, stack: list[str], terminal: str) -> bool:
    """Whether the parser, in its present state, can take ``terminal`` next."""
    for sym in reversed(stack):
        if sym is _END:
            continue
        if sym not in t.productions:
            return sym == terminal
        if terminal in t.first[sym]:
            return True
        if sym not in t.nullable:
            return False
    return False


def _unexpected(text: str, la: Token, expected: dict[str, object], unit: str) -> SyntaxRefused:
    wanted = sorted(k for k in expected if k != EOF)
    shown = ", ".join(wanted[:8]) + (", ..." if len(wanted) > 8 else "")
    if EOF in expected:
        shown = (shown + ", " if shown else "") + "end of text"
    found = "end of text" if la.kind == EOF else repr(la.text[:30])
    if la.kind == "<" and "IRIREF" in expected:
        return SyntaxRefused(f"not a SPARQL 1.1 {unit}: error at {position(text, la.start)}: "
                             "unterminated or invalid IRI")
    return SyntaxRefused(f"not a SPARQL 1.1 {unit}: error at {position(text, la.start)}: "
                         f"expected {shown}; found {found}")
