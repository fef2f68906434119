"""Named SPARQL queries: loading, parameters, and result formats.

A named query is a ``.rq`` file whose header comments document it::

    # title: Implementers / Văn bản thực hiện
    # description: ...
    # param doc: number of the document carried out (e.g. 28-CT/TW)
    # param province: ... (default: empty, every province)
    # example doc: 28-CT/TW

In the query body, ``$doc`` stands for the value as given (an NFC string literal) and
``$doc_key`` for its lookup key (diacritics folded, lower case, '/' as '-'), which is how
documents (``kg:numberKey``) and agencies (IRI slugs) are matched however a user types them.
Values are inserted as escaped literals, never as query text. ``# example NAME: VALUE`` lines
give a value that shows the query at work (the web query page preloads them).
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from rdflib import Literal

from kgraph.errors import QueryError
from kgraph.ingest.text import nfc, slugify
from kgraph.paths import resource_dir
from kgraph.store.embedded import QueryResult, Repository

_HEADER = re.compile(r"^#\s*(title|description|param|example|python)\s*(\w*)\s*:\s*(.*)$")
_DEFAULT = re.compile(r"\(default:\s*([^,)]*)")
_PLACEHOLDER = re.compile(r"\$([A-Za-z_]\w*)")
_EMPTY_WORDS = {"empty", ""}
ENGINE_FOLDER = "oxigraph"  # queries/oxigraph/NAME.rq: NAME written for the embedded store


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    default: str | None  # None = required

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass
class NamedQuery:
    name: str
    text: str
    title: str = ""
    description: str = ""
    parameters: list[Parameter] = field(default_factory=list)
    examples: dict[str, str] = field(default_factory=dict)
    python: str = ""  # "module:function" that answers it in Python (a walk SPARQL cannot do)
    # The same query written for the embedded Oxigraph store (queries/oxigraph/NAME.rq: LATERAL
    # joins, SPARQL 1.2), same answers; ``text`` stays SPARQL 1.1 for /sparql and other engines.
    oxigraph: str = ""

    def for_repository(self, repo: object) -> NamedQuery:
        """This query as ``repo`` runs it best: the Oxigraph text on the embedded store."""
        from kgraph.store.embedded import OxigraphRepository

        if self.oxigraph and isinstance(repo, OxigraphRepository):
            return replace(self, text=self.oxigraph, oxigraph="")
        return self

    def example(self) -> str:
        """The query bound to its ``# example`` values (defaults for the other parameters)."""
        return self.render(self.examples)

    def render(self, values: dict[str, str]) -> str:
        """The query with its parameters bound; unknown or missing parameters are errors."""
        declared = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise QueryError(f"{self.name}: unknown parameter(s) {', '.join(unknown)}; "
                             f"it takes {', '.join(declared) or 'none'}")
        bound: dict[str, str] = {}
        for param in self.parameters:
            value = values.get(param.name, param.default)
            if value is None:
                raise QueryError(
                    f"{self.name}: missing parameter {param.name} ({param.description})"
                )
            bound[param.name] = Literal(nfc(value)).n3()
            bound[param.name + "_key"] = Literal(slugify(value)).n3()

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in bound:
                raise QueryError(f"{self.name}: placeholder ${name} is not a declared parameter")
            return bound[name]

        return _PLACEHOLDER.sub(substitute, self.text)


def parse_named_query(name: str, text: str) -> NamedQuery:
    query = NamedQuery(name=name, text=text)
    for line in text.splitlines():
        header = _HEADER.match(line)
        if not header:
            continue
        kind, pname, value = header.groups()
        if kind == "title":
            query.title = value
        elif kind == "description":
            query.description = value
        elif kind == "example":
            query.examples[pname] = value.strip()
        elif kind == "python":
            query.python = value.strip()
        else:
            default = _DEFAULT.search(value)
            default_value = None
            if default:
                word = default.group(1).strip()
                default_value = "" if word in _EMPTY_WORDS else word
            query.parameters.append(Parameter(pname, value, default_value))
    return query


def named_queries(folder: Path | None = None) -> dict[str, NamedQuery]:
    folder = folder or resource_dir("queries")
    found = {}
    for path in sorted(folder.glob("*.rq")):
        query = parse_named_query(path.stem, path.read_text(encoding="utf-8"))
        engine = folder / ENGINE_FOLDER / path.name
        if engine.is_file():
            query.oxigraph = engine.read_text(encoding="utf-8")
        found[path.stem] = query
    return found


def load_query(name_or_path: str) -> NamedQuery:
    """A named query by name, or any ``.rq`` file by path."""
    path = Path(name_or_path)
    if path.suffix == ".rq" and path.is_file():
        return parse_named_query(path.stem, path.read_text(encoding="utf-8"))
    known = named_queries()
    if name_or_path not in known:
        raise QueryError(f"no named query {name_or_path!r}; known: {', '.join(known)}")
    return known[name_or_path]


def run_named(named: NamedQuery, repo: Repository, values: dict[str, str], *,
              plain: bool = False) -> QueryResult:
    """Answer a named query: its SPARQL, or the Python function its ``# python:`` header names.

    The header lets a query whose answer needs a walk (who holds a task after a chain of
    reorganisations) keep its documented parameters and its SPARQL view for analysts.
    ``plain``: the values as plain strings where the repository can give them so (for printing).
    """
    sparql = named.for_repository(repo).render(values)  # checks the parameters either way
    if named.python:
        module_name, _, function_name = named.python.partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        defaults = {p.name: p.default or "" for p in named.parameters}
        return function(repo, {**defaults, **values})
    query = getattr(repo, "plain", None) if plain else None
    try:
        return query(sparql) if callable(query) else repo.query(sparql)
    except SyntaxError as exc:
        raise QueryError(f"{named.name}: {exc}") from exc


def parse_params(pairs: list[str]) -> dict[str, str]:
    """``key=value`` pairs from the command line."""
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise QueryError(f"parameter {pair!r} is not of the form key=value")
        values[key.strip()] = value
    return values


def to_json(result: QueryResult) -> str:
    if result.kind == "ask":
        return json.dumps({"boolean": result.boolean})
    if result.kind == "graph":
        triples = [[str(t) for t in triple] for triple in result.triples]
        return json.dumps(triples, ensure_ascii=False)
    return json.dumps(result.records(), ensure_ascii=False, indent=2)


def to_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    write_csv(result, buffer)
    return buffer.getvalue()


def write_csv(result: QueryResult, out: TextIO) -> None:
    """The result as CSV, written to ``out`` as it goes. The rows are handed to the writer as
    they are: it writes None as an empty field and a term (a ``str``: rdflib's terms and the
    kept answers' plain values) as its text, so no row is copied first (a national directive's
    coverage is 56,000 rows and 24 MB of CSV at 20,000 plans)."""
    writer = csv.writer(out, lineterminator="\n")
    if result.kind == "select":
        writer.writerow(result.variables)
        writer.writerows(result.rows)
    elif result.kind == "ask":
        writer.writerow(["boolean"])
        writer.writerow([str(result.boolean).lower()])
    else:
        writer.writerow(["subject", "predicate", "object"])
        writer.writerows(result.triples)
