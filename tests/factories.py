"""Hand-made document models for tests of mapping, store, queries and views.

They mirror the seeds' lineage (28-CT/TW <- 211-KH/TU <- 234/KH-UBND in Kiên Giang,
28-CT/TW <- 273-KH/TU <- 2509/KH-UBND in Gia Lai) without depending on the extractor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from kgraph.ingest.model import (
    AddresseeKind,
    AgencyMention,
    Assignment,
    DocumentRef,
    Duty,
    PlanDocument,
    Reference,
    Relation,
    ReportingDuty,
    Span,
    StatedLineage,
    Task,
)


def span(text: str, start: int = 0) -> Span:
    return Span(text=text, start=start, end=start + len(text), line=1)


def agency(raw: str, canonical: str | None, ref: str | None, province: str | None,
           kind: AddresseeKind = AddresseeKind.AGENCY) -> AgencyMention:
    return AgencyMention(raw=raw, canonical=canonical, reference_id=ref, kind=kind,
                         province=province, score=100.0 if ref else 0.0)


def directive_28() -> DocumentRef:
    return DocumentRef(number="28-CT/TW", type="Chỉ thị", date=date(2023, 12, 25),
                       issuer=agency("Bộ Chính trị", "Bộ Chính trị", "bo-chinh-tri", None))


def uỷ_ban(province: str) -> AgencyMention:
    return agency(f"UBND tỉnh {province}", f"Ủy ban nhân dân tỉnh {province}",
                  "uy-ban-nhan-dan-tinh", province)


def provincial_plan(number: str, province: str, party_plan: str, party_date: date,
                    plan_date: date, *, text: str = "") -> PlanDocument:
    """A UBND plan carrying out a Tỉnh ủy plan that carries out 28-CT/TW."""
    party = DocumentRef(number=party_plan, type="Kế hoạch", date=party_date, province=province,
                        issuer=agency("Tỉnh ủy", "Tỉnh ủy", "tinh-uy", province))
    so_ldtbxh = agency("Sở Lao động - Thương binh và Xã hội",
                       "Sở Lao động - Thương binh và Xã hội", "so-lao-dong-thuong-binh-va-xa-hoi",
                       province)
    so_yte = agency("Sở Y tế", "Sở Y tế", "so-y-te", province)
    districts = agency("UBND các huyện, thị xã, thành phố",
                       "Ủy ban nhân dân các huyện, thị xã, thành phố", "ubnd-cac-huyen", province,
                       AddresseeKind.COLLECTIVE)
    return PlanDocument(
        source_name=f"{number.replace('/', '_')}.txt",
        source_sha256=(number.encode().hex() * 8)[:64],
        ident=DocumentRef(number=number, type="Kế hoạch", date=plan_date, province=province,
                          issuer=uỷ_ban(province), title=text or "Kế hoạch thực hiện"),
        references=[
            Reference(party, Relation.IMPLEMENTS, span(f"Kế hoạch số {party_plan}")),
            Reference(directive_28(), Relation.CITES, span("Chỉ thị số 28-CT/TW")),
        ],
        stated_lineage=[StatedLineage(party_plan, Relation.IMPLEMENTS, "28-CT/TW",
                                      span(f"{party_plan} ... 28-CT/TW"))],
        task_section="II",
        tasks=[Task("1", "Nâng cao nhận thức", span("1. Nâng cao nhận thức"),
                    title="Nâng cao nhận thức",
                    items=[Task("a", "Tuyên truyền Chỉ thị", span("a) Tuyên truyền"))])],
        assignment_section="IV",
        assignments=[
            Assignment("1", "Sở Lao động - Thương binh và Xã hội:", span("1. Sở Lao động"),
                       addressees=[so_ldtbxh], has_lead_clause=True,
                       duties=[Duty("1", f"Chủ trì, phối hợp với Sở Y tế triển khai {text}",
                                    span("- Chủ trì, phối hợp với Sở Y tế"),
                                    lead=[so_ldtbxh], coordinators=[so_yte])]),
            Assignment("2", "Sở Y tế:", span("2. Sở Y tế"), addressees=[so_yte],
                       duties=[Duty("1", "Thực hiện chăm sóc sức khỏe trẻ em",
                                    span("- Thực hiện"))]),
            Assignment("3", "Đề nghị Sở Hàng không:", span("3. Đề nghị Sở Hàng không"),
                       addressees=[agency("Sở Hàng không", None, None, None)], requested=True),
            Assignment("4", "UBND các huyện, thị xã, thành phố:", span("4. UBND các huyện"),
                       addressees=[districts], kind=AddresseeKind.COLLECTIVE),
        ],
        reporting=[ReportingDuty(span("trước ngày 15/12"), frequency="annual",
                                 due_day_month=(15, 12), recipients=[uỷ_ban(province)],
                                 via=so_ldtbxh)],
    )


def sample_documents() -> list[PlanDocument]:
    kien_giang = provincial_plan("234/KH-UBND", "Kiên Giang", "211-KH/TU", date(2024, 4, 25),
                                 date(2024, 7, 23))
    gia_lai = provincial_plan("2509/KH-UBND", "Gia Lai", "273-KH/TU", date(2024, 9, 20),
                              date(2024, 10, 28))
    lao_cai = provincial_plan("50/KH-UBND", "Lào Cai", "99-KH/TU", date(2024, 1, 2),
                              date(2024, 1, 26))
    # Lào Cai's plan names another issuer for 28-CT/TW: a conflict the graph must keep.
    lao_cai.references[1].target.issuer = agency(
        "Ban Chấp hành Trung ương Đảng", "Ban Chấp hành Trung ương Đảng",
        "ban-chap-hanh-trung-uong-dang", None)
    return [kien_giang, gia_lai, lao_cai]


def recorded_calls(monkeypatch: Any, owner: object, name: str,
                   keep: Callable[[Any], Any] = lambda found: found) -> list[Any]:
    """What each call of ``owner.name`` returns from now on (``keep`` of it), the function
    itself still doing its work: how a test sees which path a build took."""
    real = getattr(owner, name)
    seen: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        seen.append(keep(found))
        return found

    monkeypatch.setattr(owner, name, spy)
    return seen


ALIGNMENT_TEXTS = [
    "a) Tăng cường sự lãnh đạo của cấp ủy đảng đối với công tác chuyển đổi số",
    "Tang cudng su lanh dao cua cap uy dang",  # OCR-damaged copy
    "2. Đẩy mạnh cải cách hành chính,   nâng cao chất lượng phục vụ người dân",
    "- Kiện toàn bộ máy; ưu tiên nguồn lực cho hạ tầng số.",
    "x",
    "",
]
"""Item texts an alignment test vectorises: accented, OCR-damaged, numbered, tiny and empty."""
