"""Reporting duties: who reports to whom (through whom), how often and by when.

A duty is a clause (split on ';' and sentence ends) of the body that asks for a report ("báo
cáo", "gửi kết quả"), or an assessment with a schedule ("đánh giá ... hằng quý"), and says how
often ("hằng ngày", "02 lần/ngày", "hằng tuần", "tháng cuối quý", "6 tháng", "định kỳ hằng năm",
a one-off "sơ kết (năm 2027)") or by when ("trước / chậm nhất ngày 15/12", "trong tháng
6/2026", a "Thời hạn: ..." line after the duty), or names whom to report to. The body is found
by the document's own structure, up to where the hosting site's chrome starts; copies lists,
table rows and report forms after the signature are not duties.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from kgraph.ingest.assignments import split_agencies
from kgraph.ingest.metadata import find_number
from kgraph.ingest.model import AgencyMention, ReportingDuty, Span
from kgraph.ingest.outline import Layout
from kgraph.ingest.references import (
    _ATTACHED,
    _STRUCTURE,
    canonical_number,
    document_end,
    folded_text,
)
from kgraph.ingest.text import aligned_fold
from kgraph.reference.matching import Matcher

# Each word's first letter first, its word boundary looked behind after it: run on every clause,
# the pattern is then found by the regex engine's scan for "b", "d" and "g", not tried at every
# offset.
_REPORT = re.compile(
    r"b(?<!\wb)[a-z]{1,2}o\s*c[a-z]{1,2}o\b|d(?<!\wd)[a-z]{1,2}nh gi[a-z]\b"
    r"|g(?<!\wg)[a-z]{1,2}i\s+k[a-z]{1,2}t qu[a-z]\b"  # "gửi kết quả rà soát về Bộ Công an"
)
# "trước ngày 15/12", "trước ngày 20/7/2021", "trước ngày 15 tháng 11 (năm 2025)",
# "chậm nhất (là / vào) ngày 15/12"
_DUE = re.compile(
    r"(?:tr[a-z]{1,4}c?|ch[a-z]{1,2}m nh[a-z]{1,2}t(?:\s+(?:l[a-z]|v[a-z]{1,2}o))?)"
    r"\s+ng[a-z]{1,2}\s*(\d{1,2})\s*(?:/|th[a-z]{1,2}ng)\s*(\d{1,2})"
    r"(?:\s*(?:/|n[a-z]{1,2}m)\s*(\d{4}))?"
)
# "trong tháng 12/2025", "trong tháng 12 năm 2025": by the end of that month.
_DUE_MONTH = re.compile(r"\btrong\s+th[a-z]{1,2}ng\s*(\d{1,2})\s*(?:/|n[a-z]{1,2}m)\s*(\d{4})")
# A deadline on a line of its own after the duty ("Thời gian: trước ngày ...", "Thời hạn ...").
_DEADLINE_LINE = re.compile(r"^\W*(?:th[a-z]{1,2}i\s+(?:gian|h[a-z]n)|h[a-z]n\b|ch[a-z]{1,2}m nh)")
_WEEKLY = re.compile(r"\b(?:h[a-z]{1,2}ng|m[o0]i) tu[a-z]{1,2}n\b")
_DAILY = re.compile(r"\b(?:h[a-z]{1,2}ng|m[o0]i) ng[a-z]{1,2}y\b")
_TIMES_A_DAY = re.compile(r"\b0?(\d) l[a-z]{1,2}n\s*/\s*ng[a-z]{1,2}y\b")
# One-off reviews: "sơ kết (năm 2027)", "tổng kết ... năm 2030".
_REVIEW = re.compile(r"\b(?:s[a-z] k[a-z]t|t[a-z]ng k[a-z]t)\b")
_YEAR = re.compile(r"\bn[a-z]{1,2}m \d{4}\b")
# A report as such: the verb, or results sent on ("gửi kết quả"); "đánh giá" alone needs a
# schedule to be a reporting duty.
_STRONG = re.compile(r"\bb[a-z]{1,2}o\s*c[a-z]{1,2}o\b|\bg[a-z]{1,2}i\s+k[a-z]{1,2}t qu[a-z]\b")
_EXPLICIT = re.compile(
    r"\bd[a-z]{1,2}nh k[yi]\b"
    r"|\b(?:h[a-z]{1,2}ng|m[o0]i) (?:ng[a-z]{1,2}y|tu[a-z]{1,2}n|th[a-z]{1,2}ng|quy|n[a-z]{1,2}m)\b"
    r"|\bcu[o0]i (?:n[a-z]{1,2}m|quy)\b|\b6 th[a-z]{1,2}ng\b|l[a-z]{1,2}n\s*/\s*ng[a-z]{1,2}y"
)
# "báo cáo kết quả ...", "báo cáo tình hình ...": a report owed even with no recipient named.
_REPORT_ON = re.compile(
    r"\bb[a-z]{1,2}o\s*c[a-z]{1,2}o\s+(?:k[a-z]{1,2}t qu[a-z]|t[a-z]nh h[a-z]nh)\b"
)
_AD_HOC = re.compile(r"\bd[a-z]{1,2}t xu[a-z]{1,2}t\b")
# A report owed when something happens ("kịp thời báo cáo ... khi có vướng mắc, phát sinh").
_ON_EVENT = re.compile(
    r"\bkip th[a-z]{1,2}i\b|\bph[a-z]{1,2}t sinh\b|\bv[a-z]{1,3}ng m[a-z]{1,2}c\b"
)
_SEMI = re.compile(r"\b6 th[a-z]{1,2}ng\b|\bsau th[a-z]{1,2}ng\b")
_ANNUAL = re.compile(
    r"\bh[a-z]{1,2}ng n[a-z]{1,2}m|\bm[a-z]{1,2}t n[a-z]{1,2}m|\bn[a-z]{1,2}m \d{4}"
    r"|\bn[a-z]m\b(?! \d)"
)
_QUARTER = re.compile(
    r"\b(?:h[a-z]{1,2}ng|m[o0]i|t[a-z]{1,2}ng|cu[o0]i) quy\b|\bquy (?:i|ii|iii|iv|[1-4])\b"
)
# "hằng tháng", "mỗi tháng" ("hệ thống thông tin" is no month)
_MONTHLY = re.compile(r"\b(?:h[a-z]{1,2}ng|m[o0]i) th[a-z]{1,2}ng\b")
_RECIPIENTS = re.compile(r"^[\W_]*noi\s*nhan\W*:?[^\n]*\n?", re.MULTILINE)
_PERIODIC = re.compile(r"\bd[a-z]{1,2}nh k[yi]\b")  # "định kỳ", not "định kế hoạch"
# Clauses end at ';', a sentence end, a blank line or a new bullet / numbered / lettered item.
_CLAUSE = re.compile(
    r"\n\s*\n|\n(?=[ \t]*(?:[-+\u2022]\s|\*{0,2}\d{1,2}\.|[a-zđ]\)))"
    r"|;|\.\s+(?=[A-ZĐÂĂÊÔƠƯÁÀẢÃẠÉÈẺẼẸÍÌỈĨỊÓÒỎÕỌÚÙỦŨỤÝỲỶỸỴ])|\./\."
)
_VIA = re.compile(r"\((?:th[a-z]{2,3}g\s*)?qua\s+([^)]{3,80})\)")
_TO = re.compile(
    r"(?:\bve\b|g[a-z]{1,2}i|b[a-z]{1,2}o c[a-z]{1,2}o)\s+((?:u[a-z]?\s+ban|ubnd"
    r"|s[a-z0-9&]{0,2}\s|b[o0]\s|th[a-z]{1,2}\s+t[a-z]{1,3}ng\s|cong\s+an\s)[^(;.]{2,90})"
)
# Where a recipient's name ends: the purpose, deadline or object of the report that follows.
_CUT = re.compile(
    r"\s(?:de|theo|tr[a-z]{1,4}c|ve|tong h[a-z]p|xem|k[a-z]{1,2}t qu[a-z]|tinh hinh|viec)\s"
)


def _frequency(folded: str, due: tuple[int, int, int | None] | None) -> str | None:
    times = _TIMES_A_DAY.search(folded)
    if times:
        return "twice daily" if times.group(1) == "2" else "daily"
    if _DAILY.search(folded):
        return "daily"
    if _WEEKLY.search(folded):
        return "weekly"
    explicit = _EXPLICIT.search(folded)
    if _REVIEW.search(folded) and _YEAR.search(folded) and not explicit:
        return "once"  # a mid-term or final review in a given year
    semi = bool(_SEMI.search(folded))
    annual = bool(_ANNUAL.search(folded))
    if (
        semi
        and annual
        and re.search(r"6 th[a-z]{1,2}ng\s*,?\s*(m[a-z]{1,2}t|h[a-z]{1,2}ng) n", folded)
    ):
        return "semiannual and annual"
    if annual and _AD_HOC.search(folded):
        return "annual or ad hoc"
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


def _due(clause: str) -> tuple[tuple[int, int, int | None] | None, date | None]:
    """(day, month, year or None) of "trước / chậm nhất ngày ...", or the last day of the
    month of "trong tháng M/YYYY"."""
    m = _DUE.search(clause)
    if m:
        return (int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None), None
    month = _DUE_MONTH.search(clause)
    if month and 1 <= int(month.group(1)) <= 12:
        year, number = int(month.group(2)), int(month.group(1))
        return None, date(year, number, calendar.monthrange(year, number)[1])
    return None, None


def _clauses(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for m in _CLAUSE.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return out


def _agency(text: str, matcher: Matcher, province: str | None) -> AgencyMention | None:
    cut = _CUT.search(" " + aligned_fold(text) + " ")
    text = text[: max(cut.start() - 1, 0)] if cut else text
    mention = matcher.agency(text.strip(), province)
    return mention if mention.resolved else None


def _agencies(text: str, matcher: Matcher, province: str | None) -> list[AgencyMention]:
    """The known bodies a recipient list names ("Bộ Công an, UBND tỉnh theo quy định")."""
    folded = " " + aligned_fold(text) + " "
    cut = _CUT.search(folded)
    text = text[: max(cut.start() - 1, 0)] if cut else text
    return [m for m in split_agencies(text, matcher, province) if m.resolved]


def _recipients(
    clause: str, text: str, matcher: Matcher, province: str | None
) -> tuple[list[AgencyMention], AgencyMention | None]:
    """(bodies reported to, body reported through) in one clause (folded and raw, aligned)."""
    via_match = _VIA.search(clause)
    via = (
        _agency(text[via_match.start(1) : via_match.end(1)], matcher, province)
        if via_match
        else None
    )
    recipients: list[AgencyMention] = []
    named: list[str] = []
    for to in _TO.finditer(clause):
        named.append(text[to.start(1) : to.end(1)])
        for mention in _agencies(named[-1], matcher, province):
            known = {r.reference_id for r in recipients} | {via and via.reference_id}
            if mention.reference_id not in known:
                recipients.append(mention)
    if not recipients and named:
        # a body the reference list does not know ("Bộ TN&MT"): kept unresolved, never dropped
        cut = _CUT.search(" " + aligned_fold(named[0]) + " ")
        raw_name = (named[0][: max(cut.start() - 1, 0)] if cut else named[0]).strip(" ,")
        if raw_name:
            recipients.append(matcher.agency(raw_name, province))
    return recipients, via


def body_range(raw: str, section_start: int | None) -> tuple[int, int]:
    """From the first structure of the document (a numbered heading, an article, "Kính gửi")
    to where the site's chrome starts: the body, whatever numbering the document uses."""
    folded = folded_text(raw)
    first = _STRUCTURE.search(folded)
    starts = [x for x in (section_start, first.start() if first else None) if x is not None]
    own = find_number(raw, len(raw))
    number = canonical_number(own.group("num"))[1] if own else None
    return (min(starts) if starts else 0), document_end(raw, folded, number)


