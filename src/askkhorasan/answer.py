"""Choosing the sentences that answer a question, copied verbatim, or saying none do.

Every sentence of the best passages is scored by a small logistic model over
features that need no generation and no extra model call: the sentence's and
its neighbours' similarity to the question (vectors computed at build time),
how much of the question's rarer vocabulary it shares, whether it holds the
kind of thing the question asks for (a number, a date, a name, a reason),
and how well its passage was retrieved. The weights are data, models/feature_scorer.json,
fitted on SQuAD 1.1 dev articles other than those of the benchmark sample by
bench/train_answer.py, which rewrites the file with `--write`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import linear_model
from .fact_kind import CARDINAL_WORDS, MONTHS, Kind, asked_kind, states
from .lexical import LexicalIndex, question_terms, tokenize, weighted_share
from .linear_model import LinearModel
from .retrieve import Hit, to_passage
from .store import Generation
from .types import NEAREST_SHOWN, REFUSAL_LEAD, Answer, Citation, PassageRow

# The features score_candidates computes, in this order; models/feature_scorer.json must name the same.
FEATURES = (
    "cosine", "cosine_gap", "window_cosine", "overlap", "window_overlap", "novelty",
    "type_match", "type_miss", "passage_score_gap", "passage_rank", "log_words", "bigram_overlap",
)
SCORER = "feature_scorer.json"
TOP_PASSAGES = 5
QUESTION_PENALTY = 0.25

_NUMBER_WORDS = (
    rf"(?:{CARDINAL_WORDS}|"
    r"half|halves|twice|thrice|thirds?|quarters?|percent|several|many|few|numerous|handful|majority|minority|single|double)"
)
_HAS_NUMBER = re.compile(rf"\d|\b{_NUMBER_WORDS}\b", re.I)
_HAS_TIME = re.compile(
    rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b{MONTHS}\b|\bcentur(?:y|ies)\b|\b(?:years?|months?|weeks?|days?) (?:ago|later|earlier|after|before)\b"
    r"|\b(?:since|until|during|after|before|when)\b",
    re.I,
)
_HAS_REASON = re.compile(
    r"\b(?:because|due to|owing to|as a result|result of|since|so that|in order to|therefore|thus|hence|"
    r"led to|lead to|caused?|reasons?|aims? to|seeks? to|stem(?:s|med)? from|as such|given)\b",
    re.I,
)
_HAS_MANNER = re.compile(r"\b(?:by|through|via|using|with|as)\b", re.I)
_PROPER = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w’'-]+")
_ANAPHOR = re.compile(
    r"^(?:The latter|The former|This|These|That|Those|Such|It|Its|They|Their|He|She|His|Her|However|"
    r"In addition|Furthermore|Moreover|As such|Reciprocally|Similarly|On the contrary|In response|"
    r"Eventually|Instead|Likewise)\b"
)


def feature_scorer() -> LinearModel:
    """The fitted scorer, checked against FEATURES (ModelError when it is missing, damaged or stale)."""
    return linear_model.load(SCORER, FEATURES)


def holds_number(text: str) -> bool:
    return bool(_HAS_NUMBER.search(text))


def question_type(question: str) -> str:
    q = question.lower()
    if re.search(r"\bhow (?:many|much|long|old|far|large|big|often)\b|\bwhat (?:number|percentage|amount)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (?:year|time|date|century|decade|month|day)\b|\bsince when\b|\bwhich year\b", q):
        return "time"
    if re.search(r"\bwhy\b|\bwhat (?:caused|led|made)\b|\bfor what reason\b", q):
        return "reason"
    if re.search(r"\bwho\b|\bwhom\b|\bwhose\b", q):
        return "person"
    if re.search(r"\bwhere\b|\b(?:which|what) (?:country|countries|city|cities|province|provinces|region|regions|river|place|district|districts|valley|area|state)\b", q):
        return "place"
    if re.search(r"^how\b|\bin what way\b", q):
        return "manner"
    return "other"


def type_match(qtype: str, sentence: str, question: str) -> float | None:
    """1 when the sentence holds what the question asks for, 0 when not, None for open questions."""
    if qtype == "number":
        return float(holds_number(sentence))
    if qtype == "time":
        return float(bool(_HAS_TIME.search(sentence)))
    if qtype == "reason":
        return float(bool(_HAS_REASON.search(sentence)))
    if qtype == "manner":
        return float(bool(_HAS_MANNER.search(sentence)))
    if qtype in ("person", "place"):
        asked = {w.lower() for w in re.findall(r"[\w’'-]+", question)}
        return float(any(m.group(0).lower() not in asked for m in _PROPER.finditer(sentence)))
    return None


@dataclass(frozen=True)
class Candidate:
    sentence: int  # row in the generation's sentence table
    passage: int  # row of a passage that holds it
    rank: int  # that passage's rank in the search
    features: np.ndarray
    probability: float  # the feature scorer's
    model_logit: float | None = None  # the answer model's, for the candidates it read
    score: float = 0.0  # the final score (rerank.py); candidates are ordered by it


# Probabilities are kept this far from 0 and 1 before taking their logit, so that it stays finite.
PROBABILITY_CLIP = 1e-6
# The logit that stands for "no sentence at all" where a feature needs one (abstain.py, rerank.py):
# a probability of about 0.00005.
NO_CANDIDATE_LOGIT = -10.0


def logit(p: float) -> float:
    p = min(max(p, PROBABILITY_CLIP), 1 - PROBABILITY_CLIP)
    return math.log(p / (1 - p))


def read_by_model(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates the answer model read, in their order; only these can be quoted."""
    return [c for c in candidates if c.model_logit is not None]


