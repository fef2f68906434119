"""Agency and province matching against data/reference/*.ttl."""

import pytest

from kgraph.ingest.model import AddresseeKind
from kgraph.reference.matching import default_matcher


@pytest.fixture(scope="module")
def matcher():
    return default_matcher()


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("S& Gido duc va Pao tao", "Sở Giáo dục và Đào tạo"),
        ("Sé Lao dong - Thwong binh va Xa hgi", "Sở Lao động - Thương binh và Xã hội"),
        ("Sở LĐTBXH", "Sở Lao động - Thương binh và Xã hội"),
        ("S¢Y té", "Sở Y tế"),
        ("86 Y té", "Sở Y tế"),
        ("Sở Văn hóa, Thể thao và Du lịch", "Sở Văn hóa, Thể thao và Du lịch"),
        ("Sở Văn hóa và Thể thao", "Sở Văn hóa và Thể thao"),
        ("Uy ban Mt tran Té quéc Viét Nam tinh", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh"),
        ("Bao Kién Giang", "Báo Kiên Giang"),
        ("Ban Dân tộc", "Ban Dân tộc tỉnh"),
    ],
)
def test_known_agencies_resolve(matcher, raw, canonical):
    mention = matcher.agency(raw, "Kiên Giang")
    assert mention.canonical == canonical
    assert mention.reference_id


def test_collectives_are_collective(matcher):
    mention = matcher.agency("UBND céc huyén, thanh phé", "Kiên Giang")
    assert mention.canonical == "Ủy ban nhân dân các huyện, thành phố"
    assert mention.kind is AddresseeKind.COLLECTIVE


@pytest.mark.parametrize("raw", ["Sở Hàng không Vũ trụ", "Sở Giao thông", "Ban Quản lý Mặt Trăng"])
def test_unknown_agencies_stay_unresolved(matcher, raw):
    mention = matcher.agency(raw, "Gia Lai")
    assert mention.canonical is None
    assert mention.reference_id is None
    assert mention.raw == raw


def test_provinces(matcher):
    assert matcher.province("Kiên Giang, ngày 23") == "Kiên Giang"
    assert matcher.province_fuzzy("Kién Gang") == "Kiên Giang"
    assert matcher.province("TP. Hồ Chí Minh") == "Thành phố Hồ Chí Minh"
    assert len(set(matcher.provinces.values())) == 64  # 63 before 2025, plus Huế


def test_heading_names_stop_at_the_first_role_word(matcher):
    # regression: "xây dựng" is a verb in a running heading but part of the name "Sở Xây dựng"
    from kgraph.ingest.assignments import _names_part, split_agencies

    names = _names_part("6. Sở Xây dựng chủ trì, phối hợp với các sở")
    assert [m.canonical for m in split_agencies(names, matcher, "Hà Tĩnh")] == ["Sở Xây dựng"]
    names = _names_part("1. Các cơ quan, đơn vị, địa phương xây dựng Kế hoạch triển khai")
    assert names == "Các cơ quan, đơn vị, địa phương"
    names = _names_part("9. S¢ Tai chinh\nPhéi hop véi cac co quan")
    assert [m.canonical for m in split_agencies(names, matcher, None)] == ["Sở Tài chính"]


@pytest.mark.parametrize(
    ("ocr", "canonical"),
    [
        ("Thi tudng Chinh phii", "Thủ tướng Chính phủ"),  # ư->u, ơ->d, ủ->ii
        ("Qudc hdi", "Quốc hội"),
        ("Ban Chap hanh Trung wong Dang", "Ban Chấp hành Trung ương Đảng"),  # ư->w
    ],
)
def test_vietnamese_spelling_repairs_resolve_ocr_issuers(ocr: str, canonical: str) -> None:
    """Regression: issuers of cited documents in OCR text stayed unresolved."""
    assert default_matcher().agency(ocr, None).canonical == canonical


def test_a_municipality_party_committee_is_its_thanh_uy() -> None:
    """Regression: 'Thành ủy' of Cần Thơ was read as 'Tỉnh ủy Cần Thơ' (or not at all)."""
    matcher = default_matcher()
    assert matcher.agency("Thành ủy", "Cần Thơ").canonical == "Thành ủy Cần Thơ"
    assert matcher.agency("Tỉnh ủy", "Gia Lai").canonical == "Tỉnh ủy Gia Lai"
