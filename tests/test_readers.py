"""Documents as people receive them: PDF, Word, scans, saved HTML -> the same plan as its text.

Compared: number, date, issuer, references and the agency sets (addressees, lead and
coordinating agencies, report recipients), which is what the graph states about who does
what. OCR tests skip, with the reason, on a machine without tesseract's Vietnamese model;
the .doc test skips without LibreOffice.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest

from conftest import ROOT, shared_path
from kgraph.errors import SourceError
from kgraph.ingest import readers
from kgraph.ingest.extract import extract_document, extract_file
from kgraph.ingest.model import PlanDocument
from kgraph.ingest.readers import scan
from kgraph.ingest.readers.word import Numbering, format_number
from scans import blank_pdf, image_pdf, portal_page, typeset, word_file

SEED = ROOT / "data" / "sources" / "004_d5d135182c80a159.txt"
needs_ocr = pytest.mark.skipif(
    not scan.ocr_available(),
    reason="tesseract with its Vietnamese model is missing (apt-get install tesseract-ocr "
           "tesseract-ocr-vie, or scripts/setup as root)")
needs_soffice = pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice is missing (apt-get install libreoffice-writer-nogui, or "
           "scripts/setup as root)")


def statements(doc: PlanDocument) -> dict[str, object]:
    """What the graph states about a plan's identity, lineage and who does what."""
    def names(mentions) -> list[str]:
        return sorted({m.canonical or m.raw for m in mentions})

    return {
        "number": doc.ident.number,
        "date": doc.ident.date,
        "issuer": doc.ident.issuer.canonical if doc.ident.issuer else None,
        "references": sorted((r.target.number or "?", r.relation.value) for r in doc.references),
        "addressees": names(m for a in doc.assignments for m in a.addressees),
        "duty agencies": names(m for a in doc.assignments for d in a.duties
                               for m in [*d.lead, *d.coordinators]),
        "report recipients": names(m for r in doc.reporting for m in r.recipients),
    }


@pytest.fixture(scope="module")
def clean() -> dict[str, object]:
    return statements(extract_file(SEED))


# ---------------------------------------------------------------- formats of seed 004


def test_pdf_with_text_layer_states_what_the_text_does(clean):
    doc = extract_file(shared_path("fixtures", "seed004.pdf"))
    assert statements(doc) == clean
    assert doc.source is not None and doc.source.format == "pdf" and not doc.source.ocr
    assert [p.number for p in doc.source.pages] == list(range(1, 10))
    assert "Chỉ thị số 28-CT/TW và các văn bản" in doc.source.text  # wrapped inside the number


def test_pdf_text_layer_never_starts_ocr(monkeypatch):
    def no_ocr(*args: object) -> None:
        raise AssertionError("OCR started on a PDF with a text layer")

    monkeypatch.setattr(scan, "_tesseract", no_ocr)
    monkeypatch.setattr(scan, "ocr", no_ocr)
    source = readers.read_source(shared_path("fixtures", "seed004.pdf"))
    assert all(p.confidence is None for p in source.pages)


def test_docx_states_what_the_text_does(clean):
    doc = extract_file(shared_path("fixtures", "seed004.docx"))
    assert statements(doc) == clean
    assert doc.source.format == "docx"
    assert doc.source.pages == ()  # a .docx without page marks claims no page


@needs_ocr
@pytest.mark.slow
def test_scanned_pages_state_what_those_pages_hold():
    """The scans are pages 1, 2 and 9: compare with those pages of the PDF's text layer."""
    folder = shared_path("fixtures", "scan")
    pdf = readers.read_source(shared_path("fixtures", "seed004.pdf"))
    same_pages = "\n".join(pdf.text[p.start : p.end] for p in pdf.pages if p.number in (1, 2, 9))
    expected = statements(extract_document(same_pages, "pages 1, 2, 9"))
    first = sorted(p for p in folder.iterdir() if readers.is_supported(p))
    assert len(first) == 1  # numbered page images are one scan
    doc = extract_file(first[0])
    assert statements(doc) == expected
    assert [p.number for p in doc.source.pages] == [1, 2, 9]
    assert all(p.confidence and p.confidence > 80 for p in doc.source.pages)
    assert doc.source.media_type == "application/pdf"  # the pages bound for the browser


