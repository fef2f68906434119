"""Mentions of bodies of the state in text: where a mention starts and where it ends.

A body is named by a head noun of its kind (Bộ, Sở, Vụ, Cục, Viện, Trung tâm, Công ty, Cổng,
Báo, Đài, Ủy ban nhân dân, Công an, Bộ Chỉ huy, ...) followed by its proper name; a group of
bodies by a plural ("các sở, ban, ngành", "Ủy ban nhân dân các xã, phường", "Doanh nghiệp, tổ
chức, cá nhân"). The kinds of heads, the titles of office holders ("Giám đốc các Sở", "Bộ
trưởng Bộ Công an": the body is what counts) and the words that end a name (role phrases such
as "chủ trì", "được giao", "định kỳ") are data below, not per-document rules.

Segmentation only: resolving a mention to a reference body is
:class:`kgraph.reference.matching.Matcher`'s job. The split of a list keeps the longest run
of parts the reference list knows ("Ủy ban nhân dân các huyện, thị xã, thành phố" holds
commas; "Sở Văn hóa, Thể thao và Du lịch" holds "và"); what it does not know stays an
unresolved mention running until the next body's head noun.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from kgraph.ingest.model import AddresseeKind, AgencyMention
from kgraph.ingest.text import TEXTS_KEPT, aligned_fold, match_key, ocr_tolerant
from kgraph.reference.matching import Matcher, fresh_copy
from kgraph.reference.units import SPLITTER_WORDS, SPREAD_WORDS

# Head nouns of kinds of bodies (folded). OCR forms of "Sở" ("S6", "8&", "S¢") are the first two.
BODY_HEADS: tuple[str, ...] = (
    r"s\S{0,2}",
    r"[58]\S?",
    "bo chi huy",
    "bo tu lenh",
    "bo",
    "bd",  # "Bộ" read "Bd" ("ộ" as "d"): no Vietnamese syllable opens with "bd"
    "so",
    "ban quan ly",
    "ban chi dao",
    "ban",
    "vu",
    "tong cuc",
    "chi cuc",
    "cuc",
    "vien kiem sat",
    "vien",
    "trung tam",
    "lien hiep",
    "hiep hoi",
    "hoi dong",
    "hoi",
    "tong cong ty",
    "cong ty",
    "tap doan",
    "cong thong tin",
    # Báo / Đài / Quỹ fold like the verbs and nouns "bảo đảm", "đại hội", "quy định".
    r"bao(?! dam| ve| cao| dong| ton| quan)",
    r"dai(?! hoi| bieu| dien| tra| su)",
    "uy ban",
    "ubnd",
    "ub",
    "cong an",
    "canh sat",
    "van phong",
    "thanh tra",
    "kho bac",
    "thue",
    "ngan hang",
    "kiem toan",
    "toa an",
    "mat tran",
    "lien doan",
    "tinh doan",
    "thanh doan",
    "doan",
    "tinh uy",
    "thanh uy",
    "huyen uy",
    "dang uy",
    "phong",
    "to cong tac",
    "truong",
    "benh vien",
    "tram y te",  # a commune's health station
    "bao hiem",
    "he thong",
    "lanh dao",
    "doanh nghiep",
    "hop tac xa",
    r"quy(?! dinh| hoach| trinh| che| mo| tac| pham)",
    "c[a-z]c",  # "Các sở ...", a collective
    # groups named without "các": "Cơ quan, đơn vị được giao ...", "Tổ chức, cá nhân ..."
    "co quan",
    "don vi",
    "dia phuong",
    r"to chuc(?=\s*,|\s+va\b|\s+ca nhan)",
)
# Heads that also start a body in lower case inside a list ("... và hệ thống truyền thanh").
LOWER_CASE_HEADS = ("he thong", "cac", "doanh nghiep")
# Plurals and generic nouns: a mention opening with one of them names a group of bodies.
COLLECTIVE_HEADS = ("cac", "doanh nghiep", "lanh dao", "to chuc", "co quan", "don vi", "dia phuong")
# Office holders named instead of their body, and honorifics before a body.
OFFICE_HOLDERS = (
    "bo truong",
    "thu truong",
    "giam doc",
    "pho giam doc",
    "chu tich",
    "vu truong",
    "cuc truong",
    "chanh van phong",
    "chanh thanh tra",
    "truong ban",
    "tong giam doc",
    "cac dong chi",
    "dong chi",
)
# Words that open an assignment before the body: "Đề nghị", "Giao", "Yêu cầu".
LEAD_INS = (r"[dbp]e\s*ngh[a-z]", "giao", "yeu cau")
# Where a body's name ends: a role or a qualifier ("chủ trì", "được giao", "định kỳ") ...
ROLE_WORDS = (
    "chu tri",
    r"ph[a-z]{1,3}\s*h[a-z]{1,2}p",
    r"h[a-z]{2}g n[a-z]{1,2}m",
    "trong pham vi",
    "tham muu",
    r"c\S{1,2} tr\S{2,3}h nh\S{2,4}m",
    r"ch\S{1,3} tr\S{2,3}h nh\S{2,4}m",
    "thuc hien",
    "trien khai",
    "to chuc thuc hien",
    "to chuc trien khai",
    "chi dao",
    r"can c\S{0,2}(?=\s)",
    "theo",
    "duoc",
    "dinh ky",
    "khan truong",
    "chu dong",
    "phan cong",
    "vao cuoc",
)
# ... or, in a heading that is a sentence, any verb of a duty (which a name written alone on
# its line may hold: "Vụ Các vấn đề chung về xây dựng pháp luật").
DUTY_VERBS = (
    r"quan t[a-z]{1,2}m",
    "huong dan",
    "theo doi",
    "kien toan",
    "xay dung",
    "nghien cuu",
    "ra soat",
    "tang cuong",
    "cap nhat",
    "bo tri",
    "kiem tra",
    "lam tot",
    "phat huy",
    "tiep tuc",
    "nang cao",
    "dam bao",
    "bao dam",
    "tong hop",
    "day manh",
    "co y kien",
)
# Local units a kind of body spreads over ("Sở Tư pháp các tỉnh, thành phố ...").
LOCAL_UNITS = ("tinh", "thanh pho", *SPREAD_WORDS, "dia phuong")
# The generic words groups of bodies are named with ("các sở, ngành", "doanh nghiệp, tổ chức, cá
# nhân có liên quan"): an OCR-damaged group name is spelled back from them, word by word.
GROUP_WORDS = (
    "các", "bộ", "ban", "ngành", "sở", "cơ", "quan", "đơn", "vị", "địa", "phương", "tổ",
    "chức", "chính", "trị", "xã", "hội", "doanh", "nghiệp", "cộng", "đồng", "cá", "nhân", "có",
    "liên", "của", "thành", "phố", "tỉnh", "phường", "huyện", "thị", "viễn", "thông", "công",
    "nghệ", "số", "hệ", "thống", "truyền", "đoàn", "thể", "ủy", "nhân", "dân", "đặc", "khu",
    "trực", "thuộc", "trung", "ương", "lực", "lượng", "và", "cấp", "ngang", "chủ", "sở", "hữu",
)
# Abbreviations of fields in body names, expanded for matching ("Sở TN&MT").
FIELD_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"TN\s*&\s*MT|TNMT", "Tài nguyên và Môi trường"),
    (r"NN\s*&\s*PTNT|NNPTNT", "Nông nghiệp và Phát triển nông thôn"),
    (r"NN\s*&\s*MT|NNMT", "Nông nghiệp và Môi trường"),
    (r"KH\s*&\s*CN|KHCN", "Khoa học và Công nghệ"),
    (r"KH\s*&\s*ĐT|KHĐT", "Kế hoạch và Đầu tư"),
    (r"GD\s*&\s*ĐT|GDĐT", "Giáo dục và Đào tạo"),
    (r"TT\s*&\s*TT|TTTT", "Thông tin và Truyền thông"),
    (r"VH\s*,?\s*TT\s*&\s*DL|VHTTDL", "Văn hóa, Thể thao và Du lịch"),
    (r"GTVT", "Giao thông vận tải"),
)

_HEAD = re.compile(r"^(?:" + "|".join(BODY_HEADS) + r")\b")
_LOWER_HEAD = re.compile(r"^(?:" + "|".join(LOWER_CASE_HEADS) + r")\b")
_COLLECTIVE = re.compile(r"^(?:" + "|".join(COLLECTIVE_HEADS) + r")\b")
_ABBREVIATION = [(re.compile(rf"(?<!\w)(?:{p})(?!\w)"), full) for p, full in FIELD_ABBREVIATIONS]
_HEADING_NO = re.compile(r"^\s*(?:[0-9]{1,2}(?:\.[0-9]{1,2}){0,2}|[ivxl]{1,5}|[a-zđ])\s*[.,)]\s*")
# Office holders as an OCR may read them (at the start of an addressee, or after a comma). A
# title whose consonants are those of "các trường" ("cục trưởng": a group of schools) is only
# taken as written; "các đồng chí" is read through its damage ("Cac déng chi").
_OFFICE_TOLERANT = "|".join(
    p if re.fullmatch(ocr_tolerant(p), "cac truong") else ocr_tolerant(p) for p in OFFICE_HOLDERS
)
_OFFICE = re.compile(r"^\W*(?:" + _OFFICE_TOLERANT + r")(?=\s)\s*")
_LEAD_IN = re.compile(r"^\W*(?:" + "|".join(LEAD_INS) + r")\b\s*")
_REQUEST = re.compile(r"^\W*[dbp]e\s*ngh[a-z]\b")
_ROLE_CUT = re.compile(r"\s(?:" + "|".join(ROLE_WORDS) + r")(?!\w)|[:(.;]")
_DUTY_CUT = re.compile(r"\s(?:" + "|".join(ROLE_WORDS + DUTY_VERBS) + r")(?!\w)|[:(.;]")
# "Căn cứ kế hoạch này, Giám đốc các Sở ...": a leading basis clause before the addressees.
_BASIS = re.compile(r"^\W*(?:can c\S{0,2}|tren co so)\s[^,:;]{0,150},\s*")
# "Giám đốc các Sở, Thủ trưởng các ngành, cơ quan cấp tỉnh": heads of several kinds of bodies
# listed in a row are one group ("các Sở, ngành, cơ quan cấp tỉnh").
_TITLED_GROUP = re.compile(r",\s*(?:" + _OFFICE_TOLERANT + r")\s+c\S{0,2}c\s+")
_SPLIT = re.compile(r"(,\s*|;\s*|\s+v[aà]\s+|\s*/\s*)")


# Two capitals every abbreviation above opens with (no spelled-out field holds two in a row): a
# name without any (most names) is returned after one scan, not nine substitutions.
_ABBREVIATION_HINT = re.compile(r"TN|NN|KH|GD|TT|VH|GT")


def expand_abbreviations(text: str) -> str:
    """Field abbreviations in a body's name spelled out ("Sở TN&MT" -> "Sở Tài nguyên ...")."""
    if not _ABBREVIATION_HINT.search(text):
        return text
    for pattern, full in _ABBREVIATION:
        text = pattern.sub(full, text)
    return text


