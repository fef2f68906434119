"""Each completeness shape fires on a graph that breaks it and stays quiet on one that keeps it.

Graphs are small inline Turtle documents shaped like kgraph's document graphs.
"""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import SH

from kgraph.analysis.validation import parse_report, shapes_graph, validate_graph

PREFIXES = """
@prefix kg: <https://w3id.org/kgraph/def#> .
@prefix eli: <http://data.europa.eu/eli/ontology#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dt: <https://w3id.org/kgraph/id/doctype/> .
@prefix ref: <https://w3id.org/kgraph/id/ref/> .
@prefix : <https://w3id.org/kgraph/id/doc/x/> .
"""

# A complete plan: every rule holds. Each case below edits one statement of it.
PLAN = """
:plan kg:sourceFile :file ; eli:id_local "234/KH-UBND" ; eli:date_document "2024-07-23"^^xsd:date ;
    eli:type_document dt:ke-hoach ; eli:passed_by :ubnd ; kg:province :kg ;
    kg:implements :party ; eli:cites :ct28 .
:ubnd a org:Organization ; kg:referenceEntry ref:uy-ban-nhan-dan-tinh .
:party eli:id_local "211-KH/TU" ; eli:type_document dt:ke-hoach ; kg:implements :ct28 .
:ct28 eli:id_local "28-CT/TW" ; eli:type_document dt:chi-thi .
:a1 a kg:Assignment ; kg:addressee :so ; kg:hasDuty :d1 .
:d1 a kg:Duty ; kg:leadAgency :so ; kg:coordinatingAgency :yte .
:so a org:Organization . :yte a org:Organization .
:r1 a kg:ReportingDuty ; kg:reportTo :ubnd ; kg:dueDayMonth "--12-15"^^xsd:gMonthDay .
:t1 a kg:Target ; kg:targetValue 98.5 ; kg:unit "%" .
"""


def graph_of(*edits: tuple[str, str]) -> Graph:
    text = PLAN
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return Graph().parse(data=PREFIXES + text, format="turtle")


# rule -> edits that break it (the unedited PLAN keeps it)
CASES: dict[str, list[tuple[str, str]]] = {
    "DocumentNumber": [('eli:id_local "234/KH-UBND" ;', "")],
    "DocumentDate": [('eli:date_document "2024-07-23"^^xsd:date ;',
                      'eli:date_document "2024-07-23"^^xsd:date, "2024-07-24"^^xsd:date ;')],
    "DocumentType": [("eli:type_document dt:ke-hoach ; eli:passed_by", "eli:passed_by")],
    "DocumentIssuer": [("eli:passed_by :ubnd ;", "eli:passed_by :ubnd, :other ;")],
    "OwnNumberFormat": [('"234/KH-UBND"', '"234/KH UBND"')],
    "CitedNumberFormat": [('"28-CT/TW"', '"28-CTTW"')],
    "UnreadableReference": [(":ct28 eli:id_local \"28-CT/TW\" ;",
                             ":ct28 kg:numberAsWritten \"37§/LĐTBXH-TE\" ;")],
    "PlanBasis": [("kg:implements :party ; eli:cites :ct28 .", "eli:cites :ct28 .")],
    "PlanImplements": [("kg:implements :party ; eli:cites :ct28 .", "eli:based_on :ct28 .")],
    "PlanProvince": [("kg:province :kg ;", "")],
    "PartialText": [("kg:sourceFile :file ;", "kg:sourceFile :file ; kg:isPartial true ;")],
    "PartyChain": [("kg:implements :party ; eli:cites :ct28 .", "kg:implements :ct28 .")],
    "AssignmentAgency": [("kg:addressee :so ; kg:hasDuty", "kg:hasDuty"),
                         ("kg:leadAgency :so ; kg:coordinatingAgency :yte .", "kg:text \"x\" .")],
    "DutyAgency": [("kg:addressee :so ; kg:hasDuty", "kg:hasDuty"),
                   ("kg:leadAgency :so ; kg:coordinatingAgency :yte .", "kg:text \"x\" .")],
    "CollectiveAddressee": [(":so a org:Organization .", ":so a kg:CollectiveAddressee .")],
    "CollectiveDutyAgency": [(":yte a org:Organization .", ":yte a kg:CollectiveAddressee .")],
    "UnresolvedAddressee": [(":so a org:Organization .", ":so a kg:UnresolvedMention .")],
    "UnresolvedDutyAgency": [(":yte a org:Organization .", ":yte a kg:UnresolvedMention .")],
    "ReportRecipient": [("kg:reportTo :ubnd ;", "")],
    "ReportDue": [('; kg:dueDayMonth "--12-15"^^xsd:gMonthDay .', ".")],
    "TargetValue": [("kg:targetValue 98.5 ;", "")],
    "TargetUnit": [('; kg:unit "%" .', ".")],
}