class SentenceTable:
    """Per-index lookups the answer stage needs: each sentence's passage and the IDF of terms."""

    def __init__(self, gen: Generation, lexical: LexicalIndex):
        if gen.sentence_owner is not None:  # stored by the build: nothing read per passage on load
            self.owner = gen.sentence_owner
        else:
            self.owner = np.full(len(gen.sentence_spans), -1, dtype=np.int64)
            for row, p in enumerate(gen.passages):
                span = self.owner[p["sent_lo"] : p["sent_hi"]]
                span[span < 0] = row
        self.idf: Mapping[str, float] = lexical.idf()
        self.default_idf = lexical.unseen_idf()

        self._sentence_tokens: dict[int, list[str]] = {}
        self._passage_terms: dict[int, frozenset[str]] = {}

    def text(self, gen: Generation, sentence: int) -> str:
        p = gen.passages[int(self.owner[sentence])]
        s, e = gen.sentence_spans[sentence]
        return p["text"][s - p["start"] : e - p["start"]]

    def sentence_tokens(self, gen: Generation, sentences: list[int]) -> list[list[str]]:
        """Stemmed tokens of sentences, tokenized once and kept (queries meet the same sentences often)."""
        todo = [s for s in dict.fromkeys(sentences) if s not in self._sentence_tokens]
        if todo:
            self._sentence_tokens.update(zip(todo, tokenize([self.text(gen, s) for s in todo])))
        return [self._sentence_tokens[s] for s in sentences]

    def passage_terms(self, gen: Generation, rows: list[int]) -> list[frozenset[str]]:
        todo = [r for r in dict.fromkeys(rows) if r not in self._passage_terms]
        if todo:
            self._passage_terms.update(zip(todo, map(frozenset, tokenize([gen.passages[r]["text"] for r in todo]))))
        return [self._passage_terms[r] for r in rows]


def score_candidates(
    gen: Generation, table: SentenceTable, question: str, qvec: np.ndarray, hits: list[Hit]
) -> list[Candidate]:
    """Every sentence of the top passages, with its features and probability of answering."""
    rows: list[tuple[int, int, int]] = []  # sentence, passage, rank
    seen: set[int] = set()
    for rank, hit in enumerate(hits[:TOP_PASSAGES]):
        p = gen.passages[hit.row]
        for s in range(p["sent_lo"], p["sent_hi"]):
            if s not in seen:
                seen.add(s)
                rows.append((s, hit.row, rank))
    if not rows:
        return []
    sent_ids = np.array([r[0] for r in rows])
    cos = gen.sentence_vectors[sent_ids] @ qvec
    n_sent = len(gen.sentence_spans)

    def neighbour_cos(s: int, step: int) -> float:
        t = s + step
        if 0 <= t < n_sent and table.owner[t] >= 0 and gen.passages[int(table.owner[t])]["source"] == gen.passages[int(table.owner[s])]["source"]:
            return float(gen.sentence_vectors[t] @ qvec)
        return 0.0

    q_tokens = list(question_terms(question))
    q_terms = {t: table.idf.get(t, table.default_idf) for t in q_tokens}
    texts = [table.text(gen, s) for s, _, _ in rows]
    sent_tokens = table.sentence_tokens(gen, [s for s, _, _ in rows])
    sent_terms = [set(toks) for toks in sent_tokens]
    q_bigrams = set(zip(q_tokens, q_tokens[1:]))
    qtype = question_type(question)
    scorer = feature_scorer()
    best_cos = float(cos.max())
    top_score = hits[0].score
    hit_score = {h.row: h.score for h in hits}

    out = []
    for i, (s, prow, rank) in enumerate(rows):
        prev_c, next_c = neighbour_cos(s, -1), neighbour_cos(s, 1)
        window_terms = set(sent_terms[i])
        if i > 0 and rows[i - 1][0] == s - 1:
            window_terms |= sent_terms[i - 1]
        if i + 1 < len(rows) and rows[i + 1][0] == s + 1:
            window_terms |= sent_terms[i + 1]
        words = texts[i].split()
        novelty = len(sent_terms[i] - set(q_tokens)) / max(1, len(sent_terms[i]))
        match = type_match(qtype, texts[i], question)
        f = np.array([
            float(cos[i]),
            float(cos[i]) - best_cos,
            max(prev_c, next_c),
            weighted_share(q_terms, sent_terms[i]),
            weighted_share(q_terms, window_terms),
            novelty,
            1.0 if match == 1.0 else 0.0,
            1.0 if match == 0.0 else 0.0,
            hit_score[prow] - top_score,
            1.0 / (1 + rank),
            math.log(1 + len(words)),
            len(q_bigrams & set(zip(sent_tokens[i], sent_tokens[i][1:]))) / len(q_bigrams) if q_bigrams else 0.0,
        ], dtype=np.float32)
        probability = scorer.probability(f)
        if texts[i].rstrip().endswith("?"):
            probability *= QUESTION_PENALTY  # a sentence that asks is not an answer
        out.append(Candidate(s, prow, rank, f, probability))
    out.sort(key=lambda c: -c.probability)
    return out


