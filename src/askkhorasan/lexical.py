"""BM25 over the passages, with English lemmas then stems (bm25s + simplemma + PyStemmer).

A word is first brought to its dictionary form (simplemma: "fought" -> "fight", "led" ->
"lead", "paid" -> "pay"), which Snowball alone leaves apart, then stemmed ("funding" and
"funded" -> "fund"), so a question in other word forms still meets the passage.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import bm25s
import numpy as np
import simplemma
import Stemmer

from .stopwords import ENGLISH_STOP_WORDS

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)
_stemmer = Stemmer.Stemmer("english")

# bm25s's own English list has 33 words and keeps "what", "which", "did", "about": the words
# every question is made of. scikit-learn's list drops those; a few content words it also
# lists ("system", "computer", "fire", "bill", ...) stay searchable.
_KEEP = {
    "system", "computer", "fire", "bill", "call", "describe", "interest", "found", "find", "detail",
    "mill", "amount", "bottom", "top", "front", "back", "side", "full", "empty", "part", "name",
    "move", "show", "fill", "serious", "first", "last", "one", "two", "three", "four", "five",
    "six", "eight", "nine", "ten", "eleven", "twelve", "fifteen", "twenty", "forty", "fifty",
    "sixty", "hundred", "cry", "thick", "thin", "con", "un", "de", "co",
}
STOPWORDS = sorted((set(ENGLISH_STOP_WORDS) | {"did", "does", "doing", "done", "s"}) - _KEEP)


@functools.lru_cache(maxsize=200_000)
def _lemma(word: str) -> str:
    return simplemma.lemmatize(word, lang="en")


def _terms(words: list[str]) -> list[str]:
    return _stemmer.stemWords([_lemma(w) for w in words])


def tokenize(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords=STOPWORDS, stemmer=_terms, return_ids=False, show_progress=False)


@functools.lru_cache(maxsize=4096)
def question_terms(question: str) -> tuple[str, ...]:
    """A question's stemmed terms; the stages of one `ask` each need them."""
    return tuple(tokenize([question])[0])


def weighted_share(weights: dict[str, float], present: set[str] | frozenset[str]) -> float:
    """The share of the terms' total weight (their IDF) that `present` holds; 0 for no terms."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 0.0


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25, size: int):
        self.retriever = retriever
        self.size = size
        self.vocab = set(retriever.vocab_dict) if size else set()

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        retriever = bm25s.BM25()
        if texts:
            retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, len(texts))

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(path), show_progress=False)
        (path / "size.txt").write_text(str(self.size))

    @classmethod
    def load(cls, path: Path) -> "LexicalIndex":
        size = int((path / "size.txt").read_text())
        if not size:
            return cls(bm25s.BM25(), 0)
        return cls(bm25s.BM25.load(str(path), show_progress=False, verbosity=0), size)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no term is known)."""
        terms = [t for t in question_terms(query) if t in self.vocab]
        if not terms or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return self.retriever.get_scores(terms).astype(np.float32)
