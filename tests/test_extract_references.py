"""General rules for metadata, references and reporting, each on a small sentence of its kind."""

from datetime import date

import pytest

from kgraph.ingest.metadata import extract_metadata
from kgraph.ingest.model import Relation
from kgraph.ingest.outline import parse
from kgraph.ingest.references import canonical_number, doc_types, find_references
from kgraph.ingest.reporting import extract_reporting
from kgraph.reference.matching import default_matcher

HEADER = (
    "ỦY BAN NHÂN DÂN\nTỈNH NGHỆ AN\n-------\nSố: 77/KH-UBND\n"
    "Nghệ An, ngày 5 tháng 3 năm 2025\nKẾ HOẠCH\nVề công tác phòng chống thiên tai\n\n"
)
BODY = (
    "\nI. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n- Bảo đảm an toàn.\nII. NHIỆM VỤ\n1. Sở Y tế chủ trì.\n"
)


def _refs(preamble: str, body: str = BODY, tail: str = "") -> dict[str, Relation]:
    text = HEADER + preamble + body + tail
    start = text.index("\nI. ") + 1
    refs, _ = find_references(text, start, default_matcher(), "Nghệ An", "77/KH-UBND")
    return {r.target.number: r.relation for r in refs}


def _types(preamble: str) -> dict[str, str | None]:
    text = HEADER + preamble + BODY
    refs, _ = find_references(
        text, text.index("\nI. ") + 1, default_matcher(), "Nghệ An", "77/KH-UBND"
    )
    return {r.target.number: r.target.type for r in refs}


# --- references -------------------------------------------------------------------------------


def test_every_document_after_one_verb_gets_its_relation():
    refs = _refs(
        "Thực hiện Chỉ thị số 12-CT/TU ngày 2/1/2025 của Tỉnh ủy; Kế hoạch số 45/KH-UBND ngày "
        "3/1/2025 của UBND tỉnh và Quyết định số 78/QĐ-UBND ngày 4/1/2025 của UBND tỉnh, "
        "Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:\n"
    )
    assert refs == {
        "12-CT/TU": Relation.IMPLEMENTS,
        "45/KH-UBND": Relation.IMPLEMENTS,
        "78/QĐ-UBND": Relation.IMPLEMENTS,
    }


def test_a_plural_type_then_its_numbers():
    refs = _refs(
        "Thực hiện các Nghị quyết của Chính phủ: số 11/NQ-CP ngày 2/1/2025 về phát triển "
        "kinh tế và số 12/NQ-CP ngày 2/1/2025 về môi trường kinh doanh;\n"
        "Căn cứ các Nghị định của Chính phủ (số 10/2020/NĐ-CP, số 20/2021/NĐ-CP) về thiên tai;\n"
        "Căn cứ Nghị định số 30/2022/NĐ-CP của Chính phủ; Các Công điện: số 5/CĐ-UBND ngày "
        "1/2/2025, số 6/CĐ-UBND và số 7/CĐ-UBND ngày 2/2/2025 của UBND tỉnh;\n"
    )
    assert refs["11/NQ-CP"] == refs["12/NQ-CP"] == Relation.IMPLEMENTS
    assert refs["10/2020/NĐ-CP"] == refs["20/2021/NĐ-CP"] == Relation.BASED_ON
    for number in ("30/2022/NĐ-CP", "5/CĐ-UBND", "6/CĐ-UBND", "7/CĐ-UBND"):
        assert refs[number] == Relation.BASED_ON, number


def test_can_cu_split_by_a_line_break_inside_italics_and_other_lead_ins():
    refs = _refs(
        "*Căn\ncứ Nghị định số 15/2021/NĐ-CP ngày 3/3/2021 của Chính phủ;*\n"
        "Trên cơ sở Kế hoạch số 30/KH-SYT ngày 2/2/2025 của Sở Y tế, Ủy ban nhân dân tỉnh ban "
        "hành Kế hoạch như sau:\n"
    )
    assert refs == {"15/2021/NĐ-CP": Relation.BASED_ON, "30/KH-SYT": Relation.BASED_ON}


