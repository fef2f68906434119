"""Errors a user sees: one line, naming the input and what is wrong."""

from __future__ import annotations

from pathlib import Path


class KgraphError(Exception):
    """Base for errors reported to users without a traceback."""


class SourceError(KgraphError):
    """A source document that cannot be read as a plan."""

    def __init__(self, source: str | Path, message: str) -> None:
        self.source = str(source)
        self.message = message
        super().__init__(f"{self.source}: {message}")


class QueryError(KgraphError):
    """A named query that is unknown, malformed or lacks a parameter."""


class StoreError(KgraphError):
    """The store cannot be opened or written."""
