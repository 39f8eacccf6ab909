"""HTML pages: trafilatura finds the main text (navigation, scripts, footers and ads left out)."""

from __future__ import annotations

import logging

from lxml import etree

from ..errors import SourceError
from .base import RawBlock, assemble, normalize

SUFFIXES = (".html", ".htm", ".xhtml")
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def _text(element) -> str:
    return " ".join(normalize("".join(element.itertext())).split())


def read(data: bytes, source: str):
    import trafilatura

    if b"\x00" in data[:4096]:
        raise SourceError(f"{source}: binary data, not an HTML page")
    options = dict(include_comments=False, include_tables=True, with_metadata=True, favor_recall=True)
    try:
        xml = trafilatura.extract(data, output_format="xml", **options)
        root = etree.fromstring(xml.encode("utf-8")) if xml else None
    except etree.XMLSyntaxError:
        # trafilatura re-parses the XML it wrote itself, and on some broken markup (an attribute
        # name such as `0<A`) that fails; its plain-text output of the same page still works.
        text = trafilatura.extract(data, output_format="txt", **(options | {"with_metadata": False}))
        if not text:
            raise SourceError(f"{source}: no main text found in the HTML page") from None
        lines = [RawBlock("paragraph", " ".join(line.split())) for line in text.splitlines() if line.strip()]
        return assemble(source, "html", lines)
    if root is None:
        raise SourceError(f"{source}: no main text found in the HTML page")
    title = root.get("title") or None
    blocks: list[RawBlock] = []
    main = root.find("main")
    for element in main if main is not None else []:
        tag = element.tag
        if tag == "head":
            text = _text(element)
            if text and title and text == title and not blocks:
                blocks.append(RawBlock("title", text))
            elif text:
                blocks.append(RawBlock("heading", text))
        elif tag == "list":
            blocks.extend(RawBlock("paragraph", _text(item)) for item in element.iter("item"))
        elif tag == "table":
            for row in element.iter("row"):
                cells = [_text(c) for c in row.iter("cell")]
                blocks.append(RawBlock("paragraph", " | ".join(c for c in cells if c)))
        elif tag in ("p", "quote", "code"):
            blocks.append(RawBlock("paragraph", _text(element)))
    if title and not any(b.kind == "title" for b in blocks):
        blocks.insert(0, RawBlock("title", title))
    return assemble(
        source, "html", blocks,
        title=title, date=root.get("date") or None, author=root.get("author") or None,
        publisher=root.get("sitename") or None,
    )
