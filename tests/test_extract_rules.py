"""General extraction rules on small inline texts (reporting duties, assignment headings)."""

from datetime import date

from kgraph.ingest.assignments import extract_assignments
from kgraph.ingest.model import AddresseeKind
from kgraph.ingest.outline import parse
from kgraph.ingest.reporting import extract_reporting
from kgraph.reference.matching import default_matcher


def _reporting(body: str, province: str = "Nghệ An"):
    text = f"I. MỤC ĐÍCH\n1. Mục đích\n- Một.\nII. TỔ CHỨC THỰC HIỆN\n{body}\n"
    return extract_reporting(parse(text), default_matcher(), province)


def _names(mentions) -> list[str]:
    return [m.canonical or m.raw for m in mentions]


def test_deadline_written_with_month_word():
    duties = _reporting(
        "1. Các sở gửi báo cáo về Sở Nội vụ trước ngày 16 tháng 12 năm 2025 để tổng hợp.\n"
        "2. Định kỳ báo cáo UBND tỉnh (qua Sở Tư pháp) kết quả hằng năm\n"
        "(trước ngày 15 tháng 11) hoặc theo đề nghị."
    )
    once = next(d for d in duties if d.due_date)
    assert once.due_date == date(2025, 12, 16) and once.frequency == "once"
    assert _names(once.recipients) == ["Sở Nội vụ"]
    yearly = next(d for d in duties if d.due_day_month)
    assert yearly.due_day_month == (15, 11) and yearly.frequency == "annual"
    assert yearly.via is not None and yearly.via.canonical == "Sở Tư pháp"


def test_report_with_recipient_but_no_schedule_is_a_duty():
    duties = _reporting(
        "1. Các sở xây dựng kế hoạch; kết quả thực hiện\nbáo cáo về Công an tỉnh.\n"
        "2. Công an tỉnh định kỳ báo cáo kết quả thực hiện về Bộ Công an, UBND tỉnh theo quy định."
    )
    unspecified = next(d for d in duties if d.frequency == "unspecified")
    assert _names(unspecified.recipients) == ["Công an tỉnh"]
    periodic = next(d for d in duties if d.frequency == "periodic")
    assert _names(periodic.recipients) == ["Bộ Công an", "Ủy ban nhân dân tỉnh Nghệ An"]


def test_submission_of_results_and_ad_hoc_reports():
    duties = _reporting(
        "1. Các bộ gửi kết quả rà soát về Bộ\nCông an trước ngày 15 tháng 12 năm 2025.\n"
        "2. Hằng năm hoặc đột xuất báo cáo kết quả thực hiện về Bộ Công an.",
        province=None,
    )
    assert [(d.frequency, d.due_date) for d in duties] == [
        ("once", date(2025, 12, 15)),
        ("annual or ad hoc", None),
    ]
    assert all(_names(d.recipients) == ["Bộ Công an"] for d in duties)


def test_paragraphs_are_separate_clauses_and_receiving_reports_is_no_duty():
    duties = _reporting(
        "1. Sở Giáo dục và Đào tạo\n"
        "a) Định kỳ tổng hợp báo cáo Ủy ban nhân dân tỉnh.\n"
        "b) Hướng dẫn thực hiện hằng tháng.\n"
        "2. Sở Nội vụ\n- Theo dõi, tổng hợp báo cáo từ các sở và Ủy ban nhân dân các xã."
    )
    assert [d.frequency for d in duties] == ["periodic"]


def _addressees(heading: str, item: str = "- Việc một.", province: str = "Nghệ An"):
    text = f"I. MỤC ĐÍCH\n1. Mục đích\n- Một.\nII. TỔ CHỨC THỰC HIỆN\n{heading}\n{item}\n"
    [assignment] = extract_assignments(parse(text), default_matcher(), province)[1]
    return assignment


def test_basis_clause_and_heads_of_several_kinds_of_bodies():
    assignment = _addressees(
        "1. Căn cứ kế hoạch này, Giám đốc các Sở, Thủ trưởng các ngành, cơ quan cấp tỉnh, UBND"
        " các xã, phường, các cơ quan, đơn vị có liên quan xây dựng kế hoạch cụ thể."
    )
    assert [m.canonical or m.raw for m in assignment.addressees] == [
        "Các sở, ngành, cơ quan cấp tỉnh",  # a collective of the reference list
        "Ủy ban nhân dân các xã, phường",
        "Các cơ quan, đơn vị có liên quan",
    ]
    assert assignment.kind is AddresseeKind.COLLECTIVE


def test_a_group_name_going_on_after_a_comma_or_va_is_one_addressee():
    generic = _addressees("1. Thủ trưởng các sở, ban, ngành, đoàn thể Thành phố")
    assert [m.raw for m in generic.addressees] == ["các sở, ban, ngành, đoàn thể Thành phố"]
    joined = _addressees(
        "1. Các sở, cơ quan trực thuộc Sở và các cơ quan liên quan tổ chức thực hiện Kế hoạch."
    )
    assert [m.raw for m in joined.addressees] == [
        "Các sở, cơ quan trực thuộc Sở và các cơ quan liên quan"
    ]
    assert joined.kind is AddresseeKind.COLLECTIVE


def test_a_known_group_is_not_swallowed_by_an_unknown_continuation():
    assignment = _addressees(
        "1. Sở Y tế:", "- Chủ trì, phối hợp với các sở, ban, ngành, hội, đoàn thể có liên quan."
    )
    [duty] = assignment.duties
    assert "Các sở, ban, ngành tỉnh" in [m.canonical for m in duty.coordinators]


def test_a_report_owed_when_problems_arise_is_ad_hoc():
    """Regression: 'kịp thời báo cáo ... khi có vướng mắc' had no schedule at all."""
    duties = _reporting(
        "1. Trong quá trình thực hiện, nếu có vấn đề phát sinh hoặc vướng mắc, kịp thời báo cáo\n"
        "UBND tỉnh (thông qua Sở Tư pháp) để xem xét, giải quyết."
    )
    assert [d.frequency for d in duties] == ["ad hoc"]
