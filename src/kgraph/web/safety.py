"""Checks that keep every SPARQL request local: decided on the parsed request, and again on
the tokens the engine itself reads.

pyoxigraph evaluates ``SERVICE`` over HTTP and ``LOAD`` fetches documents. This endpoint must
never reach the network, so a request is evaluated only if **both** layers let it through:

1. **The parse** (:mod:`kgraph.web.sparql_syntax`): the SPARQL 1.1 grammar of the
   Recommendation (section 19.8, kept as data in ``sparql_syntax/grammar.ebnf``) read by an
   LL(1) engine into a tree. Anything outside the grammar is refused (fail closed); on the tree,
   any ``ServiceGraphPattern`` (SILENT, IRI or variable) and any ``Load`` is refused, and every
   ``FROM`` / ``FROM NAMED`` (and the protocol's ``default-graph-uri`` / ``named-graph-uri``)
   must name a graph the store already holds. Where the store's engine runs SEP-0006
   ``LATERAL`` (the embedded store), the grammar is read with ``sparql_syntax/lateral.ebnf``
   over it (``lateral=True``): the same checks hold inside a LATERAL; elsewhere it is refused
   by name.
2. **The engine-faithful lexer** below, an additional refusal layer: it reads the text as
   pyoxigraph's rust-peg grammar does, which matches keywords without a word boundary and so
   accepts spellings no SPARQL grammar has (``SERVICESILENT<x>``, ``SERVICE:x{}`` with
   ``PREFIX :``, ``LOADSILENT<x>`` all made pyoxigraph connect). Any word *or prefix name*
   that contains SERVICE (or LOAD, in updates) is refused, whatever the parse says. Comments
   end at ``\\r`` or ``\\n``; ``\\u`` escapes count only inside strings and IRIs; ``<`` after an
   operand in an expression is less-than (``FILTER(?a<'x>')`` holds a string).

Both are linear in the text and run in the query worker, inside the query's time budget
(``bench/bench_safety.py`` measures them). Workers are also sandboxed
(:mod:`kgraph.web.sandbox`) so that even a check that is wrong cannot reach the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urljoin

from kgraph.memory import collector_paused
from kgraph.web.sparql_syntax import Node, Root, SyntaxRefused, parse, rules, warm, with_lateral
from kgraph.web.sparql_syntax import Token as Terminal


class UnsafeRequest(ValueError):
    """A request the endpoint refuses to evaluate (answered with 400)."""


class UnreadableRequest(UnsafeRequest):
    """Text the lexer cannot read; the engine would not accept it either (400)."""


# Terminals of the SPARQL 1.1 grammar (section 19.8) as pyoxigraph reads them.
_HEX = "[0-9A-Fa-f]"
_UCHAR = rf"\\u{_HEX}{{4}}|\\U{_HEX}{{8}}"
_ECHAR = r"""\\[tbnrf"'\\]"""
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = rf"%{_HEX}{_HEX}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = (
    rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})"
    rf"(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
)
_VARNAME = rf"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"

TERMINALS = {
    "ws": re.compile(r"[ \t\r\n]+"),
    "comment": re.compile(r"#[^\r\n]*"),
    "iri": re.compile(rf"<(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>"),
    "long_string": re.compile(
        rf"'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}|{_UCHAR}))*'''"
        rf'|"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}|{_UCHAR}))*"""'
    ),
    "string": re.compile(
        rf"'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*'|\"(?:[^\"\\\n\r]|{_ECHAR}|{_UCHAR})*\""
    ),
    "var": re.compile(rf"[?$]{_VARNAME}"),
    "bnode": re.compile(rf"_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"),
    "langtag": re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?:--[A-Za-z]+)?"),
    "number": re.compile(r"[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"),
    # atomic groups: a long run of name characters is scanned once, never re-tried from
    # each of its positions (which would be quadratic)
    "pname": re.compile(rf"(?>{_PN_PREFIX})?:(?>{_PN_LOCAL})?"),
    # a keyword, a function name, or any other run of name characters not followed by ':'
    # (taken whole, so a keyword inside it is seen and refused)
    "word": re.compile(rf"(?>{_PN_PREFIX})"),
    "punct": re.compile(r"\^\^|&&|\|\||!=|<=|>=|<<\(?|\)?>>|\{\||\|\}|[{}()\[\];,.=<>!+\-*/^|?~]"),
}
_PN_START = re.compile(rf"[{_PN_CHARS_BASE}:]")
# The engine matches keywords without a word boundary: a word or prefix name that merely
# contains one of these could be read as that keyword, so it is refused.
REMOTE_KEYWORDS = ("SERVICE", "LOAD")
QUERY_KEYWORDS = ("SERVICE",)
_OPERAND_KINDS = {"var", "string", "long_string", "number", "iri", "pname", "langtag"}
_EXPRESSION_WORDS_EXCLUDED = {"VALUES", "A", "TRUE", "FALSE"}
CHECK_TEXT_LIMIT = 4_000_000  # characters; the HTTP body cap is far lower