def test_carry_out_stated_in_the_purpose_part():
    refs = _refs(
        "Căn cứ Luật Phòng, chống thiên tai;\n",
        body=(
            "\nI. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n- Cụ thể hóa các nhiệm vụ tại Nghị quyết số "
            "09-NQ/TU ngày 2/2/2024 của Tỉnh ủy và Kế hoạch số 15/KH-UBND của UBND tỉnh.\n"
            "- Triển khai các giải pháp bảo vệ dữ liệu theo quy định tại Nghị định số "
            "13/2023/NĐ-CP.\n"
            "2. Yêu cầu\n- Bám sát Quyết định số 5/QĐ-UBND của UBND tỉnh.\n"
            "II. NHIỆM VỤ\n1. Thực hiện Chỉ thị số 8/CT-UBND về phòng chống lụt bão.\n"
        ),
    )
    assert refs == {
        "09-NQ/TU": Relation.IMPLEMENTS,
        "15/KH-UBND": Relation.IMPLEMENTS,
        "13/2023/NĐ-CP": Relation.CITES,
        "5/QĐ-UBND": Relation.CITES,
        "8/CT-UBND": Relation.CITES,
    }


def test_narrative_mentions_stay_citations():
    refs = _refs(
        "Sau 10 năm thực hiện Chỉ thị số 03-CT/TU ngày 1/1/2015 của Tỉnh ủy, công tác phòng "
        "chống thiên tai có nhiều chuyển biến; Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:\n"
    )
    assert refs == {"03-CT/TU": Relation.CITES}


def test_variants_of_one_number_are_one_document():
    assert canonical_number("27/CTTg")[0] == canonical_number("27/CT-TTg")[0] == "27/CT-TTg"
    assert canonical_number("65/2010/NĐCP")[0] == "65/2010/NĐ-CP"
    assert canonical_number("12/NQ -CP")[0] == "12/NQ-CP"
    refs = _refs(
        "Thực hiện Chỉ thị số 27/CTTg ngày 2/2/2024 của Thủ tướng Chính phủ;\n",
        body=BODY + "2. Tiếp tục thực hiện Chỉ thị số 27/CT-TTg.\n",
    )
    assert refs == {"27/CT-TTg": Relation.IMPLEMENTS}


def test_letter_suffixes_long_codes_and_ampersands_parse():
    refs = _refs(
        "Căn cứ Chương trình số 305a/CTPH-BYT-BGDĐT ngày 1/2/2024 của Bộ Y tế và Bộ Giáo dục "
        "và Đào tạo; Quy chế phối hợp số 17/QCPH-UBND-UBMT-LĐLĐ ngày 3/3/2024;\n"
        "Xét đề nghị của Sở Xây dựng tại Công văn số 901/SXD-QLN& PTĐT ngày 4/4/2025;\n"
    )
    assert refs == {
        "305a/CTPH-BYT-BGDĐT": Relation.BASED_ON,
        "17/QCPH-UBND-UBMT-LĐLĐ": Relation.BASED_ON,
        "901/SXD-QLN&PTĐT": Relation.CITES,
    }


def test_document_types_come_from_the_vocabulary():
    types = _types(
        "Căn cứ Phương án số 12/PA-UBND ngày 1/6/2025 của UBND tỉnh; Công điện số 5/CĐ-TTg "
        "ngày 2/6/2025 của Thủ tướng Chính phủ; Quy chế số 3/QC-UBND ngày 3/6/2025;\n"
    )
    assert types == {
        "12/PA-UBND": "Phương án",
        "5/CĐ-TTg": "Công điện",
        "3/QC-UBND": "Quy chế",
    }
    vocabulary = doc_types()
    for name in ("Phương án", "Công điện", "Quy chế", "Hướng dẫn", "Đề án", "Luật", "Công văn"):
        assert name in vocabulary.by_label.values(), name
    assert vocabulary.by_code["CĐ"] == "Công điện" and vocabulary.by_code["CTr"] == "Chương trình"


