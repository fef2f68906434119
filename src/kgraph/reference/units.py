"""The words that name a local unit below a province ("xã", "phường", "huyện", "thôn" …): one
table, read by the body splitter and the matcher, which each take the part they need.

The readers differ on purpose, and the table says why rather than each keeping its own list:

- the matcher's test "a unit's own name follows" (:data:`UNIT_WORD_END`) takes every word, as it
  reads a key's end, where "ban" and "quan" are only units' words after no "địa" and no "cơ"
  ("địa bàn", "cơ quan");
- the body splitter (:data:`SPLITTER_WORDS`) reads folded words anywhere in a heading: it leaves
  out a word whose folded form is a common word ("quận" is the "quan" of "liên quan") and the
  hamlets' (thôn, ấp, bản: no body of the list is a hamlet's, and "bản" folded is the head
  "Ban");
- a group spread over units ("các huyện, thị xã", :data:`SPREAD_WORDS`) takes every district's
  and commune's word, "quận" too: after "các" it is no "liên quan";
- a commune's own bodies (:data:`COMMUNE_WORDS`) are named by a commune's word since 2025; a
  word only of a commune before 2025 ("thị trấn", :data:`OLD_COMMUNE_WORDS`) names one of the
  old communes, and is no group's ("Công an thị trấn" is left to the list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

COMMUNES_SINCE = date(2025, 7, 1)  # the communes of today govern (Nghị quyết 202/2025/QH15)


@dataclass(frozen=True)
class UnitWord:
    written: str  # as documents write it
    key: str  # folded (match_key and aligned_fold agree on these)
    level: str  # "commune", "district" or "hamlet"
    current: bool  # a unit of this kind exists since the 2025 reorganisation
    before_2025: bool  # and one existed before it
    not_after: str = ""  # the word before it that makes it no unit's ("địa" bàn, "cơ" quan)
    confusable: bool = False  # folded, a common word: the splitter skips it


UNIT_WORDS = (
    UnitWord("xã", "xa", "commune", True, True),
    UnitWord("phường", "phuong", "commune", True, True),
    UnitWord("đặc khu", "dac khu", "commune", True, False),
    UnitWord("thị trấn", "thi tran", "commune", False, True),
    UnitWord("huyện", "huyen", "district", False, True),
    UnitWord("thị xã", "thi xa", "district", False, True),
    UnitWord("quận", "quan", "district", False, True, not_after="co", confusable=True),
    UnitWord("thôn", "thon", "hamlet", True, True),
    UnitWord("ấp", "ap", "hamlet", True, True),
    UnitWord("bản", "ban", "hamlet", True, True, not_after="dia"),
)

# A commune's unit word since 2025, and before it, as the matcher reads a name.
COMMUNE_WORDS = tuple(w for w in UNIT_WORDS if w.level == "commune" and w.current)
OLD_COMMUNE_WORDS = tuple(w for w in UNIT_WORDS if w.level == "commune" and w.before_2025)
# The units a kind of body spreads over ("Công an các xã, thị trấn"), districts first; the
# hamlets have no body of the list.
SPREAD_WORDS = tuple(w.key for level in ("district", "commune") for w in UNIT_WORDS
                     if w.level == level)
# What the body splitter takes for a unit's word before its capitalised name.
SPLITTER_WORDS = frozenset(w.key for w in UNIT_WORDS
                           if w.level != "hamlet" and not w.confusable)


def _ending(word: UnitWord) -> str:
    before = f"(?:^|(?<!{word.not_after}) )" if word.not_after else "(?:^| )"
    return before + re.escape(word.key) + "$"


# A key that ends with a unit's word: what follows it is that unit's own name ("phường X", X a
# province's name too). Nghị định 30/2020/NĐ-CP dates a commune's or a district's document at its
# own name, not its province's.
UNIT_WORD_END = re.compile("|".join(_ending(w) for w in UNIT_WORDS))
