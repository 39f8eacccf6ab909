"""The corpus read into per-source rows — reused from an index or freshly chunked — and embedded.

What the folder build (`build.py`) and the Milvus build (`milvus_build.py`) share: each writes the
rows it gets here into its own store."""

from __future__ import annotations

import bisect
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence, overload

import numpy as np

from .chunk import chunk_document
from .corpus import CorpusFile, OversizeError, read_source, too_large
from .embed import Embedder, passage_vectors
from .errors import CorpusError, SourceError
from .hashing import sha256_bytes
from .passage_table import PassageTable, SentenceTexts
from .printable import printable
from .readers import SUPPORTED, read_bytes
from .spill import SpilledVectors
from .settings import Settings
from .types import BuildReport, Document, DocumentRow, PassageRow, SkippedText, SourceFailure

log = logging.getLogger(__name__)

# progress(stage, done, total): "read", "embed", "write"
Progress = Callable[[str, int, int], None]


@dataclass
class DocRows:
    """One source's contribution to the index."""

    document: DocumentRow
    # sent_lo / sent_hi count from the source's first sentence. A fresh source's are a
    # PassageTable over its document text; a reused one's, the previous index's rows.
    passages: Sequence[PassageRow]
    sentence_spans: np.ndarray | Sequence[tuple[int, int]]  # (start, end) of each sentence
    sentence_vectors: np.ndarray | None  # None until embedded, and once written to a SpilledVectors
    text: str | None = None  # a fresh source's document text, which its sentences are cut from

    def passage_vector_blocks(self, sentence_rows: Callable[[int, int], np.ndarray] | None = None,
                              size: int = 4096) -> Iterator[np.ndarray]:
        """Passage vectors (means of their sentences'), a block at a time. `sentence_rows(lo, hi)`
        gives the source's sentence vectors lo:hi when they are not held in `sentence_vectors`."""
        if sentence_rows is None:
            vectors = self.sentence_vectors
            assert vectors is not None, "embed the source's sentences first"
            sentence_rows = lambda lo, hi: vectors[lo:hi]  # noqa: E731
        for lo in range(0, len(self.passages), size):
            block = self.passages[lo : lo + size]
            first, last = min(p["sent_lo"] for p in block), max(p["sent_hi"] for p in block)
            yield passage_vectors(block, self.sentence_spans[first:last], sentence_rows(first, last), first)


def _fresh(doc: Document, doc_hash: str, embedder: Embedder, settings: Settings) -> DocRows:
    sentences, chunks = chunk_document(doc, embedder.count_tokens, settings)
    passages = PassageTable(doc.text, doc.source, doc_hash, doc.title, chunks)
    meta: DocumentRow = {
        "source": doc.source, "hash": doc_hash, "format": doc.format, "title": doc.title,
        "date": doc.date, "publisher": doc.publisher, "author": doc.author,
        "chars": len(doc.text), "warnings": list(doc.warnings),
        "skipped": [{"what": k.what, "places": k.places, "chars": k.chars, "where": k.where} for k in doc.skipped],
        "passages": len(passages),
    }
    spans = np.array([(s.start, s.end) for s in sentences], dtype=np.int64).reshape(-1, 2)
    return DocRows(meta, passages, spans, None, text=doc.text)


