"""The tasks section ("NHIỆM VỤ VÀ GIẢI PHÁP", "NỘI DUNG THỰC HIỆN"): groups and their items.

A task written with labelled lines ("- Cơ quan chủ trì: Sở Y tế", "- Đơn vị phối hợp: ...",
"- Thời gian thực hiện: Quý IV/2025", "- Sản phẩm: ...") gets its own lead, coordinators,
deadline and product from them; the labelled lines are the task's metadata, not items.
A task table (Markdown pipes or plain columns: "TT | Nhiệm vụ | Cơ quan chủ trì | Cơ quan phối
hợp | Thời gian ...", in the body or in an appendix) gives one task per row the same way: its
header row names the columns, so the role of each cell; tabs, rows wrapped over lines and cells
one per line (as a reader or OCR leaves a table whose borders are gone) are read by that layout.
"""

from __future__ import annotations

import re

from kgraph.ingest.bodies import looks_named, names_part, split_agencies
from kgraph.ingest.model import Span, Task
from kgraph.ingest.outline import (
    Block,
    Layout,
    Section,
    is_labelled,
    item_count,
    leaves,
)
from kgraph.ingest.text import aligned_fold, nfc
from kgraph.reference.matching import Matcher

_TASK_TITLE = re.compile(r"nhiem vu|noi dung|giai phap")
# A title that also names the assignment or the funding is not the tasks section; one that
# names goals as well as tasks ("MỤC TIÊU, NHIỆM VỤ VÀ GIẢI PHÁP") is.
_NOT_TASKS = re.compile(r"phan cong|to chuc th[a-z']{1,4}\s*hien|kinh phi")
_HEADING_NO = re.compile(r"^\s*[0-9]{1,2}(?:\.[0-9]{1,2}){0,2}\s*[.,]?\s*")
# What a label line or a table column states about a task.
LABELS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("lead", re.compile(r"chu\s*tri")),
    ("coordinators", re.compile(r"ph[a-z]{1,3}\s*h[a-z]{1,2}p")),
    ("lead", re.compile(r"(?:co quan|don vi)\s*(?:thuc hien|dau moi)|trach nhiem")),
    ("deadline", re.compile(r"thoi (?:gian|han)|tien do")),
    ("product", re.compile(r"san pham|ket qua")),
    ("task", re.compile(
        r"^(?:ten\s+)?(?:nhiem vu|noi dung|van ban|de an|du an|hoat dong|cong viec)"
    )),
)


def task_section(layout: Layout) -> Section | None:
    """The first section whose title names tasks and not their assignment."""
    for section in layout.sections:
        key = aligned_fold(section.title)
        if _TASK_TITLE.search(key) and not _NOT_TASKS.search(_TASK_TITLE.sub("", key)):
            return section
    return None


def heading_title(block: Block) -> str:
    return nfc(_HEADING_NO.sub("", block.title, count=1))


def _field(label: str) -> str | None:
    folded = aligned_fold(label)
    for name, pattern in LABELS:
        if pattern.search(folded):
            return name
    return None


def _apply(task: Task, name: str | None, value: str, matcher: Matcher, province: str | None):
    value = nfc(value).strip(" .;")
    if not value or name is None:
        return
    if name in {"lead", "coordinators"}:
        parts = value.split(";")  # "Sở A; các sở, ngành; UBND các xã rà soát ..."
        if value[0] in "-–+":  # a cell's bullets run together: "- Sở A - Sở B - Các sở khác"
            parts = [bullet for part in parts for bullet in _bullets(part)]
        for part in parts:
            names = names_part(part, label=True)
            mentions = split_agencies(names, matcher, province) if looks_named(names) else []
            getattr(task, name).extend(m for m in mentions if m.raw)
    elif name == "deadline" and task.deadline is None:
        task.deadline = value
    elif name == "product" and task.product is None:
        task.product = value


_BULLET = re.compile(r"(?:^|\s)[-–+]\s+")


