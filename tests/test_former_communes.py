"""Communes before the 2025 merger (``data/reference/tables/communes_before_2025.csv``, generated
from vietnamadminunits' conversion table): an older plan's "Công an phường X" of a commune that
went into another is that commune's body, the mention keeping what the text said; one divided
among several is none of them. And a commune's body says what it is (its commune, its level,
the body it is part of), and the words of local units are one table.

The communes below are real ones of the tables; each test checks its premise in them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS
from typer.testing import CliRunner

from kgraph.cli import app
from kgraph.ingest.bodies import LOCAL_UNITS, split_agencies
from kgraph.paths import resource_dir
from kgraph.reference.matching import default_matcher
from kgraph.reference.units import (
    COMMUNE_WORDS,
    OLD_COMMUNE_WORDS,
    SPLITTER_WORDS,
    SPREAD_WORDS,
    UNIT_WORD_END,
)
from kgraph.store.embedded import OxigraphRepository

TABLES = resource_dir("reference") / "tables"
KG = "https://w3id.org/kgraph/def#"
ID = "https://w3id.org/kgraph/id/"
ORG_SUB = URIRef("http://www.w3.org/ns/org#subOrganizationOf")


def _table(name: str) -> list[dict[str, str]]:
    with open(TABLES / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _former(name: str, province: str) -> list[dict[str, str]]:
    return [r for r in _table("communes_before_2025.csv")
            if r["name"] == name and r["province"] == province]


def _today(code: str) -> str:
    [row] = [r for r in _table("communes_2025.csv") if r["code"] == code]
    return f"{row['division']} {row['name']}"


def _resolve(text: str, province: str | None) -> tuple:
    mention = default_matcher().agency(text, province)
    return mention.reference_id, mention.canonical, mention.province, mention.commune, mention.raw


def test_the_table_is_the_packages_and_every_code_is_a_commune_of_today() -> None:
    from kgraph.reference.generate import commune_history_from_package

    rows, problems = commune_history_from_package(_table("communes_2025.csv"))
    assert problems == []
    assert rows == _table("communes_before_2025.csv")  # regenerated, nothing typed by hand
    today = {r["code"] for r in _table("communes_2025.csv")}
    assert all(row["became"] and set(row["became"].split()) <= today for row in rows)
    olds = {r["name"] for r in _table("provinces_before_2025.csv")}
    assert {row["province"] for row in rows} <= olds
    divided = [row for row in rows if " " in row["became"]]
    assert 0 < len(divided) < len(rows) // 10


def test_a_former_commune_is_the_one_it_went_into_and_the_text_is_kept() -> None:
    [old] = _former("Phúc Xá", "Hà Nội")  # no commune of today bears its name
    became = _today(old["became"])
    assert became != "phường Phúc Xá"
    for province in ("Hà Nội", None):  # with no province: the only former one of that name
        assert _resolve("Công an phường Phúc Xá", province) == (
            "cong-an-xa", f"Công an {became}", "Hà Nội", became, "Công an phường Phúc Xá")


def test_a_former_commune_of_a_merged_province_in_either_provinces_plan() -> None:
    [old] = _former("Nguyễn Trãi", "Hà Giang")  # Hà Giang went into Tuyên Quang
    became = _today(old["became"])
    for province in ("Hà Giang", "Tuyên Quang"):
        found = _resolve("Ủy ban nhân dân phường Nguyễn Trãi", province)
        assert found[1:4] == (f"Ủy ban nhân dân {became}", "Tuyên Quang", became)
    assert _resolve("Ủy ban nhân dân phường Nguyễn Trãi", "Cao Bằng")[0] is None  # not guessed


def test_a_divided_commune_is_none_of_those_it_went_into() -> None:
    [old] = _former("Cống Vị", "Hà Nội")
    assert len(old["became"].split()) > 1  # the premise: divided
    mention = default_matcher().agency("Ủy ban nhân dân phường Cống Vị", "Hà Nội")
    assert mention.reference_id is None and mention.canonical is None
    assert mention.raw == "Ủy ban nhân dân phường Cống Vị"  # kept, never a province's body


def test_a_thi_tran_is_always_a_former_commune() -> None:
    [old] = _former("Yên Phú", "Hà Giang")
    assert old["division"] == "thị trấn"
    became = _today(old["became"])
    # a xã of today bears the name in the same province: the thị trấn is not it
    assert any(r["name"] == "Yên Phú" and r["became"] != old["became"]
               for r in _table("communes_before_2025.csv") if r["province"] == "Tuyên Quang")
    found = _resolve("Công an thị trấn Yên Phú", "Tuyên Quang")
    assert found[1] == f"Công an {became}" and became != "xã Yên Phú"
    # "thị trấn" alone names no group of today's: left to the list, not every commune's
    assert _resolve("Công an thị trấn", "Tuyên Quang")[0] != "cong-an-cac-xa-phuong"
    [split] = split_agencies("Công an thị trấn Yên Phú", default_matcher(), "Tuyên Quang")
    assert split.canonical == f"Công an {became}"


def test_todays_commune_of_a_name_comes_first() -> None:
    # Ea Kly is a commune of today: the former table is not read for it
    assert _resolve("Công an xã Ea Kly", "Đắk Lắk")[3] == "xã Ea Kly"


def _dated(day: str, year: str) -> str:
    return PLAN_2024.replace("ngày 12 tháng 3 năm 2024", f"ngày {day} năm {year}")


def test_a_document_before_the_merger_names_the_former_commune_of_a_name() -> None:
    from kgraph.ingest.extract import extract_document

    # a phường of that name went into another; a xã of that name is a commune of today's
    [old] = [r for r in _former("Chương Dương", "Hà Nội") if r["division"] == "phường"]
    became = _today(old["became"])
    [today] = [f"{r['division']} {r['name']}" for r in _table("communes_2025.csv")
               if r["name"] == "Chương Dương" and r["province_code_2025"] == "01"]
    assert became != today

    def police(text: str) -> tuple:
        doc = extract_document(text, "plan.txt")
        [found] = [m for a in doc.assignments for m in a.addressees
                   if m.raw == "Công an phường Chương Dương"]
        return found.canonical, found.commune

    assert police(_dated("12 tháng 3", "2024")) == (f"Công an {became}", became)
    assert police(_dated("12 tháng 9", "2025")) == (f"Công an {today}", today)  # today's
    # divided, and its name one of those it went into: before the merger, none of them
    [split] = _former("Ngọc Hà", "Hà Nội")
    assert len(split["became"].split()) > 1
    assert "phường Ngọc Hà" in {_today(c) for c in split["became"].split()}

    def health(text: str) -> str | None:
        doc = extract_document(text, "plan.txt")
        [found] = [m for a in doc.assignments for m in a.addressees if "Ngọc Hà" in m.raw]
        return found.canonical

    assert health(_dated("12 tháng 3", "2024")) is None
    assert health(_dated("12 tháng 9", "2025")) == "Trạm Y tế phường Ngọc Hà"


def test_the_unit_words_are_one_table_read_three_ways() -> None:
    keys = {w.key for w in COMMUNE_WORDS}
    assert keys == {"xa", "phuong", "dac khu"}  # a commune's since 2025
    assert {w.key for w in OLD_COMMUNE_WORDS} == {"xa", "phuong", "thi tran"}
    # folded, "quận" is the "quan" of "liên quan" and "bản" the head "Ban": not the splitter's
    assert {"xa", "phuong", "dac khu", "thi tran", "huyen", "thi xa"} == SPLITTER_WORDS
    assert ("tinh", "thanh pho", *SPREAD_WORDS, "dia phuong") == LOCAL_UNITS
    assert "quan" in SPREAD_WORDS and "thon" not in SPREAD_WORDS
    # a key's end: "ban", "quan" are units' words except after "địa", "cơ"
    for key, unit in [("uy ban nhan dan phuong", True), ("tren dia ban", False),
                      ("ban", True), ("thon", True), ("cac co quan", False), ("quan", True),
                      ("uy ban nhan dan thi tran", True), ("uy ban nhan dan tinh", False)]:
        assert bool(UNIT_WORD_END.search(key)) is unit, key


PLAN_2024 = """ỦY BAN NHÂN DÂN
THÀNH PHỐ HÀ NỘI
Số: 321/KH-UBND
Hà Nội, ngày 12 tháng 3 năm 2024
KẾ HOẠCH
Phòng, chống đuối nước trẻ em năm 2024
I. MỤC ĐÍCH, YÊU CẦU
1. Mục đích
- Giảm số trẻ em bị đuối nước.
II. NHIỆM VỤ
1. Tổ chức lớp dạy bơi cho học sinh trong dịp hè.
III. TỔ CHỨC THỰC HIỆN
1. Công an phường Phúc Xá:
- Chủ trì kiểm tra các điểm có nguy cơ đuối nước.
2. Văn phòng HĐND và UBND phường Phúc Xá:
- Tổng hợp, báo cáo kết quả thực hiện.
3. Ủy ban nhân dân phường Cống Vị:
- Phối hợp thực hiện.
4. Công an phường Chương Dương:
- Phối hợp thực hiện.
5. Trạm Y tế phường Ngọc Hà:
- Phối hợp thực hiện.
Nơi nhận:
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Trần Văn Minh
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("former")
    (folder / "sources").mkdir()
    (folder / "sources" / "plan.txt").write_text(PLAN_2024, encoding="utf-8")
    store = folder / "store"
    result = CliRunner().invoke(app, ["build", str(folder / "sources"), "--store", str(store)])
    assert result.exit_code == 0, result.stderr
    return store


