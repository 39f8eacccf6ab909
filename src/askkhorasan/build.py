"""From the files in a corpus folder to a new index generation, re-embedding only what changed.

The reading, chunking and embedding are `sources.py`'s; this writes them as a folder generation,
or hands a Milvus location to `milvus_build.py`."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .chunk import lexical_text
from .corpus import CorpusFile, discover
from .embed import Embedder, compatible, default_precision, shared_embedder
from .errors import AskKhorasanError
from .lexical import LexicalIndex
from .memory import release_freed_memory
from .milvus_store import milvus_target
from .settings import DEFAULT_SETTINGS, MODEL_DIMENSION, Settings
from .spill import SpilledVectors
from .sources import DocRows, Progress, embed_missing, numbered_passages, read_corpus
from .status import source_states
from .store import (
    BuildLock, Generation, document_rows, faiss_index_from_blocks, load_generation, new_manifest, verify_generation,
    write_generation,
)
from .types import BuildReport, DocumentRow, SourceFailure

log = logging.getLogger(__name__)


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


def _reuse(previous: _Previous, doc_hash: str, source: str) -> DocRows | None:
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
    return DocRows(document, passages, spans, sentence_vectors)


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
        reuse = functools.partial(_reuse, previous) if previous else None
        read = read_corpus(files, corpus_dir, settings, embedder, reuse, progress, skipped_links)
        if not read.docs:
            raise read.nothing_to_index(corpus_dir, previous is not None)
        del previous, reuse  # the reused rows are copies: the old generation need not stay loaded
        fresh = [d for d in read.docs if d.sentence_vectors is None]
        # Each stage frees what it made before the next begins (release_freed_memory), and what a
        # later stage needs is held once: the document text, not passage and sentence texts
        # (PassageTable); the sentence vectors on disk as they are embedded (SpilledVectors).
        release_freed_memory()
        # Before embedding: BM25's build is the most memory-hungry step, and the vectors are not held yet.
        lexical = LexicalIndex.build(lexical_text(p["context"], p["text"]) for d in read.docs for p in d.passages)
        release_freed_memory()
        with SpilledVectors(index_dir, MODEL_DIMENSION, sum(len(d.sentence_spans) for d in read.docs)) as spilled:
            firsts = embed_missing(read.docs, embedder, progress, into=spilled)
            release_freed_memory()
            generation = _write(index_dir, read.docs, spilled, firsts, lexical, read.sources, settings, progress,
                                read.manifest_extra() | {"embedding": embedder.describe()})
    return read.report(corpus_dir, index_dir, old_sources, fresh, started, generation)


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
    documents = document_rows(gen_path)
    return BuildReport(
        corpus_dir=str(corpus_dir), index_dir=str(index_dir),
        unchanged=tuple(s.source for s in states if s.state == "indexed"),
        failed=tuple(SourceFailure(s.source, s.reason or s.source) for s in states if s.state == "skipped"),
        duplicates=tuple((s.source, manifest["duplicates"][s.source]) for s in states if s.state == "duplicate"),
        warnings=tuple(w for d in documents for w in d.get("warnings", [])),
        passages=manifest.get("counts", {}).get("passages", 0),
        seconds=round(time.perf_counter() - started, 3), generation=gen_path.name,
    )


def _write(
    index_dir: Path, docs: list[DocRows], spilled: SpilledVectors, firsts: list[int], lexical: LexicalIndex,
    sources: dict, settings: Settings, progress, extra: dict,
) -> str:
    if progress:
        progress("write", 0, 1)

    def passage_vector_blocks() -> Iterator[np.ndarray]:
        for d, first in zip(docs, firsts):
            yield from d.passage_vector_blocks(spilled.rows_from(first))

    # Passage vectors are made a block at a time into FAISS and rows numbered as they are written:
    # a copy of everything at once is what would set a large source's peak memory.
    faiss_index, faiss_type = faiss_index_from_blocks(sum(len(d.passages) for d in docs), MODEL_DIMENSION,
                                                      passage_vector_blocks)
    release_freed_memory()
    passages = numbered_passages(docs)
    spans = np.concatenate([np.asarray(d.sentence_spans, dtype=np.int64).reshape(-1, 2) for d in docs])
    for d in docs:
        d.sentence_spans = spans[:0]
    counts = {"sources": len(docs), "passages": len(passages), "sentences": len(spans)}
    name = write_generation(
        index_dir,
        manifest=new_manifest(settings, sources, counts, faiss_index, faiss_type) | extra,
        faiss_index=faiss_index,
        passages=passages,
        documents=[d.document | {"passages": len(d.passages)} for d in docs],
        sentence_vectors=spilled.blocks(),
        sentence_spans=spans,
        lexical=lexical,
    )
    if progress:
        progress("write", 1, 1)
    return name