def test_site_chrome_and_short_names_are_not_references():
    filler = "".join(f"{n}. Sở Y tế thực hiện nhiệm vụ số {n}.\n" for n in range(2, 30))
    refs = _refs(
        "Thực hiện Quyết định số 06/QĐ-TTg ngày 6/1/2022 của Thủ tướng Chính phủ phê duyệt "
        "Đề án phát triển dữ liệu dân cư (Đề án 06/CP), Ủy ban nhân dân tỉnh ban hành:\n",
        body=BODY + filler + "3. Triển khai Đề án 06/CP trên địa bàn.\n",
        tail=(
            "Kế hoạch 77/KH-UBND năm 2025 về công tác phòng chống thiên tai\n"
            "## Văn bản liên quan\nNghị định 13/2023/NĐ-CP về Bảo vệ dữ liệu cá nhân\n"
        ),
    )
    assert refs == {"06/QĐ-TTg": Relation.IMPLEMENTS}


# --- metadata ---------------------------------------------------------------------------------


def _meta(text: str):
    meta = extract_metadata(parse(text), default_matcher())
    assert meta is not None
    return meta.ident


@pytest.mark.parametrize(
    ("header", "code", "issuer"),
    [
        ("BỘ KHOA HỌC\nVÀ CÔNG NGHỆ\n-------", "QĐ-BKHCN", "Bộ Khoa học và Công nghệ"),
        ("BỘ GIÁO DỤC\nVÀ ĐÀO\nTẠO\n-------", "QĐ-BGDĐT", "Bộ Giáo dục và Đào tạo"),
        ("BỘ NÔNG NGHIỆP VÀ\nMÔI TRƯỜNG\n-------", "KH-BNNMT", "Bộ Nông nghiệp và Môi trường"),
        # the header lost (crawler text): the code alone names the ministry
        ("-------", "QĐ-BCA", "Bộ Công an"),
        # a code two central bodies share (Bộ Công Thương, Bộ Chính trị): the header decides
        ("BỘ CÔNG THƯƠNG\n-------", "QĐ-BCT", "Bộ Công Thương"),
        ("-------", "CTr-BLĐTBXH", "Bộ Lao động - Thương binh và Xã hội"),
    ],
)
def test_ministry_issuers_and_codes(header, code, issuer):
    ident = _meta(
        f"{header}\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nSố: 41/{code}\n"
        "Hà Nội, ngày 9 tháng 10 năm 2025\nQUYẾT ĐỊNH\nVề việc ban hành Kế hoạch\n\n"
        "Căn cứ Nghị định số 1/2025/NĐ-CP;\n\nQUYẾT ĐỊNH:\nĐiều 1. Ban hành Kế hoạch.\n"
    )
    assert ident.number == f"41/{code}"
    assert ident.issuer is not None and ident.issuer.canonical == issuer
    assert ident.province is None  # a central body: Hà Nội is where it sits, not its scope
    assert ident.date == date(2025, 10, 9)


def test_cong_van_between_a_site_banner_and_site_notices():
    ident = _meta(
        "Bản dịch này thuộc quyền sở hữu của trang.\n**Số hiệu:** | 512/UBND-VX |\n"
        "**Loại văn bản:** | Chỉ thị |\nNgày ban hành: 1/12/2025\n"
        "ỦY BAN NHÂN DÂN\nTỈNH NGHỆ AN\n-------\nSố: 512/UBND-VX\n"
        "*V/v triển khai công tác phòng chống dịch*\n*Nghệ An, ngày 2 tháng 12 năm 2025*\n"
        "**Kính gửi:**\n- Sở Y tế;\n- Sở Giáo dục và Đào tạo.\n"
        "Ủy ban nhân dân tỉnh có ý kiến như sau:\n1. Giao Sở Y tế chủ trì.\n"
        + "".join(f"{n}. Giao Sở Y tế thực hiện việc {n}.\n" for n in range(2, 20))
        + "Công văn 512/UBND-VX năm 2025 triển khai công tác phòng chống dịch\n"
        "## Văn bản liên quan\n**THÔNG BÁO**\nTrang cập nhật điều khoản sử dụng.\n"
    )
    assert ident.number == "512/UBND-VX"
    assert ident.type == "Công văn"
    assert ident.issuer is not None and ident.issuer.canonical == "Ủy ban nhân dân tỉnh Nghệ An"
    assert ident.province == "Nghệ An"
    assert ident.date == date(2025, 12, 2)


