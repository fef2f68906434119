"""The document model: what a plan says, before it becomes triples.

The extractor fills these objects from source text; the graph mapping turns them into RDF.
Every object that comes from a sentence keeps a :class:`Span` (the raw text as the source
gives it, OCR damage included, and where it stands), so the graph can always quote its source.
Canonical (correctly accented, NFC) values sit next to the raw span, never in place of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kgraph.ingest.readers.base import SourceText


class Relation(StrEnum):
    """How a plan relates to a document it mentions."""

    IMPLEMENTS = "implements"  # Thực hiện / Triển khai thực hiện ... (carries out)
    BASED_ON = "based_on"  # Căn cứ ...
    CITES = "cites"  # mentioned otherwise


class AddresseeKind(StrEnum):
    AGENCY = "agency"  # a named body: Sở Y tế, Công an tỉnh
    COLLECTIVE = "collective"  # a group: UBND các huyện; Các sở, ban, ngành liên quan
    GENERAL = "general"  # a heading that names no body


@dataclass(frozen=True)
class Span:
    """Raw source text and its place in the file (0-based character offsets, 1-based lines)."""

    text: str
    start: int
    end: int
    line: int


@dataclass
class AgencyMention:
    """A body named in the text, resolved (or not) against the reference list.

    ``canonical`` is the reference list's correctly accented name, or None when the mention
    could not be resolved; ``reference_id`` is the reference entry's key. Unresolved mentions
    are kept, never dropped and never guessed.
    """

    raw: str
    canonical: str | None = None
    reference_id: str | None = None
    kind: AddresseeKind = AddresseeKind.AGENCY
    province: str | None = None  # canonical province name when the body is provincial
    score: float = 0.0
    spelled: str | None = None  # an unresolved group's name respelled from generic words
    commune: str | None = None  # a commune's body: its commune with the unit word ("xã Ea Kly")


    @property
    def resolved(self) -> bool:
        return self.reference_id is not None


@dataclass
class DocumentRef:
    """Identity of a document as a text states it: number, type, date, issuer."""

    number: str | None  # canonical text, e.g. "234/KH-UBND", "28-CT/TW"; None if illegible
    number_as_written: str | None = None
    type: str | None = None  # canonical Vietnamese type name, e.g. "Kế hoạch"
    date: date | None = None
    issuer: AgencyMention | None = None
    province: str | None = None  # canonical province of a provincial issuer
    title: str | None = None


@dataclass
class Reference:
    """A plan's mention of another document, with the relation the plan states."""

    target: DocumentRef
    relation: Relation
    span: Span
    via: str | None = None  # for lineage the plan states through another document


@dataclass
class StatedLineage:
    """'Kế hoạch số 211-KH/TU ... về thực hiện Chỉ thị số 28-CT/TW': a link between two others."""

    subject: str  # number of the carrying-out document
    relation: Relation
    object: str  # number of the document carried out
    span: Span


@dataclass
class Division:
    """A node of the document's outline: a Phần, Điều, section, heading, point or indent.

    ``key`` is unique in the document and stable ("IV.1.a", "III.2.b3" for the third bullet);
    ``number`` is what the document prints ("IV", "1.1", "a", "-"); ``kind`` the numbering kind
    of :mod:`kgraph.ingest.numbering` ("roman", "decimal2", "dash", "article", "appendix", ...).
    """

    key: str
    kind: str
    number: str
    title: str
    text: str
    span: Span
    children: list[Division] = field(default_factory=list)

    def walk(self):
        for child in self.children:
            yield child
            yield from child.walk()


@dataclass
class Task:
    """A numbered item (group) or lettered/bulleted item of the tasks section."""

    no: str
    text: str  # normalised (NFC, whitespace folded) raw text
    span: Span
    title: str | None = None
    items: list[Task] = field(default_factory=list)
    division: str | None = None  # key of the outline node it is read from
    lead: list[AgencyMention] = field(default_factory=list)  # "Cơ quan chủ trì: ..."
    coordinators: list[AgencyMention] = field(default_factory=list)  # "Cơ quan phối hợp: ..."
    deadline: str | None = None  # "Thời gian thực hiện: ..." as written
    product: str | None = None  # "Sản phẩm: ..." as written


@dataclass
class Duty:
    """One item under an assignment heading, with the roles it gives."""

    no: str
    text: str
    span: Span
    lead: list[AgencyMention] = field(default_factory=list)
    coordinators: list[AgencyMention] = field(default_factory=list)
    division: str | None = None  # key of the outline node it is read from


@dataclass
class Assignment:
    """A heading of 'Tổ chức thực hiện': who is given what."""

    no: str
    heading: str  # raw heading text as written
    span: Span
    addressees: list[AgencyMention] = field(default_factory=list)
    requested: bool = False
    kind: AddresseeKind = AddresseeKind.AGENCY
    duties: list[Duty] = field(default_factory=list)
    has_lead_clause: bool = False
    section: str | None = None
    division: str | None = None  # key of the outline node it is read from


@dataclass
class ReportingDuty:
    """Who reports to whom, through whom, how often and by when."""

    span: Span
    frequency: str | None = None  # once | monthly | quarterly | semiannual | annual | ...
    due_day_month: tuple[int, int] | None = None  # (day, month)
    due_date: date | None = None
    recipients: list[AgencyMention] = field(default_factory=list)
    via: AgencyMention | None = None
    reporter: AgencyMention | None = None


@dataclass
class Target:
    """A numeric target ('98,5% trẻ em ...')."""

    text: str
    span: Span
    value: float | None = None
    unit: str | None = None


@dataclass
class Signature:
    name: str | None = None
    title: str | None = None


@dataclass
class PlanDocument:
    """Everything extracted from one source file."""

    source_name: str  # file name, kept as given
    source_sha256: str
    ident: DocumentRef
    place: str | None = None
    signature: Signature = field(default_factory=Signature)
    references: list[Reference] = field(default_factory=list)
    stated_lineage: list[StatedLineage] = field(default_factory=list)
    task_section: str | None = None
    tasks: list[Task] = field(default_factory=list)
    table_tasks: list[Task] = field(default_factory=list)  # rows of task tables (appendices)
    assignment_section: str | None = None
    assignments: list[Assignment] = field(default_factory=list)
    reporting: list[ReportingDuty] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    ocr_damaged: bool = False
    partial: bool = False  # the text stops before the end of the document (an excerpt)
    outline: list[Division] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The file as read (format, pages of the original, OCR confidence); None for bare text.
    source: SourceText | None = None
