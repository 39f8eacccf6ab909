"""Evidence, from features alone, that the sources answer a question at all.

A small logistic model looks at the question against what retrieval found: how
good the best sentence is, how much of the question's rarer vocabulary the best
passages hold, whether a rare question word is missing from them or from the
whole corpus, and whether the best sentence holds the kind of thing asked for.
Its weights are data, models/answerability.json, fitted by bench/train_abstention.py
(`--write`) on SQuAD 1.1 dev articles outside
the benchmark sample, with half of each article's paragraphs taken out so that
near-topic questions lose their answer, and with off-topic questions. Its
probability is one input of the answer's confidence (rerank.py), which decides.
"""

from __future__ import annotations

import math

import numpy as np

from . import linear_model
from .answer import FEATURES as SENTENCE_FEATURES
from .answer import NO_CANDIDATE_LOGIT, Candidate, SentenceTable, logit
from .lexical import question_terms, weighted_share
from .linear_model import LinearModel
from .retrieve import Hit
from .store import Generation

# The features `features` computes, in this order; models/answerability.json must name the same.
# The first is the answer scorer's logit, so the file records which scorer it was fitted against.
FEATURES = (
    "best_logit", "best_cosine", "quote_coverage", "top_coverage", "missing_idf", "oov_share",
    "type_miss", "log_terms",
)
MODEL = "answerability.json"
TOP = 5


def answerability_model() -> LinearModel:
    """The fitted model, checked against FEATURES and the scorer it depends on."""
    return linear_model.load(MODEL, FEATURES)


def features(gen: Generation, table: SentenceTable, question: str, hits: list[Hit], candidates: list[Candidate]) -> np.ndarray:
    terms = set(question_terms(question))
    idf = {t: table.idf.get(t, table.default_idf) for t in terms}
    if not candidates:
        return np.array([NO_CANDIDATE_LOGIT, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, math.log(1 + len(terms))], dtype=np.float32)
    best = candidates[0]
    top_terms = set().union(*table.passage_terms(gen, [h.row for h in hits[:TOP]]))
    neighbourhood = [best.sentence + d for d in (-1, 0, 1) if 0 <= best.sentence + d < len(gen.sentence_spans)
                     and table.owner[best.sentence + d] >= 0]
    quote_terms = set(t for toks in table.sentence_tokens(gen, neighbourhood) for t in toks)
    missing = [idf[t] for t in terms if t not in top_terms]
    oov = {t: w for t, w in idf.items() if t not in table.idf}
    return np.array([
        logit(best.probability),
        float(best.features[SENTENCE_FEATURES.index("cosine")]),
        weighted_share(idf, quote_terms),
        weighted_share(idf, top_terms),
        max(missing, default=0.0) / table.default_idf,
        sum(oov.values()) / sum(idf.values()) if idf else 1.0,
        float(best.features[SENTENCE_FEATURES.index("type_miss")]),
        math.log(1 + len(terms)),
    ], dtype=np.float32)


def answerable_probability(x: np.ndarray) -> float:
    return answerability_model().probability(x)
