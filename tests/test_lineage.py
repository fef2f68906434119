"""The lineage graph: what a walk down from a directive or up from an agency reaches."""

from __future__ import annotations

import networkx as nx
import pytest

from kgraph.analysis.lineage import LineageGraph
from kgraph.graph.vocab import ID

D28 = str(ID["doc/vn/28-ct-tw/2023"])
TU273 = str(ID["doc/gia-lai/273-kh-tu/2024"])
GL2509 = str(ID["doc/gia-lai/2509-kh-ubnd/2024"])
SO_YTE_GL = str(ID["org/gia-lai/so-y-te"])
SO_LD_GL = str(ID["org/gia-lai/so-lao-dong-thuong-binh-va-xa-hoi"])


@pytest.fixture
def lineage(sample_repo) -> LineageGraph:
    return LineageGraph.from_repository(sample_repo)


def test_edges_point_down_from_directive_to_agencies(lineage: LineageGraph) -> None:
    rel = nx.get_edge_attributes(lineage.graph, "rel")
    assert rel[(D28, TU273)] == "implements"
    assert rel[(TU273, GL2509)] == "implements"
    assert rel[(D28, GL2509)] == "cites"
    assert rel[(GL2509, GL2509 + "/assignment/2")] == "assignment"
    assert rel[(GL2509 + "/assignment/2", SO_YTE_GL)] == "addressee"
    assert rel[(GL2509 + "/assignment/1/duty/1", SO_LD_GL)] == "lead"
    assert rel[(GL2509 + "/assignment/1/duty/1", SO_YTE_GL)] == "coordinate"
    assert rel[(GL2509 + "/assignment/3", GL2509 + "/mention/so-hang-khong")] == "request"


def test_walk_down_follows_implements_not_cites(lineage: LineageGraph) -> None:
    one = lineage.walk(D28, "down", 1)
    assert one == {D28, TU273, str(ID["doc/kien-giang/211-kh-tu/2024"]),
                   str(ID["doc/lao-cai/99-kh-tu/2024"])}
    assert GL2509 in lineage.walk(D28, "down", 2)
    assert SO_YTE_GL in lineage.walk(D28, "down", 5)


def test_walk_up_from_an_agency_reaches_the_directive(lineage: LineageGraph) -> None:
    up = lineage.walk(SO_YTE_GL, "up", 8)
    assert {GL2509, TU273, D28} <= up
    assert str(ID["doc/kien-giang/234-kh-ubnd/2024"]) not in up  # another province's plan


def test_levels_put_each_kind_on_its_row(lineage: LineageGraph) -> None:
    levels = lineage.levels(lineage.walk(D28, "down", 8))
    assert levels[D28] == 0
    assert levels[TU273] == 1
    assert levels[GL2509] == 2  # the cites edge from 28-CT/TW does not pull it up
    assert levels[GL2509 + "/assignment/1"] == 3
    assert levels[GL2509 + "/assignment/1/duty/1"] == 4
    assert levels[SO_YTE_GL] == 5


def test_roles_of_an_agency_quote_the_duty(lineage: LineageGraph) -> None:
    roles = {(r["relation"], r["item"]) for r in lineage.roles(SO_LD_GL)}
    assert ("lead", GL2509 + "/assignment/1/duty/1") in roles
    assert ("addressee", GL2509 + "/assignment/1") in roles
    lead = next(r for r in lineage.roles(SO_LD_GL) if r["relation"] == "lead")
    assert lead["role"] == "chủ trì"
    assert lead["document_number"] == "2509/KH-UBND"
    assert lead["text"].startswith("Chủ trì, phối hợp với Sở Y tế")


def test_shortest_path_from_agency_to_directive(lineage: LineageGraph) -> None:
    path = lineage.shortest_path(SO_YTE_GL, D28)
    assert path[0] == SO_YTE_GL and path[-1] == D28
    assert GL2509 in path and TU273 in path
    with pytest.raises(KeyError):
        lineage.shortest_path(SO_YTE_GL, str(ID["doc/nowhere/1/2024"]))


def test_conflicts_and_unresolved_mentions_are_flagged(lineage: LineageGraph) -> None:
    assert any("issuer" in flag for flag in lineage.nodes[D28].flags)
    mention = lineage.nodes[GL2509 + "/mention/so-hang-khong"]
    assert mention.kind == "mention" and mention.flags
    assert mention.province == "Gia Lai"  # from the plan that mentions it
    assert not lineage.nodes[GL2509].flags


def test_province_walks_to_its_documents(lineage: LineageGraph) -> None:
    province = str(ID["province/gia-lai"])
    assert lineage.nodes[province].kind == "province"
    assert lineage.walk(province, "down", 1) == {province, TU273, GL2509}
    _, edges = lineage.subgraph({province, GL2509})
    assert (province, GL2509, "province") in edges


def test_find_document_ignores_diacritics_and_separators(lineage: LineageGraph) -> None:
    assert lineage.find_document("28 ct tw") == D28
    assert lineage.find_document("9999/KH") is None


def test_levels_survive_a_cycle(lineage: LineageGraph) -> None:
    lineage.graph.add_edge(GL2509, D28, rel="implements")  # bad data: a loop
    levels = lineage.levels({D28, TU273, GL2509})
    assert set(levels) == {D28, TU273, GL2509}