@needs_ocr
@pytest.mark.slow
def test_real_plan_printed_and_scanned_reads_back_the_same(tmp_path):
    """A real plan typeset to an image-only PDF (no text layer, page numbers printed at the top
    of pages 2, 3, ...), read back by tesseract vie."""
    text_file = shared_path("real", "lai-chau_7360-KH-UBND_2025.txt")
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(image_pdf(typeset(text_file.read_text(encoding="utf-8"), page_numbers=True)))
    scanned = extract_file(pdf)
    assert scanned.source.ocr and len(scanned.source.pages) > 1
    for page in scanned.source.pages[1:]:  # the printed number is layout, not text
        assert not scanned.source.text[page.start : page.end].startswith(str(page.number))
    assert statements(scanned) == statements(extract_file(text_file))


@needs_soffice
@pytest.mark.slow
def test_old_word_file_through_libreoffice(tmp_path, clean):
    converted = tmp_path / "out"
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "doc", "--outdir", str(converted),
         str(shared_path("fixtures", "seed004.docx"))],
        check=True, capture_output=True, timeout=180)
    doc = extract_file(converted / "seed004.doc")
    assert doc.source.format == "doc" and doc.source.media_type == "application/msword"
    assert statements(doc) == clean


def test_old_word_file_without_libreoffice_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = tmp_path / "plan.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le"))
    with pytest.raises(SourceError, match=r"needs LibreOffice.*libreoffice-writer-nogui"):
        extract_file(path)


def test_portal_page_drops_the_site_around_the_plan(tmp_path, clean):
    path = tmp_path / "portal.html"
    path.write_bytes(portal_page(SEED.read_text(encoding="utf-8")))
    doc = extract_file(path)
    assert statements(doc) == clean
    for chrome in ("Trang chủ", "Sở Khoa học và Công nghệ", "Bản quyền", "tracker", "99/KH-UBND"):
        assert chrome not in doc.source.text


def test_content_decides_the_reader_not_the_name(tmp_path, clean):
    disguised = tmp_path / "plan.txt"
    disguised.write_bytes(shared_path("fixtures", "seed004.pdf").read_bytes())
    assert statements(extract_file(disguised)) == clean


# ---------------------------------------------------------------- Word specifics


def test_word_list_numbers_headers_and_tables_come_out_as_text(tmp_path):
    path = tmp_path / "numbered.docx"
    path.write_bytes(word_file(
        "Nhiệm vụ\n1. Tuyên truyền\n2. Kiểm tra\n3. Báo cáo",
        numbered=True, header="ỦY BAN NHÂN DÂN TỈNH",
        table=[["STT", "Nội dung", "Cơ quan chủ trì"], ["1", "Tập huấn", "Sở Y tế"]]))
    text = readers.read_source(path).text
    lines = text.splitlines()
    assert lines[0] == "ỦY BAN NHÂN DÂN TỈNH"
    assert lines[2:5] == ["1. Tuyên truyền", "2. Kiểm tra", "3. Báo cáo"]
    assert lines[5:] == ["|", "STT", "|", "Nội dung", "|", "Cơ quan chủ trì", "|",
                         "|", "1", "|", "Tập huấn", "|", "Sở Y tế", "|"]


