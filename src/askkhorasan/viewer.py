"""The source viewer's data: a window of a document's text around a cited span."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from .hashing import sha256_file
from .errors import AskKhorasanError
from .readers import read_document
from .types import DocumentRow, DocumentView, PassageRow

WINDOW = 3000  # characters shown on each side of the span at first; "load more" adds as many
MAX_WINDOW = 200_000  # a browser stays quick below this; a longer request is cut to it

_cache: OrderedDict[tuple, str] = OrderedDict()
_cache_lock = threading.Lock()


def _text(path: Path) -> str:
    """The document text, read once per file version (PDFs are slow to read)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    text = read_document(path).text
    with _cache_lock:
        _cache[key] = text
        while len(_cache) > 8:
            _cache.popitem(last=False)
    return text


def document_view(corpus_dir: str | Path, documents: Sequence[DocumentRow], passages: Sequence[PassageRow], source: str,
                  start: int, end: int, window_start: int | None = None, window_end: int | None = None) -> DocumentView:
    """The text around `start:end` of an indexed source, with its title, date, publisher, section and page.

    Only sources of the index are shown, and only while the file is the one indexed (same hash):
    otherwise the offsets would point at other text."""
    doc = next((d for d in documents if d["source"] == source), None)
    if doc is None:
        raise AskKhorasanError(f"{source!r} is not a source of the index — run `askkhorasan build` if it was just added")
    path = Path(corpus_dir) / source
    try:
        if doc.get("hash") and sha256_file(path) != doc["hash"]:
            raise AskKhorasanError(f"{source} changed since it was indexed — run `askkhorasan build` to see it again")
        text = _text(path)
    except OSError as exc:
        raise AskKhorasanError(f"cannot read {source} ({exc.strerror or exc}) — is it still in the corpus folder?") from None
    start, end = max(0, min(int(start), len(text))), max(0, min(int(end), len(text)))
    start, end = min(start, end), max(start, end)
    lo = max(0, start - WINDOW) if window_start is None else max(0, min(int(window_start), start))
    hi = min(len(text), end + WINDOW) if window_end is None else min(len(text), max(int(window_end), end))
    if hi - lo > MAX_WINDOW:  # keep the span in view, drop the far ends
        lo = max(lo, min(start, end - MAX_WINDOW))
        hi = min(hi, lo + max(MAX_WINDOW, end - lo))
    inside = [p for p in passages if p["source"] == source and p["start"] <= start < p["end"]]
    section = inside[0]["section"] if inside else None
    page = inside[0]["page"] if inside else None
    return DocumentView(
        source=source, title=doc.get("title"), section=section, page=page, date=doc.get("date"),
        publisher=doc.get("publisher"), start=start, end=end, window_start=lo, window_end=hi, length=len(text),
        text=text[lo:hi], step=WINDOW,
    )
