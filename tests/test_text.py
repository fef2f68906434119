"""Folding and OCR repair for the matching space."""

from kgraph.ingest.text import aligned_fold, fold, match_key, nfc, ocr_fold, slugify


def test_nfc_fold_slugify_keep_their_behaviour():
    assert nfc("  Sở   Y tế ") == "Sở Y tế"
    assert fold("Sở Y tế") == "so y te"
    assert slugify("234/KH-UBND") == "234-kh-ubnd"


def test_ocr_confusions_are_repaired_inside_words():
    assert ocr_fold("S6 Du lich") == "so du lich"
    assert match_key("S& Lao dong") == "so lao dong"
    assert match_key("c4c t6 chirc") == "cac to chirc"
    assert match_key("1ap") == "lap"
    assert match_key("B§ Chinh tri") == "bo chinh tri"


def test_p_read_for_d_is_repaired_but_ph_is_not():
    assert match_key("Pao tao") == "dao tao"
    assert match_key("Phat thanh") == "phat thanh"


def test_numbers_and_document_numbers_are_left_alone():
    assert match_key("28") == "28"
    assert "28 ct tw" in match_key("số 28-CT/TW")


def test_word_glued_to_a_number_is_not_repaired():
    # regression: "ngay26" became "ngay2o" and the plan's day read 20
    assert aligned_fold("ngay26") == "ngay26"


def test_aligned_fold_keeps_offsets():
    text = "Pé nghi Ủy ban Mặt trận Tổ quốc"
    assert len(aligned_fold(text)) == len(text)
    assert aligned_fold(text).startswith("de nghi uy ban")


def test_the_kept_answers_of_the_text_functions_are_those_computed_afresh():
    """The text functions keep answers per text: a kept answer must be what the function
    computes for that very text, whatever came before (an equal str subclass included)."""
    from rdflib import Literal

    from kgraph.ingest.outline import marker_key, strip_markup
    from kgraph.ingest.text import _repair_token

    texts = ["  Sở   Y tế ", "S6 Lao dong", "**Chủ tịch** |", "Pao tao", "28-CT/TW", "ngay26",
             "1ap", "Sở Y tế", "Đ. Đắk Lắk", Literal("Sở  Y tế", lang="vi"), "S¢", ""]
    for function in (nfc, fold, match_key, aligned_fold, slugify, marker_key, strip_markup,
                     _repair_token):
        for text in texts * 2:  # the second round is answered from what was kept
            fresh = function.__wrapped__(text)
            assert function(text) == fresh and type(function(text)) is type(fresh), text
