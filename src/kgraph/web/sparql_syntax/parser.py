"""Table-driven LL(1) parser: an explicit stack, no recursion, one step per symbol.

The tree has a :class:`Node` for every named production of the grammar (helpers of ``( )``,
``?``, ``*``, ``+`` make none) and the :class:`Token` s in order. A production that ends by
calling itself (``TriplesBlock ::= TriplesSameSubjectPath ( '.' TriplesBlock? )?``,
``Update ::= Prologue ( Update1 ( ';' Update )? )?``) continues the same node, so a long list
is a flat node and neither the stack nor the tree grows with its length: depth is bounded by
the bracket nesting (``MAX_NESTING``), memory is linear in the text.
"""

from __future__ import annotations

from collections.abc import Iterator

from kgraph.web.sparql_syntax.lexer import Lexer, SyntaxRefused, Token, position
from kgraph.web.sparql_syntax.ll1 import EOF, Tables, tables

TEXT_LIMIT = 4_000_000  # characters; the HTTP body cap is far lower


class Node:
    """A named production: its name, its children (nodes and tokens) and its first offset."""

    __slots__ = ("name", "children", "start")

    def __init__(self, name: str, start: int) -> None:
        self.name = name
        self.children: list[Node | Token] = []
        self.start = start

    def __repr__(self) -> str:
        return f"Node({self.name!r}, {len(self.children)} children, at {self.start})"

    def walk(self) -> Iterator[Node | Token]:
        """Every node and token below (and with) this one, in document order, iteratively."""
        stack: list[Node | Token] = [self]
        while stack:
            item = stack.pop()
            yield item
            if isinstance(item, Node):
                stack.extend(reversed(item.children))

    def nodes(self, *names: str, stop: tuple[str, ...] = ()) -> Iterator[Node]:
        """Descendant nodes named ``names`` (not descending into nodes named in ``stop``)."""
        stack: list[Node | Token] = list(reversed(self.children))
        while stack:
            item = stack.pop()
            if isinstance(item, Node):
                if item.name in names:
                    yield item
                if item.name not in stop:
                    stack.extend(reversed(item.children))

    def tokens(self, stop: tuple[str, ...] = ()) -> Iterator[Token]:
        stack: list[Node | Token] = list(reversed(self.children))
        while stack:
            item = stack.pop()
            if isinstance(item, Node):
                if item.name not in stop:
                    stack.extend(reversed(item.children))
            else:
                yield item

    def child(self, name: str) -> Node | None:
        return next((c for c in self.children if isinstance(c, Node) and c.name == name), None)

    def first_token(self) -> Token | None:
        return next(self.tokens(), None)


_END = "\x00end"  # marks, on the stack, where the current node closes


def parse(text: str, unit: str = "query") -> Node:
    """Parse a query (``unit="query"``) or an update (``"update"``); raise
    :class:`SyntaxRefused` with one line naming the position for anything else."""
    if len(text) > TEXT_LIMIT:
        raise SyntaxRefused(f"request longer than {TEXT_LIMIT} characters")
    t = tables()
    start = t.start[unit]
    lexer = Lexer(text)
    table, named, productions = t.table, t.named, t.productions
    expansions = _expansions(t)
    holder = Node("", 0)  # the start symbol's node becomes its only child
    nodes: list[Node] = [holder]
    stack: list[str] = [EOF, start]
    la: Token | None = None
    while True:
        if la is None:
            la = lexer.next(lambda: _accepts(t, stack, "IRIREF"))
        sym = stack.pop()
        if sym is _END:
            nodes.pop()
            continue
        if sym in productions:
            rhs = table[sym].get(la.kind)
            if rhs is None:
                raise _unexpected(text, la, table[sym], unit)
            if sym in named:
                if not (stack and stack[-1] is _END and nodes[-1].name == sym):
                    node = Node(sym, la.start)
                    nodes[-1].children.append(node)
                    nodes.append(node)
                    stack.append(_END)
                # else: the production calls itself last; the same node goes on
            stack.extend(expansions[sym][la.kind])
            continue
        if sym == la.kind:
            if sym == EOF:
                root = holder.children[0]
                assert isinstance(root, Node)
                return root
            nodes[-1].children.append(la)
            la = None
            continue
        raise _unexpected(text, la, {sym: ()}, unit)


def _expansions(t: Tables) -> dict[str, dict[str, tuple[str, ...]]]:
    cached = getattr(t, "_reversed", None)
    if cached is None:
        cached = {n: {k: tuple(reversed(v)) for k, v in row.items()} for n, row in t.table.items()}
        t._reversed = cached  # type: ignore[attr-defined]
    return cached


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
    what = "query" if unit == "query" else "update"
    return SyntaxRefused(f"not a SPARQL 1.1 {what}: expected {shown}; found {found} at "
                         f"{position(text, la.start)}")
