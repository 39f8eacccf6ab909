"""What built an index or fitted a model: library versions and the hashes of the shipped model files.

Versions are read from the installed distributions' metadata, so recording torch's version
does not import torch.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from .hashing import sha256_file

MODELS = Path(__file__).parent / "models"

# The libraries whose versions shape an index: vectors, the FAISS file, the lexical index, the
# text the readers produce. torch and sentence-transformers export the ONNX graph and are the
# torch backend.
INDEX_LIBRARIES = (
    "askkhorasan", "numpy", "faiss-cpu", "bm25s", "PyStemmer", "simplemma", "onnxruntime", "tokenizers",
    "sentence-transformers", "transformers", "torch", "syntok", "pypdf", "trafilatura", "markdown-it-py",
)


def library_versions(*names: str) -> dict[str, str | None]:
    """Python's version and each distribution's, None for one that is not installed."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def model_files(models: Path = MODELS) -> dict[str, str]:
    """The SHA-256 of every shipped model file: the answer model, its selection, the fitted scorers."""
    return {p.name: sha256_file(p) for p in sorted(models.iterdir()) if p.suffix in (".json", ".safetensors")}