NOT_FOUND_NOTE = f"{REFUSAL_LEAD}. {NEAREST_SHOWN}"


def missing_fact_note(kind: Kind) -> str:
    return f"{REFUSAL_LEAD}: the closest sentences state no {kind.phrase}. {NEAREST_SHOWN}"


MAX_CITATIONS = 3


def _quote_span(gen: Generation, table: SentenceTable, best: Candidate, score: dict[int, float],
                next_margin: float) -> tuple[int, int, int]:
    """(passage row, first sentence, last sentence) of the quote: the best sentence, and one
    neighbour when the sentence leans on the one before it or the next one answers nearly as well."""
    p = gen.passages[best.passage]
    s = best.sentence
    text = table.text(gen, s)
    if _ANAPHOR.match(text) and s - 1 >= p["sent_lo"] and _same_paragraph(gen, p, s - 1, s):
        return best.passage, s - 1, s
    if s + 1 < p["sent_hi"] and s + 1 in score and score[s + 1] >= best.score - next_margin and _same_paragraph(gen, p, s, s + 1):
        return best.passage, s, s + 1
    return best.passage, s, s


def _same_paragraph(gen: Generation, p: PassageRow, a: int, b: int) -> bool:
    gap = p["text"][gen.sentence_spans[a][1] - p["start"] : gen.sentence_spans[b][0] - p["start"]]
    return "\n\n" not in gap


def _citation(gen: Generation, prow: int, first: int, last: int) -> Citation:
    p = gen.passages[prow]
    start, end = int(gen.sentence_spans[first][0]), int(gen.sentence_spans[last][1])
    return Citation(
        source=p["source"], title=p["title"], section=p["section"], page=p["page"],
        start=start, end=end, quote=p["text"][start - p["start"] : end - p["start"]],
    )


def compose_answer(
    question: str, gen: Generation, table: SentenceTable, hits: list[Hit], candidates: list[Candidate],
    *, found: bool, confidence: float, next_margin: float, extra_margin: float, note: str | None = None,
) -> Answer:
    """The Answer: the best quote and up to two more from other places, or the nearest passages only.

    `candidates` are ordered best first by their final score (rerank.py); only sentences the
    answer model read can join a quote or be cited.
    """
    passages = tuple(to_passage(gen.passages[h.row], h.score) for h in hits)
    confidence = round(float(confidence), 4)

    def refusal(reason: str) -> Answer:
        return Answer(question, False, "", confidence, (), passages, " ".join(x for x in (note, reason) if x))

    read = read_by_model(candidates)
    if not found or not read:
        return refusal(NOT_FOUND_NOTE)
    score = {c.sentence: c.score for c in read}
    best = read[0]
    citations = [_citation(gen, *_quote_span(gen, table, best, score, next_margin))]
    kind = asked_kind(question)
    if kind is not None and not states(kind, citations[0].quote, question):
        return refusal(missing_fact_note(kind))
    for c in read[1:]:
        if len(citations) >= MAX_CITATIONS or c.score < best.score - extra_margin:
            break
        cite = _citation(gen, c.passage, c.sentence, c.sentence)
        if any(cite.overlaps(x) for x in citations):
            continue
        citations.append(cite)
    return Answer(question, True, citations[0].quote, confidence, tuple(citations), passages, note)
