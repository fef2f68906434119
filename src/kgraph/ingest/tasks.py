"""The tasks section ("NHIỆM VỤ VÀ GIẢI PHÁP", "NỘI DUNG THỰC HIỆN"): groups and their items.

A task written with labelled lines ("- Cơ quan chủ trì: Sở Y tế", "- Đơn vị phối hợp: ...",
"- Thời gian thực hiện: Quý IV/2025", "- Sản phẩm: ...") gets its own lead, coordinators,
deadline and product from them; the labelled lines are the task's metadata, not items.
A task table (Markdown pipes or plain columns: "TT | Nhiệm vụ | Cơ quan chủ trì | Cơ quan phối
hợp | Thời gian ...", in the body or in an appendix) gives one task per row the same way.
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
        for part in value.split(";"):  # "Sở A; các sở, ngành; UBND các xã rà soát ..."
            names = names_part(part, label=True)
            mentions = split_agencies(names, matcher, province) if looks_named(names) else []
            getattr(task, name).extend(m for m in mentions if m.raw)
    elif name == "deadline" and task.deadline is None:
        task.deadline = value
    elif name == "product" and task.product is None:
        task.product = value


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
    """Rows of the text's tables as (offset, cells), in either layout a conversion writes:
    one row per line ("| 1 | Nhiệm vụ | Sở Y tế |"), or one cell per run of lines between
    lines holding only "|", with an empty cell ("|" right after "|") ending the row."""
    rows: list[tuple[int, list[str]]] = []
    row: list[tuple[int, str]] = []  # (offset, text) of each cell
    cell: list[tuple[int, str]] = []  # (offset, line) of the current cell's lines
    offset = 0
    in_table = False
    for physical in raw.splitlines(keepends=True):
        line = physical.strip()
        here, offset = offset, offset + len(physical)
        if line == "|":
            if cell:
                text = " ".join(t for _, t in cell).replace("**", "").replace("*", "")
                row.append((cell[0][0], nfc(text)))
                cell = []
            elif in_table and row:
                rows.append((row[0][0], [t for _, t in row]))
                row = []
            in_table = True
        elif line.count("|") >= 2 and line.startswith("|"):
            if row:
                rows.append((row[0][0], [t for _, t in row]))
                row = []
            rows.append((here, [nfc(c.replace("**", "")) for c in line.strip("|").split("|")]))
            in_table = False
        elif in_table and line:
            cell.append((here, line))
    if row:
        rows.append((row[0][0], [t for _, t in row]))
    return rows


_ROW_NUMBER = re.compile(r"^\W*(?:s?tt|so tt|so thu tu)\W*$")
_RULE_CELL = re.compile(r"^[\s:-]*$")


def table_tasks(raw: str, matcher: Matcher, province: str | None) -> list[Task]:
    """One task per row of every table whose header names a task and the body that leads it."""
    out: list[Task] = []
    columns: list[str | None] | None = None
    for start, cells in table_rows(raw):
        fields = [_field(c) if len(c) < 60 else None for c in cells]
        if "task" in fields and "lead" in fields[fields.index("task") :]:
            first = fields.index("task")
            numbers = [i for i in range(first) if _ROW_NUMBER.match(aligned_fold(cells[i]))]
            columns = fields[numbers[-1] if numbers else first :]
            continue
        if columns is None or len(cells) != len(columns):
            continue
        if all(_RULE_CELL.match(c) for c in cells):
            continue  # the "| --- | --- |" line under a Markdown header
        task = Task(no=cells[0] or str(len(out) + 1), text="", span=_row_span(raw, start, cells))
        for name, value in zip(columns, cells, strict=True):
            if name == "task":
                task.text = value
            else:
                _apply(task, name, value, matcher, province)
        if task.text and (task.lead or task.deadline):
            out.append(task)
    return out


def _row_span(raw: str, start: int, cells: list[str]) -> Span:
    end = raw.find("\n", start)
    end = len(raw) if end < 0 else end
    return Span(raw[start:end], start, end, raw.count("\n", 0, start) + 1)