class Token(NamedTuple):
    kind: str
    text: str
    start: int


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


_MASTER = re.compile(
    r"(?:[ \t\r\n]+|#[^\r\n]*)*+(?:(?P<lt><)|" + "|".join(
        f"(?P<{kind}>{TERMINALS[kind].pattern})" for kind in (
            "long_string", "string", "var", "bnode", "langtag", "number", "pname", "word",
            "punct")
    ) + ")"
)
_SKIP = re.compile(r"(?:[ \t\r\n]+|#[^\r\n]*)*+")
MAX_NESTING = 128  # brackets; the engine's recursive parser would exhaust its stack first


def tokens(text: str) -> Iterator[Token]:
    """Significant tokens of a query or update, in one linear pass (no whitespace/comments).

    Raises :class:`UnreadableRequest` at the first character no SPARQL terminal starts with,
    and for brackets nested deeper than :data:`MAX_NESTING`.
    """
    if len(text) > CHECK_TEXT_LIMIT:
        raise UnreadableRequest(f"request longer than {CHECK_TEXT_LIMIT} characters")
    pos, end = 0, len(text)
    # bracket stack: "{", "[", "expr" (an expression's parenthesis) or "list" (collection,
    # VALUES row, argument of a triple pattern)
    stack: list[str] = []
    previous: Token | None = None
    before_previous: Token | None = None
    master, iri, punct = _MASTER.match, TERMINALS["iri"].match, TERMINALS["punct"].match
    skip = _SKIP.match
    while pos < end:
        match = master(text, pos)  # skips white space and comments, then one token
        if match is None:
            pos = skip(text, pos).end()  # type: ignore[union-attr]
            if pos >= end:
                return
            if text[pos] in "'\"":
                raise UnreadableRequest(
                    f"unterminated string or bad escape at {_position(text, pos)}")
            raise UnreadableRequest(f"cannot read {text[pos:pos + 12]!r} at "
                                    f"{_position(text, pos)}")
        kind = match.lastgroup or ""
        start = match.start(kind)
        if kind == "lt":
            in_expression = bool(stack) and stack[-1] == "expr"
            after_operand = previous is not None and _is_operand(previous)
            found = None
            if not text.startswith("<<", start) and not (in_expression and after_operand):
                found = iri(text, start)
            kind = "iri" if found else "punct"
            match = found or punct(text, start)
            assert match is not None  # "<" alone is punctuation
            token = Token(kind, match.group(), start)
        else:
            token = Token(kind, match.group(kind), start)
        pos = match.end()
        if kind == "punct":
            _track_brackets(token.text, stack, previous, before_previous)
            if len(stack) > MAX_NESTING:
                raise UnreadableRequest(f"brackets nested deeper than {MAX_NESTING} at "
                                        f"{_position(text, token.start)}")
        yield token
        before_previous, previous = previous, token


def _is_operand(token: Token) -> bool:
    if token.kind in _OPERAND_KINDS:
        return True
    if token.kind == "word":
        return token.text.upper() in ("TRUE", "FALSE")
    return token.text in (")", "]")


