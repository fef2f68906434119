"""A commune's own bodies ("Công an xã …", "Ủy ban nhân dân phường …") are named from the list of
the 3,321 communes of the 34 provinces (``data/reference/tables/communes_2025.csv``, generated from
the field's package), never taken for a province's body or for the group "các xã, phường".

The plan below is made up in the style of a commune's plan (Nghị định 30/2020/NĐ-CP: the
letterhead names the commune under its own committee and no province); the communes it names
are real ones of the list.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgraph.cli import app
from kgraph.ingest.bodies import split_agencies
from kgraph.ingest.evaluation import _qualified_name
from kgraph.ingest.extract import extract_document
from kgraph.paths import resource_dir
from kgraph.reference.matching import default_matcher

TABLES = resource_dir("reference") / "tables"

COMMUNE_PLAN = """ỦY BAN NHÂN DÂN
XÃ EA KLY
Số: 57/KH-UBND
Ea Kly, ngày 15 tháng 9 năm 2025
KẾ HOẠCH
Phòng, chống đuối nước trẻ em trên địa bàn xã năm 2025
Ủy ban nhân dân xã ban hành Kế hoạch như sau:
I. MỤC ĐÍCH, YÊU CẦU
1. Mục đích
- Giảm số trẻ em bị đuối nước trên địa bàn xã.
II. NHIỆM VỤ
1. Tổ chức lớp dạy bơi cho học sinh trong dịp hè.
III. TỔ CHỨC THỰC HIỆN
1. Công an xã Ea Kly:
- Chủ trì kiểm tra các điểm có nguy cơ đuối nước; báo cáo kết quả trước ngày 15 tháng 12 năm 2025.
2. Trạm Y tế xã Ea Kly:
- Chủ trì hướng dẫn sơ cứu đuối nước cho phụ huynh.
3. Phòng Văn hóa - Xã hội xã Ea Kly:
- Chủ trì tuyên truyền trên hệ thống loa của xã.
4. Văn phòng HĐND và UBND xã:
- Tổng hợp, báo cáo kết quả thực hiện.
Nơi nhận:
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Lê Văn Bình
"""


def _table(name: str) -> list[dict[str, str]]:
    with open(TABLES / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _resolve(text: str, province: str | None = None) -> tuple:
    mention = default_matcher().agency(text, province)
    return mention.reference_id, mention.canonical, mention.province, mention.commune


@pytest.mark.parametrize(("text", "province", "expected"), [
    ("Công an xã Ea Kly", "Đắk Lắk",
     ("cong-an-xa", "Công an xã Ea Kly", "Đắk Lắk", "xã Ea Kly")),
    # English-only OCR keeps no accent: the name is matched in key space
    ("Cong an xa Ea Kly", "Đắk Lắk",
     ("cong-an-xa", "Công an xã Ea Kly", "Đắk Lắk", "xã Ea Kly")),
    ("ỦY BAN NHÂN DÂN XÃ EA KLY", None,  # one commune of that name: its province is known
     ("uy-ban-nhan-dan-xa", "Ủy ban nhân dân xã Ea Kly", "Đắk Lắk", "xã Ea Kly")),
    ("UBND phường Hạc Thành", None,
     ("uy-ban-nhan-dan-xa", "Ủy ban nhân dân phường Hạc Thành", "Thanh Hóa", "phường Hạc Thành")),
    ("UBND đặc khu Lý Sơn", "Quảng Ngãi",
     ("uy-ban-nhan-dan-xa", "Ủy ban nhân dân đặc khu Lý Sơn", "Quảng Ngãi", "đặc khu Lý Sơn")),
    ("Văn phòng HĐND và UBND xã Ea Kly", "Đắk Lắk",
     ("van-phong-hdnd-va-ubnd-xa", "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân xã Ea Kly",
      "Đắk Lắk", "xã Ea Kly")),
    # "xã hội" is no unit word: the split is at the commune's "xã"
    ("Phòng Văn hóa - Xã hội xã Ea Kly", "Đắk Lắk",
     ("phong-van-hoa-xa-hoi-xa", "Phòng Văn hóa - Xã hội xã Ea Kly", "Đắk Lắk", "xã Ea Kly")),
])
def test_a_named_communes_body_is_that_communes(text, province, expected) -> None:
    assert _resolve(text, province) == expected


def test_a_name_several_provinces_hold_is_taken_only_in_the_plans_province() -> None:
    communes = _table("communes_2025.csv")
    counts = Counter(row["name"] for row in communes)
    assert counts["Tân Thành"] > 1  # the premise: many provinces have a xã Tân Thành
    assert _resolve("Ủy ban nhân dân xã Tân Thành")[0] is None  # not guessed
    holders = {row["province_code_2025"] for row in communes if row["name"] == "Tân Thành"}
    names = {row["code_2025"]: row["name"] for row in _table("provinces_2025.csv")}
    province = names[sorted(holders)[0]]
    found = _resolve("Ủy ban nhân dân xã Tân Thành", province)
    assert found[0] == "uy-ban-nhan-dan-xa" and found[2] == province


def test_groups_and_unknown_communes_are_not_taken_for_a_named_commune() -> None:
    # groups stay the groups they were
    assert _resolve("Ủy ban nhân dân các xã, phường", "Đắk Lắk")[0] == "ubnd-cac-xa-phuong"
    assert _resolve("Ủy ban nhân dân xã, phường", "Đắk Lắk")[0] == "ubnd-cac-xa-phuong"
    # a commune the list lacks (a made-up one) stays unresolved: not "các xã, phường"
    mention = default_matcher().agency("Ủy ban nhân dân xã Long Khê Ia", "Đắk Lắk")
    assert mention.reference_id is None and mention.canonical is None
    # a plan names its own province's communes: another province's is not guessed
    assert _resolve("Công an xã Ea Kly", "Gia Lai")[0] is None
    # a province's bodies are untouched
    assert _resolve("Công an tỉnh", "Đắk Lắk")[0] == "cong-an-tinh"


@pytest.mark.parametrize("heading", [
    "Công an xã Hà Khê Bình",  # a commune the list lacks: not "Công an" of the province
    "Ủy ban Mặt trận Tổ quốc Việt Nam xã Hà Khê Bình",  # nor the province's MTTQ
])
def test_a_communes_body_is_never_read_as_the_provinces(heading: str) -> None:
    [mention] = split_agencies(heading, default_matcher(), "Đắk Lắk")
    assert mention.reference_id is None and mention.raw == heading


@pytest.mark.parametrize(("heading", "expected"), [
    # every commune's, not the province's: the group the list holds, else the template's
    ("Công an xã", ("cong-an-cac-xa-phuong", "Công an các xã, phường, đặc khu")),
    ("UBND phường", ("uy-ban-nhan-dan-xa", "Ủy ban nhân dân cấp xã")),
    ("Ủy ban nhân dân cấp xã", ("uy-ban-nhan-dan-xa", "Ủy ban nhân dân cấp xã")),  # the same
    ("Đảng ủy cấp xã", ("dang-uy-xa", "Đảng ủy cấp xã")),
    ("Công an cấp xã", ("cong-an-cac-xa-phuong", "Công an các xã, phường, đặc khu")),
    ("Văn phòng HĐND và UBND xã", ("van-phong-hdnd-va-ubnd-xa",  # one body, not two
                                   "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân cấp xã")),
])
def test_a_communes_body_without_a_name_is_every_communes(heading: str, expected) -> None:
    [mention] = split_agencies(heading, default_matcher(), "Đắk Lắk")
    assert (mention.reference_id, mention.canonical) == expected
    assert mention.kind.value == "collective" and mention.commune is None


def test_a_communes_name_is_read_whole() -> None:
    # "xã Ea" would be another reading of the first word only: the name runs on
    [mention] = split_agencies("Trạm Y tế xã Ea Kly", default_matcher(), "Đắk Lắk")
    assert mention.canonical == "Trạm Y tế xã Ea Kly"
    # the groups are still groups
    [group] = split_agencies("Công an cấp xã", default_matcher(), "Đắk Lắk")
    assert group.reference_id == "cong-an-cac-xa-phuong"


def test_the_list_holds_every_commune_the_province_table_counts() -> None:
    listed = Counter(row["province_code_2025"] for row in _table("communes_2025.csv"))
    for row in _table("provinces_2025.csv"):
        assert listed[row["code_2025"]] == sum(int(row[k]) for k in ("xa", "phuong", "dac_khu"))
    assert sum(listed.values()) == 3321  # Nghị quyết 202/2025/QH15 and the communes' resolutions


def test_a_commune_plans_issuer_and_province_come_from_its_letterhead() -> None:
    doc = extract_document(COMMUNE_PLAN, "commune.txt")
    assert doc.ident.issuer.canonical == "Ủy ban nhân dân xã Ea Kly"
    assert doc.ident.issuer.reference_id == "uy-ban-nhan-dan-xa"
    assert doc.ident.province == "Đắk Lắk"  # from the list: the letterhead names no province
    assert _qualified_name(doc.ident.issuer) == "Ủy ban nhân dân xã Ea Kly"  # as scored
    named = {m.canonical for a in doc.assignments for m in a.addressees}
    assert {"Công an xã Ea Kly", "Trạm Y tế xã Ea Kly",
            "Phòng Văn hóa - Xã hội xã Ea Kly"} <= named
    # "Văn phòng HĐND và UBND xã" in the commune's own plan: its own, as "tỉnh" in a province's
    [own] = doc.assignments[3].addressees
    assert (own.raw, own.canonical, own.province) == (
        "Văn phòng HĐND và UBND xã", "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân xã Ea Kly",
        "Đắk Lắk")


PARTY_PLAN = """ĐẢNG BỘ TỈNH ĐẮK LẮK
ĐẢNG ỦY XÃ EA KLY
*
Số: 12-KH/ĐU
ĐẢNG CỘNG SẢN VIỆT NAM
Ea Kly, ngày 10 tháng 9 năm 2025
KẾ HOẠCH
thực hiện Chỉ thị số 28-CT/TW ngày 25/12/2023 của Ban Bí thư
I. MỤC ĐÍCH, YÊU CẦU
1. Mục đích
- Quán triệt.
II. NHIỆM VỤ
1. Tuyên truyền.
III. TỔ CHỨC THỰC HIỆN
1. Ủy ban nhân dân xã:
- Chủ trì xây dựng kế hoạch thực hiện.
2. Công an xã:
- Phối hợp thực hiện.
Nơi nhận:
- Lưu.
T/M ĐẢNG ỦY
BÍ THƯ
Nguyễn Văn An
"""


def test_a_commune_party_committees_plan_names_its_own_communes_bodies() -> None:
    doc = extract_document(PARTY_PLAN, "party.txt")
    assert (doc.ident.issuer.canonical, doc.ident.province) == ("Đảng ủy xã Ea Kly", "Đắk Lắk")
    assert [[m.canonical for m in a.addressees] for a in doc.assignments] == [
        ["Ủy ban nhân dân xã Ea Kly"], ["Công an xã Ea Kly"]]


def test_built_and_queried_the_commune_bodies_are_distinct_bodies(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "commune.txt").write_text(COMMUNE_PLAN, encoding="utf-8")
    runner = CliRunner()
    store = str(tmp_path / "store")
    built = runner.invoke(app, ["build", str(sources), "--store", store])
    assert built.exit_code == 0, built.stderr
    assert "doc/dak-lak/57-kh-ubnd/2025" in built.stdout
    result = runner.invoke(app, ["query", "assignments", "-p", "doc=57/KH-UBND", "--store", store,
                                 "-f", "json"])
    assert result.exit_code == 0, result.stderr
    agencies = {row["agency"] for row in json.loads(result.stdout)}
    assert {"Công an xã Ea Kly", "Trạm Y tế xã Ea Kly"} <= agencies
    police = runner.invoke(app, ["query", "agency", "-p", "agency=Công an xã Ea Kly",
                                 "--store", store, "-f", "json"])
    assert police.exit_code == 0, police.stderr
    found = json.loads(police.stdout)
    assert {(row["agency"], row["province"], row["role"]) for row in found} == {
        ("Công an xã Ea Kly", "Đắk Lắk", "được giao"), ("Công an xã Ea Kly", "Đắk Lắk", "chủ trì")}
    every = runner.invoke(app, ["query", "agency", "-p", "agency=Công an xã", "--store", store,
                                "-f", "json"])  # every commune's police, not the province's
    assert {row["agency"] for row in json.loads(every.stdout)} == {"Công an xã Ea Kly"}
