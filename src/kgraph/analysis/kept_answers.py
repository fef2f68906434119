"""The named queries whose answer the build keeps, and how to read it: one place for the
command line (``kgraph query``) and the API (``/api/queries/NAME``) alike.

A kept answer has the query's variables and rows (plain values, in the query's order; a row
may carry more values after the variables, such as whether a name is tagged). Its reader
returns None when the query must answer (a version the build kept nothing for, a value the
reader does not handle). What each variable's values are as terms (a datatype, a language, an
IRI) is said here, so that a page shows a kept value as it shows the query's term.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kgraph.store.embedded import Repository

XSD = "http://www.w3.org/2001/XMLSchema#"


class Answer(Protocol):
    """What a reader returns: the query's variables and its rows in its order."""

    variables: tuple[str, ...]

    @property
    def rows(self) -> Sequence[Sequence[str | None]]: ...


@dataclass(frozen=True)
class KeptQuery:
    """A named query with a kept answer: its reader, and its variables' kinds of term."""

    read: Callable[[Repository, dict[str, str]], Answer | None]
    types: dict[str, str] = field(default_factory=dict)  # variable -> datatype (else string)
    vietnamese: frozenset[str] = frozenset()  # names, tagged @vi in the graphs
    iris: frozenset[str] = frozenset()  # variables whose values are IRIs
    tagged_by: dict[str, int] = field(default_factory=dict)
    # variable -> the row's value saying whether this row's value is tagged @vi (else a string)
    plain: bool = False  # the others are literals without a datatype (a Python function's)


def _coverage(repo: Repository, values: dict[str, str]) -> Answer | None:
    from kgraph.analysis import coverage_answer

    return coverage_answer.kept_rows(repo, values)


def _assignments(repo: Repository, values: dict[str, str]) -> Answer | None:
    from kgraph.analysis import assignments_answer

    return assignments_answer.kept_rows(repo, values)


def _reporting(repo: Repository, values: dict[str, str]) -> Answer | None:
    from kgraph.analysis import duties_answer

    return duties_answer.reporting_rows(repo, values)


def _deadlines(repo: Repository, values: dict[str, str]) -> Answer | None:
    from kgraph.analysis import succession

    return succession.deadline_answer(repo, values)


KEPT: dict[str, KeptQuery] = {
    "directive-coverage": KeptQuery(
        _coverage, {"reconstructed": XSD + "boolean", "confidence": XSD + "decimal",
                    "score": XSD + "decimal"}, frozenset({"province", "lead"})),
    "assignments": KeptQuery(
        _assignments, {"requested": XSD + "boolean", "duties": XSD + "integer"},
        frozenset({"plan_province", "agency_province"}), frozenset({"assignment"}),
        {"agency": 10}),
    "reporting": KeptQuery(
        _reporting, iris=frozenset({"duty"}),
        tagged_by={"province": 8, "frequency": 9, "reporter": 10, "recipient": 11, "via": 12}),
    # Computed for the date from the dated parts the build kept (every plan's: 20,000 rows at
    # 20,000 plans), as plain values: the query's terms, made one by one, cost more than that.
    "deadlines": KeptQuery(_deadlines, {"days": XSD + "integer"}, iris=frozenset({"part"}),
                           plain=True),
}


def fact_families() -> list[tuple[Any, str]]:
    """The families of facts the build keeps per plan for these answers
    (:mod:`kgraph.analysis.plan_parts`: assignments; dated and reporting duties), each with its
    build stage's name: one list for the build that keeps them and the sweep that keeps their
    parts alive."""
    from kgraph.analysis import assignments_answer, duties_answer

    return [(assignments_answer.FAMILY, "assignment facts"), (duties_answer.FAMILY, "duty facts")]


def kept_answer(repo: Repository, name: str, values: dict[str, str]) -> Answer | None:
    """The answer the build kept for the named query and these values; None when the query
    must answer (a query without a kept answer, or none kept for this version)."""
    kept = KEPT.get(name)
    return kept.read(repo, values) if kept is not None else None


def term(name: str, variable: str, value: str | None, row: Sequence[str | None]
         ) -> dict[str, Any] | None:
    """A kept value as the query gives its term: {"kind": "iri"} or {"kind": "literal",
    "datatype": ..., or "lang": "vi", or neither}; None for an unbound value."""
    if value is None:
        return None
    kept = KEPT[name]
    if variable in kept.iris:
        return {"kind": "iri"}
    where = kept.tagged_by.get(variable)
    if variable in kept.vietnamese or (where is not None and row[where]):
        return {"kind": "literal", "lang": "vi"}
    if kept.plain and variable not in kept.types:
        return {"kind": "literal"}
    return {"kind": "literal", "datatype": kept.types.get(variable, XSD + "string")}