def _bullets(cell: str) -> list[str]:
    """The bullets of a cell whose line breaks were lost: a dash opens a new body only when a
    body's head noun follows it ("Vụ Kế hoạch - Tài chính" stays one name)."""
    out: list[str] = []
    for piece in _BULLET.split(cell):
        if out and not looks_named(piece):
            out[-1] = f"{out[-1]} - {piece}"
        elif piece.strip():
            out.append(piece)
    return out


def _labelled_lines(block: Block, task: Task, matcher: Matcher, province: str | None) -> None:
    """Lead, coordinators, deadline and product from the task's labelled lines."""
    for child in block.children:
        if not is_labelled(child):
            continue
        text = re.sub(r"^\W+", "", child.text)
        label, _, value = text.partition(":")
        _apply(task, _field(label), value, matcher, province)


def _task(block: Block, raw: str, matcher: Matcher | None, province: str | None) -> Task:
    task = Task(
        no=block.no or block.kind, text=block.text, span=block.span(raw), division=block.key
    )
    if matcher is not None:
        _labelled_lines(block, task, matcher, province)
    return task


def extract_tasks(
    layout: Layout, matcher: Matcher | None = None, province: str | None = None
) -> tuple[str | None, list[Task]]:
    """(section number, task groups with their top-level items)."""
    section = task_section(layout)
    if section is None:
        return None, []
    tasks = []
    for block in section.headings:
        group = _task(block, layout.raw, matcher, province)
        group.title = heading_title(block)
        group.items = [_task(item, layout.raw, matcher, province) for item in leaves(block)]
        if not group.items and item_count(block) == 1 and block.body:
            group.items = []  # running text: the group itself is the one item
        tasks.append(group)
    return section.no, tasks


# ---------------------------------------------------------------- task tables


def table_rows(raw: str) -> list[tuple[int, list[str]]]:
    """Rows of the text's tables as (offset, cells), in every layout a conversion writes:
    one row per line between pipes ("| 1 | Nhiệm vụ | Sở Y tế |", a row wrapped over lines
    ending at the line that closes it) or tabs; one cell per run of lines between lines holding
    only "|", with an empty cell ("|" right after "|") ending the row; or, with no separator
    left, one cell per line under a header written the same way (:func:`_line_cell_rows`)."""
    rows: list[tuple[int, list[str]]] = []
    row: list[tuple[int, str]] = []  # (offset, text) of each cell
    cell: list[tuple[int, str]] = []  # (offset, line) of the current cell's lines
    wrapped: tuple[int, str] | None = None  # a pipe row not closed yet: (offset, text so far)
    tab_row_end = -1  # where the last tab row (and the lines its cells wrapped onto) ended
    offset = 0
    in_table = False
    for physical in raw.splitlines(keepends=True):
        line = physical.strip()
        here, offset = offset, offset + len(physical)
        if wrapped is not None and (not line or line.startswith("|")):
            wrapped = None  # it never closed: not a row
        if wrapped is not None:  # a cell wrapped over lines: the row goes on until it closes
            wrapped = (wrapped[0], f"{wrapped[1]} {line}")
            if not line.endswith("|"):
                continue
            here, line = wrapped
            wrapped = None
        if line == "|":
            if cell:
                text = " ".join(t for _, t in cell).replace("**", "").replace("*", "")
                row.append((cell[0][0], nfc(text)))
                cell = []
            elif in_table and row:
                rows.append((row[0][0], [t for _, t in row]))
                row = []
            in_table = True
        elif line.startswith("|") and line.count("|") >= 2 and not line.endswith("|"):
            wrapped = (here, line)
        elif line.count("|") >= 2 and line.startswith("|"):
            if row:
                rows.append((row[0][0], [t for _, t in row]))
                row = []
            rows.append((here, [nfc(c.replace("**", "")) for c in line.strip("|").split("|")]))
            in_table = False
        elif line.count("\t") >= 2 or physical.strip(" \r\n").count("\t") >= 2:
            tabbed = physical.strip(" \r\n").split("\t")
            rows.append((here, [nfc(c.strip().replace("**", "")) for c in tabbed]))
            tab_row_end = offset
        elif tab_row_end == here and _goes_on(line):
            tab_row_end = offset
            cells = rows[-1][1]  # a tab row's cell wrapped onto a line of its own: the tabs
            column = len(physical) - len(physical.lstrip("\t"))  # before it say which cell
            if not 0 < column < len(cells):
                column = max(i for i, c in enumerate(cells) if c) if any(cells) else 0
            cells[column] = f"{cells[column]} {nfc(line)}".strip()
        elif in_table and line:
            cell.append((here, line))
    if row:
        rows.append((row[0][0], [t for _, t in row]))
    return sorted(rows + _line_cell_rows(raw), key=lambda r: r[0])


