"""``kgraph sweep``: delete the values kept next to a store that no version asks for again
(a build does it after each switch; this runs it on an existing store, e.g. after an upgrade)."""

from __future__ import annotations

from typing import Annotated

import typer

from kgraph.cli.common import StoreOption, app, console, repository, user_errors

PLAIN = {"markup": False, "highlight": False, "soft_wrap": True}


@app.command("sweep")
@user_errors
def sweep_command(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Count what would be deleted, delete nothing.")] = False,
    wait: Annotated[bool, typer.Option(
        "--wait", help="Wait for a server or a build holding the store.")] = False,
    store: StoreOption = None,
) -> None:
    """Delete kept derived values (findings, records, states, answers) of texts and code
    versions neither the current store version nor the one before it reads."""
    from kgraph.analysis.sweep import sweep
    from kgraph.store.embedded import OxigraphRepository

    repo = repository(store)
    if not isinstance(repo, OxigraphRepository) or repo.root is None:
        console.print("nothing to sweep: the store keeps no values on disk", **PLAIN)
        return
    with repo.directory.locked(exclusive=True, wait=wait):  # no build writes meanwhile
        swept = sweep(repo, thorough=True, dry_run=dry_run)
    if swept is None:
        console.print("nothing to sweep: the store keeps no values on disk", **PLAIN)
        return
    verb = "would delete" if dry_run else "deleted"
    console.print(f"{verb} {swept.values} kept value(s) ({swept.megabytes:.1f} MB), kept "
                  f"{swept.kept}, in {swept.seconds:.1f} s", **PLAIN)
