"""A ``/sparql`` request that is a named query's text with its values bound, answered from the
answer the build kept for that query (:mod:`kgraph.analysis.kept_answers`).

The query page's "to editor" button gives ``/api/queries/NAME?format=sparql``: the text this
store runs, values as escaped literals. Run through ``/sparql`` unchanged, the engine computes
the whole answer again (a national directive's coverage at 20,000 plans: 56,000 rows, 4 s),
while ``/api/queries/NAME`` reads the same rows from what the build kept.

The decision is taken on the parsed request, never on its text: once the safety layers have
read it, its tokens (prologue left out, prefixed names and relative IRIs expanded, variables by
name, strings by value, keywords by kind; white space and comments were never tokens) must be
exactly those of the named query's text, but where the text has a parameter (``$doc_key``):
there a plain string, the value. The values must also be what binding them gives (``$doc``
the NFC text, ``$doc_key`` its key), so that the text is one the named query would render:
only then is the kept answer the engine's. A request with the protocol's dataset
(``default-graph-uri``, ``named-graph-uri``) is never matched; FROM is a token no text has.
Anything else, a version with nothing kept, or a kept answer whose variables are not the
text's, is evaluated by the engine as before.

The kept rows are made into terms (:func:`kgraph.analysis.kept_answers.term`) and written by the
endpoint's own serialiser (:func:`kgraph.web.query_workers.finalize`): the same formats, caps
and streaming as the engine's answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from kgraph.analysis.queries import NamedQuery
from kgraph.ingest.text import nfc, slugify
from kgraph.store.embedded import Repository
from kgraph.web.safety import (
    Parsed,
    UnsafeRequest,
    decode_uchars,
    read_request,
    resolve,
    unescape_local,
)

Shape = tuple[tuple[str, str], ...]  # a request's tokens as compared (kind, value)
_STRINGS = {"STRING_LITERAL1": 1, "STRING_LITERAL2": 1, "STRING_LITERAL_LONG1": 3,
            "STRING_LITERAL_LONG2": 3}
_VALUED = frozenset({"INTEGER", "DECIMAL", "DOUBLE", "INTEGER_POSITIVE", "DECIMAL_POSITIVE",
                     "DOUBLE_POSITIVE", "INTEGER_NEGATIVE", "DECIMAL_NEGATIVE",
                     "DOUBLE_NEGATIVE", "BLANK_NODE_LABEL"})  # tokens compared by their text
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'",
          "\\": "\\"}
SLOT = "$"  # the kind of a template's parameter position


def _string(text: str, quotes: int) -> str:
    """A string token's value, its escapes applied (as the engine reads it)."""
    def escape(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        return chr(int(code, 16)) if code else _ECHAR[match.group(3)]

    return _ESCAPE.sub(escape, text[quotes:-quotes])


def shape(parsed: Parsed, slots: frozenset[str] = frozenset()) -> Shape | None:
    """The request's tokens as compared; None when a prefixed name has no prefix (the engine
    refuses it). ``slots``: the names of a template's parameters (``$doc_key``: a named query
    writes its parameters with ``$``, its own variables with ``?``)."""
    prefixes: dict[str, str] = {}
    base = parsed.base
    for prologue in parsed.tree.index["Prologue"]:
        for declaration in prologue.children:
            terminals = {t.kind: t.text for t in declaration.tokens()}  # type: ignore[union-attr]
            iri = decode_uchars(terminals["IRIREF"][1:-1])
            iri = resolve(base, iri)
            if "PNAME_NS" in terminals:
                prefixes[terminals["PNAME_NS"][:-1]] = iri
            else:
                base = iri
    out: list[tuple[str, str]] = []
    for token in parsed.tree.tokens(stop=("Prologue",)):
        kind, text = token.kind, token.text
        if kind == "IRIREF":
            iri = decode_uchars(text[1:-1])
            out.append(("<", resolve(base, iri)))
        elif kind in ("PNAME_LN", "PNAME_NS"):
            prefix, _, local = text.partition(":")
            if prefix not in prefixes:
                return None
            out.append(("<", prefixes[prefix] + unescape_local(local)))
        elif kind == "VAR2" and text[1:] in slots:  # a parameter: ``$doc_key``
            out.append((SLOT, text[1:]))
        elif kind in ("VAR1", "VAR2"):
            out.append(("?", text[1:]))
        elif kind in _STRINGS:
            out.append(('"', _string(text, _STRINGS[kind])))
        elif kind == "LANGTAG":
            out.append(("@", text.lower()))
        elif kind in ("NIL", "ANON"):
            out.append((kind, ""))  # "( )", "[ ]": white space inside
        elif kind in _VALUED:
            out.append((kind, text))
        else:  # keywords (by kind: in any case) and punctuation
            out.append((kind, ""))
    return tuple(out)


@dataclass(frozen=True)
class Template:
    """A named query's text as tokens, with the positions of its parameters."""

    query: NamedQuery
    tokens: Shape
    slots: tuple[int, ...]  # positions of parameters
    variables: tuple[str, ...]  # projected, in order

    def values(self, request: Shape) -> dict[str, str] | None:
        """The values this request binds, when it is this text with them bound; else None."""
        if len(request) != len(self.tokens):
            return None
        slots = set(self.slots)
        found: dict[str, set[str]] = {}
        for position, (mine, theirs) in enumerate(zip(self.tokens, request, strict=True)):
            if position in slots:
                if theirs[0] != '"':
                    return None
                found.setdefault(mine[1], set()).add(theirs[1])
            elif mine != theirs:
                return None
        values: dict[str, str] = {}
        for param in self.query.parameters:
            given, keys = found.get(param.name), found.get(param.name + "_key")
            if given is None and keys is None:  # the text does not use it
                if param.default is None:
                    return None
                continue
            value = next(iter(given if given is not None else keys))  # type: ignore[arg-type]
            if (given is not None and (len(given) > 1 or nfc(value) != value)) or \
                    (keys is not None and keys != {slugify(value)}):
                return None  # not what binding one value gives: the engine answers
            values[param.name] = value
        return values


def template(query: NamedQuery) -> Template | None:
    """``query``'s text (as this store runs it) as a template, made once per process (a
    server makes its own before it forks its workers); None if it is not a SELECT of named
    variables (no kept answer can stand for it)."""
    key = (query.name, query.text)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = _template(query)
    return _TEMPLATES[key]


_TEMPLATES: dict[tuple[str, str], Template | None] = {}


def _template(query: NamedQuery) -> Template | None:
    names = frozenset(v for p in query.parameters for v in (p.name, p.name + "_key"))
    try:  # (read with LATERAL: the Oxigraph texts have it, the portable ones' tokens are alike)
        parsed = read_request(query.text, "query", None, lateral=True)
    except UnsafeRequest:
        return None
    tokens = shape(parsed, names)
    selects = parsed.tree.index["SelectQuery"]
    clause = selects[0].child("SelectClause") if selects else None
    if tokens is None or clause is None:
        return None
    variables = tuple(t.text[1:] for t in clause.tokens(stop=("Expression",))
                      if t.kind in ("VAR1", "VAR2"))
    if not variables:  # SELECT *
        return None
    slots = tuple(i for i, (kind, _) in enumerate(tokens) if kind == SLOT)
    return Template(query, tokens, slots, variables)


def texts(repository: Repository) -> tuple[NamedQuery, ...]:
    """The named queries with a kept answer that their text gives (not those a ``# python:``
    function answers: their text's columns are other), as this store runs them (the text
    ``/api/queries/NAME?format=sparql`` gives); made once per kind of store."""
    from kgraph.analysis.kept_answers import KEPT
    from kgraph.analysis.queries import named_queries

    kind = type(repository)  # (NamedQuery.for_repository decides by it)
    if kind not in _TEXTS:
        known = named_queries()
        found = tuple(known[name].for_repository(repository) for name in KEPT
                      if name in known and not known[name].python)
        for query in found:
            template(query)
        _TEXTS[kind] = found
    return _TEXTS[kind]


_TEXTS: dict[type, tuple[NamedQuery, ...]] = {}


def match(parsed: Parsed, queries: Iterable[NamedQuery]) -> tuple[str, dict[str, str]] | None:
    """``(name, values)`` of the named query whose text, with these values bound, this request
    is; None for any other request."""
    found = [t for t in map(template, queries) if t is not None]
    size = sum(1 for _ in parsed.tree.tokens(stop=("Prologue",)))  # (a third of a shape's cost)
    found = [t for t in found if len(t.tokens) == size]
    request = shape(parsed) if found else None
    for candidate in found if request is not None else ():
        values = candidate.values(request)
        if values is not None:
            return candidate.query.name, values
    return None


def variables(query: NamedQuery) -> tuple[str, ...]:
    """The variables the text projects (a kept answer must have exactly these)."""
    found = template(query)
    return found.variables if found is not None else ()


def _escaped(value: str) -> str:
    return (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


def solutions(name: str, variables: Sequence[str], rows: Iterable[Sequence[str | None]]
              ) -> ox.QuerySolutions:
    """Kept rows as the engine's solutions: each value the term the query gives
    (:func:`kgraph.analysis.kept_answers.term`), read back by pyoxigraph from TSV. A term's
    form is asked once per variable (and per tag, for a variable whose rows say whether
    their value is tagged): ten thousand rows of twelve values are written in a tenth of a
    second."""
    from kgraph.analysis.kept_answers import KEPT, XSD, term

    tagged_by = KEPT[name].tagged_by
    forms: dict[tuple[str, bool], tuple[str, str, bool]] = {}  # opening, closing, escaped

    def form(variable: str, value: str, row: Sequence[str | None]) -> tuple[str, str, bool]:
        where = tagged_by.get(variable)
        key = (variable, bool(row[where]) if where is not None else False)
        found = forms.get(key)
        if found is None:
            kind = term(name, variable, value, row) or {}
            if kind.get("kind") == "iri":
                found = ("<", ">", False)
            elif "lang" in kind:
                found = ('"', f'"@{kind["lang"]}', True)
            elif kind.get("datatype", XSD + "string") == XSD + "string":
                found = ('"', '"', True)
            else:
                found = ('"', f'"^^<{kind["datatype"]}>', True)
            forms[key] = found
        return found

    width = len(variables)
    lines = ["\t".join(f"?{v}" for v in variables)]
    for row in rows:
        cells = []
        for variable, value in zip(variables, row[:width], strict=True):
            if value is None:
                cells.append("")
                continue
            opening, closing, escaped = form(variable, value, row)
            cells.append(opening + (_escaped(value) if escaped else value) + closing)
        lines.append("\t".join(cells))
    return ox.parse_query_results(("\n".join(lines) + "\n").encode(),
                                  format=ox.QueryResultsFormat.TSV)
