"""A SPARQL 1.1 Query and Update parser whose grammar is data (``grammar.ebnf``, section 19.8
of the Recommendation), kept apart from the engine that reads it (``ll1``: FIRST/FOLLOW and the
LL(1) table computed from the data; ``lexer``: terminals compiled from the data; ``parser``:
an iterative table-driven parse into a small typed tree; ``rules``: the constraints the
Recommendation states in prose beside the grammar). ``lateral.ebnf``, read over it, adds SEP-0006
``LATERAL`` (:func:`with_lateral`), for a store whose engine runs it."""

from kgraph.web.sparql_syntax.lexer import MAX_NESTING, SyntaxRefused, Token
from kgraph.web.sparql_syntax.parser import (
    Language,
    Node,
    Root,
    language,
    parse,
    warm,
    with_lateral,
)

__all__ = ["MAX_NESTING", "Language", "Node", "Root", "SyntaxRefused", "Token", "language", "parse",
           "warm", "with_lateral"]
