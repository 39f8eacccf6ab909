"""A freshly chunked source's passages and sentences as columns over its document text.

Each passage row (a `PassageRow` dict, its text a slice of the document text) and each sentence
text is made when it is read, and dropped after. Held as dicts, a 50 MB source's 83,000 passages
took ~140 MB (their texts overlap, and a dict of twelve keys costs ~650 bytes) besides the
sentence texts to embed (another copy of the document text); as columns they take the one
document text and ~5 MB."""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np

from .chunk import Chunk
from .types import PassageRow


class PassageTable(Sequence[PassageRow]):
    """One source's passages, in order, as `PassageRow`s made on demand (`chunk_id` -1: they are
    numbered when the generation is written)."""

    def __init__(self, text: str, source: str, doc_hash: str, title: str | None, chunks: Sequence[Chunk]):
        self.text, self.source, self.doc_hash, self.title = text, source, doc_hash, title
        self.sections = [c.section for c in chunks]
        self.pages = [c.page for c in chunks]
        self.contexts = [c.context for c in chunks]
        self.starts = array("q", (c.start for c in chunks))
        self.ends = array("q", (c.end for c in chunks))
        self.sent_los = array("q", (c.first_sentence for c in chunks))
        self.sent_his = array("q", (c.last_sentence for c in chunks))

    def __len__(self) -> int:
        return len(self.starts)

    def row(self, i: int) -> PassageRow:
        start, end = self.starts[i], self.ends[i]
        return {
            "source": self.source, "doc_hash": self.doc_hash, "title": self.title, "section": self.sections[i],
            "page": self.pages[i], "start": start, "end": end, "sent_lo": self.sent_los[i],
            "sent_hi": self.sent_his[i], "context": self.contexts[i], "text": self.text[start:end],
            "chunk_id": -1,
        }

    @overload
    def __getitem__(self, i: int) -> PassageRow: ...

    @overload
    def __getitem__(self, i: slice) -> list[PassageRow]: ...

    def __getitem__(self, i: int | slice) -> PassageRow | list[PassageRow]:
        if isinstance(i, slice):
            return [self.row(j) for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self.row(i % len(self))

    def __iter__(self) -> Iterator[PassageRow]:
        return (self.row(i) for i in range(len(self)))


class SentenceTexts(Sequence[str]):
    """The texts of several sources' sentences, in order, each sliced from its document text when read."""

    def __init__(self, parts: Sequence[tuple[str, np.ndarray]]):
        self.parts = list(parts)  # (document text, its sentences' (start, end) rows)
        self.ends = list(np.cumsum([len(spans) for _, spans in self.parts], dtype=np.int64).tolist())

    def __len__(self) -> int:
        return self.ends[-1] if self.ends else 0

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        part = bisect.bisect_right(self.ends, i)
        text, spans = self.parts[part]
        start, end = spans[i - (self.ends[part - 1] if part else 0)]
        return text[start:end]
