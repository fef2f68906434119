"""What every command shares: the Typer app, consoles, the --store option, one-line errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from kgraph import paths
from kgraph.errors import KgraphError

if TYPE_CHECKING:  # the store (pyoxigraph, rdflib) loads only in commands that open it
    from kgraph.store.embedded import Repository

app = typer.Typer(
    help="kgraph: Vietnamese directives, plans and responsibilities as a lineage graph.",
    no_args_is_help=True,
    add_completion=False,
)
# No emoji codes: kgraph prints titles and numbers, where ":word:" is text (and rich's table of
# codes costs a fresh process 0.01 CPU-s to import).
console = Console(emoji=False)
errors = Console(stderr=True, emoji=False)
F = TypeVar("F", bound=Callable[..., Any])


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store directory (default: $KGRAPH_STORE or the user data folder)."
    ),
]


def store_location(store: str | None) -> str:
    return store or str(paths.default_store_dir())


def repository(store: str | None, *, read_only: bool = False) -> Repository:
    from kgraph.store.embedded import open_repository

    return open_repository(store_location(store), read_only=read_only)


def user_errors(func: F) -> F:
    """Turn kgraph's own errors into one clear line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KgraphError as exc:
            for line in str(exc).splitlines() or [""]:  # one "error:" per failure line
                errors.print(f"error: {line}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