def test_own_number_with_a_letter_suffix():
    ident = _meta(HEADER.replace("77/KH-UBND", "88a/KH-UBND") + "Căn cứ Luật;\n" + BODY)
    assert ident.number == "88a/KH-UBND" and ident.type == "Kế hoạch"


# --- reporting --------------------------------------------------------------------------------


def _reporting(body: str, province: str = "Nghệ An"):
    text = f"I. MỤC ĐÍCH\n1. Mục đích\n- Một.\nII. TỔ CHỨC THỰC HIỆN\n{body}\n"
    return extract_reporting(parse(text), default_matcher(), province)


def test_cham_nhat_and_a_month_as_deadline():
    duties = _reporting(
        "1. Sở Tài chính báo cáo UBND tỉnh kết quả rà soát chậm nhất ngày 15/12/2025.\n"
        "2. Các sở gửi báo cáo tổng kết về Sở Nội vụ trong tháng 6/2026.\n"
    )
    due = sorted(d.due_date for d in duties if d.due_date)
    assert due == [date(2025, 12, 15), date(2026, 6, 30)]
    assert all(d.frequency == "once" for d in duties if d.due_date)


def test_deadline_on_its_own_line_and_markup_inside_dates():
    duties = _reporting(
        "1. Sở Y tế tổng hợp, báo cáo kết quả về UBND tỉnh.\nThời hạn: trước ngày 20/11/2025.\n"
        "2. Các sở định kỳ trước **ngày 10 tháng 12 hằng năm** báo cáo UBND tỉnh.\n"
    )
    assert any(d.due_date == date(2025, 11, 20) for d in duties)
    yearly = next(d for d in duties if d.due_day_month)
    assert yearly.due_day_month == (10, 12) and yearly.frequency == "annual"


def test_daily_twice_daily_and_quarterly_reports():
    duties = _reporting(
        "1. Sở Công Thương tổng hợp nhu cầu, báo cáo UBND tỉnh trước 17h00 hằng ngày.\n"
        "2. UBND các xã báo cáo 02 lần/ngày (trước 8h00 và 15h00) về Sở Công Thương.\n"
        "3. Các sở báo cáo tình hình thực hiện trước ngày 20 của tháng cuối quý gửi Sở Nội vụ.\n"
        "4. Tổ công tác báo cáo tiến độ hằng tuần về Sở Xây dựng.\n"
    )
    assert [d.frequency for d in duties] == ["daily", "twice daily", "quarterly", "weekly"]


def test_one_off_mid_term_and_final_reviews():
    duties = _reporting(
        "1. Sở Tư pháp chủ trì tổ chức sơ kết (năm 2027) và tổng kết (năm 2030), báo cáo "
        "UBND tỉnh.\n"
    )
    assert [d.frequency for d in duties] == ["once"]


def test_a_report_on_results_is_owed_without_a_named_recipient_but_copies_are_not():
    text = (
        "I. MỤC ĐÍCH\n1. Mục đích\n- Một.\nII. TỔ CHỨC THỰC HIỆN\n"
        "1. Ủy ban Mặt trận Tổ quốc tỉnh tổng hợp, báo cáo kết quả vận động theo quy định.\n"
        "2. Sở Y tế thực hiện việc đánh giá chất lượng năm 2025.\n"
        "Nơi nhận:\n- Bộ Y tế (để báo cáo);\n- Lưu: VT.\n"
    )
    duties = extract_reporting(parse(text), default_matcher(), "Nghệ An")
    assert [d.frequency for d in duties] == ["unspecified"]
    assert "Mặt trận" in duties[0].span.text


def test_laws_cited_by_name_and_standards_are_references():
    text = (
        HEADER + "Căn cứ Luật Phòng, chống thiên tai ngày 19 tháng 6 năm 2013; Luật Thủy lợi "
        "năm 2017;\n" + BODY + "2. Các công trình bảo đảm tiêu chuẩn TCVN 9902:2016 về đê.\n"
    )
    refs, _ = find_references(
        text, text.index("\nI. ") + 1, default_matcher(), "Nghệ An", "77/KH-UBND"
    )
    by_name = {r.target.title or r.target.number: r for r in refs}
    law = by_name["Luật Phòng, chống thiên tai"]
    assert law.relation is Relation.BASED_ON and law.target.type == "Luật"
    assert law.target.number is None and law.target.date == date(2013, 6, 19)
    assert by_name["Luật Thủy lợi"].relation is Relation.BASED_ON
    standard = by_name["TCVN 9902:2016"]
    assert standard.relation is Relation.CITES and standard.target.type == "Tiêu chuẩn"


