"""Building into Milvus: the folder build's reading and embedding (`sources.py`), written as a Milvus generation.

A refresh writes into the serving collections only the rows of new content (added and changed
sources), at new slots; unchanged content is neither read back nor rewritten, renamed content is
a new documents row, removed content is hidden by the new generation's record (`milvus_store`
says how a build that dies leaves the previous generation serving). A first build, `force`,
other settings or an unreadable index give a full build into new collections."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import cast

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

# The serving generation: its record collection, manifest, and documents by content hash.
_Serving = tuple[str, dict, dict[str, MilvusDocumentRow]]


def _previous(target: MilvusTarget, settings: Settings, embedder: Embedder) -> _Serving | None:
    """(record collection, manifest, documents by hash) of the serving generation, if a refresh can build on it."""
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


def _kept(previous: _Serving, doc_hash: str, source: str) -> DocRows | None:
    """An unchanged content's rows stay where they are: only its documents row is carried over
    (with the source's name now), nothing read from its passages or sentences."""
    meta = previous[2].get(doc_hash)
    if meta is None:
        return None
    document: DocumentRow = meta.copy()
    document["source"] = source
    return DocRows(document, [], [], np.zeros((0, milvus_store.DIM), np.float32))


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
        reuse = (lambda doc_hash, source: _kept(previous, doc_hash, source)) if previous else None
        read = read_corpus(files, corpus_dir, settings, embedder, reuse, progress, skipped_links)
        if not read.docs:
            raise read.nothing_to_index(corpus_dir, previous is not None)
        fresh = [d for d in read.docs if d.sentence_vectors is None]
        embed_missing(read.docs, embedder, progress)
        generation, passages = _write(target, read, previous, settings, progress, embedder)
    return dataclasses.replace(read.report(corpus_dir, target, old_sources, fresh, started, generation), passages=passages)


def _write(target: MilvusTarget, read: SourcesRead, previous: _Serving | None, settings: Settings,
           progress: Progress | None, embedder: Embedder) -> tuple[str, int]:
    """Returns the generation's name and its passage count."""
    if progress:
        progress("write", 0, 1)
    base = previous[1] if previous else None
    next_slot = int(base["store"]["next_slot"]) if base else 0
    documents: list[MilvusDocumentRow] = []
    new: list[milvus_store.NewSource] = []
    position = 0  # the folder's chunk_id of a source's first passage: where it starts in corpus order
    for d in read.docs:
        meta = cast(MilvusDocumentRow, d.document)
        if base and isinstance(meta.get("slot"), int):  # unchanged content, kept where it is
            documents.append({**meta, "first_passage": position})
            position += d.document["passages"]
            continue
        assert d.sentence_vectors is not None, "embed the sources' sentences first"
        slot, next_slot = next_slot, next_slot + 1
        if max(len(d.passages), len(d.sentence_spans)) >= 1 << milvus_store.SLOT_BITS:
            raise AskKhorasanError(f"{d.document['source']}: over {1 << milvus_store.SLOT_BITS:,} passages or sentences "
                                   "— split the source into smaller files")
        vectors = passage_vectors(d.passages, d.sentence_spans, d.sentence_vectors)
        texts = [""] * len(d.sentence_spans)
        for p in d.passages:  # each sentence's text, from a passage that holds it
            for j in range(p["sent_lo"], p["sent_hi"]):
                start, end = d.sentence_spans[j]
                texts[j] = p["text"][start - p["start"] : end - p["start"]]
        packed = [milvus_store.pack(v, d.sentence_vectors[p["sent_lo"] : p["sent_hi"]]) for p, v in zip(d.passages, vectors)]
        terms = tokenize([lexical_text(p["context"], p["text"]) for p in d.passages]) if d.passages else []
        rows: list[PassageRow] = []
        for p in d.passages:
            row = p.copy()
            row["source"], row["chunk_id"] = "", -1  # the documents row says both
            row["sent_lo"] = milvus_store.passage_id(slot, p["sent_lo"])
            row["sent_hi"] = milvus_store.passage_id(slot, p["sent_hi"])
            rows.append(row)
        new.append(milvus_store.NewSource(
            slot=slot, doc_hash=d.document["hash"], passages=rows, passage_vectors=vectors.astype(np.float32),
            packed=packed, terms=[[milvus_store.term_key(t) for t in toks] for toks in terms],
            sentence_vectors=d.sentence_vectors, sentence_spans=np.array(d.sentence_spans, np.int64).reshape(-1, 2),
            sentence_texts=texts,
        ))
        documents.append({**d.document, "passages": len(d.passages), "first_passage": position, "slot": slot,
                          "sentences": len(d.sentence_spans)})
        position += len(d.passages)
    shown = {doc["hash"] for doc in documents}
    removed = {int(doc["slot"]): int(doc["passages"]) for h, doc in previous[2].items() if h not in shown} if previous else {}
    sentences = sum(int(doc.get("sentences", 0)) for doc in documents)
    counts = {"sources": len(documents), "passages": position, "sentences": sentences}
    if base:
        index_parameters = dict(base["faiss"])  # the vector index was built with the collections
        index_type = index_parameters.pop("type")
    else:
        index_type, index_parameters = milvus_store.dense_index_record(position, target.lite_path is not None)
    manifest = new_manifest(settings, read.sources, counts, None, index_type, index_parameters) | read.manifest_extra() | {
        "embedding": embedder.describe()}
    manifest["versions"] |= library_versions("pymilvus", "milvus-lite")
    name, written = milvus_store.write_generation(target, manifest=manifest, documents=documents, new=new, base=base,
                                                  removed=removed)
    log.info("wrote %s: %s", name, written.as_dict())
    if progress:
        progress("write", 1, 1)
    return name, position
