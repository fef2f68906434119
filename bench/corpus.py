"""A seeded synthetic corpus of plan texts, shaped like the seed plans, for benchmarks and tests.

Real plans are few and cannot be shared in bulk; the benchmarks need thousands of them with a
known lineage. Every text follows the layout of ``data/sources/004_*.txt`` (issuer line,
"Số: ...", place and date, type line, trích yếu, "Căn cứ"/"Thực hiện" preamble, Roman sections
I-V with numbered task groups and lettered items, numbered agency headings with "- Chủ trì,
phối hợp với ..." duties, a yearly report date, "Nơi nhận" and a signature block), with agency
sets, task counts and wording varied by the seed.

Lineage (what each plan carries out), for every directive and each of the 34 provinces that
exist after 2025::

    directive (28-CT/TW, 35-CT/TW, 12-NQ/TW, 21-CT/TW, 09-NQ/TW; not in the corpus)
      <- national plan  NNNN/QĐ-TTg  (Thủ tướng Chính phủ)                  depth 1
      <- party plan     NNN-KH/TU    (Tỉnh ủy / Thành ủy)                    depth 1
         <- UBND plan   NNNN/KH-UBND (Ủy ban nhân dân tỉnh, "Căn cứ" the QĐ-TTg) depth 2
            <- department plans NN/KH-SYT, NN/KH-SGDĐT, ... (a Sở)          depth 3
            <- commune plans NNNNN/KH-UBND (Ủy ban nhân dân xã / phường)     depth 3

A corpus of ``n`` plans is a prefix of one fixed order: the national plans, then one full
chain (party, UBND, one department plan) per (directive, province) unit, directives
interleaved, then, round-robin over the units, one department plan and one commune plan per
unit at a time (each province's communes as data/reference/tables/communes_2025.csv lists
them, 3,321 in all, about 98 a province, as after the 2025 reorganisation, so their bodies
resolve as real ones do; ``--made-up-communes`` gives the made-up names of earlier corpora;
commune plans are dated after 1 July 2025). So any prefix holds every plan's
parents, even 40 plans reach depth 3 for 28-CT/TW, and ``--plans 20000`` is mostly commune
plans, as a national deployment would be.

Document numbers are drawn without repetition per (kind of number, year) over the whole corpus
(``unique_numbers=True``, the default), so two provinces never share "273-KH/TU" of one year.
Real provinces do share numbers; ``unique_numbers=False`` draws them per province to test that.

Real stores hold many plans that carry out no Party directive. ``other_share`` (default 0: the
corpus above, byte for byte) makes that share of the (directive, province) units, drawn by their
own random stream, carry out something else: the UBND plan carries out a Thủ tướng decision
(``NNNN/QĐ-TTg``, one per directive's topic, not in the corpus), a Government resolution
(``NN/NQ-CP``, likewise) or nothing (its departments' and communes' plans carry it out; its
Party plan still carries out the directive)::

    decision / resolution (not in the corpus), or none
      <- UBND plan      NNNN/KH-UBND                                        depth 1 (0: none)
         <- department and commune plans                                    depth 2 (1: none)

Stable API (other benchmarks import it after ``sys.path.insert(0, "bench")``)::

    from corpus import generate_corpus, write_corpus, generate_plans, PlanSpec, DIRECTIVES
    generate_corpus(n_plans: int, seed: int = 0) -> list[tuple[str, str]]   # (file name, text)
    write_corpus(folder: Path, n_plans: int, seed: int = 0) -> list[Path]
    generate_plans(n_plans, seed=0, *, unique_numbers=True, preamble_gap=None,
                   other_share=0.0)
        -> list[PlanSpec]  # the same plans with their metadata (kind, depth, parent, ...)

CLI: ``python bench/corpus.py OUT_DIR --plans N [--seed S] [--other-share F]``.
"""

from __future__ import annotations

import argparse
import csv
import functools
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

__all__ = [
    "DIRECTIVES",
    "PROVINCES",
    "Directive",
    "PlanSpec",
    "generate_corpus",
    "generate_plans",
    "write_corpus",
]

# The 34 provinces and municipalities after Nghị quyết 202/2025/QH15 (data/reference).
PROVINCES: list[str] = [
    "An Giang", "Bắc Ninh", "Cà Mau", "Cần Thơ", "Cao Bằng", "Đà Nẵng", "Đắk Lắk", "Điện Biên",
    "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Nội", "Hà Tĩnh", "Hải Phòng",
    "Thành phố Hồ Chí Minh", "Huế", "Hưng Yên", "Khánh Hòa", "Lai Châu", "Lâm Đồng", "Lạng Sơn",
    "Lào Cai", "Nghệ An", "Ninh Bình", "Phú Thọ", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị",
    "Sơn La", "Tây Ninh", "Thái Nguyên", "Thanh Hóa", "Tuyên Quang", "Vĩnh Long",
]
MUNICIPALITIES = {"Cần Thơ", "Đà Nẵng", "Hà Nội", "Hải Phòng", "Thành phố Hồ Chí Minh", "Huế"}


@dataclass(frozen=True)
class Department:
    name: str  # as in data/reference/agencies.ttl
    code: str  # body code in the plan number ("KH-SYT")
    ministry: str  # the ministry it reports to


