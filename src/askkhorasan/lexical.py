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
import bm25s.stopwords
import numpy as np
import simplemma
import Stemmer

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)
_stemmer = Stemmer.Stemmer("english")

# bm25s's own extended English list (NLTK's 179 words): the words questions are made of ("what",
# "which", "did", "about") go, and content words other lists drop ("system", "fire", "first")
# stay searchable. bm25s's 33-word default keeps the question words. Against the scikit-learn
# list used before: SQuAD sample answers 0.833 -> 0.838, paraphrase test half 0.665 -> 0.676,
# hit@3 0.899 -> 0.920 (bench/bench_squad.py, bench/bench_paraphrase.py).
# One exception: "won" is listed as what is left of "won't", but in these sources it is the
# past of "win" ("Who won the 2018 World Cup?" must keep it to be told apart from the sources).
STOPWORDS = sorted(set(bm25s.stopwords.STOPWORDS_EN_PLUS) - {"won"})


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
