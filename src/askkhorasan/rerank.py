"""Reading the best candidate sentences with the answer model, and how sure the result is.

The feature scorer (answer.py) ranks every sentence of the top passages cheaply; the
answer model (a cross-encoder, answer_model.py) then reads the best few. A sentence's
final score combines both; the passages are re-ordered by their best sentence; and a
small logistic model turns the best scores into the probability that the quote is right,
which is the answer's confidence and decides refusal. Every weight and threshold here
is data: models/answer_selection.json, written by training/fit_selection.py from
tuning questions only, with the hash of the answer model it was fitted against.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .answer import NO_CANDIDATE_LOGIT, Candidate, logit, read_by_model
from .answer_model import METADATA as ANSWER_MODEL_METADATA
from .errors import ModelError
from .linear_model import dependency_sha256
from .retrieve import Hit

SELECTION = Path(__file__).parent / "models" / "answer_selection.json"
UNREAD = -1e9  # the score of a sentence the answer model did not read: after every read one


# The margin to the runner-up is capped here, and is this when only one candidate was read:
# a lone candidate counts as a clear winner, and no margin outweighs the other features.
MAX_MARGIN = 5.0


@dataclass(frozen=True)
class Selection:
    read: int  # candidates the answer model reads
    weights: tuple[float, ...]  # model logit, feature-scorer logit
    bias: float
    next_margin: float  # the next sentence joins the quote when it scores within this of the best
    extra_margin: float  # other places are cited when they score within this of the best
    confidence_features: tuple[str, ...]
    confidence_weights: tuple[float, ...]
    confidence_bias: float
    found_threshold: float
    answer_model_sha256: str
    # Two floors below which the sources are taken not to answer, whatever the confidence:
    # the feature model's answerability (off-topic questions) and the answer model's best logit.
    min_feature_answerable: float = 0.0
    min_model_logit: float = -1e9

    @classmethod
    def load(cls, path: Path = SELECTION) -> "Selection":
        try:
            data = json.loads(path.read_text())
            meta = json.loads(ANSWER_MODEL_METADATA.read_text())
            fields = {f.name for f in dataclasses.fields(cls)}
            values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                      for k, v in data["selection"].items() if k in fields}
            sel = cls(**values)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"the answer selection settings {path} are missing or damaged — reinstall askkhorasan") from exc
        if sel.answer_model_sha256 != meta.get("weights_sha256"):
            raise ModelError(f"{path.name} was fitted for another answer model — rerun training/fit_selection.py --write")
        for dep, sha in data.get("provenance", {}).get("depends_on", {}).items():
            if dependency_sha256(dep, path.parent) != sha:
                raise ModelError(f"{path.name} was fitted against another {dep} — rerun training/fit_selection.py --write")
        return sel

    def score(self, model_logit: float, probability: float) -> float:
        return self.weights[0] * model_logit + self.weights[1] * logit(probability) + self.bias


def read(selection: Selection, model, question: str, texts: list[str], candidates: list[Candidate]) -> list[Candidate]:
    """The candidates with the answer model's logit and the final score, best first.

    `texts[i]` is the text of `candidates[i]`; only the first `selection.read` are read.
    """
    top = candidates[: selection.read]
    logits = model.logits(question, texts[: len(top)]) if top else []
    out = [dataclasses.replace(c, model_logit=float(z), score=selection.score(float(z), c.probability))
           for c, z in zip(top, logits)]
    out.extend(dataclasses.replace(c, score=UNREAD + c.probability) for c in candidates[len(top):])
    out.sort(key=lambda c: -c.score)
    return out


def order_passages(hits: list[Hit], candidates: list[Candidate]) -> list[Hit]:
    """Passages whose sentences were read, by their best sentence; then the others as retrieved."""
    best: dict[int, float] = {}
    for c in read_by_model(candidates):
        best[c.passage] = max(best.get(c.passage, UNREAD), c.score)
    read_hits = sorted((h for h in hits if h.row in best), key=lambda h: -best[h.row])
    return read_hits + [h for h in hits if h.row not in best]


def confidence_features(candidates: list[Candidate], feature_answerable: float) -> dict[str, float]:
    read_ = read_by_model(candidates)
    if not read_:
        return {"score": NO_CANDIDATE_LOGIT, "model_logit": NO_CANDIDATE_LOGIT, "feature_logit": NO_CANDIDATE_LOGIT, "margin": 0.0,
                "feature_answerable": logit(feature_answerable)}
    best = read_[0]
    assert best.model_logit is not None  # read_by_model keeps only the candidates with one
    second = read_[1].score if len(read_) > 1 else best.score - MAX_MARGIN
    return {
        "score": best.score,
        "model_logit": best.model_logit,
        "feature_logit": logit(best.probability),
        "margin": min(best.score - second, MAX_MARGIN),
        "feature_answerable": logit(feature_answerable),
    }


def confidence(selection: Selection, candidates: list[Candidate], feature_answerable: float) -> float:
    """The probability that the best quote answers the question (fitted on tuning questions)."""
    f = confidence_features(candidates, feature_answerable)
    z = sum(w * f[name] for name, w in zip(selection.confidence_features, selection.confidence_weights))
    return 1 / (1 + math.exp(-(z + selection.confidence_bias)))


def answers(selection: Selection, candidates: list[Candidate], feature_answerable: float, confidence_: float) -> bool:
    """Whether the sources answer: both floors passed and the confidence at or above the threshold."""
    read_ = read_by_model(candidates)
    return (bool(read_) and feature_answerable >= selection.min_feature_answerable
            and max(c.model_logit for c in read_ if c.model_logit is not None) >= selection.min_model_logit
            and confidence_ >= selection.found_threshold)
