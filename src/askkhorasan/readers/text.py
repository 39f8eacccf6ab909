"""Plain text, including web pages saved as text: clutter goes, structure stays."""

from __future__ import annotations

from .clean import clean_page
from .base import RawBlock, assemble, decode, normalize, paragraphs

SUFFIXES = (".txt", ".text")


def read(data: bytes, source: str):
    text, warnings = decode(data, source)
    page = clean_page(paragraphs(normalize(text)))
    blocks = [RawBlock(kind, body) for kind, body in page.blocks]
    return assemble(
        source, "text", blocks,
        title=page.title, date=page.date, author=page.author, publisher=page.publisher,
        warnings=warnings,
    )