DEPARTMENTS: list[Department] = [
    Department("Sở Lao động - Thương binh và Xã hội", "SLĐTBXH",
               "Bộ Lao động - Thương binh và Xã hội"),
    Department("Sở Giáo dục và Đào tạo", "SGDĐT", "Bộ Giáo dục và Đào tạo"),
    Department("Sở Y tế", "SYT", "Bộ Y tế"),
    Department("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", "Bộ Văn hóa, Thể thao và Du lịch"),
    Department("Sở Thông tin và Truyền thông", "STTTT", "Bộ Thông tin và Truyền thông"),
    Department("Sở Tư pháp", "STP", "Bộ Tư pháp"),
    Department("Sở Nội vụ", "SNV", "Bộ Nội vụ"),
    Department("Sở Tài chính", "STC", "Bộ Tài chính"),
    Department("Sở Kế hoạch và Đầu tư", "SKHĐT", "Bộ Kế hoạch và Đầu tư"),
    Department("Sở Khoa học và Công nghệ", "SKHCN", "Bộ Khoa học và Công nghệ"),
    Department("Sở Xây dựng", "SXD", "Bộ Xây dựng"),
    Department("Sở Công Thương", "SCT", "Bộ Công Thương"),
    Department("Sở Nông nghiệp và Môi trường", "SNNMT", "Bộ Nông nghiệp và Môi trường"),
    Department("Sở Dân tộc và Tôn giáo", "SDTTG", "Bộ Dân tộc và Tôn giáo"),
]
_DEPT = {d.name: d for d in DEPARTMENTS}
OTHER_PROVINCIAL = ["Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh", "Ban Dân tộc tỉnh",
                    "Bảo hiểm xã hội tỉnh", "Văn phòng Ủy ban nhân dân tỉnh", "Thanh tra tỉnh"]
REQUESTED = ["Hội Liên hiệp Phụ nữ tỉnh", "Tỉnh Đoàn", "Hội Nông dân tỉnh",
             "Liên đoàn Lao động tỉnh", "Hội Cựu chiến binh tỉnh"]


@dataclass(frozen=True)
class Directive:
    """A central document every province carries out, with the national plan for it."""

    number: str
    type: str  # "Chỉ thị" | "Nghị quyết"
    issuer: str
    date: date
    subject: str  # "về ..." phrase of the trích yếu
    topic: str  # noun phrase the task and duty templates talk about
    lead: str  # name of the leading Sở
    national_number: str
    national_date: date
    focus: list[str] = field(default_factory=list)  # theme-specific task titles


DIRECTIVES: list[Directive] = [
    Directive(
        "28-CT/TW", "Chỉ thị", "Bộ Chính trị", date(2023, 12, 25),
        "tăng cường công tác chăm sóc, giáo dục và bảo vệ trẻ em đáp ứng yêu cầu phát triển "
        "đất nước phồn vinh, hạnh phúc",
        "công tác chăm sóc, giáo dục và bảo vệ trẻ em", "Sở Lao động - Thương binh và Xã hội",
        "1183/QĐ-TTg", date(2024, 10, 14),
        ["Phát triển hệ thống dịch vụ bảo vệ trẻ em, phòng, chống xâm hại trẻ em",
         "Nâng cao hiệu quả thực hiện các chính sách đối với trẻ em, tăng cường trách nhiệm "
         "của gia đình, nhà trường và xã hội"],
    ),
    Directive(
        "35-CT/TW", "Chỉ thị", "Bộ Chính trị", date(2024, 6, 14),
        "đẩy mạnh chuyển đổi số trong hoạt động của các cơ quan trong hệ thống chính trị",
        "công tác chuyển đổi số", "Sở Thông tin và Truyền thông",
        "1520/QĐ-TTg", date(2024, 9, 6),
        ["Phát triển hạ tầng số, nền tảng số và dữ liệu số dùng chung",
         "Bảo đảm an toàn, an ninh mạng trong các cơ quan nhà nước"],
    ),
    Directive(
        "12-NQ/TW", "Nghị quyết", "Ban Chấp hành Trung ương Đảng", date(2021, 3, 16),
        "tiếp tục đổi mới, nâng cao chất lượng giáo dục phổ thông giai đoạn 2021 - 2030",
        "công tác giáo dục phổ thông", "Sở Giáo dục và Đào tạo",
        "905/QĐ-TTg", date(2021, 6, 22),
        ["Đổi mới chương trình, sách giáo khoa và phương pháp dạy học",
         "Phát triển đội ngũ nhà giáo và cán bộ quản lý giáo dục"],
    ),
    Directive(
        "21-CT/TW", "Chỉ thị", "Ban Bí thư", date(2022, 5, 20),
        "tăng cường củng cố và phát triển mạng lưới y tế cơ sở trong tình hình mới",
        "công tác y tế cơ sở", "Sở Y tế",
        "1350/QĐ-TTg", date(2022, 8, 30),
        ["Củng cố mạng lưới trạm y tế xã, phường và chăm sóc sức khỏe ban đầu",
         "Nâng cao năng lực phòng, chống dịch bệnh tại cơ sở"],
    ),
    Directive(
        "09-NQ/TW", "Nghị quyết", "Bộ Chính trị", date(2025, 1, 10),
        "chủ động ứng phó với biến đổi khí hậu, tăng cường quản lý tài nguyên và bảo vệ môi "
        "trường",
        "công tác bảo vệ môi trường và ứng phó với biến đổi khí hậu",
        "Sở Nông nghiệp và Môi trường",
        "312/QĐ-TTg", date(2025, 3, 4),
        ["Kiểm soát ô nhiễm, xử lý chất thải và cải thiện chất lượng môi trường",
         "Chủ động phòng, chống thiên tai, thích ứng với biến đổi khí hậu"],
    ),
]

