"""Checks that keep every SPARQL request local, decided on the tokens the engine itself reads.

pyoxigraph evaluates ``SERVICE`` over HTTP and ``LOAD`` fetches documents. This endpoint must
never reach the network, so every request is read *as the engine reads it* before evaluation:
``SERVICE`` and ``LOAD`` are refused, and every dataset clause (``FROM``, ``FROM NAMED``,
``USING``, ``default-graph-uri``, ...) must name a graph the store already holds.

Why a lexer of its own and not a regular expression over the text or rdflib's parser:

* the engine's grammar (rust-peg) matches keywords without a word boundary and backtracks:
  ``SERVICESILENT<x>``, ``SERVICE:x{}`` (a prefixed name to a lexer) and ``LOADSILENT<x>`` all
  make pyoxigraph connect. So any word *or prefix name* that contains SERVICE or LOAD is
  refused, whatever a grammar-abiding parser would call it;
* comments end at ``\\r`` as well as ``\\n`` and ``\\u`` escapes are decoded only inside strings
  and IRIs (pyoxigraph's rules, measured; rdflib gets both wrong);
* ``<`` is an IRI or the less-than operator depending on context: after an operand inside an
  expression it is the operator (``FILTER(?a<'x>')`` holds a string, not the IRI ``<'x>``);
* rdflib's pyparsing grammar needs 20 s for a 256 KB VALUES block and overflows the recursion
  limit on a basic graph pattern of 900 triples; this lexer is one pass, linear in the text
  (see ``bench/bench_safety.py``), and fails closed: text it cannot read is refused.

The check runs in the query worker, inside the query's time budget. Workers are also sandboxed
(:mod:`kgraph.web.sandbox`) so that even a check that is wrong cannot reach the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urljoin


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
    """What the safety rules need to know about one request text."""

    tokens: list[Token]  # words, prefixed names and IRIs, in order
    prefixes: dict[str, str]
    base: str | None

    def resolve(self, token: Token) -> str | None:
        """The absolute IRI of an IRI or prefixed-name token."""
        if token.kind == "iri":
            iri = decode_uchars(token.text[1:-1])
            return urljoin(self.base, iri) if self.base else iri
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            namespace = self.prefixes.get(prefix)
            return None if namespace is None else namespace + _unescape_local(local)
        return None


_UCHAR_RE = re.compile(_UCHAR)
_LOCAL_ESCAPE = re.compile(r"\\(.)")


def decode_uchars(text: str) -> str:
    """Apply ``\\u``/``\\U`` escapes inside an IRI or string, as the engine does there."""
    return _UCHAR_RE.sub(lambda m: chr(int(m.group()[2:], 16)), text)


def _unescape_local(local: str) -> str:
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
                prefixes[kept[-1].text.rstrip(":")] = urljoin(base, iri) if base else iri
            elif kept and kept[-1].kind == "word" and kept[-1].text.upper() == "BASE":
                iri = decode_uchars(tok.text[1:-1])
                base = urljoin(base, iri) if base else iri
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


def _keywords(result: Scan, *words: str) -> Iterator[int]:
    wanted = {w.upper() for w in words}
    for i, tok in enumerate(result.tokens):
        if tok.kind == "word" and tok.text.upper() in wanted:
            yield i


def dataset_clauses(result: Scan, *keywords: str) -> list[tuple[str, str]]:
    """``(clause, graph IRI)`` for each FROM / FROM NAMED (or USING ...) of a request."""
    found = []
    for i in _keywords(result, *keywords):
        j = i + 1
        clause = result.tokens[i].text.upper()
        if j < len(result.tokens) and result.tokens[j].text.upper() == "NAMED":
            clause, j = clause + " NAMED", j + 1
        target = result.tokens[j] if j < len(result.tokens) else None
        iri = result.resolve(target) if target else None
        if iri is None:
            raise UnsafeRequest(f"{clause} must be followed by a graph IRI")
        found.append((clause, iri))
    return found


def check_graphs(clauses: Iterable[tuple[str, str]], known: set[str]) -> None:
    """Every dataset graph must already be in the store; nothing is ever fetched."""
    for clause, iri in clauses:
        if iri not in known:
            raise UnsafeRequest(
                f"{clause} <{iri}>: no such graph in this store; the endpoint only queries "
                "graphs it already holds and never fetches remote data"
            )


def check_query(
    query: str,
    known_graphs: Callable[[], set[str]],
    default_graphs: Iterable[str] = (),
    named_graphs: Iterable[str] = (),
    base: str | None = None,
) -> bool:
    """Refuse a query that would reach the network or read an unknown graph.

    ``known_graphs`` is only called when the request names graphs. Returns whether the query
    text has its own FROM / FROM NAMED clauses.
    """
    result = scan(query, base, QUERY_KEYWORDS)
    in_query = dataset_clauses(result, "FROM")
    clauses = in_query + [("default-graph-uri", g) for g in default_graphs]
    clauses += [("named-graph-uri", g) for g in named_graphs]
    if clauses:
        check_graphs(clauses, known_graphs())
    return bool(in_query)


def check_update(update: str) -> Scan:
    """Refuse an update that would fetch remote data (LOAD, SERVICE)."""
    return scan(update)


def has_dataset_clause(update: str) -> bool:
    """Whether an update already names its dataset (USING, USING NAMED or WITH)."""
    return any(True for _ in _keywords(scan(update), "USING", "WITH"))


def add_using(update: str, using: list[str], using_named: list[str]) -> str:
    """Apply the protocol's ``using-graph-uri`` / ``using-named-graph-uri`` to each operation.

    pyoxigraph has no parameter for them, so ``USING`` clauses are inserted before every
    top-level ``WHERE`` of an INSERT/DELETE operation (``DELETE WHERE`` takes no dataset).
    The positions come from the same lexer the safety check uses, so strings and comments
    are never touched.
    """
    if not using and not using_named:
        return update
    clause = " ".join([f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named])
    out: list[str] = []
    depth = 0
    previous = ""
    last = 0
    for tok in tokens(update):
        if tok.kind == "punct" and tok.text in ("{", "[", "(", "{|", "<<("):
            depth += 1
        elif tok.kind == "punct" and tok.text in ("}", "]", ")", "|}", ")>>"):
            depth -= 1
        elif (tok.kind == "word" and tok.text.upper() == "WHERE" and depth == 0
              and previous != "DELETE"):
            out.append(update[last:tok.start])
            out.append(clause + " ")
            last = tok.start
        previous = tok.text.upper()
    out.append(update[last:])
    return "".join(out)