_GROUP_WORDS = {match_key(w): w for w in GROUP_WORDS}
_TOKEN = re.compile(r"[^\s,;/()-]+")


def spell_group(raw: str) -> str | None:
    """A group's name spelled from the generic words it is made of, OCR damage repaired
    ("Cac bd, nganh, dia phuong" -> "Các bộ, ngành, địa phương"); None when a word is not one
    of them (then the name is not a plain group name and stays as written)."""
    out, last = [], 0
    for m in _TOKEN.finditer(raw):
        word = _group_word(m.group(0))
        if word is None:
            return None
        if m.group(0)[:1].isupper():
            word = word[:1].upper() + word[1:]
        out.append(raw[last : m.start()] + word)
        last = m.end()
    return "".join(out) + raw[last:] if out else None


# How an English-only OCR writes "ư" and "ơ" inside a word ("chifc" for "chức").
_OCR_DIGRAPHS = (("if", "u"), ("ir", "u"), ("tr", "u"))


@lru_cache(maxsize=TEXTS_KEPT)
def _group_word(token: str) -> str | None:
    """The generic group word a token spells, OCR damage repaired (kept per token: an edit
    distance to every group word each time)."""
    key = match_key(token)
    if key in {"ubnd", "hdnd", "mttq"} or key in _GROUP_WORDS:
        return token  # a word as written (its accents may be the source's own)
    variants = {key, *(key.replace(a, b) for a, b in _OCR_DIGRAPHS if a in key[1:])}
    best: list[tuple[int, int, str]] = []
    for k, word in _GROUP_WORDS.items():
        if k[:1] != key[:1]:
            continue
        distance = min(Levenshtein.distance(k, v) for v in variants)
        if distance <= (1 if len(key) < 5 else 2):
            best.append((distance, abs(len(k) - len(key)), word))
    best.sort()
    if not best or (len(best) > 1 and best[0][:2] == best[1][:2]):
        return None
    return best[0][2]