def _track_brackets(text: str, stack: list[str], previous: Token | None,
                    before_previous: Token | None) -> None:
    """Keep the stack of open brackets; a '(' opens an expression or a list."""
    if text in ("{", "{|"):
        stack.append("{")
    elif text == "[":
        stack.append("[")
    elif text in ("(", "<<("):
        stack.append("expr" if text == "(" and _opens_expression(stack, previous,
                                                                   before_previous) else "list")
    elif text in ("}", "|}", "]", ")", ")>>") and stack:
        stack.pop()


def _opens_expression(stack: list[str], previous: Token | None,
                      before_previous: Token | None) -> bool:
    if not stack or stack[-1] == "expr":
        # top level (SELECT (...), ORDER BY, GROUP BY, HAVING) or nested in an expression
        return not (previous is not None and previous.kind == "word"
                    and previous.text.upper() == "VALUES")
    if previous is None:
        return False
    if previous.kind == "word":  # FILTER(, BIND(, a built-in call
        return previous.text.upper() not in _EXPRESSION_WORDS_EXCLUDED
    if previous.kind in ("iri", "pname") and before_previous is not None:
        # FILTER <function>(...) : a call; otherwise a collection after a predicate
        return before_previous.kind == "word" and before_previous.text.upper() == "FILTER"
    return previous.kind == "punct" and previous.text in ("!", "=", "!=", "<", ">", "<=", ">=",
                                                           "&&", "||", "+", "-", "*", "/")


def _contains_remote_keyword(text: str, keywords: tuple[str, ...]) -> str | None:
    folded = text.upper()
    for keyword in keywords:
        if keyword in folded:
            return keyword
    return None


@dataclass
class Scan:
    """What the engine-faithful lexer read of a request: its words, prefixed names and IRIs
    in order, and the prefixes and base it declares."""

    tokens: list[Token]  # words, prefixed names and IRIs, in order
    prefixes: dict[str, str]
    base: str | None


_UCHAR_RE = re.compile(_UCHAR)
_LOCAL_ESCAPE = re.compile(r"\\(.)")


def decode_uchars(text: str) -> str:
    """Apply ``\\u``/``\\U`` escapes inside an IRI or string, as the engine does there."""
    return _UCHAR_RE.sub(lambda m: chr(int(m.group()[2:], 16)), text)


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def resolve(base: str | None, iri: str) -> str:
    """``iri`` made absolute against ``base``; an absolute IRI as it is written (``urljoin``
    would drop an empty fragment: ``http://x/ns#`` became ``http://x/ns``)."""
    return urljoin(base, iri) if base and not _SCHEME.match(iri) else iri


def unescape_local(local: str) -> str:
    return _LOCAL_ESCAPE.sub(r"\1", local)


def scan(text: str, base: str | None = None,
         keywords: tuple[str, ...] = REMOTE_KEYWORDS) -> Scan:
    """Read a request and refuse any token that could make the engine reach the network.

    Queries pass ``("SERVICE",)``: LOAD is no keyword of the query grammar.
    """
    prefixes: dict[str, str] = {}
    kept: list[Token] = []  # words, prefixed names and IRIs: all the rules below look at
    for tok in tokens(text):
        kind = tok.kind
        if kind == "iri":
            if len(kept) >= 2 and kept[-2].kind == "word" and kept[-2].text.upper() == "PREFIX":
                iri = decode_uchars(tok.text[1:-1])
                prefixes[kept[-1].text.rstrip(":")] = resolve(base, iri)
            elif kept and kept[-1].kind == "word" and kept[-1].text.upper() == "BASE":
                iri = decode_uchars(tok.text[1:-1])
                base = resolve(base, iri)
        elif kind == "word" or kind == "pname":
            head = tok.text if kind == "word" else tok.text.partition(":")[0]
            keyword = _contains_remote_keyword(head, keywords)
            if keyword:
                raise UnsafeRequest(
                    f"{keyword} is disabled: this endpoint never contacts other servers"
                    f" (federated queries and remote loads are refused; found {tok.text!r} at"
                    f" {_position(text, tok.start)})"
                )
        else:
            continue
        kept.append(tok)
    return Scan(kept, prefixes, base)