def test_built_a_former_communes_body_is_found_by_its_new_name(built: Path) -> None:
    [old] = _former("Phúc Xá", "Hà Nội")
    became = _today(old["became"])
    runner = CliRunner()
    result = runner.invoke(app, ["query", "assignments", "-p", "doc=321/KH-UBND", "--store",
                                 str(built), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    agencies = {row["agency"] for row in json.loads(result.stdout)}
    assert f"Công an {became}" in agencies
    assert "? Ủy ban nhân dân phường Cống Vị" in agencies  # divided: unresolved, as written
    police = runner.invoke(app, ["query", "agency", "-p", f"agency=Công an {became}",
                                 "--store", str(built), "-f", "json"])
    assert {(r["agency"], r["province"]) for r in json.loads(police.stdout)} == {
        (f"Công an {became}", "Hà Nội")}


def test_a_communes_body_page_says_what_it_is(built: Path) -> None:
    from kgraph.ingest.text import slugify
    from kgraph.web.app import create_app

    [old] = _former("Phúc Xá", "Hà Nội")
    became = _today(old["became"])
    client = TestClient(create_app(OxigraphRepository(built, read_only=True)))
    path = f"org/ha-noi/{slugify('Văn phòng Hội đồng nhân dân và Ủy ban nhân dân ' + became)}"
    page = client.get(f"/id/{path}", headers={"accept": "text/turtle"})
    assert page.status_code == 200
    graph = Graph().parse(data=page.text, format="turtle")
    body, commune = URIRef(ID + path), URIRef(f"{ID}commune/ha-noi/{slugify(became)}")
    assert (body, URIRef(KG + "mentionedAs"), Literal("Văn phòng HĐND và UBND phường Phúc Xá")) \
        in graph  # what the text said, kept
    assert (body, URIRef(KG + "commune"), commune) in graph
    assert (body, URIRef(KG + "level"), URIRef(KG + "Commune")) in graph
    committee = URIRef(f"{ID}org/ha-noi/{slugify('Ủy ban nhân dân ' + became)}")
    assert (body, ORG_SUB, committee) in graph  # its commune's committee
    police = Graph().parse(data=client.get(
        f"/id/org/ha-noi/{slugify('Công an ' + became)}",
        headers={"accept": "text/turtle"}).text, format="turtle")
    assert (None, ORG_SUB, URIRef(f"{ID}org/ha-noi/cong-an-tinh")) in police  # the province's
    # the commune's committee, named by no text here, is described all the same
    described = Graph().parse(data=client.get(
        f"/id/{str(committee).removeprefix(ID)}", headers={"accept": "text/turtle"}).text,
        format="turtle")
    assert (committee, SKOS.prefLabel, Literal(f"Ủy ban nhân dân {became}", lang="vi")) \
        in described
    unit = Graph().parse(data=client.get(f"/id/commune/ha-noi/{slugify(became)}",
                                         headers={"accept": "text/turtle"}).text,
                         format="turtle")
    assert (commune, RDF.type, URIRef(KG + "LocalUnit")) in unit
    assert (commune, URIRef(KG + "province"), URIRef(f"{ID}province/ha-noi")) in unit


def test_a_former_communes_own_plan_is_of_its_province_of_then() -> None:
    from kgraph.ingest.extract import extract_document
    from test_commune_bodies import COMMUNE_PLAN

    [old] = _former("Kim Linh", "Hà Giang")  # Hà Giang went into Tuyên Quang
    became = _today(old["became"])
    assert not any(r["name"] == "Kim Linh" for r in _table("communes_2025.csv"))

    def plan(day: str) -> tuple:
        place = f"Kim Linh, ngày {day}"
        text = (COMMUNE_PLAN.replace("XÃ EA KLY", "XÃ KIM LINH")
                .replace("xã Ea Kly", "xã Kim Linh")
                .replace("Ea Kly, ngày 15 tháng 9 năm 2025", place))
        doc = extract_document(text, "plan.txt")
        police = [m for a in doc.assignments for m in a.addressees if m.raw.startswith("Công an")]
        return (doc.ident.province, doc.ident.issuer.canonical, doc.ident.issuer.province,
                police[0].canonical, police[0].raw)

    # before the merger: of Hà Giang, its bodies the commune's it went into, as written kept
    committee = f"Ủy ban nhân dân {became}"
    assert plan("15 tháng 3 năm 2024") == ("Hà Giang", committee, "Tuyên Quang",
                                           f"Công an {became}", "Công an xã Kim Linh")
    assert plan("15 tháng 9 năm 2025")[:3] == ("Tuyên Quang", committee, "Tuyên Quang")