def is_request(title: str) -> bool:
    """An entry that asks rather than orders: it opens with "Đề nghị"."""
    return bool(_REQUEST.match(aligned_fold(_HEADING_NO.sub("", title, count=1))))


@lru_cache(maxsize=TEXTS_KEPT)
def names_part(title: str, label: bool = False) -> str:
    """The part of a heading that names bodies: after lead-ins, before the role (kept per
    heading: each is asked up to four times, and plans repeat their headings).

    ``label``: the heading is a name only (its duties follow on other lines), so role words
    inside it belong to the name ("Vụ Các vấn đề chung về xây dựng pháp luật").
    """
    text = _HEADING_NO.sub("", title, count=1)
    folded = aligned_fold(text)
    start = 0
    basis = _BASIS.match(folded)
    start = basis.end() if basis else 0
    for pattern in (_LEAD_IN, _OFFICE):
        m = pattern.match(folded[start:])
        start += m.end() if m else 0
    colon = folded.find(":", start)
    if colon > 0:
        before, after = folded[start:colon].strip(), folded[colon + 1 :].strip()
        if before.startswith("cac") and _HEAD.match(after):
            start = colon + 1 + (len(folded[colon + 1 :]) - len(folded[colon + 1 :].lstrip()))
    end = len(text)
    for cut in (_ROLE_CUT if label else _DUTY_CUT).finditer(folded, start):
        if not _names_a_body(text, folded, cut.start()):
            end = cut.start()
            break
    names = text[start:end]
    if folded[start:end].startswith("cac "):
        kept, last = [], 0
        for m in _TITLED_GROUP.finditer(folded, start, end):
            kept.append(text[start + last : m.start()] + ", ")
            last = m.end() - start
        names = "".join(kept) + text[start + last : end]
    return names.strip(" ,-–")