def _recipient_lists(folded: str) -> list[tuple[int, int]]:
    """ "Nơi nhận:" lists ("- Bộ trưởng (để báo cáo);"): recipients of copies, not duties."""
    out = []
    for m in _RECIPIENTS.finditer(folded):
        end = m.end()
        for line in re.finditer(r"[^\n]*\n?", folded[m.end() :]):
            text = line.group(0).strip(" |*_\n")
            if text and not text.startswith(("-", "+", "\u2022")):
                break
            end = m.end() + line.end()
        out.append((m.start(), end))
    return out


def extract_reporting(
    layout: Layout, matcher: Matcher, province: str | None
) -> list[ReportingDuty]:
    """Every clause of the body that sets a report's frequency or deadline."""
    raw = layout.raw
    start, end = body_range(raw, layout.sections[0].line.start if layout.sections else None)
    body = raw[start:end]
    folded = folded_text(raw)[start:end].replace("*", " ")  # "trước **ngày 30 tháng 11**"
    skipped = _recipient_lists(folded)
    if layout.closing and layout.closing[0].start >= start:
        # after the signature only a plan attached to the decision holds duties, not report
        # forms or copies lists
        after = layout.closing[0].start - start
        attached = _ATTACHED.search(folded, after)
        skipped.append((after, attached.end() if attached else len(folded)))
    duties = []
    clauses = _clauses(body)
    for index, (a, b) in enumerate(clauses):
        if any(x <= a < y for x, y in skipped) or body.count("|", a, b) >= 2:
            continue  # copies sent "(để báo cáo)"; table rows (targets, task tables)
        clause = folded[a:b]
        if not _REPORT.search(clause):
            continue
        due, month_due = _due(clause)
        if due is None and month_due is None and index + 1 < len(clauses):
            nxt = folded[slice(*clauses[index + 1])]
            if _DEADLINE_LINE.match(nxt):  # "Thời gian: trước ngày 15/12/2025"
                due, month_due = _due(nxt)
        if not _STRONG.search(clause) and due is None and not _EXPLICIT.search(clause):
            continue
        m = _DUE.search(clause)
        recipients, via = _recipients(clause, body[a:b], matcher, province)
        frequency = _frequency(clause[: m.start()] + clause[m.end() :] if m else clause, due)
        if frequency is None and month_due is not None:
            frequency = "once"
        if frequency is None and due is None:
            if not recipients and not _REPORT_ON.search(clause):
                continue
            # "báo cáo về Công an tỉnh": a duty with no schedule, unless it is owed on events
            frequency = "ad hoc" if _ON_EVENT.search(clause) else "unspecified"
        duty = ReportingDuty(
            span=Span(body[a:b], start + a, start + b, raw.count("\n", 0, start + a) + 1),
            frequency=frequency,
            recipients=recipients,
            via=via,
        )
        if due:
            try:
                duty.due_date = date(due[2], due[1], due[0]) if due[2] else None
            except ValueError:
                duty.due_date = None
            duty.due_day_month = None if due[2] else (due[0], due[1])
        elif month_due is not None:
            duty.due_date = month_due
        duties.append(duty)
    return duties
