"""One small module per source format, each with `read(data, source) -> Document`."""

from __future__ import annotations

from pathlib import Path

from ..errors import SourceError
from ..types import Document
from . import html, markdown, pdf, text

READERS = {suffix: module for module in (text, markdown, pdf, html) for suffix in module.SUFFIXES}
SUPPORTED = tuple(sorted(READERS))


def reader_for(path: Path):
    return READERS.get(path.suffix.lower())


def read_bytes(data: bytes, source: str, suffix: str) -> Document:
    module = READERS.get(suffix.lower())
    if module is None:
        raise SourceError(
            f"{source}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED)}"
        )
    if not data.strip():
        raise SourceError(f"{source}: the file is empty")
    return module.read(data, source)


def read_document(path: str | Path, source: str | None = None) -> Document:
    """Read one source file into a Document."""
    path = Path(path)
    source = source or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{source}: cannot read the file ({exc.strerror or exc})") from exc
    return read_bytes(data, source, path.suffix)
