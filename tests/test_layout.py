"""Layout: Roman sections, numbered headings and items, OCR-tolerant and Markdown-tolerant."""

from kgraph.ingest.outline import item_count, parse, roman_value, split_lines, strip_markup

PLAN = """Số: 12/KH-UBND
KẾ HOẠCH
Thực hiện việc A

Thực hiện Chỉ thị số 1-CT/TW, Ủy ban nhân dân tỉnh ban hành kế hoạch như sau:
I. MUC DICH
1. Muc dich
- Mot.
I1. NHIEM VU
1. Nhiem vu mot va
phan tiep cua tieu de

- Gach dau dong thu nhat keo dai
sang dong sau.
- Gach thu hai, Lao dong
- Thuong binh va Xa hoi.

12

2025, dinh huong den nam 2030.
2, Nhiem vu hai
a) Chu cai a.
- long trong a.
b) Chu cai b.
111. TO CHUC THUC HIEN
1. So Y te
Chu tri thuc hien.
Nơi nhận:
- Như trên;
"""


def test_roman_numerals_tolerate_ocr_digits():
    assert roman_value("I1") == 2
    assert roman_value("111") == 3
    assert roman_value("1V") == 4
    assert roman_value("IX") == 9


def test_page_numbers_and_rules_are_dropped():
    lines = split_lines("a\n\n4\n\n-----\nb\n")
    assert [line.text for line in lines] == ["a", "b"]
    assert lines[1].blank_before


def test_markdown_markup_is_stripped():
    assert strip_markup("**1**. **Mục đích**") == "1. Mục đích"
    assert strip_markup("| Số: 141/KH-UBND |") == "Số: 141/KH-UBND"


def test_sections_headings_and_items():
    layout = parse(PLAN)
    assert [s.no for s in layout.sections] == ["I", "II", "III"]
    assert layout.ended
    tasks = layout.sections[1].headings
    assert [h.no for h in tasks] == ["1", "2"]  # "2025," is not heading 2, "2," is
    assert tasks[0].title == "1. Nhiem vu mot va phan tiep cua tieu de"
    assert item_count(tasks[0]) == 2  # "- Thuong binh" continues a wrapped name
    assert item_count(tasks[1]) == 2  # lettered items; the nested bullet does not count
    assert item_count(layout.sections[2].headings[0]) == 1  # running text counts 1


def test_offsets_point_into_the_raw_text():
    layout = parse(PLAN)
    heading = layout.sections[2].headings[0]
    span = heading.span(PLAN)
    assert PLAN[span.start : span.end] == span.text
    assert span.text.startswith("1. So Y te")


def test_markdown_heading_split_over_two_bold_blocks_is_one_title():
    # regression: "**3. Đề nghị Ủy ban ..., Hội Liên hiệp**" + blank + "**Phụ nữ Thành phố**"
    text = (
        "Số: 1/KH-UBND\n**I. TỔ CHỨC THỰC HIỆN**\n\n**1. Đề nghị Ủy ban Mặt trận, Hội Liên hiệp**\n"
        "\n**Phụ nữ Thành phố**\n\n- Một việc.\n\n**Nơi nhận:**\n"
    )
    heading = parse(text).sections[0].headings[0]
    assert heading.title == "1. Đề nghị Ủy ban Mặt trận, Hội Liên hiệp Phụ nữ Thành phố"
    assert item_count(heading) == 1
