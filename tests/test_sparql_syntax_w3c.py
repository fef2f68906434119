"""The SPARQL 1.1 parser of the endpoint's check against the W3C test suite.

Every ``mf:PositiveSyntaxTest11`` / ``mf:PositiveUpdateSyntaxTest11`` under
../shared/w3c/rdf-tests/sparql/sparql11/ must parse, every ``mf:NegativeSyntaxTest11`` /
``mf:NegativeUpdateSyntaxTest11`` must be refused, and the query of every
``mf:QueryEvaluationTest`` (update of every ``mf:UpdateEvaluationTest``) must parse too: those
are valid SPARQL 1.1. Counts and any mismatch are written to
test-artifacts/w3c-sparql-syntax.txt.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import RDF, Graph, Namespace

from conftest import ARTIFACTS, shared_path
from kgraph.web.sparql_syntax import SyntaxRefused, parse, rules

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
KINDS = {  # test type -> (unit, must parse)
    MF.PositiveSyntaxTest11: ("query", True), MF.NegativeSyntaxTest11: ("query", False),
    MF.PositiveUpdateSyntaxTest11: ("update", True),
    MF.NegativeUpdateSyntaxTest11: ("update", False),
}


def cases(root: Path) -> list[tuple[str, Path, str, bool]]:
    """(kind, file, unit, must parse) for every syntax test and evaluation query."""
    found = []
    for manifest in sorted(root.glob("*/manifest.ttl")):
        graph = Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
        for kind, (unit, positive) in KINDS.items():
            for test in graph.subjects(RDF.type, kind):
                action = graph.value(test, MF.action)
                found.append((str(kind).split("#")[1], Path(str(action).removeprefix("file://")),
                              unit, positive))
        for test in graph.subjects(RDF.type, MF.QueryEvaluationTest):
            query = graph.value(graph.value(test, MF.action), QT.query)
            found.append(("QueryEvaluationTest", Path(str(query).removeprefix("file://")),
                          "query", True))
        for test in graph.subjects(RDF.type, MF.UpdateEvaluationTest):
            request = graph.value(graph.value(test, MF.action), UT.request)
            found.append(("UpdateEvaluationTest", Path(str(request).removeprefix("file://")),
                          "update", True))
    return found


def parses(text: str, unit: str) -> str | None:
    """None if the text parses and meets the grammar's prose constraints, else the reason."""
    try:
        rules.check(parse(text, unit), text)
    except SyntaxRefused as exc:
        return str(exc)
    return None


def test_w3c_sparql11_syntax_suite() -> None:
    root = shared_path("w3c", "rdf-tests", "sparql", "sparql11")
    results: dict[str, list[int]] = {}
    mismatches = []
    for kind, path, unit, positive in cases(root):
        reason = parses(path.read_text(encoding="utf-8"), unit)
        passed = (reason is None) == positive
        tally = results.setdefault(kind, [0, 0])
        tally[0 if passed else 1] += 1
        if not passed:
            mismatches.append(f"{kind} {path.relative_to(root)}: {reason or 'parsed'}")
    lines = [f"{kind}: {ok} passed, {bad} failed" for kind, (ok, bad) in sorted(results.items())]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "w3c-sparql-syntax.txt").write_text("\n".join(lines + mismatches) + "\n",
                                                     encoding="utf-8")
    assert mismatches == []
    assert results["PositiveSyntaxTest11"][0] >= 60
    assert results["NegativeSyntaxTest11"][0] >= 35
    assert results["QueryEvaluationTest"][0] >= 100
