"""A large unpunctuated source is chunked in bounded pieces: the tokenizer never sees the whole of it,
and a 50 MB one builds in a subprocess whose peak memory is measured."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from askkhorasan.chunk import chunk_document
from askkhorasan.readers import read_bytes
from askkhorasan.settings import DEFAULT_SETTINGS, MODEL_WINDOW

from generate import unpunctuated_words

HERE = Path(__file__).parent
# Measured on two cores, default OpenVINO backend, the model embedding every sentence: 671 MB peak,
# 380 MB of it grown during the build (382 s; the loaded model, its compiled graphs and the libraries
# are the other ~291 MB). With the embedding stubbed the build alone grows by 314-344 MB, its peak
# while FAISS is filled (FAISS's copy of the passage vectors 128 MB, the BM25 matrix 59 MB, the
# document text 52 MB). Embedding for real had added ~300 MB more (929 MB peak): OpenVINO kept
# buffers and kernels for every batch width it ran (now padded to multiples of 32), batches of 32
# (now 16) and the batch graph kept after embedding (now released). Before passages were held as
# columns over the document text, sentence vectors spilled to a temporary file, IVF lists sized
# first and BM25's matrix made a block at a time, the stubbed build peaked at 888-900 MB; before BM25
# was built from ids a batch at a time, 1,190 MB; before chunking streamed, 19 MB peaked at 6.5 GB.
BUILD_LIMIT_MB = 450
PEAK_LIMIT_MB = 760


@pytest.mark.slow
def test_the_tokenizer_sees_bounded_pieces_of_a_long_paragraph(tmp_path, embedder):
    path = unpunctuated_words(tmp_path / "words.txt", 2)
    doc = read_bytes(path.read_bytes(), "words.txt", ".txt")
    calls = []

    def counting(texts):
        calls.append(sum(len(t) for t in texts))
        return embedder.count_tokens(texts)

    sentences, chunks = chunk_document(doc, counting, DEFAULT_SETTINGS)
    assert max(calls) <= 1_000_000, max(calls)  # the old code tokenized all 2 MB of words in one call
    assert all(doc.text[c.start : c.end].strip() for c in chunks)
    sample = [doc.text[c.start : c.end] for c in chunks[:: max(1, len(chunks) // 50)]]
    assert max(embedder.count_tokens(sample)) <= MODEL_WINDOW - 2
    covered = sum(s.end - s.start for s in sentences)
    assert covered > 0.95 * len(doc.text)  # every word is in some sentence; only spaces between pieces are not


@pytest.mark.slow
def test_a_50_mb_unpunctuated_file_builds_in_bounded_memory(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    unpunctuated_words(corpus / "words.txt", 50)
    run = subprocess.run(
        [sys.executable, str(HERE / "build_probe.py"), str(corpus), str(tmp_path / "index"), "60"],
        capture_output=True, text=True, timeout=3 * 3600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"50 MB unpunctuated: peak RSS {result['peak_rss_mb']:.0f} MB ({result['build_rss_mb']:.0f} MB over "
          f"the loaded model), {result['seconds']} s, {result['passages']} passages")
    assert not result["failed"] and result["passages"] > 10_000
    assert result["build_rss_mb"] < BUILD_LIMIT_MB and result["peak_rss_mb"] < PEAK_LIMIT_MB