def rules(graph: Graph) -> set[str]:
    return {r.rule for r in validate_graph(graph).results}


def test_complete_plan_conforms() -> None:
    validation = validate_graph(graph_of())
    assert validation.conforms
    assert validation.results == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_shape_fires_on_its_violation(rule: str) -> None:
    assert rule in rules(graph_of(*CASES[rule]))


@pytest.mark.parametrize("rule", sorted(CASES))
def test_shape_quiet_on_conforming_graph(rule: str) -> None:
    assert rule not in rules(graph_of())


def test_party_chain_accepts_a_stated_reason() -> None:
    edits = [("kg:implements :party ; eli:cites :ct28 .",
              'kg:implements :ct28 ; skos:editorialNote "Tỉnh ủy không ban hành kế hoạch" .')]
    assert "PartyChain" not in rules(graph_of(*edits))


def test_party_chain_ignores_non_committee_plans() -> None:
    edits = [("kg:implements :party ; eli:cites :ct28 .", "kg:implements :ct28 ."),
             ("kg:referenceEntry ref:uy-ban-nhan-dan-tinh", "kg:referenceEntry ref:so-y-te")]
    assert "PartyChain" not in rules(graph_of(*edits))


@pytest.mark.parametrize("number", ["18/KH-SLĐTBXH", "211-KH/TU", "50/KH-UBND", "12/2024/KH-UBND"])
def test_well_formed_plan_numbers(number: str) -> None:
    assert "OwnNumberFormat" not in rules(graph_of(('"234/KH-UBND"', f'"{number}"')))


@pytest.mark.parametrize(("type_", "number"), [
    ("chi-thi", "28-CT/TW"), ("quyet-dinh", "1472/QĐ-TTg"), ("nghi-quyet", "121/2020/QH14"),
    ("cong-van", "739/VP-KGVX"), ("quyet-dinh", "12/2024/QĐ-UBND"),
])
def test_well_formed_cited_numbers(type_: str, number: str) -> None:
    edits = [(':ct28 eli:id_local "28-CT/TW" ; eli:type_document dt:chi-thi .',
              f':ct28 eli:id_local "{number}" ; eli:type_document dt:{type_} .')]
    assert "CitedNumberFormat" not in rules(graph_of(*edits))
    bad = [(edits[0][0], f':ct28 eli:id_local "x{number}" ; eli:type_document dt:{type_} .')]
    assert "CitedNumberFormat" in rules(graph_of(*bad))


def test_every_rule_has_severity_and_two_messages() -> None:
    shapes = shapes_graph()
    named = {s for s in shapes.subjects(SH.severity, None)}
    assert {r.rsplit("#", 1)[-1] for r in map(str, named)} >= set(CASES)
    for shape in named:
        carriers = [shape, *shapes.objects(shape, SH.sparql)]
        langs = {m.language for c in carriers for m in shapes.objects(c, SH.message)
                 if isinstance(m, Literal)}
        assert {"vi", "en"} <= langs, shape


def test_results_carry_both_languages_and_substituted_values() -> None:
    validation = validate_graph(graph_of(('"234/KH-UBND"', '"234/KH UBND"')))
    [result] = [r for r in validation.results if r.rule == "OwnNumberFormat"]
    assert result.severity == "Violation"
    assert "234/KH UBND" in result.messages["en"]
    assert "234/KH UBND" in result.messages["vi"]
    assert parse_report(validation.report) == validation.results


def test_warnings_do_not_break_conformance() -> None:
    validation = validate_graph(graph_of(('; kg:unit "%" .', ".")))
    assert validation.conforms
    assert [r.severity for r in validation.results] == ["Warning"]
