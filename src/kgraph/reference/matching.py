"""Resolve agency and province mentions against the reference list (data/reference/*.ttl).

Matching happens in the folded, OCR-repaired key space (:func:`kgraph.ingest.text.match_key`): an
exact key match first, then a conservative rapidfuzz ratio. A mention that matches nothing
well enough stays an unresolved :class:`AgencyMention` (canonical None): never dropped, never
guessed into a wrong name.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process
from rdflib import Graph, Namespace
from rdflib.namespace import RDF, SKOS

from kgraph.ingest.model import AddresseeKind, AgencyMention
from kgraph.ingest.text import match_key, nfc, syllable_skeleton
from kgraph.paths import resource_dir
from kgraph.reference.units import COMMUNE_WORDS, OLD_COMMUNE_WORDS, UNIT_WORD_END, UnitWord

KG = Namespace("https://w3id.org/kgraph/def#")
REF = "https://w3id.org/kgraph/id/ref/"
PLACEHOLDER = "{province}"
COMMUNE = "{commune}"  # a commune's bodies: "Công an {commune}" ("Công an xã Ea Kly")
COMMUNE_LEVEL = "Commune"
COMMUNES_TABLE = "communes_2025.csv"  # in the reference folder's tables (generated)
COMMUNES_BEFORE_TABLE = "communes_before_2025.csv"  # the old communes and what they became
PROVINCIAL_COMMITTEE = "uy-ban-nhan-dan-tinh"  # a province's People's Committee (UBND)
THRESHOLD = 90.0  # rapidfuzz ratio; below this a mention stays unresolved
# A name whose every syllable keeps its consonants but whose vowels the OCR lost ("Sé Y té",
# "Sd Nội vụ") is a known body when exactly one known name has its consonant skeleton and the
# two are still this close (rapidfuzz ratio): three-syllable names differ by two letters.
SKELETON_THRESHOLD = 70.0
# Words a name without which would name another body: a plural marker (without it, one body,
# not the group) and a local unit's word ("Ủy ban nhân dân xã, phường" less "xã" is a ward's).
_NEVER_DROPPED = frozenset({"cac", "nhung", "xa", "phuong", "huyen", "tinh", "thi", "tran", "dac"})
SKELETON_MIN_WORDS = 3  # "Sở X" and "Bộ Y" of two syllables are too many to tell apart so
LONG_THRESHOLD = 85.0  # long names (25+ characters) carry more OCR damage in absolute terms

# Abbreviations expanded before matching (in key space).
_ABBREVIATIONS = [
    (re.compile(r"\bubnd\b"), "uy ban nhan dan"),
    (re.compile(r"\bhdnd\b"), "hoi dong nhan dan"),
    (re.compile(r"\b(ub)?mttqvn\b"), "mat tran to quoc viet nam"),
    (re.compile(r"\b(ub)?mttq\b"), "mat tran to quoc"),
    (re.compile(r"\bld ?tb ?(o )?xh\b"), "lao dong thuong binh va xa hoi"),
    (re.compile(r"\blao dong tb ?(o )?xh\b"), "lao dong thuong binh va xa hoi"),
    (re.compile(r"\buy ban mat tran"), "uy ban mat tran"),
]
# Words before the body's name that do not belong to it.
_LEADING = re.compile(
    r"^(?:de nghi|giao|yeu cau|dong chi|(?:bo truong|thu truong|giam doc|chu tich)\s+(?=\w))\s*"
)
_COLLECTIVE = re.compile(r"^cac\b|\bcac (huyen|xa|tinh|so|bo|co quan|don vi|phuong)\b")
_OCR_SO = re.compile(r"^[58][0-9]?\s")  # "86 Y té", "8& Văn hóa": Sở read as digits
_DISTRICT_COLLECTIVE = re.compile(r"^uy ban nhan dan (cac )?(huyen|xa|phuong|tinh)")
@dataclass(frozen=True)
class Entry:
    ref_id: str
    label: str  # canonical (prefLabel), may hold {province}
    kind: AddresseeKind
    level: str
    parent: str | None = None  # a commune-level template's kg:parentEntry ("cong-an-tinh")


class Matcher:
    """The reference list, ready for matching."""

    def __init__(self, reference_dir: Path | None = None) -> None:
        folder = reference_dir or resource_dir("reference")
        graph = Graph()
        graph.parse(folder / "agencies.ttl")
        graph.parse(folder / "provinces.ttl")
        self.entries: list[Entry] = []
        self.labels: list[tuple[str, Entry]] = []  # (label text, entry)
        self.commune_heads: dict[str, Entry] = {}  # "cong an" -> the template "Công an {commune}"
        self._folder = folder
        self._communes: Communes | None = None
        for subject in graph.subjects(RDF.type, KG.AgencyTemplate):
            entry = Entry(
                str(subject).removeprefix(REF),
                str(graph.value(subject, SKOS.prefLabel)),
                AddresseeKind.COLLECTIVE
                if graph.value(subject, KG.addresseeKind) == KG.Collective
                else AddresseeKind.AGENCY,
                str(graph.value(subject, KG.level)).rsplit("#", 1)[-1],
                str(parent).removeprefix(REF)
                if (parent := graph.value(subject, KG.parentEntry)) is not None else None,
            )
            self.entries.append(entry)
            for label in graph.objects(subject, SKOS.prefLabel | SKOS.altLabel):
                if entry.level == COMMUNE_LEVEL:  # read by their structure, not fuzzily
                    head = expand(match_key(str(label).replace(COMMUNE, "")))
                    self.commune_heads.setdefault(head, entry)
                else:
                    self.labels.append((str(label), entry))
        self.provinces: dict[str, str] = {}  # key -> canonical province name
        for subject in graph.subjects(RDF.type, KG.Province):
            name = str(graph.value(subject, SKOS.prefLabel))
            for label in graph.objects(subject, SKOS.prefLabel | SKOS.altLabel):
                self.provinces[match_key(str(label))] = name
        self._province_keys = sorted(self.provinces, key=len, reverse=True)
        self._spaced_keys = tuple(f" {pkey}" for pkey in self._province_keys)
        self._province_rank = {pkey: i for i, pkey in enumerate(self._province_keys)}
        self._province_sizes = sorted({len(pkey.split()) for pkey in self._province_keys} - {0})
        self._tail_cache: dict[str | None, tuple[list[tuple[str, str]], tuple[str, ...]]] = {}
        self.municipal = {
            str(graph.value(s, SKOS.prefLabel))
            for s in graph.subjects(KG.municipality, None)
            if str(graph.value(s, KG.municipality)).lower() == "true"
        }
        self._cache: dict[str | None, dict[str, Entry]] = {}
        self._key_lists: dict[str | None, list[str]] = {}  # the keys of each _cache entry
        # per province: consonant skeleton -> the keys of the known names that have it
        self._skeletons: dict[str | None, dict[str, list[str]]] = {}
        # per province: skeleton of a known name with one word left out -> (key, shortened key)
        self._shortened: dict[str | None, dict[str, list[tuple[str, str]]]] = {}
        self._agencies: dict[tuple[str, str | None], AgencyMention] = {}

    # -- provinces ---------------------------------------------------------------------------
    def province(self, text: str) -> str | None:
        """The canonical province a text names (exactly, in key space), else None: of the
        names the text holds as whole words, the first in :attr:`_province_keys` (longest
        first). Looked up by the text's runs of words, not by a search per name."""
        words = match_key(text).split()
        found = None if words else self._province_rank.get("")  # " " + "" + " " in "  "
        for size in self._province_sizes:
            for i in range(len(words) - size + 1):
                rank = self._province_rank.get(" ".join(words[i : i + size]))
                if (
                    rank is not None
                    and (found is None or rank < found)
                    and not UNIT_WORD_END.search(" ".join(words[max(0, i - 2) : i]))
                ):  # a commune's or a district's own name is none of a province
                    found = rank
        return None if found is None else self.provinces[self._province_keys[found]]

    def province_fuzzy(self, text: str) -> str | None:
        """The province for an OCR-damaged name ("Kién Gang"), conservative."""
        key = match_key(text)
        if not key:
            return None
        hit = process.extractOne(key, self._province_keys, scorer=fuzz.ratio, score_cutoff=85)
        return self.provinces[hit[0]] if hit else None

    def strip_province(self, text: str, province: str | None) -> str:
        """Key of a mention without a trailing province name ("Sở Y tế tỉnh Gia Lai")."""
        key = match_key(text)
        tails, any_tail = self._tails(province)
        if not key.endswith(any_tail):  # most mentions: one test, not one per name
            return key
        for tail, suffix in tails:
            if key.endswith(tail):
                return (key[: -len(tail)] + suffix).strip()
        return key

    def _tails(self, province: str | None) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
        """The endings :meth:`strip_province` looks for, in the order it tries them (the
        province's own name alone too), with what replaces each; made once per province."""
        found = self._tail_cache.get(province)
        if found is None:
            tails = []
            for pkey in self._province_keys:
                named = self.provinces[pkey] == province
                for prefix in ("", "tinh ", "thanh pho ") if named else ("tinh ", "thanh pho "):
                    tails.append((f" {prefix}{pkey}", " tinh" if prefix == "tinh " else ""))
            found = self._tail_cache[province] = (tails, tuple(t for t, _ in tails))
        return found

    # -- agencies ----------------------------------------------------------------------------
    def _keys(self, province: str | None) -> dict[str, Entry]:
        if province not in self._cache:
            keys: dict[str, Entry] = {}
            for label, entry in self.labels:
                keys.setdefault(expand(match_key(_fill(label, province))), entry)
            self._cache[province] = keys
            self._key_lists[province] = list(keys)
        return self._cache[province]

    def entry(self, ref_id: str) -> Entry | None:
        """The reference entry with this identifier (``uy-ban-nhan-dan-tinh``), if listed."""
        return next((e for e in self.entries if e.ref_id == ref_id), None)

    def canonical(self, entry: Entry, province: str | None) -> str:
        """The body's name in that province: a municipality's party committee is its Thành ủy."""
        return municipal_name(_fill(entry.label, province), province in self.municipal)

    def lookup(self, raw: str, province: str | None = None) -> tuple[Entry | None, float]:
        """Best reference entry for a mention and its score (0-100). A mention that is a label
        filled with the province ("Báo và Phát thanh, Truyền hình Quảng Ninh") is that body: the
        province's name is stripped only to look up the labels that do not end with it."""
        keys = self._keys(province)
        whole = expand(_LEADING.sub("", match_key(raw)))
        if whole in keys:
            return keys[whole], 100.0
        key = expand(_LEADING.sub("", self.strip_province(raw, province)))
        key = _OCR_SO.sub("so ", key)
        if not key:
            return None, 0.0
        key = re.sub(r" thanh pho$", " tinh", key)  # a municipality's bodies: "... Thành phố"
        for candidate in (key, re.sub(r" tinh$", "", key), f"{key} tinh"):
            if candidate in keys:
                return keys[candidate], 100.0
        cutoff = THRESHOLD if len(key) < 25 else LONG_THRESHOLD
        choices = self._key_lists[province]  # made with the keys: not a new list per lookup
        hit = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
        if hit is None:
            return self._by_skeleton(key, province)
        return keys[hit[0]], float(hit[1])

    def _by_skeleton(self, key: str, province: str | None) -> tuple[Entry | None, float]:
        """The one known body whose name has the key's consonant skeleton, if only one has
        it and its name is still close to the key: a name whose vowels the OCR lost."""
        if len(key.split()) < SKELETON_MIN_WORDS:
            return None, 0.0
        keys = self._keys(province)
        skeletons = self._skeletons.get(province)
        if skeletons is None:
            skeletons = self._skeletons[province] = {}
            for known in keys:
                skeletons.setdefault(syllable_skeleton(known), []).append(known)
        found = skeletons.get(syllable_skeleton(key), [])
        if not found:
            return self._by_dropped_word(key, province)
        if len({keys[k].ref_id for k in found}) != 1:
            return None, 0.0
        best = max(found, key=lambda k: fuzz.ratio(key, k))
        score = fuzz.ratio(key, best)
        return (keys[best], float(score)) if score >= SKELETON_THRESHOLD else (None, 0.0)

    def _by_dropped_word(self, key: str, province: str | None) -> tuple[Entry | None, float]:
        """The one known body whose name is the key with one word more than it, inside it (not
        the head noun nor the last word, which readers of a name's prefix try), not a plural
        marker or a unit's word ("Sở Khoa và Công nghệ": an OCR dropped "học";
        without "các" or "xã" a name is of another body), compared by consonant skeleton: only
        for a name no known name has the skeleton of (else that name decides, or none)."""
        if key.split()[0] in _NEVER_DROPPED:
            return None, 0.0  # a group ("các sở, ngành, cơ quan") is a list, not a name
        keys = self._keys(province)
        shortened = self._shortened.get(province)
        if shortened is None:
            shortened = self._shortened[province] = {}
            for known in keys:
                words = known.split()
                if len(words) <= SKELETON_MIN_WORDS:
                    continue
                for i in range(1, len(words) - 1):  # (a name less its last word is a prefix)
                    if words[i] in _NEVER_DROPPED:
                        continue
                    short = " ".join(words[:i] + words[i + 1 :])
                    shortened.setdefault(syllable_skeleton(short), []).append((known, short))
        found = shortened.get(syllable_skeleton(key), [])
        if len({keys[k].ref_id for k, _ in found}) != 1:
            return None, 0.0
        best, short = max(found, key=lambda pair: fuzz.ratio(key, pair[1]))
        score = fuzz.ratio(key, short)
        return (keys[best], float(score)) if score >= SKELETON_THRESHOLD else (None, 0.0)

    def named_province(self, text: str) -> str | None:
        """The province a mention ends with ("Sở Y tế tỉnh Cà Mau", "Báo Kiên Giang"), if any."""
        key = match_key(text)
        if not key.endswith(self._spaced_keys):  # most mentions: one test, not one per name
            return None
        for pkey in self._province_keys:
            if key.endswith(f" {pkey}") and len(key) > len(pkey) + 1:
                if UNIT_WORD_END.search(key[: -len(pkey) - 1]):
                    return None  # "Ủy ban nhân dân phường X": the ward's own name
                return self.provinces[pkey]
        return None

    def names_unit(self, text: str, name: str) -> bool:
        """Whether ``text`` names ``name`` as a unit below a province ("ỦY BAN NHÂN DÂN XÃ X"
        names "X"): then ``name`` is that commune's or district's, not a province's."""
        key, name_key = f" {match_key(text)} ", f" {match_key(name)} "
        start = key.find(name_key) if name_key.strip() else -1
        while start >= 0:
            if UNIT_WORD_END.search(key[:start].strip()):
                return True
            start = key.find(name_key, start + 1)
        return False

    def agency(self, raw: str, province: str | None = None) -> AgencyMention:
        """Resolve one mention; unresolved mentions keep their raw text and a guessed kind.

        A provincial body is of the province its name ends with ("Sở Y tế tỉnh Cà Mau" in a
        Kiên Giang plan is Cà Mau's), else of the document's province. The same mention in the
        same province resolves the same way: answers are remembered (a fresh copy each time,
        callers may change theirs), as plans name the same bodies over and over.
        """
        key = (raw, province)
        known = self._agencies.get(key)
        if known is None:
            if len(self._agencies) >= 100_000:
                self._agencies.clear()
            known = self._agencies[key] = self._agency(raw, province)
        return fresh_copy(known)

    def _agency(self, raw: str, province: str | None) -> AgencyMention:
        text = nfc(raw).strip(" ,;:.-")
        found = self.commune_body(text, province)
        if found is not None:
            return found
        province = self.named_province(text) or province
        entry, score = self.lookup(text, province)
        if entry is None:
            return AgencyMention(raw=text, kind=guess_kind(text), score=score)
        return AgencyMention(
            raw=text,
            canonical=self.canonical(entry, province),
            reference_id=entry.ref_id,
            kind=entry.kind,
            province=province if entry.level in {"Provincial", "District"} else None,
            score=score,
        )


    # -- communes ----------------------------------------------------------------------------
    @property
    def communes(self) -> Communes:
        if self._communes is None:
            self._communes = Communes.read(self._folder / "tables")
        return self._communes

    def commune_body(self, text: str, province: str | None, before_2025: bool = False
                     ) -> AgencyMention | None:
        """A named commune's body ("Công an xã Ea Kly", "UBND phường Hạc Thành"): a commune-level
        template's head, a unit word, and the name of a commune the list holds (in the plan's
        province; with none known, the one province holding a commune of that name). None for
        anything else, a group ("các xã") included: those are matched as before; the body with
        its unit word and no name ("Công an xã", "… cấp xã") is every commune's. A commune
        before the 2025 merger whose name no commune of today bears is the one it went into
        whole (the mention keeps what the text said; ``before_2025``: a document dated before
        the merger, whose names are the former communes' first); a named commune the lists lack
        (a misspelling) or one divided among several is left unresolved, never taken for a
        group's or a province's body."""
        if not self.commune_heads:
            return None
        words = expand(match_key(text)).split()
        unknown = None
        for i in range(1, len(words)):
            unit = _commune_word_at(words, i)
            if unit is None:
                continue
            size = len(unit.key.split())
            level = i > 1 and words[i - 1] == "cap"  # "Ủy ban nhân dân cấp xã"
            entry = self.commune_heads.get(" ".join(words[: i - 1 if level else i]))
            if entry is None:
                continue
            name = words[i + size :]
            if level and name:
                continue
            if not name and not unit.current:  # "Công an thị trấn": no group of today's
                continue
            if not name:  # "Công an (cấp) xã": every commune's of the plan's province, a group
                group = entry.label.replace(COMMUNE, "cấp xã")  # the group the list names so
                listed, score = self.lookup(group, province)
                if score == 100.0 and listed and listed.kind is AddresseeKind.COLLECTIVE:
                    entry, group = listed, self.canonical(listed, province)
                return AgencyMention(raw=text, canonical=group, reference_id=entry.ref_id,
                                     kind=AddresseeKind.COLLECTIVE, province=province, score=100.0)
            found = self.communes.find(" ".join(name), " ".join(words[i : i + size]), province,
                                       before_2025)
            if found is None:  # an unlisted name: a commune's, not the province's
                if len(name) <= 4 and not _NOT_A_NAME.intersection(name):
                    unknown = AgencyMention(raw=text, kind=AddresseeKind.AGENCY)
                continue
            commune, where = found
            return AgencyMention(raw=text, canonical=entry.label.replace(COMMUNE, commune),
                                 reference_id=entry.ref_id, kind=entry.kind, province=where,
                                 score=100.0, commune=commune)
        return unknown

    def province_then(self, text: str, province: str | None) -> str | None:
        """The province (of the 63 before 2025) that held the former commune ``text`` names
        ("ỦY BAN NHÂN DÂN PHƯỜNG X"), when the former communes of that name (in ``province``,
        old or new) were all in one: a document of that commune dated before the merger is of
        that province, as a provincial plan of then is of its province of then."""
        words = expand(match_key(text)).split()
        for i in range(1, len(words)):
            unit = _commune_word_at(words, i)
            name = " ".join(words[i + len(unit.key.split()):]) if unit else ""
            if unit is None or not name:
                continue
            held = {old.province for old in self.communes.former_pool(name, unit.key, province)}
            if len(held) == 1:
                return held.pop()
        return None