_GROUPS = [
    "Nâng cao nhận thức, ý thức trách nhiệm và hành động về {topic}",
    "Tăng cường sự lãnh đạo, chỉ đạo của các cấp ủy đảng, chính quyền đối với {topic}",
    "Rà soát, hoàn thiện cơ chế, chính sách; bảo đảm nguồn lực cho {topic}",
    "Nâng cao hiệu lực, hiệu quả quản lý nhà nước về {topic}",
    "Đẩy mạnh ứng dụng công nghệ thông tin, chuyển đổi số trong {topic}",
    "Tăng cường công tác thanh tra, kiểm tra, giám sát, sơ kết, tổng kết",
    "Đẩy mạnh xã hội hóa, mở rộng hợp tác và huy động nguồn lực cho {topic}",
]
_ITEMS = [
    "Tổ chức nghiên cứu, quán triệt, tuyên truyền, phổ biến nội dung {directive} và các văn "
    "bản hướng dẫn có liên quan, bảo đảm thiết thực, hiệu quả, hình thức đa dạng, phong phú.",
    "Đẩy mạnh công tác thông tin, tuyên truyền về các chủ trương, chính sách của Trung ương, "
    "của tỉnh về {topic}; biểu dương, nhân rộng các mô hình, sáng kiến hay.",
    "Phát huy vai trò của các cơ quan thông tấn, báo chí, hệ thống thông tin cơ sở trong "
    "tuyên truyền chủ trương, chính sách, pháp luật về {topic}.",
    "Tăng cường vai trò của Mặt trận Tổ quốc, các tổ chức chính trị - xã hội trong công tác "
    "vận động, tuyên truyền, giám sát việc thực hiện {topic}.",
    "Các sở, ban, ngành, địa phương triển khai thực hiện thường xuyên, thiết thực, hiệu quả "
    "các quy định, nhiệm vụ về {topic}.",
    "Lồng ghép các mục tiêu, chỉ tiêu, nhiệm vụ, giải pháp về {topic} trong kế hoạch phát "
    "triển kinh tế - xã hội hằng năm của cơ quan, đơn vị, địa phương.",
    "Nêu cao tinh thần trách nhiệm, gương mẫu của người đứng đầu; tăng cường phối hợp chặt "
    "chẽ giữa các cơ quan, tổ chức trong hệ thống chính trị.",
    "Rà soát, kiến nghị cấp có thẩm quyền sửa đổi, bổ sung, hoàn thiện hệ thống chính sách, "
    "pháp luật về {topic}.",
    "Bố trí ngân sách nhà nước, phân bổ nguồn lực hợp lý; ưu tiên địa bàn kinh tế - xã hội "
    "khó khăn, đặc biệt khó khăn, vùng đồng bào dân tộc thiểu số.",
    "Kiện toàn tổ chức, bộ máy, nâng cao năng lực, đạo đức, trách nhiệm của đội ngũ cán bộ "
    "làm {topic} các cấp theo hướng tinh gọn, hiệu lực, hiệu quả.",
    "Cập nhật, chuẩn hóa, làm sạch dữ liệu chuyên ngành; vận hành cơ sở dữ liệu liên thông "
    "với cơ sở dữ liệu quốc gia về dân cư.",
    "Tăng cường thanh tra, kiểm tra, giám sát; chủ động phòng ngừa, phát hiện, xử lý nghiêm, "
    "kịp thời các hành vi vi phạm pháp luật trong {topic}.",
    "Khuyến khích, huy động tổ chức, doanh nghiệp, cá nhân tham gia, phối hợp thực hiện các "
    "chính sách, mô hình về {topic}.",
    "Tổ chức sơ kết, tổng kết, đánh giá kết quả thực hiện; kịp thời khen thưởng các tập thể, "
    "cá nhân có thành tích tiêu biểu.",
    "Mở rộng hợp tác, trao đổi kinh nghiệm với các địa phương trong nước và quốc tế về "
    "{topic}.",
]
_DUTIES = [
    "Tham mưu Ủy ban nhân dân tỉnh triển khai các nhiệm vụ, giải pháp về {topic} thuộc lĩnh "
    "vực ngành quản lý.",
    "Lồng ghép thực hiện các hoạt động của Kế hoạch với các chương trình, đề án, dự án do "
    "ngành chủ trì.",
    "Hướng dẫn, kiểm tra, đôn đốc việc thực hiện các nhiệm vụ của Kế hoạch thuộc phạm vi "
    "quản lý; định kỳ tổng hợp, báo cáo kết quả.",
    "Tăng cường công tác tuyên truyền, phổ biến chính sách, pháp luật về {topic} đến cán bộ, "
    "công chức, viên chức và Nhân dân.",
    "Rà soát, đề xuất sửa đổi, bổ sung các quy định, cơ chế, chính sách có liên quan đến "
    "{topic}.",
    "Bố trí nhân lực, kinh phí, phương tiện bảo đảm thực hiện có hiệu quả các nhiệm vụ được "
    "giao.",
]
_ACTIONS = [
    "tổ chức triển khai thực hiện các nội dung, nhiệm vụ và giải pháp của Kế hoạch",
    "hướng dẫn, kiểm tra, đôn đốc, giám sát, đánh giá việc triển khai thực hiện Kế hoạch này",
    "xây dựng các chương trình, đề án liên quan đến {topic} do ngành quản lý",
    "tổ chức sơ kết, tổng kết việc thực hiện Kế hoạch; đề xuất khen thưởng các tập thể, cá "
    "nhân điển hình",
]
_SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
             "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
_MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thanh", "Quốc", "Hữu", "Ngọc", "Xuân", "Thị Thanh"]
_GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hùng", "Lan", "Long", "Mai",
          "Nam", "Phong", "Quang", "Sơn", "Tâm", "Thắng", "Trung", "Tuấn", "Vinh", "Lịch"]
_LETTERS = ["a", "b", "c", "d", "đ", "e", "g", "h"]


