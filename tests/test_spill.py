"""SpilledVectors, and write_generation taking the sentence vectors from it a block at a time."""

import numpy as np
import pytest

from askkhorasan.lexical import LexicalIndex
from askkhorasan.spill import SpilledVectors
from askkhorasan.store import choose_faiss_index, load_generation, new_manifest, write_generation
from askkhorasan.settings import DEFAULT_SETTINGS, MODEL_DIMENSION


def unit_rows(n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, MODEL_DIMENSION), dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_rows_come_back_as_written_and_leave_nothing_behind(tmp_path):
    parts = [unit_rows(n, seed) for seed, n in enumerate((5, 0, 1000, 37))]
    everything = np.concatenate(parts)
    with SpilledVectors(tmp_path, MODEL_DIMENSION, len(everything)) as spilled:
        spilled.write(0, parts[0])
        spilled.write(5, parts[1])
        scattered = np.random.default_rng(0).permutation(np.arange(5, len(everything)))
        spilled.write_rows(scattered, everything[scattered])
        assert np.array_equal(spilled.read(3, 1010), everything[3:1010])
        assert np.array_equal(spilled.rows_from(5)(0, 1000), parts[2])
        assert np.array_equal(np.concatenate(list(spilled.blocks(size=64))), everything)
        with pytest.raises(IndexError):
            spilled.read(0, len(everything) + 1)
        with pytest.raises(IndexError):
            spilled.write(len(everything) - 1, parts[0])
    assert list(tmp_path.iterdir()) == []


def test_a_generation_written_from_spilled_blocks_is_the_one_written_from_an_array(tmp_path):
    vectors = unit_rows(300, 1)
    spans = np.array([(i * 10, i * 10 + 9) for i in range(300)], dtype=np.int64)
    documents = [{"source": "a.txt", "hash": "0" * 64, "format": "text", "title": None, "date": None, "publisher": None,
                  "author": None, "chars": 3000, "warnings": [], "skipped": [], "passages": 300}]
    passages = [{"source": "a.txt", "doc_hash": "0" * 64, "title": None, "section": None, "page": None, "start": i * 10,
                 "end": i * 10 + 9, "sent_lo": i, "sent_hi": i + 1, "context": "", "text": "x" * 9, "chunk_id": i}
                for i in range(300)]

    def write(index_dir, sentence_vectors):
        faiss_index, faiss_type = choose_faiss_index(vectors)
        counts = {"sources": 1, "passages": 300, "sentences": 300}
        manifest = new_manifest(DEFAULT_SETTINGS, {"a.txt": "0" * 64}, counts, faiss_index, faiss_type)
        write_generation(index_dir, manifest=manifest, faiss_index=faiss_index, passages=passages,
                         documents=documents, sentence_vectors=sentence_vectors, sentence_spans=spans,
                         lexical=LexicalIndex.build(p["text"] for p in passages))
        return load_generation(index_dir)

    whole = write(tmp_path / "whole", vectors)
    with SpilledVectors(tmp_path, MODEL_DIMENSION, len(vectors)) as spilled:
        spilled.write(0, vectors)
        streamed = write(tmp_path / "streamed", spilled.blocks(size=64))
    assert whole.manifest["files"] == streamed.manifest["files"]  # sizes and hashes
    assert np.array_equal(streamed.sentence_vectors, whole.sentence_vectors) and len(whole.sentence_vectors) == 300
    with pytest.raises(ValueError, match="299 sentence vectors were (given|written) for 300"):
        write(tmp_path / "short", iter([vectors[:200], vectors[200:299]]))
    assert not (tmp_path / "short" / "CURRENT").exists()
