"""A commune's name is never a province's, and a cited plan is of the province its issuer names.

Nghị định 30/2020/NĐ-CP dates a commune's document at the commune's own name ("Tân Ninh, ngày
..."), and a commune's plan names the provincial plan it carries out with its issuer ("của Ủy ban
nhân dân tỉnh Quảng Trị"). The sentences below are made up in that style: "Tân Ninh" is spelled
close to the province Tây Ninh, and there is a ward named exactly as the former province Bắc Giang.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgraph.cli import app
from kgraph.ingest.extract import extract_document
from kgraph.ingest.metadata import extract_metadata
from kgraph.ingest.outline import parse
from kgraph.ingest.references import find_references
from kgraph.reference.matching import default_matcher

COMMUNE_PLAN = (
    "ỦY BAN NHÂN DÂN XÃ TÂN NINH\nSố: 41/KH-UBND\nTân Ninh, ngày 12 tháng 9 năm 2025\nKẾ HOẠCH\n"
    "TRIỂN KHAI KẾ HOẠCH SỐ 512/KH-UBND NGÀY 3 THÁNG 5 NĂM 2024 CỦA ỦY BAN NHÂN DÂN TỈNH QUẢNG "
    "TRỊ TRÊN ĐỊA BÀN XÃ TÂN NINH\n"
    "Thực hiện Kế hoạch số 512/KH-UBND ngày 3 tháng 5 năm 2024 của Ủy ban nhân dân tỉnh Quảng "
    "Trị về phòng, chống đuối nước trẻ em; Ủy ban nhân dân xã Tân Ninh ban hành Kế hoạch như sau:\n"
    """I. MỤC ĐÍCH, YÊU CẦU