def test_titles_of_a_decision_a_cong_van_and_crawler_text():
    decision = _meta(
        "THỦ TƯỚNG CHÍNH PHỦ\n-------\nSố: 15/QĐ-TTg\nHà Nội, ngày 2 tháng 1 năm 2025\n"
        "QUYẾT ĐỊNH\nPHÊ DUYỆT ĐỀ ÁN PHÁT TRIỂN\nNGUỒN NHÂN LỰC\nTHỦ TƯỚNG CHÍNH PHỦ\n"
        "Căn cứ Luật Tổ chức Chính phủ ngày 18 tháng 02 năm 2025;\n"
        "QUYẾT ĐỊNH:\nĐiều 1. Phê duyệt.\n"
    )
    assert decision.title == "PHÊ DUYỆT ĐỀ ÁN PHÁT TRIỂN NGUỒN NHÂN LỰC"
    letter = _meta(
        "ỦY BAN NHÂN DÂN\nTỈNH NGHỆ AN\nSố: 512/UBND-VX\n*V/v triển khai công tác\nphòng "
        "chống dịch*\n\n*Nghệ An, ngày 2 tháng 12 năm 2025*\nKính gửi: Sở Y tế.\n1. Giao Sở Y tế.\n"
    )
    assert letter.title == "V/v triển khai công tác phòng chống dịch"
    crawled = _meta(
        "Quyết định 9/QĐ-BKHCN\nBỘ KHOA HỌC VÀ CÔNG NGHỆ -------\nSố: 9/QĐ-BKHCN\n"
        "Hà Nội, ngày 3 tháng 3 năm 2025 QUYẾT ĐỊNH BAN HÀNH KẾ HOẠCH CHUYỂN ĐỔI SỐ NĂM 2025 "
        "BỘ TRƯỞNG BỘ KHOA HỌC VÀ CÔNG NGHỆ\nCăn cứ Nghị định số 55/2025/NĐ-CP;\n"
        "QUYẾT ĐỊNH:\nĐiều 1.\nBan hành Kế hoạch.\n"
    )
    assert crawled.title == "BAN HÀNH KẾ HOẠCH CHUYỂN ĐỔI SỐ NĂM 2025"
    assert crawled.type == "Quyết định"
    assert crawled.issuer is not None and crawled.issuer.canonical == "Bộ Khoa học và Công nghệ"


def test_a_cong_van_opening_after_its_addressees_is_a_preamble():
    text = (
        "ỦY BAN NHÂN DÂN\nTỈNH NGHỆ AN\nSố: 512/UBND-VX\n*V/v phòng chống dịch*\n\n"
        "*Nghệ An, ngày 2 tháng 12 năm 2025*\n**Kính gửi:**\n- Sở Y tế;\n- Công an tỉnh.\n"
        "Thực hiện Công văn số 1234/BYT-DP ngày 20/11/2025 của Bộ Y tế; xét đề nghị của Sở Y tế "
        "tại Tờ trình số 88/TTr-SYT, Chủ tịch UBND tỉnh có ý kiến như sau:\n"
        "1. Giao Sở Y tế chủ trì, thực hiện Kế hoạch số 9/KH-SYT.\n2. Giao Công an tỉnh phối hợp.\n"
    )
    refs, _ = find_references(text, len(text), default_matcher(), "Nghệ An", "512/UBND-VX")
    got = {r.target.number: r.relation for r in refs}
    assert got == {
        "1234/BYT-DP": Relation.IMPLEMENTS,
        "88/TTr-SYT": Relation.CITES,
        "9/KH-SYT": Relation.CITES,
    }


