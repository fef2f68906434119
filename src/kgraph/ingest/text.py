"""Text normalisation: Unicode NFC for storage, a diacritic-folded form for matching.

Stored text is always NFC. Matching happens in a folded space (no diacritics, đ→d, lower case,
whitespace collapsed) where OCR damage to accents no longer matters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# The pure text functions below keep their answers for this many recent texts: a plan's
# readers ask for the same lines, names and spans many times over (bounded: a worker reads
# thousands of plans).
TEXTS_KEPT = 4096

# --- control characters and limits on read ----------------------------------------------------
# pdftotext writes a form feed between pages; Word and OCR tools leave vertical tabs, NEL and the
# Unicode line/paragraph separators. Each becomes a newline, any other control character a
# space: one character for one, so every offset into the normalised text is an offset into the
# raw text too (spans cut from the raw text stay exact).
_LINE_BREAKS = "\f\v\x1c\x1d\x1e\x85\u2028\u2029"
_CONTROLS = re.compile(f"[{_LINE_BREAKS}]|[\x00-\x08\x0e-\x1f\x7f-\x9f]")
MAX_LINE_CHARS = 20_000  # a paragraph of a plan is a few thousand characters at most
MAX_NESTING = 100  # brackets and quotation marks inside one another
_OPENERS = "([{“‘«"
_CLOSERS = ")]}”’»"
_BRACKETS = re.compile(f"[{re.escape(_OPENERS + _CLOSERS)}]")


def normalise_controls(text: str) -> str:
    """Line separators (FF, VT, NEL, U+2028/9, ...) to "\n", other control characters to a
    space; tab, "\n" and "\r" stay. Length-preserving."""
    return _CONTROLS.sub(lambda m: "\n" if m.group() in _LINE_BREAKS else " ", text)


def limit_problem(text: str) -> str | None:
    """Why a text is beyond what the extractor reads in linear time, or None."""
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE_CHARS:
            return f"line {number} has {len(line)} characters (limit {MAX_LINE_CHARS})"
    depth = 0
    for bracket in _BRACKETS.finditer(text):
        if bracket.group() in _OPENERS:
            depth += 1
            if depth > MAX_NESTING:
                return f"brackets nested deeper than {MAX_NESTING}"
        elif depth:
            depth -= 1
    return None


@lru_cache(maxsize=TEXTS_KEPT)
def nfc(text: str) -> str:
    r"""NFC-normalise and collapse runs of white space (``str.split`` splits where ``\s+``
    matches, and is ten times faster: this runs on every line and span of a plan). Kept per
    text: a plan asks for the same lines and spans again and again (700 calls a plan on
    60 KB of text, 3 KB of it distinct)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class _CombiningTable(dict[int, int | None]):
    """str.translate table deleting combining marks, filled on first sight of each character."""

    def __missing__(self, code: int) -> int | None:
        self[code] = None if unicodedata.combining(chr(code)) else code
        return self[code]


_NO_COMBINING = _CombiningTable()


