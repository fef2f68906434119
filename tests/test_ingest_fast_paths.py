"""The extractor's fast paths give what the plain ones give: a whole document folded through a
code-point table as str.translate folds it, letters counted as str.isalpha counts them, the
signature found from its title as the signature pattern finds it, a province found by runs of
words as a search per name finds it, a line number by a search among line starts."""

from __future__ import annotations

import re
from pathlib import Path

from kgraph.ingest import metadata, references, text
from kgraph.ingest.extract import _LETTER, _MARKS, _VIETNAMESE_MARKS
from kgraph.ingest.text import FOLD_TABLE, LONG_TEXT_CHARS, aligned_fold, code_points, match_key
from kgraph.reference.matching import default_matcher

FIXTURES = Path(__file__).parent / "fixtures"
_SAMPLE = (
    "ỦY BAN NHÂN DÂN TỈNH Kiên Giang\nSố: 234/KH-UBND\nKiên Giang, ngày 23 tháng 7 năm 2024\n"
    "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\nNguyễn Văn An\n"
    "S6 Lao dong - Thuong binh va Xã hội; ngay26 tháng 4; Pao tao 1ap c4c t6 chirc; "
    "İstanbul ﬁ Σ m² ½ Ⅳ ① \u00a0nbsp\ttab 28-CT/TW 8& Y tế ¢ § @ © | ! $ ¥\n"
)


def _long(sample: str = _SAMPLE) -> str:
    out = sample
    while len(out) < LONG_TEXT_CHARS * 2:
        out += sample
    return out


def _plain_suspects(folded: str) -> str:
    return re.sub(r"\S*[0-9&¢§@©|!$¥]\S*", lambda m: text._repair_token(m.group(0)), folded)


def test_a_whole_document_folds_as_its_lines_do():
    whole = _long()
    assert text._fold_long(whole) == whole.translate(FOLD_TABLE)
    folded = aligned_fold(whole)
    assert len(folded) == len(whole)
    assert folded == "\n".join(aligned_fold(line) for line in whole.split("\n"))
    plain = re.sub(r"\bp(?=[aeiouy])", "d", _plain_suspects(whole.translate(FOLD_TABLE)))
    assert folded == plain


def test_characters_beyond_the_plane_and_lone_surrogates_fold_too():
    odd = _long(_SAMPLE + "𝐀𝐁 😀 \ud800 Đ\n")
    assert text._fold_long(odd) == odd.translate(FOLD_TABLE)
    assert code_points("a\ud800") is not None


def test_letters_and_marks_are_counted_as_the_character_loop_counts_them():
    whole = _long()
    codes = code_points(whole)
    assert codes is not None
    assert int(_LETTER(codes).sum()) == sum(map(str.isalpha, whole))
    assert int(_MARKS(codes).sum()) == len(_VIETNAMESE_MARKS.findall(whole.lower()))


def test_the_signature_is_found_where_the_signature_pattern_finds_it():
    texts = [_long(), *(p.read_text() for p in sorted(FIXTURES.glob("*.txt")))]
    texts += ["tm. x\n  pho chu tich  nguyen", "kt.\n\nchu tich a kt . bo truong b q.giam doc c"]
    for raw in texts:
        folded = aligned_fold(raw)
        for start in (0, len(folded) // 3, len(folded) // 2):
            want = [m.span() for m in metadata._SIGNATURE.finditer(folded, start, len(folded))]
            got = [m.span() for m in metadata._signatures(folded, start, len(folded))]
            assert got == want


def test_a_province_is_found_as_a_search_per_name_finds_it():
    matcher = default_matcher()

    def by_search(line: str) -> str | None:
        key = f" {match_key(line)} "
        for pkey in matcher._province_keys:
            if f" {pkey} " in key:
                return matcher.provinces[pkey]
        return None

    lines = [
        *_SAMPLE.split("\n"),
        "Thành phố Hồ Chí Minh, ngày 1 tháng 2",
        "UBND tỉnh Bà Rịa - Vũng Tàu và tỉnh Kiên Giang",
        "Sở Y tế Hà Nội",
        "",
    ]
    for line in lines:
        assert matcher.province(line) == by_search(line)


def test_line_numbers_of_offsets_are_those_of_the_character_list():
    raw = "một\nhai ba\n\nbốn\n"
    listed: list[int] = []
    for number, line in enumerate(raw.split("\n"), start=1):
        listed += [number] * (len(line) + 1)
    index = references._line_index(raw)
    assert [index[offset] for offset in range(len(raw) + 1)] == listed[: len(raw) + 1]


def test_a_remembered_split_of_bodies_is_the_split_made_again_and_fresh_each_time():
    """A list of bodies split before gives the very mentions a split without memory gives, as
    new objects: a reader changing one changes neither the memory nor the next caller's."""
    from kgraph.ingest import bodies

    matcher = default_matcher()
    names = "Sở Y tế, Sở Giáo dục và Đào tạo, UBND các huyện, thị xã, thành phố, Công an tỉnh"
    plain = bodies._split_agencies(names, matcher, "Gia Lai")
    first = bodies.split_agencies(names, matcher, "Gia Lai")
    assert first == plain and len(plain) > 1
    first[0].raw = "changed"
    again = bodies.split_agencies(names, matcher, "Gia Lai")
    assert again == plain and all(a is not b for a, b in zip(again, first, strict=True))
    assert bodies.split_agencies(names, matcher, None) == bodies._split_agencies(names, matcher,
                                                                                   None)


def test_a_read_plan_leaves_no_outline_for_the_collector():
    """Once a plan is extracted its outline is freed by reference counting: no block or line
    of it waits in a reference cycle (a build's worker collects between documents)."""
    import gc

    from kgraph.ingest.extract import extract_file
    from kgraph.ingest.outline import Block, Line

    plan = sorted((Path(__file__).parent.parent / "data" / "sources").glob("*.txt"))[0]
    extract_file(plan)  # tables and caches made once
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        doc = extract_file(plan)
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, (Block, Line))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert doc.outline and not left, len(left)
