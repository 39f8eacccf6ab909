"""Markdown notes: `#` headings are sections, the first top heading (or front matter) the title."""

from __future__ import annotations

import re

from .clean import parse_date
from .base import RawBlock, assemble, decode, normalize, paragraphs

SUFFIXES = (".md", ".markdown")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_FENCE = re.compile(r"^(```|~~~)")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    meta = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[m.end():]


def read(data: bytes, source: str):
    text, warnings = decode(data, source)
    meta, body = _front_matter(normalize(text))
    title = meta.get("title") or None
    blocks: list[RawBlock] = []
    for para in paragraphs(_split_headings(body)):
        m = _HEADING.match(para)
        if m and "\n" not in para:
            heading = m.group(2).strip()
            if title is None and len(m.group(1)) == 1:
                title = heading
                blocks.append(RawBlock("title", heading))
            else:
                blocks.append(RawBlock("heading", heading))
        elif _FENCE.match(para) or set(para) <= set("-*_= \n"):
            continue
        else:
            blocks.append(RawBlock("paragraph", para))
    date = meta.get("date")
    return assemble(
        source, "markdown", blocks,
        title=title,
        date=(parse_date(date) or date) if date else None,
        author=meta.get("author") or None,
        publisher=meta.get("publisher") or meta.get("source") or None,
        warnings=warnings,
    )


def _split_headings(text: str) -> str:
    """Put every heading line in a paragraph of its own."""
    return re.sub(r"^(#{1,6}\s.*)$", r"\n\1\n", text, flags=re.M)
