"""Bad inputs give a one-line SourceError naming what is wrong."""

from pathlib import Path

import pytest

from kgraph.errors import SourceError
from kgraph.ingest.extract import extract_file

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "sources" / "004_d5d135182c80a159.txt"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"  \n\n ", "empty file"),
        (b"PK\x03\x04\x00\x00binary", "binary file"),
        ("Số: 1/KH-UBND".encode("utf-16"), "binary file"),
        ("Số: 1/KH-UBND Kế hoạch".encode("latin-1", "replace") + b"\xe0\xff", "not UTF-8"),
        ("KẾ HOẠCH\nI. MỤC ĐÍCH\n1. Mục đích\n- Một.\nNơi nhận:\n".encode(), "no document number"),
    ],
)
def test_bad_inputs(tmp_path, data, message):
    path = _write(tmp_path, "bad.txt", data)
    with pytest.raises(SourceError) as info:
        extract_file(path)
    assert message in info.value.message
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_plan_head_without_body_is_read_for_what_it_holds(tmp_path):
    head = SEED.read_text(encoding="utf-8").split("I. MỤC ĐÍCH")[0]
    doc = extract_file(_write(tmp_path, "head.txt", head.encode()))
    assert doc.ident.number == "2509/KH-UBND"
    assert doc.partial and doc.assignments == []


def test_plan_cut_mid_sentence_is_partial_not_refused(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    cut = text[: text.index("Nơi nhận")].rstrip()
    cut = cut[: cut.rindex(" ", 0, len(cut) - 40)]  # stop inside the last sentence
    doc = extract_file(_write(tmp_path, "cut.txt", cut.encode()))
    assert doc.partial
    assert "partial text: it stops before the end of the document" in doc.warnings
    assert doc.ident.number == "2509/KH-UBND" and len(doc.assignments) == 16
    assert doc.references  # the lineage of an excerpt is kept


def test_complete_plan_without_signature_block_is_accepted(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    body = text[: text.index("Nơi nhận")]
    doc = extract_file(_write(tmp_path, "nosig.txt", body.encode()))
    assert doc.ident.number == "2509/KH-UBND"