@dataclass
class PlanSpec:
    """One generated plan with the metadata tests and benchmarks check the graph against."""

    index: int
    kind: str  # "national" | "party" | "ubnd" | "department" | "commune"
    number: str
    date: date
    province: str | None  # None for the national plan
    directive: str  # number of the directive the chain carries out
    parent: str  # number of the document it carries out directly
    depth: int  # links from this plan to the directive
    issuer: str
    text: str = ""
    other: str = ""  # "decision" | "resolution" | "none": the unit carries out no directive

    @property
    def file_name(self) -> str:
        scope = _ascii_slug(self.province or "vn")
        return f"{self.index:05d}_{scope}_{_ascii_slug(self.number)}_{self.date.year}.txt"


def _ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def _vn_date(day: date) -> str:
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def _vn_date_loose(day: date, rng: random.Random) -> str:
    """A date after a cited number, in one of the ways the seeds write it."""
    return rng.choice([
        f" ngày {day.day} tháng {day.month} năm {day.year}",
        f", ngày {day.day} tháng {day.month} năm {day.year}",
        f" ngày {day.day}/{day.month}/{day.year}",
    ])


def _unit_name(province: str) -> str:
    """"tỉnh Gia Lai", "thành phố Hà Nội", "Thành phố Hồ Chí Minh"."""
    if province.startswith("Thành phố"):
        return province
    return f"thành phố {province}" if province in MUNICIPALITIES else f"tỉnh {province}"


COMMUNES_PER_PROVINCE = 98  # 3,321 communes and wards over 34 provinces
_COMMUNE_SYLLABLES = [
    "An", "Bình", "Hòa", "Phú", "Tân", "Thạnh", "Long", "Hưng", "Phước", "Thuận", "Quang",
    "Đông", "Tây", "Nam", "Bắc", "Trung", "Hà", "Sơn", "Lâm", "Xuân", "Thịnh", "Vĩnh",
    "Hiệp", "Minh", "Đức", "Thành", "Lộc", "Mỹ", "Kim", "Ia", "Krông", "Ea",
]


COMMUNES_TABLES = Path(__file__).resolve().parents[1] / "data" / "reference" / "tables"


@functools.cache
def listed_communes() -> dict[str, list[str]]:
    """Each province's communes as the generated list names them ("xã Ea Kly", "phường Hạc
    Thành", "đặc khu Lý Sơn"; data/reference/tables/communes_2025.csv), in the list's order."""
    with open(COMMUNES_TABLES / "provinces_2025.csv", encoding="utf-8", newline="") as handle:
        names = {row["code_2025"]: row["name"] for row in csv.DictReader(handle)}
    communes: dict[str, list[str]] = {}
    with open(COMMUNES_TABLES / "communes_2025.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            communes.setdefault(names[row["province_code_2025"]], []).append(
                f"{row['division']} {row['name']}")
    return communes


def commune_names(province: str, listed: bool = True) -> list[str]:
    """The communes of a province the plans are issued by, in a seeded order: the listed ones
    (about 98 a province), so a corpus exercises the matching of communes' bodies; with
    ``listed=False``, made-up names ("xã Phú Lộc", "phường An Hòa"), as corpora before session
    36 had, whose bodies stay unresolved."""
    if listed:
        names = list(listed_communes()[province])
        random.Random(f"communes:{province}").shuffle(names)
        return names
    rng = random.Random(f"communes:{province}")
    kind = "phường" if province in MUNICIPALITIES else "xã"
    names: list[str] = []
    while len(names) < COMMUNES_PER_PROVINCE:
        name = f"{kind} {rng.choice(_COMMUNE_SYLLABLES)} {rng.choice(_COMMUNE_SYLLABLES)}"
        if name not in names and len(set(name.split()[1:])) == 2:
            names.append(name)
    return names


def _party_body(province: str) -> str:
    return "Thành ủy" if province in MUNICIPALITIES else "Tỉnh ủy"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


class _Numbers:
    """Document numbers drawn without repetition per (pool, year)."""

    def __init__(self, rng: random.Random, unique: bool) -> None:
        self.rng = rng
        self.unique = unique
        self.used: dict[tuple[str, str, int], set[int]] = {}

    def draw(self, pool: str, province: str | None, year: int, low: int, high: int) -> int:
        key = (pool, "" if self.unique or province is None else province, year)
        used = self.used.setdefault(key, set())
        while True:
            value = self.rng.randint(low, high)
            if value not in used:
                used.add(value)
                return value


# ------------------------------------------------------------------------------ text parts


def _tasks(rng: random.Random, d: Directive, directive_ref: str) -> list[str]:
    groups = rng.sample(_GROUPS, rng.randint(3, 5)) + rng.sample(d.focus, rng.randint(0, 2))
    lines = []
    for no, group in enumerate(groups, start=1):
        lines.append(f"{no}. {group.format(topic=d.topic)}")
        for letter, item in zip(_LETTERS, rng.sample(_ITEMS, rng.randint(2, 5)), strict=False):
            lines.append(f"{letter}) {item.format(topic=d.topic, directive=directive_ref)}")
    return lines


def _duties(rng: random.Random, d: Directive, lead: bool, coordinators: list[str]) -> list[str]:
    """Bullet duties of one heading; a lead heading opens with "- Chủ trì, phối hợp với"."""
    out = []
    if lead:
        coords = ", ".join(coordinators)
        for action in rng.sample(_ACTIONS, rng.randint(1, 2)):
            out.append(f"- Chủ trì, phối hợp với {coords} {action.format(topic=d.topic)}.")
    for duty in rng.sample(_DUTIES, rng.randint(0 if lead else 1, 3)):
        out.append(f"- {duty.format(topic=d.topic)}")
    if len(out) == 1 and not lead and rng.random() < 0.5:
        return [out[0][2:]]  # a heading with running text and no bullets, as in seed 004
    return out


