"""Reporting duties: who reports to whom (through whom), how often and by when.

A duty is a clause (split on ';' and sentence ends) of the body that asks for a report or an
assessment ("báo cáo", "đánh giá") and says how often ("định kỳ hằng năm", "6 tháng") or by
when ("trước ngày 15/12", "trước ngày 20/7/2021").
"""

from __future__ import annotations

import re
from datetime import date

from kgraph.layout import Layout
from kgraph.matching import Matcher
from kgraph.model import AgencyMention, ReportingDuty, Span
from kgraph.text import aligned_fold

_REPORT = re.compile(r"\bb[a-z]{1,2}o\s*c[a-z]{1,2}o\b|\bd[a-z]{1,2}nh gi[a-z]\b")
_DUE = re.compile(r"tr[a-z]{1,4}c?\s+ng[a-z]{1,2}\s*(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{4}))?")
_SEMI = re.compile(r"\b6 th[a-z]{1,2}ng\b|\bsau th[a-z]{1,2}ng\b")
_ANNUAL = re.compile(
    r"h[a-z]{1,2}ng n[a-z]{1,2}m|\bm[a-z]{1,2}t n[a-z]{1,2}m|\bn[a-z]{1,2}m \d{4}"
    r"|\bn[a-z]m\b(?! \d)"
)
_QUARTER = re.compile(
    r"\b(?:h[a-z]{1,2}ng|m[o0]i|t[a-z]{1,2}ng) quy\b|\bquy (?:i|ii|iii|iv|[1-4])\b"
)
_MONTHLY = re.compile(r"h[a-z]{1,2}ng th[a-z]{1,2}ng")
_PERIODIC = re.compile(r"d[a-z]{1,2}nh k[a-z]")
_CLAUSE = re.compile(r";|\.\s+(?=[A-ZĐÂĂÊÔƠƯÁÀẢÃẠÉÈẺẼẸÍÌỈĨỊÓÒỎÕỌÚÙỦŨỤÝỲỶỸỴ])|\./\.")
_VIA = re.compile(r"\((?:th[a-z]{2,3}g\s*)?qua\s+([^)]{3,80})\)")
_TO = re.compile(
    r"(?:\bv[a-z]\b|g[a-z]{1,2}i|b[a-z]{1,2}o c[a-z]{1,2}o)\s+((?:u[a-z]? ban|ubnd"
    r"|s[a-z0-9&]{0,2} |b[o0] )[^,(;.]{2,70})"
)


def _frequency(folded: str, due: tuple[int, int, int | None] | None) -> str | None:
    semi = bool(_SEMI.search(folded))
    annual = bool(_ANNUAL.search(folded))
    if (
        semi
        and annual
        and re.search(r"6 th[a-z]{1,2}ng\s*,?\s*(m[a-z]{1,2}t|h[a-z]{1,2}ng) n", folded)
    ):
        return "semiannual and annual"
    if semi:
        return "semiannual"
    if _MONTHLY.search(folded):
        return "monthly"
    if _QUARTER.search(folded):
        return "quarterly"
    if annual:
        return "annual"
    if due and due[2]:
        return "once"
    if _PERIODIC.search(folded):
        return "periodic"
    return None


def _clauses(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for m in _CLAUSE.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return out


def _agency(text: str, matcher: Matcher, province: str | None) -> AgencyMention | None:
    cut = re.search(
        r"\s(?:de|theo|tr[a-z]{1,4}c|ve|tong h[a-z]p|xem)\s", " " + aligned_fold(text) + " "
    )
    text = text[: max(cut.start() - 1, 0)] if cut else text
    mention = matcher.agency(text.strip(), province)
    return mention if mention.resolved else None


def extract_reporting(
    layout: Layout, matcher: Matcher, province: str | None
) -> list[ReportingDuty]:
    """Every clause of the body that sets a report's frequency or deadline."""
    raw = layout.raw
    if not layout.sections:
        return []
    start = layout.sections[0].line.start
    end = layout.closing[0].start if layout.closing else len(raw)
    body = raw[start:end]
    folded = aligned_fold(body)
    duties = []
    for a, b in _clauses(folded):
        clause = folded[a:b]
        if not _REPORT.search(clause):
            continue
        m = _DUE.search(clause)
        due = (
            (int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None)
            if m
            else None
        )
        frequency = _frequency(clause, due)
        if frequency is None and due is None:
            continue
        duty = ReportingDuty(
            span=Span(body[a:b], start + a, start + b, raw.count("\n", 0, start + a) + 1),
            frequency=frequency,
        )
        if due:
            try:
                duty.due_date = date(due[2], due[1], due[0]) if due[2] else None
            except ValueError:
                duty.due_date = None
            duty.due_day_month = None if due[2] else (due[0], due[1])
        via = _VIA.search(clause)
        if via:
            duty.via = _agency(body[a + via.start(1) : a + via.end(1)], matcher, province)
        for to in _TO.finditer(clause):
            mention = _agency(body[a + to.start(1) : a + to.end(1)], matcher, province)
            known = {r.reference_id for r in duty.recipients} | {duty.via and duty.via.reference_id}
            if mention and mention.reference_id not in known:
                duty.recipients.append(mention)
        duties.append(duty)
    return duties
