"""An exported ONNX graph on OpenVINO, in bfloat16 where the CPU computes it natively. No torch.

    model = OpenVinoModel(graph_path, WordPieces(model_dir, 256))
    model.run(["a sentence", "another"])            # embedder: (2, 384) normalized vectors
    model.run([("question", "passage"), ...])       # cross-encoder: (n, num_labels) logits

It reads the same cached graph as ONNX Runtime (graph_cache.py), so nothing new is
exported or stored: OpenVINO converts it in memory when the model is loaded (~0.4 s).
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from .onnx_model import QUERY_THREADS, batch_threads
from .wordpieces import WordPieces


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies in bfloat16 (AVX512-BF16 or AMX); without it OpenVINO runs fp32."""
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


# Up to this many inputs (a question, or the answer model's eight candidates) run on one
# thread: on the shared 2-core machine the answer model's eight pairs took 35 ms on one
# thread and 49 ms on two (bench/bench_speed.py), and the other core stays free for FAISS
# and a concurrent request. Larger batches (building) use every core.
SMALL_BATCH = 8


def _compile(core, model, threads: int, precision: str):
    return core.compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": precision,
        "INFERENCE_NUM_THREADS": threads,
        "PERFORMANCE_HINT": "LATENCY",
    })


class OpenVinoModel:
    """One graph compiled twice: on one thread for a few inputs, on all cores for batches.

    An OpenVINO infer request serves one call at a time, so each call takes one from a pool
    (made when none is free): concurrent questions run side by side, as on ONNX Runtime.
    """

    def __init__(self, graph: str | Path, tokenizer: WordPieces, precision: str = "bf16"):
        import openvino as ov

        self.graph = Path(graph)
        self.tokenizer = tokenizer
        self.precision = precision
        self._core = ov.Core()
        self._model = self._core.read_model(str(self.graph))
        self._inputs = {i.get_any_name() for i in self._model.inputs}
        self._single = _compile(self._core, self._model, QUERY_THREADS, precision)
        self._batch = None  # compiled at the first batch: asking needs none
        self._lock = threading.Lock()
        self._requests = {id(self._single): queue.SimpleQueue()}

    def _batch_model(self):
        with self._lock:
            if self._batch is None:
                threads = batch_threads()
                self._batch = self._single if threads == QUERY_THREADS else _compile(
                    self._core, self._model, threads, self.precision)
                self._requests.setdefault(id(self._batch), queue.SimpleQueue())
            return self._batch

    def run(self, texts: Sequence[str] | Sequence[tuple[str, str]]) -> np.ndarray:
        """The graph's one output for a batch of texts or text pairs, as float32 rows."""
        feed = {k: v for k, v in self.tokenizer.batch(texts).items() if k in self._inputs}
        compiled = self._single if len(texts) <= SMALL_BATCH else self._batch_model()
        pool = self._requests[id(compiled)]
        try:
            request = pool.get_nowait()
        except queue.Empty:
            request = compiled.create_infer_request()
        try:
            request.infer(feed, share_inputs=True)
            return np.array(request.get_output_tensor(0).data, dtype=np.float32)  # a copy: the request is reused
        finally:
            pool.put(request)
