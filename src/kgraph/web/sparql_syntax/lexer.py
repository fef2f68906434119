"""The terminals of the grammar file, compiled to regular expressions, read one token at a time.

Longest match wins among the terminals that can start at a character, with one exception the
parser decides: ``<`` starts an IRIREF only where the parser can accept an IRI; after an
operand in an expression it is the less-than operator (``FILTER(?a<'x>')`` holds a string,
not the IRI ``<'x>``), which is how the engine reads it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

from kgraph.web.sparql_syntax import ebnf
from kgraph.web.sparql_syntax.ll1 import EOF, Tables, tables

MAX_NESTING = 128  # open brackets ( { [ at once; deeper requests are refused
# terminals in which a codepoint escape may stand for a character (section 19.2 as the
# engine applies it); anywhere else an escape is refused, as the engine refuses it
ESCAPING_TERMINALS = ("IRIREF", "STRING_LITERAL1", "STRING_LITERAL2", "STRING_LITERAL_LONG1",
                      "STRING_LITERAL_LONG2")
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|.)", re.S)
_OPENERS = {"(": 1, "{": 1, "[": 1, ")": -1, "}": -1, "]": -1}
# What pyoxigraph accepts beyond SPARQL 1.1 (SPARQL 1.2 drafts, its own extensions): refused
# with a reason, unless the grammar in use defines it (lateral.ebnf defines LATERAL, used
# where the store's engine runs it).
BEYOND_SPARQL_11 = {
    "<<": "RDF-star quoted triples (<< >>)", ">>": "RDF-star quoted triples (<< >>)",
    "{|": "RDF-star annotations ({| |})", "|}": "RDF-star annotations ({| |})",
    "LATERAL": "LATERAL joins (SEP-0006: run by the embedded Oxigraph store, not by this "
               "store's engine; a named query's text for this store is "
               "/api/queries/NAME?format=sparql)",
    "TRIPLE": "RDF-star functions", "SUBJECT": "RDF-star functions",
    "PREDICATE": "RDF-star functions", "OBJECT": "RDF-star functions",
    "ISTRIPLE": "RDF-star functions", "LANGDIR": "SPARQL 1.2 functions",
    "STRLANGDIR": "SPARQL 1.2 functions", "HASLANG": "SPARQL 1.2 functions",
    "HASLANGDIR": "SPARQL 1.2 functions", "VERSION": "SPARQL 1.2 version declarations",
    "ADJUST": "SPARQL 1.2 functions", "SHA224": "non-standard functions",
}


class Token(NamedTuple):
    """One terminal: ``kind`` is its name (IRIREF, VAR1, ...) or the literal (SELECT, '{')."""

    kind: str
    text: str
    start: int


_new_token = tuple.__new__  # builds a Token without NamedTuple's Python-level __new__


class SyntaxRefused(ValueError):
    """Text outside the SPARQL 1.1 grammar; ``str()`` is one line with the position."""


def position(text: str, offset: int) -> str:
    """``line:column`` (from 1), written as the engine writes its own syntax errors."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{column}"


class Compiled:
    """The terminals of a grammar as regular expressions, and what can start at a character."""

    def __init__(self, t: Tables, grammar: ebnf.Grammar) -> None:
        named = sorted(n for n in t.terminals if n in grammar.terminals)
        self.regex = {n: re.compile(ebnf.compile_terminal(grammar, n, n in ESCAPING_TERMINALS))
                      for n in named}
        self.heads = {n: re.compile(ebnf.first_chars(grammar, grammar.terminals[n]))
                      for n in named}
        self.punctuation = sorted(t.punctuation, key=len, reverse=True)
        self.keywords = t.keywords
        ws = ebnf.compile_terminal(grammar, "WS")
        comment = ebnf.compile_terminal(grammar, "COMMENT")
        self.skip = re.compile(f"(?:{ws}+|{comment})*+")
        self.word = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
        self.pname = ("PNAME_LN", "PNAME_NS")
        self.uchar = re.compile(ebnf.compile_terminal(grammar, "UCHAR"))
        self.multiword = {k.split()[0]: [] for k in t.keywords if " " in k}
        for k in t.keywords:
            if " " in k:
                first, second = k.split()
                self.multiword[first].append(re.compile(
                    f"(?:{ws})+({second})(?![A-Za-z0-9_:\\-])", re.I))
        # what the engine reads beyond this grammar, named in refusals (unless the grammar
        # defines it after all)
        self.beyond = {k: v for k, v in BEYOND_SPARQL_11.items() if k not in t.terminals}
        self.extensions = sorted((k for k in self.beyond if not k[0].isalpha()),
                                 key=len, reverse=True)
        self._dispatch: dict[str, _Dispatch] = {}
        self._combined: dict[tuple[str, ...], re.Pattern[str]] = {}

    def dispatch(self, char: str) -> _Dispatch:
        """What can start at ``char``: the named terminals (one regex call tries them all,
        each in a lookahead group, so the longest can be taken), punctuation, keywords."""
        found = self._dispatch.get(char)
        if found is None:
            kinds = [n for n, head in self.heads.items() if head.fullmatch(char)]
            regex = None
            if kinds:
                regex = self._combined.get(tuple(kinds))
                if regex is None:
                    regex = re.compile("".join(f"(?:(?=({self.regex[k].pattern})))?"
                                               for k in kinds))
                    self._combined[tuple(kinds)] = regex
            punct = [p for p in self.punctuation + self.extensions if p[0] == char]
            punct.sort(key=len, reverse=True)
            found = _Dispatch(regex, kinds, punct, bool(self.word.match(char)))
            self._dispatch[char] = found
        return found