def test_word_number_formats():
    assert [format_number(n, "upperRoman") for n in (1, 4, 9, 14)] == ["I", "IV", "IX", "XIV"]
    assert [format_number(n, "lowerLetter") for n in (1, 2, 27)] == ["a", "b", "aa"]
    numbering = Numbering({"5": {0: (1, "upperRoman", "%1."), 1: (1, "decimal", "%2."),
                                 2: (1, "lowerLetter", "%3)")}})
    labels = [numbering.label("5", level) for level in (0, 1, 2, 2, 1, 0, 1)]
    assert labels == ["I.", "1.", "a)", "b)", "2.", "II.", "1."]


# ---------------------------------------------------------------- bad files


def _pdf_bytes(text: str) -> bytes:
    """A one-page PDF with a text layer, made by pypdf (dev extra)."""
    import pypdf
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = pypdf.PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(_pdf_bytes("So: 1/KH-UBND Ke hoach thu nghiem")))
    writer = pypdf.PdfWriter(clone_from=reader)
    writer.encrypt(user_password="secret", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _renamed_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/readme.txt", "not a Word document")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("locked.pdf", _encrypted_pdf, "password-protected PDF"),
        ("cut.pdf", lambda: _pdf_bytes("So: 1/KH-UBND")[:300], "corrupt or unreadable PDF"),
        ("plan.docx", _renamed_zip, "ZIP archive without a Word body"),
        ("broken.docx", lambda: b"PK\x03\x04" + b"\x00" * 40, "corrupt Word file"),
        ("photo.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a readable image"),
    ],
)
def test_bad_files_give_one_clear_line(tmp_path, name, make, message):
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(SourceError) as info:
        extract_file(path)
    assert message in info.value.message
    assert "\n" not in str(info.value) and str(path) in str(info.value)


@needs_ocr
def test_image_without_text(tmp_path):
    from PIL import Image

    path = tmp_path / "blank.png"
    Image.new("L", (800, 600), 255).save(path)
    with pytest.raises(SourceError, match="OCR found no text"):
        readers.read_source(path)


@needs_ocr
def test_long_scan_is_capped_with_a_warning(tmp_path, monkeypatch, caplog):
    """A 300-page scan: OCR reads up to KGRAPH_OCR_MAX_PAGES pages and says so."""
    monkeypatch.setenv("KGRAPH_OCR_MAX_PAGES", "2")
    pages = typeset("Số: 12/KH-UBND\nKẾ HOẠCH tuyên truyền pháp luật năm 2025", pages=1)
    from PIL import Image

    small = pages[0].crop((0, 0, pages[0].width, 600))
    blank = Image.new("L", small.size, 255)
    path = tmp_path / "long.pdf"
    path.write_bytes(image_pdf([small, *[blank] * 299]))
    source = readers.read_source(path)
    assert [p.number for p in source.pages] == [1, 2]
    assert source.warnings == ["scan has 300 pages; OCR read the first 2 only "
                               "(KGRAPH_OCR_MAX_PAGES raises the limit)"]
    assert [r.getMessage() for r in caplog.records] == [f"{path}: {source.warnings[0]}"]
    assert "12/KH-UBND" in source.text


def test_scan_without_tesseract_names_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(scan, "tesseract_languages", lambda: frozenset())
    path = tmp_path / "long.pdf"
    path.write_bytes(blank_pdf(3))
    with pytest.raises(SourceError, match="tesseract-ocr-vie"):
        readers.read_source(path)


# ---------------------------------------------------------------- the page map


def test_offsets_map_to_page_and_line():
    source = readers.read_source(shared_path("fixtures", "seed004.pdf"))
    duty = source.text.index("Sở Y tế")
    where = source.locate(duty)
    assert where is not None and where.page.start <= duty < where.page.end + 1
    assert source.text[where.page.start : duty].count("\n") + 1 == where.line
    assert source.page_at(0).number == 1 and source.page_at(len(source.text)).number == 9


