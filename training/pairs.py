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
from collections import Counter
from pathlib import Path

from askkhorasan.lexical import question_terms, tokenize
from askkhorasan.sentences import sentence_spans

TRAIN = Path(__file__).resolve().parents[2] / "shared" / "bench" / "squad-v1.1-train.json.gz"


def load_articles(path: Path = TRAIN) -> list[dict]:
    return json.load(gzip.open(path, "rt", encoding="utf-8"))["data"]


def make_pairs(articles: list[dict], questions: int, seed: int, same_paragraph: int = 2, other_paragraphs: int = 2,
               skip_questions: set[str] | None = None) -> list[tuple[str, str, int]]:
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
    pool = pool[:questions]
    by_article: dict[int, list[tuple[int, dict]]] = {}
    for ai, pi, qa in pool:
        by_article.setdefault(ai, []).append((pi, qa))

    pairs: list[tuple[str, str, int]] = []
    for ai, items in by_article.items():
        paragraphs = [p["context"] for p in articles[ai]["paragraphs"]]
        sents = [[(s, e, text[s:e]) for s, e in sentence_spans(text)] for text in paragraphs]
        flat = [(pi, si, t) for pi, ss in enumerate(sents) for si, (_, _, t) in enumerate(ss)]
        toks = [set(x) for x in tokenize([t for _, _, t in flat])]
        df = Counter(t for ts in toks for t in ts)
        n = len(flat)
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
            pairs.append((q, pos_text, 1))
            others = [t for si, (_, _, t) in enumerate(sents[pi]) if si != pos_i and answer["text"] not in t]
            for t in rng.sample(others, min(same_paragraph, len(others))):
                pairs.append((q, t, 0))
            qt = set(question_terms(q))
            scored = []
            for j, (pj, _, t) in enumerate(flat):
                if pj == pi or answer["text"] in t:
                    continue
                w = sum(math.log(1 + n / df[x]) for x in qt & toks[j])
                if w > 0:
                    scored.append((w + rng.random() * 0.01, t))
            scored.sort(reverse=True)
            for _, t in scored[:other_paragraphs]:
                pairs.append((q, t, 0))
    rng.shuffle(pairs)
    return pairs