# A row's number alone on its line: "1", "2.", "IV", "a)"; never a year ("2026") or a date.
_ROW_NO = re.compile(r"^(?:[0-9]{1,3}(?:\.[0-9]{1,2})*|[IVXL]{1,6})[.)]?$")
# A row numbering the columns under the header: "(1)", "1" ... one per column.
_COLUMN_NO = re.compile(r"^\(?[0-9]{1,2}\)?$")


def _goes_on(line: str) -> bool:
    """The line goes on with the cell above it: it opens in lower case or with a continuing mark."""
    return bool(line) and "\t" not in line and (line[0].islower() or line[0] in ",;:)")


def _header_at(lines: list[tuple[int, str]], i: int) -> tuple[list[str], int] | None:
    """The header written one cell per line from line i ("STT", "Nội dung", "Cơ quan chủ trì",
    ... a label wrapped onto the next line joined), and the line after it; None when the lines
    there are not a task table's header (a row-number column first, a task column, a lead)."""
    first = lines[i][1]
    if not first or len(first) > 20 or not _ROW_NUMBER.match(aligned_fold(first)):
        return None  # the length first: this is asked of every line of every document
    cells = [lines[i][1]]
    j = i + 1
    while j < len(lines) and len(cells) <= 12:
        text = lines[j][1]
        if (not text or _ROW_NO.match(text) or _COLUMN_NO.match(text) or len(text) >= 60
                or "|" in text or "\t" in text):
            break
        if _goes_on(text):
            cells[-1] = f"{cells[-1]} {text}"
        else:
            cells.append(text)
        j += 1
    fields = [_field(c) for c in cells]
    if len(cells) < 3 or "task" not in fields or "lead" not in fields[fields.index("task"):]:
        return None
    return [nfc(c.replace("**", "")) for c in cells], j


def _line_cell_rows(raw: str) -> list[tuple[int, list[str]]]:
    """Rows of tables written one cell per line with no separator left (a reader that keeps
    only the cells' text, or OCR that lost the borders): the header gives the width; a row
    opens with its number alone on a line and holds the lines up to the next row's number, a
    line that goes on in lower case joining the cell above; a header repeated (a new page)
    and a row numbering the columns are passed over; the table ends at a row too wide."""
    lines: list[tuple[int, str]] = []
    offset = 0
    for physical in raw.splitlines(keepends=True):
        lines.append((offset, physical.strip()))
        offset += len(physical)
    rows: list[tuple[int, list[str]]] = []
    i = 0
    while i < len(lines):
        header = _header_at(lines, i) if "|" not in lines[i][1] else None
        if header is None:
            i += 1
            continue
        rows.append((lines[i][0], header[0]))
        width, i = len(header[0]), header[1]
        if [t for _, t in lines[i : i + width]] == [f"({n})" for n in range(1, width + 1)] or [
            t for _, t in lines[i : i + width]
        ] == [str(n) for n in range(1, width + 1)]:
            i += width  # the columns' numbers under the header
        while i < len(lines):
            if not lines[i][1]:
                i += 1
                continue
            if not _ROW_NO.match(lines[i][1]):
                break  # the end, or the header repeated on a new page: read again from it
            start, cells = lines[i][0], [lines[i][1]]
            j = i + 1
            while j < len(lines) and not _ROW_NO.match(lines[j][1]):
                text = lines[j][1]
                if not text:
                    j += 1
                    continue
                if _header_at(lines, j) is not None:
                    break
                if _goes_on(text) and len(cells) > 1:
                    cells[-1] = f"{cells[-1]} {text}"
                elif len(cells) == width:
                    break  # a line the row has no column for: the table is over
                else:
                    cells.append(text)
                j += 1
            if len(cells) < width:
                cells = _fit(cells, [_field(c) for c in header[0]])
            rows.append((start, [nfc(c) for c in cells]))
            i = j
            if len(cells) == width and j < len(lines) and lines[j][1] and not (
                _ROW_NO.match(lines[j][1]) or _header_at(lines, j) is not None
            ):
                break
    return rows


