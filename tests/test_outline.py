"""The outline parser: a tree from whatever numbering a document uses, any genre, any depth."""

from __future__ import annotations

from kgraph.ingest.extract import extract_document
from kgraph.ingest.numbering import GRAMMAR, KINDS
from kgraph.ingest.outline import parse


def _tree(text: str) -> list[tuple[str, str, str]]:
    """(key, numbering kind, title) of every node, in reading order."""
    layout = parse(text)
    nodes = list(layout.outline.walk()) + [n for a in layout.appendices for n in [a, *a.walk()]]
    return [(n.key, n.marker, n.name) for n in nodes if n.kind != "para"]


def test_grammar_is_data_with_every_kind_of_numbering() -> None:
    names = {kind.name for kind in GRAMMAR}
    assert {"part", "article", "roman", "arabic", "decimal2", "decimal3", "letter", "dash"} <= names
    assert KINDS["roman"].rank < KINDS["arabic"].rank < KINDS["decimal2"].rank
    assert KINDS["decimal2"].rank < KINDS["letter"].rank < KINDS["dash"].rank


QUYET_DINH = """ỦY BAN NHÂN DÂN TỈNH X
Số: 12/QĐ-UBND
QUYẾT ĐỊNH
Điều 1. Phê duyệt Kế hoạch với những nội dung sau:
II. MỤC TIÊU
1.
Mục tiêu chung
1.1. Hoàn thành việc A.
1.2. Hoàn thành việc B.
2. Nhiệm vụ
a) Việc một;
b) Việc hai;
c) Việc ba;
d) Việc bốn;
đ) Việc năm.
II. TỔ CHỨC THỰC HIỆN Các cơ quan thực hiện như sau.
1. Sở Y tế chủ trì.
Điều 2. Quyết định này có hiệu lực kể từ ngày ký.
Nơi nhận:
- Như Điều 2;
PHỤ LỤC I
DANH MỤC NHIỆM VỤ
1. Nhiệm vụ một.
"""


def test_any_numbering_nests_by_what_is_there() -> None:
    tree = _tree(QUYET_DINH)
    keys = [key for key, _, _ in tree]
    # Roman numbering starting at II, and printed twice: the second II is section III.
    assert ("II", "roman", "MỤC TIÊU") in tree
    assert ("III", "roman", "TỔ CHỨC THỰC HIỆN") in tree  # a heading run on into its text
    assert [s.no for s in parse(QUYET_DINH).sections] == ["II", "III"]
    # a number alone on its line takes its title from the next line
    assert ("II.1", "arabic", "Mục tiêu chung") in tree
    assert [k for k in keys if k.startswith("II.1.")] == ["II.1.1.1", "II.1.1.2"]
    points = [k for k in keys if k.startswith("II.2.")]
    assert points == ["II.2.a", "II.2.b", "II.2.c", "II.2.d", "II.2.đ"]
    # Điều 2 closes the plan embedded in Điều 1: it is not part of section III
    article = ("2", "article", "Quyết định này có hiệu lực kể từ ngày ký.")
    assert article in tree
    assert "III.1" in keys and "III.2" not in keys
    # the appendix after the signature is parsed too
    assert any(k == "PLI" and kind == "appendix" for k, kind, _ in tree)
    assert "PLI.1" in keys


def test_ocr_damaged_numerals_and_wrapped_numbers() -> None:
    text = (
        "Số: 3/KH-UBND\nI. MỤC ĐÍCH\n1. Mục đích\n- Một.\nI1. NHIỆM VỤ\n1. Nhiệm vụ một\n"
        "Thực hiện trong năm\n2045. Xây dựng kế hoạch.\n9, Nhiệm vụ hai\n111. KINH PHÍ\n"
        "- Ngân sách.\nlV. GIÁM SÁT\n- Định kỳ.\nVv. TỔ CHỨC THỰC HIỆN\n1. Sở Y tế chủ trì.\n"
    )
    layout = parse(text)
    # "I1." is II, "111." III, "lV." IV, "Vv." the V that follows IV
    assert [s.no for s in layout.sections] == ["I", "II", "III", "IV", "V"]
    assert [h.no for h in layout.sections[1].headings] == ["1"]  # "2045." and "9," do not follow 1


def test_spans_point_into_the_raw_text() -> None:
    layout = parse(QUYET_DINH)
    for node in layout.outline.walk():
        span = node.span(QUYET_DINH)
        assert QUYET_DINH[span.start : span.end] == span.text