def looks_named(names: str) -> bool:
    """A heading names a body when it starts with a body's head noun."""
    return bool(names) and bool(_HEAD.match(aligned_fold(names).strip()))


def opens_with_body(title: str) -> bool:
    """An entry that opens with a body ("2.1 Sở Y tế", "Giao Sở ...", "Giám đốc các Sở")."""
    return looks_named(names_part(title))


SPLITS_KEPT = 20_000  # lists of bodies remembered with their split
_SPLITS: dict[tuple[int, str, str | None], tuple[Matcher, tuple[AgencyMention, ...]]] = {}


def split_agencies(text: str, matcher: Matcher, province: str | None) -> list[AgencyMention]:
    """Greedy longest-known-run split of a list of bodies, as fresh mentions.

    Remembered per text, matcher and province: plans repeat their lists of bodies (about half
    of a plan's lists were split before, 0.3 ms a plan); the split depends on nothing else."""
    key = (id(matcher), text, province)
    found = _SPLITS.get(key)
    if found is None or found[0] is not matcher:  # (a matcher kept with its entries)
        if len(_SPLITS) >= SPLITS_KEPT:
            _SPLITS.clear()
        found = _SPLITS[key] = (matcher, tuple(
            fresh_copy(m) for m in _split_agencies(text, matcher, province)))
    return [fresh_copy(m) for m in found[1]]


def _split_agencies(text: str, matcher: Matcher, province: str | None
                    ) -> list[AgencyMention]:
    parts = _SPLIT.split(text)
    names, seps = parts[0::2], parts[1::2]
    runs: list[tuple[int, int, AgencyMention]] = []  # (first part, part after, mention)
    i = 0
    while i < len(names):
        if not names[i].strip():
            i += 1
            continue
        best = None
        bare = i + 1 < len(names) and _bare_head(names[i], seps[i], names[i + 1])
        spread = _spread(names, i)
        if spread > i + 1:
            runs.append((i, spread, _collective(_join(names, seps, i, spread), matcher, province)))
            i = spread
            continue
        for j in range(min(len(names), i + 7), i + bare, -1):
            if _name_goes_on(names, seps, j):
                continue  # "... công nghệ cao và khu công nghiệp": the name is not over yet
            mention = _resolve(_join(names, seps, i, j), matcher, province)
            if mention.resolved and (best is None or mention.score > best[1].score):
                best = (j, mention)
        if best is None:
            j = i + 1
            while j < len(names) and not _starts_body(names[j], seps[j - 1], names[j - 1]):
                j += 1
            best = (j, _resolve(_join(names, seps, i, j), matcher, province, prefix=True))
        if runs and _continues_group(runs[-1][2], best[1], names[i], seps[i - 1]):
            first, _, previous = runs[-1]
            merged = _resolve(_join(names, seps, first, best[0]), matcher, province)
            if merged.resolved or not previous.resolved:  # never lose a known body
                runs.pop()
                best, i = (best[0], merged), first
        runs.append((i, best[0], best[1]))
        i = best[0]
    return [m for _, _, m in runs if m.raw]


