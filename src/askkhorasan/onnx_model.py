"""An exported graph on ONNX Runtime: tokenized batches in, vectors or logits out. No torch.

    model = OnnxModel(graph_path, WordPieces(model_dir, 256))
    model.run(["a sentence", "another"])            # embedder: (2, 384) normalized vectors
    model.run([("question", "passage"), ...])       # cross-encoder: (n, num_labels) logits
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from .wordpieces import WordPieces

# A single question runs on one thread. On 2 cores a second thread made one query from 58%
# slower to 37% faster, depending on the machine's other load (bench/bench_speed.py); one
# thread leaves the other core to a concurrent request and to FAISS. Batches use all cores.
QUERY_THREADS = 1


def batch_threads() -> int:
    """ASKKHORASAN_THREADS, or the cores this process may use, at most 4."""
    if os.environ.get("ASKKHORASAN_THREADS", "").isdigit():
        return max(1, int(os.environ["ASKKHORASAN_THREADS"]))
    return max(1, min(4, len(os.sched_getaffinity(0))))


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle threads must not spin: FAISS, BM25 and other requests share the same cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


class OnnxModel:
    """One graph, two sessions: a one-thread one for single inputs and a multi-thread one for batches."""

    def __init__(self, graph: str | Path, tokenizer: WordPieces):
        self.graph = Path(graph)
        self.tokenizer = tokenizer
        self._single = _session(self.graph, QUERY_THREADS)
        self._batch = None  # made at the first batch: a session costs ~0.3 s, and asking needs none
        self._batch_lock = threading.Lock()
        self._inputs = {i.name for i in self._single.get_inputs()}

    def _batch_session(self):
        with self._batch_lock:
            if self._batch is None:
                threads = batch_threads()
                self._batch = self._single if threads == QUERY_THREADS else _session(self.graph, threads)
            return self._batch

    def release_batch(self) -> None:
        """Drop the batch session and its memory arena, which keeps the activations of the
        widest batch seen; the next batch makes it again (~0.3 s)."""
        with self._batch_lock:
            self._batch = None

    def run_question(self, text: str) -> np.ndarray:
        return self.run([text])[0]

    def run(self, texts: Sequence[str] | Sequence[tuple[str, str]]) -> np.ndarray:
        """The graph's one output for a batch of texts or text pairs, as float32 rows."""
        feed = {k: v for k, v in self.tokenizer.batch(texts).items() if k in self._inputs}
        session = self._single if len(texts) == 1 else self._batch_session()
        # InferenceSession.run is thread-safe: concurrent questions each get a core.
        return session.run(None, feed)[0].astype(np.float32, copy=False)