# Words no commune's name holds: a group's or a list's ("các xã", "xã, phường, thị trấn").
_NOT_A_NAME = {"cac", "xa", "phuong", "dac", "khu", "thi", "tran", "huyen", "tinh", "va"}
# The words that open a commune's name, today's or one before 2025 (longest first: "thị trấn").
_TODAYS_WORDS = {w.key for w in COMMUNE_WORDS}
_NAMING_WORDS = sorted({*COMMUNE_WORDS, *OLD_COMMUNE_WORDS}, key=lambda w: -len(w.key))


def _commune_word_at(words: list[str], i: int) -> UnitWord | None:
    """The commune's unit word that ``words[i:]`` opens with, if any."""
    for unit in _NAMING_WORDS:
        parts = unit.key.split()
        if words[i : i + len(parts)] == parts:
            return unit
    return None


@dataclass(frozen=True)
class Commune:
    name: str  # without its unit word: "Ea Kly"
    division: str  # "xã", "phường", "đặc khu"
    province: str  # canonical province name
    code: str = ""  # the list's code (joins the former communes to what they became)

    @property
    def full(self) -> str:
        return f"{self.division} {self.name}"


@dataclass(frozen=True)
class FormerCommune:
    name: str  # as before 2025, without its unit word
    division: str  # "xã", "phường", "thị trấn"
    province: str  # the province it was in (one of the 63)
    became: tuple[Commune, ...]  # the one commune it went into whole, or those it was divided among


