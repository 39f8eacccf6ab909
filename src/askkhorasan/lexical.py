"""BM25 over the passages, with English lemmas then stems (bm25s + simplemma + PyStemmer).

A word is first brought to its dictionary form (simplemma: "fought" -> "fight", "led" ->
"lead", "paid" -> "pay"), which Snowball alone leaves apart, then stemmed ("funding" and
"funded" -> "fund"), so a question in other word forms still meets the passage.
"""

from __future__ import annotations

import functools
import itertools
import logging
from pathlib import Path
from typing import Iterable

import bm25s
import numpy as np
import simplemma
import Stemmer

from .stopwords import ENGLISH_STOP_WORDS

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)
_stemmer = Stemmer.Stemmer("english")
_TOKENIZE_BATCH = 2_000

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


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25, size: int):
        self.retriever = retriever
        self.size = size
        self.vocab = set(retriever.vocab_dict) if size else set()

    @classmethod
    def build(cls, texts: Iterable[str]) -> "LexicalIndex":
        """BM25 over the texts, tokenized a batch at a time: only one batch's terms are held as
        strings, the rest as ids into one shared vocabulary (a 50 MB source's terms as strings
        alone would take ~300 MB)."""
        vocab: dict[str, int] = {}
        ids: list[list[int]] = []
        texts = iter(texts)
        while batch := list(itertools.islice(texts, _TOKENIZE_BATCH)):
            for terms in tokenize(batch):
                ids.append([vocab.setdefault(t, len(vocab)) for t in terms])
        retriever = bm25s.BM25()
        if ids:
            vocab = vocab or {"": 0}  # texts of stop words only: bm25s cannot index an empty vocabulary
            with np.errstate(invalid="ignore", divide="ignore"):  # every text empty: average length 0
                retriever.index((ids, vocab), show_progress=False)
        return cls(retriever, len(ids))

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