# "Sở Tư pháp các tỉnh, thành phố trực thuộc Trung ương": one kind of body across local units.
_SPREAD = re.compile(r"\S\s+cac\s+(?:" + "|".join(LOCAL_UNITS) + r")\b")
_UNIT = re.compile(r"^(?:" + "|".join(LOCAL_UNITS) + r")\b")


def _spread(names: list[str], i: int) -> int:
    """Index after the parts naming a body across local units, else i + 1."""
    if not _SPREAD.search(aligned_fold(names[i])):
        return i + 1
    j = i + 1
    while j < len(names) and _UNIT.match(aligned_fold(names[j]).strip()):
        j += 1
    return j


def _collective(raw: str, matcher: Matcher, province: str | None) -> AgencyMention:
    mention = matcher.agency(expand_abbreviations(raw), province)
    if not mention.resolved or mention.kind is not AddresseeKind.COLLECTIVE:
        mention = AgencyMention(raw=raw, kind=AddresseeKind.COLLECTIVE)
        mention.spelled = (spell_group(expand_abbreviations(raw))
                           or _spelled_spread(raw, matcher, province))
    mention.raw = raw.strip(" ,;:.-")
    return mention


def _spelled_spread(raw: str, matcher: Matcher, province: str | None) -> str | None:
    """A kind of body across local units spelled as the body's known name and the units'
    generic words ("Sd TN&MT cac tinh, thanh pho ..." -> "Sở Tài nguyên và Môi trường các
    tỉnh, thành phố ..."): the name an OCR damaged is the body's, the units' words are few."""
    m = _SPREAD.search(aligned_fold(raw))
    if m is None:
        return None
    body = matcher.agency(expand_abbreviations(raw[: m.start() + 1]), province)
    units = spell_group(raw[m.start() + 1 :].strip())
    if not body.resolved or body.kind is not AddresseeKind.AGENCY or units is None:
        return None
    return f"{body.canonical} {units}"


_LOOKUPS: dict[tuple[int, str, str | None, bool], AgencyMention] = {}


def _resolve(
    raw: str, matcher: Matcher, province: str | None, prefix: bool = False
) -> AgencyMention:
    """The matcher's reading (remembered: lists of bodies repeat), as a fresh mention."""
    key = (id(matcher), raw, province, prefix)
    if key not in _LOOKUPS:
        if len(_LOOKUPS) > 50_000:
            _LOOKUPS.clear()
        _LOOKUPS[key] = _read(raw, matcher, province, prefix)
    return fresh_copy(_LOOKUPS[key])


def _read(raw: str, matcher: Matcher, province: str | None, prefix: bool) -> AgencyMention:
    """The matcher's reading, on the name with its field abbreviations spelled out."""
    raw = raw.strip()
    expanded = expand_abbreviations(raw)
    mention = matcher.agency(expanded, province)
    if mention.resolved and not _same_head(expanded, mention.canonical or ""):
        mention = AgencyMention(raw=raw, kind=mention.kind)  # "Báo ..." is no "Bộ ..."
    if not mention.resolved and prefix:
        mention = _known_prefix(expanded, matcher, province) or mention
    if not mention.resolved:
        mention.spelled = spell_group(raw)
        if _COLLECTIVE.match(aligned_fold(mention.spelled or raw).strip()):
            mention.kind = AddresseeKind.COLLECTIVE
    mention.raw = raw.strip(" ,;:.-")
    return mention


# Head nouns one letter apart that a fuzzy match may confuse ("Báo ..." read as "Bộ ...").
_CONFUSABLE_HEADS = re.compile(r"^(bao|bo|ban|vu|cuc|vien|dai|hoi|so|cong)\s")


def _same_head(raw: str, canonical: str) -> bool:
    """The reference body is of the kind the mention names, among heads easily confused."""
    said_key = match_key(raw)
    said, known = _CONFUSABLE_HEADS.match(said_key), _CONFUSABLE_HEADS.match(match_key(canonical))
    if said is None or known is None or _OFFICE.match(said_key):
        return True
    return said.group(1) == known.group(1)