@dataclass
class SourcesRead:
    """What a build read from the corpus: each source's rows (reused or to embed) and what it skipped."""

    docs: list[DocRows] = field(default_factory=list)
    failed: list[SourceFailure] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    left_out: list[SkippedText] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    failed_hashes: dict[str, str | None] = field(default_factory=dict)
    failed_sizes: dict[str, int] = field(default_factory=dict)  # skipped for their size, so never read or hashed
    # [bytes, mtime_ns] of each file hashed: `status` trusts the hash while they hold
    file_stats: dict[str, list[int]] = field(default_factory=dict)

    def nothing_to_index(self, corpus_dir: Path, had_index: bool) -> CorpusError:
        reasons = "; ".join(f.reason for f in self.failed) or "it holds no files"
        return CorpusError(
            f"nothing to index in {corpus_dir}: {reasons} — add .txt, .md, .pdf or .html files"
            + (" (the previous index is untouched)" if had_index else "")
        )

    def manifest_extra(self) -> dict:
        return {
            "failed": {
                f.source: {"sha256": self.failed_hashes.get(f.source), "reason": f.reason}
                | ({"bytes": self.failed_sizes[f.source]} if f.source in self.failed_sizes else {})
                for f in self.failed
            },
            "duplicates": {dup: original for dup, original in self.duplicates},
            "file_stats": self.file_stats,
        }

    def report(self, corpus_dir, index_dir, old_sources: dict[str, str], fresh: list[DocRows],
               started: float, generation: str) -> BuildReport:
        sources = self.sources
        return BuildReport(
            corpus_dir=str(corpus_dir), index_dir=str(index_dir),
            added=tuple(s for s in sources if s not in old_sources),
            updated=tuple(s for s in sources if s in old_sources and old_sources[s] != sources[s]),
            removed=tuple(s for s in old_sources if s not in sources),
            unchanged=tuple(s for s in sources if old_sources.get(s) == sources[s]),
            failed=tuple(self.failed), duplicates=tuple(self.duplicates), warnings=tuple(self.warnings),
            skipped=tuple(self.left_out),
            passages=sum(len(d.passages) for d in self.docs),
            embedded_passages=sum(len(d.passages) for d in fresh),
            seconds=round(time.perf_counter() - started, 3), generation=generation,
        )


def read_corpus(files: list[CorpusFile], corpus_dir: Path, settings: Settings, embedder: Embedder,
                reuse: Callable[[str, str], DocRows | None] | None, progress: Progress | None,
                skipped_links: list[str]) -> SourcesRead:
    """Read every file: its rows from `reuse(doc_hash, source)` when the index holds them, else
    chunked (and left for embedding); unreadable ones reported, not fatal."""
    read = SourcesRead(warnings=list(skipped_links))
    seen: dict[str, str] = {}
    failed, failed_hashes, failed_sizes = read.failed, read.failed_hashes, read.failed_sizes
    for n, cf in enumerate(files, 1):
        if progress:
            progress("read", n, len(files))
        doc_hash = None
        try:
            st = cf.path.stat()
            size = st.st_size
            reason = too_large(printable(cf.source), size, settings.max_source_mb)
            if reason:
                failed_sizes[cf.source] = size
                raise SourceError(reason)
            try:
                data = read_source(cf, corpus_dir, settings.max_source_bytes)
            except OversizeError as exc:  # it grew since it was measured
                failed_sizes[cf.source] = exc.size
                raise SourceError(too_large(printable(cf.source), exc.size, settings.max_source_mb)) from None
            doc_hash = sha256_bytes(data)
            read.file_stats[cf.source] = [size, st.st_mtime_ns]
            if cf.path.suffix.lower() not in SUPPORTED:
                raise SourceError(f"{printable(cf.source)}: unsupported file type; supported: {', '.join(SUPPORTED)}")
            if doc_hash in seen:
                read.duplicates.append((cf.source, seen[doc_hash]))
                continue
            rows = reuse(doc_hash, cf.source) if reuse else None
            if rows is None:
                doc = read_bytes(data, cf.source, cf.path.suffix)
                data = b""  # nor be held while the document is chunked
                rows = _fresh(doc, doc_hash, embedder, settings)
            data = b""  # a large source's bytes must not outlive its reading
        except SourceError as exc:
            failed.append(SourceFailure(cf.source, printable(str(exc))))
            failed_hashes[cf.source] = doc_hash
            log.info("skipped %s", printable(str(exc)))  # the report carries it; the faces print it once
            continue
        except OSError as exc:
            failed.append(SourceFailure(cf.source, f"{printable(cf.source)}: cannot read the file ({exc.strerror or exc})"))
            continue
        except Exception as exc:  # a reader bug must cost one source, not the build; it is reported
            log.exception("reading %s failed", printable(cf.source))
            failed.append(SourceFailure(cf.source, f"{printable(cf.source)}: could not be read ({type(exc).__name__}: {exc})"))
            failed_hashes[cf.source] = doc_hash
            continue
        seen[doc_hash] = cf.source
        read.sources[cf.source] = doc_hash
        read.warnings.extend(printable(w) for w in rows.document.get("warnings", []))
        read.left_out.extend(SkippedText(cf.source, **k) for k in rows.document.get("skipped", []))
        read.docs.append(rows)
    return read


# Sentences embedded per call when the vectors go to a SpilledVectors: a multiple of the embedder's
# batch (embed.BATCH), so its batches are the ones one call over every sentence would make (see below).
EMBED_CHUNK = 8192