def check_graphs(clauses: Iterable[tuple[str, str]], known: Container[str]) -> None:
    """Every dataset graph must already be in the store; nothing is ever fetched."""
    for clause, iri in clauses:
        if iri not in known:
            raise UnsafeRequest(
                f"{clause} <{iri}>: no such graph in this store; the endpoint only queries "
                "graphs it already holds and never fetches remote data"
            )


GC_OFF_ABOVE = 65_536  # characters


@contextmanager
def _no_cyclic_gc(text: str) -> Iterator[None]:
    """Cyclic garbage collection off while a long request is read: the tokens and the tree
    only grow, and repeated collections over a million of them would cost more than the
    parse. (For short requests toggling it costs more than it saves: measured.)"""
    with collector_paused(len(text) > GC_OFF_ABOVE):
        yield


def _syntax(text: str, unit: str, lateral: bool = False) -> Root:
    """Parse a request; text outside the SPARQL 1.1 grammar (with ``lateral``: and SEP-0006
    ``LATERAL``, ``sparql_syntax/lateral.ebnf``) is refused with one line."""
    try:
        tree = parse(text, unit, with_lateral() if lateral else None)
        rules.check(tree, text)
    except SyntaxRefused as exc:
        raise UnreadableRequest(str(exc)) from None
    return tree


_REMOTE_NODES = {"ServiceGraphPattern": "SERVICE", "Load": "LOAD"}


@dataclass
class Parsed:
    """A request read by both layers: the parse tree and the engine-faithful lexer's scan."""

    text: str
    tree: Root
    scan: Scan
    base: str | None

    def iris(self, *names: str) -> Iterator[tuple[Node, str]]:
        """``(node, absolute IRI)`` of the ``iri`` inside every node named ``names``,
        resolved with the PREFIX and BASE declarations in force where it stands (an update
        may declare more between its operations; they hold for what follows)."""
        declarations = [d for p in self.tree.index["Prologue"] for d in p.children]
        targets = sorted((n for name in names for n in self.tree.index[name]),
                         key=lambda n: n.start)
        prefixes: dict[str, str] = {}
        base = self.base
        done = 0
        for node in targets:
            while done < len(declarations) and declarations[done].start < node.start:  # type: ignore[union-attr]
                decl = declarations[done]
                assert isinstance(decl, Node)
                iri = decode_uchars(_token(decl, "IRIREF").text[1:-1])
                iri = resolve(base, iri)
                if decl.name == "BaseDecl":
                    base = iri
                else:
                    prefixes[_token(decl, "PNAME_NS").text[:-1]] = iri
                done += 1
            target = node if node.is_a("iri") else next(node.nodes("iri"), None)
            if target is not None:
                yield node, self._resolve(target, prefixes, base)

    def _resolve(self, iri: Node, prefixes: dict[str, str], base: str | None) -> str:
        token = next(iri.tokens())
        if token.kind == "IRIREF":
            value = decode_uchars(token.text[1:-1])
            return resolve(base, value)
        prefix, _, local = token.text.partition(":")
        if prefix not in prefixes:
            raise UnsafeRequest(f"prefix {prefix}: is not declared (at "
                                f"{_position(self.text, token.start)})")
        return prefixes[prefix] + unescape_local(local)


def _token(node: Node, kind: str) -> Terminal:
    return next(c for c in node.children if isinstance(c, Terminal) and c.kind == kind)


def read_request(text: str, unit: str, base: str | None = None, lateral: bool = False) -> Parsed:
    """Both layers; raise :class:`UnsafeRequest` if either finds SERVICE or LOAD, or the text
    is not SPARQL 1.1 (with ``lateral``, where the store's engine runs them: or SPARQL 1.1 with
    ``LATERAL`` joins). The lexer runs first: it names engine-only spellings of SERVICE/LOAD,
    inside a LATERAL as anywhere else."""
    keywords = QUERY_KEYWORDS if unit == "query" else REMOTE_KEYWORDS
    with _no_cyclic_gc(text):
        scanned = scan(text, base, keywords)
        tree = _syntax(text, unit, lateral)
    for node in (n for name in _REMOTE_NODES for n in tree.index[name]):
        keyword = _REMOTE_NODES[node.name]
        raise UnsafeRequest(
            f"{keyword} is disabled: this endpoint never contacts other servers (federated "
            f"queries and remote loads are refused; found {keyword} at "
            f"{_position(text, node.start)})")
    return Parsed(text, tree, scanned, base)