1. Mục đích
- Giảm số trẻ em bị đuối nước trên địa bàn xã.
II. NHIỆM VỤ
1. Tổ chức lớp dạy bơi cho học sinh trong dịp hè.
III. TỔ CHỨC THỰC HIỆN
1. Trạm Y tế xã Tân Ninh:
- Chủ trì hướng dẫn sơ cứu đuối nước cho phụ huynh.
2. Công chức Văn hóa - Xã hội xã Tân Ninh:
- Tuyên truyền trên hệ thống loa của xã; báo cáo kết quả trước ngày 15 tháng 12 năm 2025.
Nơi nhận:
- UBND tỉnh Quảng Trị (b/c);
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Lê Văn Bình
""")

PROVINCIAL_PLAN = """ỦY BAN NHÂN DÂN
TỈNH QUẢNG TRỊ
Số: 512/KH-UBND
Quảng Trị, ngày 03 tháng 5 năm 2024
KẾ HOẠCH
Phòng, chống đuối nước trẻ em năm 2024
Căn cứ Luật Trẻ em ngày 05 tháng 4 năm 2016; Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:
I. MỤC ĐÍCH, YÊU CẦU
1. Mục đích
- Giảm số trẻ em bị đuối nước.
II. NHIỆM VỤ
1. Dạy bơi an toàn cho trẻ em.
III. TỔ CHỨC THỰC HIỆN
1. Sở Giáo dục và Đào tạo:
- Chủ trì tổ chức dạy bơi trong trường học; báo cáo kết quả trước ngày 15 tháng 12 năm 2024.
Nơi nhận:
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Trần Văn An
"""


def _meta(text: str):
    meta = extract_metadata(parse(text), default_matcher())
    assert meta is not None
    return meta


# --- the plan's own province ------------------------------------------------------------------


def test_a_commune_dated_at_a_name_spelled_like_a_province_is_not_of_that_province():
    assert default_matcher().province_fuzzy("Tân Ninh") == "Tây Ninh"  # what it used to be read as
    meta = _meta(COMMUNE_PLAN)
    assert meta.ident.province == "Quảng Trị"  # the header's "Ủy ban nhân dân tỉnh Quảng Trị"
    assert meta.place is None  # the commune's name is no province's place


def test_a_ward_named_as_a_former_province_is_not_that_province():
    text = (
        "ỦY BAN NHÂN DÂN PHƯỜNG BẮC GIANG\nSố: 7/KH-UBND\nBắc Giang, ngày 2 tháng 10 năm 2025\n"
        "KẾ HOẠCH\nThực hiện Kế hoạch số 90/KH-UBND của Ủy ban nhân dân tỉnh Bắc Ninh\n\n"
        "I. MỤC ĐÍCH\n- Bảo đảm an toàn.\n"
    )
    assert _meta(text).ident.province == "Bắc Ninh"


def test_a_province_dated_at_its_own_name_keeps_it():
    meta = _meta(PROVINCIAL_PLAN)
    assert (meta.place, meta.ident.province) == ("Quảng Trị", "Quảng Trị")


def test_the_name_after_a_commune_or_district_word_names_that_unit():
    matcher = default_matcher()
    assert matcher.province("UBND PHƯỜNG BẮC GIANG") is None
    assert matcher.province("UBND tỉnh Bắc Giang") == "Bắc Giang"
    assert matcher.province("trên địa bàn Bắc Giang") == "Bắc Giang"  # "địa bàn" names no unit
    assert matcher.named_province("Ủy ban nhân dân phường Bắc Giang") is None
    assert matcher.named_province("Sở Y tế tỉnh Bắc Giang") == "Bắc Giang"
    assert matcher.names_unit("ỦY BAN NHÂN DÂN XÃ TÂN NINH", "Tân Ninh")
    assert not matcher.names_unit("các cơ quan Tân Ninh và trên địa bàn Tân Ninh", "Tân Ninh")


# --- the cited plan's province ----------------------------------------------------------------


QUANG_TRI = ("Quảng Trị", "Ủy ban nhân dân tỉnh Quảng Trị")  # (province, issuer) of 512/KH-UBND


def _cited(text: str, citing_province: str) -> dict[str, tuple[str | None, str | None]]:
    start = text.index("\nI. ") + 1
    refs, _ = find_references(text, start, default_matcher(), citing_province, "41/KH-UBND")
    return {
        r.target.number: (r.target.province, r.target.issuer and r.target.issuer.canonical)
        for r in refs
    }


def test_a_cited_plan_is_of_the_province_its_issuer_names_not_the_citing_plans():
    # read as if the citing plan's province were wrong: the issuer named after "của" decides
    assert _cited(COMMUNE_PLAN, "Tây Ninh")["512/KH-UBND"] == QUANG_TRI


_COMMUNE_HEAD = "ỦY BAN NHÂN DÂN XÃ TÂN NINH\nSố: 41/KH-UBND\nTân Ninh, ngày 12 tháng 9 năm 2025\n"
_PROVINCE_HEAD = (
    "ỦY BAN NHÂN DÂN\nTỈNH HÀ TĨNH\nSố: 41/KH-UBND\nHà Tĩnh, ngày 12 tháng 9 năm 2025\n")


@pytest.mark.parametrize(("head", "preamble", "citing", "number", "expected"), [
    # the issuer phrase ends where the area the plan is carried out in starts
    (_COMMUNE_HEAD, "Thực hiện Kế hoạch số 512/KH-UBND ngày 3 tháng 5 năm 2024 của Ủy ban nhân "
     "dân tỉnh Quảng Trị trên địa bàn xã Tân Ninh trong năm 2025 và những năm tiếp theo",
     "Tây Ninh", "512/KH-UBND", QUANG_TRI),
    # a mention without its issuer takes the province of the mention naming it
    (_COMMUNE_HEAD, "Triển khai Kế hoạch số 512/KH-UBND năm 2024 trên địa bàn xã\nThực hiện Kế "
     "hoạch số 512/KH-UBND ngày 3/5/2024 của UBND tỉnh Quảng Trị, Ủy ban nhân dân xã ban hành "
     "Kế hoạch:", "Tây Ninh", "512/KH-UBND", QUANG_TRI),
    # a phrase running on matches no body exactly: its closest body is of the province it names
    (_PROVINCE_HEAD, "Thực hiện Kế hoạch số 88/KH-UBND ngày 2/3/2024 của Ủy ban nhân dân tỉnh Hà "
     "Nam tại Hội nghị triển khai, Ủy ban nhân dân tỉnh ban hành Kế hoạch:",
     "Hà Tĩnh", "88/KH-UBND", ("Hà Nam", "Ủy ban nhân dân tỉnh Hà Nam")),
])
def test_the_issuer_phrase_decides_the_cited_plans_province(
        head: str, preamble: str, citing: str, number: str,
        expected: tuple[str, str]) -> None:
    text = head + "KẾ HOẠCH\n" + preamble + "\n\nI. MỤC ĐÍCH\n- Bảo đảm an toàn.\n"
    assert _cited(text, citing)[number] == expected


# --- the merged newspaper and broadcaster -----------------------------------------------------


@pytest.mark.parametrize(("raw", "plan_province", "canonical"), [
    ("Báo và Phát thanh, Truyền hình Quảng Ninh", "Quảng Ninh",
     "Báo và Phát thanh, Truyền hình Quảng Ninh"),
    ("Báo và Phát thanh - Truyền hình Tuyên Quang", "Tuyên Quang",
     "Báo và Phát thanh, Truyền hình Tuyên Quang"),
    ("Báo và PT-TH Thái Nguyên", "Thái Nguyên", "Báo và Phát thanh, Truyền hình Thái Nguyên"),
    ("Báo và Phát thanh, Truyền hình tỉnh Quảng Ngãi", "Quảng Ngãi",
     "Báo và Phát thanh, Truyền hình Quảng Ngãi"),
    ("Báo và Phát thanh, Truyền hình tỉnh", "Quảng Ngãi",
     "Báo và Phát thanh, Truyền hình Quảng Ngãi"),
    ("Báo và Phát thanh, Truyền hình Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh",
     "Báo và Phát thanh, Truyền hình Thành phố Hồ Chí Minh"),
])
def test_the_merged_newspaper_and_broadcaster_resolves_to_its_own_name(
        raw: str, plan_province: str, canonical: str) -> None:
    mention = default_matcher().agency(raw, plan_province)
    assert (mention.reference_id, mention.canonical, mention.province) == (
        "bao-va-phat-thanh-truyen-hinh-tinh", canonical, plan_province)


# --- through the command line -----------------------------------------------------------------


def test_build_and_query_place_the_cited_plan_in_its_issuers_province(tmp_path: Path) -> None:
    for plan in (COMMUNE_PLAN, PROVINCIAL_PLAN):
        assert extract_document(plan, "x.txt").ident.province == "Quảng Trị"
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "xa-tan-ninh_41.txt").write_text(COMMUNE_PLAN, encoding="utf-8")
    (sources / "quang-tri_512.txt").write_text(PROVINCIAL_PLAN, encoding="utf-8")
    store = str(tmp_path / "store")
    runner = CliRunner()
    built = runner.invoke(app, ["build", str(sources), "--store", store])
    assert built.exit_code == 0, built.stderr
    assert "doc/quang-tri/41-kh-ubnd/2025" in built.stdout
    assert "tay-ninh" not in built.stdout
    lineage = runner.invoke(app, ["query", "lineage", "-p", "doc=41/KH-UBND", "-f", "json",
                                  "--store", store])
    assert lineage.exit_code == 0, lineage.stderr
    rows = json.loads(lineage.stdout)
    assert [(r["number"], r["province"], r["ancestor"]) for r in rows] == [
        ("512/KH-UBND", "Quảng Trị",
         "https://w3id.org/kgraph/id/doc/quang-tri/512-kh-ubnd/2024")]
    conflicts = runner.invoke(app, ["query", "conflicts", "-f", "json", "--store", store])
    assert conflicts.exit_code == 0, conflicts.stderr
    assert json.loads(conflicts.stdout) == []
