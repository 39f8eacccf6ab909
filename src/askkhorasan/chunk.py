"""Sentence-aware passages that never cross a section or page, and sentences that fit the model window."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby
from typing import Callable, Sequence

from .sentences import sentence_spans
from .settings import Settings
from .types import Document

CountTokens = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    tokens: int


@dataclass(frozen=True)
class Chunk:
    """A passage before it is embedded: a span of the document and the sentences in it."""

    start: int
    end: int
    section: str | None
    page: int | None
    first_sentence: int  # index into the document's sentence list
    last_sentence: int  # exclusive
    context: str  # "title — section": indexed for BM25 with the passage text


def context_line(doc: Document, section: str | None) -> str:
    parts = [p for p in (doc.title, section) if p]
    return " — ".join(parts)


def lexical_text(context: str, text: str) -> str:
    return f"{context}\n{text}" if context else text


# Bounds that keep memory and time per source proportional to a small piece, not the document:
# the sentence splitter and the tokenizer see at most SEGMENT_CHARS at once, and count in batches.
SEGMENT_CHARS = 20_000
COUNT_BATCH = 512
# The tokenizer reads a word longer than 100 characters as one [UNK]; weighing every text by its
# length too keeps such text (a long non-ASCII run) from packing thousands of characters into a passage.
CHARS_PER_TOKEN_FLOOR = 8
_TERMINAL = re.compile(r"[.!?;:\u3002\uff01\uff1f\u2026]")


def weight(tokens: int, chars: int) -> int:
    return max(tokens, chars // CHARS_PER_TOKEN_FLOOR)


def count_in_batches(count_tokens: CountTokens, texts: Sequence[str]) -> list[int]:
    out: list[int] = []
    for lo in range(0, len(texts), COUNT_BATCH):
        out.extend(count_tokens(texts[lo : lo + COUNT_BATCH]))
    return out


def segments(text: str, start: int, end: int, size: int = SEGMENT_CHARS):
    """[start, end) in pieces of at most `size` characters, cut after a sentence end, a line end
    or a space where there is one in the piece's second half."""
    while end - start > size:
        limit = start + size
        half = start + size // 2
        cut = max(text.rfind(". ", half, limit), text.rfind("\n", half, limit))
        if cut < 0:
            cut = text.rfind(" ", half, limit)
        cut = cut + 1 if cut >= 0 else limit
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        yield start, end


def split_sentences(doc: Document, count_tokens: CountTokens, settings: Settings) -> list[list[Sentence]]:
    """Each paragraph block's sentences, an over-long one cut at word boundaries."""
    limit = settings.max_sentence_tokens
    out: list[list[Sentence]] = []
    for block in (b for b in doc.blocks if b.kind == "paragraph"):
        sentences: list[Sentence] = []
        for seg_start, seg_end in segments(doc.text, block.start, block.end):
            spans = _sentences(doc.text, seg_start, seg_end)
            counts = count_in_batches(count_tokens, [doc.text[s:e] for s, e in spans])
            for (s, e), n in zip(spans, counts):
                if weight(n, e - s) <= limit:
                    sentences.append(Sentence(s, e, weight(n, e - s)))
                else:
                    sentences.extend(_cut(doc.text, s, e, count_tokens, limit, weight(n, e - s)))
        out.append(sentences)
    return out


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of a segment; a long one with nothing that could end a sentence is one
    run-on sentence, without the sentence splitter's pass over every word."""
    if end - start > 2000 and not _TERMINAL.search(text, start, end):
        lead = len(text[start:end]) - len(text[start:end].lstrip())
        return [(start + lead, start + len(text[start:end].rstrip()))]
    return sentence_spans(text, start, end)


def _cut(text: str, start: int, end: int, count_tokens: CountTokens, limit: int, weight_now: int | None = None) -> list[Sentence]:
    """An over-long run-on sentence in pieces within the limit, cut at spaces where there are any.

    Pieces are sized from the run's own characters per token and counted together in one call;
    the rare piece still over the limit is cut again the same way."""
    if weight_now is None:
        weight_now = weight(count_tokens([text[start:end]])[0], end - start)
    target = max(1, int((end - start) * limit * 0.85 / max(1, weight_now)))
    spans: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            break
        stop = min(end, pos + target)
        if stop < end:
            space = text.rfind(" ", pos + 1, stop + 1)
            stop = space if space > pos else stop
        piece_end = pos + len(text[pos:stop].rstrip())
        if piece_end > pos:
            spans.append((pos, piece_end))
        pos = stop
    counts = count_in_batches(count_tokens, [text[s:e] for s, e in spans])
    out: list[Sentence] = []
    for (s, e), n in zip(spans, counts):
        w = weight(n, e - s)
        if w <= limit or e - s <= 1 or (s, e) == (start, end):
            out.append(Sentence(s, e, w))
        else:
            out.extend(_cut(text, s, e, count_tokens, limit, w))
    return out


