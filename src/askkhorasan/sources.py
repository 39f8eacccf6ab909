"""The corpus read into per-source rows — reused from an index or freshly chunked — and embedded.

What the folder build (`build.py`) and the Milvus build (`milvus_build.py`) share: each writes the
rows it gets here into its own store."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .chunk import chunk_document
from .corpus import CorpusFile, OversizeError, read_source, too_large
from .embed import Embedder, passage_vectors
from .errors import CorpusError, SourceError
from .hashing import sha256_bytes
from .printable import printable
from .readers import SUPPORTED, read_bytes
from .settings import Settings
from .types import BuildReport, Document, DocumentRow, PassageRow, SkippedText, SourceFailure

log = logging.getLogger(__name__)

# progress(stage, done, total): "read", "embed", "write"
Progress = Callable[[str, int, int], None]


@dataclass
class DocRows:
    """One source's contribution to the index."""

    document: DocumentRow
    passages: list[PassageRow]  # sent_lo / sent_hi count from the source's first sentence
    sentence_spans: list[tuple[int, int]]
    sentence_vectors: np.ndarray | None  # None until embedded
    sentence_texts: list[str] = field(default_factory=list)

    def passage_vector_blocks(self, size: int = 4096) -> Iterator[np.ndarray]:
        """Passage vectors (means of their sentences'), a block at a time."""
        assert self.sentence_vectors is not None, "embed the source's sentences first"
        for lo in range(0, len(self.passages), size):
            yield passage_vectors(self.passages[lo : lo + size], self.sentence_spans, self.sentence_vectors)


def _fresh(doc: Document, doc_hash: str, embedder: Embedder, settings: Settings) -> DocRows:
    sentences, chunks = chunk_document(doc, embedder.count_tokens, settings)
    passages: list[PassageRow] = [
        {
            "source": doc.source, "doc_hash": doc_hash, "title": doc.title, "section": c.section,
            "page": c.page, "start": c.start, "end": c.end, "sent_lo": c.first_sentence,
            "sent_hi": c.last_sentence, "context": c.context, "text": doc.text[c.start : c.end],
            "chunk_id": -1,  # numbered when the generation is written
        }
        for c in chunks
    ]
    meta: DocumentRow = {
        "source": doc.source, "hash": doc_hash, "format": doc.format, "title": doc.title,
        "date": doc.date, "publisher": doc.publisher, "author": doc.author,
        "chars": len(doc.text), "warnings": list(doc.warnings),
        "skipped": [{"what": k.what, "places": k.places, "chars": k.chars, "where": k.where} for k in doc.skipped],
        "passages": len(passages),
    }
    return DocRows(
        meta, passages, [(s.start, s.end) for s in sentences], None,
        sentence_texts=[doc.text[s.start : s.end] for s in sentences],
    )


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
                rows = _fresh(read_bytes(data, cf.source, cf.path.suffix), doc_hash, embedder, settings)
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


def embed_missing(docs: list[DocRows], embedder: Embedder, progress: Progress | None) -> None:
    """Embed the sentences of new sources; each passage's vector is the mean of its sentences'."""
    todo = [d for d in docs if d.sentence_vectors is None]
    texts = [t for d in todo for t in d.sentence_texts]
    vectors = embedder.encode(texts, progress=(lambda done, total: progress("embed", done, total)) if progress else None)
    at = 0
    for d in todo:
        d.sentence_vectors = vectors[at : at + len(d.sentence_texts)]
        at += len(d.sentence_texts)
        d.sentence_texts = []
