"""Static checks that keep every SPARQL request local.

pyoxigraph can evaluate ``SERVICE`` over HTTP, and SPARQL users expect ``LOAD`` and ``FROM <url>``
to fetch remote documents. This endpoint must never reach the network, so requests are scanned
*before* evaluation: ``SERVICE`` and ``LOAD`` are refused outright, and every dataset clause
(``FROM``, ``FROM NAMED``, ``default-graph-uri``, ``named-graph-uri``) must name a graph the store
already holds. An analyst who writes ``FROM <http://elsewhere/data.ttl>`` gets a clear 400 instead
of a silently empty answer.

The scan works on tokens (comments, string literals and IRIs are recognised, so ``"SERVICE"``
in a literal or ``?service`` as a variable is fine). SPARQL's ``\\u`` escapes, which the grammar
applies before parsing, are decoded first so they cannot hide a keyword. It errs on the side of
refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin


class UnsafeRequest(ValueError):
    """A request the endpoint refuses to evaluate (answered with 400)."""


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                 |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
    | (?P<pname>(?:[^\W\d][\w.-]*)?:(?:[\w:%\\-]|\.(?=[\w:%\\-]))*)
    | (?P<word>[^\W\d]\w*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def decode_escapes(text: str) -> str:
    """Apply SPARQL's codepoint escapes (``\\u0053`` -> ``S``) as the grammar does."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def tokens(text: str) -> Iterator[Token]:
    """Significant tokens of a query or update (no whitespace or comments)."""
    for match in _TOKEN.finditer(decode_escapes(text)):
        kind = match.lastgroup or "other"
        if kind not in ("ws", "comment"):
            yield Token(kind, match.group())


@dataclass
class Scan:
    """What the safety rules need to know about one request text."""

    tokens: list[Token]
    prefixes: dict[str, str]
    base: str | None

    def resolve(self, token: Token) -> str | None:
        """The absolute IRI of an IRI or prefixed-name token."""
        if token.kind == "iri":
            iri = token.text[1:-1]
            return urljoin(self.base, iri) if self.base else iri
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            namespace = self.prefixes.get(prefix)
            return None if namespace is None else namespace + local.replace("\\", "")
        return None


def scan(text: str, base: str | None = None) -> Scan:
    toks = list(tokens(text))
    prefixes: dict[str, str] = {}
    for i, tok in enumerate(toks):
        word = tok.text.upper()
        if word == "PREFIX" and i + 2 < len(toks) and toks[i + 2].kind == "iri":
            prefixes[toks[i + 1].text.rstrip(":")] = toks[i + 2].text[1:-1]
        elif word == "BASE" and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            base = urljoin(base or "", toks[i + 1].text[1:-1]) if base else toks[i + 1].text[1:-1]
    return Scan(toks, prefixes, base)


def _keywords(result: Scan, *words: str) -> Iterator[int]:
    wanted = {w.upper() for w in words}
    for i, tok in enumerate(result.tokens):
        if tok.kind == "word" and tok.text.upper() in wanted:
            yield i


def refuse_remote_operations(result: Scan) -> None:
    """SERVICE and LOAD would make the store fetch from the network."""
    for i in _keywords(result, "SERVICE", "LOAD"):
        word = result.tokens[i].text.upper()
        raise UnsafeRequest(
            f"{word} is disabled: this endpoint never contacts other servers"
            " (federated queries and remote loads are refused)"
        )


def dataset_clauses(result: Scan) -> list[tuple[str, str]]:
    """``(clause, graph IRI)`` for each FROM / FROM NAMED in a query."""
    found = []
    for i in _keywords(result, "FROM"):
        j = i + 1
        clause = "FROM"
        if j < len(result.tokens) and result.tokens[j].text.upper() == "NAMED":
            clause, j = "FROM NAMED", j + 1
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
    result = scan(query, base)
    refuse_remote_operations(result)
    in_query = dataset_clauses(result)
    clauses = in_query + [("default-graph-uri", g) for g in default_graphs]
    clauses += [("named-graph-uri", g) for g in named_graphs]
    if clauses:
        check_graphs(clauses, known_graphs())
    return bool(in_query)


def check_update(update: str) -> None:
    """Refuse an update that would fetch remote data (LOAD, SERVICE)."""
    refuse_remote_operations(scan(update))


def has_dataset_clause(update: str) -> bool:
    """Whether an update already names its dataset (USING, USING NAMED or WITH)."""
    return any(True for _ in _keywords(scan(update), "USING", "WITH"))


def add_using(update: str, using: list[str], using_named: list[str]) -> str:
    """Apply the protocol's ``using-graph-uri`` / ``using-named-graph-uri`` to each operation.

    pyoxigraph has no parameter for them, so ``USING`` clauses are inserted before every
    top-level ``WHERE`` of an INSERT/DELETE operation (``DELETE WHERE`` takes no dataset).
    """
    if not using and not using_named:
        return update
    clause = " ".join([f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named])
    out: list[str] = []
    depth = 0
    previous = ""
    for match in _TOKEN.finditer(decode_escapes(update)):
        text = match.group()
        kind = match.lastgroup
        if kind == "other" and text in "{[(":
            depth += 1
        elif kind == "other" and text in "}])":
            depth -= 1
        elif kind == "word" and text.upper() == "WHERE" and depth == 0 and previous != "DELETE":
            out.append(clause + " ")
        if kind not in ("ws", "comment"):
            previous = text.upper()
        out.append(text)
    return "".join(out)
