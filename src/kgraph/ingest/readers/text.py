"""Plain text and Markdown: UTF-8 (with or without BOM), refused when empty or binary."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from kgraph.errors import SourceError
from kgraph.ingest.readers.base import SourceText

MEDIA_TYPE = "text/plain; charset=utf-8"


def decode(path: Path, data: bytes) -> str:
    """The file's text; a one-line SourceError for what is not UTF-8 text."""
    if not data.strip():
        raise SourceError(path, "empty file")
    if b"\x00" in data:
        raise SourceError(path, "binary file (NUL bytes), not a text plan")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 text (bad byte at offset {exc.start})") from None


def read(path: Path, data: bytes) -> SourceText:
    """Text as written (only NFC-normalised), so offsets stay those of the file's characters."""
    text = unicodedata.normalize("NFC", decode(path, data))
    return SourceText(path, text, "text", MEDIA_TYPE, data)
