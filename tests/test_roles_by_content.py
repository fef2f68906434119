"""Roles found by content: body mentions, labelled task lines, task tables, the outline graph."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgraph.cli import app
from kgraph.ingest.bodies import expand_abbreviations, names_part, split_agencies
from kgraph.ingest.extract import extract_document
from kgraph.ingest.tasks import table_tasks
from kgraph.reference.matching import default_matcher

ROOT = Path(__file__).resolve().parents[1]
SEED_2509 = ROOT / "data" / "sources" / "004_d5d135182c80a159.txt"


def _bodies(heading: str, province: str | None = "Đắk Lắk", label: bool = False) -> list[str]:
    names = names_part(heading, label=label)
    return [m.canonical or m.raw for m in split_agencies(names, default_matcher(), province)]


@pytest.mark.parametrize(
    ("heading", "label", "want"),
    [
        # a role phrase ends the mention: "được phân công", "định kỳ"
        (
            "2. Căn cứ nội dung Kế hoạch, các sở, ngành và UBND các xã, phường được phân công "
            "chủ trì thực hiện nhiệm vụ có trách nhiệm:",
            False,
            ["các sở, ngành", "Ủy ban nhân dân các xã, phường"],
        ),
        ("5. Các bộ, ngành, địa phương định kỳ hằng năm gửi báo cáo.", False,
         ["Các bộ, ngành, địa phương"]),
        # a bare head noun shares the name after "và"; "hệ thống" starts a body in lower case
        (
            "9. Báo và Phát thanh - Truyền hình Đắk Lắk, Sở Văn hóa, Thể thao và Du lịch và hệ "
            "thống truyền thanh cơ sở:",
            True,
            ["Báo và Phát thanh, Truyền hình Đắk Lắk", "Sở Văn hóa, Thể thao và Du lịch",
             "hệ thống truyền thanh cơ sở"],
        ),
        # members in parentheses are cut off; Công ty and Vụ are heads of bodies
        ("13. Đề nghị các doanh nghiệp viễn thông (VNPT, Viettel):", True,
         ["các doanh nghiệp viễn thông"]),
        ("1. Vụ Các vấn đề chung về xây dựng pháp luật", True,
         ["Vụ Các vấn đề chung về xây dựng pháp luật"]),
        # an office holder names the body; "Sở ... các tỉnh, thành phố" is one group
        ("3. Giám đốc Sở TN&MT các tỉnh, thành phố trực thuộc Trung ương thực hiện:", True,
         ["Sở TN&MT các tỉnh, thành phố trực thuộc Trung ương"]),
        # a group named without "các"
        ("5. Cơ quan, đơn vị được giao quản lý tài sản công có trách nhiệm:", False,
         ["Cơ quan, đơn vị"]),
        # "Sở A/Sở B": alternatives are two bodies
        ("4. Sở Y tế/Sở Tài chính chủ trì.", False, ["Sở Y tế", "Sở Tài chính"]),
    ],
)
def test_body_mentions_start_and_end_where_the_language_says(heading, label, want) -> None:
    assert [n.lower() for n in _bodies(heading, label=label)] == [n.lower() for n in want]


def test_field_abbreviations_are_spelled_out_for_matching_only() -> None:
    assert expand_abbreviations("Báo TN&MT") == "Báo Tài nguyên và Môi trường"
    [mention] = split_agencies("Báo TN&MT", default_matcher(), None)
    assert mention.raw == "Báo TN&MT"  # the source is never silently fixed
    assert mention.canonical != "Bộ Tài nguyên và Môi trường"  # a Báo is no Bộ


LABELLED = """ỦY BAN NHÂN DÂN TỈNH LAI CHÂU
Số: 9/KH-UBND
Lai Châu, ngày 19 tháng 11 năm 2025
KẾ HOẠCH
I. MỤC ĐÍCH
1. Mục đích
Triển khai kịp thời.
II. NỘI DUNG KẾ HOẠCH
1. Rà soát văn bản quy phạm pháp luật
- Nội dung: Rà soát các văn bản do tỉnh ban hành
- Cơ quan chủ trì: Sở Khoa học và Công nghệ
- Cơ quan phối hợp: Sở Tư pháp; Ủy ban nhân dân các xã, phường
- Thời gian thực hiện: Quý IV năm 2025
2. Tuyên truyền
a) Tổ chức hội nghị phổ biến
- Cơ quan chủ trì: Sở Tư pháp
- Thời gian thực hiện: năm 2026
b) Đưa tin trên báo
III. TỔ CHỨC THỰC HIỆN
1. Sở Khoa học và Công nghệ theo dõi, đôn đốc.
Nơi nhận:
- Như trên;
"""


def test_labelled_lines_give_the_task_its_roles_and_are_not_items() -> None:
    doc = extract_document(LABELLED, "lc.txt")
    first, second = doc.tasks
    assert first.items == []  # the four labelled lines are metadata, not items
    assert [m.canonical for m in first.lead] == ["Sở Khoa học và Công nghệ"]
    assert [m.canonical for m in first.coordinators] == [
        "Sở Tư pháp", "Ủy ban nhân dân các xã, phường"
    ]
    assert first.deadline == "Quý IV năm 2025"
    assert [t.no for t in second.items] == ["a", "b"]
    assert [m.canonical for m in second.items[0].lead] == ["Sở Tư pháp"]
    assert second.items[0].deadline == "năm 2026" and second.items[1].lead == []
    assert first.division == "II.1" and second.items[0].division == "II.2.a"


TABLE = """PHỤ LỤC II
DANH MỤC NHIỆM VỤ
|
**TT**
|
**Nhiệm vụ, giải
pháp**
|
**Cơ quan chủ trì**
|
**Cơ quan phối hợp**
|
**Thời gian thực
hiện**
|
|
**I**
|
**Hoàn thiện thể chế**
|
|
1
|
Xây dựng Luật An ninh dữ liệu.
|
Bộ Công an
|
Bộ Khoa học và Công
nghệ, Bộ Tài chính
|
Tháng 12/2026
|
|
| 2 | Xây dựng Khung kiến trúc số. | Bộ Khoa học và Công nghệ | Bộ Công an | Năm 2026 |
"""


def test_task_tables_in_either_layout_give_one_task_per_row() -> None:
    tasks = table_tasks(TABLE, default_matcher(), None)
    assert [(t.no, t.text) for t in tasks] == [
        ("1", "Xây dựng Luật An ninh dữ liệu."), ("2", "Xây dựng Khung kiến trúc số.")
    ]
    assert [m.canonical for m in tasks[0].lead] == ["Bộ Công an"]
    partners = [m.canonical for m in tasks[0].coordinators]
    assert partners == ["Bộ Khoa học và Công nghệ", "Bộ Tài chính"]
    assert tasks[0].deadline == "Tháng 12/2026" and tasks[1].deadline == "Năm 2026"
    assert TABLE[tasks[0].span.start :].startswith("1\n")


def _kgraph(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def _readme_query(marker: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(rf"<!-- {marker} -->\s*```sparql\n(.*?)```", text, re.S).group(1)


def test_readme_lists_the_outline_with_assignments_on_their_nodes(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / SEED_2509.name).write_bytes(SEED_2509.read_bytes())
    store = str(tmp_path / "store")
    code, _ = _kgraph("build", str(folder), "--store", store)
    assert code == 0
    query = tmp_path / "outline.rq"
    query.write_text(_readme_query("outline-query"), encoding="utf-8")
    code, out = _kgraph("query", str(query), "--store", store, "--format", "csv")
    assert code == 0, out
    rows = list(csv.DictReader(io.StringIO(out)))
    sections = [r["number"] for r in rows if r["number"] == r["section"]]
    assert sections == ["I", "II", "III", "IV", "V"]
    assigned = {(r["section"], r["number"]): r["assigned"] for r in rows}
    assert assigned[("IV", "3")] == "Sở Y tế"
    assert assigned[("IV", "16")] == "Ủy ban nhân dân các huyện, thị xã, thành phố"
    assert assigned[("II", "1")] == ""  # a task heading assigns nobody


def test_a_cut_off_excerpt_is_marked_partial_in_the_graph(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    text = SEED_2509.read_text(encoding="utf-8")
    (folder / "excerpt.txt").write_text(text[: text.index("Nơi nhận") - 200], encoding="utf-8")
    store = str(tmp_path / "store")
    code, _ = _kgraph("build", str(folder), "--store", store)
    assert code == 0
    query = tmp_path / "partial.rq"
    query.write_text(
        "PREFIX kg: <https://w3id.org/kgraph/def#>\n"
        "SELECT ?doc ?partial WHERE { ?doc kg:sourceFile [] ; kg:isPartial ?partial }",
        encoding="utf-8",
    )
    code, out = _kgraph("query", str(query), "--store", store, "--format", "csv")
    assert code == 0 and out.strip().splitlines()[1].endswith(",true"), out
    code, out = _kgraph("audit", "--store", store)
    assert "PartialText" in out  # the audit reports it (a warning: nothing is wrong in it)


def test_a_table_row_hangs_off_the_appendix_it_stands_in() -> None:
    text = (
        "Số: 2/QĐ-TTg\nI. TỔ CHỨC THỰC HIỆN\n1. Bộ Công an chủ trì.\nNơi nhận:\n- Như trên;\n"
        + TABLE
    )
    doc = extract_document(text, "qd.txt")
    assert [t.division for t in doc.table_tasks] == ["PLII", "PLII"]
    assert [d.key for d in doc.outline] == ["I", "PLII"]


def test_readme_shows_a_task_with_its_own_lead_partners_and_deadline(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "lc.txt").write_text(LABELLED, encoding="utf-8")
    store = str(tmp_path / "store")
    code, _ = _kgraph("build", str(folder), "--store", store)
    assert code == 0
    query = tmp_path / "tasks.rq"
    query.write_text(_readme_query("task-roles-query"), encoding="utf-8")
    code, out = _kgraph("query", str(query), "--store", store, "--format", "csv")
    assert code == 0, out
    rows = list(csv.DictReader(io.StringIO(out)))
    first = [r for r in rows if r["text"].startswith("1. Rà soát")]
    assert {r["lead"] for r in first} == {"Sở Khoa học và Công nghệ"}
    assert {r["partner"] for r in first} == {"Sở Tư pháp", "Ủy ban nhân dân các xã, phường"}
    assert {r["deadline"] for r in first} == {"Quý IV năm 2025"}
