"""Generate the reference graph of the state's bodies from the tables the project keeps.

Run ``python -m kgraph.reference.generate`` (or ``scripts/build_reference``). Two steps:

1. ``--tables``: the province tables (``data/reference/tables/provinces*.csv``) are written from the
   field's packages, ``vietnamadminunits`` (63 units before 1 Jul 2025, the 34 after, which old
   units each new one holds) and ``vietnam-provinces`` (the 34 with their QĐ 19/2025 codes and
   communes), after checking them against each other and against the sourced summary
   ``../shared/reference/reorganisation-2025.md`` when it is there. Nothing is typed by hand.
2. (always) the Turtle files in ``data/reference/`` are written from all tables: ``provinces.ttl``
   (units, codes, periods, mergers), ``agencies.ttl`` (the body templates the matcher reads, with
   the names and abbreviations people write), ``bodies.ttl`` (province x template: every body of
   every province in each period, plus the central ones) and ``successions.ttl``
   (``org:ChangeEvent``s with their legal basis and, for splits, the functions and the words
   that signal them).

The hand-kept tables are ``bodies.csv`` (templates), ``legal.csv``, ``functions.csv`` and
``successions.csv``. A template label may hold ``{province}``; a ``parent`` of ``vn:X`` is a central
body, a bare id a body of the same province.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from kgraph.ingest.text import match_key, nfc, slugify
from kgraph.paths import project_root, resource_dir
from kgraph.reference.matching import (
    COMMUNES_BEFORE_TABLE,
    COMMUNES_TABLE,
    fill_province,
    municipal_name,
)
from kgraph.reference.units import OLD_COMMUNE_WORDS

MERGER_DATE = "2025-07-01"  # new provincial governments operate (NQ 202/2025/QH15)
LAST_DAY_BEFORE_MERGER = "2025-06-30"
MERGER_BASIS = "nq-202-2025-qh15"
NATIONAL = "vn"
HCMC = "Hồ Chí Minh"  # a person's name too: the city keeps "Thành phố" in its canonical name

PREFIXES = """\
@prefix kg: <https://w3id.org/kgraph/def#> .
@prefix ref: <https://w3id.org/kgraph/id/ref/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix eli: <http://data.europa.eu/eli/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix id: <https://w3id.org/kgraph/id/> .
"""


def tables_dir() -> Path:
    return resource_dir("reference") / "tables"


def read_table(name: str, folder: Path | None = None) -> list[dict[str, str]]:
    with open((folder or tables_dir()) / name, encoding="utf-8", newline="") as handle:
        return [{k: nfc(v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _split(cell: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in cell.split("|") if a.strip())


def write_table(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


# -- step 1: province tables from the packages -------------------------------------------------

def canonical_province(short: str) -> str:
    return "Thành phố Hồ Chí Minh" if short == HCMC else short


def province_tables_from_packages() -> tuple[list[dict[str, str]], list[dict[str, str]], list[str]]:
    """(63 old units, 34 new units, disagreements) from vietnamadminunits and vietnam-provinces."""
    import json

    import vietnamadminunits
    from vietnam_provinces import Province, Ward

    data = Path(vietnamadminunits.__file__).parent / "data"
    legacy = json.loads((data / "parser_legacy.json").read_text(encoding="utf-8"))["DICT_PROVINCE"]
    current = json.loads((data / "parser_from_2025.json").read_text(encoding="utf-8"))
    current = current["DICT_PROVINCE"]
    conversion = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    conversion = conversion["DICT_PROVINCE"]
    problems: list[str] = []
    holder = {old: new for new, olds in conversion.items() for old in olds}
    communes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for ward in Ward.iter_all():
        communes[int(ward.province_code)][ward.division_type.value] += 1
    by_code = {int(p.code): p for p in Province.iter_all()}
    new_rows: list[dict[str, str]] = []
    for key, unit in current.items():
        code = int(unit["provinceCode"])
        package = by_code.get(code)
        if package is None or slugify(package.name) not in slugify(unit["province"]):
            problems.append(f"new unit {unit['province']} ({code}): vietnam-provinces has "
                            f"{package.name if package else 'no unit'} under that code")
        members = sorted(conversion.get(key, []), key=lambda k: legacy[k]["provinceCode"])
        counts = communes[code]
        new_rows.append({
            "code_2025": f"{code:02d}",
            "name": canonical_province(unit["provinceShort"]),
            "full_name": unit["province"],
            "municipality": "true" if unit["province"].startswith("Thành phố") else "false",
            "formed_from": " ".join(legacy[k]["provinceCode"] for k in members),
            "xa": str(counts.get("xã", 0)),
            "phuong": str(counts.get("phường", 0)),
            "dac_khu": str(counts.get("đặc khu", 0)),
        })
    new_rows.sort(key=lambda r: r["code_2025"])
    new_by_key = {k: canonical_province(v["provinceShort"]) for k, v in current.items()}
    old_rows = []
    for key, unit in sorted(legacy.items(), key=lambda kv: kv[1]["provinceCode"]):
        name = canonical_province(unit["provinceShort"])
        successor = new_by_key.get(holder.get(key, ""), "")
        if not successor:
            problems.append(f"old unit {name}: no new unit holds it in vietnamadminunits")
        old_rows.append({
            "code": unit["provinceCode"],
            "name": name,
            "full_name": unit["province"],
            "municipality": "true" if unit["province"].startswith("Thành phố") else "false",
            "became": successor,
            "continues": "true" if successor == name else "false",
        })
    return old_rows, new_rows, problems


_SUMMARY_ROW = re.compile(r"^\|\s*\d+\s*\|\s*(?:TP\s+)?([^|]+?)\s*\|\s*(\d\d)\s*\|\s*([^|]+)\|")


def check_against_summary(new_rows: list[dict[str, str]], summary: Path) -> list[str]:
    """Disagreements between the package tables and the sourced 63 -> 34 table (member codes)."""
    if not summary.exists():
        return []
    problems = []
    by_code = {r["code_2025"]: r for r in new_rows}
    seen = 0
    for line in summary.read_text(encoding="utf-8").splitlines():
        match = _SUMMARY_ROW.match(line)
        if not match:
            continue
        seen += 1
        name, code, formed = match.groups()
        members = sorted(re.findall(r"\((\d\d)\)", formed))
        row = by_code.get(code)
        if row is None:
            problems.append(f"summary unit {name} ({code}) missing from the packages")
            continue
        if slugify(name) not in slugify(row["full_name"]):
            problems.append(f"summary names {name} for code {code}, packages {row['full_name']}")
        if sorted(row["formed_from"].split()) != members:
            problems.append(f"{name}: summary members {members}, packages {row['formed_from']}")
    if seen != 34:
        problems.append(f"summary table has {seen} rows, expected 34")
    return problems


# -- step 2: the graph ----------------------------------------------------------------------------

def lit(text: str, lang: str | None = "vi") -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


def date_lit(value: str) -> str:
    return f'"{value}"^^xsd:date'


def day_before(value: str) -> str:
    return (dt.date.fromisoformat(value) - dt.timedelta(days=1)).isoformat()


def day_after(value: str) -> str:
    return (dt.date.fromisoformat(value) + dt.timedelta(days=1)).isoformat()


@dataclass(frozen=True)
class Template:
    id: str
    label: str
    alt_labels: tuple[str, ...]
    level: str
    kind: str
    parent: str
    exists_from: str
    exists_until: str
    note: str

    @property
    def provincial(self) -> bool:
        return self.level in {"Provincial", "District"}


@dataclass
class Unit:
    """A province-level unit and the period it exists in (the 34 survive the merger)."""

    name: str
    slug: str
    code: str
    full_name: str
    municipality: bool
    exists_until: str = ""  # empty: still exists
    exists_from: str = ""  # empty: before the records
    became: str = ""
    code_2025: str = ""
    members: list[str] = field(default_factory=list)  # names of the old units a new one holds
    absorbed_on: str = ""  # the date those members joined it
    basis: str = ""  # the legal basis of that change
    communes: dict[str, str] = field(default_factory=dict)


def fill(label: str, province: str | None, municipal: bool = False) -> str:
    """A template label in one province (the matcher's rule: a city has a Thành ủy)."""
    if "{province}" in label:
        label = fill_province(label, province) if province else label.replace(
            "{province}", "").strip()
    return municipal_name(label, municipal)


def full_name(label: str, unit: Unit) -> str:
    """The name with its province, as a letterhead writes it ("Sở Y tế tỉnh Kiên Giang")."""
    if unit.name in label:
        return label
    place = unit.name if unit.name.startswith("Thành phố") else (
        f"thành phố {unit.name}" if unit.municipality else f"tỉnh {unit.name}")
    for word in (" tỉnh", " thành phố"):
        if label.endswith(word):
            return f"{label[: -len(word)]} {place}"
    return f"{label} {place}"


def period_iri(start: str, end: str) -> str:
    if start and end:
        return f"id:period\\/{start}--{end}"
    if start:
        return f"id:period\\/since-{start}"
    if end:
        return f"id:period\\/until-{end}"
    return "id:period\\/standing"


def intersect(a_from: str, a_until: str, b_from: str, b_until: str) -> tuple[str, str] | None:
    start = max(a_from, b_from)
    ends = [e for e in (a_until, b_until) if e]
    end = min(ends) if ends else ""
    if start and end and start > end:
        return None
    return start, end


class ReferenceBuilder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.templates = {
            r["id"]: Template(r["id"], r["label"], _split(r["alt_labels"]), r["level"], r["kind"],
                              r["parent"], r["exists_from"], r["exists_until"], r["note"])
            for r in read_table("bodies.csv", folder)
        }
        self.legal = {r["id"]: r for r in read_table("legal.csv", folder)}
        self.functions = {r["id"]: r for r in read_table("functions.csv", folder)}
        self.successions = read_table("successions.csv", folder)
        self.units = self._units()
        self.periods: set[tuple[str, str]] = set()

    # -- units ------------------------------------------------------------------------------
    def _units(self) -> dict[str, Unit]:
        old = read_table("provinces_before_2025.csv", self.folder)
        new = {r["name"]: r for r in read_table("provinces_2025.csv", self.folder)}
        aliases = {r["name"]: r for r in read_table("province_names.csv", self.folder)}
        units: dict[str, Unit] = {}
        for row in old:
            unit = Unit(row["name"], slugify(row["name"]), row["code"], row["full_name"],
                        row["municipality"] == "true")
            if row["continues"] != "true":
                unit.exists_until = LAST_DAY_BEFORE_MERGER
                unit.became = row["became"]
            units[unit.name] = unit
        by_code = {u.code: u.name for u in units.values()}
        for name, row in new.items():
            unit = units[name]
            unit.code_2025 = row["code_2025"]
            unit.municipality = row["municipality"] == "true"
            unit.full_name = row["full_name"]
            unit.members = [by_code[c] for c in row["formed_from"].split() if by_code[c] != name]
            unit.absorbed_on, unit.basis = MERGER_DATE, MERGER_BASIS
            unit.communes = {k: row[k] for k in ("xa", "phuong", "dac_khu")}
        for row in read_table("province_renames.csv", self.folder):
            # a unit renamed or re-formed before the merger (Thừa Thiên Huế -> TP Huế)
            successor = units[row["became"]]
            successor.exists_from = day_after(row["exists_until"])
            units[row["name"]] = Unit(row["name"], slugify(row["name"]), row["code"],
                                      row["full_name"], row["municipality"] == "true",
                                      row["exists_until"], became=row["became"])
            if successor.members:
                raise ValueError(f"{successor.name}: a unit re-formed and merged is not modelled")
            successor.members = [row["name"]]
            successor.absorbed_on, successor.basis = successor.exists_from, row["basis"]
        self.aliases = {name: [a.strip() for a in row["alt_labels"].split("|") if a.strip()]
                        for name, row in aliases.items()}
        return units

    def holder_on(self, unit: Unit, date: str) -> Unit:
        """The unit that holds this one's territory on a date."""
        while unit.exists_until and date > unit.exists_until:
            unit = self.units[unit.became]
        return unit

    # -- bodies -----------------------------------------------------------------------------
    def body_iri(self, template: str, unit: Unit | None) -> str:
        scope = unit.slug if unit else NATIONAL
        return f"id:org\\/{scope}\\/{template}"

    def body_period(self, template: Template, unit: Unit | None) -> tuple[str, str] | None:
        if unit is None:
            return template.exists_from, template.exists_until
        return intersect(template.exists_from, template.exists_until, unit.exists_from,
                         unit.exists_until)

    def exists(self, template: Template, unit: Unit | None, date: str) -> bool:
        period = self.body_period(template, unit)
        if period is None:
            return False
        start, end = period
        return (not start or start <= date) and (not end or date <= end)

    def parent_iri(self, template: Template, unit: Unit | None) -> str | None:
        if not template.parent:
            return None
        if template.parent.startswith("vn:"):
            return self.body_iri(template.parent[3:], None)
        return self.body_iri(template.parent, unit)

    def body_turtle(self, template: Template, unit: Unit | None) -> str | None:
        period = self.body_period(template, unit)
        if period is None:
            return None
        self.periods.add(period)
        collective = template.kind == "Collective"
        name = fill(template.label, unit.name if unit else None, bool(unit and unit.municipality))
        lines = [f"{self.body_iri(template.id, unit)} a "
                 + ("kg:CollectiveAddressee" if collective else "org:Organization") + " ;",
                 f"    skos:prefLabel {lit(name)} ;"]
        lines.append(f"    kg:referenceEntry ref:{template.id} ;")  # its level, its names
        if unit is not None:
            lines.append(f"    kg:province id:province\\/{unit.slug} ;")
        parent = self.parent_iri(template, unit)
        if parent and not collective:
            lines.append(f"    org:subOrganizationOf {parent} ;")
        lines.append(f"    dcterms:temporal {period_iri(*period)} .")
        return "\n".join(lines)

    def bodies(self) -> str:
        chunks = []
        for template in self.templates.values():
            if template.level == "Commune":
                continue  # ~40,000 bodies of 3,321 communes: a plan states those it names
            if template.provincial:
                for unit in self.units.values():
                    chunk = self.body_turtle(template, unit)
                    if chunk:
                        chunks.append(chunk)
            else:
                chunk = self.body_turtle(template, None)
                if chunk:
                    chunks.append(chunk)
        periods = []
        for start, end in sorted(self.periods):
            text = [f"{period_iri(start, end)} a dcterms:PeriodOfTime"]
            if start:
                text.append(f"    dcat:startDate {date_lit(start)}")
            if end:
                text.append(f"    dcat:endDate {date_lit(end)}")
            periods.append(" ;\n".join(text) + " .")
        header = ("# GENERATED by kgraph.reference.generate from data/reference/tables.\n"
                  "# Every body of every province (template x province, within its period)\n"
                  "# and the central bodies; IRIs id/org/{province-slug|vn}/{template}.\n")
        return header + PREFIXES + "\n" + "\n\n".join(periods + chunks) + "\n"

    # -- templates (what the matcher reads) ------------------------------------------------
    def agencies(self) -> str:
        chunks = []
        for t in self.templates.values():
            lines = [f"ref:{t.id} a kg:AgencyTemplate, skos:Concept ;",
                     "    skos:inScheme ref:bodies ;",
                     f"    skos:prefLabel {lit(t.label)} ;"]
            if t.alt_labels:
                lines.append("    skos:altLabel " + ", ".join(lit(a) for a in t.alt_labels) + " ;")
            if t.note:
                lines.append(f"    skos:scopeNote {lit(t.note)} ;")
            if t.level == "Commune" and t.parent:  # their bodies are minted by the plans
                lines.append(f"    kg:parentEntry ref:{t.parent} ;")
            lines.append(f"    kg:level kg:{t.level} ;")
            lines.append(f"    kg:addresseeKind kg:{t.kind} .")
            chunks.append("\n".join(lines))
        header = ("# GENERATED by kgraph.reference.generate from tables/bodies.csv.\n"
                  "# Body templates: '{province}' in a label stands for the plan's province,\n"
                  "# '{commune}' for a commune of tables/communes_2025.csv ('xã Ea Kly').\n"
                  "# The local name is the reference_id the extractor puts on an AgencyMention.\n")
        scheme = ('ref:bodies a skos:ConceptScheme ;\n    skos:prefLabel "Danh mục cơ quan"@vi, '
                  '"Bodies of the state"@en .')
        return header + PREFIXES + "\n" + scheme + "\n\n" + "\n\n".join(chunks) + "\n"

    # -- provinces ----------------------------------------------------------------------------
    def provinces(self) -> str:
        chunks = []
        for unit in self.units.values():
            labels = {unit.full_name, f"Tỉnh {unit.name}" if not unit.municipality else
                      f"Thành phố {unit.name}"}
            if unit.municipality and not unit.name.startswith("Thành phố"):
                labels |= {f"TP {unit.name}", f"TP. {unit.name}"}
            labels |= set(self.aliases.get(unit.name, []))
            labels.discard(unit.name)
            lines = [f"id:province\\/{unit.slug} a kg:Province ;",
                     f"    skos:prefLabel {lit(unit.name)} ;",
                     "    skos:altLabel " + ", ".join(lit(x) for x in sorted(labels)) + " ;",
                     f"    skos:notation {lit(unit.code, None)} ;",
                     f"    kg:municipality {'true' if unit.municipality else 'false'} ;",
                     f"    kg:after2025 {'false' if unit.exists_until else 'true'} ;"]
            if unit.code_2025:
                lines.append(f"    kg:code2025 {lit(unit.code_2025, None)} ;")
                lines.append(f"    kg:communes {sum(int(v) for v in unit.communes.values())} ;")
            for member in unit.members:
                lines.append(f"    kg:absorbed id:province\\/{slugify(member)} ;")
            if unit.became:
                lines.append(f"    kg:succeededBy id:province\\/{slugify(unit.became)} ;")
            period = (unit.exists_from, unit.exists_until)
            self.periods.add(period)
            lines.append(f"    dcterms:temporal {period_iri(*period)} .")
            chunks.append("\n".join(lines))
        header = ("# GENERATED by kgraph.reference.generate from tables/provinces*.csv\n"
                  "# (generated from vietnamadminunits and vietnam-provinces). The 63 units\n"
                  "# before 1 Jul 2025; kg:after2025 marks the 34 of NQ 202/2025/QH15.\n")
        return header + PREFIXES + "\n" + "\n\n".join(chunks) + "\n"

    # -- successions ------------------------------------------------------------------------
    def legal_turtle(self) -> list[str]:
        chunks = []
        for key, row in self.legal.items():
            lines = [f"id:legal\\/{key} a eli:LegalResource ;",
                     f"    eli:id_local {lit(row['number'], None)} ;",
                     f"    eli:title {lit(row['title'])} ;",
                     f"    eli:date_document {date_lit(row['date_document'])} ;",
                     f"    kg:documentType {lit(row['type'])} ;",
                     f"    kg:verification {lit(row['status'], None)} ;"]
            if row["passed_by"]:
                lines.append(f"    eli:passed_by {self.body_iri(row['passed_by'], None)} ;")
            lines.append(f"    eli:first_date_entry_in_force {date_lit(row['date_effective'])} .")
            chunks.append("\n".join(lines))
        for key, row in self.functions.items():
            words = [w.strip() for w in row["signal_words"].split("|") if w.strip()]
            chunks.append("\n".join([
                f"id:function\\/{key} a kg:Function, skos:Concept ;",
                "    skos:inScheme id:function\\/scheme ;",
                f"    skos:prefLabel {lit(row['label_vi'])}, {lit(row['label_en'], 'en')} ;",
                "    kg:signalWord " + ", ".join(lit(w) for w in words) + " ."]))
        chunks.append('id:function\\/scheme a skos:ConceptScheme ;\n    skos:prefLabel '
                      '"Chức năng chuyển giao"@vi, "Transferred functions"@en .')
        return chunks

    def _scope(self, ref: str) -> tuple[str, bool]:
        return (ref[3:], True) if ref.startswith("vn:") else (ref, False)

    def change_events(self) -> list[str]:
        groups: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in self.successions:
            groups[row["change"]].append(row)
        chunks = []
        for change, rows in groups.items():
            date = rows[0]["date"]
            national = rows[0]["from"].startswith("vn:")
            scopes: list[Unit | None] = [None] if national else list(self.units.values())
            for unit in scopes:
                chunk = self._event(change, rows, date, unit)
                if chunk:
                    chunks.append(chunk)
        chunks.extend(self._merger_events())
        return chunks

    def _event(self, change: str, rows: list[dict[str, str]], date: str, unit: Unit | None
               ) -> str | None:
        before = day_before(date)
        originals, results, transfers, bases = [], [], [], set()
        for row in rows:
            source = self.templates[self._scope(row["from"])[0]]
            target = self.templates[self._scope(row["to"])[0]]
            if not self.exists(source, unit, before):
                return None
            holder = self.holder_on(unit, date) if unit else None
            if not self.exists(target, holder, date):
                return None
            origin = self.body_iri(source.id, unit)
            result = self.body_iri(target.id, holder)
            bases.add(row["basis"])
            if holder is not unit:
                bases.add(MERGER_BASIS)
            if origin not in originals:
                originals.append(origin)
            if result not in results:
                results.append(result)
            transfers.append((origin, result, row["function"], row["confidence"], row["note"]))
        event = f"id:change\\/{change}\\/{unit.slug if unit else NATIONAL}"
        lines = [f"{event} a org:ChangeEvent ;",
                 "    org:originalOrganization " + ", ".join(originals) + " ;",
                 "    org:resultingOrganization " + ", ".join(results) + " ;",
                 f"    dcterms:date {date_lit(date)} ;",
                 "    kg:legalBasis " + ", ".join(f"id:legal\\/{b}" for b in sorted(bases)) + " ;"]
        split = len(results) > 1 or any(t[2] for t in transfers)
        if split:
            lines.append("    kg:transfer " + ", ".join(
                f"{event}\\/{i}" for i in range(1, len(transfers) + 1)) + " ;")
        else:
            lines.append(f"    kg:confidence {float(transfers[0][3])} ;")
        note = next((t[4] for t in transfers if t[4]), "")
        if note:
            lines.append(f"    skos:note {lit(note)} ;")
        lines[-1] = lines[-1][:-2] + " ."
        chunks = ["\n".join(lines)]
        if split:
            for i, (origin, result, function, confidence, _) in enumerate(transfers, 1):
                part = [f"{event}\\/{i} a kg:FunctionTransfer ;",
                        f"    kg:transferredFrom {origin} ;",
                        f"    kg:transferredTo {result} ;",
                        f"    kg:confidence {float(confidence)} ;"]
                if function in {"", "*"}:
                    part.append("    kg:isDefault true .")
                else:
                    part.append(f"    kg:function id:function\\/{function} .")
                chunks.append("\n".join(part))
        return "\n\n".join(chunks)

    def _merger_events(self) -> list[str]:
        """Each body of the units a province absorbed -> the like body of that province.

        NQ 202/2025/QH15 (1 Jul 2025) for the 23 merged provinces; a re-formed unit (TP Huế) alike.
        """
        chunks = []
        for unit in self.units.values():
            if not unit.members:
                continue
            date, before = unit.absorbed_on, day_before(unit.absorbed_on)
            members = [self.units[m] for m in unit.members]
            for template in self.templates.values():
                if not template.provincial:
                    continue
                if not self.exists(template, unit, date):
                    continue
                originals = [self.body_iri(template.id, m) for m in members
                             if self.exists(template, m, before)]
                if not originals:
                    continue
                if self.exists(template, unit, before):
                    originals.insert(0, self.body_iri(template.id, unit))
                event = f"id:change\\/{unit.basis}\\/{unit.slug}\\/{template.id}"
                chunks.append("\n".join([
                    f"{event} a org:ChangeEvent ;",
                    "    org:originalOrganization " + ", ".join(originals) + " ;",
                    f"    org:resultingOrganization {self.body_iri(template.id, unit)} ;",
                    f"    dcterms:date {date_lit(date)} ;",
                    f"    kg:legalBasis id:legal\\/{unit.basis} ;",
                    "    kg:confidence 0.9 .",
                ]))
        return chunks

    def successions_turtle(self) -> str:
        header = ("# GENERATED by kgraph.reference.generate from tables/successions.csv,\n"
                  "# functions.csv and legal.csv: org:ChangeEvents of the 2025 reorganisation\n"
                  "# with their legal basis; a split lists its kg:FunctionTransfers.\n")
        return (header + PREFIXES + "\n"
                + "\n\n".join(self.legal_turtle() + self.change_events()) + "\n")


def generate(folder: Path | None = None, out: Path | None = None) -> dict[str, int]:
    """Write the Turtle files; returns the size of each (characters)."""
    folder = folder or tables_dir()
    out = out or folder.parent
    builder = ReferenceBuilder(folder)
    files = {"agencies.ttl": builder.agencies(), "provinces.ttl": builder.provinces()}
    files["bodies.ttl"] = builder.bodies()  # last: it declares the periods the others use
    files["successions.ttl"] = builder.successions_turtle()
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return {name: len(text) for name, text in files.items()}


def commune_table_from_package() -> list[dict[str, str]]:
    """The 3,321 communes of the 34 provinces (xã, phường, đặc khu; Nghị quyết 202/2025/QH15 and
    the Standing Committee's resolutions on each province's communes), from vietnam-provinces:
    code, name without its unit word, that word, and the province's code. Their bodies
    ("Công an xã X", "Ủy ban nhân dân phường Y") are named from these."""
    from vietnam_provinces import Ward

    rows = []
    for ward in Ward.iter_all():
        division = ward.division_type.value
        name = nfc(ward.name)
        if not name.lower().startswith(division + " "):
            raise ValueError(f"commune {name!r}: its name does not open with {division!r}")
        rows.append({"code": f"{int(ward.code):05d}", "name": name[len(division) + 1:].strip(),
                     "division": division, "province_code_2025": f"{int(ward.province_code):02d}"})
    return sorted(rows, key=lambda r: r["code"])


def commune_history_from_package(communes: list[dict[str, str]]) -> tuple[
        list[dict[str, str]], list[str]]:
    """(the communes before the 2025 merger and what each became, disagreements), from
    vietnamadminunits: its 10,040 old wards, xã and thị trấn (a row per old unit: code, name
    without its unit word, that word, its district, its province among the 63) and its own
    conversion table, which gives the one new commune an old one went into whole, or the
    several an old one was divided among. ``became`` holds the new communes' codes of
    ``communes`` (vietnam-provinces' codes: the two packages number some communes apart, so
    they are joined by province and name). Several codes mean a divided commune: a body named
    after it is none of theirs alone."""
    import json
    import sqlite3

    import vietnamadminunits

    data = Path(vietnamadminunits.__file__).parent / "data"
    conversion = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    exact: dict[tuple[str, str], list[str]] = defaultdict(list)
    folded: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in communes:
        whole = f"{row['division']} {row['name']}"
        exact[row["province_code_2025"], whole.lower()].append(row["code"])
        folded[row["province_code_2025"], match_key(whole)].append(row["code"])
    problems: list[str] = []
    database = sqlite3.connect(data / "dataset.db")
    try:
        new_code: dict[tuple[str, str], str] = {}
        for province, ward, province_code, name in database.execute(
                "select provinceKey, wardKey, provinceCode, ward from admin_units"):
            code = f"{int(province_code):02d}"  # the province's code (QĐ 19/2025)
            found = exact.get((code, nfc(name).lower())) or folded.get((code, match_key(name)))
            if not found or len(found) > 1:
                problems.append(f"new commune {name} ({code}): {len(found or [])} in the list")
                continue
            new_code[province, ward] = found[0]
        legacy = database.execute(
            "select provinceKey, districtKey, wardKey, provinceShort, district, ward,"
            " wardType, wardCode from admin_units_legacy where ward is not null order by wardCode")
        legacy_rows = list(legacy)
    finally:
        database.close()
    whole_into: dict[str, tuple[str, str]] = {}
    for province, wards in conversion["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward, olds in wards.items():
            for old in olds:
                whole_into[old] = (province, ward)
    divided: dict[str, list[tuple[str, str]]] = {}
    for province, olds in conversion["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, options in olds.items():
            divided[old] = [(province, option["newWardKey"]) for option in options]
    rows = []
    for (province_key, district_key, ward_key, province, district, ward, kind,
         code) in legacy_rows:
        key = f"{province_key}_{district_key}_{ward_key}"
        targets = [whole_into[key]] if key in whole_into else divided.get(key, [])
        became = sorted({new_code[t] for t in targets if t in new_code})
        if not became or len(became) < len(set(targets)):
            problems.append(f"old commune {ward} ({code}): {len(became)} of {len(targets)} "
                            "new communes found")
        name = nfc(ward)
        words = (nfc(kind).lower(), *(w.written for w in OLD_COMMUNE_WORDS))
        division = next((w for w in words if name.lower().startswith(w + " ")), None)
        if division is None:  # the name is what documents write: its word is the one kept
            raise ValueError(f"commune {name!r}: its name opens with no commune's unit word")
        rows.append({"code": code, "name": name[len(division) + 1:].strip(),
                     "division": division, "district": nfc(district),
                     "province": canonical_province(nfc(province)), "became": " ".join(became)})
    return rows, problems


def write_province_tables(folder: Path, summary: Path) -> list[str]:
    old, new, problems = province_tables_from_packages()
    problems += check_against_summary(new, summary)
    communes = commune_table_from_package()
    counted = defaultdict(int)
    for row in communes:
        counted[row["province_code_2025"]] += 1
    for row in new:  # the same package counts both: a disagreement is a bug here
        if counted[row["code_2025"]] != sum(int(row[k]) for k in ("xa", "phuong", "dac_khu")):
            problems.append(f"{row['name']}: {counted[row['code_2025']]} communes listed")
    write_table(folder / "provinces_before_2025.csv", old)
    write_table(folder / "provinces_2025.csv", new)
    write_table(folder / COMMUNES_TABLE, communes)
    history, disagreements = commune_history_from_package(communes)
    olds = {row["name"] for row in old}
    problems += disagreements + [f"old commune {row['name']}: no old province {row['province']}"
                                 for row in history if row["province"] not in olds]
    write_table(folder / COMMUNES_BEFORE_TABLE, history)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", action="store_true",
                        help="first regenerate the province tables from the packages")
    parser.add_argument("--summary", type=Path,
                        default=Path(os.environ.get("KGRAPH_SHARED",
                                                    project_root().parent / "shared"))
                        / "reference" / "reorganisation-2025.md",
                        help="sourced 63 -> 34 summary to check the packages against")
    args = parser.parse_args(argv)
    folder = tables_dir()
    if args.tables:
        for problem in write_province_tables(folder, args.summary):
            print(f"check: {problem}", file=sys.stderr)
    for name, size in generate(folder).items():
        print(f"wrote data/reference/{name} ({size} characters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
