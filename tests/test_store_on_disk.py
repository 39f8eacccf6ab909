"""A loaded generation keeps what grows with the corpus on disk, is hashed once per machine, and
its float16 vectors answer as float32 ones do."""

import contextlib
import os
import shutil
import sqlite3
import time

import faiss
import numpy as np
import pytest

import askkhorasan.store as store
import askkhorasan.verified as verified
from askkhorasan import Index, IndexCorruptError, build_index
from askkhorasan.answer import SentenceTable
from askkhorasan.evaluate import load_questions
from askkhorasan.lexical import LexicalIndex
from askkhorasan.rows import DocumentTable, PassageTable
from askkhorasan.status import index_status
from askkhorasan.store import LEXICAL, Generation, load_generation

from conftest import DATA, copy_index, seed_corpus

QUESTIONS = load_questions(DATA / "seed_questions.jsonl")


def test_a_loaded_generation_holds_no_rows_or_vectors_in_memory(tmp_path, embedder, monkeypatch):
    monkeypatch.setattr(store, "FLAT_LIMIT", 4)  # IVF, as past 50,000 passages
    build_index(seed_corpus(tmp_path), tmp_path / "index", embedder=embedder)
    gen = load_generation(tmp_path / "index")
    assert isinstance(gen.passages, PassageTable) and isinstance(gen.documents, DocumentTable)
    for array in (gen.sentence_vectors, gen.sentence_spans, gen.sentence_owner):
        assert isinstance(array, np.memmap) and not array.flags.writeable
    assert gen.sentence_vectors.dtype == np.float16
    invlists = faiss.downcast_InvertedLists(faiss.extract_index_ivf(gen.faiss_index).invlists)
    assert isinstance(invlists, faiss.OnDiskInvertedLists)  # mapped from passages.faiss, not read
    lexical = LexicalIndex.load(gen.path / LEXICAL)
    assert all(isinstance(lexical.retriever.scores[k], np.memmap) for k in ("data", "indices", "indptr"))

    # The rows read by id are the rows written, and the stored owners what the passages say.
    rows = list(gen.passages)
    assert [p["chunk_id"] for p in rows] == list(range(len(gen.passages)))
    assert gen.passages[3] == rows[3] and gen.passages[-1] == rows[-1]
    gen.passages[3]["text"] = "changed by a caller"
    assert gen.passages[3] == rows[3]  # each read is a new dict
    source = rows[0]["source"]
    assert gen.passages.of_source(source) == [p for p in rows if p["source"] == source]
    recomputed = SentenceTable(Generation(gen.path, gen.manifest, gen.faiss_index, rows, gen.documents,
                                          gen.sentence_vectors, gen.sentence_spans), lexical).owner
    assert np.array_equal(SentenceTable(gen, lexical).owner, recomputed) and (recomputed >= 0).all()


@pytest.fixture
def counted_hashing(monkeypatch, tmp_path):
    """The verification record in a fresh cache, and every file hashed in full counted."""
    monkeypatch.setenv("ASKKHORASAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(verified, "RACY_SECONDS", 0.05)
    hashed = []
    real = verified.sha256_file

    def counting(path):
        hashed.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(verified, "sha256_file", counting)
    return hashed


def test_files_are_hashed_once_and_a_changed_file_is_still_refused(tmp_path, embedder, seed_built, counted_hashing):
    index_dir = copy_index(seed_built, tmp_path / "index")
    seed_corpus(tmp_path)
    time.sleep(0.1)  # past RACY_SECONDS: the files may be remembered
    gen = load_generation(index_dir).path
    listed = len(load_generation(index_dir).manifest["files"])
    assert len(counted_hashing) == listed  # the first load hashed every file, the second none
    record = tmp_path / "cache" / verified.MEMO
    assert record.is_file() and not record.resolve().is_relative_to(index_dir.resolve())
    counted_hashing.clear()
    assert index_status(tmp_path / "corpus", index_dir, verify=True).exists
    assert len(counted_hashing) == listed  # `status --verify` hashes every file again

    # An edit that keeps the file's size and puts its modification time back is still seen.
    path = gen / "passages.sqlite"
    st = path.stat()
    with contextlib.closing(sqlite3.connect(path)) as con:
        con.execute("UPDATE passages SET text = replace(text, 'Taliban', 'Talibam')")
        con.commit()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    counted_hashing.clear()
    for _ in range(2):
        with pytest.raises(IndexCorruptError, match="changed or truncated.*askkhorasan build"):
            Index(index_dir, embedder=embedder)
    assert counted_hashing.count("passages.sqlite") == 2  # hashed on every load, never remembered as good


def test_a_copy_of_a_verified_index_is_verified_again(tmp_path, seed_built, counted_hashing):
    copy_index(seed_built, tmp_path / "index")
    time.sleep(0.1)
    load_generation(tmp_path / "index")
    shutil.copytree(tmp_path / "index", tmp_path / "copy")
    time.sleep(0.1)
    counted_hashing.clear()
    load_generation(tmp_path / "copy")
    assert len(counted_hashing) == len(load_generation(tmp_path / "copy").manifest["files"])


@pytest.mark.slow  # every seed question asked of two indexes: seconds
def test_float16_vectors_answer_as_float32_ones(seed_index, tmp_path, embedder, monkeypatch):
    monkeypatch.setattr(store, "VECTOR_DTYPE", "<f4")
    build_index(seed_corpus(tmp_path), tmp_path / "index", embedder=embedder)
    fp32 = Index(tmp_path / "index", embedder=embedder)
    assert fp32.generation.sentence_vectors.dtype == np.float32
    assert seed_index.generation.sentence_vectors.dtype == np.float16
    for q in QUESTIONS:
        a, b = seed_index.ask(q.question), fp32.ask(q.question)
        assert (a.found, a.citations) == (b.found, b.citations), q.question
        assert [p.chunk_id for p in a.passages[:3]] == [p.chunk_id for p in b.passages[:3]], q.question
        assert abs(a.confidence - b.confidence) < 0.01, q.question