def test_folder_of_mixed_formats_collects_one_source_per_document(tmp_path):
    for name in ("a.txt", "b.pdf", "c.docx", "d.html", "scan-1.png", "scan-2.png", "x.json"):
        (tmp_path / name).write_bytes(b"x")
    from kgraph.build import collect_sources

    found = [p.name for p in collect_sources([tmp_path])]
    assert found == ["a.txt", "b.pdf", "c.docx", "d.html", "scan-1.png"]


# ---------------------------------------------------------------- through the command line


def test_kgraph_build_reads_a_folder_of_mixed_formats(tmp_path):
    """`kgraph build FOLDER` with a PDF, a portal page and a text plan: three documents, and a
    bad file among them stops the build with one line, the store untouched."""
    from typer.testing import CliRunner

    from kgraph.cli import app
    from kgraph.store.embedded import OxigraphRepository

    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(shared_path("fixtures", "seed004.pdf"), folder / "gia-lai.pdf")
    seeds = ROOT / "data" / "sources"
    (folder / "kien-giang.html").write_bytes(portal_page(
        (seeds / "001_589d48ec2e8e8782.txt").read_text(encoding="utf-8")))
    shutil.copy(seeds / "000_580420fd51b73a01.txt", folder / "plan.txt")
    store = tmp_path / "store"
    runner = CliRunner()
    result = runner.invoke(app, ["build", str(folder), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "built 3 document graph(s)" in result.stdout
    assert "2509-kh-ubnd" in result.stdout
    size = len(OxigraphRepository(store, read_only=True))

    (folder / "z-locked.pdf").write_bytes(_encrypted_pdf())
    result = runner.invoke(app, ["build", str(folder), "--store", str(store)])
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "z-locked.pdf: password-protected PDF" in lines[0]
    assert len(OxigraphRepository(store, read_only=True)) == size


def test_ocr_progress_bar_steps_aside_for_the_build_bar():
    """Inside another live display (the build's own progress bar) OCR shows no second bar."""
    from rich.progress import Progress

    with Progress(transient=True) as outer:
        outer.add_task("build", total=1)
        with scan._progress("scan.pdf", 2) as advance:
            advance()
            advance()
    with scan._progress("scan.pdf", 1) as advance:  # alone: its own bar
        advance()


def test_word_page_breaks_give_pages(tmp_path):
    """A .docx that marks its page breaks claims pages; offsets map to them."""
    import docx

    document = docx.Document()
    document.add_paragraph("Số: 7/KH-UBND")
    document.add_paragraph("Trang một.")
    document.add_page_break()
    document.add_paragraph("Trang hai.")
    path = tmp_path / "paged.docx"
    document.save(path)
    source = readers.read_source(path)
    assert [p.number for p in source.pages] == [1, 2]
    assert source.page_at(source.text.index("Trang hai")).number == 2
    assert source.page_at(source.text.index("Trang một")).number == 1


def test_printed_page_numbers_are_not_text():
    from kgraph.ingest.readers.base import LaidOutLine, without_page_number

    lines = [LaidOutLine(t, 500) for t in ("- 3 -", "a) Tổ chức 3 hội nghị", "Trang 3")]
    assert [x.text for x in without_page_number(lines, 3)] == ["a) Tổ chức 3 hội nghị"]
    assert len(without_page_number(lines, 4)) == 3


def test_ocr_line_confidences_follow_the_reflowed_lines():
    """Each reflowed line keeps the mean confidence of its words; a span gets its lines'."""
    header = "\t".join(["level", "page_num", "block_num", "par_num", "line_num", "word_num",
                        "left", "top", "width", "height", "conf", "text"])
    rows = ["1\t1\t0\t0\t0\t0\t0\t0\t1000\t1400\t-1\t"]
    words = [  # (line, left, right, conf, word): line 1 fills the width, 2 runs on, 3 is indented
        (1, 100, 500, 90, "Sở"), (1, 520, 900, 90, "Y"),
        (2, 100, 300, 60, "tế"),
        (3, 160, 400, 96, "Công"), (3, 420, 600, 98, "an"),
    ]
    for line, left, right, conf, word in words:
        rows.append(f"5\t1\t1\t1\t{line}\t1\t{left}\t0\t{right - left}\t30\t{conf}\t{word}")
    page = scan._page_from_tsv(1, "\n".join([header, *rows]))
    assert page.text == "Sở Y tế\nCông an"
    assert page.line_confidences == (80.0, 97.0)
    source = readers.SourceText(ROOT, page.text, "image", "image/png", b"",
                                (readers.Page(1, 0, len(page.text), 1, page.confidence,
                                              page.line_confidences),))
    assert source.confidence_of(page.text.index("Công"), len(page.text)) == 97.0
    assert source.confidence_of(0, len(page.text)) == 88.5


@needs_ocr
def test_multipage_tiff_is_read_page_by_page_up_to_the_cap(tmp_path, monkeypatch):
    monkeypatch.setenv("KGRAPH_OCR_MAX_PAGES", "1")
    page = typeset("Số: 12/KH-UBND\nKẾ HOẠCH tuyên truyền pháp luật năm 2025", pages=1)[0]
    strip = page.crop((0, 0, page.width, 600))
    path = tmp_path / "fax.tif"
    strip.save(path, save_all=True, append_images=[strip, strip])
    source = readers.read_source(path)
    assert [p.number for p in source.pages] == [1]
    assert source.warnings[0].startswith("scan has 3 pages; OCR read the first 1 only")
    assert source.media_type == "application/pdf"


@needs_ocr
def test_pdf_mixing_text_and_scanned_pages_reads_only_the_scanned_ones_by_ocr(tmp_path):
    import pypdf

    scanned = typeset("Số: 12/KH-UBND\nKẾ HOẠCH tuyên truyền pháp luật năm 2025", pages=1)[0]
    writer = pypdf.PdfWriter()
    writer.append(pypdf.PdfReader(io.BytesIO(_pdf_bytes("So: 12/KH-UBND Ke hoach trang mot"))))
    writer.append(pypdf.PdfReader(io.BytesIO(image_pdf([scanned.crop((0, 0, 2480, 600))]))))
    path = tmp_path / "mixed.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    source = readers.read_source(path)
    first, second = source.pages
    assert first.confidence is None and "Ke hoach trang mot" in source.text[first.start : first.end]
    assert second.confidence is not None and second.confidence > 80
    assert "tuyên truyền pháp luật" in source.text[second.start : second.end]


def test_size_limits_depend_on_the_format(tmp_path, monkeypatch):
    """Text over the text limit is refused before reading; a PDF that size is a normal scan."""
    monkeypatch.setattr(readers, "MAX_TEXT_BYTES", 1000)
    text = tmp_path / "huge.txt"
    text.write_bytes(b"x" * 2000)
    with pytest.raises(SourceError, match=r"2000 bytes: larger than a plan can be \(limit 1000\)"):
        extract_file(text)
    pdf = shared_path("fixtures", "seed004.pdf")
    assert pdf.stat().st_size > 1000 and readers.read_source(pdf).format == "pdf"
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 1000)
    with pytest.raises(SourceError, match="larger than a plan can be"):
        readers.read_source(pdf)


def test_a_folder_s_sources_come_in_the_order_of_their_paths(tmp_path):
    """The build reads a folder's files in path order (the order its kept states and TriG
    follow): names that sort differently as text and as numbers, cases, accents, spaces."""
    names = ["10.txt", "9.txt", "B.txt", "a.txt", "a b.txt", "a-b.txt", "a_b.txt", "ä.txt",
             "Ủy ban.md", "uy ban.md", "20000_gia-lai_1.txt", "2000_gia-lai_1.txt"]
    for name in reversed(names):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    from kgraph.build import collect_sources

    found = collect_sources([tmp_path, tmp_path / "sub"])
    assert found == sorted(tmp_path / n for n in names)
