"""Word 97-2003 (.doc): converted to .docx by LibreOffice headless, then read as a .docx.

LibreOffice is optional (a large Debian package): without it a .doc gets a one-line error
naming what to install. Each conversion runs with its own throw-away LibreOffice profile, so
concurrent builds (or a desktop LibreOffice left open) never block one another.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from kgraph.errors import SourceError
from kgraph.ingest.readers import word
from kgraph.ingest.readers.base import SourceText

MEDIA_TYPE = "application/msword"
INSTALL_HINT = "install LibreOffice (Debian: apt-get install libreoffice-writer-nogui)"
TIMEOUT = 180  # seconds for one conversion


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def read(path: Path, data: bytes) -> SourceText:
    exe = soffice()
    if exe is None:
        raise SourceError(path, f"old Word format (.doc) needs LibreOffice to read: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="kgraph-doc-") as tmp:
        folder = Path(tmp)
        source = folder / "source.doc"
        source.write_bytes(data)
        try:
            subprocess.run(
                [exe, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                 "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(folder / "out"),
                 str(source)],
                capture_output=True, timeout=TIMEOUT, check=False,
            )
        except subprocess.TimeoutExpired:
            raise SourceError(path, f"LibreOffice took over {TIMEOUT} s to convert it") from None
        converted = folder / "out" / "source.docx"
        if not converted.is_file():
            raise SourceError(path, "LibreOffice could not convert this .doc (corrupt file?)")
        text = word.read(path, converted.read_bytes())
    return SourceText(path, text.text, "doc", MEDIA_TYPE, data, text.pages, text.warnings)
