"""(question, sentence, label) pairs from SQuAD 1.1 train for the answer model.

For each question: the sentence that holds the answer (label 1); other sentences of
its own paragraph (the paragraph talks about it, the sentence does not say it); and
sentences from other paragraphs of the same article that share the most rare words
with the question (what lexical retrieval would put in front of the model). Sentences
are split with the product's own splitter, so training sees what `ask` sees.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from askkhorasan.lexical import question_terms, tokenize
from askkhorasan.sentences import sentence_spans

TRAIN = Path(__file__).resolve().parents[2] / "shared" / "bench" / "squad-v1.1-train.json.gz"


def load_articles(path: Path = TRAIN) -> list[dict]:
    return json.load(gzip.open(path, "rt", encoding="utf-8"))["data"]


@dataclass
class ArticleText:
    """An article's sentences (per paragraph, with offsets), their terms and the terms' document frequency."""

    sents: list[list[tuple[int, int, str]]]
    flat: list[tuple[int, int, str]]  # paragraph, sentence in it, text
    toks: list[set[str]]
    df: Counter

    @classmethod
    def of(cls, article: dict) -> "ArticleText":
        paragraphs = [p["context"] for p in article["paragraphs"]]
        sents = [[(s, e, text[s:e]) for s, e in sentence_spans(text)] for text in paragraphs]
        flat = [(pi, si, t) for pi, ss in enumerate(sents) for si, (_, _, t) in enumerate(ss)]
        toks = [set(x) for x in tokenize([t for _, _, t in flat])]
        return cls(sents, flat, toks, Counter(t for ts in toks for t in ts))

    def weight(self, term: str) -> float:
        return math.log(1 + len(self.flat) / self.df[term]) if self.df[term] else math.log(1 + 2 * len(self.flat))

    def row(self, pi: int, si: int) -> int:
        """The row in `flat` of sentence `si` of paragraph `pi`."""
        return sum(len(ss) for ss in self.sents[:pi]) + si

    def shared(self, terms: set[str], j: int) -> float:
        """The IDF weight of `terms` that sentence `j` (in `flat`) holds."""
        return sum(self.weight(x) for x in terms & self.toks[j])

    def overlap(self, question: str, pi: int, a0: int) -> float | None:
        """The share of the question's IDF weight that its answer sentence holds (None: no such sentence)."""
        pos = [si for si, (s, e, _) in enumerate(self.sents[pi]) if s <= a0 < e]
        if not pos:
            return None
        j = self.row(pi, pos[0])
        terms = set(question_terms(question))
        total = sum(self.weight(x) for x in terms)
        return self.shared(terms, j) / total if total else None


_WORD = re.compile(r"\w[\w'’-]*")
# Words that say what kind of answer is asked for: a reader keeps them whatever else they change.
_KIND_WORDS = {"year", "years", "date", "percent", "percentage", "number", "many", "much", "century", "decade",
               "month", "day", "name", "named", "called", "long", "old", "far", "time", "kind", "type", "who", "when"}


def mask_shared(question: str, sentence: str, rng: random.Random, p: float = 0.5) -> str:
    """The question with each common word the sentence also holds masked with probability `p`
    (names, numbers and the words that ask for a kind of answer are kept: readers keep them too)."""
    held = set(tokenize([sentence])[0])

    def maybe(m: re.Match) -> str:
        word = m.group(0)
        if word[0].isupper() or any(ch.isdigit() for ch in word) or word.lower() in _KIND_WORDS:
            return word
        terms = tokenize([word])[0]
        return "[MASK]" if terms and set(terms) <= held and rng.random() < p else word

    return _WORD.sub(maybe, question)


_VAGUE = (
    (re.compile(r"\bhow (?:many|much)\b|\bwhat (?:number|percentage|amount)\b", re.I), "some"),
    (re.compile(r"\bwhen\b|\bwhat (?:year|date|time|century|decade|month|day)\b|\bwhich year\b", re.I), "at one point"),
    (re.compile(r"\bwho(?:m|se)?\b", re.I), "someone"),
    (re.compile(r"\bwhere\b", re.I), "a certain place"),
    (re.compile(r"\bwhy\b", re.I), "for some reason"),
)


def without_answer(sentence: str, start: int, end: int, question: str) -> str:
    """The sentence with its answer (sentence[start:end]) replaced by a vague phrase of the kind asked."""
    filler = next((f for pattern, f in _VAGUE if pattern.search(question)), "something")
    head = sentence[:start]
    if filler.startswith(("a ", "some")) and re.search(r"\b[Tt]he $", head):
        head = head[:-4]
    return head + (filler if head else filler[0].upper() + filler[1:]) + sentence[end:]


