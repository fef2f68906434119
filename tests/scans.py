"""Make documents as people receive them from a plain text: page images, image-only PDFs,
Word files, saved portal pages. Used by the reader tests and ``bench/bench_readers.py``.

The text is typeset with PIL in DejaVu Sans at 300 dpi on A4, one paragraph per source line,
wrapped to the page width: what a scanner gives of a printed plan (grey, no text layer).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DPI = 300
PAGE = (2480, 3508)  # A4 at 300 dpi
MARGIN = 236  # 2 cm
FONT_SIZE = 50  # ~12 pt


def printable_lines(text: str) -> list[str]:
    """The source's paragraphs as print would show them: the lines of a block (up to a blank
    line or a table rule) joined, the markup of the text export dropped."""
    paragraphs, block = [], []
    for line in [*text.splitlines(), ""]:
        line = re.sub(r"\*+", "", line).strip()
        if line and not re.fullmatch(r"[|\-_=]+", line):
            block.append(line)
        elif block:
            paragraphs.append(" ".join(block))
            block = []
    return paragraphs


def typeset(text: str, pages: int | None = None, *, page_numbers: bool = False) -> list:
    """Page images (mode L) of ``text``: each paragraph wrapped to the margins; with
    ``page_numbers`` the number printed at the top of pages 2, 3, ... as plans print it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), FONT_SIZE)
    width = PAGE[0] - 2 * MARGIN
    line_height = int(FONT_SIZE * 1.45)
    rows: list[str] = []
    for paragraph in printable_lines(text):
        words, current = paragraph.split(), ""
        for word in words:
            trial = f"{current} {word}".strip()
            if font.getlength(trial) <= width or not current:
                current = trial
            else:
                rows.append(current)
                current = word
        rows.append(current)
    per_page = (PAGE[1] - 2 * MARGIN) // line_height
    images = []
    for first in range(0, len(rows), per_page):
        image = Image.new("L", PAGE, 255)
        draw = ImageDraw.Draw(image)
        for i, row in enumerate(rows[first : first + per_page]):
            draw.text((MARGIN, MARGIN + i * line_height), row, font=font, fill=0)
        if page_numbers and images:
            draw.text((PAGE[0] // 2, MARGIN // 2), str(len(images) + 1), font=font, fill=0)
        images.append(image)
        if pages is not None and len(images) >= pages:
            break
    return images


def image_pdf(images: list) -> bytes:
    """An image-only PDF (no text layer) of the given pages."""
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=DPI)
    return buffer.getvalue()


def blank_pdf(pages: int) -> bytes:
    """An image-only PDF of blank pages (small images, so 300 pages stay small)."""
    from PIL import Image

    images = [Image.new("L", (200, 280), 255) for _ in range(pages)]
    return image_pdf(images)


def word_file(text: str, *, numbered: bool = False, header: str | None = None,
              table: list[list[str]] | None = None) -> bytes:
    """A .docx with the text's lines as paragraphs; optionally Word's own list numbering for
    lines that start with "N. " (the number removed, so only Word's numbering shows it),
    a page header and a table at the end."""
    import docx

    document = docx.Document()
    if header:
        document.sections[0].header.is_linked_to_previous = False
        document.sections[0].header.paragraphs[0].text = header
    for line in text.splitlines():
        match = re.match(r"^(\d+)\.\s+(.*)$", line) if numbered else None
        if match:
            document.add_paragraph(match.group(2), style="List Number")
        else:
            document.add_paragraph(line)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def portal_page(text: str) -> bytes:
    """The text as a provincial portal shows it: banner, menu, breadcrumbs, footer around it."""
    from html import escape

    body = "\n".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip())
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Cổng thông tin điện tử</title><script>var tracker = "Sở Y tế";</script></head><body>
<div class="banner">CỔNG THÔNG TIN ĐIỆN TỬ TỈNH – Sở Tài nguyên và Môi trường</div>
<nav><ul><li>Trang chủ</li><li>Sở Khoa học và Công nghệ</li><li>Văn bản</li></ul></nav>
<div class="breadcrumb">Trang chủ › Văn bản chỉ đạo điều hành</div>
<article>{body}</article>
<aside class="sidebar">Văn bản liên quan: Kế hoạch số 99/KH-UBND</aside>
<footer>Bản quyền thuộc Văn phòng UBND tỉnh. Sở Xây dựng.</footer>
</body></html>""".encode()