def test_english_ocr_readings_of_lead_ins_types_and_codes():
    header = (
        "UY BAN NHAN DAN TINH NGHE AN\nS6: 77/KH-UBND\nNghe An, ngay 5 thang 3 nam 2025\n"
        "KE HOACH\nVE CONG TAC PHONG CHONG THIEN TAI\n\n"
    )
    body = (
        "\nI. MUC DICH, YEU CAU\n1. Muc dich\n- Cu thé héa Nghi quyét s6 09-NQ/TU cua Tinh iy.\n"
        "2. Yéu cau\n- Bam sat.\nII. NHIEM VU\n1. Thoi gian: 2026-Hoan thanh.\n"
    )
    filler = "".join(f"{n}. So Y té thuc hién nhiém vu {n}.\n" for n in range(2, 30))
    text = (
        header
        + "Cn ci? Nghi dinh s6 15/2021/ND-CP cua Chinh phu; Ké hoach sé\n45/KH-UBND cua UBND "
        "tinh;\nCan ctf Phuong dn 12/PA-UBND cua UBND tinh;\n"
        "Trién khai Quyét dinh s6 1569/QDB-TTg cua Thu tuéng Chinh phu.\n"
        + body
        + filler
        + "Ké hoach 77/KH-UBND nam 2025 vé cong tac phong chong thién tai\n"
        "Nghi dinh 13/2023/ND-CP vé bao vé dir liéu ca nhan\n"
    )
    refs, _ = find_references(text, len(text), default_matcher(), "Nghệ An", "77/KH-UBND")
    assert {r.target.number: r.relation for r in refs} == {
        "15/2021/NĐ-CP": Relation.BASED_ON,
        "45/KH-UBND": Relation.BASED_ON,
        "12/PA-UBND": Relation.BASED_ON,
        "1569/QĐ-TTg": Relation.IMPLEMENTS,
        "09-NQ/TU": Relation.IMPLEMENTS,
    }


def test_daily_reports_reach_the_graph_as_labelled_frequencies():
    from rdflib import Graph
    from rdflib.namespace import SKOS

    from kgraph.graph.mapping import document_graph
    from kgraph.graph.vocab import KG
    from kgraph.ingest.extract import extract_document
    from kgraph.paths import resource_dir

    text = (
        HEADER
        + "Thực hiện Chỉ thị số 12-CT/TU ngày 2/1/2025 của Tỉnh ủy, UBND tỉnh ban hành:\n"
        + "\nI. MỤC ĐÍCH\n1. Mục đích\n- Bảo đảm an toàn.\nII. TỔ CHỨC THỰC HIỆN\n"
        "1. Sở Công Thương tổng hợp, báo cáo UBND tỉnh trước 17h00 hằng ngày.\n"
        "2. UBND các xã báo cáo 02 lần/ngày về Sở Công Thương.\n"
        "Nơi nhận:\n- Như trên;\n- Lưu: VT.\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nNguyễn Văn An\n"
    )
    graph = document_graph(extract_document(text, "plan.txt")).graph
    used = set(graph.objects(None, KG.frequency))
    assert {KG.Daily, KG.TwiceDaily} <= used
    ontology = Graph().parse(resource_dir("ontology") / "kgraph.ttl", format="turtle")
    for concept in (KG.Daily, KG.TwiceDaily):
        langs = {label.language for label in ontology.objects(concept, SKOS.prefLabel)}
        assert langs == {"vi", "en"}


@pytest.mark.parametrize(
    ("closing", "name", "title"),
    [
        (
            "|\n**KT. CHỦ TỊCH**\nPHÓ CHỦ TỊCH\n**Lê\nVăn Hai**\n|\nKế hoạch 77/KH-UBND",
            "Lê Văn Hai",
            "Phó Chủ tịch",
        ),
        (
            "KT. BỘ TRƯỞNG THỨ TRƯỞNG Trần Thị Mai KẾ HOẠCH TRIỂN KHAI (Ban hành kèm theo ...)",
            "Trần Thị Mai",
            "Thứ trưởng",
        ),
        ("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\n\nNguyễn Văn Bình\n", "Nguyễn Văn Bình", "Chủ tịch"),
    ],
)
def test_signer_read_from_the_text_of_any_layout(closing, name, title):
    text = (
        HEADER
        + "Căn cứ Luật;\n"
        + BODY
        + "3. Chủ tịch UBND tỉnh chỉ đạo Sở Y tế thực hiện.\nNơi nhận:\n- Như trên;\n- Lưu: VT.\n"
        + closing
    )
    meta = extract_metadata(parse(text), default_matcher())
    assert meta is not None
    assert (meta.signature.name, meta.signature.title) == (name, title)


