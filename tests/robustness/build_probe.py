"""Build one corpus in this process and print its peak RSS: run as a subprocess by test_bounded_memory.

The product's own embedder on its default backend does everything: counting word pieces (where
whole-document batches once blew up) and embedding every sentence, so the model's batch buffers
count as they do in a real build. `--stand-in` replaces only the embedding by random vectors (the
build's own memory, in a fraction of the time).
"""

import json
import resource
import sys
import time

import numpy as np

from askkhorasan import build_index
from askkhorasan.embed import Embedder
from askkhorasan.settings import MODEL_DIMENSION, Settings


class RandomVectorEmbedder:
    """The product's embedder, loaded (its model's memory counts), counting word pieces with its
    own tokenizer; only `encode` gives random unit vectors instead of running the model."""

    name = "random-vectors"
    dimension = MODEL_DIMENSION

    def __init__(self):
        self.real = Embedder()
        self.real.encode_query("load the model")
        self.backend, self.precision = self.real.backend, self.real.precision

    def describe(self) -> dict:
        return self.real.describe()

    def count_tokens(self, texts):
        return self.real.count_tokens(texts)

    def encode(self, texts, batch_size=64, progress=None):
        # The build embeds a few thousand sentences a call: each call gets vectors of its own.
        self.calls = getattr(self, "calls", 0) + 1
        rng = np.random.default_rng((self.calls, len(texts)))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for lo in range(0, len(texts), 4096):
            block = rng.standard_normal((min(4096, len(texts) - lo), self.dimension), dtype=np.float32)
            out[lo : lo + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out


if __name__ == "__main__":
    corpus, index, max_mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if "--stand-in" in sys.argv[4:]:
        embedder = RandomVectorEmbedder()
    else:
        embedder = Embedder()
        embedder.encode_query("load the model")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the model, its tokenizer and the libraries
    started = time.perf_counter()
    report = build_index(corpus, index, embedder=embedder, settings=Settings(max_source_mb=max_mb))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "peak_rss_mb": peak, "baseline_rss_mb": before, "build_rss_mb": peak - before,
        "seconds": round(time.perf_counter() - started, 1),
        "passages": report.passages, "backend": embedder.backend, "failed": [f.reason for f in report.failed],
    }))
