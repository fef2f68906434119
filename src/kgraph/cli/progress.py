"""The build's progress bar and summary table (rich)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from kgraph.build import BuildReport, FileResult


class BuildProgress:
    """Files read, graphs loaded, failures and findings, live; the stage once files are done."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[loaded]} loaded · {task.fields[unchanged]} unchanged · "
                       "{task.fields[failed]} failed · {task.fields[findings]} findings"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console,
            transient=True,  # the summary table says what the bar said once the build ends
            disable=not console.is_terminal,  # a log or a pipe gets the summary and errors only
        )
        self.task = self.progress.add_task("reading files", total=None, loaded=0, unchanged=0,
                                           failed=0, findings=0)
        self.loaded = self.failed = self.findings = 0

    def __enter__(self) -> BuildProgress:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.stop()

    def started(self, total: int, unchanged: int) -> None:
        self.progress.update(self.task, total=total, completed=unchanged, unchanged=unchanged)

    def file_done(self, result: FileResult) -> None:
        if result.error or result.summary is None:
            self.failed += 1
        else:
            self.loaded += 1
            self.findings += sum(result.findings.values())
        self.progress.update(self.task, advance=1, loaded=self.loaded, failed=self.failed,
                             findings=self.findings)

    def stage(self, text: str) -> None:
        self.progress.update(self.task, description=text)


def print_summary(console: Console, report: BuildReport, store: str, ttl_out: Path | None
                  ) -> None:
    """One table: what was read, loaded, kept, refused; then findings by rule."""
    table = Table(title="kgraph build", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    rows = [
        ("source files", str(len(report.sources))),
        ("documents loaded", str(len(report.documents))),
        ("unchanged (not re-read)", str(len(report.unchanged))),
        ("failed", str(len(report.failures))),
        ("triples loaded", str(report.triples)),
        ("previous versions kept", str(len(report.revisions))),
        ("store writes", f"{report.load_quads} quads in {report.load_seconds:.1f} s "
                         f"({report.load_quads / max(report.load_seconds, 1e-9):.0f} quads/s)"),
        ("TriG files", f"{len(report.ttl_files)} in {ttl_out}" if ttl_out else "not written"),
        ("directive coverage", ", ".join(report.directives) or "not recomputed"),
        ("stages", " · ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()) or "-"),
        ("store", f"{store} (version {_version_name(report.store_version)})"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table, markup=False, highlight=False)
    for summary in report.documents:  # the IRI of every document loaded, for the next command
        console.print(f"  {summary.document}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"built {len(report.documents)} document graph(s), {report.triples} triples",
                  markup=False, highlight=False)
    violations = report.violations()
    others = sum(report.findings.values()) - violations
    console.print(f"validation: {violations} violation(s), {others} other finding(s); "
                  "details: kgraph audit", markup=False, highlight=False)


def _version_name(version: str) -> str:
    """'ROOT:v000007:0' -> 'v000007' (a memory store's token as it is)."""
    parts = version.rsplit(":", 2)
    return parts[-2] if len(parts) == 3 else version
