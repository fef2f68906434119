"""Numeric targets (chỉ tiêu): "98,5% trẻ em ...", "từ 4 tỷ đồng trở lên"."""

from __future__ import annotations

import re

from kgraph.ingest.model import Target
from kgraph.ingest.outline import Block, Layout, items_of
from kgraph.ingest.text import aligned_fold

_TARGET_HEADING = re.compile(r"muc tieu cu the|chi tieu")
_PERCENT = re.compile(r"(\d{1,3}(?:[.,]\d+)?)\s*%")
_MONEY = re.compile(r"(\d+(?:[.,]\d+)?)\s*(ty|trieu)\s*dong")
_SCALE = {"ty": 1e9, "trieu": 1e6}


def _value(text: str) -> tuple[float | None, str | None]:
    folded = aligned_fold(text)
    m = _PERCENT.search(text)
    if m:
        return float(m.group(1).replace(",", ".")), "%"
    m = _MONEY.search(folded)
    if m:
        return float(m.group(1).replace(",", ".")) * _SCALE[m.group(2)], "VND"
    return None, None


def _target_blocks(layout: Layout) -> list[Block]:
    blocks = []
    for section in layout.sections:
        for heading in section.headings:
            if _TARGET_HEADING.search(aligned_fold(heading.title)):
                blocks.extend(items_of(heading))
    return blocks


def extract_targets(layout: Layout) -> list[Target]:
    """Each item under a 'Mục tiêu cụ thể' / 'Chỉ tiêu' heading, with its value when numeric."""
    targets = []
    for block in _target_blocks(layout):
        text = re.sub(r"^[-+•–]\s*", "", block.text)
        value, unit = _value(text)
        targets.append(Target(text=text, span=block.span(layout.raw), value=value, unit=unit))
    return targets
