"""Task tables in every layout a reader or OCR leaves: the header row names the columns (and so
each cell's role), each row below it is a task. Fixtures written by hand for these tests."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgraph.cli import app
from kgraph.ingest.extract import extract_document
from kgraph.ingest.tasks import table_rows, table_tasks
from kgraph.reference.matching import default_matcher

HEAD = "Số: 7/QĐ-TTg\nI. TỔ CHỨC THỰC HIỆN\n1. Bộ Nội vụ chủ trì.\nNơi nhận:\n- Như trên;\n"

PIPES_WRAPPED = """PHỤ LỤC
| STT | Nội dung nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian hoàn thành | Sản phẩm |
| --- | --- | --- | --- | --- | --- |
| 1 | Xây dựng cơ sở dữ liệu cán bộ, công chức | Bộ Nội vụ | Bộ Công an;
Bộ Tài chính | Tháng 6/2026 | Cơ sở dữ liệu |
| 2 | Rà soát quy trình nội bộ giải quyết thủ tục
hành chính | Văn phòng Chính phủ | Bộ Nội vụ | Quý IV/2026 | Báo cáo |
"""

TABS = (
    "PHỤ LỤC\n"
    "STT\tNhiệm vụ\tĐơn vị chủ trì\tĐơn vị phối hợp\tThời hạn\n"
    "1\tXây dựng cơ sở dữ liệu cán bộ, công chức\tBộ Nội vụ\tBộ Công an\tTháng 6/2026\n"
    "2\tRà soát quy trình nội bộ giải quyết thủ tục\tVăn phòng Chính phủ\t\tQuý IV/2026\n"
    "\thành chính\n"  # wrapped in the second column: one tab before it
)

HEADER = "STT\nNội dung\nCơ quan chủ trì\nCơ quan phối hợp\nThời gian hoàn thành\n"

# One cell per line, a header label wrapped, the columns numbered, the header repeated on the
# next page, a cell wrapped over two lines, a group row ("I") with no lead.
LINES = f"""PHỤ LỤC
DANH MỤC NHIỆM VỤ
STT
Nội dung
Cơ quan chủ trì
Cơ quan phối hợp
Thời gian hoàn
thành
(1)
(2)
(3)
(4)
(5)
I
Hoàn thiện thể chế
1
Xây dựng cơ sở dữ liệu cán bộ, công chức
Bộ Nội vụ
Bộ Công an
Tháng 6/2026
{HEADER}2
Rà soát quy trình nội bộ giải quyết thủ tục
hành chính
Văn phòng Chính phủ
Bộ Nội vụ
Quý IV/2026
Nơi nhận:
"""

# Empty cells dropped (one cell per line, as OCR leaves them), the header repeated between rows.
SHORT = f"""{HEADER}1
Xây dựng cơ sở dữ liệu cán bộ, công chức
Bộ Nội vụ
Tháng 6/2026
{HEADER}2
Rà soát quy trình nội bộ giải quyết thủ tục hành chính
Văn phòng Chính phủ
Bộ Nội vụ
"""

# A merged header cell ("Đơn vị thực hiện") over a second header row naming its parts.
MERGED = """PHỤ LỤC
| STT | Tên nhiệm vụ | Thời gian | Đơn vị thực hiện |  |
| --- | --- | --- | --- | --- |
|  |  |  | Chủ trì | Phối hợp |
| 1 | Xây dựng cơ sở dữ liệu cán bộ, công chức | Tháng 6/2026 | Bộ Nội vụ | Bộ Công an |
| 2 | Lập kế hoạch kiểm tra | Quý I/2026 | Bộ Nội vụ | - Bộ Công an - Vụ Kế hoạch - Tài chính |
"""

WANT = [
    ("1", "Xây dựng cơ sở dữ liệu cán bộ, công chức", ["Bộ Nội vụ"], "Tháng 6/2026"),
    ("2", "Rà soát quy trình nội bộ giải quyết thủ tục hành chính", ["Văn phòng Chính phủ"],
     "Quý IV/2026"),
]


def _tasks(text: str) -> list[tuple[str, str, list[str], str | None]]:
    tasks = table_tasks(text, default_matcher(), None)
    return [(t.no, t.text, [m.canonical for m in t.lead], t.deadline) for t in tasks]


@pytest.mark.parametrize("text", [PIPES_WRAPPED, TABS, LINES], ids=["pipes", "tabs", "lines"])
def test_a_task_table_in_any_layout_gives_one_task_per_row(text: str) -> None:
    assert _tasks(text) == WANT
    partners = [m.canonical for m in table_tasks(text, default_matcher(), None)[1].coordinators]
    assert partners == ([] if text is TABS else ["Bộ Nội vụ"])


def test_a_row_short_of_its_empty_cells_keeps_each_cell_in_its_column() -> None:
    tasks = table_tasks(SHORT, default_matcher(), None)
    got = [(t.no, [m.canonical for m in t.lead], [m.canonical for m in t.coordinators],
            t.deadline) for t in tasks]
    assert got == [("1", ["Bộ Nội vụ"], [], "Tháng 6/2026"),
                   ("2", ["Văn phòng Chính phủ"], ["Bộ Nội vụ"], None)]


def test_the_product_column_is_the_task_product() -> None:
    tasks = table_tasks(PIPES_WRAPPED, default_matcher(), None)
    assert [t.product for t in tasks] == ["Cơ sở dữ liệu", "Báo cáo"]
    assert [m.canonical for m in tasks[0].coordinators] == ["Bộ Công an", "Bộ Tài chính"]


def test_a_second_header_row_names_the_parts_of_a_merged_cell() -> None:
    tasks = table_tasks(MERGED, default_matcher(), None)
    assert [m.canonical for m in tasks[0].lead] == ["Bộ Nội vụ"]
    assert [m.canonical for m in tasks[0].coordinators] == ["Bộ Công an"]
    assert tasks[0].deadline == "Tháng 6/2026"


def test_a_cell_of_bullets_run_together_gives_one_body_per_bullet() -> None:
    tasks = table_tasks(MERGED, default_matcher(), None)
    assert [m.raw for m in tasks[1].coordinators] == ["Bộ Công an", "Vụ Kế hoạch - Tài chính"]


def test_a_table_of_targets_after_a_task_table_is_not_read_as_tasks() -> None:
    targets = (
        "| TT | Chỉ tiêu | Đơn vị tính | Kết quả | Cơ quan theo dõi | Ghi chú |\n"
        "| 1 | Hồ sơ xử lý đúng hạn | % | 100 | Văn phòng Chính phủ | Tháng 6/2026 |\n"
    )
    assert _tasks(PIPES_WRAPPED + targets) == WANT


def test_lines_after_the_table_are_not_a_row() -> None:
    rows = table_rows(LINES)
    assert rows[-1][1] == ["2", "Rà soát quy trình nội bộ giải quyết thủ tục hành chính",
                           "Văn phòng Chính phủ", "Bộ Nội vụ", "Quý IV/2026"]
    assert not any("Nơi nhận" in c for _, cells in rows for c in cells)
    assert LINES[rows[-1][0]:].startswith("2\nRà soát")


def test_running_text_with_numbered_lines_is_not_a_table() -> None:
    text = "1\nSở Y tế chủ trì\nthực hiện\n2\nNhiệm vụ khác\n"
    assert table_rows(text) == []


def test_an_appendix_table_in_lines_reaches_the_document(tmp_path: Path) -> None:
    doc = extract_document(HEAD + LINES, "qd.txt")
    assert [(t.no, t.division) for t in doc.table_tasks] == [("1", "PL1"), ("2", "PL1")]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "qd.txt").write_text(HEAD + LINES, encoding="utf-8")
    store = str(tmp_path / "store")
    result = CliRunner().invoke(app, ["build", str(folder), "--store", store])
    assert result.exit_code == 0, result.stdout
    query = tmp_path / "q.rq"
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    query.write_text(re.search(r"<!-- task-roles-query -->\s*```sparql\n(.*?)```", readme, re.S)
                     .group(1), encoding="utf-8")
    result = CliRunner().invoke(app, ["query", str(query), "--store", store, "--format", "csv"])
    assert result.exit_code == 0, result.stdout
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    got = {(r["text"], r["lead"], r["partner"], r["deadline"]) for r in rows}
    assert got == {(text, lead[0], "Bộ Công an" if no == "1" else "Bộ Nội vụ", deadline)
                   for no, text, lead, deadline in WANT}


SERIES = """Số: 9/KH-UBND
I. MỤC TIÊU
Bảo đảm tiến độ.
II. NHIỆM VỤ VÀ GIẢI PHÁP
1. Danh mục nhiệm vụ
- Phụ lục số 01: Danh mục văn bản năm 2026
- Phụ lục số 02: Danh mục đề án năm 2026
- Phụ lục số 03: Các chỉ tiêu chủ yếu
2. Tổ chức tập huấn
- Tập huấn cho cán bộ từ năm 2025
- 2026 theo kế hoạch riêng.
"""


def test_bullets_naming_a_numbered_series_are_items_not_a_wrapped_sentence() -> None:
    doc = extract_document(SERIES, "kh.txt")
    assert [len(group.items) for group in doc.tasks] == [3, 1]
