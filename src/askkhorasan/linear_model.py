"""Small fitted logistic models as data: weights, bias and feature names in versioned JSON.

Each file under models/ says how it was made (training script and arguments, the training
data's hash, library versions, the metrics it reached) and which other artefacts it was fitted
against, by the hash of their parameters: retraining one invalidates those that depend on it,
and loading refuses a file whose dependencies changed or whose features are not the ones the
code computes. The training scripts write these files with `--write`.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelError
from .hashing import sha256_bytes, sha256_file
from .provenance import MODELS, library_versions

FORMAT = 1


def parameters_sha256(data: dict) -> str:
    """The hash of what a model computes (features, weights, bias), not of its description."""
    core = {k: data[k] for k in ("features", "weights", "bias")}
    return sha256_bytes(json.dumps(core, sort_keys=True).encode())


@dataclass(frozen=True)
class LinearModel:
    """p = sigmoid(x · weights + bias) over the named features, in order."""

    name: str  # the file's name under models/
    features: tuple[str, ...]
    weights: np.ndarray  # float32, one per feature
    bias: float
    sha256: str  # parameters_sha256 of the file

    def logit(self, x: np.ndarray) -> float:
        return float(x @ self.weights + self.bias)

    def probability(self, x: np.ndarray) -> float:
        return 1 / (1 + math.exp(-self.logit(x)))


def retrain_hint(name: str, models: Path = MODELS) -> str:
    data = read(name, models, check=False)
    return f"rerun {data.get('training', {}).get('script', 'its training script')} --write"


def read(name: str, models: Path = MODELS, check: bool = True) -> dict:
    path = models / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if check and (data.get("format") != FORMAT or not isinstance(data.get("depends_on"), dict)):
            raise ValueError("format")
    except (OSError, ValueError) as exc:
        raise ModelError(f"the fitted model {path} is missing or damaged — reinstall askkhorasan") from exc
    return data


@functools.lru_cache(maxsize=None)
def load(name: str, features: tuple[str, ...], models: Path = MODELS) -> LinearModel:
    """The model in models/`name`, checked: its features are `features` (the code's), in that
    order, and every artefact it depends on is still the one it was fitted against."""
    data = read(name, models)
    try:
        model = LinearModel(name, tuple(data["features"]), np.array(data["weights"], dtype=np.float32),
                            float(data["bias"]), parameters_sha256(data))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"the fitted model {models / name} is damaged — reinstall askkhorasan") from exc
    if model.features != features or len(model.weights) != len(features):
        raise ModelError(f"{name} was fitted over other features than the code computes — {retrain_hint(name, models)}")
    for dep, sha in data["depends_on"].items():
        if dependency_sha256(dep, models) != sha:
            raise ModelError(f"{name} was fitted against another {dep} — {retrain_hint(name, models)}")
    return model


def dependency_sha256(name: str, models: Path = MODELS) -> str:
    """What a dependent artefact records of `name`: a linear model's parameters hash (so that its
    description can be corrected without invalidating anything), else the file's hash."""
    data = read(name, models, check=False)
    if "features" in data and "weights" in data:
        return parameters_sha256(data)
    return sha256_file(models / name)


def write(name: str, *, features: tuple[str, ...], weights, bias: float, training: dict, metrics: dict,
          depends_on: tuple[str, ...] = (), libraries: tuple[str, ...] = ("numpy", "scikit-learn"),
          models: Path = MODELS) -> Path:
    """Write a fitted model with its provenance; `depends_on` names the artefacts it was fitted against."""
    data = {
        "format": FORMAT,
        "kind": "logistic regression",
        "features": list(features),
        "weights": [round(float(w), 4) for w in weights],
        "bias": round(float(bias), 4),
        "training": training,
        "metrics": metrics,
        "versions": library_versions(*libraries),
        "depends_on": {dep: dependency_sha256(dep, models) for dep in depends_on},
    }
    path = models / name
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