CONG_VAN = """ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH
Số: 41/UBND-ĐT
Thành phố Hồ Chí Minh, ngày 25 tháng 11 năm 2025
Kính gửi:
- Công an Thành phố;
- Sở Xây dựng.
Chủ tịch Ủy ban nhân dân Thành phố có ý kiến chỉ đạo như sau:
**1. Về việc rà soát dữ liệu số nhà**
1.1. Giao Sở Xây dựng
Khẩn trương chia sẻ dữ liệu. Thời gian hoàn thành trước ngày 05 tháng 12 năm 2025.
1.2. Giao Công an Thành phố
Chỉ đạo Công an các phường phối hợp.
**2. Về phần mềm dùng chung**
- Giao Sở Xây dựng chủ trì, phối hợp với Công an Thành phố khảo sát.
Nơi nhận:
- Như trên;
KT. CHỦ TỊCH
"""


def test_a_cong_van_without_roman_sections_is_read_by_content() -> None:
    doc = extract_document(CONG_VAN, "cv.txt")
    assert doc.ident.number == "41/UBND-ĐT"
    got = {(a.section, a.no): [m.raw for m in a.addressees] for a in doc.assignments}
    assert got[("1", "1.1")] == ["Sở Xây dựng"]
    assert got[("1", "1.2")] == ["Công an Thành phố"]
    assert got[("body", "2")] == []  # a topic that names no body: a general entry
    assert not doc.partial
    assert {d.key for d in doc.outline} == {"1", "2"}


def test_chi_thi_numbered_paragraphs_are_assignments_by_content() -> None:
    text = (
        "Số: 5/CT-UBND\nCHỈ THỊ\nVề việc tăng cường công tác A\n"
        "Để thực hiện tốt công tác A, Chủ tịch Ủy ban nhân dân tỉnh yêu cầu:\n"
        "1. Sở Y tế chủ trì, phối hợp với các cơ quan liên quan triển khai.\n"
        "2. Giám đốc Sở Tài chính bố trí kinh phí.\n"
        "3. Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh tuyên truyền.\n"
        "Nơi nhận:\n- Như trên;\n"
    )
    doc = extract_document(text, "ct.txt")
    names = [[m.canonical for m in a.addressees] for a in doc.assignments]
    assert names == [["Sở Y tế"], ["Sở Tài chính"], ["Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh"]]
    assert [a.requested for a in doc.assignments] == [False, False, True]


def test_unnumbered_bold_headings_are_divisions_too() -> None:
    text = (
        "Số: 7/KH-UBND\nI. TỔ CHỨC THỰC HIỆN\n**Sở Y tế:**\n- Chủ trì tổ chức tiêm chủng.\n"
        "- Báo cáo kết quả.\n**Sở Tài chính:**\n- Bố trí kinh phí.\nNơi nhận:\n- Như trên;\n"
    )
    doc = extract_document(text, "bold.txt")
    got = [([m.canonical for m in a.addressees], len(a.duties)) for a in doc.assignments]
    assert got == [(["Sở Y tế"], 2), (["Sở Tài chính"], 1)]
    assert [a.division for a in doc.assignments] == ["I.h1", "I.h2"]


def test_an_unnumbered_letter_is_complete_and_read_for_its_requests() -> None:
    text = (
        "ỦY BAN NHÂN DÂN TỈNH GIA LAI\nSố: 88/UBND-KGVX\nGia Lai, ngày 02 tháng 3 năm 2025\n"
        "Kính gửi:\n- Sở Y tế;\n- Sở Tài chính.\n"
        "Thực hiện chỉ đạo của Thủ tướng Chính phủ, Ủy ban nhân dân tỉnh giao Sở Y tế chủ trì "
        "triển khai các nội dung trên.\n"
        "Đề nghị các cơ quan khẩn trương thực hiện./.\nNơi nhận:\n- Như trên;\n"
    )
    doc = extract_document(text, "cv.txt")
    assert not doc.partial
    assert doc.outline and {d.kind for d in doc.outline} == {"para"}
    assert doc.outline[0].text.startswith("Thực hiện chỉ đạo")


