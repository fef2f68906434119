"""HTML saved from a portal: the document's text without the site around it.

Navigation, banners, menus, footers, scripts and forms are dropped (by element and by the
class or id names sites give them); when the page marks its main content (``<main>``,
``<article>``) only that is read. Block elements end lines; table cells are written between
"|" lines, as the Word reader and the portal text exports do.
"""

from __future__ import annotations

import re
from pathlib import Path

from kgraph.errors import SourceError
from kgraph.ingest.readers.base import SourceText, normalise

MEDIA_TYPE = "text/html"
_DROP_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form",
              "iframe", "button", "select", "svg", "template")
_SITE_CHROME = re.compile(
    r"(^|[-_ ])(nav|navbar|menu|banner|breadcrumbs?|footer|header|sidebar|social|share|"
    r"advert|ads|cookie|search|login|related|topbar)([-_ ]|$)", re.I)
_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
           "section", "article", "main", "blockquote", "pre", "dd", "dt", "ul", "ol", "hr"}


def _is_chrome(tag) -> bool:  # bs4 Tag
    names = " ".join([tag.get("id") or "", *(tag.get("class") or []), tag.get("role") or ""])
    return bool(names.strip()) and bool(_SITE_CHROME.search(names))


def read(path: Path, data: bytes) -> SourceText:
    from bs4 import BeautifulSoup, NavigableString, Tag

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_chrome):
        if not tag.decomposed and tag.name not in ("html", "body", "main", "article"):
            tag.decompose()
    mains = soup.find_all(["main", "article"])
    root = max(mains, key=lambda t: len(t.get_text())) if mains else (soup.body or soup)
    parts: list[str] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if child.__class__ is NavigableString:  # not comments, doctype, CDATA
                    parts.append(re.sub(r"\s+", " ", str(child)))
            elif isinstance(child, Tag):
                if child.name in ("td", "th"):
                    parts.append("\n|\n")
                    walk(child)
                    continue
                block = child.name in _BLOCKS
                if block:
                    parts.append("\n")
                walk(child)
                if block:
                    parts.append("\n")
                if child.name == "tr":
                    parts.append("|\n")

    walk(root)
    lines = (line.strip() for line in "".join(parts).split("\n"))
    text = normalise("\n".join(line for line in lines if line))
    if not text.strip():
        raise SourceError(path, "HTML page without text")
    return SourceText(path, text, "html", MEDIA_TYPE, data)


def looks_like_html(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or (
        head.startswith(b"<") and b"<html" in head)
