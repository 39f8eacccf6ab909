"""Build one corpus in this process and print its peak RSS: run as a subprocess by test_bounded_memory.

The model's tokenizer is real (it is where whole-document batches blew up); embedding is replaced
by fixed random vectors, since the model's memory is bounded by its batch and its time is the
per-source size limit's business, not this test's.
"""

import json
import resource
import sys
import time

import numpy as np

from askkhorasan import build_index
from askkhorasan.embed import bundled_model_path
from askkhorasan.settings import MODEL_DIMENSION, Settings


class TokenizerOnlyEmbedder:
    name = "tokenizer-only"
    dimension = MODEL_DIMENSION

    def __init__(self):
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(bundled_model_path()), local_files_only=True)

    backend, precision = "onnx", "fp32"

    def describe(self) -> dict:
        return {"backend": self.backend, "library": "onnxruntime", "precision": self.precision, "graph_sha256": None}

    def count_tokens(self, texts):
        if not texts:
            return []
        return [len(i) for i in self.tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]]

    def encode(self, texts, batch_size=64, progress=None):
        rng = np.random.default_rng(len(texts))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for lo in range(0, len(texts), 4096):
            block = rng.standard_normal((min(4096, len(texts) - lo), self.dimension), dtype=np.float32)
            out[lo : lo + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out


if __name__ == "__main__":
    corpus, index, max_mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
    embedder = TokenizerOnlyEmbedder()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # torch, transformers and the tokenizer
    started = time.perf_counter()
    report = build_index(corpus, index, embedder=embedder, settings=Settings(max_source_mb=max_mb))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "peak_rss_mb": peak, "baseline_rss_mb": before, "build_rss_mb": peak - before,
        "seconds": round(time.perf_counter() - started, 1),
        "passages": report.passages, "failed": [f.reason for f in report.failed],
    }))