def embed_missing(docs: list[DocRows], embedder: Embedder, progress: Progress | None,
                  into: SpilledVectors | None = None) -> list[int]:
    """Embed the sentences of new sources; each passage's vector is the mean of its sentences'.

    With `into`, every source's sentence vectors go there rather than to `sentence_vectors`
    (left None), in generation order, the reused ones too; the new ones are embedded
    EMBED_CHUNK at a time and written as they come. Returns the row each source's begin at."""
    todo = [d.sentence_vectors is None for d in docs]
    texts = SentenceTexts([(d.text or "", np.asarray(d.sentence_spans, dtype=np.int64).reshape(-1, 2))
                           for d, new in zip(docs, todo) if new])
    report = (lambda done, total: progress("embed", done, total)) if progress else None
    if into is None:
        vectors = embedder.encode(texts, progress=report)
        _release_batch(embedder)
        at = 0
        for d in (d for d, new in zip(docs, todo) if new):
            d.sentence_vectors = vectors[at : at + len(d.sentence_spans)]
            at += len(d.sentence_spans)
        return []
    firsts = np.cumsum([0] + [len(d.sentence_spans) for d in docs]).tolist()[:-1]
    for d, first in zip(docs, firsts):
        if d.sentence_vectors is not None:
            into.write(first, d.sentence_vectors)
            d.sentence_vectors = None
    rows = np.concatenate([np.arange(first, first + len(d.sentence_spans), dtype=np.int64)
                           for d, first, new in zip(docs, firsts, todo) if new] or [np.zeros(0, np.int64)])
    # Longest first, as Embedder.encode orders one call's texts (a stable sort): each chunk of
    # this order, sorted again by encode, keeps it, so the batches and the vectors are the same
    # as one call's, and only a chunk's vectors are held at a time.
    lengths = np.concatenate([spans[:, 1] - spans[:, 0] for _, spans in texts.parts] or [np.zeros(0, np.int64)])
    order = np.argsort(-lengths, kind="stable")
    for lo in range(0, len(order), EMBED_CHUNK):
        ids = order[lo : lo + EMBED_CHUNK]
        chunk_report = (lambda done, total, lo=lo: report(lo + done, len(order))) if report else None
        into.write_rows(rows[ids], embedder.encode([texts[i] for i in ids.tolist()], progress=chunk_report))
    _release_batch(embedder)
    return firsts


def _release_batch(embedder) -> None:
    """The batch graph's buffers are not needed past embedding, and the build's later stages
    (FAISS, BM25, writing) reach its peak memory; embedders for tests and benchmarks have none."""
    release = getattr(embedder, "release_batch", None)
    if release is not None:
        release()


def numbered_passages(docs: list[DocRows]) -> Sequence[PassageRow]:
    """Every source's passages in generation order, numbered: `chunk_id` their row, `sent_lo` and
    `sent_hi` rows of the generation's sentence table. Made a row at a time as read."""
    return _Numbered(docs)


class _Numbered(Sequence[PassageRow]):
    def __init__(self, docs: list[DocRows]):
        self.docs = docs
        self.first_passage = np.cumsum([0] + [len(d.passages) for d in docs]).tolist()
        self.first_sentence = np.cumsum([0] + [len(d.sentence_spans) for d in docs]).tolist()

    def __len__(self) -> int:
        return self.first_passage[-1]

    def _numbered(self, doc: int, p: PassageRow, chunk_id: int) -> PassageRow:
        offset = self.first_sentence[doc]
        return {**p, "sent_lo": p["sent_lo"] + offset, "sent_hi": p["sent_hi"] + offset, "chunk_id": chunk_id}

    @overload
    def __getitem__(self, i: int) -> PassageRow: ...

    @overload
    def __getitem__(self, i: slice) -> list[PassageRow]: ...

    def __getitem__(self, i: int | slice) -> PassageRow | list[PassageRow]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        doc = bisect.bisect_right(self.first_passage, i) - 1
        return self._numbered(doc, self.docs[doc].passages[i - self.first_passage[doc]], i)

    def __iter__(self) -> Iterator[PassageRow]:
        chunk_id = 0
        for doc, d in enumerate(self.docs):
            for p in d.passages:
                yield self._numbered(doc, p, chunk_id)
                chunk_id += 1
