"""What every reader shares: decoding bytes to text and laying blocks out as a Document."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import SourceError
from ..junk import strip_junk
from ..types import Block, Document, SkippedText

# Characters a page carries that mean nothing to a reader and would split words.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000\t]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[^\S\n]+(?=\n|\Z)")  # what str.rstrip takes off each line, without a list of lines
SEPARATOR = "\n\n"


@dataclass(frozen=True)
class RawBlock:
    kind: str  # "title", "heading" or "paragraph"
    text: str
    page: int | None = None


def decode(data: bytes, source: str) -> tuple[str, list[str]]:
    """Text from a file's bytes, and warnings. Binary data raises SourceError."""
    if not data.strip():
        raise SourceError(f"{source}: the file is empty")
    sample = data[:8192]
    if b"\x00" in sample and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(f"{source}: binary data, not text (is it a renamed image or archive?)")
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, errors="replace"), []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        where = exc.start
    text = data.decode("cp1252", errors="replace")
    if _CONTROL.findall(text[:8192]).__len__() > len(text[:8192]) * 0.05:
        raise SourceError(f"{source}: binary data, not text")
    return text, [f"{source}: not UTF-8 (byte {where}); read as Windows-1252/Latin-1 — re-save it as UTF-8 if characters look wrong"]


def normalize(text: str) -> str:
    """One form for text from any reader: NFC, plain spaces and newlines, no invisible marks."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    text = _SPACES.sub(" ", text)
    text = _CONTROL.sub("", text)
    return _TRAILING_SPACE.sub("", text)


def paragraphs(text: str) -> list[str]:
    """Runs of non-blank lines, stripped."""
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def assemble(
    source: str,
    fmt: str,
    blocks: list[RawBlock],
    *,
    title: str | None = None,
    date: str | None = None,
    author: str | None = None,
    publisher: str | None = None,
    warnings: list[str] | tuple[str, ...] = (),
    skipped: list[SkippedText] | tuple[SkippedText, ...] = (),
) -> Document:
    """Join blocks into the document text, recording where each one lands and its section.
    Encoded data in paragraphs is left out and reported in `skipped`."""
    pieces: list[str] = []
    laid: list[Block] = []
    offset = 0
    section: str | None = None
    junk = _JunkTally()
    for number, raw in enumerate(blocks, 1):
        text = raw.text
        if raw.kind == "paragraph":
            text, places, chars = strip_junk(text)
            junk.add(places, chars, f"page {raw.page}" if raw.page is not None else f"paragraph {number}")
        text = text.strip()
        if not text:
            continue
        if pieces:
            pieces.append(SEPARATOR)
            offset += len(SEPARATOR)
        if raw.kind == "heading":
            section = " ".join(text.split())
        laid.append(Block(raw.kind, offset, offset + len(text), None if raw.kind == "title" else section, raw.page))
        pieces.append(text)
        offset += len(text)
    if not any(b.kind == "paragraph" for b in laid):
        if junk.chars:
            raise SourceError(f"{source}: only encoded data (base64, hex or similar), no prose to index")
        raise SourceError(f"{source}: no readable text found")
    skipped = list(skipped)
    if junk.chars:
        skipped.append(SkippedText(source, "encoded data", junk.places, junk.chars, junk.where()))
    return Document(
        source=source,
        text="".join(pieces),
        format=fmt,
        title=title,
        date=date,
        author=author,
        publisher=publisher,
        blocks=tuple(laid),
        warnings=tuple(warnings) + tuple(s.message() for s in skipped),
        skipped=tuple(skipped),
    )


class _JunkTally:
    def __init__(self):
        self.places = self.chars = 0
        self.at: list[str] = []

    def add(self, places: int, chars: int, where: str) -> None:
        if places:
            self.places += places
            self.chars += chars
            if where not in self.at:
                self.at.append(where)

    def where(self) -> str:
        shown = ", ".join(self.at[:5])
        return shown + (f" and {len(self.at) - 5} more" if len(self.at) > 5 else "")