class _Dispatch(NamedTuple):
    regex: re.Pattern[str] | None
    kinds: list[str]
    punctuation: list[str]
    word: bool


@cache
def compiled() -> Compiled:
    """The terminals of the grammar file (compiled once per process)."""
    return Compiled(tables(), ebnf.read())


class Lexer:
    """Reads ``text`` one token at a time, on demand of the parser."""

    def __init__(self, text: str, terminals: Compiled | None = None) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.c = terminals or compiled()

    def error(self, offset: int, what: str) -> SyntaxRefused:
        return SyntaxRefused(f"error at {position(self.text, offset)}: {what}")

    def next(self, iri_allowed: Callable[[], bool]) -> Token:
        text, c = self.text, self.c
        pos = c.skip.match(text, self.pos).end()  # type: ignore[union-attr]
        if pos >= len(text):
            self.pos = pos
            return Token(EOF, "", pos)
        way = c.dispatch(text[pos])
        best_kind, best_end = "", pos
        if way.regex is not None:
            found = way.regex.match(text, pos)
            assert found is not None  # every group is optional
            for group, kind in enumerate(way.kinds, 1):
                end = found.end(group)
                if end > best_end:
                    if kind == "IRIREF" and not iri_allowed():
                        continue
                    best_kind, best_end = kind, end
        for punct in way.punctuation:  # longest first
            if len(punct) > best_end - pos and text.startswith(punct, pos):
                best_kind, best_end = punct, pos + len(punct)
                break
        if way.word:
            word = c.word.match(text, pos)
            assert word is not None
            if word.end() >= best_end:
                best_kind, best_end = self._keyword(word, best_kind, best_end)
        if best_end == pos:
            raise self._unreadable(pos)
        token_text = text[pos:best_end]
        if best_kind in c.beyond:
            raise self.error(pos, f"{c.beyond[best_kind]} are not SPARQL 1.1 and not "
                                  f"accepted here (found {token_text!r})")
        if best_kind in ESCAPING_TERMINALS and "\\" in token_text:
            self._check_escapes(token_text, pos)
        step = _OPENERS.get(best_kind)
        if step:
            self.depth += step
            if self.depth > MAX_NESTING:
                raise self.error(pos, f"brackets nested deeper than {MAX_NESTING}")
        self.pos = best_end
        return _new_token(Token, (best_kind, token_text, pos))

    def _keyword(self, word: re.Match[str], kind: str, end: int) -> tuple[str, int]:
        """A keyword, unless a prefixed name (which holds a ':') is longer."""
        if word.end() == end and kind in self.c.pname:
            return kind, end
        key = word.group() if word.group() == "a" else word.group().upper()
        if key in self.c.multiword:
            for follow in self.c.multiword[key]:
                more = follow.match(self.text, word.end())
                if more:
                    return f"{key} {more.group(1).upper()}", more.end()
        if key in self.c.keywords:
            return key, word.end()
        if key in self.c.beyond:
            return key, word.end()
        return kind, end

    def _unreadable(self, pos: int) -> SyntaxRefused:
        text = self.text
        char = text[pos]
        if char == "\\" and self.c.uchar.match(text, pos):
            return self.error(pos, "a codepoint escape (\\u, \\U) outside an IRI or a string "
                                   "(the engine refuses it there too)")
        if char in "'\"":
            return self.error(pos, "unterminated string or bad escape")
        if char == "<":
            return self.error(pos, "unterminated or invalid IRI")
        word = self.c.word.match(text, pos)
        shown = word.group() if word else text[pos:pos + 12]
        if word:
            return self.error(pos, f"{shown!r} is no SPARQL 1.1 keyword")
        return self.error(pos, f"cannot read {shown!r}")

    def _check_escapes(self, token_text: str, pos: int) -> None:
        for match in _ESCAPE.finditer(token_text):  # in order: "\\u0041" is no escape
            digits = match.group(1) or match.group(2)
            if digits is None:
                continue
            code = int(digits, 16)
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                raise self.error(pos + match.start(),
                                 f"{match.group()} is no character (surrogate or out of range)")
