"""BM25 over the passages, with English lemmas then stems (bm25s + simplemma + PyStemmer).

A word is first brought to its dictionary form (simplemma: "fought" -> "fight", "led" ->
"lead", "paid" -> "pay"), which Snowball alone leaves apart, then stemmed ("funding" and
"funded" -> "fund"), so a question in other word forms still meets the passage.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
from array import array
from pathlib import Path
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

import bm25s
import bm25s.stopwords
import numpy as np
import simplemma
import Stemmer

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)
_stemmer = Stemmer.Stemmer("english")
_TOKENIZE_BATCH = 2_000
_CSC_BLOCK = 1 << 18

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
    # simplemma's streamed dictionary: the first lemma of a process (a cold `ask`, the app's first
    # question) opens it in 0.10 s of CPU against 0.14 s for the whole dictionary, at ~11 µs more
    # per new word afterwards, with the same lemmas (all 181,612 dictionary words and 78,779
    # variants of them compared; tests/test_lexical.py checks a sample).
    return simplemma.lemmatize(word, lang="en", low_memory=True)


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


def _csc_in_blocks(data: np.ndarray, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]):
    """bm25s's scores (row: passage, col: term, in passage order) as a CSC matrix: the arrays
    bm25s's own `_np_csc_python` makes, with less memory. It sorts all the entries at once by an
    int64 key, and its temporaries put the BM25 build of a 50 MB source (7.4 million entries)
    80 MB higher; here the entries are placed a block at a time, each block stable-sorted by
    term, so a term's entries stay in passage order. tests/test_lexical.py compares the two."""
    n_cols = shape[1]
    indptr = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=n_cols), out=indptr[1:])
    heads = indptr[:-1].copy()  # where each term's next entry goes
    out_data, out_rows = np.empty_like(data), np.empty_like(rows)
    for lo in range(0, len(data), _CSC_BLOCK):
        block = cols[lo : lo + _CSC_BLOCK]
        order = np.argsort(block, kind="stable")
        sorted_cols = block[order]
        per_col = np.bincount(sorted_cols, minlength=n_cols)
        first = np.cumsum(per_col) - per_col  # where each term's run starts in sorted_cols
        at = heads[sorted_cols] + (np.arange(len(order)) - first[sorted_cols])
        out_data[at] = data[lo : lo + _CSC_BLOCK][order]
        out_rows[at] = rows[lo : lo + _CSC_BLOCK][order]
        heads += per_col
    return out_data, out_rows, indptr


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25, size: int):
        self.retriever = retriever
        self.size = size
        self.vocab: Collection[str] = retriever.vocab_dict if size else set()

    @classmethod
    def build(cls, texts: Iterable[str]) -> "LexicalIndex":
        """BM25 over the texts, tokenized a batch at a time: only one batch's terms are held as
        strings, the rest as 4-byte ids into one shared vocabulary (a 50 MB source's 8 million
        terms as strings would take ~300 MB, as lists of ids ~70 MB, as arrays 33 MB)."""
        vocab: dict[str, int] = {}
        ids: list[array[int]] = []
        texts = iter(texts)
        while batch := list(itertools.islice(texts, _TOKENIZE_BATCH)):
            for terms in tokenize(batch):
                ids.append(array("i", [vocab.setdefault(t, len(vocab)) for t in terms]))
        return cls.from_term_ids(ids, vocab)

    @classmethod
    def from_term_ids(cls, ids: Sequence[Sequence[int]], vocab: dict[str, int]) -> "LexicalIndex":
        """BM25 over texts already tokenized: each text's terms as ids into `vocab`."""
        retriever = bm25s.BM25()
        retriever._np_csc = _csc_in_blocks
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
        # Memory-mapped: the score arrays stay on disk, and a query reads its terms' postings.
        return cls(bm25s.BM25.load(str(path), mmap=True, show_progress=False, verbosity=0), size)

    def idf(self) -> Mapping[str, float]:
        """The inverse document frequency of every indexed term, as BM25 weighs it:
        log(1 + (N - df + 0.5) / (df + 0.5)) over the N passages; computed per term when asked
        (a large index has millions of terms, and a question needs a handful)."""
        if not self.size:
            return {}
        return _TermIdf(self.retriever.vocab_dict, np.asarray(self.retriever.scores["indptr"]), self.size)

    def unseen_idf(self) -> float:
        """The IDF of a term no passage holds (df = 0)."""
        return math.log(1 + (self.size + 0.5) / 0.5) if self.size else 1.0

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no term is known)."""
        terms = [t for t in question_terms(query) if t in self.vocab]
        if not terms or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return self.retriever.get_scores(terms).astype(np.float32)


class _TermIdf(Mapping[str, float]):
    """`LexicalIndex.idf()`: a term's IDF from its postings' count (a term's postings are
    indptr[tid]:indptr[tid + 1]), read when asked."""

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, n: int):
        self._vocab, self._indptr, self._n = vocab, indptr, n

    def __getitem__(self, term: str) -> float:
        tid = self._vocab.get(term) if term else None
        if tid is None or tid + 1 >= len(self._indptr):
            raise KeyError(term)
        df = int(self._indptr[tid + 1] - self._indptr[tid])
        return math.log(1 + (self._n - df + 0.5) / (df + 0.5))

    def __contains__(self, term: object) -> bool:
        tid = self._vocab.get(term) if isinstance(term, str) and term else None
        return tid is not None and tid + 1 < len(self._indptr)

    def __iter__(self) -> Iterator[str]:
        return (t for t in self._vocab if t in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)