def test_entries_under_a_numbered_sub_heading_are_keyed_by_it() -> None:
    text = (
        "Số: 4/KH-UBND\nI. MỤC ĐÍCH\nBảo đảm hiệu quả.\nII. TỔ CHỨC THỰC HIỆN\n"
        "1. Các sở, ban, ngành tỉnh\n"
        "1.1. Sở Tài chính: bố trí kinh phí.\n1.2. Sở Y tế: chủ trì tiêm chủng.\n"
        "2. Ủy ban nhân dân các huyện, thị xã, thành phố: triển khai.\nNơi nhận:\n"
    )
    doc = extract_document(text, "k.txt")
    got = {(a.section, a.no): [m.canonical for m in a.addressees] for a in doc.assignments}
    assert got == {
        ("II.1", "1.1"): ["Sở Tài chính"],
        ("II.1", "1.2"): ["Sở Y tế"],
        ("II", "2"): ["Ủy ban nhân dân các huyện, thị xã, thành phố"],
    }


def test_a_plan_issued_with_a_quyet_dinh_and_printed_after_it_is_read() -> None:
    text = (
        "ỦY BAN NHÂN DÂN TỈNH QUẢNG TRỊ\nSố: 15/QĐ-UBND\nQuảng Trị, ngày 3 tháng 3 năm 2025\n"
        "QUYẾT ĐỊNH\nVề việc ban hành Kế hoạch kiểm kê tài sản công\n"
        "Điều 1. Ban hành kèm theo Quyết định này Kế hoạch kiểm kê tài sản công.\n"
        "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.\nNơi nhận:\n- Như Điều 2;\n"
        "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nNguyễn Văn A\n"
        "KẾ HOẠCH\nKiểm kê tài sản công\n(Ban hành kèm theo Quyết định số 15/QĐ-UBND)\n"
        "1. Sở Tài chính chủ trì, hướng dẫn kiểm kê.\n2. Sở Y tế phối hợp kiểm kê.\n"
        "3. Ủy ban nhân dân các huyện, thị xã, thành phố tổ chức kiểm kê.\n"
    )
    doc = extract_document(text, "qd.txt")
    assert [d.key for d in doc.outline] == ["1", "2", "KT1"]
    plan = doc.outline[-1]
    assert plan.title == "KẾ HOẠCH"
    assert [c.key for c in plan.children] == ["KT1.1", "KT1.2", "KT1.3"]
    names = [[m.canonical for m in a.addressees] for a in doc.assignments]
    assert names == [
        ["Sở Tài chính"], ["Sở Y tế"], ["Ủy ban nhân dân các huyện, thị xã, thành phố"]
    ]


def test_parts_chapters_and_sections_nest() -> None:
    text = (
        "Số: 1/NQ-HĐND\nPhần thứ nhất\nTÌNH HÌNH CHUNG\nI. KẾT QUẢ\n1. Một\nPhần thứ hai\n"
        "NHIỆM VỤ\nMục 1. QUY ĐỊNH CHUNG\nI. NHIỆM VỤ\n1. Hai\n"
    )
    layout = parse(text)
    assert [(n.key, n.marker) for n in layout.outline.walk()] == [
        ("thu nhat", "part"), ("thu nhat.I", "roman"), ("thu nhat.I.1", "arabic"),
        ("thu hai", "part"), ("thu hai.1", "subchapter"), ("thu hai.1.I", "roman"),
        ("thu hai.1.I.1", "arabic"),
    ]
    assert [s.no for s in layout.sections] == ["thu nhat.I", "thu hai.1.I"]


def test_a_nghi_quyet_assigns_in_its_article_on_implementation() -> None:
    text = (
        "HỘI ĐỒNG NHÂN DÂN TỈNH NINH BÌNH\nSố: 20/NQ-HĐND\nNinh Bình, ngày 9 tháng 7 năm 2025\n"
        "NGHỊ QUYẾT\nVề chính sách hỗ trợ\n"
        "Điều 1. Thông qua chính sách hỗ trợ học sinh.\n"
        "Điều 2. Tổ chức thực hiện\n1. Giao Ủy ban nhân dân tỉnh tổ chức thực hiện Nghị quyết.\n"
        "2. Thường trực Hội đồng nhân dân tỉnh giám sát việc thực hiện.\n"
        "Điều 3. Nghị quyết có hiệu lực từ ngày 01 tháng 8 năm 2025.\nNơi nhận:\n- Như Điều 3;\n"
    )
    doc = extract_document(text, "nq.txt")
    got = [(a.section, a.no, [m.raw for m in a.addressees]) for a in doc.assignments]
    assert got[0] == ("2", "1", ["Ủy ban nhân dân tỉnh"])
    assert [(s, n) for s, n, _ in got] == [("2", "1"), ("2", "2")]