def _assignments(rng: random.Random, d: Directive, spec: PlanSpec) -> list[str]:
    """Section IV headings and duties, per level of the issuing body."""
    lines: list[str] = []
    no = 0

    def heading(name: str, duties: list[str], request: bool = False) -> None:
        nonlocal no
        no += 1
        lines.append(f"{no}. {'Đề nghị ' if request else ''}{name}:")
        lines.extend(duties)

    if spec.kind == "national":
        ministry = _DEPT[d.lead].ministry
        others = [x.ministry for x in DEPARTMENTS if x.ministry != ministry]
        heading(ministry, _duties(rng, d, True, ["các bộ, ngành, địa phương"]))
        for name in rng.sample(others, rng.randint(4, 8)):
            heading(name, _duties(rng, d, rng.random() < 0.3, ["Bộ Tài chính"]))
        heading("Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam và các tổ chức chính trị - xã hội",
                _duties(rng, d, False, []), request=True)
        heading("Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương",
                _duties(rng, d, False, []))
        return lines
    if spec.kind == "party":
        heading("Ban cán sự đảng Ủy ban nhân dân tỉnh", _duties(rng, d, True, ["các cơ quan"]))
        for name in rng.sample(["Ban Tuyên giáo Tỉnh ủy", "Ủy ban Kiểm tra Tỉnh ủy",
                                "Văn phòng Tỉnh ủy", "Ban Thường vụ Tỉnh ủy"], rng.randint(2, 3)):
            heading(name, _duties(rng, d, False, []))
        heading("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh và các tổ chức chính trị - xã hội tỉnh",
                _duties(rng, d, False, []))
        heading("Các huyện ủy, thị ủy, thành ủy, đảng ủy trực thuộc Tỉnh ủy",
                _duties(rng, d, False, []))
        return lines
    if spec.kind == "commune":
        units = ["Công chức Văn hóa - Xã hội", "Trạm Y tế", "Công an", "Văn phòng HĐND và UBND",
                 "Các trường học trên địa bàn"]
        unit = spec.issuer.removeprefix("Ủy ban nhân dân ")
        first, *rest = rng.sample(units, rng.randint(3, 5))
        heading(f"{first} {unit}", _duties(rng, d, True, ["các ban, ngành, đoàn thể"]))
        for name in rest:
            heading(f"{name} {unit}", _duties(rng, d, False, []))
        heading(f"Ủy ban Mặt trận Tổ quốc Việt Nam {unit}", _duties(rng, d, False, []),
                request=True)
        return lines
    if spec.kind == "department":
        units = ["Văn phòng Sở", "Thanh tra Sở", "Phòng Kế hoạch - Tài chính",
                 "Phòng Quản lý chuyên ngành", "Các đơn vị trực thuộc Sở"]
        first, *rest = rng.sample(units, rng.randint(3, 5))
        heading(first, _duties(rng, d, True, ["các phòng, đơn vị thuộc Sở"]))
        for name in rest:
            heading(name, _duties(rng, d, False, []))
        if rng.random() < 0.6:
            heading("Ủy ban nhân dân các xã, phường", _duties(rng, d, False, []), request=True)
        return lines
    # UBND plan, as seed 004: lead Sở, other Sở and provincial bodies, requests, collectives.
    others = [x.name for x in DEPARTMENTS if x.name != d.lead]
    heading(d.lead, _duties(rng, d, True, [
        "các sở, ban, ngành, hội, đoàn thể, đơn vị có liên quan của tỉnh",
        "Ủy ban nhân dân các huyện, thị xã, thành phố",
    ]))
    for name in rng.sample(others, rng.randint(4, 9)) + rng.sample(OTHER_PROVINCIAL,
                                                                    rng.randint(1, 3)):
        coordinators = [d.lead] if rng.random() < 0.5 else ["các sở, ngành có liên quan"]
        heading(name, _duties(rng, d, rng.random() < 0.35, coordinators))
    for name in rng.sample(REQUESTED, rng.randint(1, 3)):
        heading(name, _duties(rng, d, False, []), request=True)
    if rng.random() < 0.7:
        heading("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh và các đoàn thể, tổ chức chính trị - "
                "xã hội có liên quan", _duties(rng, d, False, []), request=True)
    heading("Các sở, ban, ngành liên quan", _duties(rng, d, False, []))
    districts = ("Ủy ban nhân dân các xã, phường" if spec.date >= date(2025, 7, 1)
                 else "Ủy ban nhân dân các huyện, thị xã, thành phố")
    heading(districts, _duties(rng, d, False, []))
    return lines


def _reporting(rng: random.Random, spec: PlanSpec, d: Directive) -> list[str]:
    day, month = rng.choice([(15, 12), (10, 12), (30, 11), (20, 11), (5, 12), (25, 11)])
    if spec.kind == "national":
        to, via = "Thủ tướng Chính phủ", _DEPT[d.lead].ministry
        who = "Các bộ, ngành, địa phương"
    elif spec.kind == "party":
        to, via, who = "Ban Thường vụ Tỉnh ủy", "Ban Tuyên giáo Tỉnh ủy", "Các cơ quan, đơn vị"
    elif spec.kind == "department":
        to, via, who = spec.issuer, "Văn phòng Sở", "Các phòng, đơn vị thuộc Sở"
    else:
        to, via = "Ủy ban nhân dân tỉnh", d.lead
        who = "Các sở, ban, ngành, hội, đoàn thể, địa phương"
    return [
        f"{who} triển khai thực hiện đạt hiệu quả các nội dung, nhiệm vụ, giải pháp của Kế "
        f"hoạch. Định kỳ hằng năm, báo cáo kết quả thực hiện về {to} (thông qua {via}) trước "
        f"ngày {day}/{month}, để tổng hợp báo cáo cấp có thẩm quyền theo quy định.",
        f"Trong quá trình tổ chức triển khai thực hiện, nếu có vấn đề phát sinh hoặc vướng mắc, "
        f"kịp thời phản ánh về {via} để xử lý theo thẩm quyền./.",
    ]