@lru_cache(maxsize=TEXTS_KEPT)
def fold(text: str) -> str:
    """Diacritic-free, lower-case form used for matching ("Sở Y tế" -> "so y te")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join(decomposed.translate(_NO_COMBINING).lower().split())


@lru_cache(maxsize=TEXTS_KEPT)
def slugify(text: str) -> str:
    """IRI-safe slug from any Vietnamese text ("234/KH-UBND" -> "234-kh-ubnd")."""
    return _NON_ALNUM.sub("-", fold(text)).strip("-")


# --- OCR repair for the folded matching space -------------------------------------------------
# An English-only OCR reads Vietnamese letters as look-alike digits and signs ("Sở" -> "S6",
# "S&", "S¢"; "cả" -> "c4"; "lập" -> "1ap"; "xã" -> "x3"). Inside a token that also holds
# letters such a character is a letter, never a digit, so it can be mapped back safely.
_OCR_CHAR = str.maketrans(
    {
        "0": "o",
        "6": "o",
        "&": "o",
        "¢": "o",
        "§": "o",
        "@": "o",
        "©": "o",
        "9": "o",
        "1": "l",
        "|": "l",
        "!": "l",
        "4": "a",
        "3": "a",
        "8": "s",
        "5": "s",
        "$": "s",
        "¥": "y",
    }
)
_TOKEN = re.compile(r"\S+")
_HAS_LETTER = re.compile(r"[a-z]")
_HAS_DIGITLIKE = re.compile(r"[0-9&¢§@©|!$¥]")
# Đ read as P by the OCR: no Vietnamese word starts with p + vowel ("Pao tao" -> "dao tao").
_P_FOR_D = re.compile(r"\bp(?=[aeiouy])")
_DIGIT_RUN = re.compile(r"[0-9]{2}")
_SIGN_ONLY = re.compile(r"^[0-9]?[&¢§@©]$")  # "8&", "S&" read for "Sở"
_PUNCT_EDGES = re.compile(r"^[^\w&¢§@©$¥]+|[^\w&¢§@©$¥]+$")


@lru_cache(maxsize=TEXTS_KEPT)
def _repair_token(token: str) -> str:
    """Map OCR look-alikes inside one folded token that mixes letters and digit-like signs
    (kept per token: dates and numbers come back in every plan, 20 times each)."""
    core = _PUNCT_EDGES.sub("", token)
    if not core or not _HAS_DIGITLIKE.search(core):
        return token
    if not _HAS_LETTER.search(core) and not _SIGN_ONLY.search(core):
        return token  # a real number ("28", "2024") stays as it is
    if "/" in core or (any(c.isdigit() for c in core) and "-" in core):
        return token  # a document number ("28-CT/TW") stays as it is
    if _DIGIT_RUN.search(core):
        return token  # "ngay26": a word glued to a real number, not a misread letter
    return token.replace(core, core.translate(_OCR_CHAR))


def ocr_fold(text: str) -> str:
    """Folded form with OCR look-alikes repaired: "S6 Lao dong" -> "so lao dong".

    Used only for matching; stored text keeps what the source says.
    """
    folded = fold(text)
    repaired = " ".join(_repair_token(tok) for tok in _TOKEN.findall(folded))
    return _spelling_repair(_P_FOR_D.sub("d", repaired))


# Vietnamese spelling has no "w", no "ii" and never a "d" after the first letter of a
# syllable; an English-only OCR writes all three ("twong" for "tương", "phii" for "phủ",
# "Qudc hdi" for "Quốc hội"). Abbreviations (UBND, LĐTBXH) keep their final/cluster "d".
_SPELLING = [
    (re.compile(r"w(?=[aeiouy])"), "u"),
    (re.compile(r"ii"), "u"),
    (re.compile(r"(?<=[a-z])d(?=[aeiouy]|(?:c|ch|n|ng|nh|t|m|p)\b)"), "o"),
]


# Nor a "w" or a "v" after another letter of a word: there they are a vowel ("Tw pháp", "Điện
# lvc"). A document's number ("28-CT/TW") keeps its code. Only in the key names are compared on
# (match_key), not in ocr_fold: the coverage's kept terms are folded by ocr_fold.
_WV_VOWEL = re.compile(r"(?<=[a-z])[wv](?=(?:c|ch|n|ng|nh|t|m|p)?\b)")
_CODE_TOKEN = re.compile(r"[0-9/]")


def _vowel_wv(token: re.Match[str]) -> str:
    word = token.group()
    return word if _CODE_TOKEN.search(word) else _WV_VOWEL.sub("u", word)


def _spelling_repair(folded: str) -> str:
    for pattern, replacement in _SPELLING:
        folded = pattern.sub(replacement, folded)
    return folded


# A Vietnamese syllable is an onset consonant (or none), a vowel nucleus and at most one final
# consonant. An English-only OCR damages the nucleus above all (its tone and vowel marks): "Sở"
# comes back as "Sé", "Sd", "SO"; "Tư" as "Tw"; "nước" as "niuc"; "hợp" as "hgp". The
# consonants around it survive, so a syllable's onset and final ("s_", "t_", "n_c", "h_p")
# still tell a known name from another.
_ONSET = re.compile(r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])")
_FINAL = re.compile(r"(?:ch|ng|nh|[cmnpt])$")


def syllable_parts(word: str) -> tuple[str, str, str]:
    """A folded syllable's onset, nucleus and final ("thuong" -> "th", "uo", "ng"); an OCR
    reading that lost the vowels keeps its consonants ("cng" -> "c", "", "ng")."""
    onset = _ONSET.match(word)
    head = onset.group() if onset else ""
    rest = word[len(head) :]
    final = _FINAL.search(rest)
    tail = final.group() if final else ""
    return head, rest[: len(rest) - len(tail)], tail


def ocr_tolerant(phrase: str) -> str:
    """A pattern for a folded phrase that its English-only OCR reading still matches: each
    syllable keeps its onset and final consonants, its vowels may come back as up to three
    other characters or none ("bộ trưởng" read "B6 triéng", "Bo trwdng", "BO truéng")."""
    out = []
    for word in phrase.split():
        head, _, tail = syllable_parts(word)
        out.append(rf"{head}\S{{0,3}}{tail}")
    return r"\s+".join(out)


@lru_cache(maxsize=TEXTS_KEPT)
def syllable_skeleton(key: str) -> str:
    """A key (from :func:`match_key`) with each syllable's vowel nucleus blanked out: "so y te",
    "se y te" and "sd y te" all give "s_ _ t_". Only for a last-resort comparison of names
    that no closer match found; a word with a digit, or too long for a syllable, is kept."""
    out = []
    for word in key.split():
        if any(c.isdigit() for c in word) or len(word) > 7:
            out.append(word)
            continue
        head, _, tail = syllable_parts(word)
        out.append(f"{head}_{tail}")
    return " ".join(out)


@lru_cache(maxsize=TEXTS_KEPT)
def match_key(text: str) -> str:
    """ocr_fold without punctuation: the key agency and province names are compared on."""
    folded = ocr_fold(text)
    if "w" in folded or "v" in folded:
        folded = _TOKEN.sub(_vowel_wv, folded)
    return " ".join(_NON_ALNUM.sub(" ", folded).split())


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return (base[:1] or ch).lower() if ch not in "đĐ" else "d"


class _FoldTable(dict):
    """str.translate table of _fold_char, filled on first sight of each character."""

    def __missing__(self, code: int) -> str:
        self[code] = _fold_char(chr(code))
        return self[code]


FOLD_TABLE = _FoldTable()  # also the outline's marker keys (the same folding, one char for one)
# Only a token holding a digit-like sign can need repair (the rest pass _repair_token as is).
_SUSPECT = "0-9&¢§@©|!$¥"
# From a token's first digit-like sign to its end: the pattern opens with a character class, so
# the regex engine skips to candidates in C instead of trying a token at every offset.
_SUSPECT_TAIL = re.compile(f"[{_SUSPECT}]\\S*")
# "\\bp" with the literal first ("p" not after a word character): found by a fast literal scan.
_P_FOR_D_FAST = re.compile(r"p(?<!\wp)(?=[aeiouy])")


@lru_cache(maxsize=TEXTS_KEPT)
def aligned_fold(text: str) -> str:
    """Folded and OCR-repaired, one output character per input character.

    Kept per text: the readers of a plan fold the same lines again and again (340 calls a
    plan, a sixth of them distinct).

    Lets a pattern found in the folded text be cut back out of the raw text by offset.
    """
    folded = _fold_long(text) if len(text) >= LONG_TEXT_CHARS else text.translate(FOLD_TABLE)
    if "l" in text and _L_BY_CAPITAL.search(text):
        folded = _letters_read_as(text, folded, _L_BY_CAPITAL, _WORD_AROUND, _capital_i_at, "i")
    if "w" in text:
        folded = _letters_read_as(text, folded, _W_INSIDE, _TOKEN_AROUND, _w_vowel_at, "u")
    return _P_FOR_D_FAST.sub("d", _repair_suspects(folded))


# A lower-case "w" inside a word ("xây dwng", "trwdng", "twong"): Vietnamese has no "w", the
# OCR wrote it for "ư". A code or an address ("28-CT/Tw", "gov.vn", "www") keeps it, and so
# does a word that opens with one ("web").
_W_INSIDE = re.compile(r"(?<=[^\W\d_])w")
_W_KEPT = re.compile(r"^[wW]|[0-9/.@:_]\S")


def _w_vowel_at(word: str) -> list[int]:
    """Where a "w" of the word stands for "ư"."""
    if "w" not in word or _W_KEPT.search(word):
        return []
    return [m.start() for m in _W_INSIDE.finditer(word)]


# An "l" beside a capital ("THỰC HlỆN", "TlÊU"): in a word otherwise in capitals, the OCR read
# a capital "I" as "l"; no word of capitals holds a lower-case letter.
_L_BY_CAPITAL = re.compile(r"[A-ZĐÂĂÊÔƠƯ]l|l[A-ZĐÂĂÊÔƠƯ]")
_WORD = re.compile(r"[^\W\d_]+")


def _capital_i_at(word: str) -> list[int]:
    """Where an "l" of a word otherwise in (two or more) capitals stands for "I"."""
    others = word.replace("l", "")
    if len(others) == len(word) or len(others) < 2 or not others.isupper():
        return []
    return [k for k, c in enumerate(word) if c == "l"]


# The word (letters) or the token (up to spaces) around a place of a text.
_WORD_AROUND = re.compile(r"[^\W\d_]*\Z"), re.compile(r"[^\W\d_]*")
_TOKEN_AROUND = re.compile(r"\S*\Z"), re.compile(r"\S*")


def _letters_read_as(text: str, folded: str, hint: re.Pattern[str],
                     around: tuple[re.Pattern[str], re.Pattern[str]],
                     misread: Callable[[str], list[int]], letter: str) -> str:
    """The folded text with the letter at each place of a word of the text that ``misread``
    says the OCR misread (one character for one: offsets still cut the raw text). Only the
    words around a ``hint`` are looked at: a plan's text has few, and thousands of words."""
    chars, seen = None, -1
    for m in hint.finditer(text):
        if m.start() < seen:
            continue  # in the word looked at already
        before = around[0].search(text, max(0, m.start() - 200), m.start())
        start = before.start() if before else m.start()
        end = around[1].match(text, start).end()
        seen = end
        for k in misread(text[start:end]):
            chars = chars if chars is not None else list(folded)
            chars[start + k] = letter
    return "".join(chars) if chars is not None else folded


