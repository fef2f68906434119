"""The tasks section ("NHIỆM VỤ VÀ GIẢI PHÁP", "NỘI DUNG THỰC HIỆN"): groups and their items."""

from __future__ import annotations

import re

from kgraph.ingest.model import Task
from kgraph.ingest.outline import Block, Layout, Section, item_count, items_of
from kgraph.ingest.text import aligned_fold, nfc

_TASK_TITLE = re.compile(r"nhiem vu|noi dung|giai phap")
_NOT_TASKS = re.compile(r"phan cong|to chuc th[a-z']{1,4}\s*hien|kinh phi|muc dich|muc tieu")
_HEADING_NO = re.compile(r"^\s*\d{1,2}\s*[.,]\s*")


def task_section(layout: Layout) -> Section | None:
    """The first section whose title names tasks and not their assignment."""
    for section in layout.sections:
        key = aligned_fold(section.title)
        if _TASK_TITLE.search(key) and not _NOT_TASKS.search(key):
            return section
    return None


def heading_title(block: Block) -> str:
    return nfc(_HEADING_NO.sub("", block.title, count=1))


def _task(block: Block, raw: str) -> Task:
    return Task(no=block.no or block.kind, text=block.text, span=block.span(raw))


def extract_tasks(layout: Layout) -> tuple[str | None, list[Task]]:
    """(section number, task groups with their top-level items)."""
    section = task_section(layout)
    if section is None:
        return None, []
    tasks = []
    for block in section.headings:
        group = _task(block, layout.raw)
        group.title = heading_title(block)
        group.items = [_task(item, layout.raw) for item in items_of(block)]
        if not group.items and item_count(block) == 1 and block.body:
            group.items = []  # running text: the group itself is the one item
        tasks.append(group)
    return section.no, tasks
