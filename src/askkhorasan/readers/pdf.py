"""PDF files with pypdf: page numbers kept, running headers and footers dropped."""

from __future__ import annotations

import io
import logging
import re
from collections import Counter

from .clean import is_heading
from ..errors import SourceError
from ..types import SkippedText
from .base import RawBlock, assemble, normalize

SUFFIXES = (".pdf",)
logging.getLogger("pypdf").setLevel(logging.ERROR)

_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$", re.I)
_SENTENCE_END = re.compile(r"[.!?:;”\")]\s*$")


def _pdf_date(value) -> str | None:
    m = re.match(r"D:(\d{4})(\d{2})?(\d{2})?", str(value or ""))
    if not m:
        return None
    year, month, day = m.group(1), m.group(2) or "01", m.group(3) or "01"
    return f"{year}-{month}-{day}"


def _open(data: bytes, source: str):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF") and b"%PDF" not in data[:1024]:
        raise SourceError(f"{source}: not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception as exc:  # pypdf raises several types for unsupported encryption
                raise SourceError(f"{source}: encrypted PDF that cannot be opened ({exc}); save a decrypted copy") from exc
            if not opened:
                raise SourceError(f"{source}: encrypted PDF with a password; save a decrypted copy in corpus/")
        pages = list(reader.pages)
    except SourceError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise SourceError(f"{source}: broken or truncated PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise SourceError(f"{source}: the PDF has no pages")
    return reader, pages


def _page_lines(page, number: int, source: str, warnings: list[str]) -> list[str]:
    try:
        text = page.extract_text() or ""
    except Exception as exc:  # a damaged page costs that page, not the document
        warnings.append(f"{source}: page {number} could not be read ({type(exc).__name__}); skipped")
        return []
    lines = [" ".join(line.split()) for line in normalize(text).split("\n")]
    if not any(lines):
        warnings.append(f"{source}: page {number} has no text layer (a scanned image?); skipped")
    return lines


EDGE_LINES = 2  # lines at the top and at the bottom of a page where running heads and footers sit
MAX_HEAD_CHARS = 100
_EDGE_NUMBER = re.compile(r"^(\d{1,4})\s+(.+)$|^(.+?)\s+(\d{1,4})$")


def _head_key(line: str, page: int) -> str:
    """The line as it repeats from page to page: identical, or identical but for the page
    number at one end (the number minus the page's is the same on every page)."""
    m = _EDGE_NUMBER.match(line)
    if not m:
        return line
    number, rest = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    side = "<" if m.group(1) else ">"
    return f"{side}{int(number) - page}\0{rest}"


def _running_lines(pages: list[list[str]]) -> set[tuple[int, int]]:
    """(page, line) of the running heads and footers: short lines at the top or bottom of most
    pages, the same text on each (a page number at one end may count up). A content line that
    repeats with other numbers ("Casualties reported: 12 killed") is not one."""
    if len(pages) < 3:
        return set()
    edges: list[list[tuple[int, str]]] = []
    for number, lines in enumerate(pages, 1):
        filled = [i for i, line in enumerate(lines) if line]
        at = sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))
        edges.append([(i, _head_key(lines[i], number)) for i in at if len(lines[i]) <= MAX_HEAD_CHARS])
    counts = Counter(key for page in edges for key in {k for _, k in page})
    repeated = {key for key, n in counts.items() if n >= max(3, len(pages) // 2)}
    return {(number, i) for number, page in enumerate(edges, 1) for i, key in page if key in repeated}


def _paragraphs(lines: list[str]) -> list[tuple[str, str]]:
    """Wrapped lines joined into paragraphs; short title-case lines become headings."""
    out: list[tuple[str, str]] = []
    current: list[str] = []
    lengths = sorted(len(line) for line in lines if line)
    typical = lengths[len(lengths) * 3 // 4] if lengths else 80

    def flush():
        if current:
            text = ""
            for line in current:
                if text.endswith("-") and line[:1].islower():
                    text = text[:-1] + line  # a word hyphenated across lines
                else:
                    text = f"{text} {line}" if text else line
            out.append(("paragraph", text))
            current.clear()

    for i, line in enumerate(lines):
        if not line:
            flush()
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if not current and is_heading(line) and len(line) < typical * 0.8 and (not nxt or nxt[:1].isupper()):
            out.append(("heading", line))
            continue
        current.append(line)
        if _SENTENCE_END.search(line) and len(line) < typical * 0.8:
            flush()
    flush()
    return out


def read(data: bytes, source: str):
    try:
        return _read(data, source)
    except SourceError:
        raise
    except Exception as exc:  # pypdf on a damaged file can raise nearly anything; report it by name
        raise SourceError(f"{source}: broken or truncated PDF ({type(exc).__name__}: {exc})") from exc


def _metadata(reader) -> dict:
    try:
        return dict(reader.metadata or {})
    except Exception:  # damaged metadata costs the title and date, not the document
        return {}


def _read(data: bytes, source: str):
    reader, pages = _open(data, source)
    warnings: list[str] = []
    if b"%%EOF" not in data[-2048:]:
        warnings.append(f"{source}: the PDF looks truncated (no end-of-file marker); indexed what could be read")
    page_lines = [_page_lines(page, n, source, warnings) for n, page in enumerate(pages, 1)]
    running = _running_lines(page_lines)
    meta = _metadata(reader)
    title = str(meta.get("/Title") or "").strip() or None
    blocks: list[RawBlock] = []
    dropped_chars, dropped_pages = 0, []  # running heads left out: characters, and the page of each line
    for number, lines in enumerate(page_lines, 1):
        kept = []
        for i, line in enumerate(lines):
            if line and (_PAGE_NUMBER.match(line) or (number, i) in running):
                if (number, i) in running:
                    dropped_chars += len(line)
                    dropped_pages.append(number)
                continue
            kept.append(line)
        for kind, text in _paragraphs(kept):
            if title is None and number == 1 and kind == "heading" and not blocks:
                title = text
                blocks.append(RawBlock("title", text, number))
            else:
                blocks.append(RawBlock(kind, text, number))
    if not any(b.kind == "paragraph" for b in blocks):
        if any(line for lines in page_lines for line in lines):
            raise SourceError(f"{source}: its text is only page numbers, running heads and headings; nothing to index")
        raise SourceError(f"{source}: no text in any page (a scanned PDF needs OCR first)")
    skipped = []
    if dropped_pages:
        pages = sorted(set(dropped_pages))
        where = f"pages {pages[0]}–{pages[-1]}" if len(pages) > 1 else f"page {pages[0]}"
        skipped.append(SkippedText(source, "running heads and footers", len(dropped_pages), dropped_chars, where))
    return assemble(
        source, "pdf", blocks, title=title, date=_pdf_date(meta.get("/CreationDate")),
        author=str(meta.get("/Author") or "").strip() or None, warnings=warnings, skipped=skipped,
    )