# ------------------------------------------------------------------------------ one plan


OTHER_KINDS = {"decision": 0.45, "resolution": 0.35, "none": 0.2}  # of the units carrying
# out no directive (other_share)


def other_document(d: Directive, kind: str) -> tuple[str, date]:
    """The decision or resolution (not in the corpus) carried out instead of ``d``: one per
    directive's topic, so every province's unit of that topic carries out the same one."""
    index = DIRECTIVES.index(d)
    if kind == "decision":
        return f"{1700 + 41 * index}/QĐ-TTg", d.date + timedelta(days=15)  # before the
    return f"{90 + 13 * index}/NQ-CP", d.date + timedelta(days=25)  # UBND plans (30 days on)


def _other_ref(spec: PlanSpec, d: Directive, rng: random.Random) -> str:
    """How a plan of a unit carrying out no directive names what its UBND plan carries out."""
    if spec.other == "none":
        return d.topic
    number, day = other_document(d, spec.other)
    if spec.other == "decision":
        return (f"Quyết định số {number}{_vn_date_loose(day, rng)} của Thủ tướng Chính phủ "
                f"phê duyệt Chương trình về {d.topic}")
    return f"Nghị quyết số {number}{_vn_date_loose(day, rng)} của Chính phủ về {d.topic}"