class Communes:
    """The communes of the 34 provinces (``tables/communes_2025.csv``) and those before the 2025
    merger with what each became (``tables/communes_before_2025.csv``), both generated from the
    field's packages, found by the key of their name."""

    def __init__(self, communes: list[Commune], former: Path | list[FormerCommune] = ()
                 ) -> None:
        self.by_key: dict[str, list[Commune]] = {}
        for commune in communes:
            self.by_key.setdefault(match_key(commune.name), []).append(commune)
        self._former = former  # the table, read at the first name today's list lacks
        self._former_by_key: dict[str, list[FormerCommune]] | None = None

    @property
    def former_by_key(self) -> dict[str, list[FormerCommune]]:
        """The former communes by the key of their name: read once, when first asked (most
        plans name only communes of today, and the table is three times as long)."""
        if self._former_by_key is None:
            self._former_by_key = {}
            for old in self._read_former() if isinstance(self._former, Path) else self._former:
                self._former_by_key.setdefault(match_key(old.name), []).append(old)
        return self._former_by_key

    def _read_former(self) -> list[FormerCommune]:
        assert isinstance(self._former, Path)
        if not self._former.exists():
            return []
        by_code = {c.code: c for found in self.by_key.values() for c in found}
        with open(self._former, encoding="utf-8", newline="") as handle:
            return [FormerCommune(nfc(r["name"]), nfc(r["division"]), nfc(r["province"]),
                                  tuple(by_code[c] for c in r["became"].split()))
                    for r in csv.DictReader(handle)]

    @classmethod
    def read(cls, tables: Path) -> Communes:
        try:
            with open(tables / "provinces_2025.csv", encoding="utf-8", newline="") as handle:
                names = {r["code_2025"]: nfc(r["name"]) for r in csv.DictReader(handle)}
            with open(tables / COMMUNES_TABLE, encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
        except FileNotFoundError:  # a reference folder without the tables: no commune named
            return cls([])
        return cls([Commune(nfc(r["name"]), nfc(r["division"]), names[r["province_code_2025"]],
                            r["code"]) for r in rows], tables / COMMUNES_BEFORE_TABLE)

    def find(self, name_key: str, word_key: str, province: str | None,
             before_2025: bool = False) -> tuple[str, str] | None:
        """(the commune as named with its unit word, its province) for a name and unit word in
        key space: the plan's province's commune of that name (a plan names its own communes;
        another province's would carry that province's name), or with no province known the
        only one anywhere; a unit word the list disagrees with is taken when the name alone is
        unambiguous. In a document dated before the 2025 merger (``before_2025``), a name the
        former communes hold is theirs first: the commune of today that took it may be another."""
        if before_2025 and self.former_pool(name_key, word_key, province):
            return self.former(name_key, word_key, province)
        found = self.by_key.get(name_key, [])
        pool = found if province is None else [c for c in found if c.province == province]
        same_word = [c for c in pool if match_key(c.division) == word_key]
        if pool and word_key in _TODAYS_WORDS:
            for choice in (same_word, pool):
                if len(choice) == 1:
                    return choice[0].full, choice[0].province
            return None  # several: not guessed
        return self.former(name_key, word_key, province)  # "thị trấn X" is always a former one

    def former(self, name_key: str, word_key: str, province: str | None
               ) -> tuple[str, str] | None:
        """What a commune before 2025 became, for a name no commune of today bears (in the
        plan's province, the old one or the new): the one commune all the old ones of that name
        (of that unit word, if any has it) went into whole. One divided among several, or
        several old communes that went different ways, is none of them: not guessed."""
        became = {commune for old in self.former_pool(name_key, word_key, province)
                  for commune in old.became}
        if len(became) != 1:
            return None
        [commune] = became
        return commune.full, commune.province


    def former_pool(self, name_key: str, word_key: str, province: str | None
                     ) -> list[FormerCommune]:
        """The former communes of that name in the province, old or new (of that unit word, if
        any has it)."""
        found = self.former_by_key.get(name_key, [])
        pool = found if province is None else [
            old for old in found
            if old.province == province or any(c.province == province for c in old.became)]
        return [old for old in pool if match_key(old.division) == word_key] or pool


def fresh_copy(mention: AgencyMention) -> AgencyMention:
    """A copy of a remembered mention, for a caller that may change it: dataclasses.replace's
    result (the same fields) made without going through the fields one by one."""
    copy = AgencyMention.__new__(AgencyMention)
    copy.__dict__.update(mention.__dict__)
    return copy


_MUNICIPAL_WORDS = [(re.compile(r"\bTỉnh (ủy|đoàn)"), r"Thành \1"),
                    (re.compile(r" tỉnh\b"), " thành phố")]


def municipal_name(name: str, municipal: bool) -> str:
    """A body's name in a centrally-run city: its Thành ủy, Thành đoàn, Công an thành phố."""
    if not municipal:
        return name
    for pattern, replacement in _MUNICIPAL_WORDS:
        name = pattern.sub(replacement, name)
    return name


def _fill(label: str, province: str | None) -> str:
    """A label with the plan's province put in ("Báo {province}" -> "Báo Kiên Giang")."""
    if PLACEHOLDER not in label:
        return label
    if province is None:
        return label.replace(
            PLACEHOLDER, "tỉnh" if label.startswith(("Báo", "Đài")) else ""
        ).strip()
    return fill_province(label, province)


# A unit word written before the province's name ("Ủy ban nhân dân tỉnh {province}").
_UNIT_BEFORE = re.compile(r"\b(?:tỉnh|thành phố) (?=\{province\})", re.IGNORECASE)
_NAMED_WITH_UNIT = re.compile(r"(?:Tỉnh|Thành phố) ")


def fill_province(label: str, province: str) -> str:
    """``label`` with ``province`` put in for its placeholder. A province whose official name
    holds its unit word ("Thành phố …") does not get it twice: "Ủy ban nhân dân tỉnh {province}"
    names it "Ủy ban nhân dân Thành phố …", as its letterhead does."""
    if _NAMED_WITH_UNIT.match(province):
        label = _UNIT_BEFORE.sub("", label)
    return label.replace(PLACEHOLDER, province)


# What each abbreviation above holds ("uy ban mat tran" is left as it is): a key holding none of
# them (most keys) is returned after one scan, not seven substitutions. No expansion writes one.
_ABBREVIATION_HINT = re.compile(r"ubnd|hdnd|mttq|xh|lao dong tb")


def expand(key: str) -> str:
    """Expand the usual abbreviations in a key ("ubnd tinh" -> "uy ban nhan dan tinh")."""
    if not _ABBREVIATION_HINT.search(key):
        return key
    for pattern, replacement in _ABBREVIATIONS:
        key = pattern.sub(replacement, key)
    return key


def guess_kind(text: str) -> AddresseeKind:
    """Collective when the name is a group ("Các sở...", "UBND các huyện...")."""
    key = expand(match_key(text))
    if _COLLECTIVE.search(key) or _DISTRICT_COLLECTIVE.match(key):
        return AddresseeKind.COLLECTIVE
    return AddresseeKind.AGENCY


@lru_cache(maxsize=1)
def default_matcher() -> Matcher:
    """The packaged reference list, loaded once."""
    return Matcher()
