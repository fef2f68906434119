"""`kgraph viz`: a self-contained, escaped HTML file of a lineage."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgraph.analysis.explore import export_lineage
from kgraph.cli import app
from kgraph.graph.mapping import document_graph
from kgraph.store.embedded import OxigraphRepository

PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 1">'


def external_references(html: str) -> list[str]:
    """src/href attributes and CSS url()s of the page itself (inlined asset bodies removed)."""
    skeleton = re.sub(r"<(script|style)>.*?</\1>", "", html, flags=re.S)
    refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", skeleton)
    refs += re.findall(r"url\(\s*['\"]?([^)'\"]+)", html)
    return [r for r in refs if not r.startswith(("data:", "#"))]


@pytest.fixture
def xss_repo(sample_repo) -> OxigraphRepository:
    from factories import provincial_plan

    plan = provincial_plan("77/KH-UBND", "Gia Lai", "273-KH/TU", date(2024, 9, 20),
                           date(2024, 11, 2), text=PAYLOAD)
    graph = document_graph(plan)
    sample_repo.replace_graphs({str(graph.name): graph.to_ntriples()})
    return sample_repo


def test_export_inlines_every_asset(sample_repo) -> None:
    html, count = export_lineage(sample_repo, "28-CT/TW")
    assert count == 43
    assert "vis.Network" in html and "@version 10.1.5" in html  # vendored build, inlined
    assert ".vis-network" in html  # its CSS too
    assert external_references(html) == []
    assert "cdnjs" not in html and "jsdelivr" not in html
    assert "bootstrap" not in html.lower()


def test_export_escapes_labels_and_tooltips(xss_repo) -> None:
    html, _ = export_lineage(xss_repo, "77/KH-UBND", direction="up")
    assert "<script>window.__pwned" not in html
    assert "<img src=x" not in html
    assert "\\u003cscript\\u003ewindow.__pwned" in html  # inside the JSON data, as text
    assert "textContent" in html and "innerHTML" not in html.split("vis.Network")[-1]


def test_cli_writes_the_file(sample_repo, tmp_path: Path, monkeypatch) -> None:
    import kgraph.cli.viz

    monkeypatch.setattr(kgraph.cli.viz, "repository", lambda store, read_only=False: sample_repo)
    out = tmp_path / "lineage.html"
    result = CliRunner().invoke(app, ["viz", "2509/KH-UBND", "--out", str(out),
                                      "--direction", "up"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert "2509/KH-UBND" in out.read_text(encoding="utf-8")


def test_cli_unknown_document_is_a_user_error(sample_repo, tmp_path: Path, monkeypatch) -> None:
    import kgraph.cli.viz

    monkeypatch.setattr(kgraph.cli.viz, "repository", lambda store, read_only=False: sample_repo)
    result = CliRunner().invoke(app, ["viz", "1/XX", "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert not (tmp_path / "x.html").exists()
