"""What every command shares: the Typer app, consoles, the --store option, one-line errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_origin

import typer
from rich.console import Console

from kgraph import paths
from kgraph.errors import KgraphError

if TYPE_CHECKING:  # the store (pyoxigraph, rdflib) loads only in commands that open it
    from kgraph.store.embedded import Repository


def _plain_values_without_pydantic() -> None:
    """Typer (0.29) coerces every value but a flag through a pydantic ``TypeAdapter``, built
    when the command line is parsed, even for an option left unset: importing pydantic and
    building the adapters cost every command, a one-plan ``kgraph build`` included, 0.05-0.1
    CPU-s before it did anything. Texts and paths (alone or in a list) whose parameter asks
    for no parser are coerced here exactly as typer's adapters coerce them (a text as it is, a
    path made and then checked by typer's own :func:`coerce_cli_path`); an unset value is
    nothing to coerce; any other value goes to typer's own coercion, built on first use. Left
    as it is when typer's coercion is not the one described (another version)."""
    try:
        from typer import _coercion, core
        from typer._param_types import coerce_cli_path, lenient_issubclass, routes_to_path
    except ImportError:
        return
    typers = getattr(core, "build_runtime_param", None)
    base = getattr(_coercion, "RuntimeParam", None)
    if typers is None or base is None or getattr(typers, "plain", False):
        return
    unplain = object()

    @dataclass(frozen=True)
    class Plain(base):  # type: ignore[misc, valid-type]
        descriptor: Any
        typers: dict[str, Any] = field(default_factory=dict)  # typer's own, once built

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            annotation = self.annotation
            if get_origin(annotation) is list and len(get_args(annotation)) == 1:
                items = value if isinstance(value, list | tuple) else [value]
                found = [self._one(get_args(annotation)[0], item, param, ctx) for item in items]
                if all(item is not unplain for item in found):
                    return found
            else:
                one = self._one(annotation, value, param, ctx)
                if one is not unplain:
                    return one
            if "own" not in self.typers:
                self.typers["own"] = typers(self.descriptor)
            return self.typers["own"]._coerce_value(value, param, ctx)

        def _one(self, annotation: Any, value: Any, param: Any, ctx: Any) -> Any:
            info = self.parameter_info
            if info.parser is not None:
                return unplain
            if annotation is str and isinstance(value, str):
                return value
            if (lenient_issubclass(annotation, Path) and routes_to_path(annotation, info)
                    and isinstance(value, str | Path)):
                kind = info.path_type or annotation
                if not lenient_issubclass(kind, Path):
                    return unplain
                return coerce_cli_path(value if isinstance(value, kind) else kind(value),
                                       info, path_type=kind, param=param, ctx=ctx)
            return unplain

    def build(descriptor: Any) -> Any:
        if descriptor.file_annotation is not None:
            return typers(descriptor)
        return Plain(annotation=descriptor.annotation, parameter_info=descriptor.parameter_info,
                     descriptor=descriptor)

    build.plain = True  # type: ignore[attr-defined]
    build.typers = typers  # type: ignore[attr-defined]
    core.build_runtime_param = build  # type: ignore[attr-defined]


_plain_values_without_pydantic()

app = typer.Typer(
    help="kgraph: Vietnamese directives, plans and responsibilities as a lineage graph.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)
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


