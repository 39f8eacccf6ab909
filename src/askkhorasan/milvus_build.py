"""Building into Milvus: the folder build's reading and embedding (`sources.py`), written as a new generation of collections.

Sources whose bytes the serving generation already holds are copied from it, vectors and all,
not re-embedded; removed ones are left behind. The alias moves only once the new generation is
complete, so a build that dies leaves the previous one serving."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from . import milvus_store
from .chunk import lexical_text
from .corpus import CorpusFile, discover
from .embed import Embedder, compatible, passage_vectors, shared_embedder
from .errors import AskKhorasanError
from .lexical import tokenize
from .milvus_store import MilvusTarget
from .provenance import library_versions
from .settings import DEFAULT_SETTINGS, Settings
from .sources import DocRows, Progress, SourcesRead, embed_missing, read_corpus
from .store import new_manifest
from .types import BuildReport, DocumentRow, MilvusDocumentRow, PassageRow, SourceFailure

log = logging.getLogger(__name__)

# The serving generation: its passages collection, manifest, and documents by content hash.
_Serving = tuple[str, dict, dict[str, MilvusDocumentRow]]


def _previous(target: MilvusTarget, settings: Settings, embedder: Embedder) -> _Serving | None:
    """(passages collection, manifest, documents by hash) of the serving generation, if reusable."""
    try:
        collection = milvus_store.current_collection(target)
        manifest, documents = milvus_store.read_meta(target, collection)
    except milvus_store.MilvusUnavailableError:
        raise
    except AskKhorasanError as exc:
        log.info("not reusing the previous index: %s", exc)
        return None
    if Settings.from_dict(manifest.get("settings", {})).build_fields() != settings.build_fields():
        log.info("chunking settings changed; re-embedding every source")
        return None
    if not compatible(manifest.get("embedding"), embedder.precision):
        log.info("the index's vectors come from another embedding backend; re-embedding every source")
        return None
    return collection, manifest, {d["hash"]: d for d in documents}


def _reuse(target: MilvusTarget, previous: _Serving, doc_hash: str, source: str) -> DocRows | None:
    collection, _, documents = previous
    meta = documents.get(doc_hash)
    if meta is None:
        return None
    rows, sentence_vectors, spans = milvus_store.document_rows(target, collection, meta)
    lo = min(p["sent_lo"] for p in rows)
    passages: list[PassageRow] = [{**p, "source": source, "sent_lo": p["sent_lo"] - lo, "sent_hi": p["sent_hi"] - lo}
                                  for p in rows]
    document: DocumentRow = meta.copy()  # first_passage too, which _write sets anew
    document["source"] = source
    return DocRows(document, passages, [(int(a), int(b)) for a, b in spans], sentence_vectors)


def _nothing_to_do(files: list[CorpusFile], manifest: dict, settings: Settings) -> bool:
    from .status import source_states

    states = source_states(files, manifest, settings.max_source_mb)
    present = {s.source for s in states}
    return all(s.state in ("indexed", "duplicate", "skipped") for s in states) and all(
        src in present for src in manifest.get("sources", {})
    )


def build_into_milvus(corpus_dir: str | Path, target: MilvusTarget, *, settings: Settings | None = None,
                      progress: Progress | None = None, embedder: Embedder | None = None,
                      force: bool = False) -> BuildReport:
    """`build_index` for a Milvus location."""
    started = time.perf_counter()
    settings = settings or DEFAULT_SETTINGS
    corpus_dir = Path(corpus_dir)
    skipped_links: list[str] = []
    files = discover(corpus_dir, skipped_links)
    embedder = embedder or shared_embedder()
    with milvus_store.build_lock(target):
        previous = None if force else _previous(target, settings, embedder)
        old_sources: dict[str, str] = previous[1].get("sources", {}) if previous else {}
        if previous and _nothing_to_do(files, previous[1], settings):
            manifest = previous[1]
            return BuildReport(
                corpus_dir=str(corpus_dir), index_dir=str(target), unchanged=tuple(old_sources),
                failed=tuple(SourceFailure(s, f.get("reason") or s) for s, f in manifest.get("failed", {}).items()),
                duplicates=tuple(manifest.get("duplicates", {}).items()),
                warnings=tuple(skipped_links) + tuple(w for d in previous[2].values() for w in d.get("warnings", [])),
                passages=manifest.get("counts", {}).get("passages", 0),
                seconds=round(time.perf_counter() - started, 3), generation=manifest.get("generation", ""),
            )
        reuse = (lambda doc_hash, source: _reuse(target, previous, doc_hash, source)) if previous else None
        read = read_corpus(files, corpus_dir, settings, embedder, reuse, progress, skipped_links)
        if not read.docs:
            raise read.nothing_to_index(corpus_dir, previous is not None)
        fresh = [d for d in read.docs if d.sentence_vectors is None]
        embed_missing(read.docs, embedder, progress)
        generation = _write(target, read, settings, progress, embedder)
    return read.report(corpus_dir, target, old_sources, fresh, started, generation)


def _write(target: MilvusTarget, read: SourcesRead, settings: Settings, progress: Progress | None,
           embedder: Embedder) -> str:
    if progress:
        progress("write", 0, 1)
    docs = read.docs
    passages: list[PassageRow] = []
    documents: list[MilvusDocumentRow] = []
    packed: list[str] = []
    vectors: list[np.ndarray] = []
    sentence_vectors: list[np.ndarray] = []
    sentence_docs: list[str] = []
    for d in docs:
        assert d.sentence_vectors is not None, "embed the sources' sentences first"
        sentence_vectors.append(d.sentence_vectors)
        vectors.append(passage_vectors(d.passages, d.sentence_spans, d.sentence_vectors))
        offset = len(sentence_docs)
        documents.append({**d.document, "passages": len(d.passages), "first_passage": len(passages)})
        for p, vector in zip(d.passages, vectors[-1]):
            packed.append(milvus_store.pack(vector, d.sentence_vectors[p["sent_lo"] : p["sent_hi"]]))
            p["chunk_id"] = len(passages)
            p["sent_lo"] += offset
            p["sent_hi"] += offset
            passages.append(p)
        sentence_docs.extend([d.document["hash"]] * len(d.sentence_spans))
    spans = np.array([s for d in docs for s in d.sentence_spans], dtype=np.int64).reshape(-1, 2)
    sentence_texts: list[str | None] = [None] * len(spans)
    for p in passages:  # each sentence's text, from a passage that holds it
        for sid in range(p["sent_lo"], p["sent_hi"]):
            if sentence_texts[sid] is None:
                start, end = spans[sid]
                sentence_texts[sid] = p["text"][start - p["start"] : end - p["start"]]
    pvec = np.concatenate(vectors).astype(np.float32)
    terms = tokenize([lexical_text(p["context"], p["text"]) for p in passages]) if passages else []
    counts = {"sources": len(docs), "passages": len(passages), "sentences": len(spans)}
    index_type, index_parameters = milvus_store.dense_index_record(len(passages), target.lite_path is not None)
    manifest = new_manifest(settings, read.sources, counts, None, index_type, index_parameters) | read.manifest_extra() | {
        "embedding": embedder.describe()}
    manifest["versions"] |= library_versions("pymilvus", "milvus-lite")
    name = milvus_store.write_generation(
        target, manifest=manifest, passages=passages, passage_vectors=pvec, packed=packed, terms=terms,
        documents=documents,
        sentence_vectors=sentence_vectors, sentence_spans=spans, sentence_docs=sentence_docs,
        sentence_texts=[t or "" for t in sentence_texts],
    )
    if progress:
        progress("write", 1, 1)
    return name
