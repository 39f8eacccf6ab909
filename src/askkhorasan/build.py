"""From the files in a corpus folder to a new index generation, re-embedding only what changed."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .chunk import chunk_document, lexical_text
from .corpus import CorpusFile, OversizeError, discover, read_source, too_large
from .embed import Embedder, compatible, default_precision, passage_vectors, shared_embedder
from .errors import AskKhorasanError, CorpusError, SourceError
from .hashing import sha256_bytes
from .lexical import LexicalIndex
from .milvus_store import milvus_target
from .printable import printable
from .readers import SUPPORTED, read_bytes
from .settings import DEFAULT_SETTINGS, MODEL_DIMENSION, Settings
from .status import source_states
from .store import (
    BuildLock, Generation, faiss_index_from_blocks, load_generation, new_manifest, read_jsonl, verify_generation,
    write_generation,
)
from .types import BuildReport, Document, DocumentRow, PassageRow, SkippedText, SourceFailure

log = logging.getLogger(__name__)

# progress(stage, done, total): "read", "embed", "write"
Progress = Callable[[str, int, int], None]


@dataclass
class _DocRows:
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


@dataclass
class _Previous:
    """The current generation, with its rows grouped by source content hash for reuse."""

    gen: Generation
    rows: dict[str, list[int]]
    documents: dict[str, DocumentRow]

    @property
    def sources(self) -> dict[str, str]:
        return self.gen.manifest.get("sources", {})


def _previous(index_dir: Path, settings: Settings, embedder: Embedder) -> _Previous | None:
    """The current generation, if its stored rows can be reused under these settings."""
    try:
        gen = load_generation(index_dir)
    except AskKhorasanError as exc:
        if (index_dir / "CURRENT").exists():
            log.warning("not reusing the previous index: %s", exc)
        return None
    if gen.settings.build_fields() != settings.build_fields():
        log.info("chunking settings changed; re-embedding every source")
        return None
    if not compatible(gen.manifest.get("embedding"), embedder.precision):
        log.info("the index's vectors come from another embedding backend; re-embedding every source")
        return None
    rows: dict[str, list[int]] = {}
    for i, p in enumerate(gen.passages):
        rows.setdefault(p["doc_hash"], []).append(i)
    return _Previous(gen, rows, {d["hash"]: d for d in gen.documents})


def _reuse(previous: _Previous, doc_hash: str, source: str) -> _DocRows | None:
    gen = previous.gen
    rows = previous.rows.get(doc_hash)
    meta = previous.documents.get(doc_hash)
    if not rows or meta is None:
        return None
    lo = min(gen.passages[i]["sent_lo"] for i in rows)
    hi = max(gen.passages[i]["sent_hi"] for i in rows)
    passages = []
    for i in rows:
        p = gen.passages[i].copy()
        p["source"], p["sent_lo"], p["sent_hi"] = source, p["sent_lo"] - lo, p["sent_hi"] - lo
        passages.append(p)
    spans = [(int(s[0]), int(s[1])) for s in gen.sentence_spans[lo:hi]]
    sentence_vectors = gen.sentence_vectors[lo:hi].copy()
    document = meta.copy()
    document["source"] = source
    return _DocRows(document, passages, spans, sentence_vectors)


def _fresh(doc: Document, doc_hash: str, embedder: Embedder, settings: Settings) -> _DocRows:
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
    return _DocRows(
        meta, passages, [(s.start, s.end) for s in sentences], None,
        sentence_texts=[doc.text[s.start : s.end] for s in sentences],
    )


def build_index(
    corpus_dir: str | Path = "corpus",
    index_dir: str | Path = "index",
    *,
    settings: Settings | None = None,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
    force: bool = False,
) -> BuildReport:
    """Index every readable source in `corpus_dir` into `index_dir`; see BuildReport."""
    started = time.perf_counter()
    settings = settings or DEFAULT_SETTINGS
    target = milvus_target(index_dir)  # milvus-lite:PATH or milvus://HOST:PORT
    if target is not None:
        from .milvus_build import build_into_milvus

        return build_into_milvus(corpus_dir, target, settings=settings, progress=progress,
                                 embedder=embedder, force=force)
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    skipped_links: list[str] = []
    files = discover(corpus_dir, skipped_links)
    if not force:
        report = _nothing_to_do(corpus_dir, index_dir, files, settings, started,
                                embedder.precision if embedder else default_precision())
        if report is not None:
            return dataclasses.replace(report, warnings=tuple(skipped_links) + report.warnings)
    embedder = embedder or shared_embedder()
    with BuildLock(index_dir):
        previous = None if force else _previous(index_dir, settings, embedder)
        old_sources: dict[str, str] = previous.sources if previous else {}
        reuse = (lambda doc_hash, source: _reuse(previous, doc_hash, source)) if previous else None
        read = read_corpus(files, corpus_dir, settings, embedder, reuse, progress, skipped_links)
        if not read.docs:
            raise read.nothing_to_index(corpus_dir, previous is not None)
        fresh = [d for d in read.docs if d.sentence_vectors is None]
        # Before embedding: BM25's build is the most memory-hungry step, and the vectors are not held yet.
        lexical = LexicalIndex.build(lexical_text(p["context"], p["text"]) for d in read.docs for p in d.passages)
        _embed_missing(read.docs, embedder, progress)
        generation = _write(index_dir, read.docs, lexical, read.sources, settings, progress,
                            read.manifest_extra() | {"embedding": embedder.describe()})
    return read.report(corpus_dir, index_dir, old_sources, fresh, started, generation)


@dataclass
class SourcesRead:
    """What a build read from the corpus: each source's rows (reused or to embed) and what it skipped."""

    docs: list[_DocRows] = field(default_factory=list)
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

    def report(self, corpus_dir, index_dir, old_sources: dict[str, str], fresh: list[_DocRows],
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
                reuse: Callable[[str, str], _DocRows | None] | None, progress: Progress | None,
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


def _nothing_to_do(
    corpus_dir: Path, index_dir: Path, files: list[CorpusFile], settings: Settings, started: float, precision: str
) -> BuildReport | None:
    """The report of a build that would change nothing — no source new, changed or removed, the
    index intact and built with these settings — or None. Such a build writes nothing."""
    try:
        gen_path, manifest = verify_generation(index_dir)
    except AskKhorasanError:
        return None
    if Settings.from_dict(manifest.get("settings", {})).build_fields() != settings.build_fields():
        return None
    if not compatible(manifest.get("embedding"), precision):  # vectors from another backend: re-embed
        return None
    states = source_states(files, manifest, settings.max_source_mb)
    present = {s.source for s in states}
    if any(s.state not in ("indexed", "duplicate", "skipped") for s in states) or any(
        src not in present for src in manifest.get("sources", {})
    ):
        return None
    documents = read_jsonl(gen_path / "documents.jsonl")
    return BuildReport(
        corpus_dir=str(corpus_dir), index_dir=str(index_dir),
        unchanged=tuple(s.source for s in states if s.state == "indexed"),
        failed=tuple(SourceFailure(s.source, s.reason or s.source) for s in states if s.state == "skipped"),
        duplicates=tuple((s.source, manifest["duplicates"][s.source]) for s in states if s.state == "duplicate"),
        warnings=tuple(w for d in documents for w in d.get("warnings", [])),
        passages=manifest.get("counts", {}).get("passages", 0),
        seconds=round(time.perf_counter() - started, 3), generation=gen_path.name,
    )


def _embed_missing(docs: list[_DocRows], embedder: Embedder, progress: Progress | None) -> None:
    """Embed the sentences of new sources; each passage's vector is the mean of its sentences'."""
    todo = [d for d in docs if d.sentence_vectors is None]
    texts = [t for d in todo for t in d.sentence_texts]
    vectors = embedder.encode(texts, progress=(lambda done, total: progress("embed", done, total)) if progress else None)
    at = 0
    for d in todo:
        d.sentence_vectors = vectors[at : at + len(d.sentence_texts)]
        at += len(d.sentence_texts)
        d.sentence_texts = []


def _write(
    index_dir: Path, docs: list[_DocRows], lexical: LexicalIndex, sources: dict, settings: Settings, progress,
    extra: dict,
) -> str:
    if progress:
        progress("write", 0, 1)
    # Passage vectors are made a block at a time into FAISS and rows renumbered in place:
    # a copy of everything at once is what would set a large source's peak memory.
    faiss_index, faiss_type = faiss_index_from_blocks(
        sum(len(d.passages) for d in docs), MODEL_DIMENSION,
        lambda: (block for d in docs for block in d.passage_vector_blocks()),
    )
    passages: list[PassageRow] = []
    n_spans = 0
    for d in docs:
        for p in d.passages:
            p["chunk_id"], p["sent_lo"], p["sent_hi"] = len(passages), p["sent_lo"] + n_spans, p["sent_hi"] + n_spans
            passages.append(p)
        n_spans += len(d.sentence_spans)
    spans = np.array([s for d in docs for s in d.sentence_spans], dtype=np.int64).reshape(-1, 2)
    for d in docs:
        d.sentence_spans = []
    counts = {"sources": len(docs), "passages": len(passages), "sentences": len(spans)}
    name = write_generation(
        index_dir,
        manifest=new_manifest(settings, sources, counts, faiss_index, faiss_type) | extra,
        faiss_index=faiss_index,
        passages=passages,
        documents=[d.document | {"passages": len(d.passages)} for d in docs],
        sentence_vectors=[d.sentence_vectors for d in docs if d.sentence_vectors is not None],  # all, by now
        sentence_spans=spans,
        lexical=lexical,
    )
    if progress:
        progress("write", 1, 1)
    return name