def _repair_suspects(folded: str) -> str:
    """_repair_token on every whitespace-delimited token holding a digit-like sign."""
    out: list[str] = []
    last = 0
    for m in _SUSPECT_TAIL.finditer(folded):
        start = m.start()
        while start > last and not folded[start - 1].isspace():  # back to the token's start
            start -= 1
        token = folded[start : m.end()]
        repaired = _repair_token(token)
        if repaired is not token and repaired != token:
            out.append(folded[last:start])
            out.append(repaired)
            last = m.end()
    if not out:
        return folded
    out.append(folded[last:])
    return "".join(out)


LONG_TEXT_CHARS = 400  # from this length a text goes through the arrays below (even at ~300)


@lru_cache(maxsize=4)
def code_points(text: str) -> np.ndarray | None:
    """The text's code points as a read-only array (numpy, imported on first use), None when
    one lies beyond the Basic Multilingual Plane (the tables below cover only that). Kept for
    the last few texts: a document is folded and its letters counted."""
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return None if codes.size and int(codes.max()) >= 0x10000 else codes


class CodeTable:
    """A function of one character as an array over the BMP, filled for the characters seen
    so far: a whole document is mapped in one indexing step, where str.translate or a loop
    looks every character up through Python (0.7 ms for an 8,000-character plan, 0.1 ms here).
    """

    def __init__(self, of: Callable[[str], int]) -> None:
        self.of = of
        self.values: np.ndarray | None = None
        self.known: np.ndarray | None = None

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        """``of`` of each code point (from :func:`code_points`)."""
        import numpy as np

        if self.values is None or self.known is None:
            self.values = np.zeros(0x10000, dtype=np.int64)
            self.known = np.zeros(0x10000, dtype=bool)
        new = codes[~self.known[codes]]
        if new.size:
            for code in np.unique(new).tolist():
                self.values[code] = self.of(chr(code))
                self.known[code] = True
        return self.values[codes]


def _folded_code(ch: str) -> int:
    """The code point FOLD_TABLE maps a character to, -1 when it is not one character."""
    folded = FOLD_TABLE[ord(ch)]
    return ord(folded) if len(folded) == 1 else -1


_FOLDED_CODE = CodeTable(_folded_code)


def _fold_long(text: str) -> str:
    """text.translate(FOLD_TABLE), through the array when every character folds to one."""
    codes = code_points(text)
    if codes is not None:
        folded = _FOLDED_CODE(codes)
        if not (folded < 0).any():
            return folded.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
    return text.translate(FOLD_TABLE)
