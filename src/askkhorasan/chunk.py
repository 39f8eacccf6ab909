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


def split_sentences(doc: Document, count_tokens: CountTokens, settings: Settings) -> list[list[Sentence]]:
    """Each paragraph block's sentences, an over-long one cut at word boundaries."""
    blocks = [b for b in doc.blocks if b.kind == "paragraph"]
    spans = [sentence_spans(doc.text, b.start, b.end) for b in blocks]
    flat = [s for block in spans for s in block]
    counts = count_tokens([doc.text[s:e] for s, e in flat])
    out: list[list[Sentence]] = []
    it = iter(counts)
    for block in spans:
        sentences: list[Sentence] = []
        for s, e in block:
            n = next(it)
            if n <= settings.max_sentence_tokens:
                sentences.append(Sentence(s, e, n))
            else:
                sentences.extend(_cut(doc.text, s, e, count_tokens, settings.max_sentence_tokens))
        out.append(sentences)
    return out


def _cut(text: str, start: int, end: int, count_tokens: CountTokens, limit: int) -> list[Sentence]:
    words = [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]
    counts = count_tokens([text[s:e] for s, e in words])
    pieces: list[Sentence] = []
    lo, total = 0, 0
    for i, n in enumerate(counts):
        if total and total + n > limit:
            pieces.append(Sentence(words[lo][0], words[i - 1][1], total))
            lo, total = i, 0
        total += n
    pieces.append(Sentence(words[lo][0], words[-1][1], total))
    # A single word longer than the limit (a URL, a run of symbols) is cut by characters.
    out: list[Sentence] = []
    for p in pieces:
        if p.tokens <= limit:
            out.append(p)
            continue
        step = max(1, (p.end - p.start) * limit // (p.tokens + 1))
        for s in range(p.start, p.end, step):
            e = min(p.end, s + step)
            out.append(Sentence(s, e, count_tokens([text[s:e]])[0]))
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
    exact = count_tokens([text[c.start : c.end] for c in chunks])
    out: list[Chunk] = []
    for chunk, n in zip(chunks, exact):
        if n <= budget or chunk.last_sentence - chunk.first_sentence == 1:
            out.append(chunk)
            continue
        lo = chunk.first_sentence
        while lo < chunk.last_sentence:
            hi = chunk.last_sentence
            while hi - lo > 1 and count_tokens([text[sentences[lo].start : sentences[hi - 1].end]])[0] > budget:
                hi -= 1
            out.append(_chunk(sentences, (lo, hi), chunk.section, chunk.page, chunk.context))
            lo = hi
    return out


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