def check_query(
    query: str,
    known_graphs: Callable[[], Container[str]],
    default_graphs: Iterable[str] = (),
    named_graphs: Iterable[str] = (),
    base: str | None = None,
    lateral: bool = False,
) -> bool:
    """Refuse a query that would reach the network or read an unknown graph (or that is not
    SPARQL 1.1; with ``lateral``, SPARQL 1.1 and ``LATERAL`` joins).

    ``known_graphs`` is only called when the request names graphs. Returns whether the query
    text has its own FROM / FROM NAMED clauses (:func:`check_dataset`).
    """
    return check_dataset(read_request(query, "query", base, lateral), known_graphs,
                         default_graphs, named_graphs)


def check_dataset(parsed: Parsed, known_graphs: Callable[[], Container[str]],
                  default_graphs: Iterable[str] = (), named_graphs: Iterable[str] = ()) -> bool:
    """Refuse a read query's FROM / FROM NAMED or protocol dataset graph the store does not
    hold; return whether its text has FROM / FROM NAMED clauses. FROM and FROM NAMED select
    graphs of the dataset; pyoxigraph never fetches them, but a graph the store does not hold
    is refused all the same (it could only be a mistake or a probe, and the answer would be
    silently empty)."""
    with _no_cyclic_gc(parsed.text):
        in_query = [("FROM NAMED" if node.is_a("NamedGraphClause") else "FROM", iri)
                    for node, iri in parsed.iris("DefaultGraphClause", "NamedGraphClause")]
    clauses = in_query + [("default-graph-uri", g) for g in default_graphs]
    clauses += [("named-graph-uri", g) for g in named_graphs]
    if clauses:
        check_graphs(clauses, known_graphs())
    return bool(in_query)


def check_update(update: str, lateral: bool = False) -> Parsed:
    """Refuse an update that would fetch remote data (LOAD, SERVICE) or is not SPARQL 1.1
    (with ``lateral``: SPARQL 1.1 and ``LATERAL`` joins, in its WHERE).

    ``USING``, ``USING NAMED`` and ``WITH`` are allowed: like FROM they only select graphs of
    the store (pyoxigraph never fetches them), and updates need the write token."""
    return read_request(update, "update", lateral=lateral)


def has_dataset_clause(update: str, lateral: bool = False) -> bool:
    """Whether an update already names its dataset (USING, USING NAMED or WITH)."""
    with _no_cyclic_gc(update):
        tree = _syntax(update, "update", lateral)
    return bool(tree.index["UsingClause"]) or any(_starts_with(node, "WITH")
                                                   for node in tree.index["Modify"])


def _starts_with(node: Node, kind: str) -> bool:
    return bool(node.children) and isinstance(node.children[0], Terminal) and \
        node.children[0].kind == kind


def add_using(update: str, using: list[str], using_named: list[str],
              lateral: bool = False) -> str:
    """Apply the protocol's ``using-graph-uri`` / ``using-named-graph-uri`` to each operation.

    pyoxigraph has no parameter for them, so ``USING`` clauses are inserted before the
    ``WHERE`` of every INSERT/DELETE ... WHERE operation (``Modify`` in the grammar; ``DELETE
    WHERE`` takes no dataset). The positions are those of the parse tree's ``WHERE`` tokens,
    so strings, comments and subqueries are never touched.
    """
    if not using and not using_named:
        return update
    clause = " ".join([f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named])
    with _no_cyclic_gc(update):
        tree = _syntax(update, "update", lateral)
    cuts = [_token(node, "WHERE").start for node in tree.index["Modify"]]
    out: list[str] = []
    last = 0
    for cut in cuts:
        out += [update[last:cut], clause, " "]
        last = cut
    out.append(update[last:])
    return "".join(out)


warm()  # at import, in the server process: forked query workers inherit the tables