def _known_prefix(text: str, matcher: Matcher, province: str | None) -> AgencyMention | None:
    """The longest run of first words the reference list knows, when a capital follows it
    ("Sở Nông nghiệp và Môi trường Khẩn trương chia sẻ ...": a hard-wrapped heading), or any
    word after a named body ("Sở Khoa học và Công nghệ có trách nhiệm" damaged by an OCR)."""
    words = text.split()
    group = bool(_COLLECTIVE.match(aligned_fold(text)))
    # "Công an xã Hà Bình ...": that commune's police, never the province's ("Công an"), nor
    # a group ("Công an xã"): a prefix runs on past the unit's name
    unit = next((n for n in range(1, min(len(words), 12)) if _names_unit(words, n)), None)
    shortest = 2
    if unit is not None:  # through the unit's whole name ("xã Krông Quang", not "xã Krông")
        shortest = unit + 1
        while shortest < len(words) and words[shortest][:1].isupper():
            shortest += 1
    for n in range(min(len(words) - 1, 12), shortest - 1, -1):
        if group and not words[n][:1].isupper():
            continue
        mention = matcher.agency(" ".join(words[:n]), province)
        if mention.resolved:
            return mention
    return None


def _names_unit(words: list[str], n: int) -> bool:
    """Whether ``words[n:]`` opens with a local unit's word and its capitalised name ("xã Hà
    Bình", "phường An Hòa") or ends with it ("Công an xã": a commune's, unnamed): the body's
    name before it goes on to name that unit's body."""
    for size in (1, 2):
        name = words[n + size : n + size + 1]
        if (aligned_fold(" ".join(words[n : n + size])).strip() in SPLITTER_WORDS
                and (not name or name[0][:1].isupper())):
            return True
    return False


def _continues_group(previous: AgencyMention, mention: AgencyMention, name: str, sep: str) -> bool:
    """An unknown lower-case part that goes on naming the group before it is part of its name.

    "các sở, ban, ngành, đoàn thể Thành phố" (a generic word goes on the list) and "Các sở, cơ
    quan trực thuộc Sở và các cơ quan liên quan" (two unknown groups joined by "và") are one
    collective addressee; "UBND các xã, phường, các cơ quan ... liên quan" stays two.
    """
    name = name.strip()
    if mention.resolved or previous.kind is not AddresseeKind.COLLECTIVE or not name[:1].islower():
        return False
    if not aligned_fold(name).startswith("cac "):
        return not _starts_body(name)
    return not previous.resolved and sep.strip() in {"và", "va"}


def _names_a_body(text: str, folded: str, at: int) -> bool:
    """A capitalised role word right after a head word is part of a name ("Sở Xây dựng")."""
    word = text[at:].strip()
    previous = folded[:at].split()[-1:] or [""]
    return word[:1].isupper() and bool(_HEAD.fullmatch(previous[0]))


def _starts_body(name: str, sep: str = ",", before: str = "x x") -> bool:
    """A head noun starts the next body of a list ("Sở", "Ban", "Các", "... và hệ thống")."""
    name = name.strip()
    folded = aligned_fold(name)
    if _bare_head(before, sep, name):
        return False  # "Báo và Phát thanh - Truyền hình": a bare head noun shares the name
    if name[:1].isupper() and _HEAD.match(folded):
        return True
    return bool(_LOWER_HEAD.match(folded))


def _name_goes_on(names: list[str], seps: list[str], j: int) -> bool:
    """After "và", a lower-case part that repeats a noun of the part before coordinates inside
    one name ("các khu công nghệ cao và khu công nghiệp"): the name is not over."""
    if j >= len(names) or seps[j - 1].strip() not in {"và", "va"}:
        return False
    after = names[j].strip()
    if not after[:1].islower() or _starts_body(after, seps[j - 1], names[j - 1]):
        return False
    return aligned_fold(after).split()[0] in aligned_fold(names[j - 1]).split()


def _bare_head(before: str, sep: str, after: str) -> bool:
    """"Báo và Phát thanh - Truyền hình ...": a head noun alone shares the name after "và"."""
    return (
        sep.strip() in {"và", "va"}
        and len(before.split()) == 1
        and bool(_HEAD.fullmatch(aligned_fold(before).strip()))
        and after.strip()[:1].isupper()
    )


def _join(names: list[str], seps: list[str], i: int, j: int) -> str:
    text = names[i]
    for k in range(i + 1, j):
        text += seps[k - 1] + names[k]
    return text.strip()


def kind_of(mentions: list[AgencyMention]) -> AddresseeKind:
    if not mentions:
        return AddresseeKind.GENERAL
    if any(m.kind is AddresseeKind.AGENCY for m in mentions):
        return AddresseeKind.AGENCY
    return AddresseeKind.COLLECTIVE
