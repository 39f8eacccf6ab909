"""Measuring retrieval and answers on questions with known answer strings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AskKhorasanError


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    answers: tuple[str, ...] | None  # None: the sources do not answer it


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Questions from JSON Lines ({"question": ..., "answers": [...] or null}) or a SQuAD-format JSON file.

    A question whose answers are null (or SQuAD's is_impossible) is one the sources should not answer.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AskKhorasanError(f"cannot read the questions file {path}: {exc.strerror or exc}") from exc
    if path.suffix == ".json":
        try:
            data = json.loads(text)
            return [
                EvalQuestion(qa["question"], None if qa.get("is_impossible") else tuple(a["text"] for a in qa.get("answers", [])))
                for article in data["data"] for para in article["paragraphs"] for qa in para["qas"]
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise AskKhorasanError(f"{path} is not SQuAD-format JSON ({exc}) — use JSON Lines instead") from exc
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            answers = row.get("answers")
            if answers is not None and (not isinstance(answers, list) or not all(isinstance(a, str) for a in answers)):
                raise TypeError("answers must be a list of strings or null")
            out.append(EvalQuestion(str(row["question"]), None if answers is None else tuple(answers)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AskKhorasanError(
                f"{path}, line {number}: expected {{\"question\": \"...\", \"answers\": [\"...\"] or null}} ({exc})"
            ) from exc
    return out


def first_hit(texts: list[str], answers: tuple[str, ...]) -> int | None:
    """The 0-based rank of the first text that contains an answer string."""
    for rank, text in enumerate(texts):
        if any(a in text for a in answers):
            return rank
    return None


@dataclass
class RetrievalScores:
    n: int = 0
    ranks: list[int | None] = field(default_factory=list)

    def add(self, rank: int | None) -> None:
        self.n += 1
        self.ranks.append(rank)

    def hit_at(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r < k) / max(1, self.n)

    def mrr_at(self, k: int = 10) -> float:
        return sum(1 / (r + 1) for r in self.ranks if r is not None and r < k) / max(1, self.n)

    def summary(self) -> dict:
        return {
            "questions": self.n, "hit@1": round(self.hit_at(1), 3), "hit@3": round(self.hit_at(3), 3),
            "hit@5": round(self.hit_at(5), 3), "mrr@10": round(self.mrr_at(10), 3),
        }


@dataclass
class AnswerScores:
    answerable: int = 0
    correct: int = 0
    refused_answerable: int = 0
    unanswerable: int = 0
    refused_unanswerable: int = 0

    def summary(self) -> dict:
        return {
            "answer_accuracy": round(self.correct / max(1, self.answerable), 3),
            "refused_answerable": round(self.refused_answerable / max(1, self.answerable), 3),
            "unanswerable": self.unanswerable,
            "refused_unanswerable": round(self.refused_unanswerable / max(1, self.unanswerable), 3),
        }


def evaluate_index(index, questions: list[EvalQuestion], report=None) -> dict:
    """Retrieval and answer figures of an Index on questions; per-question rows go to `report`."""
    retrieval = RetrievalScores()
    answers = AnswerScores()
    for q in questions:
        answer = index.ask(q.question, k=10)
        if q.answers is None:
            answers.unanswerable += 1
            answers.refused_unanswerable += not answer.found
            correct = None
            rank = None
        else:
            rank = first_hit([p.text for p in answer.passages], q.answers)
            retrieval.add(rank)
            answers.answerable += 1
            correct = answer.found and any(a in answer.text for a in q.answers)
            answers.correct += bool(correct)
            answers.refused_answerable += not answer.found
        if report is not None:
            report.append({
                "question": q.question, "expected": q.answers, "found": answer.found,
                "answer": answer.text, "confidence": answer.confidence, "correct": correct,
                "passage_rank": None if rank is None else rank + 1,
                "citation": answer.citations[0].to_dict() if answer.citations else None,
            })
    return {**retrieval.summary(), **answers.summary()}


def evaluate(questions: str | Path, index_dir: str | Path = "index", report_path: str | Path | None = None) -> dict:
    """Figures for a questions file against an index; one JSON line per question to `report_path`."""
    from .index import open_index

    rows: list[dict] = []
    loaded = load_questions(questions)
    summary = evaluate_index(open_index(index_dir), loaded, rows)
    if report_path is not None:
        Path(report_path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return summary
