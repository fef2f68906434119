"""Reads the W3C EBNF of ``grammar.ebnf`` into expression trees, and compiles terminals to regexes.

The grammar is data: this module knows the *notation* of the SPARQL Recommendation (numbered
productions, ``'literal'``, ``[class]``, ``#xHH``, ``A - B``, ``( ) | ? * +``), nothing of SPARQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

GRAMMAR_FILE = Path(__file__).with_name("grammar.ebnf")

# Expression trees are tuples: ("alt", [e...]), ("seq", [e...]), ("opt"|"star"|"plus", e),
# ("lit", text), ("class", python-class-text), ("ref", name), ("diff", a, b).
Expr = tuple


@dataclass
class Grammar:
    """Productions of the grammar file, by section."""

    rules: dict[str, Expr] = field(default_factory=dict)  # nonterminals, in file order
    terminals: dict[str, Expr] = field(default_factory=dict)  # [139]-[173]
    prose: dict[str, Expr] = field(default_factory=dict)  # COMMENT, UCHAR
    numbers: dict[str, str] = field(default_factory=dict)  # name -> "[n]" of the spec


_PRODUCTION = re.compile(r"\[([0-9.]+)\]\s+([A-Za-z_][A-Za-z0-9_]*)\s*::=\s*(.*)")
_TOKEN = re.compile(r"""\s*(?:
    (?P<lit>'[^']*'|"[^"]*")
  | (?P<cls>\[\^?.[^\]]*\])
  | (?P<hex>\#x[0-9A-Fa-f]+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>[()|?*+\-])
)""", re.X)


def read(path: Path = GRAMMAR_FILE, *extensions: Path) -> Grammar:
    """Parse the grammar file (comments start with ``#`` at the start of a line), then each
    extension file over it: a production of an extension replaces the one of the same name
    (in its place), a new name is added. An extension only states what it changes, so the
    language it makes is the file's plus exactly that."""
    grammar = Grammar()
    for part in (path, *extensions):
        _read_into(grammar, part)
    return grammar


def _read_into(grammar: Grammar, path: Path) -> None:
    section = grammar.rules
    current: list[str] | None = None
    pending: list[tuple[dict[str, Expr], str, str, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("@"):
            section = {"@terminals": grammar.terminals, "@prose": grammar.prose}[stripped]
            current = None
            continue
        match = _PRODUCTION.match(stripped)
        if match:
            current = [match.group(3)]
            pending.append((section, match.group(2), match.group(1), current))
        elif current is not None:
            current.append(stripped)
        else:
            raise ValueError(f"grammar file: text outside a production: {stripped!r}")
    for target, name, number, parts in pending:
        target[name] = _parse_expression(" ".join(parts), name)
        grammar.numbers[name] = number


def _parse_expression(text: str, name: str) -> Expr:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos:].strip() == "":
                break
            raise ValueError(f"grammar file, {name}: cannot read {text[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    parser = _ExpressionParser(tokens, name)
    expr = parser.alternation()
    if parser.pos != len(tokens):
        raise ValueError(f"grammar file, {name}: unexpected {tokens[parser.pos][1]!r}")
    return expr


class _ExpressionParser:
    """alt := seq ('|' seq)* ; seq := diff+ ; diff := postfix ('-' postfix)? ;
    postfix := primary ('?' | '*' | '+')?"""

    def __init__(self, tokens: list[tuple[str, str]], name: str) -> None:
        self.tokens, self.pos, self.name = tokens, 0, name

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def alternation(self) -> Expr:
        options = [self.sequence()]
        while self.peek() == ("op", "|"):
            self.pos += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else ("alt", options)

    def sequence(self) -> Expr:
        items = []
        while self.peek()[0] != "end" and self.peek() not in (("op", "|"), ("op", ")")):
            items.append(self.difference())
        if not items:
            raise ValueError(f"grammar file, {self.name}: empty sequence")
        return items[0] if len(items) == 1 else ("seq", items)

    def difference(self) -> Expr:
        left = self.postfix()
        if self.peek() == ("op", "-"):
            self.pos += 1
            return ("diff", left, self.postfix())
        return left

    def postfix(self) -> Expr:
        item = self.primary()
        kind, text = self.peek()
        if kind == "op" and text in "?*+":
            self.pos += 1
            return ({"?": "opt", "*": "star", "+": "plus"}[text], item)
        return item

    def primary(self) -> Expr:
        kind, text = self.peek()
        self.pos += 1
        if kind == "lit":
            return ("lit", text[1:-1])
        if kind == "hex":
            return ("lit", chr(int(text[2:], 16)))
        if kind == "cls":
            return ("class", _python_class(text))
        if kind == "name":
            return ("ref", text)
        if (kind, text) == ("op", "("):
            inner = self.alternation()
            if self.peek() != ("op", ")"):
                raise ValueError(f"grammar file, {self.name}: missing ')'")
            self.pos += 1
            return inner
        raise ValueError(f"grammar file, {self.name}: unexpected {text!r}")


def _python_class(text: str) -> str:
    """``[^#x27#x5C]`` / ``[a-zA-Z]`` (W3C notation: no escapes) -> a Python regex class."""
    body = text[1:-1]
    negated = body.startswith("^")
    if negated:
        body = body[1:]
    # a '-' between two characters is a range; the W3C notation has no other escapes
    out = []
    for item in _class_items(body):
        if isinstance(item, tuple):
            out.append(f"{_escape_char(item[0])}-{_escape_char(item[1])}")
        else:
            out.append(_escape_char(item))
    return "[" + ("^" if negated else "") + "".join(out) + "]"


def _class_items(body: str) -> list[str | tuple[str, str]]:
    chars: list[str] = []
    i = 0
    while i < len(body):
        match = re.match(r"#x([0-9A-Fa-f]+)", body[i:])
        if match:
            chars.append(chr(int(match.group(1), 16)))
            i += len(match.group())
        else:
            chars.append(body[i])
            i += 1
    items: list[str | tuple[str, str]] = []
    j = 0
    while j < len(chars):
        if j + 2 < len(chars) and chars[j + 1] == "-":
            items.append((chars[j], chars[j + 2]))
            j += 3
        else:
            items.append(chars[j])
            j += 1
    return items


def _escape_char(char: str) -> str:
    code = ord(char)
    if char.isalnum() and code < 128:
        return char
    return f"\\U{code:08x}" if code > 0xFFFF else f"\\u{code:04x}"


def compile_terminal(grammar: Grammar, name: str, escapes: bool = False) -> str:
    """The regular expression of a terminal, with the fragments it refers to inlined.

    With ``escapes``, a codepoint escape (``UCHAR``) may stand for any character a class
    of *this* terminal accepts (not of the fragments it refers to): section 19.2 as the
    engine applies it inside IRIs and strings.
    """
    uchar = f"(?:{_regex(grammar, grammar.prose['UCHAR'], False)})" if escapes else ""
    return _regex(grammar, grammar.terminals.get(name) or grammar.prose[name], escapes, uchar)


def _class_body(grammar: Grammar, expr: Expr) -> str | None:
    """The body of one positive character class matching exactly what ``expr`` matches, when
    it matches one character (so ``[A-Z] | [a-z] | '_'`` becomes one class: far faster)."""
    kind = expr[0]
    if kind == "class" and not expr[1].startswith("[^"):
        return expr[1][1:-1]
    if kind == "lit" and len(expr[1]) == 1:
        return _escape_char(expr[1])
    if kind == "ref":
        return _class_body(grammar, grammar.terminals.get(expr[1]) or grammar.prose[expr[1]])
    if kind == "alt":
        bodies = [_class_body(grammar, e) for e in expr[1]]
        return None if any(b is None for b in bodies) else "".join(bodies)  # type: ignore[arg-type]
    return None


def _regex(grammar: Grammar, expr: Expr, escapes: bool, uchar: str = "") -> str:
    kind = expr[0]
    if not escapes and kind in ("alt", "ref") and (body := _class_body(grammar, expr)):
        return f"[{body}]"
    if kind == "lit":
        return re.escape(expr[1])
    if kind == "class":
        return f"(?:{expr[1]}|{uchar})" if escapes else expr[1]
    if kind == "diff":
        core = f"(?!{_regex(grammar, expr[2], False)}){_regex(grammar, expr[1], False)}"
        return f"(?:{core}|{uchar})" if escapes else f"(?:{core})"
    if kind == "ref":
        target = grammar.terminals.get(expr[1]) or grammar.prose[expr[1]]
        return f"(?:{_regex(grammar, target, False)})"
    if kind == "seq":
        return "".join(_regex(grammar, e, escapes, uchar) for e in expr[1])
    if kind == "alt":
        return "(?:" + "|".join(_regex(grammar, e, escapes, uchar) for e in expr[1]) + ")"
    suffix = {"opt": "?", "star": "*", "plus": "+"}[kind]
    return f"(?:{_regex(grammar, expr[1], escapes, uchar)}){suffix}"


def first_chars(grammar: Grammar, expr: Expr) -> str:
    """A regex class text matching every character a terminal can start with."""
    kind = expr[0]
    if kind == "lit":
        return re.escape(expr[1][0])
    if kind == "class":
        return expr[1]
    if kind == "diff":
        return f"(?!{_regex(grammar, expr[2], False)}){_regex(grammar, expr[1], False)}"
    if kind == "ref":
        return first_chars(grammar, grammar.terminals.get(expr[1]) or grammar.prose[expr[1]])
    if kind == "alt":
        return "(?:" + "|".join(first_chars(grammar, e) for e in expr[1]) + ")"
    if kind == "seq":
        heads = []
        for item in expr[1]:
            heads.append(first_chars(grammar, item))
            if item[0] not in ("opt", "star"):
                break
        return "(?:" + "|".join(heads) + ")"
    return first_chars(grammar, expr[1])