def test_a_short_title_running_on_into_its_first_decimal_item_is_cut() -> None:
    text = (
        "Số: 59/QĐ-BTNMT\nI. MỤC TIÊU\n1.\nMục tiêu chung 1.1. Trình Quốc hội thông qua Luật.\n"
        "1.2. Ban hành văn bản hướng dẫn.\n"
    )
    layout = parse(text)
    [heading] = layout.sections[0].headings
    assert heading.name == "Mục tiêu chung"
    assert [c.no for c in heading.children] == ["1.1", "1.2"]
    first = heading.children[0].span(text)
    assert text[first.start : first.end] == "1.1. Trình Quốc hội thông qua Luật."


def test_a_title_goes_on_over_a_page_break_inside_a_name() -> None:
    text = (
        "Số: 3/KH-UBND\nI. TỔ CHỨC THỰC HIỆN\n1. Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh, "
        "Hội Liên hiệp\n\nPhụ nữ tỉnh\n- Phối hợp tuyên truyền.\n"
        "2. Sở Y tế\n\nChủ trì tiêm chủng.\n"
    )
    first, second = parse(text).sections[0].headings
    assert first.name.endswith("Hội Liên hiệp Phụ nữ tỉnh")
    assert second.name == "Sở Y tế"  # a finished name: the paragraph after the break is text


_DAMAGED_HEAD = "Số: 3/KH-UBND\nI. MỤC ĐÍCH\n1. Bảo đảm an toàn.\n"


def test_a_section_whose_numeral_the_ocr_lost_is_the_one_its_siblings_skip() -> None:
    text = _DAMAGED_HEAD + (
        "II. NHIỆM VỤ\n1. Rà soát hồ sơ.\nNỘI DUNG THI ĐUA VÀ CÁCH THỨC XẾP HẠNG\n1. Nội dung.\n"
        "IV. TỔ CHỨC THỰC HIỆN\n1. Sở Y tế chủ trì.\n"
    )
    assert [(s.no, s.title.split()[0]) for s in parse(text).sections] == [
        ("I", "MỤC"), ("II", "NHIỆM"), ("III", "NỘI"), ("IV", "TỔ")]
    # a line in capitals where no section is missing stays text
    text = _DAMAGED_HEAD + "II. NHIỆM VỤ\nNỘI DUNG THI ĐUA VÀ CÁCH THỨC XẾP HẠNG\nIII. KINH PHÍ\n"
    assert [s.no for s in parse(text).sections] == ["I", "II", "III"]


def test_a_numeral_without_its_dot_opens_a_section_before_capitals() -> None:
    text = _DAMAGED_HEAD + "II NHIỆM VỤ TRỌNG TÂM\n1. Rà soát.\nIII TỔ CHỨC THỰC HIỆN\n1. Sở.\n"
    assert [s.no for s in parse(text).sections] == ["I", "II", "III"]
    text = _DAMAGED_HEAD + "Vi phạm được xử lý.\nII Nhiệm vụ trọng tâm\n"  # not capitals
    assert [s.no for s in parse(text).sections] == ["I"]


def test_a_heading_number_read_as_a_letter_or_without_its_dot_follows_its_siblings() -> None:
    text = _DAMAGED_HEAD + (
        "II. TỔ CHỨC THỰC HIỆN\n1. Sở Y tế chủ trì.\n2. Sở Nội vụ phối hợp.\n"
        "3 Sở Tài chính bố trí kinh phí.\nA. Sở Tư pháp thẩm định.\nS. Công an tỉnh bảo đảm.\n"
        "Thời hạn là\n7 Ngày làm việc.\n"
    )
    heads = parse(text).sections[1].headings
    assert [h.no for h in heads] == ["1", "2", "3", "4", "5"]
    assert heads[3].name == "Sở Tư pháp thẩm định."


def test_a_section_heading_run_on_after_a_sentence_is_cut_before_it() -> None:
    text = _DAMAGED_HEAD + (
        "Năm qua đạt nhiều kết quả cho doanh nghiệp. II. MỤC TIÊU, NHIỆM VỤ NĂM 2024 Bộ yêu cầu\n"
        "các đơn vị thực hiện.\nIII. TỔ CHỨC THỰC HIỆN\n1. Sở Y tế chủ trì.\n"
    )
    layout = parse(text)
    assert [s.no for s in layout.sections] == ["I", "II", "III"]
    assert layout.sections[1].title.startswith("MỤC TIÊU")
    # a numeral inside a sentence, before words not in capitals, stays in it
    text = _DAMAGED_HEAD + "Giai đoạn hai. II. Nhiệm vụ năm nay gồm.\n"
    assert [s.no for s in parse(text).sections] == ["I"]