def test_report_systems_and_words_that_only_look_like_periods_are_no_duties():
    duties = _reporting(
        "1. 100% chế độ báo cáo được thực hiện trên Hệ thống thông tin báo cáo.\n"
        "2. Sở Tài chính quyết định kế hoạch vốn; báo cáo tiến độ hằng tháng về UBND tỉnh.\n"
    )
    assert [d.frequency for d in duties] == ["monthly"]
    assert "tiến độ" in duties[0].span.text


def test_purpose_clauses_opening_the_preamble():
    refs = _refs(
        "Nhằm cụ thể hóa Nghị quyết số 05-NQ/TU ngày 3/3/2025 của Tỉnh ủy; để triển khai thực "
        "hiện Quyết định số 100/QĐ-TTg ngày 4/4/2025 của Thủ tướng Chính phủ; Kế hoạch số "
        "20-KH/TU ngày 5/5/2025 của Tỉnh ủy, Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:\n"
    )
    assert refs == {
        "05-NQ/TU": Relation.IMPLEMENTS,
        "100/QĐ-TTg": Relation.IMPLEMENTS,
        "20-KH/TU": Relation.IMPLEMENTS,
    }


def test_issuer_of_a_cited_document_is_the_body_named_after_cua():
    text = (
        HEADER + "Căn cứ Nghị quyết số 71/NQ-CP ngày 01/4/2025 của Chính phủ sửa đổi, bổ sung "
        "Chương trình hành động;\n" + BODY
    )
    refs, _ = find_references(
        text, text.index("\nI. ") + 1, default_matcher(), "Nghệ An", "77/KH-UBND"
    )
    (ref,) = refs
    assert ref.target.issuer is not None and ref.target.issuer.canonical == "Chính phủ"
    assert ref.target.date == date(2025, 4, 1) and ref.target.type == "Nghị quyết"


def test_a_markdown_appendix_heading_is_not_site_chrome():
    filler = "".join(f"{n}. Sở Y tế thực hiện nhiệm vụ số {n}.\n" for n in range(2, 30))
    refs = _refs(
        "Thực hiện Chỉ thị số 12-CT/TU ngày 2/1/2025 của Tỉnh ủy, UBND tỉnh ban hành:\n",
        body=BODY + filler,
        tail="## PHỤ LỤC\n| 1 | Rà soát theo Thông tư số 08/2024/TT-BYT | Sở Y tế |\n",
    )
    assert refs == {"12-CT/TU": Relation.IMPLEMENTS, "08/2024/TT-BYT": Relation.CITES}


def test_a_wrapped_preamble_line_opening_with_dieu_is_no_article():
    refs = _refs(
        "Căn cứ khoản 2\nĐiều 5 của Luật Phòng, chống thiên tai; Thực hiện Kế hoạch số "
        "30-KH/TU ngày 2/2/2025 của Tỉnh ủy, UBND tỉnh ban hành Kế hoạch như sau:\n"
    )
    assert refs == {"30-KH/TU": Relation.IMPLEMENTS}


def test_a_document_carried_out_through_another_stays_so_in_the_purpose_part():
    text = (
        HEADER + "Thực hiện Kế hoạch số 40-KH/TU ngày 2/2/2024 của Tỉnh ủy về thực hiện Chỉ thị "
        "số 21-CT/TW ngày 1/1/2024 của Ban Bí thư, UBND tỉnh ban hành Kế hoạch:\n"
        "\nI. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\na) Triển khai kịp thời Chỉ thị số 21-CT/TW.\n"
        "2. Yêu cầu\n- Bám sát.\nII. NHIỆM VỤ\n1. Sở Y tế chủ trì.\n"
    )
    refs, lineage = find_references(
        text, text.index("\nI. ") + 1, default_matcher(), "Nghệ An", "77/KH-UBND"
    )
    assert {r.target.number: r.relation for r in refs} == {
        "40-KH/TU": Relation.IMPLEMENTS,
        "21-CT/TW": Relation.CITES,
    }
    assert [(item.subject, item.object) for item in lineage] == [("40-KH/TU", "21-CT/TW")]
