"""Reading through an English-only OCR's damage to vowels: a syllable keeps its consonants
("Sở" read "Sé", "Sd"; "trưởng" read "triéng", "trwdng"), so names, titles and document types
are still recognised by them, and only where nothing closer matched."""

from __future__ import annotations

import pytest

from kgraph.ingest.bodies import looks_named, names_part, split_agencies
from kgraph.ingest.extract import extract_document
from kgraph.ingest.model import Relation
from kgraph.ingest.references import find_references
from kgraph.ingest.text import aligned_fold, match_key, syllable_parts, syllable_skeleton
from kgraph.reference.matching import default_matcher


@pytest.mark.parametrize(
    ("word", "parts"),
    [("thuong", ("th", "uo", "ng")), ("nghe", ("ngh", "e", "")), ("cng", ("c", "", "ng")),
     ("y", ("", "y", "")), ("sd", ("s", "d", ""))],
)
def test_a_syllable_is_onset_nucleus_final(word: str, parts: tuple[str, str, str]) -> None:
    assert syllable_parts(word) == parts


def test_damaged_vowels_keep_the_skeleton() -> None:
    clean = syllable_skeleton(match_key("Sở Công Thương"))
    for read in ("Sé Công Thuong", "Sd Cng Thuong", "SO Cong Thwong"):
        assert syllable_skeleton(match_key(read)) == clean
    assert syllable_skeleton(match_key("Sở Y tế")) != syllable_skeleton(match_key("Sở Tư pháp"))


@pytest.mark.parametrize(
    ("read", "body"),
    [("Sé Y té", "Sở Y tế"), ("Sd Noi vu", "Sở Nội vụ"), ("Sé Tw phap", "Sở Tư pháp"),
     ("Sd Cng Thuong", "Sở Công Thương")],
)
def test_a_body_whose_vowels_the_ocr_lost_is_resolved(read: str, body: str) -> None:
    mention = default_matcher().agency(read, "Gia Lai")
    assert mention.canonical == body and mention.province == "Gia Lai"


def test_no_body_is_made_of_a_skeleton_alone() -> None:
    matcher = default_matcher()
    assert matcher.agency("Sân vận động tỉnh", "Gia Lai").canonical is None
    assert matcher.agency("Sé Ytr", "Gia Lai").canonical is None  # two syllables: too few


def test_an_office_holder_read_through_ocr_damage_leaves_the_body() -> None:
    assert names_part("1. B6 triéng BO Cong an c6 trach nhiém giúp") == "BO Cong an"
    assert names_part("2. Bo trwdng Bo Tai chinh:") == "Bo Tai chinh"
    assert looks_named(names_part("1. Bo trudng Bd Céng an có trách nhiệm"))  # "Bd" is "Bộ"
    # "các trường" has the consonants of "cục trưởng": a group of schools is no office holder
    assert names_part("3. Các trường đại học, cao đẳng:") == "Các trường đại học, cao đẳng"


def test_a_damaged_type_keeps_the_verb_of_the_preamble_list() -> None:
    text = (
        "UY BAN NHAN DAN TINH GIA LAI\nSố: 12/KH-UBND\nGia Lai, ngày 5 tháng 3 năm 2025\n"
        "KẾ HOẠCH\nVề công tác phòng chống thiên tai\n"
        "Căn cứ Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị; Thong bdo so "
        "30-TB/VPCP ngày 13/6/2025 của Văn phòng Chính phủ;\n"
        "I. MỤC ĐÍCH\n1. Sở Y tế chủ trì.\n"
    )
    refs, _ = find_references(
        text, text.index("\nI. ") + 1, default_matcher(), "Gia Lai", "12/KH-UBND"
    )
    relations = {r.target.number: r.relation for r in refs}
    assert relations["30-TB/VPCP"] is Relation.BASED_ON


def test_a_w_or_v_after_a_letter_is_a_vowel_in_the_matching_key() -> None:
    assert match_key("Sở Tw pháp") == match_key("Sở Tư pháp")
    assert match_key("Công ty Điện lvc") == match_key("Công ty Điện lực")
    assert match_key("Vĩnh Long") == "vinh long"  # an onset "v" stays