def chunk_document(doc: Document, count_tokens: CountTokens, settings: Settings) -> tuple[list[Sentence], list[Chunk]]:
    """The document's sentences and its passages."""
    paragraphs = [b for b in doc.blocks if b.kind == "paragraph"]
    per_block = split_sentences(doc, count_tokens, settings)
    sentences: list[Sentence] = []
    block_ranges: list[tuple[int, int]] = []
    for block_sentences in per_block:
        block_ranges.append((len(sentences), len(sentences) + len(block_sentences)))
        sentences.extend(block_sentences)

    chunks: list[Chunk] = []
    indexed = list(zip(paragraphs, block_ranges))
    for (section, page), group in groupby(indexed, key=lambda item: (item[0].section, item[0].page)):
        context = context_line(doc, section)
        budget = settings.max_tokens
        pending: tuple[int, int] | None = None

        def tokens(lo: int, hi: int) -> int:
            return sum(s.tokens for s in sentences[lo:hi])

        def flush() -> None:
            nonlocal pending
            if pending and pending[1] > pending[0]:
                chunks.append(_chunk(sentences, pending, section, page, context))
            pending = None

        for _, (lo, hi) in group:
            if hi == lo:
                continue
            size = tokens(lo, hi)
            if size <= budget:
                if pending and (tokens(*pending) < settings.min_tokens or size < settings.min_tokens) \
                        and tokens(*pending) + size <= budget:
                    pending = (pending[0], hi)
                    continue
                flush()
                pending = (lo, hi)
                continue
            flush()
            for window in _windows(sentences, lo, hi, budget, settings.overlap_sentences):
                chunks.append(_chunk(sentences, window, section, page, context))
        flush()
    return sentences, _enforce_budget(doc.text, sentences, chunks, count_tokens, settings.max_tokens)


def _enforce_budget(text: str, sentences: list[Sentence], chunks: list[Chunk], count_tokens: CountTokens,
                    budget: int) -> list[Chunk]:
    """Counts per sentence add up to the passage's count except where a boundary splits a word;
    the rare passage that then runs over is split again on exact counts."""
    exact = count_in_batches(count_tokens, [text[c.start : c.end] for c in chunks])
    out: list[Chunk] = []
    for chunk, n in zip(chunks, exact):
        if weight(n, chunk.end - chunk.start) <= budget or chunk.last_sentence - chunk.first_sentence == 1:
            out.append(chunk)
            continue
        lo = chunk.first_sentence
        while lo < chunk.last_sentence:
            hi = chunk.last_sentence
            while hi - lo > 1 and _weigh(text, sentences[lo].start, sentences[hi - 1].end, count_tokens) > budget:
                hi -= 1
            out.append(_chunk(sentences, (lo, hi), chunk.section, chunk.page, chunk.context))
            lo = hi
    return out


def _weigh(text: str, start: int, end: int, count_tokens: CountTokens) -> int:
    return weight(count_tokens([text[start:end]])[0], end - start)


def _windows(sentences: list[Sentence], lo: int, hi: int, budget: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy runs of whole sentences within the budget; each run repeats the last `overlap` of the one before."""
    windows: list[tuple[int, int]] = []
    start = lo
    while start < hi:
        end, total = start, 0
        while end < hi and (end == start or total + sentences[end].tokens <= budget):
            total += sentences[end].tokens
            end += 1
        windows.append((start, end))
        if end >= hi:
            break
        start = max(start + 1, end - overlap)
    return windows


def _chunk(sentences: list[Sentence], span: tuple[int, int], section, page, context) -> Chunk:
    lo, hi = span
    return Chunk(sentences[lo].start, sentences[hi - 1].end, section, page, lo, hi, context)