def _render(spec: PlanSpec, d: Directive, parents: dict[str, PlanSpec], rng: random.Random,
            gap: bool | None = None) -> str:
    """The full text of one plan (lineage references stated as the seeds state them)."""
    dref = f"{d.type} số {d.number}"
    dfull = f"{dref}{_vn_date_loose(d.date, rng)} của {d.issuer} về {d.subject}"
    province = spec.province or ""
    if spec.kind == "national":
        header = ["THỦ TƯỚNG CHÍNH PHỦ", f"Số: {spec.number}",
                  f"Hà Nội, {_vn_date(spec.date)}", "QUYẾT ĐỊNH"]
        title = f"Ban hành Kế hoạch triển khai thực hiện {dfull}"
        preamble = [
            "Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015;",
            f"Thực hiện {dfull};",
            f"Theo đề nghị của Bộ trưởng {_DEPT[d.lead].ministry[3:]}, Thủ tướng Chính phủ ban "
            "hành Kế hoạch triển khai thực hiện như sau:",
        ]
        closing = ["Nơi nhận:", "- Ban Bí thư Trung ương Đảng;", "- Các bộ, cơ quan ngang bộ;",
                   "- HĐND, UBND các tỉnh, thành phố trực thuộc trung ương;", "- Lưu: VT, KGVX.",
                   "KT. THỦ TƯỚNG", "PHÓ THỦ TƯỚNG", _person(rng)]
    elif spec.kind == "party":
        body = _party_body(province)
        header = [f"{body.upper()} {province.upper()}", f"Số: {spec.number}",
                  f"{province}, {_vn_date(spec.date)}", "KẾ HOẠCH"]
        title = f"Thực hiện {dfull}"
        preamble = [
            f"Thực hiện {dfull}, Ban Thường vụ {body} ban hành Kế hoạch thực hiện như sau:"
        ]
        closing = ["Nơi nhận:", "- Ban Bí thư Trung ương Đảng;", "- Các đồng chí Tỉnh ủy viên;",
                   "- Các huyện ủy, thị ủy, thành ủy, đảng ủy trực thuộc;", "- Lưu Văn phòng.",
                   "T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ THƯỜNG TRỰC", _person(rng)]
    else:
        pbody = _party_body(province)
        national = parents.get(d.national_number)
        if spec.other:  # the unit carries out a decision, a resolution or nothing
            oref = _other_ref(spec, d, rng)
            pref = oref if spec.other != "none" else f"Kế hoạch về {oref}"
            national = None
        else:
            party = parents[spec.parent] if spec.kind == "ubnd" else parents[
                parents[spec.parent].parent]
            pref = (f"Kế hoạch số {party.number}{_vn_date_loose(party.date, rng)} của {pbody} "
                    f"{province} về thực hiện {dfull}")
        if spec.kind == "ubnd" and spec.other:
            unit = _unit_name(province)
            header = [f"ỦY BAN NHÂN DÂN {unit.upper()}", f"Số: {spec.number}",
                      f"{province}, {_vn_date(spec.date)}", "KẾ HOẠCH"]
            if spec.other == "none":
                title = f"Triển khai {oref} năm {spec.date.year}"
                preamble = [f"Nhằm nâng cao hiệu quả {oref}, Ủy ban nhân dân {unit} ban hành "
                            "Kế hoạch, cụ thể như sau:"]
            else:
                title = f"Triển khai thực hiện {oref}"
                preamble = [f"Thực hiện {oref}; Ủy ban nhân dân {unit} ban hành Kế hoạch triển "
                            "khai thực hiện, cụ thể như sau:"]
            closing = ["Nơi nhận:", "- Văn phòng Chính phủ;", "- Chủ tịch, các PCT UBND;",
                       "- Các sở, ban, ngành của tỉnh;", "- Lưu: VT, KGVX.",
                       "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", _person(rng)]
        elif spec.kind == "ubnd":
            unit = _unit_name(province)
            header = [f"ỦY BAN NHÂN DÂN {unit.upper()}", f"Số: {spec.number}",
                      f"{province}, {_vn_date(spec.date)}", "KẾ HOẠCH"]
            title = rng.choice(["Thực hiện", "Triển khai thực hiện"]) + f" {pref}"
            basis = []
            if national is not None and national.date <= spec.date:
                basis.append(
                    f"Căn cứ Quyết định số {national.number}{_vn_date_loose(national.date, rng)}"
                    f" của Thủ tướng Chính phủ ban hành Kế hoạch triển khai thực hiện {dref};"
                )
            preamble = [*basis,
                        f"Thực hiện {pref}; Ủy ban nhân dân {unit} ban hành Kế hoạch triển "
                        "khai thực hiện, cụ thể như sau:"]
            closing = ["Nơi nhận:", f"- Thường trực {pbody};", "- Chủ tịch, các PCT UBND;",
                       "- Các sở, ban, ngành của tỉnh;", "- Lưu: VT, KGVX.",
                       "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", _person(rng)]
        elif spec.kind == "commune":
            ubnd = parents[spec.parent]
            unit = _unit_name(province)
            commune = spec.issuer.removeprefix("Ủy ban nhân dân ")
            header = [spec.issuer.upper(), f"Số: {spec.number}",
                      f"{commune.split(' ', 1)[1]}, {_vn_date(spec.date)}", "KẾ HOẠCH"]
            uref = (f"Kế hoạch số {ubnd.number}{_vn_date_loose(ubnd.date, rng)} của Ủy ban "
                    f"nhân dân {unit}")
            title = f"Triển khai thực hiện {uref} trên địa bàn {commune}"
            preamble = [f"Thực hiện {uref} về triển khai thực hiện {pref}; {spec.issuer} ban "
                        "hành Kế hoạch thực hiện như sau:"]
            closing = ["Nơi nhận:", f"- UBND {unit} (b/c);", f"- Đảng ủy {commune};",
                       "- Các ban, ngành, đoàn thể;", "- Lưu: VT.",
                       "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", _person(rng)]
        else:
            ubnd = parents[spec.parent]
            unit = _unit_name(province)
            header = [f"ỦY BAN NHÂN DÂN {unit.upper()}", spec.issuer.upper(),
                      f"Số: {spec.number}", f"{province}, {_vn_date(spec.date)}", "KẾ HOẠCH"]
            uref = (f"Kế hoạch số {ubnd.number}{_vn_date_loose(ubnd.date, rng)} của Ủy ban "
                    f"nhân dân {unit}")
            title = f"Triển khai thực hiện {uref}"  # the chain is stated in the preamble
            preamble = [f"Thực hiện {uref} về triển khai thực hiện {pref}; {spec.issuer} ban "
                        "hành Kế hoạch thực hiện như sau:"]
            closing = ["Nơi nhận:", "- UBND tỉnh (b/c);", "- Giám đốc, các PGĐ Sở;",
                       "- Các phòng, đơn vị thuộc Sở;", "- Lưu: VT.",
                       "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", _person(rng)]
    title_lines = [title.upper()] if rng.random() < 0.5 else [title]
    lines = [*header, *title_lines]
    if gap if gap is not None else rng.random() < 0.5:
        lines.append("")  # seeds 000-003 leave a blank line before the preamble; 004 does not
    lines.extend(preamble)
    if spec.other:  # the body names no directive either
        dref = "Kế hoạch này"
    lines += [
        "I. MỤC ĐÍCH, YÊU CẦU",
        "1. Mục đích",
        f"a) Triển khai kịp thời, đồng bộ, hiệu quả {dref} và các văn bản chỉ đạo của cấp trên "
        f"về {d.topic}.",
        "b) Phát huy vai trò, trách nhiệm của các cấp, các ngành, các tổ chức chính trị - xã hội "
        f"và toàn xã hội trong việc thực hiện {d.topic}.",
        "2. Yêu cầu",
        "a) Việc triển khai thực hiện phải bám sát các quan điểm, nhiệm vụ, giải pháp được nêu "
        f"trong {dref}; xác định rõ nhiệm vụ của các cấp, các ngành, địa phương.",
        "b) Bảo đảm sự phối hợp thường xuyên, hiệu quả giữa các cơ quan, đơn vị; đẩy mạnh công "
        "tác kiểm tra, sơ kết, tổng kết quá trình triển khai thực hiện Kế hoạch.",
        "II. NHIỆM VỤ VÀ GIẢI PHÁP TRỌNG TÂM",
        *_tasks(rng, d, dref),
        "III. KINH PHÍ THỰC HIỆN",
        "Kinh phí thực hiện Kế hoạch từ ngân sách nhà nước theo phân cấp ngân sách hiện hành và "
        "các nguồn hợp pháp khác.",
        "IV. TỔ CHỨC THỰC HIỆN",
        *_assignments(rng, d, spec),
        "V. CHẾ ĐỘ THÔNG TIN, BÁO CÁO",
        *_reporting(rng, spec, d),
        *closing,
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ the corpus


def _after(day: date, rng: random.Random, low: int, high: int) -> date:
    return day + timedelta(days=rng.randint(low, high))


def generate_plans(n_plans: int, seed: int = 0, *, unique_numbers: bool = True,
                   preamble_gap: bool | None = None, other_share: float = 0.0,
                   listed: bool = True) -> list[PlanSpec]:
    """The first ``n_plans`` plans of the fixed order (see module docstring), texts included.

    ``preamble_gap``: None mixes both seed layouts (blank line between trích yếu and preamble
    or not); True/False forces one. ``other_share``: the share of (directive, province) units
    whose UBND plan carries out a decision, a resolution or nothing (module docstring).
    ``listed``: commune plans are issued by the listed communes (False: made-up names).
    """
    if n_plans < 0:
        raise ValueError("n_plans must be >= 0")
    rng = random.Random(seed)
    numbers = _Numbers(rng, unique_numbers)
    plans: list[PlanSpec] = []
    family: dict[tuple[str | None, str], dict[str, PlanSpec]] = {}  # (province, directive)

    def add(kind: str, number: str, day: date, province: str | None, d: Directive, parent: str,
            depth: int, issuer: str, carries: str = "") -> PlanSpec:
        if carries:  # one link less than the directive's chain (none: the UBND plan is the top)
            depth -= 1 if carries != "none" else 2
        spec = PlanSpec(len(plans), kind, number, day, province, d.number, parent, depth, issuer,
                        other=carries)
        plans.append(spec)
        family.setdefault((province, d.number), {})[number] = spec
        return spec

    for d in DIRECTIVES:
        add("national", d.national_number, d.national_date, None, d, d.number, 1,
            "Thủ tướng Chính phủ")
    units = [(d, p) for p_index, p in enumerate(PROVINCES) for d in
             DIRECTIVES[p_index % len(DIRECTIVES):] + DIRECTIVES[:p_index % len(DIRECTIVES)]]
    ubnd_of: dict[tuple[str, str], PlanSpec] = {}
    free: dict[tuple[str, str], list[Department]] = {}
    other: dict[tuple[str, str], str] = {}  # (directive, province) -> what it carries out
    if other_share > 0:  # drawn apart: the main stream, so the default corpus, is unchanged
        pick = random.Random(f"{seed}:other")
        for d, province in units:
            if pick.random() < other_share:
                other[(d.number, province)] = pick.choices(
                    list(OTHER_KINDS), weights=list(OTHER_KINDS.values()))[0]

    def department_plan(d: Directive, province: str) -> None:
        ubnd = ubnd_of[(d.number, province)]
        pool = free.setdefault((d.number, province), [])
        if not pool:
            pool.extend(rng.sample(DEPARTMENTS, len(DEPARTMENTS)))
        dept = pool.pop()
        day = _after(ubnd.date, rng, 7, 60)
        number = f"{numbers.draw(dept.code, province, day.year, 5, 399)}/KH-{dept.code}"
        add("department", number, day, province, d, ubnd.number, 3, dept.name,
            other.get((d.number, province), ""))

    next_commune: dict[str, int] = {}

    def commune_plan(d: Directive, province: str) -> None:
        ubnd = ubnd_of[(d.number, province)]
        names = commune_names(province, listed)
        index = next_commune.get(province, 0)
        next_commune[province] = index + 1
        name = names[index % len(names)]
        day = _after(max(ubnd.date, date(2025, 7, 1)), rng, 7, 120)
        number = f"{numbers.draw('KH-UBND', province, day.year, 7000, 99999)}/KH-UBND"
        add("commune", number, day, province, d, ubnd.number, 3, f"Ủy ban nhân dân {name}",
            other.get((d.number, province), ""))

    for d, province in units:
        pday = _after(d.date, rng, 20, 150)
        pnum = f"{numbers.draw('KH/TU', province, pday.year, 10, 499)}-KH/TU"
        add("party", pnum, pday, province, d, d.number, 1, _party_body(province))
        uday = _after(pday, rng, 10, 90)
        unum = f"{numbers.draw('KH-UBND', province, uday.year, 100, 6999)}/KH-UBND"
        carries = other.get((d.number, province), "")
        parent = (pnum if not carries else "" if carries == "none"
                  else other_document(d, carries)[0])
        ubnd_of[(d.number, province)] = add("ubnd", unum, uday, province, d, parent, 2,
                                            f"Ủy ban nhân dân {_unit_name(province)}", carries)
        department_plan(d, province)
        if len(plans) >= n_plans:
            break
    while len(plans) < n_plans:
        for d, province in units:
            for make in (department_plan, commune_plan):
                if len(plans) < n_plans:
                    make(d, province)
    plans = plans[:n_plans]
    directives = {d.number: d for d in DIRECTIVES}
    for spec in plans:
        parents = {**family.get((None, spec.directive), {}),
                   **family.get((spec.province, spec.directive), {})}
        spec.text = _render(spec, directives[spec.directive], parents,
                            random.Random(f"{seed}:{spec.index}"), preamble_gap)
    return plans


def generate_corpus(n_plans: int, seed: int = 0, other_share: float = 0.0,
                    listed: bool = True) -> list[tuple[str, str]]:
    """``n_plans`` (file name, text) pairs; the same seed always gives the same corpus."""
    return [(spec.file_name, spec.text)
            for spec in generate_plans(n_plans, seed, other_share=other_share, listed=listed)]


def write_corpus(folder: Path, n_plans: int, seed: int = 0, other_share: float = 0.0,
                 listed: bool = True) -> list[Path]:
    """Write the corpus as UTF-8 .txt files into ``folder`` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generate_corpus(n_plans, seed, other_share, listed):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """CLI: write a corpus to a folder."""
    parser = argparse.ArgumentParser(description="Write a synthetic corpus of plan texts.")
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--plans", type=int, default=2000, help="number of plans (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--other-share", type=float, default=0.0,
                        help="share of (directive, province) units carrying out a decision, a "
                        "resolution or nothing instead of the Party directive (default 0)")
    parser.add_argument("--made-up-communes", action="store_true",
                        help="commune plans issued by made-up communes, as corpora before "
                        "session 36 (default: the listed communes)")
    args = parser.parse_args(argv)
    paths = write_corpus(args.out, args.plans, args.seed, args.other_share,
                         not args.made_up_communes)
    print(f"wrote {len(paths)} plans to {args.out}")


if __name__ == "__main__":
    main()