@pytest.mark.parametrize("title", ["TỔ CHỨC THỰC HIỆN", "TO CHUC THUYC HIEN", "TO CHUC HIEN"])
def test_the_implementation_section_is_found_when_the_ocr_lost_a_word(title: str) -> None:
    text = (
        "ỦY BAN NHÂN DÂN TỈNH GIA LAI\nSố: 12/KH-UBND\nGia Lai, ngày 5 tháng 3 năm 2025\n"
        "KẾ HOẠCH\nVề công tác phòng chống thiên tai\n"
        "I. MỤC ĐÍCH, YÊU CẦU\n1. Bảo đảm an toàn cho người dân.\n"
        f"II. {title}\n1. Trên cơ sở Kế hoạch, các đơn vị khẩn trương triển khai.\n"
        "2. Chế độ báo cáo được thực hiện hằng quý.\n"
    )
    doc = extract_document(text, "plan.txt")
    assert [a.section for a in doc.assignments] == ["II", "II"]


@pytest.mark.parametrize("title", ["TỔ CHỨC THỰC HlỆN", "TO CHUC THUC HlEN"])
def test_an_l_among_capitals_is_a_capital_i(title: str) -> None:
    assert aligned_fold(title).endswith("thuc hien")
    assert aligned_fold("Hôm nay lúc Hl") == "hom nay luc hl"  # no word of capitals
    test_the_implementation_section_is_found_when_the_ocr_lost_a_word(title)


@pytest.mark.parametrize(
    ("read", "body"),
    [("Sé Khoa va Céng nghé", "Sở Khoa học và Công nghệ"),
     ("Sở Tài nguyên Môi trường", "Sở Tài nguyên và Môi trường")],
)
def test_a_name_missing_one_word_is_the_one_body_it_fits(read: str, body: str) -> None:
    assert default_matcher().agency(read, "Cần Thơ").canonical == body


def test_no_plural_or_unit_word_is_taken_as_dropped() -> None:
    matcher = default_matcher()
    # "Ủy ban nhân dân xã, phường" less "xã", or "các": a ward's committee, not the group
    assert matcher.agency("UBND phwéng", "Hà Nội").canonical is None
    assert matcher.agency("Sở Khoa học", "Cần Thơ").canonical is None  # two words short
    # a group is a list of generic words: "các sở, ngành, cơ quan" is no "... có liên quan"
    assert matcher.agency("cac sé, nganh, co quan", "Kiên Giang").canonical is None


def test_a_name_less_its_last_word_stays_a_prefix_not_a_body() -> None:
    # "Báo ..." whose prefix "Bao Tài nguyên và Môi" is "Bộ Tài nguyên và Môi trường" less a word
    found = split_agencies("Bao TN&MT va cac don vi lién quan", default_matcher(), None)
    assert [m.canonical for m in found] == [None, None]


def test_a_w_inside_a_word_is_read_as_u_where_the_extractor_folds() -> None:
    assert aligned_fold("xay dwng, Twong") == "xay dung, tuong"
    assert aligned_fold("28-CT/Tw web www.gov.vn TW") == "28-ct/tw web www.gov.vn tw"
    # the duty verb ends the group's name
    assert names_part("1. Cac co quan, don vi, dia phuong xay dwng Ké hoach") == (
        "Cac co quan, don vi, dia phuong")


@pytest.mark.parametrize("read", ["Các đồng chí", "Cac déng chi", "Cdc dong chi"])
def test_damaged_honorifics_before_a_body_are_left_out(read: str) -> None:
    assert names_part(f"1. {read} Lãnh đạo Bộ theo lĩnh vực công tác được phân công") == (
        "Lãnh đạo Bộ")


def test_a_damaged_body_across_local_units_is_spelled_with_its_known_name() -> None:
    found = split_agencies(
        "Sé TN&MT cac tinh, thanh ph6 truc thu6c Trung uong", default_matcher(), None)
    assert len(found) == 1 and found[0].canonical is None
    assert match_key(found[0].spelled or "") == match_key(
        "Sở Tài nguyên và Môi trường các tỉnh, thành phố trực thuộc Trung ương")
    # units that are not plain generic words leave the name as written
    found = split_agencies("Sé TN&MT cac tinh Ha Giang", default_matcher(), None)
    assert found[0].spelled is None
