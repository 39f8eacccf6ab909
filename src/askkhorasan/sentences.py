"""Sentence boundaries as exact character spans, from syntok's segmenter."""

from __future__ import annotations

import logging

import syntok.segmenter as segmenter

log = logging.getLogger(__name__)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The sentences of `text[start:end]` as (start, end) offsets into `text`, in order."""
    end = len(text) if end is None else end
    chunk = text[start:end]
    spans: list[tuple[int, int]] = []
    try:
        for paragraph in segmenter.analyze(chunk):
            for sentence in paragraph:
                tokens = [t for t in sentence if t.value]
                if tokens:
                    spans.append((start + tokens[0].offset, start + tokens[-1].offset + len(tokens[-1].value)))
    except Exception:  # syntok has failed on odd Unicode; the text is still usable whole
        log.warning("sentence splitting failed on %r...; keeping the text as one sentence", chunk[:40])
        spans = []
    if not spans:
        stripped = chunk.strip()
        if not stripped:
            return []
        lead = len(chunk) - len(chunk.lstrip())
        return [(start + lead, start + lead + len(stripped))]
    return _tidy(spans, start, end)


def _tidy(spans: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Ordered, non-overlapping spans inside [lo, hi)."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        s, e = max(s, lo), min(e, hi)
        if out and s < out[-1][1]:
            s = out[-1][1]
        if e > s:
            out.append((s, e))
    return out
