"""Export a BERT-family model to an ONNX graph, with torch; nothing else in askkhorasan imports torch.

Two kinds of graph, both taking (input_ids, attention_mask, token_type_ids) int64 batches:
  - "embedder": mean pooling over the attention mask and L2 normalization inside the
    graph, as sentence-transformers' Pooling + Normalize do; output `embedding` (batch, dim).
  - "cross-encoder": a sequence-classification head; output `logits` (batch, num_labels).

    export_onnx("path/to/model", "embedder", "model.onnx")
    export_onnx(cross_encoder.model, "cross-encoder", "ce.onnx", precision="int8")
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

log = logging.getLogger(__name__)

KINDS = ("embedder", "cross-encoder")
PRECISIONS = ("fp32", "int8")
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = {"embedder": "embedding", "cross-encoder": "logits"}


def exporter_settings(kind: str, precision: str) -> dict:
    """Everything that shapes the exported graph besides the weights; part of its cache key."""
    return {
        "kind": kind, "precision": precision, "opset": OPSET, "exporter": "torch.onnx.export (TorchScript)",
        "quantization": "dynamic QInt8, per channel" if precision == "int8" else None,
        "onnxruntime": _onnxruntime_version(), "version": 1,
    }


def _onnxruntime_version() -> str:
    # Read from the distribution's metadata: importing onnxruntime costs ~0.02 s of every start,
    # and the OpenVINO backend never runs it.
    from importlib import metadata

    try:
        return metadata.version("onnxruntime")
    except metadata.PackageNotFoundError:  # installed as another distribution (onnxruntime-gpu, ...)
        import onnxruntime

        return onnxruntime.__version__


def _load_module(model, kind: str):
    """A torch module from a model folder, or the module itself."""
    if not isinstance(model, (str, os.PathLike)):
        return model
    from transformers import AutoModel, AutoModelForSequenceClassification

    cls = AutoModel if kind == "embedder" else AutoModelForSequenceClassification
    return cls.from_pretrained(str(model), local_files_only=True)


def _wrap(module, kind: str):
    import torch

    class Embedding(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    class Logits(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).logits

    return Embedding(module) if kind == "embedder" else Logits(module)


def export_onnx(model, kind: str, out_path: str | Path, precision: str = "fp32") -> Path:
    """Write `model` (a folder of Hugging Face weights, or a loaded torch module) as ONNX at `out_path`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    import torch

    out_path = Path(out_path)
    module = _wrap(_load_module(model, kind), kind).eval()
    dummy = tuple(torch.ones((2, 8), dtype=torch.long) for _ in INPUTS)
    dummy[2].zero_()
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    axes[OUTPUTS[kind]] = {0: "batch"}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx" if precision != "fp32" else out_path
        # The TorchScript exporter warns about tracing shapes; the graph is checked against torch instead.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module, dummy, str(fp32), input_names=list(INPUTS), output_names=[OUTPUTS[kind]],
                dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True, dynamo=False,
            )
        if precision == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            root = logging.getLogger()
            was = root.disabled
            root.disabled = True  # it logs a hint about pre-processing on the root logger
            try:
                quantize_dynamic(str(fp32), str(out_path), weight_type=QuantType.QInt8, per_channel=True)
            finally:
                root.disabled = was
    log.info("exported %s graph (%s) to %s", kind, precision, out_path)
    return out_path
