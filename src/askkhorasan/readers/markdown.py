"""Markdown notes: headings (`#` and underlined) are sections, the first top heading (or the
front matter's title) the title; fenced code and rules are left out.

markdown-it-py (CommonMark) finds the blocks; their text is taken from the source lines
themselves, markup and all, so a quote is what the note says, and every block lands in the
document text whole, where assemble() records its offsets.
"""

from __future__ import annotations

import datetime
import re

import yaml
from markdown_it import MarkdownIt

from .clean import parse_date
from .base import RawBlock, assemble, decode, normalize, paragraphs

SUFFIXES = (".md", ".markdown")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---(?:\n|\Z)", re.S)
# Blocks that are not prose, at any depth (a fence inside a list item too).
_LEFT_OUT = {"fence", "hr"}
_RULE_CHARS = set("-*_= \n")  # a paragraph of these alone is decoration


def _front_matter(text: str, source: str) -> tuple[dict[str, str], str, list[str]]:
    """YAML front matter as strings (a list joined with commas, a date in ISO form), the rest of
    the text, and a warning when the block is not a YAML mapping."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text, []
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        return {}, text[m.end():], [f"{source}: the front matter is not YAML fields (`title: …`); it is left out"]
    meta = {}
    for key, value in data.items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value if v is not None)
        elif isinstance(value, (datetime.date, datetime.datetime)):
            value = value.isoformat()
        if value is not None and not isinstance(value, dict):
            meta[str(key).strip().lower()] = str(value).strip()
    return meta, text[m.end():], []


def _blocks(body: str) -> list[tuple[str, str, int]]:
    """(kind, text, heading level) in order: top-level headings, and the lines between them
    split at blank lines as before; fenced code and rules left out."""
    lines = body.split("\n")
    tokens = MarkdownIt("commonmark").parse(body)
    dropped: set[int] = set()
    for t in tokens:
        if t.type in _LEFT_OUT and t.map:
            dropped.update(range(*t.map))
    out: list[tuple[str, str, int]] = []
    run: list[str] = []

    def flush() -> None:
        out.extend(("paragraph", p, 0) for p in paragraphs("\n".join(run)) if not set(p) <= _RULE_CHARS)
        run.clear()

    taken = 0  # lines before this are laid out
    for i, t in enumerate(tokens):
        if t.level != 0 or not t.map or t.nesting == -1:
            continue
        start, end = t.map
        if t.type == "heading_open":
            flush()
            out.append(("heading", tokens[i + 1].content.strip(), int(t.tag[1])))
        elif t.type in _LEFT_OUT:
            flush()
        else:
            # From the end of the last block: blank lines, and lines that make no block of their
            # own (link definitions), stay as they were.
            run.extend("" if n in dropped else lines[n] for n in range(taken, end))
        taken = max(taken, end)
    run.extend(lines[taken:])
    flush()
    return out


def read(data: bytes, source: str):
    text, warnings = decode(data, source)
    meta, body, front_warnings = _front_matter(normalize(text), source)
    title = meta.get("title") or None
    blocks: list[RawBlock] = []
    for kind, block, level in _blocks(body):
        if kind == "heading":
            if not block:
                continue
            if title is None and level == 1:
                title = block
                blocks.append(RawBlock("title", block))
            else:
                blocks.append(RawBlock("heading", block))
        else:
            blocks.append(RawBlock("paragraph", block))
    date = meta.get("date")
    return assemble(
        source, "markdown", blocks,
        title=title,
        date=(parse_date(date) or date) if date else None,
        author=meta.get("author") or None,
        publisher=meta.get("publisher") or meta.get("source") or None,
        warnings=warnings + front_warnings,
    )