_ROW_NUMBER = re.compile(r"^\W*(?:s?tt|so tt|so thu tu)\W*$")
_RULE_CELL = re.compile(r"^[\s:-]*$")
_ROLES = frozenset({"lead", "coordinators", "deadline", "product"})


def table_tasks(raw: str, matcher: Matcher, province: str | None) -> list[Task]:
    """One task per row of every table whose header names a task and the body that leads it;
    a second header row naming roles under a merged cell ("Đơn vị thực hiện" over "Chủ trì |
    Phối hợp") gives those columns their roles."""
    out: list[Task] = []
    columns: list[str | None] | None = None
    under_header = False
    for start, cells in table_rows(raw):
        fields = [_field(c) if len(c) < 60 else None for c in cells]
        if "task" in fields and "lead" in fields[fields.index("task") :]:
            first = fields.index("task")
            numbers = [i for i in range(first) if _ROW_NUMBER.match(aligned_fold(cells[i]))]
            columns = fields[numbers[-1] if numbers else first :]
            under_header = True
            continue
        if cells and _ROW_NUMBER.match(aligned_fold(cells[0])):
            columns = None  # another table's header ("TT | Chỉ tiêu | ..."): not tasks
            continue
        if columns is None or len(cells) != len(columns):
            continue
        if all(_RULE_CELL.match(c) for c in cells):
            continue  # the "| --- | --- |" line under a Markdown header
        if all(_COLUMN_NO.match(c) for c in cells):
            continue  # "(1) | (2) | ...": the columns numbered
        named = [f if f in _ROLES else None for f in fields]
        if under_header and any(named) and "task" not in fields:
            columns = [n or c for n, c in zip(named, columns, strict=True)]
            continue
        under_header = False
        task = Task(no=cells[0] or str(len(out) + 1), text="", span=_row_span(raw, start, cells))
        for name, value in zip(columns, cells, strict=True):
            if name == "task":
                task.text = value
            else:
                _apply(task, name, value, matcher, province)
        if task.text and (task.lead or task.deadline):
            out.append(task)
    return out


# A cell that names a time: "Tháng 6/2026", "Quý IV", "Năm 2026", "Trước 30/6", "Hằng năm",
# "Thường xuyên", "2025 - 2030".
_WHEN = re.compile(
    r"^(?:thang|quy|nam|truoc|trong|tu|den|hang|thuong xuyen|giai doan|dinh ky"
    r"|[0-9]{4}\b|[0-9]{1,2}/[0-9]{4})"
)


def _fit(cells: list[str], columns: list[str | None]) -> list[str]:
    """A row short of cells (a reader or OCR that drops empty cells): the number and the task
    keep their places, a cell naming a time goes to the deadline column, the rest fill the other
    columns in order; a row that cannot fit is returned as it is (and not read)."""
    out = [""] * len(columns)
    k = 0
    deadline = columns.index("deadline") if "deadline" in columns else -1
    for cell in cells:
        if 1 < k <= deadline and _WHEN.match(aligned_fold(cell)):
            k = deadline
        if k >= len(columns):
            return cells
        out[k] = cell
        k += 1
    return out


def _row_span(raw: str, start: int, cells: list[str]) -> Span:
    end = raw.find("\n", start)
    end = len(raw) if end < 0 else end
    return Span(raw[start:end], start, end, raw.count("\n", 0, start) + 1)
