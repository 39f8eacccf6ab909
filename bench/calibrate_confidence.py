"""Derive the confidence bands (askkhorasan/confidence.py) from answers whose correctness is known.

Questions: the seed article's test and dev questions (tests/data/seed_questions.jsonl,
bench/data/seed_dev.jsonl) against the seed corpus, and 400 evenly spaced answerable
questions of the SQuAD sample against its five articles. Every answered question is
scored right (the quote holds an expected answer) or wrong. The "strong" threshold is
the lowest confidence at and above which at least --strong of the answers are right;
"likely" is the highest below which at most --weak of them are right: answers under
it (and above the refusal cut-off) are "weak". The SQuAD sample's unanswerable
(adversarial) questions are reported apart: confidence does not separate them.

    python bench/calibrate_confidence.py [--questions 400]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import squad  # noqa: E402

import askkhorasan as ak  # noqa: E402
from askkhorasan.embed import shared_embedder  # noqa: E402
from askkhorasan.evaluate import load_questions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpus" / "000_5d501b3f3e1d464e.txt"


def answered(index: ak.Index, questions: list[tuple[str, tuple[str, ...] | None]], label: str) -> list[dict]:
    rows = []
    for question, answers in questions:
        a = index.ask(question)
        if a.found:
            right = answers is not None and any(x in a.text for x in answers)
            rows.append({"set": label, "question": question, "confidence": a.confidence, "right": right})
    return rows


def lowest_threshold(rows: list[dict], share: float, min_answers: int = 20) -> float:
    """The lowest confidence t such that answers with confidence >= t are right at least `share` of the time."""
    ranked = sorted(rows, key=lambda r: -r["confidence"])
    best, right = None, 0
    for n, r in enumerate(ranked, 1):
        right += r["right"]
        if n >= min_answers and right / n >= share:
            best = r["confidence"]
    return best if best is not None else 1.0


def highest_weak(rows: list[dict], share: float, min_answers: int = 20) -> float:
    """The highest confidence t such that answers with confidence < t are right at most `share` of the time."""
    ranked = sorted(rows, key=lambda r: r["confidence"])
    best, right = 0.0, 0
    for n, r in enumerate(ranked, 1):
        right += r["right"]
        if n >= min_answers and right / n <= share and n < len(ranked):
            best = ranked[n]["confidence"]
    return best


def precision(rows: list[dict], lo: float, hi: float) -> tuple[int, float]:
    band = [r for r in rows if lo <= r["confidence"] < hi]
    return len(band), (sum(r["right"] for r in band) / len(band) if band else float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=400, help="evenly spaced SQuAD sample questions")
    parser.add_argument("--strong", type=float, default=0.95)
    parser.add_argument("--weak", type=float, default=0.65)
    parser.add_argument("--from-rows", type=Path, default=None,
                        help="derive the thresholds from a --rows file of an earlier run instead of asking again")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "askkhorasan-confidence")
    parser.add_argument("--rows", type=Path, default=None, help="write every answered question here (JSON Lines)")
    args = parser.parse_args()

    if args.from_rows:
        rows = [json.loads(line) for line in args.from_rows.read_text(encoding="utf-8").splitlines() if line.strip()]
        report(rows, [r for r in rows if r["set"] == "squad-unanswerable"], None, args)
        return
    embedder = shared_embedder()
    shutil.rmtree(args.work, ignore_errors=True)
    (args.work / "seed" / "corpus").mkdir(parents=True)
    shutil.copy(SEED, args.work / "seed" / "corpus" / SEED.name)
    ak.build_index(args.work / "seed" / "corpus", args.work / "seed" / "index", embedder=embedder)
    seed = ak.Index(args.work / "seed" / "index", embedder=embedder)
    rows = []
    for path in (ROOT / "tests" / "data" / "seed_questions.jsonl", ROOT / "bench" / "data" / "seed_dev.jsonl"):
        rows += answered(seed, [(q.question, q.answers) for q in load_questions(path)], path.stem)

    questions = squad.write_corpus(squad.SAMPLE, args.work / "squad" / "corpus")
    ak.build_index(args.work / "squad" / "corpus", args.work / "squad" / "index", embedder=embedder)
    sample = ak.Index(args.work / "squad" / "index", embedder=embedder)
    picked = squad.evenly_spaced([q for q in questions if q["answers"]], args.questions)
    rows += answered(sample, [(q["question"], tuple(q["answers"])) for q in picked], "squad")
    adversarial = answered(sample, [(q["question"], None) for q in questions if not q["answers"]], "squad-unanswerable")

    report(rows, adversarial, len([q for q in questions if not q["answers"]]), args)
    if args.rows:
        args.rows.write_text("".join(json.dumps(r) + "\n" for r in rows + adversarial), encoding="utf-8")


def report(rows: list[dict], adversarial: list[dict], n_un: int | None, args) -> None:
    rows = [r for r in rows if r["set"] != "squad-unanswerable"]
    strong = lowest_threshold(rows, args.strong)
    likely = highest_weak(rows, args.weak)
    print(f"{len(rows)} answered questions ({sum(r['right'] for r in rows)} right)")
    for name, lo, hi in (("strong", strong, 1.01), ("likely", likely, strong), ("weak", 0.0, likely)):
        n, p = precision(rows, lo, hi)
        print(f"  {name:<7} confidence >= {lo:.2f}: {n} answers, {p:.1%} right")
    for label in sorted({r["set"] for r in rows}):
        sub = [r for r in rows if r["set"] == label]
        print(f"  {label}: " + ", ".join(
            f"{name} {precision(sub, lo, hi)[0]} ({precision(sub, lo, hi)[1]:.0%} right)"
            for name, lo, hi in (("strong", strong, 1.01), ("likely", likely, strong), ("weak", 0.0, likely))
        ))
    print(f"  squad unanswerable: {len(adversarial)} of {n_un or '?'} answered anyway: " + ", ".join(
        f"{name} {precision(adversarial, lo, hi)[0]}"
        for name, lo, hi in (("strong", strong, 1.01), ("likely", likely, strong), ("weak", 0.0, likely))
    ))
    print(json.dumps({"strong": round(strong, 2), "likely": round(likely, 2)}))


if __name__ == "__main__":
    main()
