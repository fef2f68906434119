"""The build's progress bar and summary table (rich)."""

from __future__ import annotations

import time
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
from kgraph.memory import resident_mb

LOG_EVERY = 30.0  # seconds between progress lines when stderr is not a terminal
LOG_MIN_FILES = 100  # fewer sources: the summary and the error lines only, however long


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
        # Without a terminal (a log, a pipe) the bar is a line every LOG_EVERY seconds and one
        # per stage, with the time the previous stage took, once a build of LOG_MIN_FILES
        # sources or more has run LOG_EVERY seconds: a long build is never silent, a small one
        # prints its summary and error lines only.
        self.console = console
        self.log = not console.is_terminal
        self.total = self.unchanged = 0
        self.started_at = self.logged_at = self.stage_at = time.monotonic()
        self.stage_name = "reading files"

    def __enter__(self) -> BuildProgress:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.stop()

    def started(self, total: int, unchanged: int) -> None:
        self.progress.update(self.task, total=total, completed=unchanged, unchanged=unchanged)
        self.total, self.unchanged = total, unchanged
        self.stage_at = time.monotonic()

    def file_done(self, result: FileResult) -> None:
        if result.error or result.summary is None:
            self.failed += 1
        else:
            self.loaded += 1
            self.findings += sum(result.findings.values())
        self.progress.update(self.task, advance=1, loaded=self.loaded, failed=self.failed,
                             findings=self.findings)
        if self.log and time.monotonic() - self.logged_at >= LOG_EVERY:
            self._line(self._files_line())

    def stage(self, text: str) -> None:
        self.progress.update(self.task, description=text)
        now = time.monotonic()
        if self.stage_name == "reading files":
            self._line(self._files_line())
        self._line(f"{self.stage_name}: {now - self.stage_at:.1f} s; now {text}")
        self.stage_name, self.stage_at = text, now

    def _files_line(self) -> str:
        done = self.loaded + self.failed
        elapsed = max(time.monotonic() - self.stage_at, 1e-9)
        rate = done / elapsed
        left = self.total - self.unchanged - done
        eta = f", about {left / rate:.0f} s left" if rate > 0 and left > 0 else ""
        return (f"files {done + self.unchanged}/{self.total}: {self.loaded} loaded, "
                f"{self.unchanged} unchanged, {self.failed} failed, {self.findings} findings; "
                f"{rate:.1f} files/s{eta}; main process {resident_mb()} MB")

    def _line(self, text: str) -> None:
        if (self.log and self.total >= LOG_MIN_FILES
                and time.monotonic() - self.started_at >= LOG_EVERY):
            self.logged_at = time.monotonic()
            stamp = time.strftime("%H:%M:%S")
            self.console.print(f"[{stamp}] {text}", markup=False, highlight=False,
                               soft_wrap=True)


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
        ("directive coverage", ", ".join(
            f"{n} (continued)" if n in report.continued else n for n in report.directives)
            or "not recomputed"),
        ("kept values swept", "not due (kgraph sweep runs it)" if report.swept is None else
         f"{report.swept.values} deleted ({report.swept.megabytes:.1f} MB), "
         f"{report.swept.kept} kept"),
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
