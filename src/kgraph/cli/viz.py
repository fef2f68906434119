"""``kgraph viz``: a self-contained HTML picture of a document's lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgraph.cli.common import StoreOption, app, console, repository, user_errors


@app.command("viz")
@user_errors
def viz(
    document: Annotated[str, typer.Argument(help="Document number (28-CT/TW) or IRI.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")],
    direction: Annotated[str, typer.Option(help="down (to agencies) or up (to directives).")]
    = "down",
    depth: Annotated[int, typer.Option(min=0, max=12)] = 8,
    store: StoreOption = None,
) -> None:
    """Write a self-contained HTML view of a document's lineage (works offline)."""
    from kgraph.analysis.explore import VizError, export_lineage

    if direction not in ("up", "down"):
        raise VizError(f"--direction must be up or down, not {direction!r}")
    html, count = export_lineage(repository(store, read_only=True), document,
                                 direction=direction, depth=depth)  # type: ignore[arg-type]
    out.write_text(html, encoding="utf-8")
    console.print(f"wrote {out} ({count} nodes)", markup=False, highlight=False)

