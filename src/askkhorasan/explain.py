"""What an answer shows besides its quote: its passages in citation order, the runner-up
sentence, and why the answer is what it is. Nothing here changes which quote wins."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from .answer import Candidate, SentenceTable, _citation, missing_fact_note, read_by_model
from .fact_kind import asked_kind
from .lexical import tokenize
from .rerank import Selection
from .retrieve import Hit, to_passage
from .store import Generation
from .types import Answer, Citation, DocumentRow, Explanation, PassageRow, ScoredSentence

SHOWN_CANDIDATES = 8


def _contains(p: PassageRow, c: Citation) -> bool:
    return p["source"] == c.source and p["start"] <= c.start and c.end <= p["end"]


_documents: dict[object, dict[str, DocumentRow]] = {}


def _document(gen: Generation, source: str) -> Mapping[str, Any]:
    by_source = _documents.get(gen.path)
    if by_source is None:
        _documents.clear()  # one generation in use at a time
        by_source = _documents[gen.path] = {d["source"]: d for d in gen.documents}
    return by_source.get(source, {})


def _with_document(c: Citation, gen: Generation) -> Citation:
    doc = _document(gen, c.source)
    return dataclasses.replace(c, publisher=doc.get("publisher"), date=doc.get("date"))


def arrange(answer: Answer, gen: Generation, hits: list[Hit], k: int) -> Answer:
    """The answer with its citations' publisher and date, and every passage a quote came from
    among its passages (after the first k in search order, when k is small)."""
    if not answer.citations:
        return answer
    answer = dataclasses.replace(answer, citations=tuple(_with_document(c, gen) for c in answer.citations))
    shown = list(hits[:k])
    for c in answer.citations:
        if not any(_contains(gen.passages[h.row], c) for h in shown):
            hit = next((h for h in hits if _contains(gen.passages[h.row], c)), None)
            if hit is not None:
                shown.append(hit)
    if len(shown) == len(answer.passages):
        return answer
    return dataclasses.replace(answer, passages=tuple(to_passage(gen.passages[h.row], h.score) for h in shown))


def runner_up(answer: Answer, gen: Generation, candidates: list[Candidate]) -> Citation | None:
    """The best-scoring sentence that no quote of the answer holds (and that does not itself ask)."""
    if not answer.found:
        return None
    for c in candidates:
        cite = _citation(gen, c.passage, c.sentence, c.sentence)
        if not any(cite.overlaps(x) for x in answer.citations) and not cite.quote.rstrip().endswith("?"):
            return _with_document(cite, gen)
    return None


def _words(question: str) -> list[tuple[str, str]]:
    """(word, its stem) for each question word that search uses, stopwords dropped."""
    words = list(dict.fromkeys(re.findall(r"\w[\w’'-]*", question)))
    stems = tokenize(words) if words else []
    return [(w, s[0]) for w, s in zip(words, stems) if s]


def explanation(answer: Answer, gen: Generation, table: SentenceTable, hits: list[Hit],
                candidates: list[Candidate], selection: Selection, feature_answerable: float) -> Explanation:
    words = _words(answer.question)
    hit_of = {h.row: h for h in hits}
    tokens = table.sentence_tokens(gen, [c.sentence for c in candidates[:SHOWN_CANDIDATES]])
    shown = []
    for c, toks in zip(candidates[:SHOWN_CANDIDATES], tokens):
        cite = _citation(gen, c.passage, c.sentence, c.sentence)
        h = hit_of[c.passage]
        present = set(toks)
        shown.append(ScoredSentence(
            text=cite.quote, source=cite.source, start=cite.start, end=cite.end,
            probability=round(c.probability, 4), passage_rank=c.rank + 1, passage_score=round(h.score, 4),
            dense=round(h.dense, 4), best_sentence=round(h.sentence, 4), lexical=round(h.lexical, 4),
            matched_words=tuple(w for w, s in words if s in present),
            model_logit=None if c.model_logit is None else round(c.model_logit, 4),
            score=None if c.model_logit is None else round(c.score, 4),
        ))
    read = read_by_model(candidates)
    best_logit = max((c.model_logit for c in read if c.model_logit is not None), default=None)
    if not hits or not candidates:
        stage, reason = "retrieval", "no passage of the index matched the question"
    elif not answer.found and (kind := asked_kind(answer.question)) and missing_fact_note(kind) in (answer.note or ""):
        stage, reason = "fact-kind rule", f"the question asks for a {kind.phrase}, and the best quote states none"
    elif not answer.found and feature_answerable < selection.min_feature_answerable:
        stage = "answerability check"
        reason = (f"the answerability check gave {feature_answerable:.3f}, below its floor "
                  f"{selection.min_feature_answerable:g}: the best passages hold too little of what the question asks")
    elif not answer.found and (best_logit is None or best_logit < selection.min_model_logit):
        stage = "answer model"
        reason = (f"the answer model read the {len(read)} best sentences and gave at most "
                  f"{(best_logit if best_logit is not None else float('nan')):.2f}, below its floor "
                  f"{selection.min_model_logit:g}: none of them says it")
    elif not answer.found:
        stage = "confidence"
        reason = f"the confidence {answer.confidence:.2f} is below the cut-off {selection.found_threshold:g}"
    else:
        best = read[0]
        stage = "selection"
        reason = (f"the best of {len(read)} sentences the answer model read (logit {best.model_logit:.2f}, "
                  f"final score {best.score:.2f}) from the passage ranked {best.rank + 1} in search; "
                  f"confidence {answer.confidence:.2f}")
    return Explanation(
        stage=stage, reason=reason, question_words=tuple(w for w, _ in words),
        answerable=answer.confidence, threshold=selection.found_threshold, candidates=tuple(shown),
    )