def make_pairs(articles: list[dict], questions: int, seed: int, same_paragraph: int = 2, other_paragraphs: int = 2,
               skip_questions: set[str] | None = None, low_overlap_share: float = 0.0, low_overlap_max: float = 0.35,
               hard_same_paragraph: bool = False, mask_overlap_share: float = 0.0,
               vague_negatives: bool = False) -> list[tuple[str, str, int]]:
    """`vague_negatives` adds, for each question, its answer sentence with the answer replaced by
    a vague phrase of the kind asked ("some", "someone", "at one point"…) as a negative: the
    sentence that talks about exactly this but does not say it, as near-topic questions meet.
    `mask_overlap_share` of the questions have about half of their words that the answer sentence
    also holds replaced by [MASK] (in all of that question's pairs): the model must then find the
    answer by what the question asks rather than by the words it shares, as when readers ask in
    their own words. `low_overlap_share` of the questions are drawn from those whose answer sentence holds at most
    `low_overlap_max` of their IDF weight (questions in other words than the answer's, as readers ask);
    `hard_same_paragraph` takes the paragraph's sentences that share most with the question as its
    negatives instead of random ones (the sentence that talks about it in the question's words)."""
    rng = random.Random(seed)
    # Questions are drawn evenly across articles so that no topic dominates.
    pool = []
    for ai, article in enumerate(articles):
        for pi, para in enumerate(article["paragraphs"]):
            for qa in para["qas"]:
                if skip_questions and qa["id"] in skip_questions:
                    continue
                pool.append((ai, pi, qa))
    rng.shuffle(pool)
    texts: dict[int, ArticleText] = {}

    def text_of(ai: int) -> ArticleText:
        if ai not in texts:
            texts[ai] = ArticleText.of(articles[ai])
        return texts[ai]

    if low_overlap_share > 0:
        low_n = int(round(questions * low_overlap_share))
        low, rest = [], []
        for item in pool:
            if len(low) >= low_n and len(rest) >= questions - low_n:
                break
            if len(low) < low_n:
                ov = text_of(item[0]).overlap(item[2]["question"], item[1], item[2]["answers"][0]["answer_start"])
                if ov is not None and ov <= low_overlap_max:
                    low.append(item)
                    continue
            rest.append(item)
        pool = low + rest[: questions - len(low)]
    else:
        pool = pool[:questions]
    by_article: dict[int, list[tuple[int, dict]]] = {}
    for ai, pi, qa in pool:
        by_article.setdefault(ai, []).append((pi, qa))

    pairs: list[tuple[str, str, int]] = []
    for ai, items in by_article.items():
        art = text_of(ai)
        sents, flat = art.sents, art.flat
        for pi, qa in items:
            answer = qa["answers"][0]
            a0 = answer["answer_start"]
            a1 = a0 + len(answer["text"])
            pos = [si for si, (s, e, _) in enumerate(sents[pi]) if s <= a0 < e]
            if not pos:
                continue
            pos_i = pos[0]
            s, e, pos_text = sents[pi][pos_i]
            if a1 > e + 1:  # the answer runs over two sentences: neither alone is a clean positive
                continue
            q = qa["question"].strip()
            if mask_overlap_share and rng.random() < mask_overlap_share:
                q = mask_shared(q, pos_text, rng)
            pairs.append((q, pos_text, 1))
            if vague_negatives:
                pairs.append((q, without_answer(pos_text, a0 - s, a1 - s, q), 0))
            qt = set(question_terms(q))
            if hard_same_paragraph:
                first = art.row(pi, 0)
                ranked = sorted(((art.shared(qt, first + si) + rng.random() * 0.01, t) for si, (_, _, t) in enumerate(sents[pi])
                                 if si != pos_i and answer["text"] not in t), reverse=True)
                for _, t in ranked[:same_paragraph]:
                    pairs.append((q, t, 0))
            else:
                others = [t for si, (_, _, t) in enumerate(sents[pi]) if si != pos_i and answer["text"] not in t]
                for t in rng.sample(others, min(same_paragraph, len(others))):
                    pairs.append((q, t, 0))
            scored = []
            for j, (pj, _, t) in enumerate(flat):
                if pj == pi or answer["text"] in t:
                    continue
                w = art.shared(qt, j)
                if w > 0:
                    scored.append((w + rng.random() * 0.01, t))
            scored.sort(reverse=True)
            for _, t in scored[:other_paragraphs]:
                pairs.append((q, t, 0))
    rng.shuffle(pairs)
    return pairs
